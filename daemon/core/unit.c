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
#include "lifecycle.h"
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
    zv_rt_unit_abort(rt);
    zv_store_unit_rollback(rt->store); /* a unit: only it; a plain transaction: */
    if (zv_store_txn_owner(rt->store)) zv_store_rollback(rt->store);
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
        zv_rt_unit_abort(rt);
        zv_store_unit_rollback(rt->store);
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
        zv_rt_unit_abort(rt);
        zv_store_unit_rollback(rt->store);
        rt->unit = NULL;
        rt->unit_emits = 0;
        rt->units_dropped++;
    }
    if (zv_store_unit_begin(rt->store, ctx->component) < 0) {
        zv_log(ZV_LOG_ERROR, ctx->component, "cannot begin a unit of work: %s",
               zv_store_errmsg(rt->store));
        return -1;
    }
    if (zv_rt_unit_begin(rt) < 0) {
        zv_log(ZV_LOG_ERROR, ctx->component, "cannot begin a unit of work: %s",
               zv_sb_errmsg(rt->sb));
        zv_store_unit_rollback(rt->store);
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
    zv_rt_unit_abort(rt);
    zv_store_unit_rollback(rt->store);
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

/* ---- group commit: units committed together, callers told when durable ---- */

typedef struct zv_durable_wait {
    zv_ctx *ctx;
    void (*cb)(void *arg, int ok);
    void *arg;
    int64_t gen; /* durable once this group has ended */
    int ok;
    struct zv_durable_wait *next;
} zv_durable_wait;

static void run_ready(zv_runtime *rt)
{
    zv_durable_wait *w = rt->durable_ready;
    rt->durable_ready = NULL;
    while (w) {
        zv_durable_wait *n = w->next;
        zv_unit_enter(w->ctx);
        w->cb(w->arg, w->ok);
        zv_unit_leave(w->ctx);
        free(w);
        w = n;
    }
}

static void durable_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    run_ready(arg);
}

/* The store committed (or lost) a group: its waiters are told, each in a
 * callback of its own on the loop, never inside whoever made the commit. */
static void on_group(void *arg, int ok, int64_t units)
{
    zv_runtime *rt = arg;
    if (!ok)
        zv_log(ZV_LOG_ERROR, "core", "a group of %lld units could not be committed: %s",
               (long long)units, zv_store_errmsg(rt->store));
    int64_t done = zv_store_done_gen(rt->store);
    zv_durable_wait **tail = &rt->durable_ready;
    while (*tail)
        tail = &(*tail)->next;
    for (zv_durable_wait **p = &rt->durable_waiting; *p;) {
        zv_durable_wait *w = *p;
        if (w->gen > done) {
            p = &w->next;
            continue;
        }
        *p = w->next;
        w->ok = w->gen == done ? ok : 1; /* an earlier group was told already */
        w->next = NULL;
        *tail = w;
        tail = &w->next;
    }
    if (rt->durable_ready && rt->durable_ev) event_active(rt->durable_ev, 0, 0);
}

static void group_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zv_runtime *rt = arg;
    if (rt->store) zv_store_group_commit(rt->store);
}

/* A unit was released into the group: the group is committed after this
 * turn of the loop, so everything committed in the turn shares its fsync. */
static void on_pending(void *arg)
{
    zv_runtime *rt = arg;
    if (rt->group_ev && !evtimer_pending(rt->group_ev, NULL)) {
        struct timeval now = {0, 0};
        evtimer_add(rt->group_ev, &now);
    }
}

/* Minimiser tallies and plugin counters: written once per group, in it. */
static void on_precommit(void *arg)
{
    zv_runtime *rt = arg;
    if (zv_store_unit_begin(rt->store, "counters") < 0) return; /* they wait for the next */
    zv_pipeline_save_counts(rt);
    zv_unit_write_counts(rt);
    if (zv_store_unit_commit(rt->store, 0) < 0)
        zv_log(ZV_LOG_WARN, "core", "counters not saved: %s", zv_store_errmsg(rt->store));
}

/* The writer ended a commit or a lock wait: work held back goes on, in a
 * callback of its own (never inside the one that waited for the writer). */
static void on_store_ready(void *arg)
{
    zv_runtime *rt = arg;
    if (rt->ready_ev) event_active(rt->ready_ev, 0, 0);
}

static void ready_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zv_httpd_run_deferred(arg);
}

int zv_unit_group_setup(zv_runtime *rt)
{
    zv_store_on_group(rt->store, on_group, rt);
    zv_store_on_precommit(rt->store, on_precommit, rt);
    if (!rt->base) return 0;
    rt->group_ev = evtimer_new(rt->base, group_cb, rt);
    rt->durable_ev = event_new(rt->base, -1, 0, durable_cb, rt);
    rt->ready_ev = event_new(rt->base, -1, 0, ready_cb, rt);
    if (!rt->group_ev || !rt->durable_ev || !rt->ready_ev) return -1;
    zv_store_on_pending(rt->store, on_pending, rt);
    return 0;
}

int zv_unit_store_gate(void *arg, struct event *ev, int forget)
{
    zv_runtime *rt = arg;
    if (!rt->store) return 0;
    if (forget) {
        zv_store_when_ready_forget(rt->store, ev);
        return 0;
    }
    return zv_store_when_ready(rt->store, ev);
}

int zv_unit_writer_start(zv_runtime *rt, char *err, size_t errlen)
{
    if (!rt->base || !rt->ready_ev) return 0;
    return zv_store_writer_start(rt->store, rt->base, on_store_ready, rt, err, errlen);
}

void zv_unit_group_end(zv_runtime *rt)
{
    if (rt->store) {
        zv_store_group_commit_sync(rt->store);
        /* The destinations the hook reads are about to go. */
        zv_store_on_pending(rt->store, NULL, NULL);
        zv_store_on_precommit(rt->store, NULL, NULL);
    }
    run_ready(rt);
    zv_httpd_drop_deferred(rt);
    if (rt->group_ev) event_free(rt->group_ev);
    if (rt->durable_ev) event_free(rt->durable_ev);
    if (rt->ready_ev) event_free(rt->ready_ev);
    rt->group_ev = rt->durable_ev = rt->ready_ev = NULL;
}

int zv_unit_commit_async(zv_ctx *ctx, void (*cb)(void *arg, int ok), void *arg)
{
    zv_runtime *rt = ctx->rt;
    if (!rt->group_ev) { /* no loop to commit on later: now */
        if (zv_pipeline_commit(ctx) < 0) return -1;
        cb(arg, 1);
        return 0;
    }
    zv_durable_wait *w = calloc(1, sizeof(*w));
    if (!w) return -1;
    *w = (zv_durable_wait){ctx, cb, arg, 0, 0, NULL};
    if (zv_unit_is_open(ctx) && zv_pipeline_commit_unit(ctx, 0) < 0) {
        free(w);
        return -1;
    }
    w->gen = zv_store_wait_gen(rt->store);
    if (w->gen == 0 || w->gen <= zv_store_done_gen(rt->store)) {
        /* Nothing of this callback waits for a commit: durable already. */
        w->ok = 1;
        w->next = rt->durable_ready;
        rt->durable_ready = w;
        event_active(rt->durable_ev, 0, 0);
        return 0;
    }
    w->next = rt->durable_waiting;
    rt->durable_waiting = w;
    on_pending(rt);
    return 0;
}
