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

/* The options as the core stores them (host->config()). */
typedef struct http_conf {
    const char *url, *ca_file, *cert_file, *key_file, *bearer, *idem_header;
    const zv_json *headers;
    int64_t timeout_ms, max_response;
} http_conf;

#define AT(m) ZV_OPT_AT(http_conf, m)

static const zv_option options[] = {
    {.name = "url",
     .type = ZV_OPT_STRING,
     .flags = ZV_OPT_REQUIRED,
     AT(url),
     .description = "where payloads are POSTed (http or https)"},
    {.name = "headers",
     .type = ZV_OPT_OBJECT,
     AT(headers),
     .description = "extra request headers: {\"Name\": \"value\"}"},
    {.name = "ca_file",
     .type = ZV_OPT_PATH,
     .min = 1,
     AT(ca_file),
     .description = "CA certificates (PEM) to verify the receiver"},
    {.name = "cert_file",
     .type = ZV_OPT_PATH,
     .min = 1,
     AT(cert_file),
     .description = "client certificate (PEM) for mTLS"},
    {.name = "key_file",
     .type = ZV_OPT_PATH,
     .flags = ZV_OPT_SECRET,
     .min = 1,
     AT(key_file),
     .description = "client key (PEM) for mTLS"},
    {.name = "bearer_token",
     .type = ZV_OPT_STRING,
     .flags = ZV_OPT_SECRET,
     .min = 1,
     AT(bearer),
     .description = "OAuth bearer token"},
    {.name = "idempotency_header",
     .type = ZV_OPT_STRING,
     .def = "Idempotency-Key",
     .min = 1,
     AT(idem_header),
     .description = "header that carries the payload's idempotency key"},
    {.name = "timeout",
     .type = ZV_OPT_DURATION,
     .def = "30s",
     .min = 100,
     .max = 3600 * 1000,
     AT(timeout_ms),
     .description = "per request"},
    {.name = "max_response",
     .type = ZV_OPT_SIZE,
     .def = "1MiB",
     .min = 1,
     .max = 1LL << 30,
     AT(max_response),
     .description = "largest answer read"},
};

static int create(zv_ctx *ctx, const zv_host *host, void **state, char *err, size_t errlen)
{
    http_tr *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->ctx = ctx;
    t->host = host;
    const http_conf *c = host->config(ctx);
    t->url = c->url;
    if (!t->url || (strncmp(t->url, "https://", 8) != 0 && strncmp(t->url, "http://", 7) != 0)) {
        snprintf(err, errlen, "url: must start with https:// or http://");
        free(t);
        return -1;
    }
    t->ca_file = c->ca_file;
    t->cert_file = c->cert_file;
    t->key_file = c->key_file;
    t->bearer = c->bearer;
    t->idem_header = c->idem_header;
    if ((t->cert_file == NULL) != (t->key_file == NULL)) {
        snprintf(err, errlen, "cert_file and key_file: give both for mTLS, or neither");
        free(t);
        return -1;
    }
    t->timeout_ms = (long)c->timeout_ms;
    t->max_response = (size_t)c->max_response;
    const zv_json *h = c->headers;
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
    ZV_OPTIONS(options, http_conf),
    .create = create,
    .destroy = destroy,
    .transport = &ops,
};
