/*
 * Transport "netwerkmodel": payloads (zendNotificatie requests) to the
 * iWlz netwerkmodel's PEP, with an OAuth2 access token of the nID
 * authorisation server (RFC0014: client credentials, scope and audience,
 * over two-sided TLS with the provider's system certificate).
 */
#ifndef ZV_NM_H
#define ZV_NM_H

#include <stdint.h>
#include <zinvol/plugin.h>

typedef struct nm_wait nm_wait; /* a send waiting for a token */

typedef struct nm {
    zv_ctx *ctx;
    const zv_host *host;
    const char *url, *token_url, *scope, *audience;
    const char *ca_file, *cert_file, *key_file;
    long timeout_ms;
    int64_t margin_ms; /* refresh this long before expiry */
    /* token cache (nm_token.c) */
    char *token;
    int64_t token_exp_ms; /* monotonic */
    int fetching, start_failed;
    nm_wait *waiting, **waiting_tail;
    zv_timer *refresh;
    zv_http_call *call; /* the token fetch under way, or NULL */
    char last_error[256];
    int64_t token_fetches, token_errors;
} nm;

typedef void (*nm_token_cb)(nm *t, const char *token, const char *error, void *arg);

/* Call cb with a valid token: at once (from a zero timer, never inside the
 * call) when the cached one has more than margin left, else after a fetch
 * that every waiting send shares.  cb gets token NULL and why on failure. */
int nm_token_get(nm *t, nm_token_cb cb, void *arg);
/* The PEP refused the token (401): forget it. */
void nm_token_drop(nm *t);
void nm_token_free(nm *t);

#endif
