/* Building, starting and stopping a runtime; see runtime.h. */
#include "runtime_int.h"
#include "lifecycle.h"
#include "format_fields.h"
#include "../audit/client_key.h"
#include "delivery/delivery.h"
#include "log.h"
#include "plugin_loader.h"
#include "workers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* In once mode, how long delivery may keep retrying before we give up and
 * leave the rest queued for the next run. */
#define ONCE_PATIENCE_S 30

zv_ctx *zv_ctx_new(zv_runtime *rt, const char *name, const char *kind)
{
    zv_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx) return NULL;
    ctx->rt = rt;
    ctx->name = name;
    snprintf(ctx->component, sizeof(ctx->component), "%s/%s", kind, name);
    return ctx;
}

void zv_ctx_free(zv_ctx *ctx)
{
    if (!ctx) return;
    zv_options_free(ctx);
    free(ctx->state_dir);
    free(ctx);
}

/* Load a plugin, resolve its options and create the instance. */
static int make_instance(zv_runtime *rt, zv_instance *inst, zv_plugin_kind kind, const char *type,
                         const char *name, const zv_json *options, const char *path,
                         const char *optpath, zv_errors *errs)
{
    char err[1024];
    const char *kindname = zv_plugin_kind_name(kind);
    inst->desc = zv_plugin_open(rt->cfg->plugin_dir, kind, type, err, sizeof(err));
    if (!inst->desc) {
        zv_errors_add(errs, rt->cfg->file, path, "%s", err);
        return -1;
    }
    inst->ctx = zv_ctx_new(rt, name, kindname);
    if (!inst->ctx) return -1;
    if (zv_options_resolve(inst->ctx, inst->desc, options, optpath, errs) < 0) return -1;
    /* A dry run creates formats only: a source or transport would start
     * watching, make its folders or connect. */
    if (rt->mode == ZV_RT_DRY && kind != ZV_PLUGIN_FORMAT) return 0;
    err[0] = '\0';
    if (inst->desc->create(inst->ctx, rt->host, &inst->state, err, sizeof(err)) != 0) {
        zv_errors_add(errs, rt->cfg->file, optpath, "plugin '%s': %s", inst->desc->name,
                      err[0] ? err : "refused its configuration");
        inst->state = NULL;
        return -1;
    }
    return 0;
}

static void drop_instance(zv_instance *inst)
{
    if (inst->desc && inst->state) inst->desc->destroy(inst->state);
    zv_ctx_free(inst->ctx);
    memset(inst, 0, sizeof(*inst));
}

static void build_source(zv_runtime *rt, zv_source_rt *s, const zv_source_conf *c, zv_errors *errs)
{
    char path[64], optpath[64];
    s->conf = c;
    zv_path_key(path, sizeof(path), c->path, "type");
    zv_path_key(optpath, sizeof(optpath), c->path, "options");
    zv_path_key(path, sizeof(path), c->path, "mapping");
    s->mapping = zv_mapping_compile(c->mapping, c->name, rt->cfg->file, path, errs);
    zv_path_key(path, sizeof(path), c->path, "type");
    if (make_instance(rt, &s->inst, ZV_PLUGIN_SOURCE, c->type, c->name, c->options, path, optpath,
                      errs) == 0 ||
        s->inst.ctx)
        s->inst.ctx->src = s;
}

static zv_catalogue *load_catalogue(zv_runtime *rt, const zv_dest_conf *c, const zv_message_decl *m,
                                    zv_errors *errs)
{
    char path[96];
    const char *file = zv_json_str(zv_json_get(c->catalogue, "file"), NULL);
    if (!file) file = m->catalogue;
    zv_path_key(path, sizeof(path), c->path, "catalogue.file");
    if (!file) {
        zv_errors_add(errs, rt->cfg->file, path,
                      "format '%s' has no built-in catalogue: name one here", c->format);
        return NULL;
    }
    char full[4096];
    if (file[0] == '/')
        snprintf(full, sizeof(full), "%s", file);
    else
        snprintf(full, sizeof(full), "%s/%s", rt->cfg->catalogue_dir, file);
    zv_catalogue *cat = zv_catalogue_load(full, errs);
    if (!cat) return NULL;
    const char *msg = zv_catalogue_message(cat);
    if (!zv_json_get(c->catalogue, "file") && msg && strcmp(msg, m->name) != 0)
        zv_errors_add(errs, full, "message", "is \"%s\" but format '%s' expects \"%s\"", msg,
                      c->format, m->name);
    zv_path_key(path, sizeof(path), c->path, "catalogue");
    if (c->catalogue && zv_catalogue_override(cat, c->catalogue, rt->cfg->file, path, errs) < 0) {
        zv_catalogue_free(cat);
        return NULL;
    }
    return cat;
}

static void build_match(zv_runtime *rt, zv_dest_rt *d, zv_errors *errs)
{
    const zv_json *m = d->conf->match;
    size_t n = zv_json_len(m);
    if (!n) return;
    d->match = calloc(n, sizeof(*d->match));
    if (!d->match) return;
    char path[128];
    for (size_t i = 0; i < n; i++) {
        const char *key = zv_json_key_at(m, i);
        const zv_json *v = zv_json_at(m, i);
        char base[64];
        zv_path_key(base, sizeof(base), d->conf->path, "match");
        zv_path_key(path, sizeof(path), base, key);
        int f = zv_field_by_name(key);
        if (f < 0) {
            zv_errors_add(errs, rt->cfg->file, path, "unknown model field");
            continue;
        }
        int ok = zv_json_type_of(v) == ZV_JSON_STRING;
        if (zv_json_type_of(v) == ZV_JSON_ARRAY) {
            ok = zv_json_len(v) > 0;
            for (size_t k = 0; k < zv_json_len(v); k++)
                if (zv_json_type_of(zv_json_at(v, k)) != ZV_JSON_STRING) ok = 0;
        }
        if (!ok) {
            zv_errors_add(errs, rt->cfg->file, path, "expected a string or a list of strings");
            continue;
        }
        d->match[d->nmatch].field = f;
        d->match[d->nmatch].values = v;
        d->nmatch++;
    }
}

static void build_dest(zv_runtime *rt, zv_dest_rt *d, const zv_dest_conf *c, zv_errors *errs)
{
    char path[64], optpath[64];
    d->conf = c;
    zv_path_key(path, sizeof(path), c->path, "format");
    zv_path_key(optpath, sizeof(optpath), c->path, "format_options");
    int fmt_ok = make_instance(rt, &d->fmt, ZV_PLUGIN_FORMAT, c->format, c->name, c->format_options,
                               path, optpath, errs) == 0;
    zv_path_key(path, sizeof(path), c->path, "transport");
    zv_path_key(optpath, sizeof(optpath), c->path, "transport_options");
    make_instance(rt, &d->tr, ZV_PLUGIN_TRANSPORT, c->transport, c->name, c->transport_options,
                  path, optpath, errs);
    build_match(rt, d, errs);
    if (!fmt_ok) return;
    d->nmsg = zv_plugin_nmessages(d->fmt.desc);
    d->aggregate = (zv_plugin_format_flags(d->fmt.desc) & ZV_FORMAT_AGGREGATE) != 0;
    d->cats = calloc(d->nmsg, sizeof(*d->cats));
    d->mins = calloc(d->nmsg, sizeof(*d->mins));
    if (!d->cats || !d->mins) return;
    for (size_t m = 0; m < d->nmsg; m++) {
        /* A message this destination never receives needs no catalogue. */
        if (!zv_plugin_message_active(d->fmt.desc, c->format_options, (int)m)) continue;
        d->cats[m] = load_catalogue(rt, c, zv_plugin_message(d->fmt.desc, m), errs);
        if (d->cats[m]) zv_dest_check_fields(rt, d, (int)m, errs);
        if (d->cats[m]) d->mins[m] = zv_minimiser_new(d->cats[m], c->policy.threshold);
    }
}

zv_runtime *zv_runtime_build(zv_config *cfg, struct event_base *base, zv_rt_mode mode,
                             zv_errors *errs)
{
    return zv_runtime_build_host(cfg, base, mode, NULL, errs);
}

zv_runtime *zv_runtime_build_host(zv_config *cfg, struct event_base *base, zv_rt_mode mode,
                                  const zv_host *host, zv_errors *errs)
{
    zv_runtime *rt = calloc(1, sizeof(*rt));
    if (!rt) {
        zv_config_free(cfg);
        return NULL;
    }
    rt->cfg = cfg;
    rt->mode = mode;
    rt->host = host ? host : &zv_core_host;
    rt->base = base;
    size_t before = errs->n;
    rt->sources = calloc(cfg->nsources ? cfg->nsources : 1, sizeof(*rt->sources));
    rt->dests = calloc(cfg->ndests ? cfg->ndests : 1, sizeof(*rt->dests));
    if (!rt->sources || !rt->dests) goto fail;
    rt->nsources = cfg->nsources;
    rt->ndests = cfg->ndests;
    for (size_t i = 0; i < cfg->nsources; i++)
        build_source(rt, &rt->sources[i], &cfg->sources[i], errs);
    for (size_t i = 0; i < cfg->ndests; i++)
        build_dest(rt, &rt->dests[i], &cfg->dests[i], errs);
    if (errs->n == before) return rt;
fail:
    zv_runtime_free(rt);
    return NULL;
}

/* What to do after a work unit of d: the next one, or the window again. */
static void after_unit(zv_runtime *rt, zv_dest_rt *d, int r)
{
    if (rt->stopping || r == 2) return; /* 2: on a worker; after_unit follows */
    if (r == 1) {
        /* More staged: the next work unit after the loop has run once. */
        struct timeval now = {0, 0};
        evtimer_add(d->batch_timer, &now);
    } else if (r < 0) {
        /* Records stay staged; try the window again. */
        struct timeval tv = {d->conf->policy.batch_window_s ? d->conf->policy.batch_window_s : 5,
                             0};
        evtimer_add(d->batch_timer, &tv);
    }
}

static void batch_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zv_dest_rt *d = arg;
    zv_runtime *rt = d->fmt.ctx->rt;
    if (zv_unit_store_gate(rt, d->batch_timer, 0)) return;
    after_unit(rt, d, zv_pipeline_flush_step(rt, d));
}

/* Once mode: a unit that ran on a worker ended; the poll goes on. */
static void once_unit_done(zv_runtime *rt, zv_dest_rt *d, int r)
{
    (void)d;
    if (r < 0) rt->once_failed = 1;
    struct timeval now = {0, 0};
    if (rt->stop_poll && !rt->stopping) evtimer_add(rt->stop_poll, &now);
}

static int ensure_state_dir(const char *dir, char *err, size_t errlen)
{
    /* The store under it holds BSNs: its mode is ours, not the umask's. */
    return zv_store_state_dir(dir, err, errlen);
}

int zv_runtime_open_store(zv_runtime *rt, char *err, size_t errlen)
{
    if (rt->store) return 0;
    if (ensure_state_dir(rt->cfg->state_dir, err, errlen) < 0) return -1;
    int shared = zv_store_is_url(rt->cfg->store_path) &&
                 (rt->mode == ZV_RT_RUN || rt->mode == ZV_RT_ONCE || rt->open_shared);
    if (shared) {
        if (zv_runtime_shared_store_check(rt, err, errlen) < 0) return -1;
        zv_store_target t;
        if (zv_store_target_parse(rt->cfg->store_path, rt->cfg->state_dir,
                                  rt->cfg->store_password_file, &t, err, errlen) < 0)
            return -1;
        rt->sb = zv_sb_open(&t, rt->cfg->node, err, errlen);
        zv_store_target_free(&t);
        if (!rt->sb) return -1;
        rt->shared = 1;
    }
    char serr[512], local[4096];
    /* On PostgreSQL the node keeps what is its own (the client-key secret
     * beside it, and the tables of the parts not shared yet, empty while
     * this node reads no sources) in a file of its own. */
    if (shared) snprintf(local, sizeof(local), "%s/" ZV_NODE_STORE, rt->cfg->state_dir);
    const char *path = shared ? local : rt->cfg->store_path;
    rt->store = zv_store_open(path, serr, sizeof(serr));
    if (!rt->store) {
        snprintf(err, errlen, "store %s: %s", path, serr);
        return -1;
    }
    if (!rt->sb) rt->sb = zv_sb_wrap(rt->store, rt->cfg->node);
    if (!rt->sb) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (zv_client_secret_load(rt->cfg->state_dir, 1, rt->client_secret, err, errlen) < 0) return -1;
    rt->client_secret_ok = 1;
    return 0;
}

int zv_runtime_flush(zv_runtime *rt)
{
    return zv_pipeline_flush_all(rt);
}

int zv_runtime_start(zv_runtime *rt, char *err, size_t errlen)
{
    rt->t_start = zv_mono_ns();
    if (zv_runtime_open_store(rt, err, errlen) < 0) return -1;
    /* Source units (commit_async) share one commit per turn of the loop. */
    if (zv_unit_group_setup(rt) < 0) {
        snprintf(err, errlen, "cannot set up group commit");
        return -1;
    }
    rt->http = zv_http_client_new(rt->base);
    if (!rt->http) {
        snprintf(err, errlen, "cannot create the HTTP client");
        return -1;
    }
    if (zv_httpd_start(rt, err, errlen) < 0) return -1;
    rt->workers = zv_workers_new(rt->base, 0);
    if (!rt->workers) {
        snprintf(err, errlen, "cannot start the worker threads");
        return -1;
    }
    rt->delivery = zv_delivery_new_sb(rt->base, rt->sb, rt->http, rt->cfg->retention_s,
                                      rt->cfg->store_lease_ms);
    if (!rt->delivery) {
        snprintf(err, errlen, "cannot create the delivery engine");
        return -1;
    }
    /* Callbacks that write wait for no commit of the store's writer: they
     * come back when it has ended (a shared PostgreSQL outbox is not it). */
    zv_workers_set_gate(rt->workers, zv_unit_store_gate, rt);
    if (zv_sb_kind(rt->sb) == ZV_STORE_SQLITE)
        zv_delivery_set_gate(rt->delivery, zv_unit_store_gate, rt);
    for (size_t i = 0; i < rt->ndests; i++) {
        zv_dest_rt *d = &rt->dests[i];
        d->batch_timer = evtimer_new(rt->base, batch_timer_cb, d);
        /* Rendering goes to the worker threads; its end comes back here. */
        d->on_unit = rt->mode == ZV_RT_ONCE ? once_unit_done : after_unit;
        if (!d->batch_timer ||
            zv_delivery_add(rt->delivery, d->conf->name, &d->conf->policy, &d->tr, &d->fmt) < 0) {
            snprintf(err, errlen, "cannot set up delivery for %s", d->conf->name);
            return -1;
        }
        /* Records staged before a restart wait for a new window. */
        if (rt->mode == ZV_RT_RUN && zv_sb_staged_count(rt->sb, d->conf->name) > 0) {
            d->dirty = 1;
            struct timeval tv = {d->conf->policy.batch_window_s, 0};
            evtimer_add(d->batch_timer, &tv);
        }
    }
    zv_delivery_start(rt->delivery);
    rt->started = 1;
    /* Records waiting for their day: the ones due now go first. */
    if (zv_lifecycle_start(rt) < 0) {
        snprintf(err, errlen, "waiting records could not be processed: %s",
                 zv_store_errmsg(rt->store));
        return -1;
    }
    if (zv_retour_dirs_start(rt) < 0) {
        snprintf(err, errlen, "cannot watch the retour folders");
        return -1;
    }
    if (zv_unit_writer_start(rt, err, errlen) < 0) return -1;
    /* On a PostgreSQL store a source that needs its lease starts when this
     * node holds it (source_lease.c); the others start now. */
    return zv_source_leases_start(rt, err, errlen);
}

int zv_runtime_start_source(zv_runtime *rt, zv_source_rt *s, char *err, size_t errlen)
{
    zv_unit_enter(s->inst.ctx);
    int r = rt->mode == ZV_RT_ONCE ? s->inst.desc->source->drain(s->inst.state)
                                   : s->inst.desc->source->start(s->inst.state);
    zv_unit_leave(s->inst.ctx);
    if (r != 0) {
        snprintf(err, errlen, "source %s (%s) failed to start", s->conf->name, s->inst.desc->name);
        return -1;
    }
    return 0;
}

/* ---- once mode ---- */

/* Where the time of a once run went: read (the sources, without emit),
 * map (emit and commit: mapping, minimiser, staging), render+validate per
 * destination (inside the format), deliver (the engine's own time on the
 * loop) and the tail from the last render to the end. */
static void log_stage_times(zv_runtime *rt)
{
    int64_t now = zv_mono_ns();
    int64_t drained = rt->t_drained ? rt->t_drained : now;
    int64_t rendered = rt->t_rendered ? rt->t_rendered : now;
    double read = (double)(drained - rt->t_start - rt->emit_ns) / 1e9;
    double render = 0, units = 0;
    for (size_t i = 0; i < rt->ndests; i++) {
        zv_dest_rt *d = &rt->dests[i];
        double s = (double)d->render_ns / 1e9;
        render += s;
        double cpu = (double)d->render_cpu_ns / 1e9;
        zv_log(ZV_LOG_INFO, d->fmt.ctx->component,
               "timing: render+validate %.3f s for %lld records (%.0f records/s), %lld payloads; "
               "work units in all %.3f s; render CPU %.3f s (%.0f records/s per core)",
               s, (long long)d->render_records, s > 0 ? (double)d->render_records / s : 0.0,
               (long long)d->payloads, (double)d->unit_ns / 1e9, cpu,
               cpu > 0 ? (double)d->render_records / cpu : 0.0);
        units += (double)d->unit_ns / 1e9;
    }
    zv_log(ZV_LOG_INFO, "core",
           "timing: wall %.3f s; read %.3f s, map %.3f s, render+validate %.3f s (work units "
           "%.3f s), deliver %.3f s, after the last render %.3f s",
           (double)(now - rt->t_start) / 1e9, read < 0 ? 0 : read, (double)rt->emit_ns / 1e9,
           render, units, rt->delivery ? (double)zv_delivery_busy_ns(rt->delivery) / 1e9 : 0.0,
           (double)(now - rendered) / 1e9);
}

static void once_settled(void *arg)
{
    zv_runtime *rt = arg;
    int status = 0;
    log_stage_times(rt);
    for (size_t i = 0; i < rt->ndests; i++) {
        int64_t left = zv_sb_outbox_count(rt->sb, rt->dests[i].conf->name, "pending");
        if (left > 0) {
            zv_log(ZV_LOG_WARN, rt->dests[i].fmt.ctx->component,
                   "%lld payloads still queued for a later run", (long long)left);
            status = 75; /* EX_TEMPFAIL: nothing lost, delivery continues next run */
        }
    }
    if (rt->finished_cb) rt->finished_cb(rt->finished_arg, status);
}

static void once_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zv_runtime *rt = arg;
    for (size_t i = 0; i < rt->nsources; i++)
        if (!rt->sources[i].drained) {
            struct timeval tv = {0, 50000};
            evtimer_add(rt->stop_poll, &tv);
            return;
        }
    zv_unit_flush_counts(rt);
    /* One work unit per destination per turn, so delivery runs in between;
     * a unit on a worker thread re-arms this poll when it ends.  A unit
     * starts only when a worker is free to take it: one waiting in the
     * pool's queue would hold its decoded records meanwhile (with six
     * destinations, four units of 5,000 records; issue 13).  The turn
     * starts after the last destination that started one, so every
     * destination gets the next free worker in turn. */
    int more = 0, busy = 0, units = 0;
    size_t n = rt->ndests, first = n ? rt->once_next % n : 0;
    for (size_t i = 0; i < n; i++)
        units += rt->dests[i].rendering;
    for (size_t k = 0; k < n && !rt->once_failed; k++) {
        size_t i = (first + k) % n;
        zv_dest_rt *d = &rt->dests[i];
        int was = d->rendering;
        /* Held back only while a unit runs, whose end re-arms the poll. */
        if (!was && units && d->fmt.desc &&
            zv_workers_pending(rt->workers) >= zv_workers_threads(rt->workers)) {
            busy = 1;
            continue;
        }
        int r = zv_pipeline_flush_step(rt, d);
        if (r < 0) rt->once_failed = 1;
        if (r == 2 && !was) {
            units++;
            rt->once_next = i + 1;
        }
        more |= r == 1;
        busy |= r == 2;
    }
    if (rt->once_failed && !busy) {
        if (rt->finished_cb) rt->finished_cb(rt->finished_arg, 1);
        return;
    }
    if (more && !rt->once_failed) {
        struct timeval tv = {0, 0};
        evtimer_add(rt->stop_poll, &tv);
        return;
    }
    if (busy) return;
    rt->t_rendered = zv_mono_ns();
    zv_delivery_when_settled(rt->delivery, ONCE_PATIENCE_S, once_settled, rt);
}

void zv_runtime_on_finished(zv_runtime *rt, void (*cb)(void *arg, int status), void *arg)
{
    rt->finished_cb = cb;
    rt->finished_arg = arg;
    if (rt->mode != ZV_RT_ONCE) return;
    rt->stop_poll = evtimer_new(rt->base, once_poll, rt);
    struct timeval tv = {0, 0};
    if (rt->stop_poll) evtimer_add(rt->stop_poll, &tv);
}

void zv_runtime_on_lease_lost(zv_runtime *rt, void (*cb)(void *arg), void *arg)
{
    rt->lease_lost_cb = cb;
    rt->lease_lost_arg = arg;
}

/* ---- stopping ---- */

static void stop_poll_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zv_runtime *rt = arg;
    if ((rt->delivery && zv_delivery_busy(rt->delivery)) ||
        (rt->http && zv_http_client_active(rt->http)) || zv_workers_pending(rt->workers) > 0) {
        struct timeval tv = {0, 50000};
        evtimer_add(rt->stop_poll, &tv);
        return;
    }
    if (rt->stopped_cb) rt->stopped_cb(rt->stopped_arg);
}

void zv_runtime_stop(zv_runtime *rt, void (*done)(void *arg), void *arg)
{
    rt->stopping = 1;
    rt->stopped_cb = done;
    rt->stopped_arg = arg;
    /* Each source commits what it handed over in its stop() (a unit like any
     * callback); staged records wait in the store for the next window, so
     * nothing is lost on stop. */
    for (size_t i = 0; i < rt->nsources && rt->started; i++) {
        if (!rt->sources[i].reading) continue; /* standing by for its lease */
        zv_unit_enter(rt->sources[i].inst.ctx);
        rt->sources[i].inst.desc->source->stop(rt->sources[i].inst.state);
        zv_unit_leave(rt->sources[i].inst.ctx);
    }
    zv_source_leases_stop(rt);
    zv_unit_flush_counts(rt);
    for (size_t i = 0; i < rt->ndests; i++)
        if (rt->dests[i].batch_timer) evtimer_del(rt->dests[i].batch_timer);
    if (rt->delivery) zv_delivery_stop(rt->delivery);
    if (rt->stop_poll) event_free(rt->stop_poll);
    zv_lifecycle_stop(rt);
    zv_retour_dirs_stop(rt);
    rt->stop_poll = evtimer_new(rt->base, stop_poll_cb, rt);
    struct timeval tv = {0, 0};
    evtimer_add(rt->stop_poll, &tv);
}

void zv_runtime_free(zv_runtime *rt)
{
    if (!rt) return;
    /* Work still on the threads ends first, its done() while every
     * instance and the store are still there. */
    rt->stopping = 1;
    /* Each is a stall of the loop (a unit begun while a group was being
     * fsync'd): tests/bench/loop_bench reports the count. */
    if (rt->store && (zv_store_loop_waits(rt->store) > 0 || zv_store_loop_deferrals(rt->store) > 0))
        zv_log(ZV_LOG_INFO, "core",
               "the loop waited %lld times for the store writer's commit (%lld callbacks held "
               "back until it ended instead)",
               (long long)zv_store_loop_waits(rt->store),
               (long long)zv_store_loop_deferrals(rt->store));
    zv_workers_free(rt->workers);
    rt->workers = NULL;
    /* A render unit's writes lent to the store's writer end here too. */
    if (rt->store) zv_store_lent_finish(rt->store);
    zv_unit_group_end(rt);
    if (rt->stop_poll) event_free(rt->stop_poll);
    /* A runtime freed without zv_runtime_stop (a start that failed half-way,
     * a crash in the testbed) still owns these timers. */
    zv_lifecycle_stop(rt);
    zv_retour_dirs_stop(rt);
    zv_source_leases_stop(rt);
    for (size_t i = 0; i < rt->nsources; i++) {
        drop_instance(&rt->sources[i].inst);
        zv_mapping_free(rt->sources[i].mapping);
    }
    if (rt->delivery) zv_delivery_free(rt->delivery);
    for (size_t i = 0; i < rt->ndests; i++) {
        zv_dest_rt *d = &rt->dests[i];
        if (d->batch_timer) {
            zv_unit_store_gate(rt, d->batch_timer, 1);
            event_free(d->batch_timer);
        }
        drop_instance(&d->tr);
        drop_instance(&d->fmt);
        for (size_t m = 0; m < d->nmsg; m++) {
            if (d->mins) zv_minimiser_free(d->mins[m]);
            if (d->cats) zv_catalogue_free(d->cats[m]);
        }
        free(d->mins);
        free(d->cats);
        free(d->match);
    }
    free(rt->sources);
    free(rt->dests);
    zv_httpd_free(rt);
    if (rt->http) zv_http_client_free(rt->http);
    zv_unit_flush_counts(rt);
    zv_unit_free_counts(rt);
    /* What joined a group after zv_unit_group_end (the counters, a plugin's
     * last words in destroy) is committed before the writer goes. */
    if (rt->store) zv_store_group_commit_sync(rt->store);
    zv_sb_close(rt->sb); /* the SQLite wrap leaves rt->store open */
    if (rt->store) zv_store_close(rt->store);
    zv_config_free(rt->cfg);
    /* Last: the plugins that used their scratch state are gone now. */
    zv_scratch_free(rt);
    free(rt);
}

const zv_config *zv_runtime_config(const zv_runtime *rt)
{
    return rt->cfg;
}

void zv_runtime_summary(zv_runtime *rt, char *out, size_t outlen)
{
    size_t o = 0;
    int64_t items = 0, quarantined = 0, same = 0;
    for (size_t i = 0; i < rt->nsources; i++) {
        items += rt->sources[i].items;
        quarantined += rt->sources[i].quarantined;
        same += rt->sources[i].unchanged;
    }
    o += (size_t)snprintf(out + o, outlen - o,
                          "records in: %lld (quarantined at mapping: %lld, %lld unchanged)",
                          (long long)items, (long long)quarantined, (long long)same);
    for (size_t i = 0; i < rt->ndests && o < outlen; i++) {
        zv_dest_rt *d = &rt->dests[i];
        o += (size_t)snprintf(
            out + o, outlen - o,
            "; %s: %lld records staged, %lld messages out, %lld quarantined, %lld unchanged",
            d->conf->name, (long long)d->staged, (long long)d->payloads,
            (long long)(d->quarantined + d->rejected - d->waiting), (long long)d->unchanged);
        if (d->waiting && o < outlen)
            o += (size_t)snprintf(out + o, outlen - o, ", %lld waiting for their day",
                                  (long long)d->waiting);
    }
}
