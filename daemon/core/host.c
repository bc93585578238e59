/*
 * The host table: what plugins may ask of the core.  Everything here runs on
 * the loop thread; nothing blocks except the store's own commits.  Every
 * callback into a plugin goes through zv_unit_enter/leave (unit.c), so what
 * a callback leaves uncommitted is rolled back when it returns.
 */
#include "runtime_int.h"
#include "admin/metrics.h"
#include "delivery/delivery.h"
#include "log.h"
#include "abi_check.h"
#include "workers.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zinvol/util.h>

struct zv_timer {
    zv_ctx *ctx;
    struct event *ev;
    zv_timer_cb cb;
    void *arg;
};

struct zv_watch {
    zv_ctx *ctx;
    struct event *ev;
    zv_fd_cb cb;
    void *arg;
};

static void h_log(zv_ctx *ctx, zv_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (ctx && level == ZV_LOG_ERROR) {
        /* Kept as the reason when a render that fails is traced to one record. */
        va_list cp;
        va_copy(cp, ap);
        vsnprintf(ctx->last_error, sizeof(ctx->last_error), fmt, cp);
        va_end(cp);
        zv_bsn_scrub(ctx->last_error);
    }
    zv_vlog(level, ctx ? ctx->component : "plugin", fmt, ap);
    va_end(ap);
}

static const zv_optval *opt(zv_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->opts.n; i++)
        if (ctx->opts.v[i].opt.name && strcmp(ctx->opts.v[i].opt.name, name) == 0)
            return ctx->opts.v[i].set ? &ctx->opts.v[i] : NULL;
    zv_log(ZV_LOG_WARN, ctx->component, "asked for undeclared option '%s'", name);
    return NULL;
}

static const void *h_config(zv_ctx *ctx)
{
    return ctx->opts.conf;
}

static const char *h_cfg_str(zv_ctx *ctx, const char *name)
{
    const zv_optval *v = opt(ctx, name);
    return v ? v->str : NULL;
}

static int64_t h_cfg_int(zv_ctx *ctx, const char *name)
{
    const zv_optval *v = opt(ctx, name);
    return v ? v->i : 0;
}

static int h_cfg_bool(zv_ctx *ctx, const char *name)
{
    const zv_optval *v = opt(ctx, name);
    return v ? (int)v->i : 0;
}

static double h_cfg_number(zv_ctx *ctx, const char *name)
{
    const zv_optval *v = opt(ctx, name);
    return v ? v->d : 0.0;
}

static const zv_json *h_cfg_json(zv_ctx *ctx, const char *name)
{
    const zv_optval *v = opt(ctx, name);
    return v ? v->json : NULL;
}

static const char *h_instance_name(zv_ctx *ctx)
{
    return ctx->name;
}

static const char *h_org(zv_ctx *ctx, const char *key)
{
    const zv_config *cfg = ctx->rt->cfg;
    if (strcmp(key, "agb") == 0) return cfg->org_agb;
    if (strcmp(key, "name") == 0) return cfg->org_name;
    if (strcmp(key, "retention") == 0) {
        snprintf(ctx->org_buf, sizeof(ctx->org_buf), "%lld", (long long)cfg->retention_s);
        return ctx->org_buf;
    }
    return NULL;
}

static void timer_fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zv_timer *t = arg;
    zv_ctx *ctx = t->ctx; /* the callback may free t */
    /* A source's step (filedrop, fhir) writes: never while the store's
     * writer commits; it runs once the commit has ended. */
    if (zv_unit_store_gate(ctx->rt, t->ev, 0)) return;
    zv_unit_enter(ctx);
    t->cb(t->arg);
    zv_unit_leave(ctx);
}

static zv_timer *h_timer_new(zv_ctx *ctx, zv_timer_cb cb, void *arg)
{
    zv_timer *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    t->ctx = ctx;
    t->cb = cb;
    t->arg = arg;
    t->ev = evtimer_new(ctx->rt->base, timer_fire, t);
    if (!t->ev) {
        free(t);
        return NULL;
    }
    return t;
}

static void h_timer_arm(zv_timer *t, uint64_t ms)
{
    zv_unit_store_gate(t->ctx->rt, t->ev, 1); /* the new time replaces a held turn */
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_add(t->ev, &tv);
}

static void h_timer_cancel(zv_timer *t)
{
    zv_unit_store_gate(t->ctx->rt, t->ev, 1);
    evtimer_del(t->ev);
}

static void h_timer_free(zv_timer *t)
{
    if (!t) return;
    zv_unit_store_gate(t->ctx->rt, t->ev, 1);
    event_free(t->ev);
    free(t);
}

static void watch_fire(evutil_socket_t fd, short what, void *arg)
{
    zv_watch *w = arg;
    zv_ctx *ctx = w->ctx; /* the callback may free w */
    zv_unit_enter(ctx);
    w->cb((int)fd, ((what & EV_READ) ? ZV_FD_READ : 0) | ((what & EV_WRITE) ? ZV_FD_WRITE : 0),
          w->arg);
    zv_unit_leave(ctx);
}

static zv_watch *h_watch_fd(zv_ctx *ctx, int fd, int what, zv_fd_cb cb, void *arg)
{
    zv_watch *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    w->ctx = ctx;
    w->cb = cb;
    w->arg = arg;
    short ev =
        EV_PERSIST | ((what & ZV_FD_READ) ? EV_READ : 0) | ((what & ZV_FD_WRITE) ? EV_WRITE : 0);
    w->ev = event_new(ctx->rt->base, fd, ev, watch_fire, w);
    if (!w->ev || event_add(w->ev, NULL) < 0) {
        if (w->ev) event_free(w->ev);
        free(w);
        return NULL;
    }
    return w;
}

static void h_unwatch_fd(zv_watch *w)
{
    if (!w) return;
    event_free(w->ev);
    free(w);
}

/* The plugin's response callback, wrapped as a unit of its own. */
struct http_call {
    zv_ctx *ctx;
    zv_http_cb cb;
    void *arg;
};

static void http_done(const zv_http_response *resp, void *arg)
{
    struct http_call c = *(struct http_call *)arg;
    free(arg);
    zv_unit_enter(c.ctx);
    c.cb(resp, c.arg);
    zv_unit_leave(c.ctx);
}

static zv_http_call *h_http_request(zv_ctx *ctx, const zv_http_request *req, zv_http_cb cb,
                                    void *arg)
{
    if (!ctx->rt->http) return NULL;
    struct http_call *c = malloc(sizeof(*c));
    if (!c) return NULL;
    *c = (struct http_call){ctx, cb, arg};
    zv_http_call *call = zv_http_client_request(ctx->rt->http, req, http_done, c);
    if (!call) free(c);
    return call;
}

/* The wrapper http_done would have freed is the cancelled call's arg. */
static void h_http_cancel(zv_http_call *call)
{
    free(zv_http_client_cancel(call));
}

static int h_http_route(zv_ctx *ctx, const char *path, zv_route_cb cb, void *arg)
{
    return zv_httpd_route(ctx, path, cb, arg);
}

static int h_http_route_limit(zv_ctx *ctx, const char *path, size_t max_body)
{
    return zv_httpd_route_limit(ctx, path, max_body);
}

static int h_watermark_get(zv_ctx *ctx, const char *key, char *buf, size_t buflen)
{
    if (!ctx->rt->store) return -1;
    return zv_sb_watermark_get(ctx->rt->sb, ctx->name, key, buf, buflen);
}

static int h_watermark_set(zv_ctx *ctx, const char *key, const char *value)
{
    if (!ctx->rt->store) return -1;
    /* Same unit as the emits it belongs to (see zv_pipeline_emit): on a
     * PostgreSQL store the staged rows and the watermark of a step commit
     * in one transaction there. */
    if (zv_unit_open(ctx) < 0) return -1;
    return zv_sb_watermark_set(ctx->rt->sb, ctx->name, key, value);
}

/* Event ids live in the source de-duplication table beside the records'
 * content hashes, under an empty hash no record row has: one statement,
 * shared by the nodes on PostgreSQL, in the unit's transaction. */
static int h_event_once(zv_ctx *ctx, const char *event_id)
{
    if (!ctx->rt->store || !event_id || strlen(event_id) > 200) return -1;
    if (zv_unit_open(ctx) < 0) return -1;
    char key[216];
    snprintf(key, sizeof(key), "event:%s", event_id);
    int r = zv_sb_seen(ctx->rt->sb, ctx->name, key, "");
    return r < 0 ? -1 : r == 0;
}

static void h_drained(zv_ctx *ctx)
{
    if (ctx->src) ctx->src->drained = 1;
    ctx->rt->t_drained = zv_mono_ns();
}

/* Emit and commit, timed: the once summary's "map" stage. */
static int h_emit(zv_ctx *ctx, const zv_item *item)
{
    int64_t t0 = zv_mono_ns();
    zv_item it;
    zv_item_field *copy;
    char why[160];
    if (zv_abi_item(item, &it, &copy, why, sizeof(why)) < 0) {
        zv_log(ZV_LOG_ERROR, ctx->component, "emit refused: %s", why);
        return -1;
    }
    int r = zv_pipeline_emit(ctx, &it);
    free(copy);
    ctx->rt->emit_ns += zv_mono_ns() - t0;
    return r;
}

static int h_commit(zv_ctx *ctx)
{
    int64_t t0 = zv_mono_ns();
    int r = zv_pipeline_commit(ctx);
    ctx->rt->emit_ns += zv_mono_ns() - t0;
    return r;
}

static int64_t h_staged_total(zv_ctx *ctx)
{
    return ctx->src ? ctx->src->dest_staged : 0;
}

static int h_commit_async(zv_ctx *ctx, void (*durable)(void *arg, int ok), void *arg)
{
    if (!durable) return -1;
    int64_t t0 = zv_mono_ns();
    int r = zv_unit_commit_async(ctx, durable, arg);
    ctx->rt->emit_ns += zv_mono_ns() - t0;
    return r;
}

static void h_rollback(zv_ctx *ctx)
{
    zv_pipeline_rollback(ctx);
}

/* A plugin's job on the worker pool; done() is a callback of the instance. */
struct plugin_job {
    zv_ctx *ctx;
    void (*work)(void *arg);
    void (*done)(void *arg);
    void *arg;
};

static void job_work(void *arg)
{
    struct plugin_job *j = arg;
    j->work(j->arg);
}

static void job_done(void *arg)
{
    struct plugin_job j = *(struct plugin_job *)arg;
    free(arg);
    zv_unit_enter(j.ctx);
    j.done(j.arg);
    zv_unit_leave(j.ctx);
}

static int h_queue_work(zv_ctx *ctx, void (*work)(void *arg), void (*done)(void *arg), void *arg)
{
    if (!ctx->rt->workers || !work || !done) return -1;
    struct plugin_job *j = malloc(sizeof(*j));
    if (!j) return -1;
    *j = (struct plugin_job){ctx, work, done, arg};
    if (zv_workers_queue(ctx->rt->workers, job_work, job_done, j) != 0) {
        free(j);
        return -1;
    }
    return 0;
}

static const char *h_schedule(zv_ctx *ctx)
{
    if (strncmp(ctx->component, "format/", 7) != 0) return NULL;
    for (size_t i = 0; i < ctx->rt->cfg->ndests; i++)
        if (strcmp(ctx->rt->cfg->dests[i].name, ctx->name) == 0)
            return ctx->rt->cfg->dests[i].policy.schedule;
    return NULL;
}

static void h_count(zv_ctx *ctx, const char *counter, int64_t delta)
{
    zv_metrics_plugin_count(ctx->name, counter, delta);
    if (!ctx->rt->store) return;
    /* Inside this instance's unit they are part of it; otherwise they wait
     * in memory for the next unit that commits (one fsync less each). */
    if (zv_unit_is_open(ctx))
        zv_store_count_add(ctx->rt->store, ctx->name, "-", counter, delta);
    else
        zv_unit_count_later(ctx->rt, ctx->name, counter, delta);
}

static void h_problem(zv_ctx *ctx, const char *text)
{
    snprintf(ctx->problem, sizeof(ctx->problem), "%s", text ? text : "");
    for (char *p = ctx->problem; *p; p++)
        if ((unsigned char)*p < 0x20) *p = ' ';
    zv_bsn_scrub(ctx->problem);
}

static const char *h_state_dir(zv_ctx *ctx)
{
    if (ctx->state_dir) return ctx->state_dir;
    if (ctx->rt->mode == ZV_RT_VALIDATE) return zv_scratch_state_dir(ctx);
    size_t len = strlen(ctx->rt->cfg->state_dir) + strlen(ctx->component) + 16;
    char *p = malloc(len);
    if (!p) return NULL;
    snprintf(p, len, "%s/plugins", ctx->rt->cfg->state_dir);
    mkdir(ctx->rt->cfg->state_dir, 0700);
    mkdir(p, 0700);
    snprintf(p, len, "%s/plugins/%s", ctx->rt->cfg->state_dir, ctx->component);
    /* component is "kind/name": make both levels. */
    char *slash = strrchr(p, '/');
    *slash = '\0';
    mkdir(p, 0700);
    *slash = '/';
    if (mkdir(p, 0700) < 0 && errno != EEXIST) {
        zv_log(ZV_LOG_ERROR, ctx->component, "cannot create state directory %s: %s", p,
               strerror(errno));
        free(p);
        return NULL;
    }
    ctx->state_dir = p;
    return p;
}

/* Defined in httpd.c; declared here to keep the host table in one place. */
const char *zv_httpd_ex_method(zv_http_exchange *ex);
const char *zv_httpd_ex_header(zv_http_exchange *ex, const char *name);
const char *zv_httpd_ex_body(zv_http_exchange *ex, size_t *len);
void zv_httpd_ex_reply(zv_http_exchange *ex, int status, const char *ctype, const void *body,
                       size_t len);
/* host_disclose.c */
int zv_host_audit_disclosure(zv_ctx *ctx, const zv_query_disclosure *d);
int zv_host_retour(zv_ctx *ctx, const char *body, size_t len, char *err, size_t errlen);

static int h_https_listen(zv_ctx *ctx, const zv_https_spec *spec, zv_route_cb cb, void *arg,
                          char *err, size_t errlen)
{
    return zv_httpd_tls_listen(ctx, spec, cb, arg, err, errlen);
}

const zv_host zv_core_host = {
    .size = sizeof(zv_host),
    .abi_major = ZV_ABI_MAJOR,
    .abi_minor = ZV_ABI_MINOR,
    .log = h_log,
    .cfg_str = h_cfg_str,
    .cfg_int = h_cfg_int,
    .cfg_bool = h_cfg_bool,
    .cfg_number = h_cfg_number,
    .cfg_json = h_cfg_json,
    .instance_name = h_instance_name,
    .org = h_org,
    .timer_new = h_timer_new,
    .timer_arm = h_timer_arm,
    .timer_cancel = h_timer_cancel,
    .timer_free = h_timer_free,
    .watch_fd = h_watch_fd,
    .unwatch_fd = h_unwatch_fd,
    .http_request = h_http_request,
    .http_cancel = h_http_cancel,
    .http_route = h_http_route,
    .ex_method = zv_httpd_ex_method,
    .ex_header = zv_httpd_ex_header,
    .ex_body = zv_httpd_ex_body,
    .ex_reply = zv_httpd_ex_reply,
    .emit = h_emit,
    .commit = h_commit,
    .watermark_get = h_watermark_get,
    .watermark_set = h_watermark_set,
    .event_once = h_event_once,
    .drained = h_drained,
    .count = h_count,
    .add_payload = zv_render_add_payload,
    .reject_record = zv_render_reject,
    .verdict = zv_verdict_add,
    .state_dir = h_state_dir,
    .http_route_limit = h_http_route_limit,
    .staged_total = h_staged_total,
    .rollback = h_rollback,
    .rendered_fields = zv_render_fields,
    .queue_work = h_queue_work,
    .commit_async = h_commit_async,
    .config = h_config,
    .https_listen = h_https_listen,
    .ex_peer = zv_httpd_ex_peer,
    .audit_disclosure = zv_host_audit_disclosure,
    .retour = zv_host_retour,
    .problem = h_problem,
    .schedule = h_schedule,
    .not_counted = zv_render_not_counted,
};
