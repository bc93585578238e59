/*
 * Reading retour messages: AW36 (on AW35) and AW310 (on AW39).  The retour
 * is validated against its XSD; then every product gets one verdict keyed
 * "<bsn>/<besluitnummer>", carrying the retourcodes of the header, the client
 * and the product, each with the standard's text from basisschema.xsd.
 * An error anywhere for a client rejects everything of that client, as the
 * standard prescribes.
 */
#include "iwlz.h"

#include <zinvol/util.h>

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct codes {
    char list[32][8];
    size_t n;
} codes;

typedef struct acc {
    char *key;
    codes c;
} acc;

typedef struct retour {
    iwlz_state *st;
    acc *items;
    size_t n, cap;
    iwlz_strmap index;
    iwlz_strmap clients; /* BSN -> slot in client_codes */
    codes *client_codes;
    size_t nclients;
} retour;

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST name)) return c;
    return NULL;
}

static void text_of(xmlNodePtr n, char *buf, size_t len)
{
    xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
    snprintf(buf, len, "%s", t ? (char *)t : "");
    xmlFree(t);
}

static void codes_add(codes *c, const char *code)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->list[i], code) == 0) return;
    if (c->n < sizeof(c->list) / sizeof(c->list[0]))
        snprintf(c->list[c->n++], sizeof(c->list[0]), "%s", code);
}

/* The RetourCode children of n's RetourCodes element. */
static void codes_read(xmlNodePtr n, codes *c)
{
    for (xmlNodePtr rc = child(child(n, "RetourCodes"), "RetourCode"); rc; rc = rc->next) {
        if (rc->type != XML_ELEMENT_NODE) continue;
        char code[8];
        text_of(rc, code, sizeof(code));
        codes_add(c, code);
    }
}

static void codes_merge(codes *into, const codes *from)
{
    for (size_t i = 0; i < from->n; i++)
        codes_add(into, from->list[i]);
}

static int add(retour *r, const char *bsn, const char *besluit, const codes *c)
{
    char *key = NULL;
    if (asprintf(&key, "%s/%s", bsn, besluit) < 0) return -1;
    int inserted;
    size_t at = iwlz_strmap_get_or_put(&r->index, key, r->n, &inserted);
    if (at == SIZE_MAX) {
        free(key);
        return -1;
    }
    if (!inserted) {
        free(key);
        codes_merge(&r->items[at].c, c);
        return 0;
    }
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 64;
        acc *a = realloc(r->items, nc * sizeof(*a));
        if (!a) {
            free(key);
            return -1;
        }
        r->items = a;
        r->cap = nc;
    }
    r->items[r->n].key = key;
    r->items[r->n].c = *c;
    r->n++;
    return 0;
}

static int remember_client(retour *r, const char *bsn, const codes *c)
{
    codes *grown = realloc(r->client_codes, (r->nclients + 1) * sizeof(*grown));
    if (!grown) return -1;
    r->client_codes = grown;
    int inserted;
    size_t at = iwlz_strmap_get_or_put(&r->clients, bsn, r->nclients, &inserted);
    if (at == SIZE_MAX) return -1;
    if (inserted)
        r->client_codes[r->nclients++] = *c;
    else
        codes_merge(&r->client_codes[at], c);
    return 0;
}

static const char *const containers[] = {"GeleverdeFuncties", "GeleverdeZorgzwaartepakketten",
                                         "MutatieFuncties",   "MutatieZorgzwaartepakketten",
                                         "Aanvragen",         NULL};

/* Calls add() for every product of every client below `clienten`, with
 * base + client codes + product codes.  Returns the number of products. */
static long walk(retour *r, xmlNodePtr clienten, const codes *base, int with_codes)
{
    long count = 0;
    for (xmlNodePtr cl = clienten ? clienten->children : NULL; cl; cl = cl->next) {
        if (cl->type != XML_ELEMENT_NODE) continue;
        char bsn[16];
        text_of(child(cl, "Bsn"), bsn, sizeof(bsn));
        codes cc = *base;
        if (with_codes) {
            codes_read(cl, &cc);
            if (remember_client(r, bsn, &cc) < 0) return -1;
        }
        for (xmlNodePtr b = cl->children; b; b = b->next) {
            int is_box = 0;
            for (const char *const *box = containers; *box; box++)
                if (b->type == XML_ELEMENT_NODE && xmlStrEqual(b->name, BAD_CAST * box)) is_box = 1;
            if (!is_box) continue;
            for (xmlNodePtr p = b->children; p; p = p->next) {
                if (p->type != XML_ELEMENT_NODE) continue;
                char besluit[32];
                text_of(child(p, "Besluitnummer"), besluit, sizeof(besluit));
                codes pc = cc;
                if (with_codes) codes_read(p, &pc);
                if (add(r, bsn, besluit, &pc) < 0) return -1;
                count++;
            }
        }
    }
    return count;
}

static int code_ok(const char *c)
{
    return !strcmp(c, "0200") || !strcmp(c, "0233");
}

static int accepted(const codes *c)
{
    int seen_0200 = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (!code_ok(c->list[i])) return 0;
        if (!strcmp(c->list[i], "0200")) seen_0200 = 1;
    }
    return seen_0200;
}

static void describe(const iwlz_state *st, const codes *c, zv_buf *list, zv_buf *reason)
{
    for (size_t i = 0; i < c->n; i++) {
        const char *t = iwlz_code_text(st, c->list[i]);
        zv_buf_printf(list, "%s%s", i ? "," : "", c->list[i]);
        zv_buf_printf(reason, "%s%s: %s", i ? "; " : "", c->list[i],
                      t ? t : "onbekende retourcode");
    }
}

static int emit_all(retour *r, zv_verdict_out *out, size_t *nacc)
{
    zv_buf list, reason;
    zv_buf_init(&list);
    zv_buf_init(&reason);
    *nacc = 0;
    for (size_t i = 0; i < r->n; i++) {
        zv_buf_reset(&list);
        zv_buf_reset(&reason);
        describe(r->st, &r->items[i].c, &list, &reason);
        if (list.oom || reason.oom) break;
        int ok = accepted(&r->items[i].c);
        *nacc += (size_t)ok;
        r->st->host->verdict(out, r->items[i].key, ok, list.data ? list.data : "",
                             reason.data ? reason.data : "");
    }
    int oom = list.oom || reason.oom;
    zv_buf_free(&list);
    zv_buf_free(&reason);
    return oom ? -1 : 0;
}

static xmlDocPtr parse(const char *body, size_t len)
{
    if (!body || len == 0 || len > 0x7fffffff) return NULL;
    return xmlReadMemory(body, (int)len, "retour.xml", NULL,
                         XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
}

/* A retour without clients (the whole message refused): its header codes
 * apply to every product of the payload it answers. */
static int from_payload(retour *r, const zv_answer *a, const codes *hdr)
{
    xmlDocPtr doc = parse(a->payload, a->payload_len);
    if (!doc) return -1;
    long n = walk(r, child(xmlDocGetRootElement(doc), "Clienten"), hdr, 0);
    xmlFreeDoc(doc);
    return n > 0 ? 0 : -1;
}

/* Products of the payload the retour does not list (a Client without its
 * products is valid AW36/AW310) get the codes of their client, so nothing
 * the payload carried is left without a verdict.  Returns how many payload
 * products remain without any verdict, or -1. */
static long cover_payload(retour *r, const zv_answer *a, const codes *hdr)
{
    xmlDocPtr doc = parse(a->payload, a->payload_len);
    if (!doc) return 0;
    long missing = 0;
    xmlNodePtr clienten = child(xmlDocGetRootElement(doc), "Clienten");
    for (xmlNodePtr cl = clienten ? clienten->children : NULL; cl && missing >= 0; cl = cl->next) {
        if (cl->type != XML_ELEMENT_NODE) continue;
        char bsn[16];
        text_of(child(cl, "Bsn"), bsn, sizeof(bsn));
        size_t at = iwlz_strmap_get(&r->clients, bsn);
        for (xmlNodePtr b = cl->children; b && missing >= 0; b = b->next)
            for (xmlNodePtr p = b->type == XML_ELEMENT_NODE ? b->children : NULL; p; p = p->next) {
                if (p->type != XML_ELEMENT_NODE || !child(p, "Besluitnummer")) continue;
                char besluit[32], key[64];
                text_of(child(p, "Besluitnummer"), besluit, sizeof(besluit));
                snprintf(key, sizeof(key), "%s/%s", bsn, besluit);
                if (iwlz_strmap_get(&r->index, key) != SIZE_MAX) continue;
                if (at == SIZE_MAX) {
                    missing++;
                    continue;
                }
                codes c = *hdr;
                codes_merge(&c, &r->client_codes[at]);
                if (add(r, bsn, besluit, &c) < 0) {
                    missing = -1;
                    break;
                }
            }
    }
    xmlFreeDoc(doc);
    return missing;
}

static int interpret_doc(retour *r, xmlDocPtr doc, const zv_answer *a, const char *msg,
                         zv_verdict_out *out)
{
    iwlz_state *st = r->st;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    codes hdr = {.n = 0};
    codes_read(child(root, "Header"), &hdr);
    char ident[32];
    text_of(child(child(child(root, "Header"), "BerichtIdentificatie"), "Identificatie"), ident,
            sizeof(ident));
    xmlNodePtr clienten = child(root, "Clienten");
    long n = clienten ? walk(r, clienten, &hdr, 1) : 0;
    if (n < 0) return -1;
    if (n == 0 && from_payload(r, a, &hdr) < 0) {
        st->host->log(st->ctx, ZV_LOG_ERROR,
                      "iwlz: %s %s names no client products and the payload it answers is not "
                      "available to apply its header codes to",
                      msg, ident);
        return -1;
    }
    long missing = n > 0 && a->payload ? cover_payload(r, a, &hdr) : 0;
    if (missing < 0) return -1;
    if (missing > 0)
        st->host->log(st->ctx, ZV_LOG_WARN,
                      "iwlz: %s %s: %ld products of the message it answers are not named in it "
                      "(no verdict)",
                      msg, ident, missing);
    size_t nacc;
    if (emit_all(r, out, &nacc) < 0) return -1;
    st->host->log(st->ctx, ZV_LOG_INFO, "iwlz: %s %s: %zu products accepted, %zu rejected", msg,
                  ident, nacc, r->n - nacc);
    return 0;
}

int iwlz_interpret(iwlz_state *st, const zv_answer *a, zv_verdict_out *out)
{
    /* A delivery that brings no answer (a file drop, an HTTP 2xx without a
     * body) is not a retour: the AW36/AW310 comes later, through zinvolctl
     * retour.  Nothing to read, nothing wrong. */
    if (a->len == 0 && a->payload) return 0;
    xmlDocPtr doc = parse(a->body, a->len);
    if (!doc) {
        st->host->log(st->ctx, ZV_LOG_ERROR, "iwlz: answer is not XML (%zu bytes, status %d)",
                      a->len, a->status);
        return -1;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    const xmlChar *ns = root && root->ns ? root->ns->href : NULL;
    iwlz_schema *schema = NULL;
    const char *msg = NULL;
    if (ns && xmlStrEqual(ns, BAD_CAST st->rel.msg[IWLZ_AW36].ns))
        schema = &st->aw36, msg = "AW36";
    else if (ns && xmlStrEqual(ns, BAD_CAST st->rel.msg[IWLZ_AW310].ns))
        schema = &st->aw310, msg = "AW310";
    if (!schema) {
        st->host->log(st->ctx, ZV_LOG_ERROR,
                      "iwlz: answer is neither an AW36 nor an AW310 retour (namespace %s)",
                      ns ? (const char *)ns : "none");
        xmlFreeDoc(doc);
        return -1;
    }
    iwlz_xsd_result *res = malloc(sizeof(*res));
    int v = res ? iwlz_schema_validate(schema, doc, res) : -1;
    if (v != 0) {
        char m[512];
        snprintf(m, sizeof(m), "%s", v > 0 && res->n ? res->errors[0].message : "validator failed");
        zv_bsn_scrub(m);
        st->host->log(st->ctx, ZV_LOG_ERROR, "iwlz: %s retour does not validate against %s: %s",
                      msg, schema->file, m);
        free(res);
        xmlFreeDoc(doc);
        return -1;
    }
    free(res);
    retour r = {.st = st};
    int rc = iwlz_strmap_init(&r.index, 64) < 0 || iwlz_strmap_init(&r.clients, 64) < 0
                 ? -1
                 : interpret_doc(&r, doc, a, msg, out);
    for (size_t i = 0; i < r.n; i++)
        free(r.items[i].key);
    free(r.items);
    free(r.client_codes);
    iwlz_strmap_free(&r.index);
    iwlz_strmap_free(&r.clients);
    xmlFreeDoc(doc);
    return rc;
}
