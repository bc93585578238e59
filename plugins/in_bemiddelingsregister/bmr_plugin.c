/* Source "bemiddelingsregister": descriptor, options, create/destroy and
 * start/drain/stop (bmr.h says what it does). */
#include "bmr.h"
#include "nmc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const zv_option options[] = {
    {"release", ZV_OPT_STRING, "bmr-1.1.0", 0,
     "Bundled Bemiddelingsregister release (a folder under share/zinvol/netwerkmodel)", NULL, 0, 0,
     0},
    {"release_dir", ZV_OPT_STRING, NULL, ZV_OPT_PATH,
     "A release folder you supply (release.json, templates); overrides release", NULL, 0, 0, 0},
    {"instelling", ZV_OPT_STRING, NULL, 0,
     "This provider's AGB code (the notifications' ontvanger, the query's Instelling); "
     "default: organisation.agb",
     NULL, 0, 0, 0},
    {"listen", ZV_OPT_STRING, NULL, ZV_OPT_REQUIRED,
     "host:port of the HTTPS endpoint the PEP delivers notifications to", NULL, 0, 0, 0},
    {"path", ZV_OPT_STRING, "/notificaties", 0, "The endpoint's path", NULL, 0, 0, 0},
    {"tls_cert", ZV_OPT_STRING, NULL, ZV_OPT_PATH | ZV_OPT_REQUIRED,
     "Server certificate chain (PEM)", NULL, 0, 0, 0},
    {"tls_key", ZV_OPT_STRING, NULL, ZV_OPT_PATH | ZV_OPT_SECRET | ZV_OPT_REQUIRED,
     "Server key (PEM)", NULL, 0, 0, 0},
    {"client_ca", ZV_OPT_STRING, NULL, ZV_OPT_PATH | ZV_OPT_REQUIRED,
     "CA certificates the PEP's client certificate must chain to (PEM)", NULL, 0, 0, 0},
    {"url", ZV_OPT_STRING, NULL, ZV_OPT_REQUIRED,
     "the Bemiddelingsregister's GraphQL endpoint behind the PEP (https)", NULL, 0, 0, 0},
    {"token_url", ZV_OPT_STRING, NULL, ZV_OPT_REQUIRED,
     "the nID authorisation server's token endpoint (https)", NULL, 0, 0, 0},
    {"audience", ZV_OPT_STRING, NULL, 0, "audience of the token; default: url", NULL, 0, 0, 0},
    {"ca_file", ZV_OPT_STRING, NULL, ZV_OPT_PATH, "CA certificates (PEM) for the PEP and nID", NULL,
     0, 0, 0},
    {"cert_file", ZV_OPT_STRING, NULL, ZV_OPT_PATH | ZV_OPT_REQUIRED,
     "the provider's system certificate (PEM), two-sided TLS", NULL, 0, 0, 0},
    {"key_file", ZV_OPT_STRING, NULL, ZV_OPT_PATH | ZV_OPT_SECRET | ZV_OPT_REQUIRED,
     "its key (PEM)", NULL, 0, 0, 0},
    {"timeout", ZV_OPT_DURATION, "30s", 0, "per request", NULL, 0, 0, 0},
    {"refresh_margin", ZV_OPT_DURATION, "60s", 0, "fetch a new token this long before expiry", NULL,
     0, 0, 0},
    {"retry", ZV_OPT_DURATION, "10s", 0,
     "first delay before a query that could not be made is tried again (doubling, at most 5m)",
     NULL, 0, 0, 0}};

static int https(const char *u)
{
    return u && !strncmp(u, "https://", 8);
}

static void destroy(void *state)
{
    bmr *b = state;
    if (!b) return;
    /* The token's waiters are the queries: their callbacks run from
     * nm_token_free ("shutting down") before they are cancelled here. */
    b->started = 0;
    nm_token_free(&b->tok);
    bmr_calls_cancel(b);
    if (b->timer) b->host->timer_free(b->timer);
    zv_json_flat_free(b->flat);
    bmr_release_free(b);
    free(b->pend);
    free(b);
}

static int token_setup(bmr *b, char *err, size_t errlen)
{
    const zv_host *h = b->host;
    nm *t = &b->tok;
    t->ctx = b->ctx;
    t->host = h;
    t->waiting_tail = &t->waiting;
    t->url = b->url = h->cfg_str(b->ctx, "url");
    t->token_url = h->cfg_str(b->ctx, "token_url");
    t->audience = h->cfg_str(b->ctx, "audience");
    if (!t->audience) t->audience = t->url;
    t->ca_file = h->cfg_str(b->ctx, "ca_file");
    t->cert_file = h->cfg_str(b->ctx, "cert_file");
    t->key_file = h->cfg_str(b->ctx, "key_file");
    t->timeout_ms = (long)h->cfg_int(b->ctx, "timeout");
    t->margin_ms = h->cfg_int(b->ctx, "refresh_margin");
    b->retry_ms = h->cfg_int(b->ctx, "retry");
    if (!https(t->url) || !https(t->token_url) || !https(t->audience)) {
        snprintf(err, errlen, "url, token_url and audience must be https:// URLs");
        return -1;
    }
    if (t->timeout_ms < 1000 || t->margin_ms < 0 || t->margin_ms >= 3600000 || b->retry_ms < 100) {
        snprintf(err, errlen, "timeout (1s or more), refresh_margin (below 1h), retry: durations");
        return -1;
    }
    return 0;
}

static int create(zv_ctx *ctx, const zv_host *host, void **state, char *err, size_t errlen)
{
    bmr *b = calloc(1, sizeof(*b));
    if (!b) return -1;
    b->ctx = ctx;
    b->host = host;
    *state = b;
    char dir[2048];
    if (zv_nm_release_dir(host, ctx, dir, sizeof(dir), err, errlen) < 0) goto fail;
    if (bmr_release_load(b, dir, err, errlen) < 0 || token_setup(b, err, errlen) < 0) goto fail;
    const char *agb = host->cfg_str(ctx, "instelling");
    if (!agb) agb = host->org(ctx, "agb");
    if (!agb || !zv_agb_valid(agb, strlen(agb))) {
        snprintf(err, errlen, "instelling: an 8-digit AGB code is needed (or organisation.agb)");
        goto fail;
    }
    snprintf(b->instelling, sizeof(b->instelling), "%s", agb);
    if (!(b->flat = zv_json_flat_new())) goto fail;
    if (!ZV_HOST_HAS(host, https_listen)) return 0; /* a dry run's host: nothing is served */
    zv_https_spec spec = {ZV_SIZED(zv_https_spec),
                          .listen = host->cfg_str(ctx, "listen"),
                          .cert_file = host->cfg_str(ctx, "tls_cert"),
                          .key_file = host->cfg_str(ctx, "tls_key"),
                          .client_ca = host->cfg_str(ctx, "client_ca"),
                          .path = host->cfg_str(ctx, "path"),
                          .max_body = 64 * 1024};
    if (host->https_listen(ctx, &spec, bmr_serve, b, err, errlen) < 0) goto fail;
    return 0;
fail:
    destroy(b);
    *state = NULL;
    return -1;
}

static int start(void *state)
{
    bmr *b = state;
    b->started = 1;
    bmr_pending_load(b);
    if (b->npend)
        b->host->log(b->ctx, ZV_LOG_INFO, "%zu notification(s) still wait for their query",
                     b->npend);
    bmr_kick(b);
    return 0;
}

/* Once mode: the queries of the notifications kept so far. */
static int drain(void *state)
{
    bmr *b = state;
    if (!b->started) start(b);
    b->draining = 1;
    bmr_kick(b);
    return 0;
}

static void stop(void *state)
{
    bmr *b = state;
    b->started = 0;
    if (b->timer) b->host->timer_cancel(b->timer);
}

static const zv_source_ops ops = {ZV_SIZED(zv_source_ops), .start = start, .drain = drain,
                                  .stop = stop};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_SOURCE, "bemiddelingsregister"),
    .version = "0.1.0",
    .description = "iWlz netwerkmodel: notifications in, QBR-0001-ZA on the Bemiddelingsregister "
                   "into records",
    ZV_OPTION_TABLE(options),
    .create = create,
    .destroy = destroy,
    .source = &ops,
};
