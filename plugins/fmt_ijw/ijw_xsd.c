/*
 * The official iJw / iWmo 3.2 XSDs, when the user points schema_dir at
 * them (they are downloadable from the iStandaarden site; their terms do
 * not allow us to bundle them).  Each schema is parsed once at create()
 * and every 305/307/323 is validated before it is queued.
 */
#include "ijw.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <string.h>
#include <zinvol/util.h>

#if LIBXML_VERSION >= 21200
#define IJW_CONST_ERR const
#else
#define IJW_CONST_ERR
#endif

typedef struct first_error {
    char *buf;
    size_t len;
} first_error;

static void trim_nl(char *s)
{
    size_t l = strlen(s);
    while (l && (s[l - 1] == '\n' || s[l - 1] == ' '))
        s[--l] = '\0';
}

static void on_load_error(void *arg, IJW_CONST_ERR xmlError *e)
{
    first_error *fe = arg;
    if (fe->buf[0]) return;
    snprintf(fe->buf, fe->len, "%s:%d: %s", e->file ? e->file : "?", e->line,
             e->message ? e->message : "schema error");
    trim_nl(fe->buf);
}

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

/* The versions the XSD declares in its appinfo, for the header's XsdVersie. */
static void read_versions(ijw_schema *s, const char *path)
{
    xmlDocPtr doc =
        xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
    if (!doc) return;
    xmlChar *b = find_text(xmlDocGetRootElement(doc), "BerichtXsdVersie");
    xmlChar *bs = find_text(xmlDocGetRootElement(doc), "BasisschemaXsdVersie");
    if (b) snprintf(s->bericht_versie, sizeof(s->bericht_versie), "%s", (char *)b);
    if (bs) snprintf(s->basis_versie, sizeof(s->basis_versie), "%s", (char *)bs);
    xmlFree(b);
    xmlFree(bs);
    xmlFreeDoc(doc);
}

static int load_one(ijw_schema *s, const char *dir, const char *file, char *err, size_t errlen)
{
    char path[4096];
    snprintf(s->file, sizeof(s->file), "%s", file);
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    err[0] = '\0';
    first_error fe = {err, errlen};
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);
    if (!pc) {
        snprintf(err, errlen, "schema_dir: %s: cannot create a schema parser", path);
        return -1;
    }
    xmlSchemaSetParserStructuredErrors(pc, on_load_error, &fe);
    s->schema = xmlSchemaParse(pc);
    xmlSchemaFreeParserCtxt(pc);
    if (!s->schema) {
        if (!err[0]) snprintf(err, errlen, "schema_dir: %s: cannot load the schema", path);
        return -1;
    }
    s->vctx = xmlSchemaNewValidCtxt(s->schema);
    if (!s->vctx) {
        snprintf(err, errlen, "schema_dir: %s: out of memory", path);
        return -1;
    }
    read_versions(s, path);
    return 0;
}

int ijw_schemas_load(ijw_fmt *f, char *err, size_t errlen)
{
    static const char *const files[2][IJW_NMSG] = {{"JW305.xsd", "JW307.xsd", "JW323.xsd"},
                                                   {"WMO305.xsd", "WMO307.xsd", "WMO323.xsd"}};
    if (!f->schema_dir) return 0;
    for (int m = 0; m < IJW_NMSG; m++)
        if (load_one(&f->xsd[m], f->schema_dir, files[f->wmo][m], err, errlen) != 0) {
            ijw_schemas_free(f);
            return -1;
        }
    return 0;
}

void ijw_schemas_free(ijw_fmt *f)
{
    for (int m = 0; m < IJW_NMSG; m++) {
        if (f->xsd[m].vctx) xmlSchemaFreeValidCtxt(f->xsd[m].vctx);
        if (f->xsd[m].schema) xmlSchemaFree(f->xsd[m].schema);
        f->xsd[m].vctx = NULL;
        f->xsd[m].schema = NULL;
    }
}

typedef struct valid_arg {
    ijw_xsd_error_cb cb;
    void *arg;
    int n;
} valid_arg;

static void on_valid_error(void *arg, IJW_CONST_ERR xmlError *e)
{
    valid_arg *va = arg;
    char msg[400];
    snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "schema error");
    trim_nl(msg);
    zv_bsn_scrub(msg);
    va->n++;
    va->cb(va->arg, e->node && ((xmlNodePtr)e->node)->type == XML_ELEMENT_NODE ? e->node : NULL,
           msg);
}

int ijw_schema_validate(ijw_schema *s, xmlDocPtr doc, ijw_xsd_error_cb cb, void *arg)
{
    valid_arg va = {cb, arg, 0};
    xmlSchemaSetValidStructuredErrors(s->vctx, on_valid_error, &va);
    int rc = xmlSchemaValidateDoc(s->vctx, doc);
    xmlSchemaSetValidStructuredErrors(s->vctx, NULL, NULL);
    if (rc == 0) return 0;
    return rc > 0 && va.n > 0 ? 1 : -1;
}
