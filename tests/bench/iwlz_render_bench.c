/*
 * Benchmark (prints figures, not a test): render + XSD-validate one AW35
 * for N clients (default 20,000) through the plugin's descriptor.
 * Usage: iwlz_render_bench [clients]   (env: ZV_PLUGIN_DIR, ZV_SOURCE_DIR)
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

struct zv_ctx {
    char schema_dir[1024];
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
    return strcmp(n, "release_dir") == 0 ? c->schema_dir : NULL;
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

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000;
    const char *pd = getenv("ZV_PLUGIN_DIR"), *src = getenv("ZV_SOURCE_DIR");
    if (!pd || !src || n <= 0) {
        fprintf(stderr, "set ZV_PLUGIN_DIR and ZV_SOURCE_DIR\n");
        return 2;
    }
    char path[1200];
    snprintf(path, sizeof(path), "%s/fmt_iwlz.so", pd);
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    const zv_plugin_descriptor *d = dl ? dlsym(dl, ZV_PLUGIN_SYMBOL) : NULL;
    if (!d) {
        fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
        return 2;
    }
    zv_ctx ctx;
    snprintf(ctx.schema_dir, sizeof(ctx.schema_dir), "%s/plugins/fmt_iwlz/releases/2.2", src);
    zv_host host = {.size = sizeof(host),
                    .abi_major = ZV_ABI_MAJOR,
                    .abi_minor = ZV_ABI_MINOR,
                    .log = b_log,
                    .cfg_str = b_cfg,
                    .config = b_config,
                    .org = b_org,
                    .add_payload = b_add,
                    .reject_record = b_rej};
    void *st = NULL;
    char err[512], text[1200];
    snprintf(text, sizeof(text), "{\"release_dir\": \"%s\"}", ctx.schema_dir);
    zv_json_doc *doc = zv_json_parse(text, strlen(text), 0, err, sizeof(err));
    zv_optspec spec;
    zv_descriptor_optspec(d, &spec);
    if (!doc || zv_optset_resolve(&ctx.opts, &spec, zv_json_root(doc), NULL, NULL) != 0) {
        fprintf(stderr, "options: %s\n", doc ? "refused" : err);
        return 1;
    }
    double t0 = now_s();
    if (d->create(&ctx, &host, &st, err, sizeof(err)) != 0) {
        fprintf(stderr, "create: %s\n", err);
        return 1;
    }
    double t_create = now_s() - t0;
    zv_record **recs = calloc((size_t)n, sizeof(*recs));
    for (long i = 0; i < n; i++) {
        char bsn[32], besluit[32];
        make_bsn(i, bsn);
        snprintf(besluit, sizeof(besluit), "%ld", 100000 + i);
        zv_record *r = recs[i] = zv_record_new(ZV_KIND_DELIVERY, "bench", besluit, 0);
        set(r, ZV_F_CLIENT_BSN, bsn);
        set(r, ZV_F_CLIENT_BIRTH_DATE, "1940-05-01");
        set(r, ZV_F_CLIENT_SEX, i % 2 ? "1" : "2");
        set(r, ZV_F_CLIENT_FAMILY_NAME, "Jansen");
        set(r, ZV_F_CLIENT_INITIALS, "MA");
        set(r, ZV_F_ENT_LAW, "wlz");
        set(r, ZV_F_ENT_NUMBER, besluit);
        set(r, ZV_F_ENT_FUNDER, "5501");
        set(r, ZV_F_ENT_ZZP_CODE, "756");
        set(r, ZV_F_ENT_START, "2026-10-01");
        set(r, ZV_F_DEL_PROVIDER_AGB, "12345678");
        set(r, ZV_F_DEL_START, "2026-10-05");
        set(r, ZV_F_DEL_LEVERINGSVORM, "4");
        set(r, ZV_F_DEL_LEVERINGSSTATUS, "4");
        set(r, ZV_F_DEL_KLASSE, "KE5");
        set(r, ZV_F_DEL_STATUS, "1");
    }
    struct tm tm = {.tm_year = 126, .tm_mon = 10, .tm_mday = 23, .tm_hour = 12, .tm_isdst = -1};
    zv_batch b = {ZV_SIZED(zv_batch),
                  .destination = "zk-5501",
                  .batch_id = "bench-1",
                  .message = 0,
                  .now = (int64_t)mktime(&tm),
                  .n = (size_t)n,
                  .records = (const zv_record *const *)recs};
    zv_render_out out = {0};
    struct rusage ru0;
    getrusage(RUSAGE_SELF, &ru0);
    t0 = now_s();
    int rc = d->format->render(st, &b, &out);
    double t_render = now_s() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("iwlz AW35 render+XSD-validate: clients=%ld rc=%d payloads=%zu records=%zu "
           "rejected=%zu bytes=%zu\n",
           n, rc, out.payloads, out.records, out.rejected, out.bytes);
    printf("  render+validate: %.3f s (%.1f us/client)  schema load at create(): %.3f s\n",
           t_render, t_render * 1e6 / (double)n, t_create);
    printf("  peak RSS: %.1f MiB (%.1f MiB before render: schemas + %ld input records)\n",
           ru.ru_maxrss / 1024.0, ru0.ru_maxrss / 1024.0, n);
    for (long i = 0; i < n; i++)
        zv_record_free(recs[i]);
    free(recs);
    d->destroy(st);
    zv_optset_free(&ctx.opts);
    zv_json_free(doc);
    return rc == 0 && out.records == (size_t)n ? 0 : 1;
}
