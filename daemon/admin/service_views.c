/* The admin API's read-only answers: status, outbox, dead letter, quarantine. */
#include "service_int.h"
#include "core/runtime_int.h"
#include "delivery/delivery.h"
#include "metrics.h"
#include "store/store_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *circuit_name(int c)
{
    return c == 1 ? "open" : c == 2 ? "half-open" : "closed";
}

static void status_daemon(svc *c)
{
    const zv_admin_env *e = c->env;
    zv_jw *w = c->w;
    zv_jw_key(w, "version");
    zv_jw_str(w, ZV_VERSION);
    zv_jw_key(w, "daemon");
    zv_jw_obj_open(w);
    zv_jw_key(w, "running");
    zv_jw_bool(w, e->rt != NULL);
    zv_jw_key(w, "pid");
    if (e->rt)
        zv_jw_int(w, getpid());
    else
        zv_jw_null(w);
    zv_jw_key(w, "started");
    svc_time(w, e->started);
    zv_jw_key(w, "uptime_s");
    if (e->rt)
        zv_jw_int(w, zv_now() - e->started);
    else
        zv_jw_null(w);
    zv_jw_obj_close(w);
    zv_jw_key(w, "config");
    zv_jw_obj_open(w);
    zv_jw_key(w, "file");
    zv_jw_str(w, e->cfg->file);
    zv_jw_key(w, "sha256");
    zv_jw_str(w, e->cfg->admin.config_sha256);
    char now[65];
    zv_admin_file_sha256(e->cfg->file, now);
    zv_jw_key(w, "changed_on_disk");
    zv_jw_bool(w, strcmp(now, e->cfg->admin.config_sha256) != 0);
    zv_jw_obj_close(w);
    zv_jw_key(w, "store");
    zv_jw_str(w, e->cfg->store_path);
    zv_jw_key(w, "health");
    zv_jw_obj_open(w);
    if (e->rt) {
        zv_buf r;
        zv_buf_init(&r);
        int h = zv_health_check(e->rt, &r);
        zv_jw_key(w, "status");
        zv_jw_str(w, h == 0 ? "ok" : h == 1 ? "degraded" : "stopping");
        zv_jw_key(w, "reasons");
        zv_jw_str(w, r.data ? r.data : "");
        zv_buf_free(&r);
    } else {
        zv_jw_key(w, "status");
        zv_jw_str(w, "not running");
        zv_jw_key(w, "reasons");
        zv_jw_str(w, "");
    }
    zv_jw_obj_close(w);
}

static void status_sources(svc *c)
{
    const zv_config *cfg = c->env->cfg;
    zv_jw *w = c->w;
    zv_jw_key(w, "sources");
    zv_jw_arr_open(w);
    for (size_t i = 0; i < cfg->nsources; i++) {
        const zv_msource *m = c->env->rt ? zv_metrics_source(cfg->sources[i].name) : NULL;
        zv_jw_obj_open(w);
        zv_jw_key(w, "name");
        zv_jw_str(w, cfg->sources[i].name);
        zv_jw_key(w, "type");
        zv_jw_str(w, cfg->sources[i].type);
        zv_jw_key(w, "records_in");
        zv_jw_int(w, m ? m->rec[ZV_MREC_IN] : 0);
        zv_jw_key(w, "last_activity");
        svc_time(w, m ? m->last_activity : 0);
        zv_jw_key(w, "last_file");
        svc_time(w, m ? m->last_file : 0);
        const zv_runtime *rt = c->env->rt;
        const zv_ctx *x = NULL;
        for (size_t k = 0; rt && k < rt->nsources && !x; k++)
            if (!strcmp(rt->sources[k].conf->name, cfg->sources[i].name))
                x = rt->sources[k].inst.ctx;
        zv_jw_key(w, "problem");
        if (x && x->problem[0])
            zv_jw_str(w, x->problem);
        else
            zv_jw_null(w);
        zv_jw_obj_close(w);
    }
    zv_jw_arr_close(w);
}

static const zv_dest_rt *dest_rt(const zv_runtime *rt, const char *name)
{
    for (size_t i = 0; rt && i < rt->ndests; i++)
        if (!strcmp(rt->dests[i].conf->name, name)) return &rt->dests[i];
    return NULL;
}

/* "problem": what the destination's format or transport reported
 * (host->problem), null when none. */
static void status_problem(zv_jw *w, const zv_dest_rt *d)
{
    const zv_ctx *f = d ? d->fmt.ctx : NULL, *t = d ? d->tr.ctx : NULL;
    const char *a = f && f->problem[0] ? f->problem : NULL;
    const char *b = t && t->problem[0] ? t->problem : NULL;
    zv_jw_key(w, "problem");
    if (!a && !b) {
        zv_jw_null(w);
        return;
    }
    char both[520];
    snprintf(both, sizeof(both), "%s%s%s", a ? a : "", a && b ? "; " : "", b ? b : "");
    zv_jw_str(w, both);
}

static void status_dest(svc *c, const zv_dest_conf *d)
{
    zv_store *s = c->env->store;
    zv_runtime *rt = c->env->rt;
    zv_jw *w = c->w;
    int64_t now = zv_now(), first = 0, last = 0;
    zv_jw_obj_open(w);
    zv_jw_key(w, "name");
    zv_jw_str(w, d->name);
    zv_jw_key(w, "format");
    zv_jw_str(w, d->format);
    zv_jw_key(w, "transport");
    zv_jw_str(w, d->transport);
    zv_jw_key(w, "staged");
    zv_jw_int(w, zv_store_staged_count(s, d->name));
    zv_jw_key(w, "pending");
    zv_jw_int(w, zv_store_outbox_count(s, d->name, "pending") +
                     zv_store_outbox_count(s, d->name, "inflight"));
    zv_jw_key(w, "dead_letter");
    zv_jw_int(w, zv_store_dlq_count(s, d->name));
    zv_jw_key(w, "oldest_pending_age_s");
    if (zv_store_outbox_oldest_pending(s, d->name, &first) == 0)
        zv_jw_int(w, now - first);
    else
        zv_jw_null(w);
    zv_delivery_metrics m = {0};
    int have = rt && rt->delivery && zv_delivery_metrics_get(rt->delivery, d->name, &m) == 0;
    zv_jw_key(w, "circuit");
    zv_jw_str(w, have ? circuit_name(m.circuit_open) : "unknown");
    zv_jw_key(w, "inflight");
    zv_jw_int(w, have ? m.inflight : 0);
    const zv_mdest *md = rt ? zv_metrics_dest(d->name) : NULL;
    zv_store_outbox_last_delivered(s, d->name, &last);
    if (md && md->last_success > last) last = md->last_success;
    zv_jw_key(w, "last_success");
    svc_time(w, last);
    zv_jw_key(w, "last_failure");
    svc_time(w, md ? md->last_failure : 0);
    zv_jw_key(w, "last_error");
    if (md && md->last_failure)
        svc_str_scrubbed(w, md->last_error);
    else
        zv_jw_null(w);
    status_problem(w, dest_rt(rt, d->name));
    zv_jw_obj_close(w);
}

int svc_status(svc *c)
{
    zv_jw_obj_open(c->w);
    status_daemon(c);
    status_sources(c);
    zv_jw_key(c->w, "destinations");
    zv_jw_arr_open(c->w);
    for (size_t i = 0; i < c->env->cfg->ndests; i++)
        status_dest(c, &c->env->cfg->dests[i]);
    zv_jw_arr_close(c->w);
    zv_jw_key(c->w, "quarantine");
    zv_jw_int(c->w, zv_store_quarantine_count(c->env->store));
    zv_jw_obj_close(c->w);
    return 200;
}

/* ---- outbox ---- */

static void outbox_row(zv_jw *w, const zv_outbox_row *r, int full)
{
    zv_jw_obj_open(w);
    zv_jw_key(w, "id");
    zv_jw_int(w, r->id);
    zv_jw_key(w, "destination");
    zv_jw_str(w, r->destination);
    zv_jw_key(w, "message");
    zv_jw_str(w, r->message);
    zv_jw_key(w, "idem_key");
    svc_str_scrubbed(w, r->idem_key);
    zv_jw_key(w, "state");
    zv_jw_str(w, r->state);
    zv_jw_key(w, "attempts");
    zv_jw_int(w, r->attempts);
    zv_jw_key(w, "first_enqueued");
    svc_time(w, r->first_enqueued);
    zv_jw_key(w, "next_attempt");
    if (r->state && strcmp(r->state, "pending") == 0)
        svc_time(w, r->next_attempt_ms / 1000);
    else
        zv_jw_null(w);
    zv_jw_key(w, "delivered_at");
    svc_time(w, r->delivered_at);
    zv_jw_key(w, "bytes");
    if (r->payload)
        zv_jw_int(w, (int64_t)r->len);
    else
        zv_jw_null(w);
    zv_jw_key(w, "last_error");
    svc_str_scrubbed(w, r->last_error);
    if (full) {
        zv_jw_key(w, "content_type");
        zv_jw_str(w, r->content_type);
        char sha[65] = "";
        if (r->payload) zv_sha256_hex(r->payload, r->len, sha);
        zv_jw_key(w, "payload_sha256");
        if (sha[0])
            zv_jw_str(w, sha);
        else
            zv_jw_null(w);
        zv_jw_key(w, "fields");
        svc_json_text(w, r->fields_json);
        zv_jw_key(w, "records");
        svc_json_text(w, r->records_json);
    }
    zv_jw_obj_close(w);
}

static int outbox_cb(const zv_outbox_row *r, void *arg)
{
    outbox_row(arg, r, 0);
    return 0;
}

static int64_t limit_param(svc *c)
{
    char buf[32];
    const char *l = zv_admin_query(c->req->query, "limit", buf, sizeof(buf));
    long long n = l ? strtoll(l, NULL, 10) : 0;
    return n > 0 && n <= 100000 ? n : 0;
}

int svc_outbox_list(svc *c)
{
    char dbuf[128], sbuf[32];
    const char *dest = zv_admin_query(c->req->query, "destination", dbuf, sizeof(dbuf));
    const char *state = zv_admin_query(c->req->query, "state", sbuf, sizeof(sbuf));
    zv_jw_arr_open(c->w);
    if (zv_store_outbox_list(c->env->store, dest, state, limit_param(c), outbox_cb, c->w) < 0)
        return svc_error(c, 500, "store: %s", zv_store_errmsg(c->env->store));
    zv_jw_arr_close(c->w);
    return 200;
}

static int outbox_full_cb(const zv_outbox_row *r, void *arg)
{
    outbox_row(arg, r, 1);
    return 0;
}

int svc_outbox_show(svc *c, int64_t id)
{
    int r = zv_store_outbox_get(c->env->store, id, outbox_full_cb, c->w);
    if (r < 0) return svc_error(c, 500, "store: %s", zv_store_errmsg(c->env->store));
    if (r == 1) return svc_error(c, 404, "no outbox payload %lld", (long long)id);
    return 200;
}

/* ---- dead letter ---- */

static int dlq_cb(const zv_dlq_entry *e, void *arg)
{
    zv_jw *w = arg;
    zv_jw_obj_open(w);
    zv_jw_key(w, "id");
    zv_jw_int(w, e->id);
    zv_jw_key(w, "outbox_id");
    zv_jw_int(w, e->outbox_id);
    zv_jw_key(w, "created");
    svc_time(w, e->created);
    zv_jw_key(w, "destination");
    zv_jw_str(w, e->destination);
    zv_jw_key(w, "message");
    zv_jw_str(w, e->message);
    zv_jw_key(w, "idem_key");
    svc_str_scrubbed(w, e->idem_key);
    zv_jw_key(w, "record_key");
    svc_str_scrubbed(w, e->record_key);
    zv_jw_key(w, "record_ref");
    svc_str_scrubbed(w, e->record_ref);
    zv_jw_key(w, "http_status");
    zv_jw_int(w, e->http_status);
    zv_jw_key(w, "codes");
    zv_jw_str(w, e->codes);
    zv_jw_key(w, "attempts");
    zv_jw_int(w, e->attempts);
    zv_jw_key(w, "reason");
    svc_str_scrubbed(w, e->reason);
    zv_jw_key(w, "retryable");
    zv_jw_bool(w, e->record_key == NULL);
    zv_jw_obj_close(w);
    return 0;
}

int svc_dlq_list(svc *c)
{
    zv_jw_arr_open(c->w);
    if (zv_store_dlq_each(c->env->store, dlq_cb, c->w) < 0)
        return svc_error(c, 500, "store: %s", zv_store_errmsg(c->env->store));
    zv_jw_arr_close(c->w);
    return 200;
}

int svc_dlq_show(svc *c, int64_t id)
{
    int r = zv_store_dlq_get(c->env->store, id, dlq_cb, c->w);
    if (r < 0) return svc_error(c, 500, "store: %s", zv_store_errmsg(c->env->store));
    if (r == 1) return svc_error(c, 404, "no dead letter entry %lld", (long long)id);
    return 200;
}
