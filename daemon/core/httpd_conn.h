/*
 * Connections of the daemon's HTTP listener, tracked so that hostile
 * clients stay bounded (libevent 2.1's evhttp has no such limits itself):
 *  - at most max_connections at once: the listener stops accepting until
 *    one closes, so the rest wait in the kernel's backlog;
 *  - a whole request must arrive within request_timeout, however slowly
 *    it trickles in (evhttp's own timeout only fires on silence);
 *  - accept() failing (file descriptors exhausted) pauses the listener for
 *    a second with one log line, instead of a busy loop of errors.
 * Every connection gets its bufferevent from here (evhttp_set_bevcb); we
 * keep a reference on it and look at all of them every 200 ms.  (A filter
 * bufferevent's free callback would tell us sooner, but evhttp over a
 * filter loses the end of "Connection: close" replies.)
 */
#ifndef ZV_HTTPD_CONN_H
#define ZV_HTTPD_CONN_H

#include <event2/http.h>
#include <event2/listener.h>
#include <stddef.h>

#include "config.h"

typedef struct zv_httpd_conns zv_httpd_conns;

/* Makes a connection's bufferevent (e.g. an OpenSSL one for a TLS
 * listener); NULL: a plain socket bufferevent. */
typedef struct bufferevent *(*zv_httpd_bev_cb)(struct event_base *base, void *arg);

/* Owned by the caller until zv_httpd_conns_release(); lev is the bound
 * listener of http (its accept errors are handled here).  make/make_arg:
 * how a connection's bufferevent is made (it replaces http's bevcb). */
zv_httpd_conns *zv_httpd_conns_new(struct event_base *base, struct evhttp *http,
                                   struct evconnlistener *lev, const zv_http_limits *lim,
                                   zv_httpd_bev_cb make, void *make_arg);
/* Call right after evhttp_free() (which freed every connection): drops
 * our references and frees the tracker. */
void zv_httpd_conns_release(zv_httpd_conns *c);
/* A whole request arrived on req's connection: its deadline stops. */
void zv_httpd_conns_request_read(struct evhttp_request *req);
/* About to reply to req (also long after, when its runtime is gone): the
 * next request on the connection gets a new deadline from now. */
void zv_httpd_conns_replying(struct evhttp_request *req);
/* Connections open now. */
size_t zv_httpd_conns_open(const zv_httpd_conns *c);

#endif
