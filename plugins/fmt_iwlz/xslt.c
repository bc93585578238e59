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
#include <libxslt/documents.h>
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
    iwlz_ns_set only; /* part of the key: a copy pruned for other namespaces differs */
    size_t pruned, rewritten;
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

/* While compiling under cache_lock: the namespaces to prune for, and how
 * many templates the loader left out so far. */
static const iwlz_ns_set *pruning;
static const iwlz_rewrite *rewriting;
static iwlz_uri_set *imported; /* NULL: every import is compiled */
static size_t pruned_now, rewritten_now;
static xsltDocLoaderFunc next_loader;

/* libxslt loads every stylesheet file (the top one, each xsl:include and
 * xsl:import) through xsltDocDefaultLoader; this one takes the document
 * from the loader it replaced and prunes stylesheet documents only. */
static xmlDocPtr pruning_loader(const xmlChar *uri, xmlDictPtr dict, int options, void *ctxt,
                                xsltLoadType type)
{
    xmlDocPtr doc = next_loader(uri, dict, options, ctxt, type);
    if (doc && pruning && (type == XSLT_LOAD_START || type == XSLT_LOAD_STYLESHEET)) {
        pruned_now += iwlz_prune_stylesheet(doc, pruning);
        rewritten_now += iwlz_rewrite_apply(rewriting, doc);
        if (imported) iwlz_drop_repeated_imports(doc, imported);
    }
    return doc;
}

static int same_set(const iwlz_ns_set *a, const iwlz_ns_set *b)
{
    if (a->n != b->n || strcmp(a->xsd, b->xsd) != 0) return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->uri[i], b->uri[i]) != 0) return 0;
    return 1;
}

/* Compiles path, pruned for only when it is not empty, and with the
 * nameless patterns named after only->xsd when it is given (rules_rewrite.c). */
static xsltStylesheetPtr compile(const char *path, const iwlz_ns_set *only, size_t *pruned,
                                 size_t *rewritten)
{
    pruned_now = rewritten_now = 0;
    size_t nalts = 0;
    iwlz_rewrite *plan = only->n ? iwlz_rewrite_plan(path, only, &nalts) : NULL;
    iwlz_uri_set *seen =
        only->n && iwlz_imports_are_a_chain(path) ? calloc(1, sizeof(*seen)) : NULL;
    if (only->n) {
        imported = seen;
        next_loader = xsltDocDefaultLoader;
        pruning = only;
        rewriting = plan;
        xsltSetLoaderFunc(pruning_loader);
    }
    xsltStylesheetPtr sheet = xsltParseStylesheetFile(BAD_CAST path);
    if (only->n) {
        xsltSetLoaderFunc(next_loader);
        pruning = NULL;
        rewriting = NULL;
        imported = NULL;
    }
    free(seen);
    iwlz_rewrite_free(plan);
    *pruned = pruned_now;
    *rewritten = rewritten_now;
    return sheet;
}

iwlz_rules *iwlz_rules_acquire(const char *path, const iwlz_ns_set *only_in, int *compiled,
                               size_t *pruned, char *err, size_t errlen)
{
    static const iwlz_ns_set none;
    const iwlz_ns_set *only = only_in ? only_in : &none;
    *compiled = 0;
    *pruned = 0;
    pthread_mutex_lock(&cache_lock);
    if (!exslt_done) {
        exsltRegisterAll(); /* a later release's rule set may use EXSLT */
        exslt_done = 1;
    }
    for (iwlz_rules *r = cache; r; r = r->next)
        if (strcmp(r->path, path) == 0 && same_set(&r->only, only)) {
            r->refs++;
            *pruned = r->pruned;
            pthread_mutex_unlock(&cache_lock);
            return r;
        }
    iwlz_rules *r = calloc(1, sizeof(*r));
    char msg[400] = "";
    load_err le = {msg, sizeof(msg)};
    if (r) r->path = strdup(path);
    if (r && r->path) {
        xsltSetGenericErrorFunc(&le, on_xslt_error);
        r->only = *only;
        r->sheet = compile(path, only, &r->pruned, &r->rewritten);
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
    *pruned = r->pruned;
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

size_t iwlz_rules_rewritten(const iwlz_rules *r)
{
    return r ? r->rewritten : 0;
}

void *iwlz_rules_sheet(iwlz_rules *r)
{
    return r ? r->sheet : NULL;
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

/* One transformation of doc; its r:Fout entries are appended to res, their
 * r:Locatie resolved in doc as it is now.  0, or -1 when it failed. */
static int apply_one(iwlz_rules *r, xmlDocPtr doc, iwlz_rule_result *res)
{
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
    return 0;
}

/* The rule set is quadratic in the clients of a message: TR101 compares
 * every Client's Bsn with every other one (measured with xsltproc on AW35:
 * 100 clients 0.5 s, 400 clients 3.1 s, 800 clients 10.5 s).  So a large
 * message is judged CHUNK clients at a time, the others unlinked meanwhile,
 * which gives the same errors: every other rule of AW35/AW39 looks only
 * inside one Client or at the header, and the one check across clients
 * (no Bsn twice) holds by construction, since a message has one Client per
 * BSN (render.c, build()).  Header errors come once per chunk; rejecting
 * twice is harmless.
 * Why 8: within a chunk of c clients TR101 still makes (c-1)/2 Bsn
 * comparisons per client (about 40 us each), while every transformation
 * costs a fixed part (the context, the header and its checks; about 0.6 ms);
 * tests/bench/iwlz_judge_bench measured 4-8 clients a chunk cheapest per
 * record, 32 about 1.4x and 128 about 2x as dear. */
#define CHUNK 8

static xmlNodePtr clienten_of(xmlDocPtr doc)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    for (xmlNodePtr c = root ? root->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST "Clienten")) return c;
    return NULL;
}

/* The rule set's string functions (normalize-space, substring-before,
 * concat) each start a buffer of libxml2's default size, 4 KiB on this
 * thread; a request that large makes glibc's malloc consolidate its fast
 * bins every time, which was a quarter of the judge's CPU.  A small
 * starting size only changes how the buffers grow, not what they hold
 * (tests/bench/iwlz_judge_bench --profile: about 1.4x cheaper with 256). */
#define JUDGE_BUFFER_SIZE 256

static int apply_chunks(iwlz_rules *r, xmlDocPtr doc, iwlz_rule_result *res);

int iwlz_rules_apply(iwlz_rules *r, xmlDocPtr doc, iwlz_rule_result *res)
{
    int saved = xmlDefaultBufferSize; /* this thread's */
    xmlDefaultBufferSize = JUDGE_BUFFER_SIZE;
    int rc = apply_chunks(r, doc, res);
    xmlDefaultBufferSize = saved;
    return rc;
}

static int apply_chunks(iwlz_rules *r, xmlDocPtr doc, iwlz_rule_result *res)
{
    memset(res, 0, sizeof(*res));
    xmlNodePtr clienten = clienten_of(doc);
    size_t n = clienten ? xmlChildElementCount(clienten) : 0;
    if (n <= CHUNK) {
        if (apply_one(r, doc, res) < 0) return -1;
        return res->n ? 1 : 0;
    }
    xmlNodePtr *kids = malloc(n * sizeof(*kids));
    if (!kids) return -1;
    size_t k = 0;
    for (xmlNodePtr c = clienten->children, next; c; c = next) {
        next = c->next;
        xmlUnlinkNode(c);
        if (c->type == XML_ELEMENT_NODE && k < n)
            kids[k++] = c;
        else
            xmlFreeNode(c); /* whitespace: the renderer writes none */
    }
    int rc = 0;
    for (size_t from = 0; from < k && rc == 0; from += CHUNK) {
        size_t to = from + CHUNK < k ? from + CHUNK : k;
        for (size_t i = from; i < to; i++)
            xmlAddChild(clienten, kids[i]);
        rc = apply_one(r, doc, res);
        for (size_t i = from; i < to; i++)
            xmlUnlinkNode(kids[i]);
    }
    for (size_t i = 0; i < k; i++)
        xmlAddChild(clienten, kids[i]);
    free(kids);
    if (rc < 0) return -1;
    return res->n ? 1 : 0;
}
