/* Verdicts from a format's interpret(): collected, then recorded in the store. */
#include "delivery.h"

#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>
#include <zinvol/util.h>

void zv_verdict_out_init(zv_verdict_out *out)
{
    memset(out, 0, sizeof(*out));
}

void zv_verdict_out_free(zv_verdict_out *out)
{
    for (size_t i = 0; i < out->n; i++) {
        free(out->v[i].record_key);
        free(out->v[i].codes);
        free(out->v[i].reason);
    }
    free(out->v);
    memset(out, 0, sizeof(*out));
}

int zv_verdict_add(zv_verdict_out *out, const char *record_key, int accepted, const char *codes,
                   const char *reason)
{
    if (!out || !record_key || !*record_key) return -1;
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 16;
        zv_verdict *v = realloc(out->v, cap * sizeof(*v));
        if (!v) return -1;
        out->v = v;
        out->cap = cap;
    }
    zv_verdict *v = &out->v[out->n];
    v->record_key = strdup(record_key);
    v->accepted = accepted ? 1 : 0;
    v->codes = zv_strdup0(codes);
    v->reason = zv_strdup0(reason);
    if (!v->record_key) return -1;
    out->n++;
    return 0;
}

/* "source/record_id" of the record with this key, from records_json
 * ([{"source":..,"record_id":..,"key":..},...]); malloc'd or NULL. */
static char *record_ref(const zv_json *recs, const char *key)
{
    for (size_t i = 0; recs && i < zv_json_len(recs); i++) {
        const zv_json *r = zv_json_at(recs, i);
        const char *k = zv_json_str(zv_json_get(r, "key"), NULL);
        if (!k || strcmp(k, key) != 0) continue;
        const char *src = zv_json_str(zv_json_get(r, "source"), NULL);
        const char *id = zv_json_str(zv_json_get(r, "record_id"), NULL);
        zv_buf b;
        zv_buf_init(&b);
        zv_buf_printf(&b, "%s/%s", src ? src : "-", id ? id : "-");
        return zv_buf_steal(&b, NULL);
    }
    return NULL;
}

/* Each verdict of out through put (the store's record_verdict); nrej gets
 * the rejections. */
static void each_verdict(const char *records_json, const zv_verdict_out *out, int http_status,
                         int (*put)(void *st, const zv_verdict *v, const zv_dead_info *d), void *st,
                         int *nrej)
{
    char err[128];
    zv_json_doc *doc = records_json
                           ? zv_json_parse(records_json, strlen(records_json), 0, err, sizeof(err))
                           : NULL;
    const zv_json *recs = doc ? zv_json_root(doc) : NULL;
    *nrej = 0;
    for (size_t i = 0; i < out->n; i++) {
        const zv_verdict *v = &out->v[i];
        char *ref = record_ref(recs, v->record_key);
        zv_dead_info d = {.reason = v->reason ? v->reason : (v->accepted ? "accepted" : "rejected"),
                          .http_status = http_status,
                          .codes = v->codes,
                          .record_key = v->record_key,
                          .record_ref = ref};
        put(st, v, &d);
        free(ref);
        if (!v->accepted) (*nrej)++;
    }
    zv_json_free(doc);
}

struct put_ctx {
    void *store;
    int64_t outbox_id;
};

static int put_store(void *arg, const zv_verdict *v, const zv_dead_info *d)
{
    struct put_ctx *c = arg;
    return zv_store_record_verdict(c->store, c->outbox_id, v->accepted, d, NULL);
}

static int put_sb(void *arg, const zv_verdict *v, const zv_dead_info *d)
{
    struct put_ctx *c = arg;
    return zv_sb_record_verdict(c->store, c->outbox_id, v->accepted, d, NULL);
}

int zv_delivery_apply_verdicts(zv_store *s, int64_t outbox_id, const char *records_json,
                               const zv_verdict_out *out, int http_status, int *rejected)
{
    /* Part of the caller's transaction when it has one (the engine records
     * a delivery and its verdicts together), else one of its own. */
    int own = zv_store_txn_owner(s) == NULL;
    if (own && zv_store_begin_as(s, "verdicts") < 0) return -1;
    struct put_ctx c = {s, outbox_id};
    int nrej;
    each_verdict(records_json, out, http_status, put_store, &c, &nrej);
    if (rejected) *rejected = nrej;
    return own ? zv_store_commit(s) : 0;
}

int zv_delivery_apply_verdicts_sb(zv_sb *b, int64_t outbox_id, const char *records_json,
                                  const zv_verdict_out *out, int http_status, int *rejected)
{
    struct put_ctx c = {b, outbox_id};
    int nrej;
    each_verdict(records_json, out, http_status, put_sb, &c, &nrej);
    if (rejected) *rejected = nrej;
    return 0;
}
