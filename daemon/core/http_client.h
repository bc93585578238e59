/*
 * Asynchronous HTTP(S) client: one libcurl multi handle driven by the core's
 * libevent loop (socket and timer callbacks; no blocking calls, no threads).
 * Backs zv_host.http_request for plugins.
 */
#ifndef ZV_HTTP_CLIENT_H
#define ZV_HTTP_CLIENT_H

#include <event2/event.h>
#include <zinvol/plugin.h>

typedef struct zv_http_client zv_http_client;

zv_http_client *zv_http_client_new(struct event_base *base);
/* Aborts transfers in flight; their callbacks are called with status 0 and
 * error "cancelled" (cancelled calls are not: they are gone already). */
void zv_http_client_free(zv_http_client *c);
/* Copies what it needs from req; cb is called exactly once, never from
 * inside this call, unless the call is cancelled.  NULL when the request
 * could not be started (bad URL, too small a req->size): cb never runs. */
zv_http_call *zv_http_client_request(zv_http_client *c, const zv_http_request *req, zv_http_cb cb,
                                     void *arg);
/* Aborts a call whose callback has not run yet (see zv_host.http_cancel):
 * the callback never runs and the handle is freed.  Returns the arg the
 * callback would have had, for the caller to free what it owns there.
 * Inside the call's own callback it does nothing and returns NULL (the
 * call is finishing anyway). */
void *zv_http_client_cancel(zv_http_call *call);
/* Transfers in flight. */
int zv_http_client_active(const zv_http_client *c);

#endif
