/*
 * Testbed source "tbcap": reads nothing itself.  The testbed hands items to
 * the core through this instance's context (zvtb_push: host->emit and
 * host->commit, exactly as a source plugin calls them), in the manner of
 * Fluent Bit's lib input.  drain() reports drained at once.
 */
#include <stdlib.h>
#include <zinvol/plugin.h>

typedef struct state {
    zv_ctx *ctx;
    const zv_host *host;
} state;


static int create(zv_ctx *ctx, const zv_host *host, void **out, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    state *st = calloc(1, sizeof(*st));
    if (!st) return -1;
    st->ctx = ctx;
    st->host = host;
    *out = st;
    return 0;
}

static void destroy(void *p)
{
    free(p);
}

static int start(void *p)
{
    (void)p;
    return 0;
}

static int drain(void *p)
{
    state *st = p;
    st->host->drained(st->ctx);
    return 0;
}

static void stop(void *p)
{
    (void)p;
}

static const zv_source_ops ops = {ZV_SIZED(zv_source_ops), .start = start, .drain = drain,
                                  .stop = stop};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_SOURCE, "tbcap"),
    .version = "1.0",
    .description = "testbed: the test hands items to the core through this source",
    .create = create,
    .destroy = destroy,
    .source = &ops,
};
