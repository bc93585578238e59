/*
 * Signals benchmark (prints figures; not a timed test), issue 16:
 *
 *   signals_bench [records]      (default 1,000,000)
 *
 * Two runs over the same synthetic youth-care export, in memory: (a) the
 * main path for a record-level destination - mapping (zv_mapping_apply, the
 * mapping the filedrop source would use) and minimising against
 * cbs-jeugd.json as the loop's route does it (zv_minimise_view, then the
 * kept values encoded for staging); (b) the same plus a signals destination
 * - minimising against signalen-jeugd.json and the real fmt_signals.so counting every
 * record into its state (conf/signals/gemeente-jeugd.json, six
 * measures) and rendering the running counts, in batches of 5000 (the
 * policy's max_records), through the core's render path on the testbed
 * (each batch staged, rendered by zv_pipeline_flush, its payloads put in
 * the outbox).  The counting figure is the format's render() CPU time as
 * the core measures it (zv_dest_rt.render_cpu_ns, the thread's CPU clock
 * around render), so the testbed's own staging and reading back are not in
 * it.  Only the CPU time of mapping, minimising and
 * counting is measured, not making the input.  Prints both, the ratio and
 * whether (b) stays within 10% of (a); and, to show where the difference
 * goes, (b) without the counting (the signals destination's minimiser
 * alone), and the counting alone as a share of (a).  CPU and wall time are
 * both printed (wall: of the same measured parts).  The daemon's whole run
 * with and without a signals destination: tests/bench/signals_daemon_bench.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <zinvol/json.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

#include "core/runtime_int.h"
#include "zvtb.h"
#include "catalogue/catalogue.h"
#include "mapping/mapping.h"

#ifndef ZV_SRC_DIR
#define ZV_SRC_DIR "."
#endif
#define BATCH 5000
#define NF 14

static const char MAPPING[] =
    "{\"record_id\": \"id\", \"records\": [{\"kind\": \"delivery\", \"fields\": {"
    "\"client.bsn\": \"bsn\", \"client.family_name\": \"achternaam\","
    "\"client.birth_date\": \"geboortedatum\", \"client.postcode\": \"postcode\","
    "\"client.sex\": \"geslacht\", \"delivery.provider_agb\": \"agb\","
    "\"entitlement.law\": {\"value\": \"jw\"}, \"entitlement.funder\": {\"value\": \"0363\"},"
    "\"entitlement.referrer\": \"verwijzer\", \"entitlement.start\": \"toewijzing\","
    "\"delivery.start\": \"start\", \"delivery.care_form\": \"vorm\", \"delivery.crisis\": "
    "\"crisis\","
    "\"delivery.end\": \"eind\", \"delivery.end_reason\": \"reden\"}}]}";

/* geslacht and agb: cbs-jeugd.json demands them (law), so that (a) keeps
 * every record rather than quarantining it. */
static const char *const NAMES[NF] = {
    "id",    "bsn",  "achternaam", "geboortedatum", "postcode", "verwijzer", "toewijzing",
    "start", "vorm", "crisis",     "eind",          "reden",    "geslacht",  "agb"};

typedef struct row {
    char v[NF][24];
    zv_item_field f[NF];
} row;

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Record i of the export: a child per record (BSNs valid and distinct),
 * dates over eight quarters, a few referrers and forms. */
static void make_row(row *r, long i, long *bsn)
{
    static const char *const REF[] = {"01", "01", "01", "02", "03", "04", "04", "05"};
    static const char *const FORM[] = {"ambulant", "ambulant", "pleegzorg", "verblijf",
                                       "gezinshuis"};
    char b[10];
    do
        snprintf(b, sizeof(b), "%09ld", ++*bsn);
    while (!zv_bsn_valid(b, 9));
    int month = 1 + (int)(i % 24), y = 2025 + (month - 1) / 12, m = (month - 1) % 12 + 1;
    int d = 1 + (int)(i % 27);
    snprintf(r->v[0], 24, "R%ld", i);
    snprintf(r->v[1], 24, "%s", b);
    snprintf(r->v[2], 24, "Naam%ld", i % 997);
    snprintf(r->v[3], 24, "%04d-%02d-%02d", 2008 + (int)(i % 17), m, d);
    snprintf(r->v[4], 24, "%04ldAB", 1000 + i % 8999);
    snprintf(r->v[5], 24, "%s", REF[i % 8]);
    snprintf(r->v[6], 24, "%04d-%02d-01", y, m);
    snprintf(r->v[7], 24, "%04d-%02d-%02d", y, m, d);
    snprintf(r->v[8], 24, "%s", FORM[i % 5]);
    snprintf(r->v[9], 24, "%s", i % 13 == 0 ? "J" : "N");
    snprintf(r->v[10], 24, "%s", "");
    snprintf(r->v[11], 24, "%s", "");
    if (i % 4 == 0) {
        snprintf(r->v[10], 24, "%04d-%02d-28", y, m);
        snprintf(r->v[11], 24, "%s", i % 8 ? "01" : "02");
    }
    snprintf(r->v[12], 24, "%s", i % 2 ? "1" : "2");
    snprintf(r->v[13], 24, "%s", "12345678");
    for (int k = 0; k < NF; k++)
        r->f[k] = (zv_item_field){NAMES[k], r->v[k], strlen(r->v[k])};
}

static zv_minimiser *minimiser(const char *file, zv_catalogue **cat)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/conf/catalogue/%s", ZV_SRC_DIR, file);
    zv_errors errs;
    zv_errors_init(&errs);
    *cat = zv_catalogue_load(path, &errs);
    if (!*cat) {
        fprintf(stderr, "%s\n", errs.n ? errs.lines[0] : path);
        exit(1);
    }
    zv_errors_free(&errs);
    return zv_minimiser_new(*cat, ZV_LEVEL_CONTRACT);
}

typedef struct run {
    double cpu, render_cpu; /* render_cpu: the signals format's render() */
    double wall, render_wall;
    long mapped, counted, payloads, kept1;
    double restart;  /* wall seconds to build the runtime again on the counts */
    double state_mb; /* signals.db with its write-ahead log */
} run;

static double wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double file_mb(const char *dir, const char *name)
{
    char path[4200];
    struct stat st;
    snprintf(path, sizeof(path), "%s/state/plugins/format/dest/%s", dir, name);
    return stat(path, &st) == 0 ? (double)st.st_size / 1e6 : 0;
}

/* with_signals: 0 the record-level destination only; 1 also the signals
 * destination's minimiser; 2 also its counting. */
static run one_run(long n, int with_signals, const zv_mapping *map)
{
    zv_catalogue *c1, *c2 = NULL;
    zv_minimiser *m1 = minimiser("cbs-jeugd.json", &c1), *m2 = NULL;
    zvtb *tb = NULL;
    char opts[4300];
    if (with_signals) m2 = minimiser("signalen-jeugd.json", &c2);
    if (with_signals == 2) {
        snprintf(opts, sizeof(opts), "{\"signal_set\": \"%s/conf/signals/gemeente-jeugd.json\"}",
                 ZV_SRC_DIR);
        tb = zvtb_format_ex("signals", opts, "\"catalogue\": {\"file\": \"signalen-jeugd.json\"}",
                            NULL);
    }
    row *rows = malloc(BATCH * sizeof(*rows));
    zv_record **kept = calloc(BATCH, sizeof(*kept));
    unsigned char **enc = calloc(BATCH, sizeof(*enc));
    size_t *enclen = calloc(BATCH, sizeof(*enclen));
    run r = {0};
    long bsn = 100000000;
    char field[64], reason[256];
    for (long at = 0; at < n; at += BATCH) {
        long k = n - at < BATCH ? n - at : BATCH, nk = 0;
        for (long i = 0; i < k; i++) /* the input: not measured */
            make_row(&rows[i], at + i, &bsn);
        double t0 = cpu_now(), w0 = wall_now();
        for (long i = 0; i < k; i++) {
            zv_item it = {ZV_SIZED(zv_item), .fields = rows[i].f, .nfields = NF,
                          .field_size = sizeof(zv_item_field)};
            zv_record *rec =
                zv_mapping_apply(map, &it, 0, field, sizeof(field), reason, sizeof(reason));
            if (!rec) continue;
            r.mapped++;
            /* As the loop's route: a view of the kept values, encoded for
             * the store (core/pipeline.c). */
            const zv_record *v = NULL;
            unsigned char *e;
            size_t len;
            if (zv_minimise_view(m1, rec, &v, field, sizeof(field), reason, sizeof(reason)) ==
                    ZV_MIN_OK &&
                zv_record_encode(v, &e, &len) == 0) {
                r.kept1++;
                free(e);
            }
            if (m2 &&
                zv_minimise_view(m2, rec, &v, field, sizeof(field), reason, sizeof(reason)) ==
                    ZV_MIN_OK &&
                zv_record_encode(v, &enc[nk], &enclen[nk]) == 0)
                nk++;
            zv_record_free(rec);
        }
        double t1 = cpu_now(), w1 = wall_now();
        r.cpu += t1 - t0;
        r.wall += w1 - w0;
        /* What the store would hand the render: not measured. */
        for (long i = 0; i < nk; i++) {
            kept[i] = zv_record_decode(enc[i], enclen[i]);
            free(enc[i]);
            if (!kept[i]) {
                fprintf(stderr, "signals: a staged record does not decode\n");
                exit(1);
            }
        }
        if (with_signals == 2 && nk) {
            zv_batch b = {ZV_SIZED(zv_batch), .destination = "dest",
                          .message = 0,       .now = 1782864000,
                          .n = (size_t)nk,    .records = (const zv_record *const *)kept};
            zvtb_render out;
            if (zvtb_render_batch(tb, &b, &out) != 0 || out.nr != 0) {
                fprintf(stderr, "signals: render failed: %s\n", zvtb_log_worst(tb));
                exit(1);
            }
            r.counted += nk;
            r.payloads += (long)out.np;
            zvtb_render_free(&out);
        }
        for (long i = 0; i < nk; i++)
            zv_record_free(kept[i]);
    }
    free(rows);
    free(kept);
    free(enc);
    free(enclen);
    if (tb) {
        r.render_cpu = (double)zvtb_runtime(tb)->dests[0].render_cpu_ns / 1e9;
        r.render_wall = (double)zvtb_runtime(tb)->dests[0].render_ns / 1e9;
        r.cpu += r.render_cpu;
        r.wall += r.render_wall;
        /* A restart: the plugin opens its state and loads the counts. */
        double w0 = wall_now();
        zvtb_stop(tb);
        if (zvtb_build(tb) != 0) {
            fprintf(stderr, "signals: restart failed: %s\n", zvtb_errors(tb));
            exit(1);
        }
        r.restart = wall_now() - w0;
        r.state_mb = file_mb(zvtb_dir(tb), "signals.db") + file_mb(zvtb_dir(tb), "signals.db-wal");
    }
    zvtb_free(tb);
    zv_minimiser_free(m1);
    zv_minimiser_free(m2);
    zv_catalogue_free(c1);
    zv_catalogue_free(c2);
    return r;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    char err[512];
    zv_json_doc *spec = zv_json_parse(MAPPING, strlen(MAPPING), 0, err, sizeof(err));
    zv_errors errs;
    zv_errors_init(&errs);
    zv_mapping *map =
        spec ? zv_mapping_compile(zv_json_root(spec), "bench", "bench", "", &errs) : NULL;
    if (!map) {
        fprintf(stderr, "setup: %s\n", errs.n ? errs.lines[0] : err);
        return 1;
    }
    run a = one_run(n, 0, map), m = one_run(n, 1, map), b = one_run(n, 2, map);
    double ratio = b.cpu / a.cpu, wratio = b.wall / a.wall;
    FILE *up = popen("uptime", "r");
    char load[256] = "";
    if (up && !fgets(load, sizeof(load), up)) load[0] = '\0';
    if (up) pclose(up);
    printf("signals_bench: %ld records (one child each, 8 quarters); %s", n, load);
    printf("  without signals: map + minimise (view + encode):      %7.2f s CPU %7.2f s wall, "
           "%8.0f records/s, %ld kept\n",
           a.cpu, a.wall, (double)a.mapped / a.cpu, a.kept1);
    printf("  with signals:    map + minimise x2 + count (6 m):     %7.2f s CPU %7.2f s wall, "
           "%8.0f records/s, %ld counted, %ld payloads\n",
           b.cpu, b.wall, (double)b.mapped / b.cpu, b.counted, b.payloads);
    printf("  of which the second minimiser:                        %7.2f s CPU; counting %.2f s "
           "CPU %.2f s wall, %8.0f records/s\n",
           m.cpu - a.cpu, b.render_cpu, b.render_wall, (double)b.counted / b.render_cpu);
    printf("  ratio: %.2f CPU (%s 10%%), %.2f wall (%s 10%%)\n", ratio,
           ratio <= 1.10 ? "within" : "NOT within", wratio,
           wratio <= 1.10 ? "within" : "NOT within");
    printf("  counting alone: %+.0f%% of the run without signals (%.2f us a record; map + "
           "minimise %.2f us, the second minimiser %.2f us)\n",
           100.0 * b.render_cpu / a.cpu, 1e6 * b.render_cpu / (double)n, 1e6 * a.cpu / (double)n,
           1e6 * (m.cpu - a.cpu) / (double)n);
    printf("  state: %.1f MB on disk; restart (runtime built again, counts reloaded): %.2f s\n",
           b.state_mb, b.restart);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("  peak RSS: %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
    zv_mapping_free(map);
    zv_errors_free(&errs);
    zv_json_free(spec);
    return a.mapped == n && a.kept1 == n && b.counted == n ? 0 : 1;
}
