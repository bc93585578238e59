/*
 * The pipeline from a source's raw item to the outbox:
 *
 *   emit:  item -> mapping -> record -> per destination: match, classify,
 *          minimise -> staged (durable at commit)
 *   flush: staged records of a destination -> format render -> outbox
 *
 * Every failure on the way is kept: mapping and minimiser failures and
 * rule violations go to quarantine with the field and reason.
 */
#include "core/plugin_loader.h"
#include "runtime_int.h"
#include "admin/metrics.h"
#include "change.h"
#include "delivery/delivery.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

int zv_dest_matches(const zv_dest_rt *d, const zv_record *rec)
{
    for (size_t i = 0; i < d->nmatch; i++) {
        const char *v = zv_rec_str(rec, (zv_field_id)d->match[i].field);
        if (!v) return 0;
        const zv_json *want = d->match[i].values;
        int hit = 0;
        if (zv_json_type_of(want) == ZV_JSON_STRING) {
            hit = strcmp(zv_json_str(want, NULL), v) == 0;
        } else {
            for (size_t k = 0; k < zv_json_len(want) && !hit; k++)
                hit = strcmp(zv_json_str(zv_json_at(want, k), NULL), v) == 0;
        }
        if (!hit) return 0;
    }
    return 1;
}

int zv_pipeline_quarantine(zv_runtime *rt, const zv_record *rec, const char *stage,
                           const char *dest, const char *field, const char *rule,
                           const char *reason)
{
    unsigned char *enc = NULL;
    size_t len = 0;
    if (rec && zv_record_encode(rec, &enc, &len) < 0) return -1;
    zv_quarantine_entry q = {
        .source = rec ? rec->prov.source : "",
        .record_id = rec ? rec->prov.record_id : "",
        .stage = stage,
        .destination = dest,
        .field = field,
        .rule = rule,
        .reason = reason,
        .record = enc,
        .record_len = len,
    };
    int r = zv_store_quarantine_add(rt->store, &q, NULL);
    free(enc);
    zv_metrics_quarantined(q.source, stage);
    zv_log(ZV_LOG_WARN, dest ? dest : "pipeline", "quarantined %s/%s at %s: %s%s%s%s%s", q.source,
           q.record_id, stage, rule ? rule : "", rule ? " " : "", field ? field : "",
           field ? ": " : "", reason);
    return r;
}

static void arm_window(zv_runtime *rt, zv_dest_rt *d)
{
    if (d->dirty || rt->mode != ZV_RT_RUN) {
        d->dirty = 1;
        return;
    }
    d->dirty = 1;
    struct timeval tv = {d->conf->policy.batch_window_s, 0};
    evtimer_add(d->batch_timer, &tv);
}

/* Route one mapped record to every destination that wants it (or only to
 * `only`, when a quarantined record is retried for one destination).
 * Returns how many destinations it was staged for, or -1. */
static int route_record(zv_runtime *rt, const zv_record *rec, const char *only)
{
    char field[128], reason[512];
    int staged = 0;
    for (size_t i = 0; i < rt->ndests; i++) {
        zv_dest_rt *d = &rt->dests[i];
        if (only && strcmp(only, d->conf->name) != 0) continue;
        if (!zv_dest_matches(d, rec)) continue;
        int m = d->fmt.desc->format->classify(d->fmt.state, rec);
        if (m < 0 || (size_t)m >= d->nmsg) continue;
        if (!d->mins[m]) { /* the format broke its own message_active() */
            d->quarantined++;
            snprintf(reason, sizeof(reason),
                     "the format classified the record as %s, which is "
                     "not active with this destination's format_options",
                     zv_plugin_message(d->fmt.desc, (size_t)m)->name);
            if (zv_pipeline_quarantine(rt, rec, "format", d->conf->name, NULL, NULL, reason) < 0)
                return -1;
            continue;
        }
        zv_record *min = NULL;
        field[0] = reason[0] = '\0';
        zv_min_result r =
            zv_minimise(d->mins[m], rec, &min, field, sizeof(field), reason, sizeof(reason));
        if (r == ZV_MIN_ERROR) return -1;
        if (r == ZV_MIN_MISSING) {
            d->quarantined++;
            if (zv_pipeline_quarantine(rt, rec, "minimiser", d->conf->name, field, NULL, reason) <
                0)
                return -1;
            continue;
        }
        /* Nothing new for this destination: no message (core/change.h). */
        int same = zv_change_unchanged(rt, d, m, min);
        if (same != 0) {
            zv_record_free(min);
            if (same < 0) return -1;
            d->unchanged++;
            continue;
        }
        unsigned char *enc;
        size_t len;
        int rc = zv_record_encode(min, &enc, &len);
        zv_record_free(min);
        if (rc < 0) return -1;
        rc = zv_store_stage(rt->store, d->conf->name, m, enc, len);
        free(enc);
        if (rc < 0) return -1;
        d->staged++;
        staged++;
        zv_metrics_staged(d->conf->name);
        arm_window(rt, d);
    }
    return staged;
}

/* An optional field the mapping dropped: logged with its reason and counted. */
struct drop_ctx {
    zv_ctx *ctx;
    const char *rid;
};

static void on_dropped(void *arg, const char *field, const char *reason)
{
    struct drop_ctx *dc = arg;
    zv_log(ZV_LOG_WARN, dc->ctx->component, "record %s: optional field %s left out: %s", dc->rid,
           field, reason);
    zv_store_count_add(dc->ctx->rt->store, dc->ctx->name, "-", "fields_dropped", 1);
}

/* One item, already strict UTF-8, through de-duplication and mapping. */
static int emit_checked(zv_ctx *ctx, const zv_item *item);

/* A record that changes nothing: counted, and a duplicate to the source. */
static int unchanged(zv_ctx *ctx)
{
    ctx->src->duplicates++;
    ctx->src->unchanged++;
    zv_metrics_record(ctx->name, ZV_MREC_DUPLICATE);
    return ZV_EMIT_DUPLICATE;
}

int zv_pipeline_emit(zv_ctx *ctx, const zv_item *item)
{
    zv_runtime *rt = ctx->rt;
    zv_source_rt *src = ctx->src;
    if (!src || !rt->store || rt->stopping) return -1;
    if (zv_unit_open(ctx) < 0) return -1;
    rt->unit_emits++;
    src->items++;
    zv_metrics_record(ctx->name, ZV_MREC_IN);
    /* The one gate for outside text: an item that is not strict UTF-8 can
     * be written neither as JSON nor as XML.  It is quarantined in a
     * spelled-out form naming the field (through the mapping, which refuses
     * it), never reported as a store failure: the source goes on. */
    zv_item *fixed = NULL;
    int bad = zv_item_text_check(item, &fixed);
    if (bad < 0) return -1;
    int rc = emit_checked(ctx, fixed ? fixed : item);
    zv_item_free_parsed(fixed);
    return rc;
}

static int emit_checked(zv_ctx *ctx, const zv_item *item)
{
    zv_runtime *rt = ctx->rt;
    zv_source_rt *src = ctx->src;
    /* The content hash leaves out the item's own id (a file name and row),
     * so the same record arriving in another file hashes the same.  The
     * full item JSON is only built when the item goes to quarantine. */
    zv_item bare = *item;
    bare.record_id = NULL;
    char *content = zv_item_to_json(&bare);
    if (!content) return -1;
    char hash[65];
    zv_sha256_hex(content, strlen(content), hash);
    free(content);
    /* The mapping's record id (e.g. the ECD's delivery number) first, so a
     * full export dropped again under another file name is recognised row by
     * row; then the source's own id; then the content. */
    char mapped_id[256];
    const char *rid = zv_mapping_record_id(src->mapping, item, mapped_id, sizeof(mapped_id)) > 0
                          ? mapped_id
                      : item->record_id ? item->record_id
                                        : hash;
    /* A row seen before is still mapped and routed: the mapping or the
     * catalogues may have changed since, and change detection per
     * destination decides whether anything goes out (core/change.h). */
    int seen = zv_store_seen(rt->store, ctx->name, rid, hash);
    if (seen < 0) return -1;
    char field[128] = "", reason[512] = "";
    struct drop_ctx dc = {ctx, rid};
    zv_record *rec = zv_mapping_apply_ex(src->mapping, item, zv_now(), field, sizeof(field), reason,
                                         sizeof(reason), on_dropped, &dc);
    if (!rec) {
        /* Only what the mapping reads is kept (no narratives, no other persons). */
        char *json = zv_mapping_item_json(src->mapping, item);
        if (!json) return -1;
        zv_quarantine_entry q = {.source = ctx->name,
                                 .record_id = rid,
                                 .stage = "mapping",
                                 .field = field[0] ? field : NULL,
                                 .reason = reason[0] ? reason : "mapping failed",
                                 .item_json = json};
        /* The same row (content seen before) failing the same way is in
         * quarantine already. */
        int same = seen ? zv_store_quarantine_same(rt->store, &q) : 0;
        if (same != 0) {
            free(json);
            if (same < 0) return -1;
            return unchanged(ctx);
        }
        int r = zv_store_quarantine_add(rt->store, &q, NULL);
        zv_log(ZV_LOG_WARN, ctx->component, "quarantined record %s: %s%s%s", rid,
               field[0] ? field : "", field[0] ? ": " : "", q.reason);
        free(json);
        src->quarantined++;
        zv_metrics_quarantined(ctx->name, "mapping");
        return r < 0 ? -1 : ZV_EMIT_QUARANTINED;
    }
    int64_t same0 = 0, same1 = 0;
    for (size_t i = 0; i < rt->ndests; i++)
        same0 += rt->dests[i].unchanged;
    int r = route_record(rt, rec, NULL);
    zv_record_free(rec);
    if (r < 0) return -1;
    for (size_t i = 0; i < rt->ndests; i++)
        same1 += rt->dests[i].unchanged;
    /* Seen before or nothing new for any destination: the source may treat
     * it as a duplicate (a webhook's redelivered event). */
    if (r == 0 && (same1 > same0 || seen)) return unchanged(ctx);
    src->staged++;
    src->dest_staged += r;
    zv_metrics_record(ctx->name, ZV_MREC_MAPPED);
    return ZV_EMIT_STAGED;
}

static void store_count(const char *field, int64_t kept, int64_t dropped, int64_t na,
                        int64_t missing, void *arg)
{
    const zv_dest_rt *d = ((void **)arg)[0];
    zv_store *s = ((void **)arg)[1];
    const char *what[] = {"kept", "dropped", "not_applicable", "missing"};
    int64_t n[] = {kept, dropped, na, missing};
    for (int i = 0; i < 4; i++)
        if (n[i]) zv_store_count_add(s, d->conf->name, field, what[i], n[i]);
}

/* Minimiser tallies go into the same transaction as the records. */
static void save_counts(zv_runtime *rt)
{
    for (size_t i = 0; i < rt->ndests; i++) {
        void *args[2] = {&rt->dests[i], rt->store};
        for (size_t m = 0; m < rt->dests[i].nmsg; m++)
            if (rt->dests[i].mins[m])
                zv_minimiser_drain_counts(rt->dests[i].mins[m], store_count, args);
    }
}

int zv_pipeline_commit(zv_ctx *ctx)
{
    zv_runtime *rt = ctx->rt;
    if (!zv_unit_is_open(ctx)) return 0; /* nothing emitted since the last commit */
    save_counts(rt);
    zv_unit_write_counts(rt);
    rt->unit = NULL;
    rt->unit_emits = 0;
    if (zv_store_commit(rt->store) < 0) {
        zv_log(ZV_LOG_ERROR, ctx->component, "commit failed: %s", zv_store_errmsg(rt->store));
        zv_store_rollback(rt->store);
        return -1;
    }
    return 0;
}

void zv_pipeline_rollback(zv_ctx *ctx)
{
    zv_unit_rollback(ctx);
}

/* ---- quarantine retry (zinvolctl quarantine retry) ---- */

struct qcopy {
    int found;
    char *source, *record_id, *destination, *item_json;
    unsigned char *record;
    size_t record_len;
};

static int copy_entry(const zv_quarantine_entry *e, void *arg)
{
    struct qcopy *q = arg;
    q->found = 1;
    q->source = zv_strdup0(e->source);
    q->record_id = zv_strdup0(e->record_id);
    q->destination = zv_strdup0(e->destination);
    q->item_json = zv_strdup0(e->item_json);
    if (e->record && e->record_len && (q->record = malloc(e->record_len))) {
        memcpy(q->record, e->record, e->record_len);
        q->record_len = e->record_len;
    }
    return 1;
}

static void free_qcopy(struct qcopy *q)
{
    free(q->source);
    free(q->record_id);
    free(q->destination);
    free(q->item_json);
    free(q->record);
}

static void on_dropped_retry(void *arg, const char *field, const char *reason)
{
    zv_log(ZV_LOG_WARN, "pipeline", "retry of %s: optional field %s left out: %s",
           (const char *)arg, field, reason);
}

/* Map the kept item again with the source's current mapping. */
static zv_record *remap(zv_runtime *rt, struct qcopy *q, char *err, size_t errlen)
{
    zv_source_rt *src = NULL;
    for (size_t i = 0; i < rt->nsources; i++)
        if (strcmp(rt->sources[i].conf->name, q->source) == 0) src = &rt->sources[i];
    if (!src) {
        snprintf(err, errlen, "source '%s' is no longer configured", q->source);
        return NULL;
    }
    zv_item *item = zv_item_from_json(q->item_json, strlen(q->item_json));
    if (!item) {
        snprintf(err, errlen, "kept item cannot be read back");
        return NULL;
    }
    char field[128] = "", reason[512] = "";
    zv_record *rec = zv_mapping_apply_ex(src->mapping, item, zv_now(), field, sizeof(field), reason,
                                         sizeof(reason), on_dropped_retry, q->record_id);
    zv_item_free_parsed(item);
    if (!rec) snprintf(err, errlen, "still fails: %s%s%s", field, field[0] ? ": " : "", reason);
    return rec;
}

int zv_pipeline_quarantine_retry(zv_runtime *rt, int64_t id, char *err, size_t errlen)
{
    struct qcopy q = {0};
    if (zv_store_quarantine_get(rt->store, id, copy_entry, &q) < 0 || !q.found) {
        snprintf(err, errlen, "no quarantine entry %lld", (long long)id);
        free_qcopy(&q);
        return 1;
    }
    zv_record *rec = NULL;
    if (q.item_json)
        rec = remap(rt, &q, err, errlen);
    else if (q.record && !(rec = zv_record_decode(q.record, q.record_len)))
        snprintf(err, errlen, "kept record cannot be read back");
    else if (!q.record)
        snprintf(err, errlen, "entry keeps neither item nor record");
    int rc = -1;
    if (rec && zv_store_begin_as(rt->store, "quarantine retry") == 0) {
        int64_t before = 0;
        for (size_t i = 0; i < rt->ndests; i++)
            before += rt->dests[i].quarantined;
        rc = route_record(rt, rec, q.destination);
        int64_t after = 0;
        for (size_t i = 0; i < rt->ndests; i++)
            after += rt->dests[i].quarantined;
        if (rc >= 0) rc = zv_store_quarantine_delete(rt->store, id);
        save_counts(rt);
        if (rc == 0 && zv_store_commit(rt->store) == 0) {
            if (after > before) snprintf(err, errlen, "re-quarantined with a new reason");
            rc = after > before ? 2 : 0;
        } else {
            zv_store_rollback(rt->store);
            snprintf(err, errlen, "store: %s", zv_store_errmsg(rt->store));
            rc = -1;
        }
    }
    zv_record_free(rec);
    free_qcopy(&q);
    return rc;
}
