/*
 * Benchmark (prints figures, not a test): what the official iWlz judge
 * costs per record as a function of the message size.  One AW35 Client
 * rendered by the plugin (so it is the real renderer's output and passes
 * the judge) is copied into messages of N clients, each with its own BSN;
 * every message is then judged the way fmt_iwlz does and each step timed:
 *   parse      the serialised message read back (what a receiver does;
 *              zinvol itself judges its tree and never reparses)
 *   xsd        xmlSchemaValidateDoc with the release's AW35.xsd
 *   xslt       AW35.xsl over the whole message (skipped above --whole-max,
 *              as it is quadratic in the clients: TR101)
 *   xslt/C     the same stylesheet over C clients at a time, as xslt.c does
 *   serialise  xmlDocDumpFormatMemoryEnc (the payload)
 * Usage: iwlz_judge_bench [--sizes 10,100,500,2250] [--chunks 1,8,32,128]
 *                         [--whole-max 500] [--dump FILE] [--xslt AW35.xsl]
 *                         [--profile SECONDS: only the plugin's copy, first size and chunk]
 * (env: ZV_PLUGIN_DIR, ZV_SOURCE_DIR)
 */
#include "../../plugins/fmt_iwlz/iwlz.h"

#include <zinvol/optmap.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

#include <dlfcn.h>
#include <malloc.h>
#include <libexslt/exslt.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxslt/transform.h>
#include <libxslt/xsltutils.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct zv_ctx {
    char rel[1024];
    zv_optset opts;
};
struct zv_render_out {
    char *msg; /* the first payload, NUL-terminated */
    size_t len;
};

static void b_log(zv_ctx *c, zv_log_level l, const char *fmt, ...)
{
    (void)c;
    if (l > ZV_LOG_WARN) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
static const void *b_config(zv_ctx *c)
{
    return c->opts.conf;
}
static const char *b_org(zv_ctx *c, const char *k)
{
    (void)c;
    return strcmp(k, "agb") == 0 ? "12345678" : NULL;
}
static int b_add(zv_render_out *o, const zv_payload_spec *p)
{
    if (o->msg) return 0;
    o->msg = malloc(p->len + 1);
    if (!o->msg) return -1;
    memcpy(o->msg, p->data, p->len);
    o->msg[p->len] = 0;
    o->len = p->len;
    return 0;
}
static int b_rej(zv_render_out *o, size_t i, const char *r, const char *f, const char *why)
{
    (void)o, (void)i;
    fprintf(stderr, "rejected: %s %s %s\n", r, f ? f : "", why);
    return 0;
}

/* CPU time of this thread: the figure per core, whatever else the
 * machine runs meanwhile. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Distinct BSNs: 8 digits plus the elfproef check digit, in order; *state
 * is the last 8-digit stem used (start with 0). */
static void next_bsn(long *state, char out[16])
{
    for (;;) {
        long k = ++*state;
        snprintf(out, 16, "%08ld", 10000000 + k);
        int sum = 0;
        for (int i = 0; i < 8; i++)
            sum += (out[i] - '0') * (9 - i);
        int d = sum % 11;
        if (d == 10) continue;
        out[8] = (char)('0' + d);
        out[9] = 0;
        return;
    }
}

static void set(zv_record *r, zv_field_id id, const char *v)
{
    zv_record_set(r, id, v, strlen(v), NULL);
}

/* One AW35 with one client, from the plugin itself. */
static char *render_one_client(const char *plugin_dir, const char *src, char *rel, size_t rel_len)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/fmt_iwlz.so", plugin_dir);
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    const zv_plugin_descriptor *d = dl ? dlsym(dl, ZV_PLUGIN_SYMBOL) : NULL;
    if (!d) {
        fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
        return NULL;
    }
    static zv_ctx ctx;
    snprintf(ctx.rel, sizeof(ctx.rel), "%s/plugins/fmt_iwlz/releases/2.2", src);
    snprintf(rel, rel_len, "%s", ctx.rel);
    zv_host host = {.size = sizeof(host),
                    .abi_major = ZV_ABI_MAJOR,
                    .abi_minor = ZV_ABI_MINOR,
                    .log = b_log,
                    .config = b_config,
                    .org = b_org,
                    .add_payload = b_add,
                    .reject_record = b_rej};
    char err[512], text[1200];
    snprintf(text, sizeof(text), "{\"release_dir\": \"%s\"}", ctx.rel);
    zv_json_doc *doc = zv_json_parse(text, strlen(text), 0, err, sizeof(err));
    zv_optspec spec;
    zv_descriptor_optspec(d, &spec);
    void *st = NULL;
    if (!doc || zv_optset_resolve(&ctx.opts, &spec, zv_json_root(doc), NULL, NULL) != 0 ||
        d->create(&ctx, &host, &st, err, sizeof(err)) != 0) {
        fprintf(stderr, "plugin: %s\n", err);
        return NULL;
    }
    zv_record *r = zv_record_new(ZV_KIND_DELIVERY, "bench", "100000", 0);
    set(r, ZV_F_CLIENT_BSN, "999990019");
    set(r, ZV_F_CLIENT_BIRTH_DATE, "1940-05-01");
    set(r, ZV_F_CLIENT_SEX, "2");
    set(r, ZV_F_CLIENT_FAMILY_NAME, "Jansen");
    set(r, ZV_F_CLIENT_INITIALS, "MA");
    set(r, ZV_F_ENT_LAW, "wlz");
    set(r, ZV_F_ENT_NUMBER, "100000");
    set(r, ZV_F_ENT_FUNDER, "5501");
    set(r, ZV_F_ENT_ZZP_CODE, "756");
    set(r, ZV_F_ENT_START, "2026-10-01");
    set(r, ZV_F_DEL_PROVIDER_AGB, "12345678");
    set(r, ZV_F_DEL_START, "2026-10-05");
    set(r, ZV_F_DEL_LEVERINGSVORM, "4");
    set(r, ZV_F_DEL_LEVERINGSSTATUS, "4");
    set(r, ZV_F_DEL_KLASSE, "KE5");
    set(r, ZV_F_DEL_STATUS, "1");
    struct tm tm = {.tm_year = 126, .tm_mon = 10, .tm_mday = 23, .tm_hour = 12, .tm_isdst = -1};
    const zv_record *recs[1] = {r};
    zv_batch b = {ZV_SIZED(zv_batch), .destination = "zk-5501",    .batch_id = "bench-1",
                  .message = 0,       .now = (int64_t)mktime(&tm), .n = 1,
                  .records = recs};
    zv_render_out out = {0};
    int rc = d->format->render(st, &b, &out);
    zv_record_free(r);
    d->destroy(st);
    zv_optset_free(&ctx.opts);
    zv_json_free(doc);
    if (rc != 0 || !out.msg) fprintf(stderr, "render failed\n");
    return rc == 0 ? out.msg : NULL;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST name)) return c;
    return NULL;
}

/* A message of n clients: the template's Client copied n times, BSN k. */
static xmlDocPtr make_message(xmlDocPtr tpl, long n)
{
    xmlDocPtr doc = xmlCopyDoc(tpl, 1);
    xmlNodePtr clienten = child(xmlDocGetRootElement(doc), "Clienten");
    xmlNodePtr one = child(clienten, "Client");
    xmlUnlinkNode(one);
    long stem = 0;
    for (long k = 0; k < n; k++) {
        xmlNodePtr c = xmlDocCopyNode(one, doc, 1);
        char bsn[16];
        next_bsn(&stem, bsn);
        xmlNodeSetContent(child(c, "Bsn"), BAD_CAST bsn);
        xmlAddChild(clienten, c);
    }
    xmlFreeNode(one);
    return doc;
}

/* Number of r:Fout in a rapport. */
static int count_errors(xmlDocPtr out)
{
    xmlNodePtr fouten = child(xmlDocGetRootElement(out), "Fouten");
    int n = 0;
    for (xmlNodePtr c = fouten ? fouten->children : NULL; c; c = c->next)
        n += c->type == XML_ELEMENT_NODE;
    return n;
}

static int judge_whole(xsltStylesheetPtr sheet, xmlDocPtr doc)
{
    xmlDocPtr out = xsltApplyStylesheet(sheet, doc, NULL);
    int n = out ? count_errors(out) : -1;
    xmlFreeDoc(out);
    return n;
}

/* As xslt.c: the clients unlinked, then judged c at a time. */
static int judge_chunked(xsltStylesheetPtr sheet, xmlDocPtr doc, long c)
{
    xmlNodePtr clienten = child(xmlDocGetRootElement(doc), "Clienten");
    long n = (long)xmlChildElementCount(clienten);
    xmlNodePtr *kids = malloc((size_t)n * sizeof(*kids));
    long k = 0;
    for (xmlNodePtr x = clienten->children, next; x; x = next) {
        next = x->next;
        xmlUnlinkNode(x);
        if (x->type == XML_ELEMENT_NODE && k < n)
            kids[k++] = x;
        else
            xmlFreeNode(x);
    }
    int errors = 0;
    for (long from = 0; from < k; from += c) {
        long to = from + c < k ? from + c : k;
        for (long i = from; i < to; i++)
            xmlAddChild(clienten, kids[i]);
        int e = judge_whole(sheet, doc);
        errors = e < 0 || errors < 0 ? -1 : errors + e;
        for (long i = from; i < to; i++)
            xmlUnlinkNode(kids[i]);
    }
    for (long i = 0; i < k; i++)
        xmlAddChild(clienten, kids[i]);
    free(kids);
    return errors;
}

static int parse_list(const char *s, long *out, int max)
{
    int n = 0;
    while (s && *s && n < max) {
        out[n++] = strtol(s, (char **)&s, 10);
        if (*s == ',') s++;
    }
    return n;
}

/* Repeats fn until about 0.3 s have passed; returns seconds per call. */
#define TIMED(var, reps, expr)                                                                     \
    do {                                                                                           \
        double t0_ = now_s();                                                                      \
        (reps) = 0;                                                                                \
        do {                                                                                       \
            expr;                                                                                  \
            (reps)++;                                                                              \
        } while (now_s() - t0_ < 0.3);                                                             \
        (var) = (now_s() - t0_) / (reps);                                                          \
    } while (0)

int main(int argc, char **argv)
{
    long sizes[16] = {10, 100, 500, 2250}, chunks[16] = {1, 8, 32, 128};
    int nsizes = 4, nchunks = 4;
    long whole_max = 500;
    const char *dump = NULL, *xslt = NULL;
    long profile = 0; /* seconds of the plugin's copy alone (for perf), then exit */
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--sizes") == 0)
            nsizes = parse_list(argv[i + 1], sizes, 16);
        else if (strcmp(argv[i], "--chunks") == 0)
            nchunks = parse_list(argv[i + 1], chunks, 16);
        else if (strcmp(argv[i], "--whole-max") == 0)
            whole_max = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--dump") == 0)
            dump = argv[i + 1];
        else if (strcmp(argv[i], "--xslt") == 0)
            xslt = argv[i + 1];
        else if (strcmp(argv[i], "--profile") == 0)
            profile = atol(argv[i + 1]);
    }
    const char *pd = getenv("ZV_PLUGIN_DIR"), *src = getenv("ZV_SOURCE_DIR");
    if (!pd || !src) {
        fprintf(stderr, "set ZV_PLUGIN_DIR and ZV_SOURCE_DIR\n");
        return 2;
    }
    char rel[1024], path[1200];
    char *one = render_one_client(pd, src, rel, sizeof(rel));
    if (!one) return 1;
    xmlDocPtr tpl = xmlReadMemory(one, (int)strlen(one), "aw35.xml", NULL, XML_PARSE_NOBLANKS);
    free(one);
    snprintf(path, sizeof(path), "%s/xsd/AW35.xsd", rel);
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);
    xmlSchemaPtr schema = pc ? xmlSchemaParse(pc) : NULL;
    xmlSchemaFreeParserCtxt(pc);
    exsltRegisterAll();
    if (xslt)
        snprintf(path, sizeof(path), "%s", xslt);
    else
        snprintf(path, sizeof(path), "%s/xslt/wlz/2_2/AW35.xsl", rel);
    double t0 = now_s();
    size_t heap0 = mallinfo2().uordblks;
    xsltStylesheetPtr sheet = xsltParseStylesheetFile(BAD_CAST path);
    double t_compile = now_s() - t0;
    size_t heap1 = mallinfo2().uordblks;
    /* The plugin's compiled copy: pruned for AW35's namespaces. */
    char xsd[1200], err[512];
    snprintf(xsd, sizeof(xsd), "%s/xsd/AW35.xsd", rel);
    iwlz_ns_set only;
    int compiled;
    size_t pruned = 0;
    iwlz_rules *rules = iwlz_closed_namespaces(xsd, &only) == 0
                            ? iwlz_rules_acquire(path, &only, &compiled, &pruned, err, sizeof(err))
                            : NULL;
    size_t heap2 = mallinfo2().uordblks;
    printf("heap of the compiled stylesheet: whole %.1f MB, the plugin's copy %.1f MB\n",
           (double)(heap1 - heap0) / 1048576.0, (double)(heap2 - heap1) / 1048576.0);
    if (!tpl || !schema || !sheet || !rules) {
        fprintf(stderr, "cannot load the template, %s or AW35.xsd\n", path);
        return 1;
    }
    printf("official iWlz judge per record (AW35, one product per client); stylesheet "
           "compiled once in %.3f s; pruned copy without %zu templates, %zu given element names\n",
           t_compile, pruned, iwlz_rules_rewritten(rules));
    {
        /* The fixed part of one transformation: the header alone. */
        xmlDocPtr empty = make_message(tpl, 0);
        double t_w, t_p;
        int reps;
        TIMED(t_w, reps, judge_whole(sheet, empty));
        TIMED(t_p, reps, judge_whole(iwlz_rules_sheet(rules), empty));
        printf("one transformation of a message without clients (the fixed part): %.0f us, "
               "pruned %.0f us\n",
               t_w * 1e6, t_p * 1e6);
        xmlFreeDoc(empty);
    }
    /* as iwlz_rules_apply does (xslt.c, JUDGE_BUFFER_SIZE); ZV_BUFSIZE to compare */
    xmlDefaultBufferSize = getenv("ZV_BUFSIZE") ? atoi(getenv("ZV_BUFSIZE")) : 256;
    if (profile > 0) {
        xmlDocPtr doc = make_message(tpl, sizes[0]);
        double t0p = now_s();
        long runs = 0;
        while (now_s() - t0p < (double)profile) {
            judge_chunked(iwlz_rules_sheet(rules), doc, chunks[0]);
            runs++;
        }
        printf("profile: %ld runs of %ld clients, %ld a chunk, %.1f us per record\n", runs,
               sizes[0], chunks[0], (now_s() - t0p) * 1e6 / ((double)runs * (double)sizes[0]));
        xmlFreeDoc(doc);
        return 0;
    }
    printf("%8s %10s %10s %10s %12s", "clients", "parse", "xsd", "serialise", "xslt-whole");
    for (int c = 0; c < nchunks; c++) {
        char h[32];
        snprintf(h, sizeof(h), "xslt/%ld", chunks[c]);
        printf(" %10s", h);
    }
    for (int c = 0; c < nchunks; c++) {
        char h[32];
        snprintf(h, sizeof(h), "pruned/%ld", chunks[c]);
        printf(" %10s", h);
    }
    printf("   (CPU microseconds per record)\n");
    int status = 0;
    for (int s = 0; s < nsizes; s++) {
        long n = sizes[s];
        xmlDocPtr doc = make_message(tpl, n);
        xmlChar *mem = NULL;
        int size = 0, reps;
        double t_ser, t_parse, t_xsd, t_whole = -1;
        TIMED(t_ser, reps, {
            xmlFree(mem);
            xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 1);
        });
        if (dump && s == nsizes - 1) {
            FILE *f = fopen(dump, "w");
            if (f) fwrite(mem, 1, (size_t)size, f);
            if (f) fclose(f);
        }
        TIMED(t_parse, reps, xmlFreeDoc(xmlReadMemory((char *)mem, size, "m.xml", NULL, 0)));
        int xsd_rc = 0;
        TIMED(t_xsd, reps, {
            xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(schema);
            xsd_rc |= xmlSchemaValidateDoc(v, doc);
            xmlSchemaFreeValidCtxt(v);
        });
        int errs = 0;
        if (n <= whole_max) TIMED(t_whole, reps, errs |= judge_whole(sheet, doc));
        printf("%8ld %10.1f %10.1f %10.1f", n, t_parse * 1e6 / n, t_xsd * 1e6 / n, t_ser * 1e6 / n);
        if (t_whole >= 0)
            printf(" %12.1f", t_whole * 1e6 / n);
        else
            printf(" %12s", "-");
        for (int c = 0; c < nchunks; c++) {
            double t;
            TIMED(t, reps, errs |= judge_chunked(sheet, doc, chunks[c]));
            printf(" %10.1f", t * 1e6 / n);
            fflush(stdout);
        }
        for (int c = 0; c < nchunks; c++) {
            double t;
            TIMED(t, reps, errs |= judge_chunked(iwlz_rules_sheet(rules), doc, chunks[c]));
            printf(" %10.1f", t * 1e6 / n);
            fflush(stdout);
        }
        printf("\n");
        if (xsd_rc != 0 || errs != 0) {
            fprintf(stderr, "the message of %ld clients is not accepted (xsd %d, rules %d)\n", n,
                    xsd_rc, errs);
            status = 1;
        }
        xmlFree(mem);
        xmlFreeDoc(doc);
    }
    xsltFreeStylesheet(sheet);
    iwlz_rules_release(rules);
    xmlSchemaFree(schema);
    xmlFreeDoc(tpl);
    return status;
}
