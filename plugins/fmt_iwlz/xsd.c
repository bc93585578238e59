/* Loading the official iWlz schemas once, validating documents against
 * them, and reading the retourcode texts from basisschema.xsd. */
#include "iwlz.h"

#include <zinvol/util.h>

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if LIBXML_VERSION >= 21200
#define IWLZ_CONST_ERR const
#else
#define IWLZ_CONST_ERR
#endif

typedef struct load_errors {
    char *buf;
    size_t len;
} load_errors;

static void on_load_error(void *arg, IWLZ_CONST_ERR xmlError *e)
{
    load_errors *le = arg;
    if (!le->buf || le->len == 0 || le->buf[0]) return; /* keep the first */
    snprintf(le->buf, le->len, "%s:%d: %s", e->file ? e->file : "?", e->line,
             e->message ? e->message : "schema error");
    size_t l = strlen(le->buf);
    while (l && (le->buf[l - 1] == '\n' || le->buf[l - 1] == ' '))
        le->buf[--l] = 0;
}

/* Text of the first element with this local name anywhere below n. */
static xmlChar *find_text(xmlNodePtr n, const char *local)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (xmlStrEqual(c->name, BAD_CAST local)) return xmlNodeGetContent(c);
        xmlChar *t = find_text(c, local);
        if (t) return t;
    }
    return NULL;
}

static void read_versions(iwlz_schema *s, const char *path)
{
    xmlDocPtr doc =
        xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
    if (!doc) return;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlChar *b = find_text(root, "BerichtXsdVersie");
    xmlChar *bs = find_text(root, "BasisschemaXsdVersie");
    if (b) snprintf(s->bericht_versie, sizeof(s->bericht_versie), "%s", (char *)b);
    if (bs) snprintf(s->basis_versie, sizeof(s->basis_versie), "%s", (char *)bs);
    xmlFree(b);
    xmlFree(bs);
    xmlFreeDoc(doc);
}

int iwlz_schema_load(iwlz_schema *s, const char *path, const char *file, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    s->file = file;
    if (err && errlen) err[0] = 0;
    load_errors le = {err, errlen};
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);
    if (!pc) {
        snprintf(err, errlen, "%s: cannot create schema parser", path);
        return -1;
    }
    xmlSchemaSetParserStructuredErrors(pc, on_load_error, &le);
    s->schema = xmlSchemaParse(pc);
    xmlSchemaFreeParserCtxt(pc);
    if (!s->schema) {
        if (!err[0]) snprintf(err, errlen, "%s: cannot load schema", path);
        return -1;
    }
    s->vctx = xmlSchemaNewValidCtxt(s->schema);
    if (!s->vctx) {
        snprintf(err, errlen, "%s: out of memory", path);
        iwlz_schema_free(s);
        return -1;
    }
    read_versions(s, path);
    if (!s->bericht_versie[0] || !s->basis_versie[0]) {
        snprintf(err, errlen, "%s: no BerichtXsdVersie/BasisschemaXsdVersie in its appinfo", path);
        iwlz_schema_free(s);
        return -1;
    }
    return 0;
}

void iwlz_schema_free(iwlz_schema *s)
{
    if (s->vctx) xmlSchemaFreeValidCtxt(s->vctx);
    if (s->schema) xmlSchemaFree(s->schema);
    s->vctx = NULL;
    s->schema = NULL;
}

static void on_valid_error(void *arg, IWLZ_CONST_ERR xmlError *e)
{
    iwlz_xsd_result *res = arg;
    if (res->n >= IWLZ_MAX_XSD_ERRORS) {
        res->dropped++;
        return;
    }
    iwlz_xsd_error *x = &res->errors[res->n++];
    x->node = e->node;
    snprintf(x->message, sizeof(x->message), "%s", e->message ? e->message : "schema error");
    size_t l = strlen(x->message);
    while (l && (x->message[l - 1] == '\n' || x->message[l - 1] == ' '))
        x->message[--l] = 0;
}

int iwlz_schema_validate(iwlz_schema *s, xmlDocPtr doc, iwlz_xsd_result *res)
{
    res->n = 0;
    res->dropped = 0;
    /* The compiled schema is shared read-only; a validation context is
     * not, so every validation has its own (render runs on worker threads). */
    xmlSchemaValidCtxtPtr vctx = xmlSchemaNewValidCtxt(s->schema);
    if (!vctx) return -1;
    xmlSchemaSetValidStructuredErrors(vctx, on_valid_error, res);
    int rc = xmlSchemaValidateDoc(vctx, doc);
    xmlSchemaFreeValidCtxt(vctx);
    if (rc == 0) return 0;
    return rc > 0 ? 1 : -1;
}

/* ---- retourcodes ---- */

static int code_cmp(const void *a, const void *b)
{
    return strcmp(((const iwlz_code *)a)->code, ((const iwlz_code *)b)->code);
}

static xmlNodePtr find_simple_type(xmlNodePtr root, const char *name)
{
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || !xmlStrEqual(c->name, BAD_CAST "simpleType")) continue;
        xmlChar *n = xmlGetProp(c, BAD_CAST "name");
        int hit = n && xmlStrEqual(n, BAD_CAST name);
        xmlFree(n);
        if (hit) return c;
    }
    return NULL;
}

static int add_code(iwlz_state *st, size_t *cap, xmlNodePtr en)
{
    xmlChar *v = xmlGetProp(en, BAD_CAST "value");
    if (!v) return 0;
    if (st->ncodes == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        iwlz_code *c = realloc(st->codes, nc * sizeof(*c));
        if (!c) {
            xmlFree(v);
            return -1;
        }
        st->codes = c;
        *cap = nc;
    }
    iwlz_code *c = &st->codes[st->ncodes];
    snprintf(c->code, sizeof(c->code), "%s", (char *)v);
    xmlFree(v);
    xmlChar *doc = find_text(en, "documentation");
    c->text = strdup(doc ? (char *)doc : "");
    xmlFree(doc);
    if (!c->text) return -1;
    st->ncodes++;
    return 0;
}

int iwlz_codes_load(iwlz_state *st, const char *path, char *err, size_t errlen)
{
    xmlDocPtr doc =
        xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
    if (!doc) {
        snprintf(err, errlen, "%s: cannot read", path);
        return -1;
    }
    xmlNodePtr st_node = find_simple_type(xmlDocGetRootElement(doc), "LDT_RetourCode");
    xmlNodePtr restr = NULL;
    for (xmlNodePtr c = st_node ? st_node->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST "restriction")) restr = c;
    size_t cap = 0;
    int rc = 0;
    for (xmlNodePtr c = restr ? restr->children : NULL; c && rc == 0; c = c->next)
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST "enumeration"))
            rc = add_code(st, &cap, c);
    xmlFreeDoc(doc);
    if (rc < 0) {
        snprintf(err, errlen, "%s: out of memory reading retourcodes", path);
        return -1;
    }
    if (st->ncodes == 0) {
        snprintf(err, errlen, "%s: no LDT_RetourCode code list found", path);
        return -1;
    }
    qsort(st->codes, st->ncodes, sizeof(*st->codes), code_cmp);
    return 0;
}

void iwlz_codes_free(iwlz_state *st)
{
    for (size_t i = 0; i < st->ncodes; i++)
        free(st->codes[i].text);
    free(st->codes);
    st->codes = NULL;
    st->ncodes = 0;
}

const char *iwlz_code_text(const iwlz_state *st, const char *code)
{
    iwlz_code key;
    snprintf(key.code, sizeof(key.code), "%s", code);
    const iwlz_code *c = bsearch(&key, st->codes, st->ncodes, sizeof(key), code_cmp);
    return c ? c->text : NULL;
}
