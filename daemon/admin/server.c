/*
 * The admin listeners (evhttp on the daemon's loop):
 *
 *  - a Unix socket (admin.socket, default <state_dir>/admin.sock), always:
 *    its file mode and group are the access control; who asked is the peer's
 *    uid (SO_PEERCRED);
 *  - admin.listen (TCP), only with TLS and bearer tokens: who asked is the
 *    token's name; the console's login form trades a token for an HttpOnly,
 *    Secure, SameSite=Strict session cookie;
 *  - metrics.listen (plain HTTP), only /metrics and /healthz.
 *
 * The same paths everywhere: /api/... (JSON), /metrics, /healthz, and the
 * console (/, /quarantine, /dlq, /outbox, /audit, /login).
 */
#include "admin.h"
#include "core/log.h"
#include "core/runtime_int.h"
#include "metrics.h"
#include "server_int.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <grp.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_SESSIONS 64
#define SESSION_S (8 * 3600)
#define MAX_BODY (64 * 1024)

enum { L_UNIX, L_TCP, L_METRICS };

typedef struct session {
    char id[65];
    char name[64];
    int64_t expires;
} session;

typedef struct listener {
    zv_admin_server *srv;
    int kind;
    struct evhttp *http;
} listener;

struct zv_admin_server {
    struct event_base *base;
    zv_admin_rt_fn get_rt;
    void (*reload)(void *arg);
    void *arg;
    int64_t started;
    char *socket_path;
    listener unix_l, tcp_l, metrics_l;
    SSL_CTX *ssl;
    zv_admin_token *tokens; /* strings owned here */
    size_t ntokens;
    char csrf[65];
    session sessions[MAX_SESSIONS];
};

static void random_hex(char out[65])
{
    unsigned char r[32];
    size_t got = 0;
    while (got < sizeof(r)) {
        ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
        if (n > 0) got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* ---- who is asking ---- */

static void peer_who(struct evhttp_request *req, char *who, size_t len)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
    int fd = bev ? bufferevent_getfd(bev) : -1;
    struct ucred cr;
    socklen_t l = sizeof(cr);
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) != 0) {
        snprintf(who, len, "local socket (peer unknown)");
        return;
    }
    struct passwd *pw = getpwuid(cr.uid);
    snprintf(who, len, "uid %u (%s) via the admin socket", (unsigned)cr.uid,
             pw ? pw->pw_name : "?");
}

static int token_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

static const char *token_name(zv_admin_server *s, const char *tok)
{
    for (size_t i = 0; i < s->ntokens; i++)
        if (token_eq(tok, s->tokens[i].token)) return s->tokens[i].name;
    return NULL;
}

static const char *cookie_value(struct evhttp_request *req, const char *name, char *buf, size_t len)
{
    const char *c = evhttp_find_header(evhttp_request_get_input_headers(req), "Cookie");
    size_t nl = strlen(name);
    for (const char *p = c; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > nl && strncmp(p, name, nl) == 0 && p[nl] == '=' && n - nl - 1 < len) {
            memcpy(buf, p + nl + 1, n - nl - 1);
            buf[n - nl - 1] = '\0';
            return buf;
        }
        p = end;
    }
    return NULL;
}

static session *session_find(zv_admin_server *s, const char *id)
{
    int64_t now = zv_now();
    for (int i = 0; i < MAX_SESSIONS && id; i++)
        if (s->sessions[i].id[0] && s->sessions[i].expires > now && token_eq(s->sessions[i].id, id))
            return &s->sessions[i];
    return NULL;
}

static session *session_new(zv_admin_server *s, const char *name)
{
    session *slot = &s->sessions[0];
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (s->sessions[i].expires < slot->expires) slot = &s->sessions[i];
    random_hex(slot->id);
    snprintf(slot->name, sizeof(slot->name), "%s", name);
    slot->expires = zv_now() + SESSION_S;
    return slot;
}

/* 1 authenticated (who filled; *by_cookie says how), 0 not. */
static int authenticate(listener *l, struct evhttp_request *req, char *who, size_t len,
                        int *by_cookie)
{
    *by_cookie = 0;
    if (l->kind == L_UNIX) {
        peer_who(req, who, len);
        return 1;
    }
    const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        const char *name = token_name(l->srv, auth + 7);
        if (!name) return 0;
        snprintf(who, len, "token %s", name);
        return 1;
    }
    char sid[80];
    session *se = session_find(l->srv, cookie_value(req, "zv_session", sid, sizeof(sid)));
    if (!se) return 0;
    snprintf(who, len, "token %s (console)", se->name);
    *by_cookie = 1;
    return 1;
}

/* ---- replies ---- */

/* The audit report is one self-contained page with inline styles (it is
 * also written to a file); it still gets no scripts. */
static int inline_styles(struct evhttp_request *req)
{
    const char *uri = evhttp_request_get_uri(req);
    return uri &&
           (strncmp(uri, "/audit/report", 13) == 0 || strncmp(uri, "/api/audit/report", 17) == 0);
}

static void reply(struct evhttp_request *req, int status, const char *ctype, const zv_buf *body)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    if (ctype) evhttp_add_header(h, "Content-Type", ctype);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    /* same-origin, not no-referrer: with no-referrer a browser sends
     * "Origin: null" on form posts, and the CSRF check wants the real one. */
    evhttp_add_header(h, "Referrer-Policy", "same-origin");
    if (ctype && strncmp(ctype, "text/html", 9) == 0)
        evhttp_add_header(h, "Content-Security-Policy",
                          inline_styles(req)
                              ? "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' "
                                "data:; form-action 'none'; frame-ancestors 'none'; base-uri "
                                "'none'"
                              : "default-src 'none'; style-src 'self'; img-src 'self'; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    struct evbuffer *out = evbuffer_new();
    if (out && body && body->len) evbuffer_add(out, body->data, body->len);
    evhttp_send_reply(req, status, NULL, out);
    if (out) evbuffer_free(out);
}

static void reply_text(struct evhttp_request *req, int status, const char *ctype, const char *text)
{
    zv_buf b;
    zv_buf_init(&b);
    zv_buf_puts(&b, text);
    reply(req, status, ctype, &b);
    zv_buf_free(&b);
}

static void redirect(struct evhttp_request *req, const char *location)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Location", location);
    reply_text(req, 303, "text/plain; charset=utf-8", "see other\n");
}

static char *request_body(struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    char *b = malloc(len + 1);
    if (!b) return NULL;
    evbuffer_remove(in, b, len);
    b[len] = '\0';
    return b;
}

static const char *method_name(struct evhttp_request *req)
{
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_POST:
        return "POST";
    default:
        return "OTHER";
    }
}

/* Forms: the per-process token must come back, and a browser's Origin (when
 * sent) must be this very listener. */
static int csrf_ok(listener *l, struct evhttp_request *req, const char *body)
{
    char tok[80];
    const char *t = zv_admin_query(body, "csrf", tok, sizeof(tok));
    if (!t || !token_eq(t, l->srv->csrf)) return 0;
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    const char *origin = evhttp_find_header(h, "Origin");
    const char *host = evhttp_find_header(h, "Host");
    if (!origin || strcmp(origin, "null") == 0) return origin == NULL;
    char want[300];
    snprintf(want, sizeof(want), "%s://%s", l->kind == L_TCP ? "https" : "http", host ? host : "");
    return strcmp(origin, want) == 0;
}

/* ---- handlers ---- */

static void env_for(listener *l, zv_runtime *rt, zv_admin_env *env)
{
    memset(env, 0, sizeof(*env));
    env->rt = rt;
    env->store = rt->store;
    env->cfg = rt->cfg;
    env->started = l->srv->started;
    env->reload = l->srv->reload;
    env->reload_arg = l->srv->arg;
}

static void login(listener *l, struct evhttp_request *req, const char *method)
{
    zv_buf b;
    zv_buf_init(&b);
    const char *error = NULL;
    if (strcmp(method, "POST") == 0) {
        char *body = request_body(req);
        char tok[512];
        const char *t = body ? zv_admin_query(body, "token", tok, sizeof(tok)) : NULL;
        const char *name = t ? token_name(l->srv, t) : NULL;
        free(body);
        if (name) {
            session *se = session_new(l->srv, name);
            char cookie[200];
            snprintf(cookie, sizeof(cookie),
                     "zv_session=%s; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=%d", se->id,
                     SESSION_S);
            evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", cookie);
            zv_log(ZV_LOG_NOTICE, "admin", "console login with token %s", name);
            redirect(req, "/");
            zv_buf_free(&b);
            return;
        }
        error = "That token is not valid.";
        zv_log(ZV_LOG_WARN, "admin", "console login refused: unknown token");
    }
    zv_buf_puts(&b, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    "<title>Sign in - zinvol</title><link rel=\"stylesheet\" "
                    "href=\"/console.css\"></head><body><main class=\"login\">"
                    "<h1>zinvol console</h1>");
    if (error) zv_buf_printf(&b, "<p class=\"notice bad\" role=\"alert\">%s</p>", error);
    zv_buf_puts(&b, "<form method=\"post\" action=\"/login\"><label for=\"token\">Admin "
                    "token</label><input id=\"token\" name=\"token\" type=\"password\" "
                    "autocomplete=\"current-password\" required autofocus>"
                    "<button type=\"submit\">Sign in</button></form></main></body></html>\n");
    reply(req, error ? 401 : 200, "text/html; charset=utf-8", &b);
    zv_buf_free(&b);
}

static void api(listener *l, struct evhttp_request *req, zv_runtime *rt, const char *method,
                const char *path, const char *query, const char *who)
{
    zv_admin_env env;
    env_for(l, rt, &env);
    zv_admin_req ar = {.method = method, .path = path, .query = query, .who = who};
    zv_buf out;
    zv_buf_init(&out);
    const char *ctype = "application/json";
    int status = zv_admin_call(&env, &ar, &out, &ctype);
    reply(req, status, ctype, &out);
    zv_buf_free(&out);
}

static void console(listener *l, struct evhttp_request *req, zv_runtime *rt, const char *method,
                    const char *path, const char *query, const char *who)
{
    char *body = strcmp(method, "POST") == 0 ? request_body(req) : NULL;
    zv_admin_env env;
    env_for(l, rt, &env);
    zv_console_req cr = {.env = &env,
                         .method = method,
                         .path = path,
                         .query = query,
                         .body = body ? body : "",
                         .who = who,
                         .csrf = l->srv->csrf,
                         .csrf_ok = body ? csrf_ok(l, req, body) : 0};
    zv_buf out;
    zv_buf_init(&out);
    char location[512] = "";
    int status = zv_console_handle(&cr, &out, location, sizeof(location));
    if (status == 303)
        redirect(req, location);
    else
        reply(req, status, "text/html; charset=utf-8", &out);
    zv_buf_free(&out);
    free(body);
}

static void handle(struct evhttp_request *req, void *arg)
{
    listener *l = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    const char *method = method_name(req);
    zv_runtime *rt = l->srv->get_rt(l->srv->arg);
    if (!path || !*path) path = "/";
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0) {
        zv_buf b;
        zv_buf_init(&b);
        if (path[1] == 'h') {
            int st = zv_health_text(rt, &b);
            reply(req, st, "text/plain; charset=utf-8", &b);
        } else if (zv_metrics_render(rt, &b) == 0) {
            reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
        } else {
            reply_text(req, 500, "text/plain", "metrics: out of memory\n");
        }
        zv_buf_free(&b);
        return;
    }
    if (l->kind == L_METRICS) {
        reply_text(req, 404, "text/plain", "only /metrics and /healthz here\n");
        return;
    }
    if (strcmp(path, "/console.css") == 0) {
        reply_text(req, 200, "text/css; charset=utf-8", zv_console_css);
        return;
    }
    if (l->kind == L_TCP && strcmp(path, "/login") == 0) {
        login(l, req, method);
        return;
    }
    char who[160];
    int by_cookie;
    if (!authenticate(l, req, who, sizeof(who), &by_cookie)) {
        if (strncmp(path, "/api/", 5) == 0) {
            evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                              "Bearer realm=\"zinvol\"");
            reply_text(req, 401, "application/json", "{\"error\":\"a bearer token is needed\"}\n");
        } else {
            redirect(req, "/login");
        }
        return;
    }
    if (!rt || !rt->store) {
        reply_text(req, 503, "application/json", "{\"error\":\"the daemon is not ready\"}\n");
        return;
    }
    /* The quarantine's calls go through the store interface (every node's
     * entries are in the shared database); the other views read the SQLite
     * file, and the node's own one is not the store. */
    if (rt->sb && zv_sb_kind(rt->sb) == ZV_STORE_POSTGRESQL &&
        strncmp(path, "/api/quarantine", 15) != 0) {
        reply_text(req, 501, "application/json",
                   "{\"error\":\"on a PostgreSQL store the admin API and console do not run in "
                   "this version, except /api/quarantine; use zinvolctl store check --url and "
                   "zinvolctl audit verify\"}\n");
        return;
    }
    if (strncmp(path, "/api/", 5) == 0) {
        /* A cookie rides along with any request a browser makes; state
         * changes through the API need the bearer token itself. */
        if (by_cookie && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            reply_text(req, 403, "application/json",
                       "{\"error\":\"use the bearer token for API calls that change state\"}\n");
            return;
        }
        api(l, req, rt, method, path, query, who);
        return;
    }
    console(l, req, rt, method, path, query, who);
}

/* ---- binding ---- */

static int split_hostport(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s) return -1;
    size_t hl = (size_t)(colon - s);
    if (s[0] == '[' && hl > 2 && s[hl - 1] == ']') {
        s++;
        hl -= 2;
    }
    if (hl >= hostlen) return -1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p <= 0 || p > 65535) return -1;
    *port = (int)p;
    return 0;
}

static struct evhttp *new_http(zv_admin_server *s, listener *l, int kind)
{
    l->srv = s;
    l->kind = kind;
    l->http = evhttp_new(s->base);
    if (!l->http) return NULL;
    evhttp_set_max_body_size(l->http, MAX_BODY);
    evhttp_set_timeout(l->http, 30);
    evhttp_set_allowed_methods(l->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
    evhttp_set_gencb(l->http, handle, l);
    return l->http;
}

/* A socket file left by a daemon that died is removed; one a live daemon
 * answers on is not: two daemons on one state directory is an error. */
static int clear_stale(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) != 0) return 0;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "admin socket %s: exists and is not a socket", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int live = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0) close(fd);
    if (live) {
        snprintf(err, errlen, "admin socket %s: another zinvold is running on it", path);
        return -1;
    }
    unlink(path);
    return 0;
}

static int bind_unix(zv_admin_server *s, const zv_admin_conf *a, char *err, size_t errlen)
{
    if (clear_stale(a->socket, err, errlen) < 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a->socket);
    /* Created owner-only, then opened up to the configured mode: never
     * wider than asked, not even for a moment. */
    mode_t old = umask(0177);
    int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    umask(old);
    if (ok && chmod(a->socket, (mode_t)a->socket_mode) != 0) ok = 0;
    if (ok && a->socket_group) {
        struct group *g = getgrnam(a->socket_group);
        if (!g || chown(a->socket, (uid_t)-1, g->gr_gid) != 0) {
            snprintf(err, errlen, "admin socket %s: cannot give it to group %s: %s", a->socket,
                     a->socket_group, g ? strerror(errno) : "no such group");
            close(fd);
            unlink(a->socket);
            return -1;
        }
    }
    if (ok && listen(fd, 64) != 0) ok = 0;
    if (!ok) {
        snprintf(err, errlen, "admin socket %s: %s", a->socket, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    s->socket_path = strdup(a->socket);
    struct evconnlistener *lev = evconnlistener_new(
        s->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
    if (!new_http(s, &s->unix_l, L_UNIX) || !lev || !evhttp_bind_listener(s->unix_l.http, lev)) {
        if (lev) evconnlistener_free(lev);
        snprintf(err, errlen, "admin socket %s: cannot serve", a->socket);
        return -1;
    }
    return 0;
}

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
    SSL *ssl = SSL_new(arg);
    if (!ssl) return NULL;
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

static int bind_tcp(zv_admin_server *s, const zv_config *cfg, const char *listen, int kind,
                    char *err, size_t errlen)
{
    const char *key = kind == L_TCP ? "admin.listen" : "metrics.listen";
    char host[256];
    int port;
    if (split_hostport(listen, host, sizeof(host), &port) < 0) {
        snprintf(err, errlen, "%s: %s: \"%s\" is not host:port", cfg->file, key, listen);
        return -1;
    }
    listener *l = kind == L_TCP ? &s->tcp_l : &s->metrics_l;
    if (!new_http(s, l, kind)) return -1;
    if (kind == L_TCP) {
        s->ssl = SSL_CTX_new(TLS_server_method());
        if (!s->ssl || SSL_CTX_set_min_proto_version(s->ssl, TLS1_2_VERSION) != 1 ||
            SSL_CTX_use_certificate_chain_file(s->ssl, cfg->admin.tls_cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(s->ssl, cfg->admin.tls_key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(s->ssl) != 1) {
            char e[256];
            ERR_error_string_n(ERR_get_error(), e, sizeof(e));
            snprintf(err, errlen, "%s: admin.tls_cert/tls_key: %s", cfg->file, e);
            return -1;
        }
        evhttp_set_bevcb(l->http, tls_bev, s->ssl);
    }
    if (!evhttp_bind_socket_with_handle(l->http, host, (ev_uint16_t)port)) {
        snprintf(err, errlen, "%s: %s: cannot listen on %s: %s", cfg->file, key, listen,
                 strerror(errno));
        return -1;
    }
    zv_log(ZV_LOG_INFO, "admin", "%s on %s", kind == L_TCP ? "admin API (TLS)" : "metrics", listen);
    return 0;
}

static int copy_tokens(zv_admin_server *s, const zv_admin_conf *a)
{
    s->tokens = calloc(a->ntokens ? a->ntokens : 1, sizeof(*s->tokens));
    if (!s->tokens) return -1;
    for (size_t i = 0; i < a->ntokens; i++) {
        s->tokens[i].name = strdup(a->tokens[i].name);
        s->tokens[i].token = strdup(a->tokens[i].token);
        s->ntokens++;
        if (!s->tokens[i].name || !s->tokens[i].token) return -1;
    }
    return 0;
}

zv_admin_server *zv_admin_server_start(struct event_base *base, const zv_config *cfg,
                                       zv_admin_rt_fn get_rt, void (*reload)(void *arg), void *arg,
                                       char *err, size_t errlen)
{
    zv_admin_server *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->base = base;
    s->get_rt = get_rt;
    s->reload = reload;
    s->arg = arg;
    s->started = zv_metrics_started();
    random_hex(s->csrf);
    const zv_admin_conf *a = &cfg->admin;
    if (copy_tokens(s, a) < 0 || bind_unix(s, a, err, errlen) < 0 ||
        (a->listen && bind_tcp(s, cfg, a->listen, L_TCP, err, errlen) < 0) ||
        (a->metrics_listen && bind_tcp(s, cfg, a->metrics_listen, L_METRICS, err, errlen) < 0)) {
        zv_admin_server_free(s);
        return NULL;
    }
    zv_log(ZV_LOG_INFO, "admin", "admin API on %s (mode %04o)", a->socket, a->socket_mode);
    return s;
}

void zv_admin_server_free(zv_admin_server *s)
{
    if (!s) return;
    listener *ls[] = {&s->unix_l, &s->tcp_l, &s->metrics_l};
    for (size_t i = 0; i < 3; i++)
        if (ls[i]->http) evhttp_free(ls[i]->http);
    if (s->socket_path) unlink(s->socket_path);
    free(s->socket_path);
    if (s->ssl) SSL_CTX_free(s->ssl);
    for (size_t i = 0; i < s->ntokens; i++) {
        free((char *)s->tokens[i].name);
        free((char *)s->tokens[i].token);
    }
    free(s->tokens);
    free(s);
}
