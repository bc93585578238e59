/*
 * The access token: asked for with a JSON POST of grant_type
 * client_credentials, scope and audience to the authorisation server, over
 * two-sided TLS (the provider's certificate identifies it; RFC0014 4.1.4),
 * through the core's asynchronous HTTP client, so the loop never waits.
 * The answer is an OAuth2 token response (access_token, expires_in); the
 * token is kept until margin before its expiry (never longer than the hour
 * RFC0014 allows) and fetched again by a timer before then, so sends rarely
 * wait.  Sends that arrive during a fetch share it.  A failed fetch fails
 * the waiting sends for a retry, with the reason in their last error, the
 * log and the counters token_errors / token_fetches.
 */
#include "nm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>
#include <zinvol/util.h>

#define NM_MAX_LIFE_S 3600

struct nm_wait {
    nm_token_cb cb;
    void *arg;
    nm_wait *next;
};

static void fetch(nm *t);
static void finish(nm *t, const char *error);

static void refresh_cb(void *arg)
{
    nm *t = arg;
    if (t->fetching) return;
    if (t->start_failed) {
        t->start_failed = 0;
        finish(t, t->last_error);
        return;
    }
    fetch(t);
}

static void finish(nm *t, const char *error)
{
    nm_wait *w = t->waiting;
    t->waiting = NULL;
    t->waiting_tail = &t->waiting;
    while (w) {
        nm_wait *n = w->next;
        w->cb(t, error ? NULL : t->token, error, w->arg);
        free(w);
        w = n;
    }
}

static void on_token(const zv_http_response *r, void *arg)
{
    nm *t = arg;
    t->fetching = 0;
    t->call = NULL;
    char err[256] = "";
    zv_json_doc *d = NULL;
    const char *tok = NULL;
    int64_t life = 0;
    if (r->status == 0) {
        snprintf(err, sizeof(err), "token: %s", r->error ? r->error : "no response");
    } else if (r->status != 200) {
        snprintf(err, sizeof(err), "token: HTTP %d from the authorisation server: %.120s",
                 r->status, r->body ? r->body : "");
    } else {
        char jerr[128];
        d = zv_json_parse(r->body, r->body_len, 0, jerr, sizeof(jerr));
        tok = d ? zv_json_str(zv_json_get(zv_json_root(d), "access_token"), NULL) : NULL;
        if (!tok || !*tok || zv_json_int(zv_json_get(zv_json_root(d), "expires_in"), &life) < 0 ||
            life <= 0)
            snprintf(err, sizeof(err), "token: the answer has no access_token and expires_in");
    }
    for (char *p = err; *p; p++)
        if ((unsigned char)*p < 0x20) *p = ' ';
    if (err[0]) {
        t->token_errors++;
        t->host->count(t->ctx, "token_errors", 1);
        snprintf(t->last_error, sizeof(t->last_error), "%s", err);
        t->host->log(t->ctx, ZV_LOG_ERROR, "%s", err);
        zv_json_free(d);
        /* Try again later without a send asking: a minute, or sooner when
         * the token we still have runs out. */
        t->host->timer_arm(t->refresh, 60000);
        finish(t, err);
        return;
    }
    if (life > NM_MAX_LIFE_S) life = NM_MAX_LIFE_S;
    free(t->token);
    t->token = strdup(tok);
    zv_json_free(d);
    int64_t now = zv_now_ms();
    t->token_exp_ms = now + life * 1000;
    t->last_error[0] = '\0';
    int64_t due = life * 1000 - t->margin_ms;
    t->host->timer_arm(t->refresh, (uint64_t)(due > 1000 ? due : 1000));
    t->host->log(t->ctx, ZV_LOG_INFO, "access token for %s, valid %llds", t->scope,
                 (long long)life);
    finish(t, t->token ? NULL : "token: out of memory");
}

static void fetch(nm *t)
{
    zv_jw *w = zv_jw_new(0);
    zv_jw_obj_open(w);
    zv_jw_key(w, "grant_type");
    zv_jw_str(w, "client_credentials");
    zv_jw_key(w, "scope");
    zv_jw_str(w, t->scope);
    zv_jw_key(w, "audience");
    zv_jw_str(w, t->audience);
    zv_jw_obj_close(w);
    const char *body;
    size_t len = 0;
    zv_jw_result(w, &body, &len);
    zv_http_header hdr[] = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    zv_http_request req = {ZV_SIZED(zv_http_request),
                           .method = "POST",
                           .url = t->token_url,
                           .headers = hdr,
                           .nheaders = ZV_COUNT(hdr),
                           .header_size = sizeof(hdr[0]),
                           .body = body,
                           .body_len = len,
                           .timeout_ms = t->timeout_ms,
                           .ca_file = t->ca_file,
                           .cert_file = t->cert_file,
                           .key_file = t->key_file,
                           .max_response = 65536};
    t->fetching = 1;
    t->token_fetches++;
    t->host->count(t->ctx, "token_fetches", 1);
    t->call = t->host->http_request(t->ctx, &req, on_token, t);
    if (!t->call) {
        t->fetching = 0;
        t->start_failed = 1;
        snprintf(t->last_error, sizeof(t->last_error), "token: cannot start the request");
        t->host->timer_arm(t->refresh, 0); /* fail the waiting sends from the loop */
    }
    zv_jw_free(w);
}

typedef struct now_call {
    nm *t;
    nm_token_cb cb;
    void *arg;
    zv_timer *timer;
} now_call;

static void now_cb(void *arg)
{
    now_call *c = arg;
    c->t->host->timer_free(c->timer);
    c->cb(c->t, c->t->token, NULL, c->arg);
    free(c);
}

int nm_token_get(nm *t, nm_token_cb cb, void *arg)
{
    if (!t->refresh && !(t->refresh = t->host->timer_new(t->ctx, refresh_cb, t))) return -1;
    if (t->token && zv_now_ms() < t->token_exp_ms - t->margin_ms) {
        now_call *c = calloc(1, sizeof(*c));
        if (!c) return -1;
        *c = (now_call){t, cb, arg, t->host->timer_new(t->ctx, now_cb, c)};
        if (!c->timer) {
            free(c);
            return -1;
        }
        t->host->timer_arm(c->timer, 0);
        return 0;
    }
    nm_wait *w = calloc(1, sizeof(*w));
    if (!w) return -1;
    w->cb = cb;
    w->arg = arg;
    *t->waiting_tail = w;
    t->waiting_tail = &w->next;
    if (!t->fetching) fetch(t);
    return 0;
}

void nm_token_drop(nm *t)
{
    free(t->token);
    t->token = NULL;
    t->token_exp_ms = 0;
}

void nm_token_free(nm *t)
{
    /* A fetch still under way must not call back into a freed t. */
    if (t->call) t->host->http_cancel(t->call);
    t->call = NULL;
    finish(t, "shutting down");
    if (t->refresh) t->host->timer_free(t->refresh);
    t->refresh = NULL;
    nm_token_drop(t);
}
