/*
 * Transport "netwerkmodel" (nm.h): every payload is a GraphQL request
 * (zendNotificatie) POSTed to the PEP with the bearer token, Content-Type
 * application/json, Accept application/graphql-response+json (RFC0040) and
 * B3 trace headers X-B3-TraceId / X-B3-SpanId (RFC0022a), over two-sided
 * TLS.  The answer decides:
 *   200 with data and no errors: delivered;
 *   401: the token is forgotten and the payload tried again with a new one;
 *   408, 425, 429, 5xx, no answer, no token: tried again later;
 *   any other status, or GraphQL errors: rejected (dead letter) with the
 *   first error's message as the reason.
 */
#include "nm.h"

#include "nmc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>
#include <zinvol/util.h>

#define SNIPPET 300

static const zv_option options[] = {
    {"url", ZV_OPT_STRING, NULL, ZV_OPT_REQUIRED, "the PEP's GraphQL endpoint (https)", NULL, 0, 0,
     0},
    {"token_url", ZV_OPT_STRING, NULL, ZV_OPT_REQUIRED,
     "the nID authorisation server's token endpoint (https)", NULL, 0, 0, 0},
    {"scope", ZV_OPT_STRING, NULL, ZV_OPT_REQUIRED,
     "scope asked for, e.g. organisaties/zorgkantoor/notificaties/notificatie:create", NULL, 0, 0,
     0},
    {"audience", ZV_OPT_STRING, NULL, 0, "audience of the token; default: url", NULL, 0, 0, 0},
    {"ca_file", ZV_OPT_STRING, NULL, ZV_OPT_PATH, "CA certificates (PEM) for both servers", NULL, 0,
     0, 0},
    {"cert_file", ZV_OPT_STRING, NULL, ZV_OPT_PATH | ZV_OPT_REQUIRED,
     "the provider's system certificate (PEM), two-sided TLS", NULL, 0, 0, 0},
    {"key_file", ZV_OPT_STRING, NULL, ZV_OPT_PATH | ZV_OPT_SECRET | ZV_OPT_REQUIRED,
     "its key (PEM)", NULL, 0, 0, 0},
    {"timeout", ZV_OPT_DURATION, "30s", 0, "per request", NULL, 0, 0, 0},
    {"refresh_margin", ZV_OPT_DURATION, "60s", 0, "fetch a new token this long before expiry", NULL,
     0, 0, 0}};

typedef struct pending {
    nm *t;
    char *body;
    size_t len;
    char idem[128];
    int retried_token;
    zv_send_cb cb;
    void *arg;
} pending;

static int https(const char *u)
{
    return u && !strncmp(u, "https://", 8);
}

static int create(zv_ctx *ctx, const zv_host *host, void **state, char *err, size_t errlen)
{
    nm *t = calloc(1, sizeof(*t));
    if (!t) return -1;
    t->ctx = ctx;
    t->host = host;
    t->waiting_tail = &t->waiting;
    t->url = host->cfg_str(ctx, "url");
    t->token_url = host->cfg_str(ctx, "token_url");
    t->scope = host->cfg_str(ctx, "scope");
    t->audience = host->cfg_str(ctx, "audience");
    if (!t->audience) t->audience = t->url;
    t->ca_file = host->cfg_str(ctx, "ca_file");
    t->cert_file = host->cfg_str(ctx, "cert_file");
    t->key_file = host->cfg_str(ctx, "key_file");
    int64_t to = host->cfg_int(ctx, "timeout") / 1000; /* durations come in ms */
    int64_t m = host->cfg_int(ctx, "refresh_margin") / 1000;
    if (!https(t->url) || !https(t->token_url) || !https(t->audience)) {
        snprintf(err, errlen, "url, token_url and audience must be https:// URLs");
    } else if (to <= 0 || m < 0 || m >= 3600) {
        snprintf(err, errlen, "timeout and refresh_margin: durations (margin below 1h)");
    } else {
        t->timeout_ms = (long)to * 1000;
        t->margin_ms = m * 1000;
        *state = t;
        return 0;
    }
    free(t);
    return -1;
}

static void destroy(void *state)
{
    nm *t = state;
    if (!t) return;
    nm_token_free(t);
    free(t);
}

static void done(pending *p, zv_send_status st, int http, const char *detail, long retry_after)
{
    zv_send_result res = {ZV_SIZED(zv_send_result), .status = st, .http_status = http,
                          .detail = detail, .retry_after_s = retry_after};
    p->cb(&res, p->arg);
    free(p->body);
    free(p);
}

/* The first GraphQL error's message, or NULL when the answer has data and
 * no errors. */
static int graphql_outcome(const zv_http_response *r, char *why, size_t whylen)
{
    char err[128];
    zv_json_doc *d = r->body ? zv_json_parse(r->body, r->body_len, 0, err, sizeof(err)) : NULL;
    if (!d) {
        snprintf(why, whylen, "HTTP %d: the answer is no GraphQL response", r->status);
        return -1;
    }
    const zv_json *root = zv_json_root(d);
    const zv_json *errs = zv_json_get(root, "errors");
    const zv_json *data = zv_json_get(root, "data");
    int rc = 0;
    if (zv_json_len(errs) > 0) {
        const char *m = zv_json_str(zv_json_get(zv_json_at(errs, 0), "message"), NULL);
        snprintf(why, whylen, "HTTP %d: %.*s", r->status, SNIPPET, m ? m : "GraphQL error");
        rc = -1;
    } else if (!data || zv_json_type_of(data) == ZV_JSON_NULL) {
        snprintf(why, whylen, "HTTP %d: no data in the answer", r->status);
        rc = -1;
    }
    zv_json_free(d);
    for (char *p = why; *p; p++)
        if ((unsigned char)*p < 0x20) *p = ' ';
    zv_bsn_scrub(why);
    return rc;
}

static int retryable(int s)
{
    return s == 408 || s == 425 || s == 429 || s >= 500;
}

static void post(nm *t, const char *token, const char *error, void *arg);

static void on_response(const zv_http_response *r, void *arg)
{
    pending *p = arg;
    char why[SNIPPET + 64];
    if (r->status == 0) {
        snprintf(why, sizeof(why), "%s", r->error ? r->error : "no response");
        done(p, ZV_SEND_RETRY, 0, why, -1);
        return;
    }
    if (r->status == 401 && !p->retried_token) {
        /* The PEP no longer takes the token: a new one, once. */
        nm_token_drop(p->t);
        p->retried_token = 1;
        if (nm_token_get(p->t, post, p) == 0) return;
        done(p, ZV_SEND_RETRY, 401, "HTTP 401 and no new token", -1);
        return;
    }
    int bad = graphql_outcome(r, why, sizeof(why));
    if (r->status == 200 && !bad) {
        snprintf(why, sizeof(why), "HTTP 200: notification accepted");
        done(p, ZV_SEND_OK, 200, why, -1);
        return;
    }
    if (r->status == 200 || r->status < 300) {
        done(p, ZV_SEND_REJECTED, r->status, why, -1);
        return;
    }
    done(p, retryable(r->status) ? ZV_SEND_RETRY : ZV_SEND_REJECTED, r->status, why,
         r->retry_after_s);
}

static void post(nm *t, const char *token, const char *error, void *arg)
{
    pending *p = arg;
    if (!token) {
        done(p, ZV_SEND_RETRY, 0, error ? error : "no token", -1);
        return;
    }
    char trace[33], span[17];
    zv_nm_b3(trace, span);
    zv_http_header hdr[] = {{"Content-Type", "application/json"},
                            {"Accept", "application/graphql-response+json"},
                            {"X-B3-TraceId", trace},
                            {"X-B3-SpanId", span},
                            {"Idempotency-Key", p->idem}};
    zv_http_request req = {ZV_SIZED(zv_http_request),
                           .method = "POST",
                           .url = t->url,
                           .headers = hdr,
                           .nheaders = ZV_COUNT(hdr),
                           .header_size = sizeof(hdr[0]),
                           .body = p->body,
                           .body_len = p->len,
                           .timeout_ms = t->timeout_ms,
                           .ca_file = t->ca_file,
                           .cert_file = t->cert_file,
                           .key_file = t->key_file,
                           .bearer_token = token,
                           .max_response = 1048576};
    if (!t->host->http_request(t->ctx, &req, on_response, p))
        done(p, ZV_SEND_RETRY, 0, "cannot start the request", -1);
}

static int send_payload(void *state, const zv_delivery *d, zv_send_cb cb, void *arg)
{
    nm *t = state;
    pending *p = calloc(1, sizeof(*p));
    if (!p || !(p->body = malloc(d->len ? d->len : 1))) {
        free(p);
        return -1;
    }
    memcpy(p->body, d->payload, d->len);
    p->len = d->len;
    p->t = t;
    p->cb = cb;
    p->arg = arg;
    snprintf(p->idem, sizeof(p->idem), "%s", d->idem_key ? d->idem_key : "");
    if (nm_token_get(t, post, p) < 0) {
        free(p->body);
        free(p);
        return -1;
    }
    return 0;
}

static const zv_transport_ops ops = {ZV_SIZED(zv_transport_ops), .send = send_payload};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_TRANSPORT, "netwerkmodel"),
    .version = "0.1.0",
    .description = "iWlz netwerkmodel: notifications to the PEP with an nID access token (mTLS)",
    ZV_OPTION_TABLE(options),
    .create = create,
    .destroy = destroy,
    .transport = &ops,
};
