/* zinvolctl quarantine list|retry|drop */
#include "ctl.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

#include "core/log.h"
#include "core/runtime.h"

static int print_entry(const zv_quarantine_entry *e, void *arg)
{
    (void)arg;
    char ts[21];
    zv_time_iso(e->created, ts);
    /* Reasons are written without BSNs; scrub anyway in case a source id
     * happens to be one. */
    char line[2048];
    snprintf(line, sizeof(line), "%-6lld %s  %-9s %-14s %s/%s  %s%s%s%s%s", (long long)e->id, ts,
             e->stage, e->destination ? e->destination : "-", e->source, e->record_id,
             e->rule ? e->rule : "", e->rule ? " " : "", e->field ? e->field : "",
             e->field ? ": " : "", e->reason ? e->reason : "");
    char safe[4096];
    zv_escape_ctrl(line, strlen(line), safe, sizeof(safe)); /* ids from outside: one line */
    zv_bsn_scrub(safe);
    printf("%s\n", safe);
    return 0;
}

static int collect_ids(const zv_quarantine_entry *e, void *arg)
{
    int64_t **v = arg;
    size_t n = (size_t)(*v)[0];
    int64_t *nv = realloc(*v, (n + 2) * sizeof(int64_t));
    if (!nv) return 1;
    nv[n + 1] = e->id;
    nv[0] = (int64_t)(n + 1);
    *v = nv;
    return 0;
}

static int parse_id(const char *s, int64_t *id)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || v <= 0) return -1;
    *id = v;
    return 0;
}

/* Retry needs the pipeline: build the runtime (plugins, mappings,
 * catalogues) without starting sources or delivery. */
static int retry(zv_ctl *c, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: zinvolctl quarantine retry ID|--all\n");
        return 2;
    }
    int64_t one = 0;
    if (strcmp(argv[0], "--all") != 0 && parse_id(argv[0], &one) < 0) {
        fprintf(stderr, "zinvolctl: '%s' is not an entry id\n", argv[0]);
        return 2;
    }
    zv_config *cfg = c->cfg;
    c->cfg = NULL; /* the runtime takes it over */
    struct event_base *base = event_base_new();
    zv_errors errs;
    zv_errors_init(&errs);
    zv_runtime *rt = base ? zv_runtime_build(cfg, base, ZV_RT_CHECK, &errs) : NULL;
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.lines[i]);
    zv_errors_free(&errs);
    char err[1024];
    int rc = 1;
    if (rt && zv_runtime_open_store(rt, err, sizeof(err)) < 0) {
        fprintf(stderr, "zinvolctl: %s\n", err);
    } else if (rt) {
        int64_t *ids = calloc(1, sizeof(int64_t));
        if (one)
            ids = realloc(ids, 2 * sizeof(int64_t)), ids[0] = 1, ids[1] = one;
        else
            zv_store_quarantine_each(c->store, collect_ids, &ids);
        int failed = 0;
        for (int64_t i = 1; i <= ids[0]; i++) {
            err[0] = '\0';
            int r = zv_pipeline_quarantine_retry(rt, ids[i], err, sizeof(err));
            if (r == 0)
                printf("%lld: processed again\n", (long long)ids[i]);
            else
                printf("%lld: %s\n", (long long)ids[i], err), failed = 1;
        }
        free(ids);
        if (zv_runtime_flush(rt) < 0) failed = 1;
        rc = failed;
    }
    zv_runtime_free(rt);
    if (base) event_base_free(base);
    return rc;
}

int zv_ctl_quarantine(zv_ctl *c, int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "usage: zinvolctl quarantine list|retry ID|--all|drop ID\n");
        return 2;
    }
    if (zv_ctl_need_store(c) < 0) return 1;
    if (strcmp(argv[0], "list") == 0) {
        printf("%-6s %-20s  %-9s %-14s %s  %s\n", "ID", "WHEN", "STAGE", "DESTINATION",
               "SOURCE/RECORD", "REASON");
        return zv_store_quarantine_each(c->store, print_entry, NULL) < 0 ? 1 : 0;
    }
    if (strcmp(argv[0], "retry") == 0) return retry(c, argc - 1, argv + 1);
    if (strcmp(argv[0], "drop") == 0) {
        int64_t id;
        if (argc != 2 || parse_id(argv[1], &id) < 0) {
            fprintf(stderr, "usage: zinvolctl quarantine drop ID\n");
            return 2;
        }
        if (zv_store_quarantine_delete(c->store, id) < 0) {
            fprintf(stderr, "zinvolctl: %s\n", zv_store_errmsg(c->store));
            return 1;
        }
        zv_log(ZV_LOG_NOTICE, "ctl", "quarantine entry %lld dropped by operator", (long long)id);
        printf("%lld: dropped\n", (long long)id);
        return 0;
    }
    fprintf(stderr, "zinvolctl: unknown quarantine command '%s'\n", argv[0]);
    return 2;
}
