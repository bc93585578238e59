/*
 * The admin side of zinvold: health, metrics, the JSON admin API, the web
 * console, and the listeners that serve them (a Unix socket by default,
 * optionally TCP with TLS and bearer tokens, optionally a plain metrics
 * port).  Nothing here is reachable from the webhook listener except
 * /healthz.
 */
#ifndef ZV_ADMIN_H
#define ZV_ADMIN_H

#include <event2/event.h>
#include <stdint.h>
#include <zinvol/util.h>

#include "core/config.h"
#include "core/runtime.h"
#include "store/store.h"

/* SHA-256 of a whole file into out[65]; "" when it cannot be read. */
void zv_admin_file_sha256(const char *path, char out[65]);

/* ---- health (health.c) ---- */
/* 0 healthy, 1 degraded (reasons, "; "-joined, appended to out), 2 stopping. */
int zv_health_check(zv_runtime *rt, zv_buf *reasons);
/* The /healthz answer: HTTP status and a one-line body. */
int zv_health_text(zv_runtime *rt, zv_buf *body);

/* ---- metrics (metrics_render.c) ---- */
/* Prometheus text exposition 0.0.4 for the running runtime. */
int zv_metrics_render(zv_runtime *rt, zv_buf *out);

/* ---- the API (service*.c): one function for the daemon and for zinvolctl ---- */
typedef struct zv_admin_env {
    zv_store *store;      /* required */
    zv_runtime *rt;       /* the running daemon's runtime; NULL in zinvolctl */
    const zv_config *cfg; /* required */
    int64_t started;      /* daemon start (unix seconds); 0: no daemon */
    /* zinvolctl without a daemon: a runtime (built, not started) for
     * quarantine retry; flushed and freed by the caller afterwards. */
    zv_runtime *(*need_rt)(void *arg);
    void *need_rt_arg;
    /* The daemon: ask for a reload (SIGHUP semantics). */
    void (*reload)(void *arg);
    void *reload_arg;
} zv_admin_env;

typedef struct zv_admin_req {
    const char *method; /* "GET", "POST" */
    const char *path;   /* "/api/dlq/12/retry", without the query */
    const char *query;  /* "state=pending&limit=10" or NULL */
    const char *who;    /* "uid 1000 (anna)", "token ops": goes into the audit trail */
} zv_admin_req;

/* Answer one API call: returns the HTTP status; out holds the JSON body
 * ({"error": "..."} on failure) and *ctype its content type. */
int zv_admin_call(const zv_admin_env *env, const zv_admin_req *req, zv_buf *out,
                  const char **ctype);

/* A query parameter, URL-decoded into buf; NULL when absent. */
const char *zv_admin_query(const char *query, const char *name, char *buf, size_t len);

/* ---- listeners (server.c) ---- */
typedef struct zv_admin_server zv_admin_server;
typedef zv_runtime *(*zv_admin_rt_fn)(void *arg);
/* Binds the Unix socket, and admin.listen / metrics.listen when configured.
 * The admin part of cfg is copied: changing it needs a restart.  get_rt
 * returns the runtime currently running (it changes on reload). */
zv_admin_server *zv_admin_server_start(struct event_base *base, const zv_config *cfg,
                                       zv_admin_rt_fn get_rt, void (*reload)(void *arg), void *arg,
                                       char *err, size_t errlen);
void zv_admin_server_free(zv_admin_server *s);

#endif
