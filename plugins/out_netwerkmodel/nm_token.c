/*
 * The access token: asked for with a JSON POST of grant_type
 * client_credentials, scope and audience to the authorisation server, over
 * two-sided TLS (the provider's certificate identifies it; RFC0014 4.1.4),
 * through the core's asynchronous HTTP client, so the loop never waits.
 * The answer is an OAuth2 token response (access_token, expires_in); the
 * token is kept until margin before its expiry (never longer than the hour
 * RFC0014 allows) and fetched again by a timer before then, so sends rarely
 * wait.  Sends that arrive during a fetch share it.  An answer is taken
 * only when it is a JSON token response with a token fit for a header and
 * a positive expires_in.  A failed fetch (a refusal with its OAuth2 error,
 * no answer within the timeout, a malformed answer) is reported as the
 * instance's problem (/healthz, `zinvolctl status`), logged and counted
 * (token_errors / token_fetches); while the token we have is still valid
 * the sends keep using it and the fetch is tried again before it runs
 * out, else the waiting sends fail for a retry with the reason as their
 * last error: the notifications wait in the outbox, and the first fetch
 * that works clears the problem.
 */
#include "nm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
static void failed(nm *t, const char *err);

static void refresh_cb(void *arg)
{
    nm *t = arg;
    if (t->fetching) return;
    if (t->start_failed) {
        t->start_failed = 0;
        failed(t, "token: cannot start the request");
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

/* Why an authorisation server's refusal was given: the OAuth2 error
 * response's error and error_description (RFC 6749 5.2), else the body's
 * start. */
static void refusal(const zv_http_response *r, char *err, size_t errlen)
{
    char jerr[128];
    zv_json_doc *d =
        r->body_len ? zv_json_parse(r->body, r->body_len, 0, jerr, sizeof(jerr)) : NULL;
    const zv_json *root = d ? zv_json_root(d) : NULL;
    const char *e = zv_json_str(zv_json_get(root, "error"), NULL);
    const char *desc = zv_json_str(zv_json_get(root, "error_description"), NULL);
    if (e)
        snprintf(err, errlen, "token: HTTP %d from the authorisation server: %.60s%s%.120s",
                 r->status, e, desc ? ": " : "", desc ? desc : "");
    else
        snprintf(err, errlen, "token: HTTP %d from the authorisation server: %.120s", r->status,
                 r->body_len ? r->body : "(no body)");
    zv_json_free(d);
}

/* An access token goes into an Authorization header: only the visible
 * ASCII of RFC 6750's b64token (and JWTs), nothing that could end the line. */
static int token_ok(const char *tok)
{
    if (strlen(tok) > 8192) return 0;
    for (const unsigned char *p = (const unsigned char *)tok; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f) return 0;
    return 1;
}

/* The token and its lifetime from a 200 answer, or why not. */
static char *read_token(const zv_http_response *r, int64_t *life, char *err, size_t errlen)
{
    char jerr[128];
    zv_json_doc *d = zv_json_parse(r->body, r->body_len, 0, jerr, sizeof(jerr));
    const zv_json *root = d ? zv_json_root(d) : NULL;
    const char *tok = zv_json_str(zv_json_get(root, "access_token"), NULL);
    const char *type = zv_json_str(zv_json_get(root, "token_type"), NULL);
    char *out = NULL;
    if (!d)
        snprintf(err, errlen, "token: the answer is no JSON: %s", jerr);
    else if (!tok || !*tok)
        snprintf(err, errlen, "token: the answer has no access_token");
    else if (!token_ok(tok))
        snprintf(err, errlen, "token: the access_token has characters a header cannot carry");
    else if (zv_json_int(zv_json_get(root, "expires_in"), life) < 0 || *life <= 0)
        snprintf(err, errlen, "token: expires_in is no positive number of seconds");
    else if (type && strcasecmp(type, "Bearer") != 0)
        snprintf(err, errlen, "token: token_type %.40s, not Bearer", type);
    else if (!(out = strdup(tok)))
        snprintf(err, errlen, "token: out of memory");
    zv_json_free(d);
    return out;
}

static void failed(nm *t, const char *err)
{
    t->token_errors++;
    t->host->count(t->ctx, "token_errors", 1);
    snprintf(t->last_error, sizeof(t->last_error), "%s", err);
    t->host->log(t->ctx, ZV_LOG_ERROR, "%s", err);
    int64_t left = t->token ? t->token_exp_ms - zv_now_ms() : 0;
    char problem[320];
    if (left > 1000) {
        /* The token we have still works: sends keep using it, and the next
         * try comes before it runs out. */
        snprintf(problem, sizeof(problem), "%s (the current token expires in %llds)", err,
                 (long long)(left / 1000));
        t->host->timer_arm(t->refresh, (uint64_t)(left / 2 < 60000 ? left / 2 : 60000));
    } else {
        snprintf(problem, sizeof(problem), "%s; notifications wait", err);
        nm_token_drop(t);
        t->host->timer_arm(t->refresh, 60000);
    }
    if (ZV_HOST_HAS(t->host, problem)) t->host->problem(t->ctx, problem);
    finish(t, t->token ? NULL : err);
}

static void on_token(const zv_http_response *r, void *arg)
{
    nm *t = arg;
    t->fetching = 0;
    t->call = NULL;
    char err[256] = "";
    int64_t life = 0;
    char *tok = NULL;
    if (r->status == 0)
        snprintf(err, sizeof(err), "token: %s", r->error ? r->error : "no response");
    else if (r->status != 200)
        refusal(r, err, sizeof(err));
    else
        tok = read_token(r, &life, err, sizeof(err));
    for (char *p = err; *p; p++)
        if ((unsigned char)*p < 0x20) *p = ' ';
    zv_bsn_scrub(err);
    if (!tok) {
        failed(t, err);
        return;
    }
    if (life > NM_MAX_LIFE_S) life = NM_MAX_LIFE_S;
    free(t->token);
    t->token = tok;
    t->token_exp_ms = zv_now_ms() + life * 1000;
    t->last_error[0] = '\0';
    if (ZV_HOST_HAS(t->host, problem)) t->host->problem(t->ctx, NULL);
    int64_t due = life * 1000 - t->margin_ms;
    t->host->timer_arm(t->refresh, (uint64_t)(due > 1000 ? due : 1000));
    t->host->log(t->ctx, ZV_LOG_INFO, "access token for %s, valid %llds", t->scope,
                 (long long)life);
    finish(t, NULL);
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
    int64_t now = zv_now_ms();
    /* Within the margin a fresh token is fetched; when that fetch failed,
     * the one we have serves until its last second (failed() retries). */
    int usable = t->token && (now < t->token_exp_ms - t->margin_ms ||
                              (t->last_error[0] && now < t->token_exp_ms - 1000));
    if (usable) {
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
