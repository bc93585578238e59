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
#include "lifecycle.h"
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

_Thread_local int zv_pipeline_metrics_later;

int zv_pipeline_quarantine(zv_runtime *rt, const zv_record *rec, const char *stage,
                           const char *dest, const char *field, const char *rule,
                           const char *reason)
{
    const char *source = rec ? rec->prov.source : "", *rid = rec ? rec->prov.record_id : "";
    /* A valid record that is only early (a start dated after today) waits
     * for its day instead of counting as an error. */
    char due[11];
    if (rec && zv_lifecycle_not_due(rec, field, due))
        return zv_lifecycle_hold(rt, rec, stage, dest, field, rule, reason, due);
    /* The raw item the record was mapped from, so a retry maps it again. */
    char *item = NULL, *mver = NULL;
    if (rec && zv_sb_item_get(rt->sb, source, rid, &item, &mver) < 0) return -1;
    unsigned char *enc = NULL;
    size_t len = 0;
    if (rec && !item && zv_record_encode(rec, &enc, &len) < 0) {
        free(mver);
        return -1;
    }
    char sver[96];
    zv_quarantine_entry q = {
        .source = source,
        .record_id = rid,
        .stage = stage,
        .destination = dest,
        .field = field,
        .rule = rule,
        .reason = reason,
        .item_json = item,
        .record = enc,
        .record_len = len,
        .mapping_version = mver,
        .source_version = zv_lifecycle_source_version(rt, source, sver, sizeof(sver)),
    };
    /* A record refused again exactly as its open entry says (an export
     * dropped again): nothing new to keep. */
    int r = zv_sb_quarantine_like(rt->sb, &q, rt->retrying);
    if (r == 0) r = zv_sb_quarantine_add(rt->sb, &q, NULL);
    else if (r > 0) r = 0;
    free(enc);
    free(item);
    free(mver);
    if (!zv_pipeline_metrics_later) zv_metrics_quarantined(q.source, stage);
    zv_log(ZV_LOG_WARN, dest ? dest : "pipeline", "quarantined %s/%s at %s: %s%s%s%s%s", q.source,
           q.record_id, stage, rule ? rule : "", rule ? " " : "", field ? field : "",
           field ? ": " : "", reason);
    return r;
}

static void arm_window(zv_runtime *rt, zv_dest_rt *d)
{
    /* A unit on a worker took what was staged when it began: these come
     * after it (render.c finish_unit), or they would wait for the next
     * record to be staged. */
    if (d->rendering) d->restaged = 1;
    if (d->dirty || rt->mode != ZV_RT_RUN) {
        d->dirty = 1;
        return;
    }
    d->dirty = 1;
    struct timeval tv = {d->conf->policy.batch_window_s, 0};
    evtimer_add(d->batch_timer, &tv);
}

int zv_pipeline_route(zv_runtime *rt, const zv_record *rec, const char *only, int64_t item_id,
                      zv_route_tally *t)
{
    char field[128], reason[512];
    for (size_t i = 0; i < rt->ndests; i++) {
        zv_dest_rt *d = &rt->dests[i];
        if (only && strcmp(only, d->conf->name) != 0) continue;
        if (!zv_dest_matches(d, rec)) continue;
        int m = d->fmt.desc->format->classify(d->fmt.state, rec);
        if (m < 0 || (size_t)m >= d->nmsg) continue;
        if (!d->mins[m]) { /* the format broke its own message_active() */
            d->quarantined++;
            if (t) t->quarantined++;
            snprintf(reason, sizeof(reason),
                     "the format classified the record as %s, which is "
                     "not active with this destination's format_options",
                     zv_plugin_message(d->fmt.desc, (size_t)m)->name);
            if (zv_pipeline_quarantine(rt, rec, "format", d->conf->name, NULL, NULL, reason) < 0)
                return -1;
            continue;
        }
        /* A view of the kept values, not a copy: it is only digested and
         * encoded here, before the next record comes. */
        const zv_record *min = NULL;
        field[0] = reason[0] = '\0';
        zv_min_result r =
            zv_minimise_view(d->mins[m], rec, &min, field, sizeof(field), reason, sizeof(reason));
        if (r == ZV_MIN_ERROR) return -1;
        if (r == ZV_MIN_MISSING) {
            d->quarantined++;
            if (t) t->quarantined++;
            if (zv_pipeline_quarantine(rt, rec, "minimiser", d->conf->name, field, NULL, reason) <
                0)
                return -1;
            continue;
        }
        /* Nothing new for this destination: no message (core/change.h).
         * An aggregate destination has no change detection: counting a
         * record again changes nothing (render.c). */
        int same = d->aggregate ? 0 : zv_change_unchanged(rt, d, m, min);
        if (same != 0) {
            if (same < 0) return -1;
            d->unchanged++;
            continue;
        }
        unsigned char *enc;
        size_t len;
        int rc = zv_record_encode(min, &enc, &len);
        if (rc < 0) return -1;
        char key[512];
        int keyed = rt->shared && zv_change_key(rec, key, sizeof(key)) == 0;
        rc = zv_sb_stage(rt->sb, d->conf->name, m, enc, len, item_id, keyed ? key : NULL);
        free(enc);
        if (rc < 0) return -1;
        d->staged++;
        if (t) t->staged_n++;
        if (t && t->nstaged < sizeof(t->staged) / sizeof(t->staged[0])) t->staged[t->nstaged++] = d;
        zv_metrics_staged(d->conf->name);
        arm_window(rt, d);
    }
    return 0;
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
     * so the same record arriving in another file hashes the same. */
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
    int seen = zv_sb_seen(rt->sb, ctx->name, rid, hash);
    if (seen < 0) return -1;
    int64_t same0 = 0, same1 = 0;
    for (size_t i = 0; i < rt->ndests; i++)
        same0 += rt->dests[i].unchanged;
    zv_lifecycle_outcome out;
    int r = zv_lifecycle_process_seen(rt, src, item, rid, NULL, 0, seen, &out);
    if (r < 0) return -1;
    /* The same row failing the same way is in quarantine already. */
    if (out.same_quarantined) return unchanged(ctx);
    if (out.mapping_failed) {
        src->quarantined++;
        return ZV_EMIT_QUARANTINED;
    }
    for (size_t i = 0; i < rt->ndests; i++)
        same1 += rt->dests[i].unchanged;
    /* Seen before or nothing new for any destination: the source may treat
     * it as a duplicate (a webhook's redelivered event). */
    if (out.route.staged_n == 0 && (same1 > same0 || seen)) return unchanged(ctx);
    src->staged++;
    src->dest_staged += out.route.staged_n;
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

/* Minimiser tallies go into the same transaction (or group) as the records. */
void zv_pipeline_save_counts(zv_runtime *rt)
{
    for (size_t i = 0; i < rt->ndests; i++) {
        void *args[2] = {&rt->dests[i], rt->store};
        for (size_t m = 0; m < rt->dests[i].nmsg; m++)
            if (rt->dests[i].mins[m])
                zv_minimiser_drain_counts(rt->dests[i].mins[m], store_count, args);
    }
}

int zv_pipeline_commit_unit(zv_ctx *ctx, int sync)
{
    zv_runtime *rt = ctx->rt;
    if (!zv_unit_is_open(ctx)) return sync ? zv_store_group_commit_sync(rt->store) : 0;
    /* The minimiser's tallies join the group when it is committed
     * (on_precommit in unit.c), once per group rather than per unit. */
    rt->unit = NULL;
    rt->unit_emits = 0;
    /* The shared store first: what a source hands over is durable there or
     * not at all (the node's own file keeps only counters of it). */
    if (zv_rt_unit_commit(rt, ctx) < 0) {
        zv_store_unit_rollback(rt->store);
        return -1;
    }
    if (zv_store_unit_commit(rt->store, sync) < 0) {
        zv_log(ZV_LOG_ERROR, ctx->component, "commit failed: %s", zv_store_errmsg(rt->store));
        return -1;
    }
    return 0;
}

int zv_pipeline_commit(zv_ctx *ctx)
{
    /* Durable when it returns 0: with the units of the group before it. */
    return zv_pipeline_commit_unit(ctx, 1);
}

void zv_pipeline_rollback(zv_ctx *ctx)
{
    zv_unit_rollback(ctx);
}
