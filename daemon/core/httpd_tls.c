/*
 * Plugins' own TLS listeners (zv_host.https_listen): one evhttp per
 * listener, TLS 1.2 or newer, the client's certificate required and
 * verified against the listener's CA file (two-sided TLS as the iWlz
 * netwerkmodel's RFC0001 asks of a resource server behind the PEP).  A
 * listener is registered when the plugin is created and bound only when the
 * runtime starts serving, so --check-config and --dry-run never open a port.
 * The http.limits bounds apply as on the plain listener (headers, body,
 * idle time, and through httpd_conn.c max_connections, request_timeout and
 * the pause when accept() fails).
 */
#include "runtime_int.h"
#include "httpd_conn.h"
#include "httpd_ex.h"
#include "log.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zv_tls_listener {
    zv_ctx *ctx;
    char *listen, *cert, *key, *ca, *path;
    size_t max_body;
    zv_route_cb cb;
    void *arg;
    SSL_CTX *ssl;
    struct evhttp *http;
    zv_httpd_conns *conns; /* its bounded connections; NULL: untracked */
    struct zv_tls_listener *next;
};

static char *dup_req(const char *s, const char *what, char *err, size_t errlen)
{
    if (!s || !*s) {
        snprintf(err, errlen, "https listener: %s is needed", what);
        return NULL;
    }
    char *d = strdup(s);
    if (!d) snprintf(err, errlen, "out of memory");
    return d;
}

static void free_one(struct zv_tls_listener *l)
{
    if (l->http) evhttp_free(l->http);
    zv_httpd_conns_release(l->conns); /* right after evhttp_free */
    if (l->ssl) SSL_CTX_free(l->ssl);
    free(l->listen);
    free(l->cert);
    free(l->key);
    free(l->ca);
    free(l->path);
    free(l);
}

int zv_httpd_tls_listen(zv_ctx *ctx, const zv_https_spec *spec, zv_route_cb cb, void *arg,
                        char *err, size_t errlen)
{
    if (!spec || !ZV_HAS(spec, zv_https_spec, max_body)) {
        snprintf(err, errlen, "https listener: the spec's size does not cover 2.1's members");
        return -1;
    }
    struct zv_tls_listener *l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    l->ctx = ctx;
    l->cb = cb;
    l->arg = arg;
    l->max_body = spec->max_body;
    if (!(l->listen = dup_req(spec->listen, "listen", err, errlen)) ||
        !(l->cert = dup_req(spec->cert_file, "a server certificate", err, errlen)) ||
        !(l->key = dup_req(spec->key_file, "a server key", err, errlen)) ||
        !(l->ca = dup_req(spec->client_ca, "a client CA file", err, errlen)) ||
        !(l->path = dup_req(spec->path, "a path", err, errlen))) {
        free_one(l);
        return -1;
    }
    for (struct zv_tls_listener *o = ctx->rt->tls_listeners; o; o = o->next)
        if (!strcmp(o->listen, l->listen)) {
            snprintf(err, errlen, "%s is already taken by %s", l->listen, o->ctx->component);
            free_one(l);
            return -1;
        }
    l->next = ctx->rt->tls_listeners;
    ctx->rt->tls_listeners = l;
    return 0;
}

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
    SSL *ssl = SSL_new(arg);
    if (!ssl) return NULL;
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

/* The verified peer's subject, RFC 2253 ("CN=zk-5501,O=..."); NULL without. */
static char *peer_subject(struct evhttp_request *req)
{
    struct evhttp_connection *c = evhttp_request_get_connection(req);
    struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;
    SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
    X509 *x = ssl ? SSL_get_peer_certificate(ssl) : NULL;
    if (!x) return NULL;
    char *out = NULL;
    BIO *b = BIO_new(BIO_s_mem());
    if (b && X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0) {
        char *p;
        long n = BIO_get_mem_data(b, &p);
        out = n >= 0 ? strndup(p, (size_t)n) : NULL;
    }
    BIO_free(b);
    X509_free(x);
    return out;
}

static void serve(struct evhttp_request *req, void *arg)
{
    struct zv_tls_listener *l = arg;
    zv_httpd_conns_request_read(req);
    zv_http_exchange *ex = calloc(1, sizeof(*ex));
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    if (!ex || !(ex->body = malloc(len + 1))) {
        free(ex);
        evhttp_send_error(req, 503, "out of memory");
        return;
    }
    ex->req = req;
    evbuffer_remove(in, ex->body, len);
    ex->body[len] = '\0';
    ex->body_len = len;
    ex->peer = peer_subject(req);
    if (l->ctx->rt->stopping) {
        zv_httpd_ex_reply(ex, 503, "text/plain", "stopping\n", 9);
        return;
    }
    /* One unit of work, as on the plain listener (unit.c). */
    zv_ctx *ctx = l->ctx;
    zv_unit_enter(ctx);
    l->cb(ex, l->arg);
    zv_unit_leave(ctx);
}

static void not_found(struct evhttp_request *req, void *arg)
{
    (void)arg;
    zv_httpd_conns_request_read(req);
    zv_httpd_conns_replying(req);
    evhttp_send_error(req, 404, NULL);
}

static int split(const char *listen, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= hostlen) return -1;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535) return -1;
    *port = (int)p;
    return 0;
}

static int tls_err(char *err, size_t errlen, const struct zv_tls_listener *l, const char *what)
{
    char e[256];
    ERR_error_string_n(ERR_get_error(), e, sizeof(e));
    snprintf(err, errlen, "%s: %s: %s", l->ctx->component, what, e);
    return -1;
}

static int start_one(zv_runtime *rt, struct zv_tls_listener *l, char *err, size_t errlen)
{
    char host[256];
    int port;
    if (split(l->listen, host, sizeof(host), &port) < 0) {
        snprintf(err, errlen, "%s: listen: \"%s\" is not host:port", l->ctx->component, l->listen);
        return -1;
    }
    l->ssl = SSL_CTX_new(TLS_server_method());
    if (!l->ssl || SSL_CTX_set_min_proto_version(l->ssl, TLS1_2_VERSION) != 1)
        return tls_err(err, errlen, l, "TLS");
    if (SSL_CTX_use_certificate_chain_file(l->ssl, l->cert) != 1)
        return tls_err(err, errlen, l, l->cert);
    if (SSL_CTX_use_PrivateKey_file(l->ssl, l->key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(l->ssl) != 1)
        return tls_err(err, errlen, l, l->key);
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(l->ca);
    if (SSL_CTX_load_verify_locations(l->ssl, l->ca, NULL) != 1 || !names)
        return tls_err(err, errlen, l, l->ca);
    SSL_CTX_set_client_CA_list(l->ssl, names);
    SSL_CTX_set_verify(l->ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    l->http = evhttp_new(rt->base);
    if (!l->http) {
        snprintf(err, errlen, "cannot create HTTPS listener");
        return -1;
    }
    const zv_http_limits *lim = &rt->cfg->http_limits;
    size_t body = l->max_body && l->max_body < (size_t)lim->max_body_size
                      ? l->max_body
                      : (size_t)lim->max_body_size;
    evhttp_set_max_body_size(l->http, (ev_ssize_t)body);
    evhttp_set_max_headers_size(l->http, lim->max_header_size);
    struct timeval idle = {(time_t)(lim->idle_timeout_ms / 1000),
                           (suseconds_t)(lim->idle_timeout_ms % 1000) * 1000};
    evhttp_set_timeout_tv(l->http, &idle);
    evhttp_set_allowed_methods(l->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    evhttp_set_bevcb(l->http, tls_bev, l->ssl);
    evhttp_set_gencb(l->http, not_found, NULL);
    evhttp_set_cb(l->http, l->path, serve, l);
    struct evhttp_bound_socket *bound =
        evhttp_bind_socket_with_handle(l->http, host, (ev_uint16_t)port);
    if (!bound) {
        snprintf(err, errlen, "%s: cannot listen on %s", l->ctx->component, l->listen);
        return -1;
    }
    /* The plain listener's bounds; without the tracker (no memory) the
     * connections are still served through tls_bev. */
    l->conns = zv_httpd_conns_new(rt->base, l->http, evhttp_bound_socket_get_listener(bound), lim,
                                  tls_bev, l->ssl);
    zv_log(ZV_LOG_INFO, l->ctx->component, "serving https://%s%s (client certificates required)",
           l->listen, l->path);
    return 0;
}

int zv_httpd_tls_start(zv_runtime *rt, char *err, size_t errlen)
{
    for (struct zv_tls_listener *l = rt->tls_listeners; l; l = l->next)
        if (start_one(rt, l, err, errlen) < 0) return -1;
    return 0;
}

void zv_httpd_tls_free(zv_runtime *rt)
{
    struct zv_tls_listener *l = rt->tls_listeners;
    while (l) {
        struct zv_tls_listener *n = l->next;
        free_one(l);
        l = n;
    }
    rt->tls_listeners = NULL;
}
