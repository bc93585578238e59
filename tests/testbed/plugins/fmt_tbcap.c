/*
 * Testbed format "tbcap": takes every record (message RECORDS) so that a
 * source's records arrive staged for its destination as the mapping made
 * them (the bed names a catalogue listing every model field as optional at
 * level law, so the minimiser keeps them all).  A render writes one JSON
 * payload: per record its source, its record id and the record itself in
 * the store's binary encoding (zv_record_encode) as hex, so the testbed
 * reads back exactly what the core rendered (tests/testbed/zvtb_src.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>
#include <zinvol/model.h>
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

/* The record's store encoding as hex: lossless (values, provenance). */
static int put_encoded(zv_jw *w, const zv_record *r)
{
    unsigned char *enc;
    size_t len;
    if (zv_record_encode(r, &enc, &len) < 0) return -1;
    char *hex = malloc(2 * len + 1);
    if (!hex) {
        free(enc);
        return -1;
    }
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = digits[enc[i] >> 4];
        hex[2 * i + 1] = digits[enc[i] & 15];
    }
    hex[2 * len] = '\0';
    zv_jw_key(w, "encoded");
    zv_jw_str(w, hex);
    free(hex);
    free(enc);
    return 0;
}

/* Runs on a worker thread (the core's render): touches only b and out. */
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
    int rc = 0;
    zv_jw_arr_open(w);
    for (size_t i = 0; rc == 0 && i < b->n; i++) {
        zv_jw_obj_open(w);
        zv_jw_key(w, "source");
        zv_jw_str(w, b->records[i]->prov.source);
        zv_jw_key(w, "record_id");
        zv_jw_str(w, b->records[i]->prov.record_id);
        rc = put_encoded(w, b->records[i]);
        zv_jw_obj_close(w);
        idx[i] = i;
    }
    zv_jw_arr_close(w);
    const char *s;
    size_t len;
    if (rc == 0) rc = zv_jw_result(w, &s, &len);
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
    .description = "testbed: takes every record, renders each in full (store encoding)",
    .create = create,
    .destroy = destroy,
    .format = &ops,
};
