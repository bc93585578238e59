/*
 * The admin API's state-changing calls.  Each one is written to the audit
 * trail with who asked (the socket peer's uid or the token's name), in the
 * same transaction as the change where the store offers one.
 */
#include "service_int.h"
#include "core/log.h"
#include "core/runtime_int.h"
#include "delivery/delivery.h"
#include "store/store_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *who(const svc *c)
{
    return c->req->who ? c->req->who : "unknown";
}

static int done(svc *c, int64_t id, const char *result)
{
    zv_jw_obj_open(c->w);
    zv_jw_key(c->w, "id");
    zv_jw_int(c->w, id);
    zv_jw_key(c->w, "result");
    zv_jw_str(c->w, result);
    zv_jw_obj_close(c->w);
    return 200;
}

static void note(svc *c, const char *dest, const char *idem, const char *msg, const char *fmt,
                 int64_t id, const char *extra)
{
    char detail[1024];
    snprintf(detail, sizeof(detail), fmt, (long long)id, extra ? extra : "");
    size_t n = strlen(detail);
    snprintf(detail + n, sizeof(detail) - n, " by %s", who(c));
    if (zv_store_audit_note(c->env->store, zv_now(), dest, idem, msg, detail) < 0)
        zv_log(ZV_LOG_ERROR, "admin", "audit trail: %s", zv_store_errmsg(c->env->store));
    zv_log(ZV_LOG_NOTICE, "admin", "%s", detail);
}

/* What an outbox row or dead letter entry is about, for the audit entry. */
struct about {
    int found;
    char dest[128], idem[256], msg[64];
    int per_record;
};

static int about_outbox(const zv_outbox_row *r, void *arg)
{
    struct about *a = arg;
    a->found = 1;
    snprintf(a->dest, sizeof(a->dest), "%s", r->destination ? r->destination : "");
    snprintf(a->idem, sizeof(a->idem), "%s", r->idem_key ? r->idem_key : "");
    snprintf(a->msg, sizeof(a->msg), "%s", r->message ? r->message : "");
    return 0;
}

static int about_dlq(const zv_dlq_entry *e, void *arg)
{
    struct about *a = arg;
    a->found = 1;
    snprintf(a->dest, sizeof(a->dest), "%s", e->destination ? e->destination : "");
    snprintf(a->idem, sizeof(a->idem), "%s", e->idem_key ? e->idem_key : "");
    snprintf(a->msg, sizeof(a->msg), "%s", e->message ? e->message : "");
    a->per_record = e->record_key != NULL;
    return 0;
}

static void kick(svc *c, const char *dest)
{
    if (c->env->rt && c->env->rt->delivery) zv_delivery_kick(c->env->rt->delivery, dest);
}

int svc_outbox_action(svc *c, int64_t id, const char *action)
{
    zv_store *s = c->env->store;
    struct about a = {0};
    if (zv_store_outbox_get(s, id, about_outbox, &a) < 0)
        return svc_error(c, 500, "store: %s", zv_store_errmsg(s));
    if (!a.found) return svc_error(c, 404, "no outbox payload %lld", (long long)id);
    if (strcmp(action, "drop") == 0) {
        int r = zv_store_outbox_drop(s, id, zv_now(), who(c));
        if (r == 1) return svc_error(c, 409, "%s", zv_store_errmsg(s));
        if (r < 0) return svc_error(c, 500, "store: %s", zv_store_errmsg(s));
        zv_log(ZV_LOG_NOTICE, "admin", "outbox payload %lld dropped by %s (audited)", (long long)id,
               who(c));
        return done(c, id, "dropped (recorded in the audit trail)");
    }
    int r = zv_store_outbox_retry_now(s, id, zv_now() * 1000);
    if (r == 1) return svc_error(c, 409, "%s", zv_store_errmsg(s));
    if (r < 0) return svc_error(c, 500, "store: %s", zv_store_errmsg(s));
    note(c, a.dest, a.idem, a.msg, "outbox payload %lld set to be tried now%s", id, NULL);
    kick(c, a.dest);
    return done(c, id, "will be tried now");
}

int svc_dlq_action(svc *c, int64_t id, const char *action)
{
    zv_store *s = c->env->store;
    struct about a = {0};
    if (zv_store_dlq_get(s, id, about_dlq, &a) < 0)
        return svc_error(c, 500, "store: %s", zv_store_errmsg(s));
    if (!a.found) return svc_error(c, 404, "no dead letter entry %lld", (long long)id);
    if (strcmp(action, "drop") == 0) {
        char by[256];
        snprintf(by, sizeof(by), "dropped by %s", who(c));
        int r = zv_store_dlq_drop(s, id, zv_now(), by);
        if (r == 1) return svc_error(c, 404, "%s", zv_store_errmsg(s));
        if (r < 0) return svc_error(c, 500, "store: %s", zv_store_errmsg(s));
        zv_log(ZV_LOG_NOTICE, "admin", "dead letter entry %lld dropped by %s (audited)",
               (long long)id, who(c));
        return done(c, id, "dropped (recorded in the audit trail)");
    }
    int r = zv_store_dlq_retry(s, id, zv_now());
    if (r == 1) return svc_error(c, 409, "%s", zv_store_errmsg(s));
    if (r < 0) return svc_error(c, 500, "store: %s", zv_store_errmsg(s));
    note(c, a.dest, a.idem, a.msg, "dead letter entry %lld queued again%s", id, NULL);
    kick(c, a.dest);
    return done(c, id, "queued again (same idempotency key)");
}

int svc_reload(svc *c)
{
    if (!c->env->reload) return svc_error(c, 409, "no daemon is running: nothing to reload");
    char detail[256];
    snprintf(detail, sizeof(detail), "reload of %s requested by %s", c->env->cfg->file, who(c));
    if (zv_store_audit_note(c->env->store, zv_now(), NULL, NULL, NULL, detail) < 0)
        zv_log(ZV_LOG_ERROR, "admin", "audit trail: %s", zv_store_errmsg(c->env->store));
    zv_log(ZV_LOG_NOTICE, "admin", "%s", detail);
    c->env->reload(c->env->reload_arg);
    zv_jw_obj_open(c->w);
    zv_jw_key(c->w, "result");
    zv_jw_str(c->w, "reload requested: the new configuration is validated first; see status");
    zv_jw_obj_close(c->w);
    return 202;
}

int svc_audit_verify(svc *c)
{
    int64_t count = 0, bad = 0;
    char why[512] = "";
    int r = zv_store_audit_verify(c->env->store, &count, &bad, why, sizeof(why));
    if (r < 0) return svc_error(c, 500, "audit verify: %s", zv_store_errmsg(c->env->store));
    zv_jw_obj_open(c->w);
    zv_jw_key(c->w, "intact");
    zv_jw_bool(c->w, r == 0);
    zv_jw_key(c->w, "entries");
    zv_jw_int(c->w, count);
    zv_jw_key(c->w, "broken_at");
    if (r == 1)
        zv_jw_int(c->w, bad);
    else
        zv_jw_null(c->w);
    zv_jw_key(c->w, "why");
    if (r == 1)
        zv_jw_str(c->w, why);
    else
        zv_jw_null(c->w);
    zv_jw_obj_close(c->w);
    return 200;
}
