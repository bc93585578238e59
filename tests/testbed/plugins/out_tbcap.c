/*
 * Testbed transport "tbcap": keeps every payload it is handed (in memory,
 * read by the testbed through tbcap_sent()) and answers as its options
 * say: status ok / retry / rejected, with an HTTP status and an answer
 * body handed to the format's interpret().  Answers come from a timer,
 * never from inside send(), as plugin.h demands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/plugin.h>

typedef struct tbcap_sent_rec {
    char *idem_key;
    char *payload;
    size_t len;
    int attempt;
} tbcap_sent_rec;

/* Everything sent by any instance, oldest first; lives until process exit. */
static tbcap_sent_rec *sent;
static size_t nsent;

ZV_EXPORT size_t tbcap_sent(const tbcap_sent_rec **out);
ZV_EXPORT size_t tbcap_sent(const tbcap_sent_rec **out)
{
    *out = sent;
    return nsent;
}

typedef struct state {
    zv_ctx *ctx;
    const zv_host *host;
    zv_send_status status;
    int http_status;
    const char *answer;
} state;

typedef struct pending {
    state *st;
    zv_timer *t;
    zv_send_cb cb;
    void *arg;
} pending;

static const zv_option options[] = {
    {"status", ZV_OPT_STRING, "ok", 0, "ok, retry or rejected"},
    {"http_status", ZV_OPT_INT, "200", 0, "reported with the answer"},
    {"answer", ZV_OPT_STRING, NULL, 0, "body handed to the format's interpret()"},
    {NULL, 0, NULL, 0, NULL},
};

static int create(zv_ctx *ctx, const zv_host *host, void **out, char *err, size_t errlen)
{
    state *st = calloc(1, sizeof(*st));
    if (!st) return -1;
    st->ctx = ctx;
    st->host = host;
    const char *s = host->cfg_str(ctx, "status");
    if (strcmp(s, "ok") == 0)
        st->status = ZV_SEND_OK;
    else if (strcmp(s, "retry") == 0)
        st->status = ZV_SEND_RETRY;
    else if (strcmp(s, "rejected") == 0)
        st->status = ZV_SEND_REJECTED;
    else {
        free(st);
        snprintf(err, errlen, "status: ok, retry or rejected, not '%s'", s);
        return -1;
    }
    st->http_status = (int)host->cfg_int(ctx, "http_status");
    st->answer = host->cfg_str(ctx, "answer");
    *out = st;
    return 0;
}

static void destroy(void *p)
{
    free(p);
}

static void answer(void *arg)
{
    pending *pd = arg;
    state *st = pd->st;
    zv_send_result r = {ZV_SIZED(zv_send_result),
                        .status = st->status,
                        .http_status = st->http_status,
                        .detail =
                            st->status == ZV_SEND_OK ? "kept by tbcap" : "tbcap as configured",
                        .retry_after_s = -1,
                        .answer = st->answer,
                        .answer_len = st->answer ? strlen(st->answer) : 0,
                        .answer_type = st->answer ? "application/xml" : NULL};
    st->host->timer_free(pd->t);
    zv_send_cb cb = pd->cb;
    void *cbarg = pd->arg;
    free(pd);
    cb(&r, cbarg);
}

static int send_one(void *p, const zv_delivery *d, zv_send_cb cb, void *arg)
{
    state *st = p;
    tbcap_sent_rec *n = realloc(sent, (nsent + 1) * sizeof(*n));
    pending *pd = calloc(1, sizeof(*pd));
    if (!n || !pd) {
        free(pd);
        return -1;
    }
    sent = n;
    tbcap_sent_rec *r = &sent[nsent++];
    r->idem_key = strdup(d->idem_key ? d->idem_key : "");
    r->payload = malloc(d->len + 1);
    if (r->payload) {
        memcpy(r->payload, d->payload, d->len);
        r->payload[d->len] = '\0';
    }
    r->len = d->len;
    r->attempt = d->attempt;
    pd->st = st;
    pd->cb = cb;
    pd->arg = arg;
    pd->t = st->host->timer_new(st->ctx, answer, pd);
    if (!pd->t) {
        free(pd);
        return -1;
    }
    st->host->timer_arm(pd->t, 0);
    return 0;
}

static const zv_transport_ops ops = {ZV_SIZED(zv_transport_ops), .send = send_one};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_TRANSPORT, "tbcap"),
    .version = "1.0",
    .description = "testbed: keeps what it is sent, answers as configured",
    .options = options,
    .create = create,
    .destroy = destroy,
    .transport = &ops,
};
