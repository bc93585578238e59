/*
 * Rendering a batch of start or stop records into 305/307 messages: check
 * each record, group the accepted ones by gemeente and client (one client
 * per message), apply them to the started-products history, write XML and,
 * with schema_dir, validate it against the official XSD.  Per-batch hash
 * indexes keep this linear in the batch size.
 */
#include "ijw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zinvol/util.h>

#define NONE ((size_t)-1)

typedef struct item {
    int accepted; /* passed the checks; cleared when rejected later */
    size_t next;  /* next record of the same message, NONE at the end */
    const char *gemeente;
    const char *bsn;
    char pkey[160];
    ijw_change change; /* the history's change, once decided */
} item;

typedef struct group {
    size_t first, last;
} group;

void ijw_dagtekening(int64_t now, char out[11])
{
    time_t t = (time_t)now;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Identificatie (LDT_IdentificatieBericht, at most 12 characters): stable
 * for the same batch and message position, so a retry carries the same
 * identification; unique per message kind in practice (48 bits of a hash
 * of destination, message, batch and position), as TR056 wants. */
void ijw_identificatie(const ijw_fmt *f, ijw_msg m, const zv_batch *b, size_t group, char out[13])
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

xmlNodePtr ijw_el(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text)
{
    return xmlNewTextChild(parent, ns, BAD_CAST name, text ? BAD_CAST text : NULL);
}

int ijw_doc_new(const ijw_fmt *f, ijw_msg m, ijw_xml *x)
{
    char ns_msg[128], ns_base[128];
    ijw_msg_ns(f, m, ns_msg, sizeof(ns_msg));
    ijw_base_ns(f, ns_base, sizeof(ns_base));
    x->doc = xmlNewDoc(BAD_CAST "1.0");
    x->root = x->doc ? xmlNewNode(NULL, BAD_CAST "Bericht") : NULL;
    if (!x->root) {
        xmlFreeDoc(x->doc);
        x->doc = NULL;
        return -1;
    }
    xmlDocSetRootElement(x->doc, x->root);
    x->msg = xmlNewNs(x->root, BAD_CAST ns_msg, BAD_CAST ijw_msg_prefix(f, m));
    x->base = xmlNewNs(x->root, BAD_CAST ns_base, BAD_CAST ijw_base_prefix(f));
    xmlSetNs(x->root, x->msg);
    return 0;
}

int ijw_doc_dump(const ijw_fmt *f, ijw_xml *x, xmlChar **mem, int *size)
{
    *mem = NULL;
    xmlDocDumpFormatMemoryEnc(x->doc, mem, size, "UTF-8", f->pretty);
    xmlFreeDoc(x->doc);
    x->doc = NULL;
    return *mem ? 0 : -1;
}

void ijw_write_header(const ijw_fmt *f, ijw_msg m, ijw_xml *x, const char *gemeente,
                      const char *ident, const char *dag)
{
    const ijw_schema *s = &f->xsd[m];
    const char *vb = f->xsd_bericht         ? f->xsd_bericht
                     : s->bericht_versie[0] ? s->bericht_versie
                                            : "1.0.0";
    const char *vs = f->xsd_basis ? f->xsd_basis : s->basis_versie[0] ? s->basis_versie : "1.0.0";
    xmlNodePtr h = ijw_el(x->root, x->msg, "Header", NULL);
    ijw_el(h, x->msg, "BerichtCode", f->code[m]);
    ijw_el(h, x->msg, "BerichtVersie", "3");
    ijw_el(h, x->msg, "BerichtSubversie", "2");
    ijw_el(h, x->msg, "Afzender", f->afzender);
    ijw_el(h, x->msg, "Ontvanger", gemeente);
    xmlNodePtr bi = ijw_el(h, x->msg, "BerichtIdentificatie", NULL);
    ijw_el(bi, x->base, "Identificatie", ident);
    ijw_el(bi, x->base, "Dagtekening", dag);
    xmlNodePtr xv = ijw_el(h, x->msg, "XsdVersie", NULL);
    ijw_el(xv, x->base, "BasisschemaXsdVersie", vs);
    ijw_el(xv, x->base, "BerichtXsdVersie", vb);
}

static void write_client(ijw_xml *x, xmlNodePtr c, const zv_record *r)
{
    ijw_el(c, x->msg, "Bsn", zv_rec_str(r, ZV_F_CLIENT_BSN));
    xmlNodePtr gd = ijw_el(c, x->msg, "Geboortedatum", NULL);
    ijw_el(gd, x->base, "Datum", zv_rec_str(r, ZV_F_CLIENT_BIRTH_DATE));
    if (zv_rec_get(r, ZV_F_CLIENT_BIRTH_DATE_USAGE))
        ijw_el(gd, x->base, "DatumGebruik", zv_rec_str(r, ZV_F_CLIENT_BIRTH_DATE_USAGE));
    ijw_el(c, x->msg, "Geslacht", zv_rec_str(r, ZV_F_CLIENT_SEX));
    xmlNodePtr naam = ijw_el(c, x->msg, "Naam", NULL);
    xmlNodePtr gn = ijw_el(naam, x->base, "Geslachtsnaam", NULL);
    ijw_el(gn, x->base, "Achternaam", zv_rec_str(r, ZV_F_CLIENT_FAMILY_NAME));
    if (zv_rec_get(r, ZV_F_CLIENT_NAME_PREFIX))
        ijw_el(gn, x->base, "Voorvoegsel", zv_rec_str(r, ZV_F_CLIENT_NAME_PREFIX));
    if (zv_rec_get(r, ZV_F_CLIENT_GIVEN_NAMES))
        ijw_el(naam, x->base, "Voornamen", zv_rec_str(r, ZV_F_CLIENT_GIVEN_NAMES));
    if (zv_rec_get(r, ZV_F_CLIENT_INITIALS))
        ijw_el(naam, x->base, "Voorletters", zv_rec_str(r, ZV_F_CLIENT_INITIALS));
}

/* Element order of StartProduct / StopProduct as in JW305.xsd / JW307.xsd.
 * _private = record index + 1 lets a schema error be traced to its record. */
static void write_product(ijw_msg m, ijw_xml *x, xmlNodePtr list, const zv_record *r, size_t idx)
{
    xmlNodePtr p = ijw_el(list, x->msg, m == IJW_START ? "StartProduct" : "StopProduct", NULL);
    p->_private = (void *)(uintptr_t)(idx + 1);
    if (zv_rec_get(r, ZV_F_ENT_NUMBER))
        ijw_el(p, x->msg, "ToewijzingNummer", zv_rec_str(r, ZV_F_ENT_NUMBER));
    if (zv_rec_get(r, ZV_F_ENT_PRODUCT_CATEGORY)) {
        xmlNodePtr prod = ijw_el(p, x->msg, "Product", NULL);
        ijw_el(prod, x->base, "Categorie", zv_rec_str(r, ZV_F_ENT_PRODUCT_CATEGORY));
        if (zv_rec_get(r, ZV_F_ENT_PRODUCT_CODE))
            ijw_el(prod, x->base, "Code", zv_rec_str(r, ZV_F_ENT_PRODUCT_CODE));
    }
    if (zv_rec_get(r, ZV_F_ENT_START))
        ijw_el(p, x->msg, "ToewijzingIngangsdatum", zv_rec_str(r, ZV_F_ENT_START));
    ijw_el(p, x->msg, "Begindatum", zv_rec_str(r, ZV_F_DEL_START));
    if (m == IJW_STOP) {
        ijw_el(p, x->msg, "RedenBeeindiging", zv_rec_str(r, ZV_F_DEL_END_REASON));
        ijw_el(p, x->msg, "Einddatum", zv_rec_str(r, ZV_F_DEL_END));
    }
    ijw_el(p, x->msg, "StatusAanlevering", zv_rec_str(r, ZV_F_DEL_STATUS));
}

static int reject(ijw_fmt *f, ijw_msg m, const zv_batch *b, item *items, size_t i,
                  const ijw_violation *v, zv_render_out *out)
{
    const zv_record *r = b->records[i];
    char masked[16];
    items[i].accepted = 0;
    f->host->log(f->ctx, ZV_LOG_NOTICE, "%s: record %s/%s (client %s) rejected: %s %s",
                 ijw_msg_prefix(f, m), r->prov.source, r->prov.record_id,
                 zv_bsn_mask(zv_rec_str(r, ZV_F_CLIENT_BSN), masked, sizeof(masked)), v->rule,
                 v->reason);
    return f->host->reject_record(out, i, v->rule, v->field, v->reason) == 0 ? 0 : -1;
}

/* Checks that need no history, and TR101 against the batch's own earlier
 * records (one lookup in dups).  0 accepted, 1 rejected, -1 failure. */
static int check(ijw_fmt *f, ijw_msg m, const zv_batch *b, item *items, size_t i, const char *dag,
                 ijw_index *dups, zv_render_out *out)
{
    const zv_record *r = b->records[i];
    item *it = &items[i];
    ijw_violation v = {0};
    int rc = ijw_check_record(f, m, r, dag, &v);
    if (rc == 0) rc = ijw_check_types(f, m, r, &v);
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
    if (rc == 0) {
        char key[200];
        size_t earlier;
        snprintf(key, sizeof(key), "%s\n%s\n%s", it->gemeente, it->bsn, it->pkey);
        int p = ijw_index_put(dups, key, i, &earlier);
        if (p < 0) return -1;
        if (p == 1) {
            v = (ijw_violation){.rule = "TR101", .field = "entitlement.number"};
            snprintf(v.reason, sizeof(v.reason),
                     "another record for the same product is in this batch (duplicate line)");
            rc = 1;
        }
    }
    if (rc == 0) {
        it->accepted = 1;
        return 0;
    }
    return reject(f, m, b, items, i, &v, out) == 0 ? 1 : -1;
}

/* What the history says of every record of the message; rejects the ones
 * it forbids and keeps the change of the others in their item, written only
 * once the message is made (write_history).  -1 on a store failure. */
static int decide_history(ijw_fmt *f, ijw_msg m, const zv_batch *b, item *items, size_t first,
                          zv_render_out *out)
{
    for (size_t i = first; i != NONE; i = items[i].next) {
        if (!items[i].accepted) continue;
        const zv_record *r = b->records[i];
        char rid[512];
        ijw_violation v = {0};
        snprintf(rid, sizeof(rid), "%s/%s", r->prov.source, r->prov.record_id);
        int rc = ijw_state_decide(f->state, m, zv_rec_str(r, ZV_F_DEL_STATUS), items[i].gemeente,
                                  items[i].bsn, items[i].pkey, zv_rec_str(r, ZV_F_DEL_END_REASON),
                                  b->batch_id, rid, f->stop_requires_start, &v, &items[i].change);
        if (rc < 0) return -1;
        if (rc == 1 && reject(f, m, b, items, i, &v, out) != 0) return -1;
    }
    return 0;
}

/* The history changes of the records the message carries. */
static int write_history(ijw_fmt *f, const item *items, size_t first)
{
    for (size_t i = first; i != NONE; i = items[i].next)
        if (items[i].accepted && ijw_state_write(f->state, &items[i].change) != 0) return -1;
    return 0;
}

typedef struct xsd_fail {
    ijw_fmt *f;
    ijw_msg m;
    const zv_batch *b;
    item *items;
    size_t first;
    zv_render_out *out;
    int rc;
} xsd_fail;

static const char *field_of_element(const xmlChar *name)
{
    static const char *const map[][2] = {
        {"Bsn", "client.bsn"},
        {"Datum", "client.birth_date"},
        {"DatumGebruik", "client.birth_date_usage"},
        {"Geslacht", "client.sex"},
        {"Achternaam", "client.family_name"},
        {"Voorvoegsel", "client.name_prefix"},
        {"Voornamen", "client.given_names"},
        {"Voorletters", "client.initials"},
        {"ToewijzingNummer", "entitlement.number"},
        {"Categorie", "entitlement.product_category"},
        {"Code", "entitlement.product_code"},
        {"ToewijzingIngangsdatum", "entitlement.start"},
        {"Begindatum", "delivery.start"},
        {"Einddatum", "delivery.end"},
        {"RedenBeeindiging", "delivery.end_reason"},
        {"StatusAanlevering", "delivery.status"},
        {"Ontvanger", "entitlement.funder"},
    };
    for (size_t i = 0; name && i < sizeof(map) / sizeof(map[0]); i++)
        if (xmlStrEqual(name, BAD_CAST map[i][0])) return map[i][1];
    return NULL;
}

/* A schema error inside a product rejects that record; one on the client
 * or the header rejects every record of the message. */
static void on_xsd_error(void *arg, xmlNodePtr node, const char *message)
{
    xsd_fail *xf = arg;
    ijw_violation v = {.rule = "XSD", .field = field_of_element(node ? node->name : NULL)};
    snprintf(v.reason, sizeof(v.reason), "%s: %s", xf->f->xsd[xf->m].file, message);
    for (xmlNodePtr n = node; n; n = n->parent)
        if (n->type == XML_ELEMENT_NODE && n->_private) {
            size_t i = (size_t)(uintptr_t)n->_private - 1;
            if (xf->items[i].accepted && reject(xf->f, xf->m, xf->b, xf->items, i, &v, xf->out))
                xf->rc = -1;
            return;
        }
    for (size_t i = xf->first; i != NONE; i = xf->items[i].next)
        if (xf->items[i].accepted && reject(xf->f, xf->m, xf->b, xf->items, i, &v, xf->out))
            xf->rc = -1;
}

/* Build the message of the records still accepted in the list; with an
 * XSD, validate it.  0 valid (x->doc kept), 1 records were rejected (doc
 * freed, try again), 2 nothing left, -1 failure. */
static int build(ijw_fmt *f, ijw_msg m, const zv_batch *b, item *items, size_t first,
                 const char *ident, const char *dag, zv_render_out *out, ijw_xml *x)
{
    size_t head = NONE;
    for (size_t i = first; i != NONE && head == NONE; i = items[i].next)
        if (items[i].accepted) head = i;
    if (head == NONE) return 2;
    if (ijw_doc_new(f, m, x) != 0) return -1;
    ijw_write_header(f, m, x, items[head].gemeente, ident, dag);
    xmlNodePtr c = ijw_el(x->root, x->msg, "Client", NULL);
    write_client(x, c, b->records[head]);
    xmlNodePtr list = ijw_el(c, x->msg, m == IJW_START ? "StartProducten" : "StopProducten", NULL);
    for (size_t i = head; i != NONE; i = items[i].next)
        if (items[i].accepted) write_product(m, x, list, b->records[i], i);
    if (!f->xsd[m].schema) return 0;
    xsd_fail xf = {f, m, b, items, first, out, 0};
    int v = ijw_schema_validate(&f->xsd[m], x->doc, on_xsd_error, &xf);
    if (v == 0) return 0;
    xmlFreeDoc(x->doc);
    x->doc = NULL;
    if (v < 0 || xf.rc < 0) {
        f->host->log(f->ctx, ZV_LOG_ERROR, "%s: schema validator failed", f->xsd[m].file);
        return -1;
    }
    return 1;
}

static int add(ijw_fmt *f, ijw_msg m, const zv_batch *b, item *items, size_t first,
               const char *ident, ijw_xml *x, zv_render_out *out)
{
    size_t n = 0;
    for (size_t i = first; i != NONE; i = items[i].next)
        n += items[i].accepted;
    size_t *idx = calloc(n, sizeof(*idx));
    char **keys = calloc(n, sizeof(*keys));
    xmlChar *mem = NULL;
    int size = 0, rc = -1;
    size_t k = 0;
    if (!idx || !keys) goto done;
    for (size_t i = first; i != NONE; i = items[i].next) {
        if (!items[i].accepted) continue;
        idx[k] = i;
        if (asprintf(&keys[k], "%s/%s", items[i].bsn, items[i].pkey) < 0) {
            keys[k] = NULL;
            goto done;
        }
        k++;
    }
    if (ijw_report_rendered(f, out, b, x->root, items[first].gemeente) < 0) goto done;
    if (ijw_doc_dump(f, x, &mem, &size) != 0) goto done;
    char idem[64];
    snprintf(idem, sizeof(idem), "%s-%s", ijw_msg_prefix(f, m), ident);
    zv_payload_spec p = {ZV_SIZED(zv_payload_spec),
                         .data = mem,
                         .len = (size_t)size,
                         .content_type = "application/xml",
                         .idem_key = idem,
                         .extension = "xml",
                         .records = idx,
                         .nrecords = n,
                         .record_keys = (const char *const *)keys};
    rc = f->host->add_payload(out, &p) == 0 ? 0 : -1;
done:
    xmlFreeDoc(x->doc);
    x->doc = NULL;
    for (size_t j = 0; keys && j < k; j++)
        free(keys[j]);
    free(keys);
    free(idx);
    xmlFree(mem);
    return rc;
}

/* One message (one gemeente and client).  The history is asked first and
 * written only for the records of the message as made (and, with an XSD,
 * valid), so a record the schema refuses leaves the history as it was. */
static int emit_group(ijw_fmt *f, ijw_msg m, const zv_batch *b, item *items, size_t first,
                      size_t gno, const char *dag, zv_render_out *out)
{
    char ident[13];
    ijw_identificatie(f, m, b, gno, ident);
    if (decide_history(f, m, b, items, first, out) != 0) return -1;
    for (;;) {
        ijw_xml x = {0};
        int rc = build(f, m, b, items, first, ident, dag, out, &x);
        if (rc == 0) rc = add(f, m, b, items, first, ident, &x, out);
        if (rc == 0) rc = write_history(f, items, first);
        if (rc != 1) return rc < 0 ? -1 : 0;
    }
}

int ijw_render(ijw_fmt *f, const zv_batch *b, zv_render_out *out)
{
    ijw_msg m = (ijw_msg)(b->message & 1);
    char dag[11];
    ijw_dagtekening(b->now, dag);
    item *items = calloc(b->n ? b->n : 1, sizeof(*items));
    group *groups = calloc(b->n ? b->n : 1, sizeof(*groups));
    ijw_index *dups = ijw_index_new(b->n), *clients = ijw_index_new(b->n);
    int rc = items && groups && dups && clients ? 0 : -1;
    if (rc == 0 && ijw_state_begin(f->state) != 0) rc = -2;
    size_t ngroups = 0;
    for (size_t i = 0; i < b->n && rc == 0; i++) {
        items[i].next = NONE;
        int c = check(f, m, b, items, i, dag, dups, out);
        if (c < 0) rc = -1;
        if (c != 0) continue;
        char key[64];
        size_t g;
        snprintf(key, sizeof(key), "%s\n%s", items[i].gemeente, items[i].bsn);
        int p = ijw_index_put(clients, key, ngroups, &g);
        if (p < 0)
            rc = -1;
        else if (p == 0)
            groups[ngroups++] = (group){i, i};
        else {
            items[groups[g].last].next = i;
            groups[g].last = i;
        }
    }
    for (size_t g = 0; g < ngroups && rc == 0; g++)
        rc = emit_group(f, m, b, items, groups[g].first, g, dag, out);
    free(items);
    free(groups);
    ijw_index_free(dups);
    ijw_index_free(clients);
    if (rc == -2 || rc < 0 || ijw_state_commit(f->state) != 0) {
        if (rc != -2) ijw_state_rollback(f->state);
        f->host->log(f->ctx, ZV_LOG_ERROR, "batch %s: render failed", b->batch_id);
        return -1;
    }
    return 0;
}
