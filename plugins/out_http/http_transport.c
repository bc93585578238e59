/*
 * Transport "http": POST each payload to a URL through the core's HTTP
 * client.  TLS verification is always on; a CA file, a client certificate
 * and key (mTLS) and a bearer token are options.  The idempotency key goes
 * in a header so the receiver can recognise a repeat.
 *
 * 2xx: delivered.  408, 425, 429, 5xx and transport errors: try again
 * (Retry-After is passed on).  Any other status: rejected, with the status
 * and the start of the body as the reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

#define MAX_HEADERS 32
#define SNIPPET 300

typedef struct http_tr {
    zv_ctx *ctx;
    const zv_host *host;
    const char *url;
    const char *ca_file, *cert_file, *key_file, *bearer;
    const char *idem_header;
    long timeout_ms;
    size_t max_response;
    zv_http_header extra[MAX_HEADERS];
    size_t nextra;
} http_tr;

typedef struct pending {
    http_tr *t;
    zv_send_cb cb;
    void *arg;
} pending;

static const zv_option options[] = {
    {"url", ZV_OPT_STRING, NULL, ZV_OPT_REQUIRED, "where payloads are POSTed (http or https)"},
    {"headers", ZV_OPT_OBJECT, NULL, 0, "extra request headers: {\"Name\": \"value\"}"},
    {"ca_file", ZV_OPT_STRING, NULL, ZV_OPT_PATH, "CA certificates (PEM) to verify the receiver"},
    {"cert_file", ZV_OPT_STRING, NULL, ZV_OPT_PATH, "client certificate (PEM) for mTLS"},
    {"key_file", ZV_OPT_STRING, NULL, ZV_OPT_PATH | ZV_OPT_SECRET, "client key (PEM) for mTLS"},
    {"bearer_token", ZV_OPT_STRING, NULL, ZV_OPT_SECRET, "OAuth bearer token"},
    {"idempotency_header", ZV_OPT_STRING, "Idempotency-Key", 0,
     "header that carries the payload's idempotency key"},
    {"timeout", ZV_OPT_STRING, "30s", 0, "per request"},
    {"max_response", ZV_OPT_INT, "1048576", 0, "largest answer read, in bytes"},
    {NULL, 0, NULL, 0, NULL}};

static int create(zv_ctx *ctx, const zv_host *host, void **state, char *err, size_t errlen)
{
    http_tr *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->ctx = ctx;
    t->host = host;
    t->url = host->cfg_str(ctx, "url");
    if (!t->url || (strncmp(t->url, "https://", 8) != 0 && strncmp(t->url, "http://", 7) != 0)) {
        snprintf(err, errlen, "url: must start with https:// or http://");
        free(t);
        return -1;
    }
    t->ca_file = host->cfg_str(ctx, "ca_file");
    t->cert_file = host->cfg_str(ctx, "cert_file");
    t->key_file = host->cfg_str(ctx, "key_file");
    t->bearer = host->cfg_str(ctx, "bearer_token");
    t->idem_header = host->cfg_str(ctx, "idempotency_header");
    if (!t->idem_header || !*t->idem_header) t->idem_header = "Idempotency-Key";
    if ((t->cert_file == NULL) != (t->key_file == NULL)) {
        snprintf(err, errlen, "cert_file and key_file: give both for mTLS, or neither");
        free(t);
        return -1;
    }
    const char *to = host->cfg_str(ctx, "timeout");
    int64_t s = to ? zv_duration_parse(to) : 30;
    if (s <= 0) {
        snprintf(err, errlen, "timeout: not a duration: %s", to);
        free(t);
        return -1;
    }
    t->timeout_ms = (long)s * 1000;
    int64_t mr = host->cfg_int(ctx, "max_response");
    t->max_response = mr > 0 ? (size_t)mr : 1048576;
    const zv_json *h = host->cfg_json(ctx, "headers");
    for (size_t i = 0; h && i < zv_json_len(h); i++) {
        const char *v = zv_json_str(zv_json_at(h, i), NULL);
        if (!v || t->nextra == MAX_HEADERS) {
            snprintf(err, errlen, "headers.%s: must be a string (at most %d headers)",
                     zv_json_key_at(h, i), MAX_HEADERS);
            free(t);
            return -1;
        }
        t->extra[t->nextra].name = zv_json_key_at(h, i);
        t->extra[t->nextra].value = v;
        t->nextra++;
    }
    *state = t;
    return 0;
}

static void destroy(void *state)
{
    free(state);
}

static int retryable(int status)
{
    return status == 408 || status == 425 || status == 429 || status >= 500;
}

static void on_response(const zv_http_response *r, void *arg)
{
    pending *p = arg;
    zv_send_result res = {ZV_SIZED(zv_send_result),          .http_status = r->status,
                          .retry_after_s = r->retry_after_s, .answer = r->body,
                          .answer_len = r->body_len,         .answer_type = r->content_type};
    char detail[SNIPPET + 64];
    if (r->status == 0) {
        res.status = ZV_SEND_RETRY;
        snprintf(detail, sizeof(detail), "%s", r->error ? r->error : "no response");
    } else if (r->status >= 200 && r->status < 300) {
        res.status = ZV_SEND_OK;
        snprintf(detail, sizeof(detail), "HTTP %d", r->status);
    } else {
        res.status = retryable(r->status) ? ZV_SEND_RETRY : ZV_SEND_REJECTED;
        /* The receiver's reason, cut short and on one line. */
        size_t n = r->body_len < SNIPPET ? r->body_len : SNIPPET;
        int off = snprintf(detail, sizeof(detail), "HTTP %d%s", r->status, n ? ": " : "");
        for (size_t i = 0; i < n && off < (int)sizeof(detail) - 1; i++) {
            unsigned char c = (unsigned char)r->body[i];
            detail[off++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
        }
        detail[off] = '\0';
        zv_bsn_scrub(detail); /* a receiver may echo the record back */
    }
    res.detail = detail;
    p->cb(&res, p->arg);
    free(p);
}

static int send_payload(void *state, const zv_delivery *d, zv_send_cb cb, void *arg)
{
    http_tr *t = state;
    zv_http_header hdr[MAX_HEADERS + 2];
    size_t n = 0;
    hdr[n++] = (zv_http_header){"Content-Type",
                                d->content_type ? d->content_type : "application/octet-stream"};
    hdr[n++] = (zv_http_header){t->idem_header, d->idem_key};
    for (size_t i = 0; i < t->nextra; i++)
        hdr[n++] = t->extra[i];
    pending *p = calloc(1, sizeof(*p));
    if (!p) return -1;
    p->t = t;
    p->cb = cb;
    p->arg = arg;
    zv_http_request req = {ZV_SIZED(zv_http_request),
                           .method = "POST",
                           .url = t->url,
                           .headers = hdr,
                           .nheaders = n,
                           .header_size = sizeof(zv_http_header),
                           .body = d->payload,
                           .body_len = d->len,
                           .timeout_ms = t->timeout_ms,
                           .ca_file = t->ca_file,
                           .cert_file = t->cert_file,
                           .key_file = t->key_file,
                           .bearer_token = t->bearer,
                           .max_response = t->max_response};
    /* Not cancelled in destroy(): at shutdown the host calls back with
     * "cancelled", which hands the attempt back to the engine. */
    if (!t->host->http_request(t->ctx, &req, on_response, p)) {
        free(p);
        return -1;
    }
    return 0;
}

static const zv_transport_ops ops = {ZV_SIZED(zv_transport_ops), .send = send_payload};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_TRANSPORT, "http"),
    .version = "1.0",
    .description = "POST payloads over HTTPS (mTLS, bearer token, idempotency header)",
    .options = options,
    .create = create,
    .destroy = destroy,
    .transport = &ops,
};
