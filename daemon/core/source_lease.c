/*
 * One reader per source on a PostgreSQL store.
 *
 * A file drop, a FHIR server or any other source that zinvold reads (not a
 * webhook, which any node accepts: its events are de-duplicated by id in
 * the shared store) is read by the node that holds the source's lease, a
 * row in the shared store (zv_sb_source_lease).  Every node asks for it
 * every third of store_lease: the holder renews it, the others stand by and
 * take it over once the holder has not renewed it for store_lease (it died,
 * or lost the database).  So a source is read again within about 4/3 of
 * store_lease after its reader died.
 *
 * The reader also renews the lease inside every unit it commits (the
 * fence, zv_source_lease_fence): a unit of a node whose lease ran out and
 * was taken over commits nothing, so the staged rows and the watermark of
 * a step are only ever the holder's, and the node that takes over resumes
 * at the watermark the last committed step left.  A reader that finds its
 * lease taken tells its owner (zv_runtime_on_lease_lost): zinvold replaces
 * the runtime by a fresh one, which stands by, so the node keeps delivering
 * and accepting webhooks and needs no supervisor to come back.  Tearing
 * down just the one source would leave its in-flight work (a worker's
 * step, an HTTP request) to a plugin instance being destroyed; a reload
 * already knows how to let that end first.
 */
#include "runtime_int.h"
#include "log.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <zinvol/util.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t lease_ms(const zv_runtime *rt)
{
    return rt->cfg->store_lease_ms > 0 ? rt->cfg->store_lease_ms : 30000;
}

static void arm(zv_runtime *rt, zv_source_rt *s)
{
    int64_t every = lease_ms(rt) / 3;
    struct timeval tv = {every / 1000, (every % 1000) * 1000};
    evtimer_add(s->lease_ev, &tv);
}

/* Asks for the lease (outside any transaction): 1 held, 0 another node's. */
static int ask(zv_runtime *rt, zv_source_rt *s)
{
    char holder[sizeof(s->holder)] = "";
    int r =
        zv_sb_source_lease(rt->sb, s->conf->name, now_ms(), lease_ms(rt), holder, sizeof(holder));
    if (r < 0) {
        zv_log(ZV_LOG_WARN, s->inst.ctx->component, "source lease: %s", zv_sb_errmsg(rt->sb));
        return -1;
    }
    if (r == 0 && strcmp(holder, s->holder) != 0)
        zv_log(ZV_LOG_NOTICE, s->inst.ctx->component,
               "read by node %s (its source lease); this node stands by", holder);
    snprintf(s->holder, sizeof(s->holder), "%s", r ? zv_sb_node(rt->sb) : holder);
    return r;
}

static void lost(zv_runtime *rt, zv_source_rt *s)
{
    if (rt->lease_lost) return;
    rt->lease_lost = 1;
    zv_log(ZV_LOG_ERROR, s->inst.ctx->component,
           "the source lease was taken over by node %s; this node stops reading the source and "
           "stands by",
           s->holder);
    if (rt->lease_lost_cb)
        rt->lease_lost_cb(rt->lease_lost_arg);
    else if (!rt->stopping)
        raise(SIGTERM);
}

static void on_lease(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zv_source_rt *s = arg;
    zv_runtime *rt = s->inst.ctx->rt;
    if (rt->stopping || rt->lease_lost) return;
    int r = ask(rt, s);
    if (r == 0 && s->reading) {
        lost(rt, s);
        return;
    }
    if (r == 1 && !s->reading) {
        char err[256];
        zv_log(ZV_LOG_NOTICE, s->inst.ctx->component,
               "this node holds the source lease now and reads the source");
        s->reading = 1;
        if (zv_runtime_start_source(rt, s, err, sizeof(err)) < 0) {
            zv_log(ZV_LOG_ERROR, s->inst.ctx->component, "%s", err);
            if (!rt->stopping) raise(SIGTERM);
            return;
        }
    }
    arm(rt, s);
}

int zv_source_leases_start(zv_runtime *rt, char *err, size_t errlen)
{
    for (size_t i = 0; i < rt->nsources; i++) {
        zv_source_rt *s = &rt->sources[i];
        s->leased = rt->shared && strcmp(s->conf->type, "webhook") != 0;
        if (!s->leased) {
            s->reading = 1;
            if (zv_runtime_start_source(rt, s, err, errlen) < 0) return -1;
            continue;
        }
        int r = ask(rt, s);
        if (rt->mode == ZV_RT_ONCE && r != 1) {
            snprintf(err, errlen, "source %s is read by node %s now (its source lease)",
                     s->conf->name, r == 0 ? s->holder : "?");
            return -1;
        }
        if (r == 1) {
            zv_log(ZV_LOG_NOTICE, s->inst.ctx->component,
                   "this node holds the source lease and reads the source");
            s->reading = 1;
            if (zv_runtime_start_source(rt, s, err, errlen) < 0) return -1;
        }
        if (rt->mode == ZV_RT_ONCE) continue;
        s->lease_ev = evtimer_new(rt->base, on_lease, s);
        if (!s->lease_ev) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        arm(rt, s);
    }
    return 0;
}

void zv_source_leases_stop(zv_runtime *rt)
{
    for (size_t i = 0; i < rt->nsources; i++) {
        zv_source_rt *s = &rt->sources[i];
        if (s->lease_ev) event_free(s->lease_ev);
        s->lease_ev = NULL;
        /* Stopped cleanly: another node may take over at once. */
        if (s->leased && s->reading && zv_sb_source_release(rt->sb, s->conf->name) < 0)
            zv_log(ZV_LOG_WARN, s->inst.ctx->component, "source lease not given up: %s",
                   zv_sb_errmsg(rt->sb));
        if (s->leased) s->reading = 0;
    }
}

int zv_source_lease_fence(zv_runtime *rt, zv_ctx *ctx)
{
    zv_source_rt *s = ctx->src;
    if (!s || !s->leased) return 0;
    char holder[sizeof(s->holder)] = "";
    int r =
        zv_sb_source_lease(rt->sb, s->conf->name, now_ms(), lease_ms(rt), holder, sizeof(holder));
    if (r == 1) return 0;
    if (r == 0) {
        snprintf(s->holder, sizeof(s->holder), "%s", holder);
        zv_log(ZV_LOG_ERROR, ctx->component,
               "a unit of this source is not committed: node %s holds the source lease now",
               holder);
        lost(rt, s);
    } else {
        zv_log(ZV_LOG_ERROR, ctx->component, "source lease: %s", zv_sb_errmsg(rt->sb));
    }
    return -1;
}
