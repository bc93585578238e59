/*
 * Testbed format "tbcap": takes every record (message RECORDS) so that a
 * source's records arrive staged for its destination as the mapping made
 * them (the bed names a catalogue listing every model field as optional at
 * level law, so the minimiser keeps them all).  A render writes one JSON
 * payload listing the records' sources and ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>
#include <zinvol/plugin.h>

typedef struct state {
    zv_ctx *ctx;
    const zv_host *host;
} state;

static const zv_message_decl messages[] = {
    {"RECORDS", NULL, "every record, as mapped"},
};

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

static int classify(void *p, const zv_record *rec)
{
    (void)p, (void)rec;
    return 0;
}

static int render(void *p, const zv_batch *b, zv_render_out *out)
{
    state *st = p;
    if (!b->n) return 0;
    zv_jw *w = zv_jw_new(0);
    size_t *idx = calloc(b->n, sizeof(*idx));
    if (!w || !idx) {
        zv_jw_free(w);
        free(idx);
        return -1;
    }
    zv_jw_arr_open(w);
    for (size_t i = 0; i < b->n; i++) {
        zv_jw_obj_open(w);
        zv_jw_key(w, "source");
        zv_jw_str(w, b->records[i]->prov.source);
        zv_jw_key(w, "record_id");
        zv_jw_str(w, b->records[i]->prov.record_id);
        zv_jw_obj_close(w);
        idx[i] = i;
    }
    zv_jw_arr_close(w);
    const char *s;
    size_t len;
    int rc = zv_jw_result(w, &s, &len);
    if (rc == 0) {
        zv_payload_spec ps = {ZV_SIZED(zv_payload_spec),
                              .data = s,
                              .len = len,
                              .content_type = "application/json",
                              .idem_key = b->batch_id,
                              .extension = "json",
                              .records = idx,
                              .nrecords = b->n};
        rc = st->host->add_payload(out, &ps);
    }
    zv_jw_free(w);
    free(idx);
    return rc;
}

static const zv_format_ops ops = {ZV_SIZED(zv_format_ops), ZV_MESSAGES(messages),
                                  .classify = classify, .render = render};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_FORMAT, "tbcap"),
    .version = "1.0",
    .description = "testbed: takes every record, renders a list of their ids",
    .create = create,
    .destroy = destroy,
    .format = &ops,
};
