/* Bounded connections for the HTTP listener; see httpd_conn.h. */
#include "httpd_conn.h"
#include "log.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zinvol/util.h>

/* One accepted connection.  We hold a reference on its bufferevent, so the
 * memory stays valid after evhttp freed the connection; bufferevent_free()
 * clears the callbacks, which is how the sweep sees that evhttp is done. */
typedef struct conn {
    zv_httpd_conns *owner;   /* outlives its connections */
    struct bufferevent *bev; /* evhttp's; one reference is ours */
    int64_t deadline_ms;     /* the request in progress must be whole by then; 0: none */
    struct conn *prev, *next;
} conn;

/* How often connections are looked at: the precision of the deadline and
 * how soon a closed connection makes room under max_connections. */
#define SWEEP_MS 200

/* Repeated events are logged once per LOG_EVERY seconds with a count, so an
 * attacker cannot fill the disk through the log. */
#define LOG_EVERY 10

typedef struct rate_log {
    int64_t last;    /* when the last line was written */
    int64_t pending; /* events since then */
} rate_log;

struct zv_httpd_conns {
    struct evconnlistener *lev; /* evhttp's, freed with it */
    struct event *resume;       /* accepting again after accept() failed */
    struct event *sweep;        /* every SWEEP_MS while connections are open */
    zv_http_limits lim;
    zv_httpd_bev_cb make; /* NULL: a socket bufferevent */
    void *make_arg;
    size_t open;
    struct zv_httpd_conns *next_tracker;
    int enabled;      /* the listener accepts */
    int accept_error; /* paused after accept() failed */
    rate_log full, expired, refused;
};

/* Every tracked connection of every listener (a reload has two for a
 * while): replies may come after the runtime that took the request is
 * gone, so lookups do not go through a tracker. */
static conn *all;
/* Every tracker: libevent hands accept errors the listener's callback
 * argument, which is evhttp's, so they are found by listener. */
static zv_httpd_conns *trackers;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rate_due(rate_log *r)
{
    r->pending++;
    int64_t now = zv_now();
    if (r->last && now - r->last < LOG_EVERY) return 0;
    r->last = now;
    return 1;
}

static void update_listener(zv_httpd_conns *c)
{
    if (!c->lev) return;
    int want = !c->accept_error && c->open < (size_t)c->lim.max_connections;
    if (want == c->enabled) return;
    if (want)
        evconnlistener_enable(c->lev);
    else
        evconnlistener_disable(c->lev);
    c->enabled = want;
    if (!want && !c->accept_error && rate_due(&c->full)) {
        zv_log(ZV_LOG_WARN, "http",
               "%zu connections open (http.limits.max_connections): new ones wait until one "
               "closes (%lld times since the last such line)",
               c->open, (long long)c->full.pending);
        c->full.pending = 0;
    }
}

static void free_tracker(zv_httpd_conns *c)
{
    for (zv_httpd_conns **p = &trackers; *p; p = &(*p)->next_tracker)
        if (*p == c) {
            *p = c->next_tracker;
            break;
        }
    if (c->resume) event_free(c->resume);
    if (c->sweep) event_free(c->sweep);
    free(c);
}

static void drop(conn *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        all = k->next;
    if (k->next) k->next->prev = k->prev;
    k->owner->open--;
    bufferevent_decref(k->bev); /* the last reference: libevent frees it */
    free(k);
}

/* The request on k took too long: raise the event libevent raises when
 * evhttp's idle timeout fires, and evhttp closes the connection. */
static void expire(conn *k)
{
    zv_httpd_conns *c = k->owner;
    k->deadline_ms = 0;
    if (rate_due(&c->expired)) {
        zv_log(ZV_LOG_NOTICE, "http",
               "closed %lld connection(s) that did not send a whole request within %lld ms "
               "(http.limits.request_timeout)",
               (long long)c->expired.pending, (long long)c->lim.request_timeout_ms);
        c->expired.pending = 0;
    }
    bufferevent_trigger_event(k->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, 0);
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    zv_httpd_conns *c = arg;
    int64_t now = now_ms();
    for (conn *k = all, *next; k; k = next) {
        next = k->next;
        if (k->owner != c) continue;
        bufferevent_event_cb eventcb = NULL;
        bufferevent_getcb(k->bev, NULL, NULL, &eventcb, NULL);
        if (!eventcb) {
            drop(k); /* evhttp freed the connection */
            continue;
        }
        /* Only while evhttp waits for request bytes, i.e. in the states
         * where its own idle timeout could fire. */
        if (k->deadline_ms && now >= k->deadline_ms && (bufferevent_get_enabled(k->bev) & EV_READ))
            expire(k); /* evhttp frees it; the next sweep drops it */
    }
    update_listener(c);
    struct timeval tv = {0, SWEEP_MS * 1000};
    if (c->open) evtimer_add(c->sweep, &tv);
}

static struct bufferevent *new_conn(struct event_base *base, void *arg)
{
    zv_httpd_conns *c = arg;
    conn *k = calloc(1, sizeof(*k));
    /* Closed on its last reference, ours, not by evhttp: the descriptor
     * cannot be reused while we still look at the bufferevent. */
    struct bufferevent *bev = !k        ? NULL
                              : c->make ? c->make(base, c->make_arg)
                                        : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        free(k); /* evhttp makes a bufferevent of its own: served, not tracked */
        return NULL;
    }
    bufferevent_incref(bev);
    /* A freed connection's bufferevent may still read until the next
     * sweep drops it: bounded to one request's worth. */
    bufferevent_setwatermark(
        bev, EV_READ, 0, (size_t)c->lim.max_body_size + (size_t)c->lim.max_header_size + 64 * 1024);
    k->owner = c;
    k->bev = bev;
    k->next = all;
    if (all) all->prev = k;
    all = k;
    c->open++;
    k->deadline_ms = now_ms() + c->lim.request_timeout_ms;
    if (!evtimer_pending(c->sweep, NULL)) {
        struct timeval tv = {0, SWEEP_MS * 1000};
        evtimer_add(c->sweep, &tv);
    }
    update_listener(c);
    return bev;
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    zv_httpd_conns *c = arg;
    c->accept_error = 0;
    update_listener(c);
}

/* accept() failed for another reason than "try again" (EMFILE, ENFILE,
 * ENOBUFS): libevent would call it again at once, forever. */
static void accept_error(struct evconnlistener *lev, void *arg)
{
    (void)arg; /* evhttp's */
    int err = errno;
    zv_httpd_conns *c = trackers;
    while (c && c->lev != lev)
        c = c->next_tracker;
    if (!c) return;
    c->accept_error = 1;
    update_listener(c);
    if (rate_due(&c->refused)) {
        zv_log(ZV_LOG_WARN, "http",
               "cannot accept connections: %s (%zu open); pausing 1 s (%lld times since the "
               "last such line)",
               strerror(err), c->open, (long long)c->refused.pending);
        c->refused.pending = 0;
    }
    struct timeval tv = {1, 0};
    evtimer_add(c->resume, &tv);
}

zv_httpd_conns *zv_httpd_conns_new(struct event_base *base, struct evhttp *http,
                                   struct evconnlistener *lev, const zv_http_limits *lim,
                                   zv_httpd_bev_cb make, void *make_arg)
{
    zv_httpd_conns *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->resume = evtimer_new(base, resume_cb, c);
    c->sweep = evtimer_new(base, sweep_cb, c);
    if (!c->resume || !c->sweep) {
        free_tracker(c);
        return NULL;
    }
    c->lev = lev;
    c->lim = *lim;
    c->make = make;
    c->make_arg = make_arg;
    c->next_tracker = trackers;
    trackers = c;
    c->enabled = 1;
    evconnlistener_set_error_cb(lev, accept_error);
    evhttp_set_bevcb(http, new_conn, c);
    return c;
}

void zv_httpd_conns_release(zv_httpd_conns *c)
{
    if (!c) return;
    /* evhttp_free() freed every connection of this listener. */
    for (conn *k = all, *next; k; k = next) {
        next = k->next;
        if (k->owner == c) drop(k);
    }
    free_tracker(c);
}

static conn *find(struct evhttp_request *req)
{
    struct evhttp_connection *evcon = req ? evhttp_request_get_connection(req) : NULL;
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    for (conn *k = bev ? all : NULL; k; k = k->next)
        if (k->bev == bev) return k;
    return NULL;
}

void zv_httpd_conns_request_read(struct evhttp_request *req)
{
    conn *k = find(req);
    if (k) k->deadline_ms = 0;
}

void zv_httpd_conns_replying(struct evhttp_request *req)
{
    conn *k = find(req);
    if (k) k->deadline_ms = now_ms() + k->owner->lim.request_timeout_ms;
}

size_t zv_httpd_conns_open(const zv_httpd_conns *c)
{
    return c ? c->open : 0;
}
