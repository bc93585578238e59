/*
 * Units of work.
 *
 * Whatever a plugin emits, watermarks or counts inside one callback the host
 * invokes (a timer, an fd watch, an HTTP route, an HTTP response, a source's
 * start/drain/stop, a transport's send) is one unit: the source's commit()
 * makes it durable whole, its rollback() discards it whole.  The host wraps
 * every such callback (zv_unit_enter / zv_unit_leave): a unit still open when
 * the callback returns is rolled back and logged naming the plugin, so no
 * transaction ever outlives the callback that opened it.  Core work (the
 * delivery engine's outcomes, a destination's render unit) opens and closes
 * its own transaction inside one callback as well; the store refuses to nest
 * a second one (store.h), and zv_unit_turn_check() asserts after every turn
 * of the loop that nothing is open.
 */
#include "runtime_int.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A transaction open where none may be: roll it back, say whose it was. */
static void drop_stray(zv_runtime *rt, const char *where)
{
    const char *owner = zv_store_txn_owner(rt->store);
    if (!owner) return;
    zv_log(ZV_LOG_ERROR, "core",
           "a transaction opened by %s was still open %s; rolled back (nothing of it is kept)",
           owner, where);
    zv_store_rollback(rt->store);
    rt->unit = NULL;
    rt->unit_emits = 0;
    rt->units_dropped++;
}

void zv_unit_enter(zv_ctx *ctx)
{
    zv_runtime *rt = ctx->rt;
    if (rt->cb_depth++ > 0 || !rt->store) return;
    char where[160];
    snprintf(where, sizeof(where), "when a callback of %s began", ctx->component);
    drop_stray(rt, where);
}

void zv_unit_leave(zv_ctx *ctx)
{
    zv_runtime *rt = ctx->rt;
    if (rt->cb_depth > 0) rt->cb_depth--;
    if (rt->cb_depth > 0 || !rt->store) return;
    if (rt->unit) {
        zv_log(ZV_LOG_ERROR, rt->unit->component,
               "left a unit of work open (%lld items emitted) when its callback returned; "
               "rolled back: nothing of it is kept, the source must commit() or rollback()",
               (long long)rt->unit_emits);
        zv_store_rollback(rt->store);
        rt->unit = NULL;
        rt->unit_emits = 0;
        rt->units_dropped++;
    }
    char where[160];
    snprintf(where, sizeof(where), "after a callback of %s", ctx->component);
    drop_stray(rt, where);
}

int zv_unit_open(zv_ctx *ctx)
{
    zv_runtime *rt = ctx->rt;
    if (!rt->store) return -1;
    if (rt->unit == ctx) return 0;
    if (rt->unit) {
        /* Another instance's unit: it cannot be ours to commit. */
        zv_log(ZV_LOG_ERROR, rt->unit->component,
               "left a unit of work open (%lld items emitted) that %s would have joined; "
               "rolled back",
               (long long)rt->unit_emits, ctx->component);
        zv_store_rollback(rt->store);
        rt->unit = NULL;
        rt->unit_emits = 0;
        rt->units_dropped++;
    }
    if (zv_store_begin_as(rt->store, ctx->component) < 0) {
        zv_log(ZV_LOG_ERROR, ctx->component, "cannot begin a unit of work: %s",
               zv_store_errmsg(rt->store));
        return -1;
    }
    rt->unit = ctx;
    rt->unit_emits = 0;
    return 0;
}

int zv_unit_is_open(const zv_ctx *ctx)
{
    return ctx->rt->unit == ctx;
}

void zv_unit_rollback(zv_ctx *ctx)
{
    zv_runtime *rt = ctx->rt;
    if (rt->unit != ctx) return;
    zv_store_rollback(rt->store);
    rt->unit = NULL;
    rt->unit_emits = 0;
}

/* Counts asked for outside a unit wait in memory for the next one. */
struct zv_pending_count {
    char *name, *counter;
    int64_t delta;
    struct zv_pending_count *next;
};

void zv_unit_count_later(zv_runtime *rt, const char *name, const char *counter, int64_t delta)
{
    for (struct zv_pending_count *p = rt->pending_counts; p; p = p->next)
        if (strcmp(p->name, name) == 0 && strcmp(p->counter, counter) == 0) {
            p->delta += delta;
            return;
        }
    struct zv_pending_count *p = calloc(1, sizeof(*p));
    if (!p || !(p->name = strdup(name)) || !(p->counter = strdup(counter))) {
        if (p) free(p->name);
        free(p);
        return;
    }
    p->delta = delta;
    p->next = rt->pending_counts;
    rt->pending_counts = p;
}

void zv_unit_write_counts(zv_runtime *rt)
{
    struct zv_pending_count *p = rt->pending_counts;
    rt->pending_counts = NULL;
    while (p) {
        struct zv_pending_count *n = p->next;
        if (rt->store) zv_store_count_add(rt->store, p->name, "-", p->counter, p->delta);
        free(p->name);
        free(p->counter);
        free(p);
        p = n;
    }
}

void zv_unit_flush_counts(zv_runtime *rt)
{
    if (!rt->pending_counts || !rt->store || zv_store_txn_owner(rt->store)) return;
    if (zv_store_begin_as(rt->store, "counters") < 0) return;
    zv_unit_write_counts(rt);
    if (zv_store_commit(rt->store) < 0)
        zv_log(ZV_LOG_WARN, "core", "plugin counters not saved: %s", zv_store_errmsg(rt->store));
}

void zv_unit_free_counts(zv_runtime *rt)
{
    struct zv_pending_count *p = rt->pending_counts;
    rt->pending_counts = NULL;
    while (p) {
        struct zv_pending_count *n = p->next;
        free(p->name);
        free(p->counter);
        free(p);
        p = n;
    }
}

int zv_runtime_turn_check(zv_runtime *rt)
{
    if (!rt || !rt->store || !zv_store_txn_owner(rt->store)) return 0;
    if (rt->unit)
        zv_log(ZV_LOG_ERROR, rt->unit->component,
               "left a unit of work open (%lld items emitted) across a turn of the loop",
               (long long)rt->unit_emits);
    drop_stray(rt, "at the end of a turn of the loop");
    return -1;
}
