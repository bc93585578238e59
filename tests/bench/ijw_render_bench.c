/*
 * Benchmark (prints figures, not a test): fmt_ijw rendering JW305 starts
 * and then JW307 stops for the same products, at several batch sizes, to
 * show that time per record stays flat (per-batch hash indexes, cached
 * statements of the started-products history) instead of growing with the
 * batch (the pairwise scans before).  One client in five has two products.
 * Usage: ijw_render_bench [N ...]   (default 10000 50000 100000 200000)
 * env: ZV_PLUGIN_DIR; IJW_SCHEMA_DIR=<ijw-3.2 XSDs> also validates each message.
 */
#include <zinvol/optmap.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct zv_ctx {
    const char *schema_dir;
    char state_dir[256];
    zv_optset opts; /* the plugin's options through the daemon's engine */
};
struct zv_render_out {
    size_t payloads, records, bytes, rejected;
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
static const char *b_cfg(zv_ctx *c, const char *n)
{
    if (strcmp(n, "standard") == 0) return "jw";
    if (strcmp(n, "variant") == 0) return "inspanningsgericht";
    if (strcmp(n, "gemeente") == 0) return "0363";
    if (strcmp(n, "schema_dir") == 0) return c->schema_dir;
    return NULL;
}
static int b_bool(zv_ctx *c, const char *n)
{
    (void)c;
    return strcmp(n, "stop_requires_start") == 0;
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
static const char *b_state(zv_ctx *c)
{
    return c->state_dir;
}
static int b_add(zv_render_out *o, const zv_payload_spec *p)
{
    o->payloads++;
    o->records += p->nrecords;
    o->bytes += p->len;
    return 0;
}
static int b_rej(zv_render_out *o, size_t i, const char *r, const char *f, const char *why)
{
    (void)i;
    if (o->rejected++ < 3) fprintf(stderr, "rejected: %s %s %s\n", r, f ? f : "", why);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The n-th valid BSN: 8 digits plus the elfproef check digit. */
static void make_bsn(long n, char out[32])
{
    for (long k = n;; k++) {
        snprintf(out, 32, "%08ld", (10000000 + k * 7) % 100000000);
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

static zv_record **make_records(long n, int stop)
{
    zv_record **recs = calloc((size_t)n, sizeof(*recs));
    long client = 0;
    for (long i = 0; i < n; i++) {
        char bsn[32], nr[32], id[32];
        if (i % 6 != 5) client++; /* every fifth client gets a second product */
        make_bsn(client, bsn);
        snprintf(nr, sizeof(nr), "%ld", 100000 + i);
        snprintf(id, sizeof(id), "L%ld", i);
        zv_record *r = recs[i] = zv_record_new(ZV_KIND_DELIVERY, "bench", id, 0);
        set(r, ZV_F_CLIENT_BSN, bsn);
        set(r, ZV_F_CLIENT_BIRTH_DATE, "2014-05-01");
        set(r, ZV_F_CLIENT_SEX, i % 2 ? "1" : "2");
        set(r, ZV_F_CLIENT_FAMILY_NAME, "Jansen");
        set(r, ZV_F_CLIENT_NAME_PREFIX, "de");
        set(r, ZV_F_ENT_LAW, "jw");
        set(r, ZV_F_ENT_NUMBER, nr);
        set(r, ZV_F_ENT_PRODUCT_CATEGORY, "45");
        set(r, ZV_F_ENT_PRODUCT_CODE, "45A48");
        set(r, ZV_F_ENT_START, "2026-10-01");
        set(r, ZV_F_DEL_START, "2026-10-05");
        set(r, ZV_F_DEL_STATUS, "1");
        if (stop) {
            set(r, ZV_F_DEL_END, "2026-11-10");
            set(r, ZV_F_DEL_END_REASON, "31");
        }
    }
    return recs;
}

/* CPU seconds of this process (user + system): on a shared machine the
 * figure that does not depend on what else runs. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double run(const zv_plugin_descriptor *d, void *st, zv_record **recs, long n, int m,
                  zv_render_out *out, double *cpu)
{
    struct tm tm = {.tm_year = 126, .tm_mon = 10, .tm_mday = 23, .tm_hour = 12, .tm_isdst = -1};
    zv_batch b = {ZV_SIZED(zv_batch),
                  .destination = "gem-0363",
                  .batch_id = m ? "stop-1" : "start-1",
                  .message = m,
                  .now = (int64_t)mktime(&tm),
                  .n = (size_t)n,
                  .records = (const zv_record *const *)recs};
    double t0 = now_s(), c0 = cpu_s();
    if (d->format->render(st, &b, out) != 0) return -1;
    *cpu = cpu_s() - c0;
    return now_s() - t0;
}

static int bench(const zv_plugin_descriptor *d, long n, const char *schema_dir)
{
    zv_ctx ctx = {.schema_dir = schema_dir};
    snprintf(ctx.state_dir, sizeof(ctx.state_dir), "/tmp/ijw-bench-XXXXXX");
    if (!mkdtemp(ctx.state_dir)) return 1;
    zv_host host = {.size = sizeof(host),
                    .abi_major = ZV_ABI_MAJOR,
                    .abi_minor = ZV_ABI_MINOR,
                    .log = b_log,
                    .cfg_str = b_cfg,
                    .cfg_bool = b_bool,
                    .config = b_config,
                    .org = b_org,
                    .state_dir = b_state,
                    .add_payload = b_add,
                    .reject_record = b_rej};
    void *st = NULL;
    char err[512], text[1024];
    snprintf(text, sizeof(text), "{\"gemeente\": \"0363\"%s%s%s}",
             schema_dir ? ", \"schema_dir\": \"" : "", schema_dir ? schema_dir : "",
             schema_dir ? "\"" : "");
    zv_json_doc *doc = zv_json_parse(text, strlen(text), 0, err, sizeof(err));
    zv_optspec spec;
    zv_descriptor_optspec(d, &spec);
    if (!doc || zv_optset_resolve(&ctx.opts, &spec, zv_json_root(doc), NULL, NULL) != 0) {
        fprintf(stderr, "options: %s\n", doc ? "refused" : err);
        return 1;
    }
    if (d->create(&ctx, &host, &st, err, sizeof(err)) != 0) {
        fprintf(stderr, "create: %s\n", err);
        return 1;
    }
    zv_record **starts = make_records(n, 0), **stops = make_records(n, 1);
    zv_render_out o5 = {0}, o7 = {0};
    double c5, c7;
    double t5 = run(d, st, starts, n, 0, &o5, &c5), t7 = run(d, st, stops, n, 1, &o7, &c7);
    printf("%9ld %5s %8.2f %8.2f %9.2f %8.2f %8.2f %9.2f %9zu %8zu\n", n, schema_dir ? "yes" : "no",
           t5, c5 * 1e6 / (double)n, t5 * 1e6 / (double)n, t7, c7 * 1e6 / (double)n,
           t7 * 1e6 / (double)n, o5.payloads, o5.rejected + o7.rejected);
    fflush(stdout);
    for (long i = 0; i < n; i++) {
        zv_record_free(starts[i]);
        zv_record_free(stops[i]);
    }
    free(starts);
    free(stops);
    d->destroy(st);
    zv_optset_free(&ctx.opts);
    zv_json_free(doc);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", ctx.state_dir);
    return system(cmd) == 0 && t5 >= 0 && t7 >= 0 && o5.records == (size_t)n &&
                   o7.records == (size_t)n
               ? 0
               : 1;
}

int main(int argc, char **argv)
{
    const char *pd = getenv("ZV_PLUGIN_DIR"), *xsd = getenv("IJW_SCHEMA_DIR");
    char path[1200];
    snprintf(path, sizeof(path), "%s/fmt_ijw.so", pd ? pd : ".");
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    const zv_plugin_descriptor *d = dl ? dlsym(dl, ZV_PLUGIN_SYMBOL) : NULL;
    if (!d) {
        fprintf(stderr, "cannot load %s: %s (set ZV_PLUGIN_DIR)\n", path, dlerror());
        return 2;
    }
    static const long sizes[] = {10000, 50000, 100000, 200000};
    printf("fmt_ijw: JW305 starts, then JW307 stops of the same products (one batch each)\n");
    printf("%9s %5s %8s %8s %9s %8s %8s %9s %9s %8s\n", "records", "XSD", "305 s", "cpu us/r",
           "wall us/r", "307 s", "cpu us/r", "wall us/r", "messages", "rejected");
    int rc = 0;
    for (int x = 0; x < (xsd ? 2 : 1); x++)
        for (int i = 0; i < (argc > 1 ? argc - 1 : 4); i++)
            rc |= bench(d, argc > 1 ? atol(argv[i + 1]) : sizes[i], x ? xsd : NULL);
    return rc;
}
