/*
 * The official iWlz business-rule set (iStandaarden XSLT) run in process
 * with libxslt.  A stylesheet is compiled once per process: every plugin
 * instance that names the same file shares one compiled copy (refcounted,
 * under a mutex).  A compiled stylesheet is read-only while transforming,
 * so instances may apply it concurrently, each with its own context.
 *
 * The rule set's output is a rapport (namespace
 * http://www.istandaarden.nl/validatie/1_1/rapport/schema): one r:Fout per
 * violation with r:Code, r:Locatie (an XPath of local names with [n] where
 * siblings share a name) and r:Details.
 */
#include "iwlz.h"

#include <libexslt/exslt.h>
#include <libxslt/transform.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/xsltutils.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAPPORT_NS "http://www.istandaarden.nl/validatie/1_1/rapport/schema"

struct iwlz_rules {
    char *path;
    xsltStylesheetPtr sheet;
    int refs;
    struct iwlz_rules *next;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct iwlz_rules *cache;
static int exslt_done;

typedef struct load_err {
    char *buf;
    size_t len;
} load_err;

/* libxslt reports compile errors through a printf-style callback. */
static void on_xslt_error(void *arg, const char *fmt, ...)
{
    load_err *le = arg;
    if (!le || !le->buf || le->buf[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(le->buf, le->len, fmt, ap);
    va_end(ap);
    size_t l = strlen(le->buf);
    while (l && (le->buf[l - 1] == '\n' || le->buf[l - 1] == ' '))
        le->buf[--l] = 0;
}

iwlz_rules *iwlz_rules_acquire(const char *path, int *compiled, char *err, size_t errlen)
{
    *compiled = 0;
    pthread_mutex_lock(&cache_lock);
    if (!exslt_done) {
        exsltRegisterAll(); /* a later release's rule set may use EXSLT */
        exslt_done = 1;
    }
    for (iwlz_rules *r = cache; r; r = r->next)
        if (strcmp(r->path, path) == 0) {
            r->refs++;
            pthread_mutex_unlock(&cache_lock);
            return r;
        }
    iwlz_rules *r = calloc(1, sizeof(*r));
    char msg[400] = "";
    load_err le = {msg, sizeof(msg)};
    if (r) r->path = strdup(path);
    if (r && r->path) {
        xsltSetGenericErrorFunc(&le, on_xslt_error);
        r->sheet = xsltParseStylesheetFile(BAD_CAST path);
        xsltSetGenericErrorFunc(NULL, NULL);
    }
    if (!r || !r->sheet) {
        snprintf(err, errlen, "%s: the rule set does not compile: %s", path,
                 msg[0] ? msg : (r ? "not a stylesheet" : "out of memory"));
        if (r) free(r->path);
        free(r);
        pthread_mutex_unlock(&cache_lock);
        return NULL;
    }
    r->refs = 1;
    *compiled = 1;
    r->next = cache;
    cache = r;
    pthread_mutex_unlock(&cache_lock);
    return r;
}

void iwlz_rules_release(iwlz_rules *r)
{
    if (!r) return;
    pthread_mutex_lock(&cache_lock);
    if (--r->refs == 0) {
        for (iwlz_rules **p = &cache; *p; p = &(*p)->next)
            if (*p == r) {
                *p = r->next;
                break;
            }
        xsltFreeStylesheet(r->sheet);
        free(r->path);
        free(r);
    }
    pthread_mutex_unlock(&cache_lock);
}

static int is_r(xmlNodePtr n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns &&
           xmlStrEqual(n->ns->href, BAD_CAST RAPPORT_NS) && xmlStrEqual(n->name, BAD_CAST name);
}

static void copy_text(xmlNodePtr n, char *dst, size_t len)
{
    xmlChar *t = xmlNodeGetContent(n);
    const char *s = t ? (const char *)t : "";
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
        s++;
    snprintf(dst, len, "%s", s);
    size_t l = strlen(dst);
    while (l && (dst[l - 1] == ' ' || dst[l - 1] == '\n' || dst[l - 1] == '\t'))
        dst[--l] = 0;
    xmlFree(t);
}

/* Resolves "/Bericht/Clienten/Client[3]/X/Y" in doc: local names, [n]
 * counting same-named element siblings from 1, no [n] meaning the first. */
xmlNodePtr iwlz_locate(xmlDocPtr doc, const char *path)
{
    xmlNodePtr cur = NULL;
    const char *p = path;
    while (p && *p == '/') {
        p++;
        size_t nlen = strcspn(p, "/[");
        char name[128];
        if (nlen == 0 || nlen >= sizeof(name)) return NULL;
        memcpy(name, p, nlen);
        name[nlen] = 0;
        p += nlen;
        long want = 1;
        if (*p == '[') {
            char *end;
            want = strtol(p + 1, &end, 10);
            if (*end != ']' || want < 1) return NULL;
            p = end + 1;
        }
        xmlNodePtr c = cur ? cur->children : xmlDocGetRootElement(doc);
        xmlNodePtr found = NULL;
        for (long seen = 0; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE || !xmlStrEqual(c->name, BAD_CAST name)) continue;
            if (++seen == want) {
                found = c;
                break;
            }
            if (!cur) break; /* the root has no siblings */
        }
        if (!found) return NULL;
        cur = found;
    }
    return p && *p == 0 ? cur : NULL;
}

int iwlz_rules_apply(iwlz_rules *r, xmlDocPtr doc, iwlz_rule_result *res)
{
    memset(res, 0, sizeof(*res));
    xsltTransformContextPtr tc = xsltNewTransformContext(r->sheet, doc);
    if (!tc) return -1;
    xmlDocPtr out = xsltApplyStylesheetUser(r->sheet, doc, NULL, NULL, NULL, tc);
    int failed = tc->state != XSLT_STATE_OK;
    xsltFreeTransformContext(tc);
    if (!out || failed) {
        xmlFreeDoc(out);
        return -1;
    }
    xmlNodePtr root = xmlDocGetRootElement(out);
    if (!is_r(root, "Rapport")) {
        xmlFreeDoc(out);
        return -1;
    }
    for (xmlNodePtr f = root->children; f; f = f->next) {
        if (!is_r(f, "Fouten")) continue;
        for (xmlNodePtr e = f->children; e; e = e->next) {
            if (!is_r(e, "Fout")) continue;
            if (res->n >= IWLZ_MAX_RULE_ERRORS) {
                res->dropped++;
                continue;
            }
            iwlz_rule_error *x = &res->errors[res->n++];
            for (xmlNodePtr c = e->children; c; c = c->next) {
                if (is_r(c, "Code"))
                    copy_text(c, x->code, sizeof(x->code));
                else if (is_r(c, "Details"))
                    copy_text(c, x->details, sizeof(x->details));
                else if (is_r(c, "Locatie") && x->nloc < IWLZ_MAX_LOCATIES) {
                    char loc[512];
                    copy_text(c, loc, sizeof(loc));
                    x->nodes[x->nloc] = iwlz_locate(doc, loc);
                    if (x->nloc == 0) snprintf(x->locatie, sizeof(x->locatie), "%s", loc);
                    x->nloc++;
                }
            }
        }
    }
    xmlFreeDoc(out);
    return res->n ? 1 : 0;
}
