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

typedef struct tbcap_conf {
    int status;
    int http_status;
    const char *answer;
} tbcap_conf;

static const zv_option options[] = {
    {.name = "status",
     .type = ZV_OPT_ENUM,
     .def = "ok",
     .choices = "ok|retry|rejected",
     .description = "the answer to every send",
     ZV_OPT_AT(tbcap_conf, status)},
    {.name = "http_status",
     .type = ZV_OPT_INT,
     .def = "200",
     .max = 599,
     .description = "reported with the answer",
     ZV_OPT_AT(tbcap_conf, http_status)},
    {.name = "answer",
     .type = ZV_OPT_STRING,
     .description = "body handed to the format's interpret()",
     ZV_OPT_AT(tbcap_conf, answer)},
};

static int create(zv_ctx *ctx, const zv_host *host, void **out, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    const tbcap_conf *conf = host->config(ctx);
    static const zv_send_status statuses[] = {ZV_SEND_OK, ZV_SEND_RETRY, ZV_SEND_REJECTED};
    state *st = calloc(1, sizeof(*st));
    if (!st) return -1;
    st->ctx = ctx;
    st->host = host;
    st->status = statuses[conf->status];
    st->http_status = conf->http_status;
    st->answer = conf->answer;
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
    ZV_OPTIONS(options, tbcap_conf),
    .create = create,
    .destroy = destroy,
    .transport = &ops,
};
