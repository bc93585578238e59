/*
 * The daemon's HTTP listener (evhttp): routes registered by source plugins
 * (webhooks) plus /healthz.  Bound only when http.listen is configured.
 */
#include "runtime_int.h"
#include "httpd_conn.h"
#include "httpd_ex.h"
#include "admin/admin.h"
#include "log.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *zv_httpd_ex_method(zv_http_exchange *ex)
{
    switch (evhttp_request_get_command(ex->req)) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    default:
        return "OTHER";
    }
}

const char *zv_httpd_ex_header(zv_http_exchange *ex, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(ex->req), name);
}

const char *zv_httpd_ex_body(zv_http_exchange *ex, size_t *len)
{
    if (len) *len = ex->body_len;
    return ex->body;
}

void zv_httpd_ex_reply(zv_http_exchange *ex, int status, const char *ctype, const void *body,
                       size_t len)
{
    struct evbuffer *out = evbuffer_new();
    if (out && body && len) evbuffer_add(out, body, len);
    if (ctype) evhttp_add_header(evhttp_request_get_output_headers(ex->req), "Content-Type", ctype);
    zv_httpd_conns_replying(ex->req);
    evhttp_send_reply(ex->req, status, NULL, out);
    if (out) evbuffer_free(out);
    free(ex->body);
    free(ex->peer);
    free(ex);
}

const char *zv_httpd_ex_peer(zv_http_exchange *ex)
{
    return ex->peer;
}

static void dispatch(zv_route *r, zv_http_exchange *ex)
{
    zv_ctx *ctx = r->ctx;
    zv_unit_enter(ctx);
    r->cb(ex, r->arg);
    zv_unit_leave(ctx);
    if (ctx->rt->store) zv_store_group_end_empty(ctx->rt->store);
}

/* A request that came while the store's writer commits a group (or waits
 * for another process's lock) waits in order for the store: its unit would
 * have to wait for the writer, and the loop goes on reading the others. */
typedef struct zv_deferred_ex {
    zv_route *route;
    zv_http_exchange *ex;
    struct zv_deferred_ex *next;
} zv_deferred_ex;

/* More than this many waiting: the sender is asked to come back later. */
#define DEFER_MAX 4096

static void defer(zv_runtime *rt, zv_route *r, zv_http_exchange *ex)
{
    zv_deferred_ex *d = rt->ndeferred < DEFER_MAX ? malloc(sizeof(*d)) : NULL;
    if (!d) {
        zv_httpd_ex_reply(ex, 503, "text/plain", "busy; retry later\n", 18);
        return;
    }
    *d = (zv_deferred_ex){r, ex, NULL};
    if (rt->deferred_tail)
        rt->deferred_tail->next = d;
    else
        rt->deferred_head = d;
    rt->deferred_tail = d;
    rt->ndeferred++;
}

static void route_cb(struct evhttp_request *req, void *arg)
{
    zv_route *r = arg;
    zv_httpd_conns_request_read(req);
    zv_http_exchange *ex = calloc(1, sizeof(*ex));
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    if (!ex || !(ex->body = malloc(len + 1))) {
        free(ex);
        zv_httpd_conns_replying(req);
        evhttp_send_error(req, 503, "out of memory");
        return;
    }
    ex->req = req;
    evbuffer_remove(in, ex->body, len);
    ex->body[len] = '\0';
    ex->body_len = len;
    if (r->ctx->rt->stopping) {
        /* Stopping: do not take new input; the sender will retry. */
        zv_httpd_ex_reply(ex, 503, "text/plain", "stopping\n", 9);
        return;
    }
    zv_runtime *rt = r->ctx->rt;
    if (rt->store && (rt->deferred_head || !zv_store_group_prepare(rt->store))) {
        defer(rt, r, ex);
        return;
    }
    dispatch(r, ex);
}

void zv_httpd_run_deferred(zv_runtime *rt)
{
    while (rt->deferred_head && (!rt->store || zv_store_group_prepare(rt->store))) {
        zv_deferred_ex *d = rt->deferred_head;
        rt->deferred_head = d->next;
        if (!rt->deferred_head) rt->deferred_tail = NULL;
        rt->ndeferred--;
        if (rt->stopping)
            zv_httpd_ex_reply(d->ex, 503, "text/plain", "stopping\n", 9);
        else
            dispatch(d->route, d->ex);
        free(d);
    }
}

void zv_httpd_drop_deferred(zv_runtime *rt)
{
    while (rt->deferred_head) {
        zv_deferred_ex *d = rt->deferred_head;
        rt->deferred_head = d->next;
        zv_httpd_ex_reply(d->ex, 503, "text/plain", "stopping\n", 9);
        free(d);
    }
    rt->deferred_tail = NULL;
    rt->ndeferred = 0;
}

/* "ok", or "degraded: why" (admin/health.c); nothing administrative here. */
static void healthz(struct evhttp_request *req, void *arg)
{
    zv_runtime *rt = arg;
    zv_httpd_conns_request_read(req);
    zv_buf body;
    zv_buf_init(&body);
    int status = zv_health_text(rt, &body);
    struct evbuffer *out = evbuffer_new();
    if (out && body.data) evbuffer_add(out, body.data, body.len);
    zv_httpd_conns_replying(req);
    evhttp_send_reply(req, status, NULL, out);
    if (out) evbuffer_free(out);
    zv_buf_free(&body);
}

/* Any other path: 404, through here so the connection's deadline is kept. */
static void not_found(struct evhttp_request *req, void *arg)
{
    (void)arg;
    zv_httpd_conns_request_read(req);
    zv_httpd_conns_replying(req);
    evhttp_send_error(req, 404, NULL);
}

/* evhttp has one body limit for all paths: the largest any route takes,
 * never more than http.limits.max_body_size.  Bodies over it are refused
 * (413) from their Content-Length, or as soon as a chunked body passes it,
 * before they are read; a route checks its own smaller limit itself. */
static size_t body_limit(const zv_runtime *rt)
{
    size_t lim = (size_t)rt->cfg->http_limits.max_body_size, eff = 0;
    for (const zv_route *r = rt->routes; r; r = r->next) {
        size_t m = r->max_body && r->max_body < lim ? r->max_body : lim;
        if (m > eff) eff = m;
    }
    return rt->routes ? eff : lim;
}

int zv_httpd_route_limit(zv_ctx *ctx, const char *path, size_t max_body)
{
    zv_runtime *rt = ctx->rt;
    zv_route *r = rt->routes;
    while (r && (r->ctx != ctx || strcmp(r->path, path) != 0))
        r = r->next;
    if (!r) return -1;
    r->max_body = max_body;
    if (rt->httpd) evhttp_set_max_body_size(rt->httpd, (ev_ssize_t)body_limit(rt));
    return 0;
}

int zv_httpd_route(zv_ctx *ctx, const char *path, zv_route_cb cb, void *arg)
{
    zv_runtime *rt = ctx->rt;
    for (zv_route *r = rt->routes; r; r = r->next)
        if (strcmp(r->path, path) == 0) {
            zv_log(ZV_LOG_ERROR, ctx->component, "route %s is already taken by %s", path,
                   r->ctx->component);
            return -1;
        }
    zv_route *r = calloc(1, sizeof(*r));
    if (!r || !(r->path = strdup(path))) {
        free(r);
        return -1;
    }
    r->ctx = ctx;
    r->cb = cb;
    r->arg = arg;
    r->next = rt->routes;
    rt->routes = r;
    if (rt->httpd && evhttp_set_cb(rt->httpd, path, route_cb, r) != 0) return -1;
    if (rt->httpd) evhttp_set_max_body_size(rt->httpd, (ev_ssize_t)body_limit(rt));
    return 0;
}

static int split_listen(const char *listen, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen) return -1;
    size_t hl = (size_t)(colon - listen);
    if (listen[0] == '[' && hl > 2 && listen[hl - 1] == ']') {
        listen++;
        hl -= 2;
    }
    if (hl >= hostlen) return -1;
    memcpy(host, listen, hl);
    host[hl] = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535) return -1;
    *port = (int)p;
    return 0;
}

static int plain_start(zv_runtime *rt, char *err, size_t errlen)
{
    const char *listen = rt->cfg->listen;
    if (!listen) {
        if (rt->routes) {
            snprintf(err, errlen, "%s: http.listen: %s needs an HTTP listener; set http.listen",
                     rt->cfg->file, rt->routes->ctx->component);
            return -1;
        }
        return 0;
    }
    char host[256];
    int port;
    if (split_listen(listen, host, sizeof(host), &port) < 0) {
        snprintf(err, errlen, "%s: http.listen: \"%s\" is not host:port", rt->cfg->file, listen);
        return -1;
    }
    rt->httpd = evhttp_new(rt->base);
    if (!rt->httpd) {
        snprintf(err, errlen, "cannot create HTTP listener");
        return -1;
    }
    const zv_http_limits *lim = &rt->cfg->http_limits;
    evhttp_set_max_body_size(rt->httpd, (ev_ssize_t)body_limit(rt));
    evhttp_set_max_headers_size(rt->httpd, lim->max_header_size);
    struct timeval idle = {(time_t)(lim->idle_timeout_ms / 1000),
                           (suseconds_t)(lim->idle_timeout_ms % 1000) * 1000};
    evhttp_set_timeout_tv(rt->httpd, &idle);
    evhttp_set_allowed_methods(rt->httpd, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
    struct evhttp_bound_socket *bound =
        evhttp_bind_socket_with_handle(rt->httpd, host, (ev_uint16_t)port);
    rt->conns = bound ? zv_httpd_conns_new(rt->base, rt->httpd,
                                           evhttp_bound_socket_get_listener(bound), lim, NULL, NULL)
                      : NULL;
    if (!rt->conns) {
        snprintf(err, errlen, "%s: http.listen: cannot listen on %s", rt->cfg->file, listen);
        evhttp_free(rt->httpd);
        rt->httpd = NULL;
        return -1;
    }
    evhttp_set_gencb(rt->httpd, not_found, NULL);
    evhttp_set_cb(rt->httpd, "/healthz", healthz, rt);
    for (zv_route *r = rt->routes; r; r = r->next)
        evhttp_set_cb(rt->httpd, r->path, route_cb, r);
    zv_log(ZV_LOG_INFO, "http", "listening on %s", listen);
    return 0;
}

int zv_httpd_start(zv_runtime *rt, char *err, size_t errlen)
{
    if (plain_start(rt, err, errlen) < 0) return -1;
    return zv_httpd_tls_start(rt, err, errlen);
}

void zv_httpd_free(zv_runtime *rt)
{
    zv_httpd_tls_free(rt);
    if (rt->httpd) evhttp_free(rt->httpd);
    rt->httpd = NULL;
    /* After evhttp_free: its connections are finalised later by libevent. */
    zv_httpd_conns_release(rt->conns);
    rt->conns = NULL;
    zv_route *r = rt->routes;
    while (r) {
        zv_route *n = r->next;
        free(r->path);
        free(r);
        r = n;
    }
    rt->routes = NULL;
}
