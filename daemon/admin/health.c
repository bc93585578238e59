/* /healthz: "ok", or "degraded" with every reason an operator should act on. */
#include "admin.h"
#include "core/runtime_int.h"
#include "delivery/delivery.h"
#include "store/store_admin.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A health probe must not stall the loop behind another writer for long. */
#define PROBE_WAIT_MS 200

static void __attribute__((format(printf, 3, 4))) reason(zv_buf *out, int *n, const char *fmt, ...)
{
    if ((*n)++) zv_buf_puts(out, "; ");
    va_list ap;
    va_start(ap, fmt);
    zv_buf_vprintf(out, fmt, ap);
    va_end(ap);
}

static void problem(zv_buf *out, int *n, const zv_ctx *ctx)
{
    if (ctx && ctx->problem[0]) reason(out, n, "%s: %s", ctx->component, ctx->problem);
}

int zv_health_check(zv_runtime *rt, zv_buf *out)
{
    if (!rt || rt->stopping) return 2;
    int n = 0;
    int64_t now = zv_now(), limit = rt->cfg->admin.max_pending_age_s;
    for (size_t i = 0; i < rt->ndests; i++) {
        const char *name = rt->dests[i].conf->name;
        zv_delivery_metrics m;
        if (rt->delivery && zv_delivery_metrics_get(rt->delivery, name, &m) == 0) {
            if (m.circuit_open == 1)
                reason(out, &n, "circuit open for %s", name);
            else if (m.circuit_open == 2)
                reason(out, &n, "circuit half-open for %s (probing)", name);
        }
        /* On the store's reader (zv_store_reader): committed rows only, and
         * never a wait for the writer's commit, fsync or checkpoint.  A
         * shared PostgreSQL outbox is asked through its backend. */
        zv_dest_rt *d = &rt->dests[i];
        int64_t first;
        int r = -2;
        if (rt->sb && zv_sb_kind(rt->sb) == ZV_STORE_POSTGRESQL)
            r = zv_sb_oldest_pending(rt->sb, name, &first);
        else if (rt->store)
            r = zv_store_outbox_oldest_pending(zv_store_reader(rt->store), name, &first);
        if (r >= 0) {
            d->health_has = r == 0;
            d->health_first = first;
        }
        if (d->health_has && now - d->health_first > limit)
            reason(out, &n, "oldest pending payload for %s is %llds old (limit %llds)", name,
                   (long long)(now - d->health_first), (long long)limit);
    }
    /* What plugins reported (host->problem), e.g. a token they cannot get. */
    for (size_t i = 0; i < rt->nsources; i++)
        problem(out, &n, rt->sources[i].inst.ctx);
    for (size_t i = 0; i < rt->ndests; i++) {
        problem(out, &n, rt->dests[i].fmt.ctx);
        problem(out, &n, rt->dests[i].tr.ctx);
    }
    char err[512];
    if (!rt->store) {
        reason(out, &n, "store not open");
    } else if (zv_store_write_probe(rt->store, PROBE_WAIT_MS, err, sizeof(err)) < 0) {
        reason(out, &n, "store not writable: %s", err);
    }
    return n ? 1 : 0;
}

int zv_health_text(zv_runtime *rt, zv_buf *body)
{
    zv_buf r;
    zv_buf_init(&r);
    int h = zv_health_check(rt, &r);
    if (h == 0)
        zv_buf_puts(body, "ok\n");
    else if (h == 2)
        zv_buf_puts(body, "stopping\n");
    else
        zv_buf_printf(body, "degraded: %s\n", r.data ? r.data : "");
    zv_buf_free(&r);
    return h == 0 ? 200 : 503;
}
