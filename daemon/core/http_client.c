/*
 * Asynchronous HTTP(S) client: one libcurl multi handle, driven by libevent
 * through CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION.  Nothing blocks
 * and there are no threads: curl tells us which sockets to watch and when to
 * call it back, and completed transfers are reported from the loop.
 */
#include "http_client.h"
#include "abi_check.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zinvol/util.h>

#define DEFAULT_TIMEOUT_MS 30000L
#define DEFAULT_MAX_RESPONSE (64u << 20)

/* One call: the handle http_request returns (zv_http_call). */
typedef struct zv_http_call {
    struct zv_http_client *c;
    CURL *easy;
    struct curl_slist *headers;
    char *body; /* request body copy */
    zv_buf resp;
    size_t max_response;
    int too_large;
    long retry_after_s;
    zv_http_cb cb;
    void *arg;
    char errbuf[CURL_ERROR_SIZE];
    int finishing; /* its callback is running: cancel does nothing */
    struct zv_http_call *prev, *next;
} xfer;

/* One per socket curl asked us to watch. */
typedef struct sockwatch {
    struct zv_http_client *c;
    curl_socket_t fd;
    struct event *ev;
} sockwatch;

struct zv_http_client {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    xfer *list;
    int active;
};

static void check_done(zv_http_client *c);

static void unlink_xfer(zv_http_client *c, xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        c->list = x->next;
    if (x->next) x->next->prev = x->prev;
    x->prev = x->next = NULL;
    c->active--;
    /* Also drops a completion message curl may have queued for it, so
     * check_done never sees a cancelled call. */
    curl_multi_remove_handle(c->multi, x->easy);
}

static void free_xfer(xfer *x)
{
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x->body);
    zv_buf_free(&x->resp);
    free(x);
}

void *zv_http_client_cancel(zv_http_call *x)
{
    if (!x || x->finishing) return NULL;
    void *arg = x->arg;
    unlink_xfer(x->c, x);
    free_xfer(x);
    return arg;
}

static void finish(zv_http_client *c, xfer *x, CURLcode rc)
{
    zv_http_response r = {ZV_SIZED(zv_http_response), .status = 0,
                          .retry_after_s = x->retry_after_s};
    long code = 0;
    char *ctype = NULL;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ctype);
        r.status = (int)code;
    } else if (x->too_large) {
        r.error = "response larger than the limit";
    } else {
        r.error = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
    }
    zv_buf_append(&x->resp, "", 0); /* NUL-terminated even when empty */
    r.body = x->resp.data ? x->resp.data : "";
    r.body_len = x->resp.len;
    r.content_type = ctype;
    /* Unlink first: the callback may start new requests. */
    unlink_xfer(c, x);
    x->finishing = 1;
    x->cb(&r, x->arg);
    free_xfer(x);
}

static void check_done(zv_http_client *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        xfer *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        finish(c, x, m->data.result);
    }
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    zv_http_client *c = arg;
    int flags =
        ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(c->multi, fd, flags, &running);
    check_done(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zv_http_client *c = arg;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
    (void)easy;
    zv_http_client *c = userp;
    sockwatch *w = sockp;
    if (what == CURL_POLL_REMOVE) {
        if (w) {
            event_free(w->ev);
            free(w);
            curl_multi_assign(c->multi, fd, NULL);
        }
        return 0;
    }
    short ev = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
               ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    if (!w) {
        w = calloc(1, sizeof(*w));
        if (!w) return -1;
        w->c = c;
        w->fd = fd;
        curl_multi_assign(c->multi, fd, w);
    } else {
        event_free(w->ev);
    }
    w->ev = event_new(c->base, fd, ev, on_socket_event, c);
    if (!w->ev) return -1;
    event_add(w->ev, NULL);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    zv_http_client *c = userp;
    if (timeout_ms < 0) {
        evtimer_del(c->timer);
        return 0;
    }
    /* Even a 0 ms timeout is taken from the loop, so callbacks never run
     * inside zv_http_client_request. */
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
    return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *userp)
{
    xfer *x = userp;
    size_t len = size * n;
    if (x->resp.len + len > x->max_response) {
        x->too_large = 1;
        return 0; /* aborts the transfer */
    }
    if (zv_buf_append(&x->resp, p, len) < 0) return 0;
    return len;
}

/* Retry-After: delta seconds or an HTTP date. */
static long parse_retry_after(const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    char *end;
    long s = strtol(v, &end, 10);
    if (end != v && (*end == '\0' || *end == '\r' || *end == '\n' || *end == ' '))
        return s < 0 ? 0 : s;
    char buf[64];
    snprintf(buf, sizeof(buf), "%.63s", v);
    buf[strcspn(buf, "\r\n")] = '\0';
    time_t t = curl_getdate(buf, NULL);
    if (t < 0) return -1;
    long d = (long)(t - time(NULL));
    return d < 0 ? 0 : d;
}

static size_t on_header(char *p, size_t size, size_t n, void *userp)
{
    xfer *x = userp;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof(name) && strncasecmp(p, name, sizeof(name) - 1) == 0) {
        char v[80];
        size_t vl = len - (sizeof(name) - 1);
        if (vl >= sizeof(v)) vl = sizeof(v) - 1;
        memcpy(v, p + sizeof(name) - 1, vl);
        v[vl] = '\0';
        x->retry_after_s = parse_retry_after(v);
    } else if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        x->retry_after_s = -1; /* a new response (after 100 Continue or a redirect) */
    }
    return len;
}

zv_http_client *zv_http_client_new(struct event_base *base)
{
    static int global_done;
    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return NULL;
        global_done = 1;
    }
    zv_http_client *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->base = base;
    c->multi = curl_multi_init();
    c->timer = evtimer_new(base, on_timer, c);
    if (!c->multi || !c->timer) {
        zv_http_client_free(c);
        return NULL;
    }
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    return c;
}

void zv_http_client_free(zv_http_client *c)
{
    if (!c) return;
    while (c->list) {
        xfer *x = c->list;
        unlink_xfer(c, x);
        zv_http_response r = {ZV_SIZED(zv_http_response), .status = 0, .error = "cancelled",
                              .body = "", .retry_after_s = -1};
        x->finishing = 1;
        x->cb(&r, x->arg);
        free_xfer(x);
    }
    if (c->multi) curl_multi_cleanup(c->multi); /* removes the socket watches */
    if (c->timer) event_free(c->timer);
    free(c);
}

int zv_http_client_active(const zv_http_client *c)
{
    return c ? c->active : 0;
}

static int setup_easy(xfer *x, const zv_http_request *req)
{
    CURL *e = x->easy;
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_URL, req->url) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, x) != CURLE_OK;
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    /* Verification is not configurable: a receiver of personal data must
     * prove who it is. */
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (req->ca_file) bad |= curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file) != CURLE_OK;
    if (req->cert_file) bad |= curl_easy_setopt(e, CURLOPT_SSLCERT, req->cert_file) != CURLE_OK;
    if (req->key_file) bad |= curl_easy_setopt(e, CURLOPT_SSLKEY, req->key_file) != CURLE_OK;
    if (req->bearer_token) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
        curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, req->bearer_token);
    }
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    const char *m = req->method ? req->method : "GET";
    if (strcmp(m, "GET") != 0) {
        if (strcmp(m, "POST") == 0)
            curl_easy_setopt(e, CURLOPT_POST, 1L);
        else
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body ? x->body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    /* No "Expect: 100-continue" round trip for large bodies. */
    x->headers = curl_slist_append(x->headers, "Expect:");
    for (size_t i = 0; i < req->nheaders; i++) {
        char *h = NULL;
        const zv_http_header *hd = ZV_AT(zv_http_header, req->headers, req->header_size, i);
        if (asprintf(&h, "%s: %s", hd->name, hd->value) < 0) return -1;
        struct curl_slist *n = curl_slist_append(x->headers, h);
        free(h);
        if (!n) return -1;
        x->headers = n;
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    return bad ? -1 : 0;
}

zv_http_call *zv_http_client_request(zv_http_client *c, const zv_http_request *req, zv_http_cb cb,
                                     void *arg)
{
    char why[160];
    if (!c || !req || !cb || zv_abi_http_request_problem(req, why, sizeof(why)) || !req->url)
        return NULL;
    if (strncasecmp(req->url, "http://", 7) != 0 && strncasecmp(req->url, "https://", 8) != 0)
        return NULL;
    xfer *x = calloc(1, sizeof(*x));
    if (!x) return NULL;
    x->c = c;
    x->cb = cb;
    x->arg = arg;
    x->retry_after_s = -1;
    x->max_response = req->max_response ? req->max_response : DEFAULT_MAX_RESPONSE;
    zv_buf_init(&x->resp);
    if (req->body_len) {
        x->body = malloc(req->body_len);
        if (!x->body) goto fail;
        memcpy(x->body, req->body, req->body_len);
    }
    x->easy = curl_easy_init();
    if (!x->easy || setup_easy(x, req) < 0) goto fail;
    if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK) goto fail;
    x->next = c->list;
    if (c->list) c->list->prev = x;
    c->list = x;
    c->active++;
    return x;
fail:
    if (x->easy) curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x->body);
    free(x);
    return NULL;
}
