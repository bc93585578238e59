/*
 * Rendering a batch of start or stop records into 305/307 messages: check
 * each record, apply it to the started-products history, group the accepted
 * ones by gemeente and client (one client per message), write XML.
 */
#include "ijw.h"

#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zinvol/util.h>

typedef struct item {
    int accepted;
    int grouped;
    const char *gemeente;
    const char *bsn;
    char pkey[160];
} item;

typedef struct xml_ctx {
    xmlNsPtr msg, base;
} xml_ctx;

static void dagtekening_of(int64_t now, char out[11])
{
    time_t t = (time_t)now;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Identificatie (LDT_IdentificatieBericht, at most 12 characters): stable
 * for the same batch and client position, so a retry carries the same
 * identification; unique per message kind in practice (48 bits of a hash
 * of destination, message, batch and position), as TR056 wants. */
static void identificatie(const ijw_fmt *f, ijw_msg m, const zv_batch *b, size_t group,
                          char out[13])
{
    zv_buf buf;
    char hex[65];
    zv_buf_init(&buf);
    zv_buf_printf(&buf, "%s\n%s\n%s\n%zu", b->destination, ijw_msg_prefix(f, m), b->batch_id,
                  group);
    zv_sha256_hex(buf.data ? buf.data : "", buf.len, hex);
    zv_buf_free(&buf);
    for (int i = 0; i < 12; i++)
        out[i] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
    out[12] = '\0';
}

static xmlNodePtr el(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text)
{
    return xmlNewTextChild(parent, ns, BAD_CAST name, text ? BAD_CAST text : NULL);
}

static void write_header(const ijw_fmt *f, ijw_msg m, xml_ctx *x, xmlNodePtr root,
                         const char *gemeente, const char *ident, const char *dag)
{
    xmlNodePtr h = el(root, x->msg, "Header", NULL);
    el(h, x->msg, "BerichtCode", f->code[m]);
    el(h, x->msg, "BerichtVersie", "3");
    el(h, x->msg, "BerichtSubversie", "2");
    el(h, x->msg, "Afzender", f->afzender);
    el(h, x->msg, "Ontvanger", gemeente);
    xmlNodePtr bi = el(h, x->msg, "BerichtIdentificatie", NULL);
    el(bi, x->base, "Identificatie", ident);
    el(bi, x->base, "Dagtekening", dag);
    xmlNodePtr xv = el(h, x->msg, "XsdVersie", NULL);
    el(xv, x->base, "BasisschemaXsdVersie", f->xsd_basis);
    el(xv, x->base, "BerichtXsdVersie", f->xsd_bericht);
}

static void write_client(xml_ctx *x, xmlNodePtr c, const zv_record *r)
{
    el(c, x->msg, "Bsn", zv_rec_str(r, ZV_F_CLIENT_BSN));
    el(el(c, x->msg, "Geboortedatum", NULL), x->base, "Datum",
       zv_rec_str(r, ZV_F_CLIENT_BIRTH_DATE));
    el(c, x->msg, "Geslacht", zv_rec_str(r, ZV_F_CLIENT_SEX));
    xmlNodePtr naam = el(c, x->msg, "Naam", NULL);
    xmlNodePtr gn = el(naam, x->base, "Geslachtsnaam", NULL);
    el(gn, x->base, "Achternaam", zv_rec_str(r, ZV_F_CLIENT_FAMILY_NAME));
    if (zv_rec_get(r, ZV_F_CLIENT_NAME_PREFIX))
        el(gn, x->base, "Voorvoegsel", zv_rec_str(r, ZV_F_CLIENT_NAME_PREFIX));
    if (zv_rec_get(r, ZV_F_CLIENT_GIVEN_NAMES))
        el(naam, x->base, "Voornamen", zv_rec_str(r, ZV_F_CLIENT_GIVEN_NAMES));
    if (zv_rec_get(r, ZV_F_CLIENT_INITIALS))
        el(naam, x->base, "Voorletters", zv_rec_str(r, ZV_F_CLIENT_INITIALS));
}

/* Element order of StartProduct / StopProduct as in JW305.xsd / JW307.xsd. */
static void write_product(ijw_msg m, xml_ctx *x, xmlNodePtr list, const zv_record *r)
{
    xmlNodePtr p = el(list, x->msg, m == IJW_START ? "StartProduct" : "StopProduct", NULL);
    if (zv_rec_get(r, ZV_F_ENT_NUMBER))
        el(p, x->msg, "ToewijzingNummer", zv_rec_str(r, ZV_F_ENT_NUMBER));
    if (zv_rec_get(r, ZV_F_ENT_PRODUCT_CATEGORY)) {
        xmlNodePtr prod = el(p, x->msg, "Product", NULL);
        el(prod, x->base, "Categorie", zv_rec_str(r, ZV_F_ENT_PRODUCT_CATEGORY));
        if (zv_rec_get(r, ZV_F_ENT_PRODUCT_CODE))
            el(prod, x->base, "Code", zv_rec_str(r, ZV_F_ENT_PRODUCT_CODE));
    }
    if (zv_rec_get(r, ZV_F_ENT_START))
        el(p, x->msg, "ToewijzingIngangsdatum", zv_rec_str(r, ZV_F_ENT_START));
    el(p, x->msg, "Begindatum", zv_rec_str(r, ZV_F_DEL_START));
    if (m == IJW_STOP) {
        el(p, x->msg, "RedenBeeindiging", zv_rec_str(r, ZV_F_DEL_END_REASON));
        el(p, x->msg, "Einddatum", zv_rec_str(r, ZV_F_DEL_END));
    }
    el(p, x->msg, "StatusAanlevering", zv_rec_str(r, ZV_F_DEL_STATUS));
}

/* One message for the records idx[0..n) (same gemeente and client). */
static int write_message(const ijw_fmt *f, ijw_msg m, const zv_batch *b, const size_t *idx,
                         size_t n, const char *gemeente, const char *ident, const char *dag,
                         xmlChar **mem, int *size)
{
    char ns_msg[128], ns_base[128];
    ijw_msg_ns(f, m, ns_msg, sizeof(ns_msg));
    ijw_base_ns(f, ns_base, sizeof(ns_base));
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = doc ? xmlNewNode(NULL, BAD_CAST "Bericht") : NULL;
    if (!root) {
        xmlFreeDoc(doc);
        return -1;
    }
    xmlDocSetRootElement(doc, root);
    xml_ctx x = {.msg = xmlNewNs(root, BAD_CAST ns_msg, BAD_CAST ijw_msg_prefix(f, m)),
                 .base = xmlNewNs(root, BAD_CAST ns_base, BAD_CAST ijw_base_prefix(f))};
    xmlSetNs(root, x.msg);
    write_header(f, m, &x, root, gemeente, ident, dag);
    xmlNodePtr c = el(root, x.msg, "Client", NULL);
    write_client(&x, c, b->records[idx[0]]);
    xmlNodePtr list = el(c, x.msg, m == IJW_START ? "StartProducten" : "StopProducten", NULL);
    for (size_t i = 0; i < n; i++)
        write_product(m, &x, list, b->records[idx[i]]);
    xmlDocDumpFormatMemoryEnc(doc, mem, size, "UTF-8", f->pretty);
    xmlFreeDoc(doc);
    return *mem ? 0 : -1;
}

static int same_client(const item *a, const item *b)
{
    return strcmp(a->gemeente, b->gemeente) == 0 && strcmp(a->bsn, b->bsn) == 0;
}

/* Checks and history for record i; 0 accepted, 1 rejected, -1 failure. */
static int admit(ijw_fmt *f, ijw_msg m, const zv_batch *b, item *items, size_t i, const char *dag,
                 zv_render_out *out)
{
    const zv_record *r = b->records[i];
    item *it = &items[i];
    ijw_violation v = {0};
    int rc = ijw_check_record(f, m, r, dag, &v);
    if (rc == 0) {
        it->gemeente = ijw_gemeente(f, r);
        it->bsn = zv_rec_str(r, ZV_F_CLIENT_BSN);
        if (ijw_product_key(f->variant, zv_rec_str(r, ZV_F_ENT_NUMBER),
                            zv_rec_str(r, ZV_F_ENT_PRODUCT_CATEGORY),
                            zv_rec_str(r, ZV_F_ENT_PRODUCT_CODE), zv_rec_str(r, ZV_F_DEL_START),
                            it->pkey, sizeof(it->pkey)) != 0) {
            v = (ijw_violation){.rule = "ZV-IJW-KEY", .field = "entitlement.number"};
            snprintf(v.reason, sizeof(v.reason), "product key too long or absent");
            rc = 1;
        }
    }
    for (size_t j = 0; rc == 0 && j < i; j++)
        if (items[j].accepted && same_client(&items[j], it) &&
            strcmp(items[j].pkey, it->pkey) == 0) {
            v = (ijw_violation){.rule = "TR101", .field = "entitlement.number"};
            snprintf(v.reason, sizeof(v.reason),
                     "another record for the same product is in this batch (duplicate line)");
            rc = 1;
        }
    if (rc == 0) {
        char rid[512];
        snprintf(rid, sizeof(rid), "%s/%s", r->prov.source, r->prov.record_id);
        rc = ijw_state_apply(f->state, m, zv_rec_str(r, ZV_F_DEL_STATUS), it->gemeente, it->bsn,
                             it->pkey, zv_rec_str(r, ZV_F_DEL_END_REASON), b->batch_id, rid,
                             f->stop_requires_start, &v);
        if (rc < 0) return -1;
    }
    if (rc == 0) {
        it->accepted = 1;
        return 0;
    }
    char masked[16];
    f->host->log(f->ctx, ZV_LOG_NOTICE, "%s: record %s/%s (client %s) rejected: %s %s",
                 ijw_msg_prefix(f, m), r->prov.source, r->prov.record_id,
                 zv_bsn_mask(zv_rec_str(r, ZV_F_CLIENT_BSN), masked, sizeof(masked)), v.rule,
                 v.reason);
    return f->host->reject_record(out, i, v.rule, v.field, v.reason) == 0 ? 1 : -1;
}

static int emit_group(ijw_fmt *f, ijw_msg m, const zv_batch *b, item *items, size_t first,
                      size_t group, const char *dag, zv_render_out *out)
{
    size_t *idx = calloc(b->n, sizeof(*idx));
    char **keys = calloc(b->n, sizeof(*keys));
    size_t n = 0;
    int rc = -1;
    xmlChar *mem = NULL;
    int size = 0;
    char ident[13];
    if (!idx || !keys) goto done;
    for (size_t j = first; j < b->n; j++) {
        if (!items[j].accepted || items[j].grouped || !same_client(&items[first], &items[j]))
            continue;
        items[j].grouped = 1;
        idx[n] = j;
        if (asprintf(&keys[n], "%s/%s", items[j].bsn, items[j].pkey) < 0) {
            keys[n] = NULL;
            goto done;
        }
        n++;
    }
    identificatie(f, m, b, group, ident);
    if (write_message(f, m, b, idx, n, items[first].gemeente, ident, dag, &mem, &size) != 0)
        goto done;
    char idem[64];
    snprintf(idem, sizeof(idem), "%s-%s", ijw_msg_prefix(f, m), ident);
    zv_payload_spec p = {.data = mem,
                         .len = (size_t)size,
                         .content_type = "application/xml",
                         .idem_key = idem,
                         .extension = "xml",
                         .records = idx,
                         .nrecords = n,
                         .record_keys = (const char *const *)keys};
    rc = f->host->add_payload(out, &p) == 0 ? 0 : -1;
done:
    for (size_t j = 0; keys && j < n; j++)
        free(keys[j]);
    free(keys);
    free(idx);
    xmlFree(mem);
    return rc;
}

int ijw_render(ijw_fmt *f, const zv_batch *b, zv_render_out *out)
{
    if (b->message < 0 || b->message > 3 || (b->message >= 2) != f->wmo) {
        f->host->log(f->ctx, ZV_LOG_ERROR, "batch %s: message %d is not one of this instance",
                     b->batch_id, b->message);
        return -1;
    }
    ijw_msg m = (ijw_msg)(b->message & 1);
    char dag[11];
    dagtekening_of(b->now, dag);
    item *items = calloc(b->n ? b->n : 1, sizeof(*items));
    if (!items || ijw_state_begin(f->state) != 0) {
        free(items);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < b->n && rc >= 0; i++)
        rc = admit(f, m, b, items, i, dag, out);
    size_t group = 0;
    for (size_t i = 0; i < b->n && rc >= 0; i++)
        if (items[i].accepted && !items[i].grouped)
            rc = emit_group(f, m, b, items, i, group++, dag, out);
    free(items);
    if (rc < 0 || ijw_state_commit(f->state) != 0) {
        ijw_state_rollback(f->state);
        f->host->log(f->ctx, ZV_LOG_ERROR, "batch %s: render failed", b->batch_id);
        return -1;
    }
    return 0;
}
