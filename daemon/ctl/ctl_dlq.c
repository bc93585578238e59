/* zinvolctl dlq list|retry ID|--all|drop ID */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

#include "core/log.h"

static int print_entry(const zv_dlq_entry *e, void *arg)
{
    (void)arg;
    char ts[21];
    zv_time_iso(e->created, ts);
    zv_buf b;
    zv_buf_init(&b);
    zv_buf_printf(&b, "%-6lld %s  %-14s %-6s %-28s", (long long)e->id, ts,
                  e->destination ? e->destination : "-", e->message ? e->message : "-",
                  e->idem_key ? e->idem_key : "-");
    if (e->record_key) zv_buf_printf(&b, " record %s", e->record_key);
    if (e->record_ref) zv_buf_printf(&b, " (%s)", e->record_ref);
    if (e->http_status) zv_buf_printf(&b, " HTTP %d", e->http_status);
    if (e->codes) zv_buf_printf(&b, " codes %s", e->codes);
    zv_buf_printf(&b, " attempts=%d  %s", e->attempts, e->reason ? e->reason : "");
    if (b.data) {
        char safe[4096];
        zv_escape_ctrl(b.data, b.len, safe, sizeof(safe)); /* keys from outside: one line */
        zv_bsn_scrub(safe); /* record keys may hold a BSN */
        printf("%s\n", safe);
    }
    zv_buf_free(&b);
    return 0;
}

static int parse_id(const char *s, int64_t *id)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v <= 0) return -1;
    *id = v;
    return 0;
}

struct ids {
    int64_t *v;
    size_t n;
};

static int collect(const zv_dlq_entry *e, void *arg)
{
    struct ids *x = arg;
    int64_t *nv = realloc(x->v, (x->n + 1) * sizeof(*nv));
    if (!nv) return 1;
    x->v = nv;
    x->v[x->n++] = e->record_key ? -e->id : e->id; /* negative: per-record, not retryable */
    return 0;
}

static int retry(zv_ctl *c, const char *arg)
{
    struct ids x = {0};
    int all = strcmp(arg, "--all") == 0;
    int64_t one = 0;
    if (!all && parse_id(arg, &one) < 0) {
        fprintf(stderr, "zinvolctl: '%s' is not a dead letter id\n", arg);
        return 2;
    }
    if (all && zv_store_dlq_each(c->store, collect, &x) < 0) {
        fprintf(stderr, "zinvolctl: %s\n", zv_store_errmsg(c->store));
        free(x.v);
        return 1;
    }
    int rc = 0, skipped = 0;
    size_t n = all ? x.n : 1;
    for (size_t i = 0; i < n; i++) {
        int64_t id = all ? x.v[i] : one;
        if (all && id < 0) {
            skipped++;
            continue;
        }
        int r = zv_store_dlq_retry(c->store, id, zv_now());
        if (r == 0) {
            printf("%lld: queued again (same idempotency key)\n", (long long)id);
            zv_log(ZV_LOG_NOTICE, "ctl", "dead letter entry %lld queued again by operator",
                   (long long)id);
        } else {
            fprintf(stderr, "%lld: %s\n", (long long)id, zv_store_errmsg(c->store));
            rc = 1;
        }
    }
    if (skipped)
        printf("%d per-record rejections left alone: correct those records at their source, "
               "then drop the entries\n",
               skipped);
    free(x.v);
    return rc;
}

static int drop(zv_ctl *c, const char *arg)
{
    int64_t id;
    if (parse_id(arg, &id) < 0) {
        fprintf(stderr, "zinvolctl: '%s' is not a dead letter id\n", arg);
        return 2;
    }
    int r = zv_store_dlq_drop(c->store, id, zv_now(), "dropped with zinvolctl dlq drop");
    if (r != 0) {
        fprintf(stderr, "zinvolctl: %s\n", zv_store_errmsg(c->store));
        return 1;
    }
    zv_log(ZV_LOG_NOTICE, "ctl", "dead letter entry %lld dropped by operator (audited)",
           (long long)id);
    printf("%lld: dropped (recorded in the audit trail)\n", (long long)id);
    return 0;
}

int zv_ctl_dlq(zv_ctl *c, int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "usage: zinvolctl dlq list|retry ID|--all|drop ID\n");
        return 2;
    }
    int list = strcmp(argv[0], "list") == 0;
    int is_retry = strcmp(argv[0], "retry") == 0, is_drop = strcmp(argv[0], "drop") == 0;
    if (!list && !is_retry && !is_drop) {
        fprintf(stderr, "zinvolctl: unknown dlq command '%s'\n", argv[0]);
        return 2;
    }
    if ((list && argc != 1) || (!list && argc != 2)) {
        fprintf(stderr, "usage: zinvolctl dlq list|retry ID|--all|drop ID\n");
        return 2;
    }
    if (zv_ctl_need_store(c) < 0) return 1;
    if (list) {
        printf("%-6s %-20s  %-14s %-6s %-28s %s\n", "ID", "WHEN", "DESTINATION", "MSG",
               "IDEMPOTENCY KEY", "DETAIL");
        return zv_store_dlq_each(c->store, print_entry, NULL) < 0 ? 1 : 0;
    }
    return is_retry ? retry(c, argv[1]) : drop(c, argv[1]);
}
