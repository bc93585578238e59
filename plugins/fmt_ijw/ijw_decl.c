/*
 * Declarations (JW323 / WMO323): one message per gemeente and
 * DeclaratieNummer, its clients identified by BSN only, each with 1..n
 * Prestaties.  Element order as in JW323.xsd / WMO323.xsd; elements of the
 * basisschema's complex types are in the basisschema namespace.
 */
#include "ijw.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

#define NONE ((size_t)-1)

typedef struct ditem {
    int accepted;
    size_t next;   /* next record of the same client in the message */
    size_t client; /* client group */
    const char *gemeente;
} ditem;

typedef struct dclient {
    size_t first, last, next; /* records; next client of the message */
} dclient;

typedef struct dmsg {
    size_t first, last; /* client groups */
} dmsg;

typedef struct decl_job {
    ijw_fmt *f;
    const zv_batch *b;
    zv_render_out *out;
    ditem *items;
    dclient *clients;
    dmsg *msgs;
    size_t nclients, nmsgs;
    size_t cur; /* message being built */
    int failed;
} decl_job;

static int reject(decl_job *j, size_t i, const char *rule, const char *field, const char *reason)
{
    const zv_record *r = j->b->records[i];
    char masked[16];
    j->items[i].accepted = 0;
    j->f->host->log(j->f->ctx, ZV_LOG_NOTICE, "%s: record %s/%s (client %s) rejected: %s %s",
                    ijw_msg_prefix(j->f, IJW_DECL), r->prov.source, r->prov.record_id,
                    zv_bsn_mask(zv_rec_str(r, ZV_F_CLIENT_BSN), masked, sizeof(masked)), rule,
                    reason);
    return j->f->host->reject_record(j->out, i, rule, field, reason) == 0 ? 0 : -1;
}

/* Checks on one declaration line that need nothing else. */
static int check_line(const ijw_fmt *f, const zv_record *r, ijw_violation *v)
{
    static const zv_field_id req[] = {
        ZV_F_CLIENT_BSN,        ZV_F_DECL_NUMBER,          ZV_F_DECL_REFERENCE,
        ZV_F_ENT_NUMBER,        ZV_F_ENT_PRODUCT_CATEGORY, ZV_F_ENT_PRODUCT_CODE,
        ZV_F_DECL_PERIOD_START, ZV_F_DECL_PERIOD_END,      ZV_F_DECL_VOLUME,
        ZV_F_DECL_UNIT,         ZV_F_DECL_AMOUNT,          ZV_F_DECL_DEBIT_CREDIT};
    for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
        if (!zv_rec_get(r, req[i])) {
            *v = (ijw_violation){.rule = "ZV-IJW-REQUIRED", .field = zv_field_def_of(req[i])->name};
            snprintf(v->reason, sizeof(v->reason),
                     "required in a declaration (323) but absent after minimisation");
            return 1;
        }
    const char *bsn = zv_rec_str(r, ZV_F_CLIENT_BSN);
    if (!zv_bsn_valid(bsn, strlen(bsn))) {
        *v = (ijw_violation){.rule = "ZV-IJW-BSN", .field = "client.bsn"};
        snprintf(v->reason, sizeof(v->reason), "not 9 digits passing the elfproef");
        return 1;
    }
    const char *g = ijw_gemeente(f, r);
    if (!g || strlen(g) != 4 || strspn(g, "0123456789") != 4) {
        *v = (ijw_violation){.rule = "ZV-IJW-GEMEENTE", .field = "entitlement.funder"};
        snprintf(v->reason, sizeof(v->reason),
                 "Ontvanger must be a 4-digit gemeentecode (option gemeente or "
                 "entitlement.funder)");
        return 1;
    }
    if (ijw_check_types(f, IJW_DECL, r, v)) return 1;
    int64_t b, e;
    zv_date_days(zv_rec_str(r, ZV_F_DECL_PERIOD_START), &b);
    zv_date_days(zv_rec_str(r, ZV_F_DECL_PERIOD_END), &e);
    if (e < b) {
        *v = (ijw_violation){.rule = "TR018", .field = "declaration.period_end"};
        snprintf(v->reason, sizeof(v->reason), "ProductPeriode: Einddatum before Begindatum");
        return 1;
    }
    return 0;
}

/* The declaration period a line names must hold its product period. */
static int check_period(const zv_record *head, const zv_record *r, ijw_violation *v)
{
    const char *cs = zv_rec_str(head, ZV_F_DECL_CLAIM_PERIOD_START);
    const char *ce = zv_rec_str(head, ZV_F_DECL_CLAIM_PERIOD_END);
    const char *rs = zv_rec_str(r, ZV_F_DECL_CLAIM_PERIOD_START);
    const char *re = zv_rec_str(r, ZV_F_DECL_CLAIM_PERIOD_END);
    if ((!cs) != (!rs) || (!ce) != (!re) || (cs && strcmp(cs, rs)) || (ce && strcmp(ce, re))) {
        *v = (ijw_violation){.rule = "ZV-IJW-DECL-PERIODE",
                             .field = "declaration.claim_period_start"};
        snprintf(v->reason, sizeof(v->reason),
                 "lines of one DeclaratieNummer must name the same DeclaratiePeriode");
        return 1;
    }
    if (cs && ce &&
        (strcmp(zv_rec_str(r, ZV_F_DECL_PERIOD_START), cs) < 0 ||
         strcmp(zv_rec_str(r, ZV_F_DECL_PERIOD_END), ce) > 0)) {
        *v = (ijw_violation){.rule = "ZV-IJW-DECL-PERIODE", .field = "declaration.period_start"};
        snprintf(v->reason, sizeof(v->reason),
                 "ProductPeriode %s..%s lies outside the DeclaratiePeriode %s..%s",
                 zv_rec_str(r, ZV_F_DECL_PERIOD_START), zv_rec_str(r, ZV_F_DECL_PERIOD_END), cs,
                 ce);
        return 1;
    }
    return 0;
}

static void period(ijw_xml *x, xmlNodePtr parent, const char *name, const char *b, const char *e)
{
    xmlNodePtr p = ijw_el(parent, x->msg, name, NULL);
    ijw_el(p, x->base, "Begindatum", b);
    ijw_el(p, x->base, "Einddatum", e);
}

static void write_prestatie(ijw_xml *x, xmlNodePtr list, const zv_record *r, size_t idx)
{
    xmlNodePtr p = ijw_el(list, x->msg, "Prestatie", NULL);
    p->_private = (void *)(uintptr_t)(idx + 1);
    xmlNodePtr ref = ijw_el(p, x->msg, "ProductReferentie", NULL);
    ijw_el(ref, x->base, "ReferentieNummer", zv_rec_str(r, ZV_F_DECL_REFERENCE));
    if (zv_rec_get(r, ZV_F_DECL_PREVIOUS_REFERENCE))
        ijw_el(ref, x->base, "VorigReferentieNummer", zv_rec_str(r, ZV_F_DECL_PREVIOUS_REFERENCE));
    ijw_el(p, x->msg, "ToewijzingNummer", zv_rec_str(r, ZV_F_ENT_NUMBER));
    ijw_el(p, x->msg, "ProductCategorie", zv_rec_str(r, ZV_F_ENT_PRODUCT_CATEGORY));
    ijw_el(p, x->msg, "ProductCode", zv_rec_str(r, ZV_F_ENT_PRODUCT_CODE));
    period(x, p, "ProductPeriode", zv_rec_str(r, ZV_F_DECL_PERIOD_START),
           zv_rec_str(r, ZV_F_DECL_PERIOD_END));
    ijw_el(p, x->msg, "GeleverdVolume", zv_rec_str(r, ZV_F_DECL_VOLUME));
    ijw_el(p, x->msg, "Eenheid", zv_rec_str(r, ZV_F_DECL_UNIT));
    if (zv_rec_get(r, ZV_F_DECL_TARIFF))
        ijw_el(p, x->msg, "ProductTarief", zv_rec_str(r, ZV_F_DECL_TARIFF));
    xmlNodePtr bed = ijw_el(p, x->msg, "IngediendBedrag", NULL);
    ijw_el(bed, x->base, "Bedrag", zv_rec_str(r, ZV_F_DECL_AMOUNT));
    ijw_el(bed, x->base, "DebetCredit", zv_rec_str(r, ZV_F_DECL_DEBIT_CREDIT));
}

#define FOR_LINES(j, m, c, i)                                                                      \
    for (size_t c = (j)->msgs[m].first; c != NONE; c = (j)->clients[c].next)                       \
        for (size_t i = (j)->clients[c].first; i != NONE; i = (j)->items[i].next)

/* First accepted line of message m, or NONE. */
static size_t head_of(decl_job *j, size_t m)
{
    FOR_LINES(j, m, c, i)
    if (j->items[i].accepted) return i;
    return NONE;
}

static void on_xsd_error(void *arg, xmlNodePtr node, const char *message)
{
    decl_job *j = arg;
    char reason[200];
    snprintf(reason, sizeof(reason), "%s: %s", j->f->xsd[IJW_DECL].file, message);
    for (xmlNodePtr n = node; n; n = n->parent)
        if (n->type == XML_ELEMENT_NODE && n->_private) {
            size_t i = (size_t)(uintptr_t)n->_private - 1;
            if (j->items[i].accepted && reject(j, i, "XSD", NULL, reason)) j->failed = 1;
            return;
        }
    FOR_LINES(j, j->cur, c, i)
    if (j->items[i].accepted && reject(j, i, "XSD", NULL, reason)) j->failed = 1;
}

/* Build message m from its accepted lines.  0 built, 1 lines were
 * rejected by the XSD (build again), 2 nothing left, -1 failure. */
static int build(decl_job *j, size_t m, const char *ident, const char *dag, ijw_xml *x)
{
    size_t head = head_of(j, m);
    if (head == NONE) return 2;
    const zv_record *h = j->b->records[head];
    int64_t total = 0;
    const char *lo = NULL, *hi = NULL;
    FOR_LINES(j, m, c, i)
    {
        if (!j->items[i].accepted) continue;
        const zv_record *r = j->b->records[i];
        int64_t a = strtoll(zv_rec_str(r, ZV_F_DECL_AMOUNT), NULL, 10);
        total += strcmp(zv_rec_str(r, ZV_F_DECL_DEBIT_CREDIT), "C") == 0 ? -a : a;
        const char *s = zv_rec_str(r, ZV_F_DECL_PERIOD_START),
                   *e = zv_rec_str(r, ZV_F_DECL_PERIOD_END);
        if (!lo || strcmp(s, lo) < 0) lo = s;
        if (!hi || strcmp(e, hi) > 0) hi = e;
    }
    /* Without a DeclaratiePeriode from the ECD, the span of its lines. */
    const char *cs = zv_rec_str(h, ZV_F_DECL_CLAIM_PERIOD_START);
    const char *ce = zv_rec_str(h, ZV_F_DECL_CLAIM_PERIOD_END);
    if (ijw_doc_new(j->f, IJW_DECL, x) != 0) return -1;
    ijw_write_header(j->f, IJW_DECL, x, j->items[head].gemeente, ident, dag);
    xmlNodePtr d = ijw_el(x->root, x->msg, "Declaratie", NULL);
    ijw_el(d, x->msg, "DeclaratieNummer", zv_rec_str(h, ZV_F_DECL_NUMBER));
    period(x, d, "DeclaratiePeriode", cs ? cs : lo, ce ? ce : hi);
    ijw_el(d, x->msg, "DeclaratieDagtekening", dag);
    char tot[32];
    snprintf(tot, sizeof(tot), "%" PRId64, total < 0 ? -total : total);
    xmlNodePtr t = ijw_el(d, x->msg, "TotaalIngediendBedrag", NULL);
    ijw_el(t, x->base, "TotaalBedrag", tot);
    ijw_el(t, x->base, "DebetCredit", total < 0 ? "C" : "D");
    xmlNodePtr cl = ijw_el(d, x->msg, "Clienten", NULL);
    for (size_t c = j->msgs[m].first; c != NONE; c = j->clients[c].next) {
        xmlNodePtr client = NULL, list = NULL;
        for (size_t i = j->clients[c].first; i != NONE; i = j->items[i].next) {
            if (!j->items[i].accepted) continue;
            if (!client) {
                client = ijw_el(cl, x->msg, "Client", NULL);
                ijw_el(client, x->msg, "Bsn", zv_rec_str(j->b->records[i], ZV_F_CLIENT_BSN));
                list = ijw_el(client, x->msg, "Prestaties", NULL);
            }
            write_prestatie(x, list, j->b->records[i], i);
        }
    }
    if (!j->f->xsd[IJW_DECL].schema) return 0;
    j->cur = m;
    int v = ijw_schema_validate(&j->f->xsd[IJW_DECL], x->doc, on_xsd_error, j);
    if (v == 0) return 0;
    xmlFreeDoc(x->doc);
    x->doc = NULL;
    return v < 0 || j->failed ? -1 : 1;
}

static int emit(decl_job *j, size_t m, const char *dag)
{
    char ident[13], idem[64];
    ijw_identificatie(j->f, IJW_DECL, j->b, m, ident);
    ijw_xml x = {0};
    int rc;
    while ((rc = build(j, m, ident, dag, &x)) == 1)
        ;
    if (rc != 0) return rc == 2 ? 0 : -1;
    size_t n = 0, k = 0;
    FOR_LINES(j, m, c, i)
    n += j->items[i].accepted;
    size_t *idx = calloc(n, sizeof(*idx));
    char **keys = calloc(n, sizeof(*keys));
    xmlChar *mem = NULL;
    int size = 0;
    rc = -1;
    if (!idx || !keys) goto done;
    FOR_LINES(j, m, c, i)
    {
        if (!j->items[i].accepted) continue;
        const zv_record *r = j->b->records[i];
        idx[k] = i;
        if (asprintf(&keys[k], "%s/%s", zv_rec_str(r, ZV_F_CLIENT_BSN),
                     zv_rec_str(r, ZV_F_DECL_REFERENCE)) < 0) {
            keys[k] = NULL;
            goto done;
        }
        k++;
    }
    /* Before the dump frees the document: what it carries per record. */
    if (ijw_report_rendered_decl(j->f, j->out, j->b, x.root, j->items[head_of(j, m)].gemeente) < 0)
        goto done;
    if (ijw_doc_dump(j->f, &x, &mem, &size) != 0) goto done;
    snprintf(idem, sizeof(idem), "%s-%s", ijw_msg_prefix(j->f, IJW_DECL), ident);
    zv_payload_spec p = {ZV_SIZED(zv_payload_spec),
                         .data = mem,
                         .len = (size_t)size,
                         .content_type = "application/xml",
                         .idem_key = idem,
                         .extension = "xml",
                         .records = idx,
                         .nrecords = n,
                         .record_keys = (const char *const *)keys};
    rc = j->f->host->add_payload(j->out, &p) == 0 ? 0 : -1;
done:
    xmlFreeDoc(x.doc);
    for (size_t q = 0; keys && q < k; q++)
        free(keys[q]);
    free(keys);
    free(idx);
    xmlFree(mem);
    return rc;
}

/* Line i into its message and client group; rejects what breaks a rule. */
static int sort_in(decl_job *j, size_t i, ijw_index *msgs, ijw_index *clients, ijw_index *refs)
{
    const zv_record *r = j->b->records[i];
    ijw_violation v = {0};
    j->items[i].next = NONE;
    if (check_line(j->f, r, &v)) return reject(j, i, v.rule, v.field, v.reason);
    const char *g = ijw_gemeente(j->f, r), *nr = zv_rec_str(r, ZV_F_DECL_NUMBER);
    const char *bsn = zv_rec_str(r, ZV_F_CLIENT_BSN);
    char key[160];
    size_t m, c, earlier;
    snprintf(key, sizeof(key), "%s\n%s\n%s", g, nr, zv_rec_str(r, ZV_F_DECL_REFERENCE));
    int p = ijw_index_put(refs, key, i, &earlier);
    if (p < 0) return -1;
    if (p == 1)
        return reject(j, i, "ZV-IJW-DECL-REF", "declaration.reference",
                      "ReferentieNummer occurs twice in this declaration");
    snprintf(key, sizeof(key), "%s\n%s", g, nr);
    if ((p = ijw_index_put(msgs, key, j->nmsgs, &m)) < 0) return -1;
    if (p == 0) {
        m = j->nmsgs++;
        j->msgs[m] = (dmsg){NONE, NONE};
    } else if (check_period(j->b->records[j->clients[j->msgs[m].first].first], r, &v))
        return reject(j, i, v.rule, v.field, v.reason);
    snprintf(key, sizeof(key), "%s\n%s\n%s", g, nr, bsn);
    if ((p = ijw_index_put(clients, key, j->nclients, &c)) < 0) return -1;
    if (p == 0) {
        c = j->nclients++;
        j->clients[c] = (dclient){i, i, NONE};
        if (j->msgs[m].first == NONE)
            j->msgs[m].first = c;
        else
            j->clients[j->msgs[m].last].next = c;
        j->msgs[m].last = c;
    } else {
        j->items[j->clients[c].last].next = i;
        j->clients[c].last = i;
    }
    j->items[i].accepted = 1;
    j->items[i].client = c;
    j->items[i].gemeente = g;
    return 0;
}

int ijw_render_decl(ijw_fmt *f, const zv_batch *b, zv_render_out *out)
{
    size_t n = b->n ? b->n : 1;
    decl_job j = {.f = f, .b = b, .out = out};
    j.items = calloc(n, sizeof(*j.items));
    j.clients = calloc(n, sizeof(*j.clients));
    j.msgs = calloc(n, sizeof(*j.msgs));
    ijw_index *msgs = ijw_index_new(n), *clients = ijw_index_new(n), *refs = ijw_index_new(n);
    int rc = j.items && j.clients && j.msgs && msgs && clients && refs ? 0 : -1;
    char dag[11];
    ijw_dagtekening(b->now, dag);
    for (size_t i = 0; i < b->n && rc == 0; i++)
        rc = sort_in(&j, i, msgs, clients, refs);
    for (size_t m = 0; m < j.nmsgs && rc == 0; m++)
        rc = emit(&j, m, dag);
    free(j.items);
    free(j.clients);
    free(j.msgs);
    ijw_index_free(msgs);
    ijw_index_free(clients);
    ijw_index_free(refs);
    if (rc != 0) f->host->log(f->ctx, ZV_LOG_ERROR, "batch %s: render failed", b->batch_id);
    return rc == 0 ? 0 : -1;
}
