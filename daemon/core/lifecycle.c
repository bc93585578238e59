/*
 * The record lifecycle: see lifecycle.h.  A quarantine entry keeps the raw
 * item (as the mapping reads it), so processing it again is the same path
 * a new item takes: current mapping, catalogue, routing and format.
 */
#include "lifecycle.h"
#include "admin/metrics.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

const char *zv_lifecycle_mapping_version(zv_source_rt *src)
{
    if (!src) return NULL;
    if (src->mapping_version[0]) return src->mapping_version;
    zv_jw *w = zv_jw_new(0);
    if (!w) return NULL;
    if (src->conf->mapping)
        zv_jw_value(w, src->conf->mapping);
    else
        zv_jw_null(w);
    const char *t;
    size_t n;
    if (zv_jw_result(w, &t, &n) == 0) {
        char hex[65];
        zv_sha256_hex(t, n, hex);
        memcpy(src->mapping_version, hex, 16);
        src->mapping_version[16] = '\0';
    }
    zv_jw_free(w);
    return src->mapping_version[0] ? src->mapping_version : NULL;
}

static zv_source_rt *source_of(zv_runtime *rt, const char *name)
{
    for (size_t i = 0; name && i < rt->nsources; i++)
        if (strcmp(rt->sources[i].conf->name, name) == 0) return &rt->sources[i];
    return NULL;
}

static zv_dest_rt *dest_of(zv_runtime *rt, const char *name)
{
    for (size_t i = 0; name && i < rt->ndests; i++)
        if (strcmp(rt->dests[i].conf->name, name) == 0) return &rt->dests[i];
    return NULL;
}

const char *zv_lifecycle_source_version(zv_runtime *rt, const char *source, char *buf, size_t len)
{
    zv_source_rt *src = source_of(rt, source);
    if (!src || !src->inst.desc) return NULL;
    snprintf(buf, len, "%s %s", src->inst.desc->name ? src->inst.desc->name : "?",
             src->inst.desc->version ? src->inst.desc->version : "?");
    return buf;
}

/* ---- one item through the current configuration ---- */

struct drop_arg {
    zv_runtime *rt;
    zv_source_rt *src;
    const char *rid;
};

/* An optional field the mapping dropped: logged with its reason and counted. */
static void on_dropped(void *arg, const char *field, const char *reason)
{
    struct drop_arg *da = arg;
    zv_ctx *ctx = da->src->inst.ctx;
    zv_log(ZV_LOG_WARN, ctx ? ctx->component : "pipeline",
           "record %s: optional field %s left out: %s", da->rid, field, reason);
    zv_store_count_add(da->rt->store, da->src->conf->name, "-", "fields_dropped", 1);
}

struct ids {
    int64_t v[64];
    size_t n;
};

static int collect_ids(const zv_quarantine_entry *e, void *arg)
{
    struct ids *ids = arg;
    if (ids->n < sizeof(ids->v) / sizeof(ids->v[0])) ids->v[ids->n++] = e->id;
    return 0;
}

/* Older entries of a record that a newer version replaces. */
static int collect_mapping_ids(const zv_quarantine_entry *e, void *arg)
{
    return e->stage && strcmp(e->stage, "mapping") == 0 ? collect_ids(e, arg) : 0;
}

static int supersede(zv_runtime *rt, const char *source, const char *rid, int64_t keep,
                     int only_mapping, int64_t *closed)
{
    struct ids ids = {0};
    if (zv_sb_quarantine_of_record(rt->sb, source, rid,
                                   only_mapping ? collect_mapping_ids : collect_ids, &ids) < 0)
        return -1;
    for (size_t i = 0; i < ids.n; i++) {
        if (ids.v[i] == keep) continue;
        int r = zv_sb_quarantine_close(rt->sb, ids.v[i], ZV_Q_SUPERSEDED,
                                       rt->replaying ? "the record arrived again in a replayed file"
                                                     : "a newer version of the record arrived",
                                       zv_now());
        if (r < 0) return -1;
        if (r == 0) {
            (*closed)++;
            zv_log(ZV_LOG_NOTICE, "pipeline", "quarantine entry %" PRId64 " (%s/%s) superseded",
                   ids.v[i], source, rid);
        }
    }
    return 0;
}

static int newest_open(const zv_quarantine_entry *e, void *arg)
{
    if (e->id > *(int64_t *)arg) *(int64_t *)arg = e->id;
    return 0;
}

static int64_t newest_entry(zv_runtime *rt, const char *source, const char *rid)
{
    int64_t id = 0;
    zv_sb_quarantine_of_record(rt->sb, source, rid, newest_open, &id);
    return id;
}

int zv_lifecycle_process_keep(zv_runtime *rt, zv_source_rt *src, const zv_item *item,
                              const char *rid, const char *only, int64_t keep,
                              zv_lifecycle_outcome *out)
{
    return zv_lifecycle_process_seen(rt, src, item, rid, only, keep, 0, out);
}

int zv_lifecycle_process_seen(zv_runtime *rt, zv_source_rt *src, const zv_item *item,
                              const char *rid, const char *only, int64_t keep, int seen,
                              zv_lifecycle_outcome *out)
{
    memset(out, 0, sizeof(*out));
    const char *source = src->conf->name;
    char field[128] = "", reason[512] = "";
    struct drop_arg da = {rt, src, rid};
    zv_record *rec = zv_mapping_apply_ex(src->mapping, item, zv_now(), field, sizeof(field), reason,
                                         sizeof(reason), on_dropped, &da);
    /* Only what the mapping reads is kept (no narratives, no other persons). */
    char *json = zv_mapping_item_json(src->mapping, item);
    if (!json) {
        zv_record_free(rec);
        return -1;
    }
    if (!rec && seen) {
        zv_quarantine_entry same = {.source = source,
                                    .record_id = rid,
                                    .stage = "mapping",
                                    .field = field[0] ? field : NULL,
                                    .reason = reason[0] ? reason : "mapping failed"};
        /* On a PostgreSQL store the entries the pipeline adds are there. */
        int r = rt->shared ? zv_sb_quarantine_like(rt->sb, &same, 0)
                           : zv_store_quarantine_same(rt->store, &same);
        if (r != 0) {
            free(json);
            out->same_quarantined = r > 0;
            return r < 0 ? -1 : 0;
        }
    }
    /* New content replaces every older entry of the record; content seen
     * before only the mapping failures it no longer has. */
    if (supersede(rt, source, rid, keep, seen && rec, &out->superseded) < 0) {
        zv_record_free(rec);
        free(json);
        return -1;
    }
    const char *mver = zv_lifecycle_mapping_version(src);
    int rc;
    if (!rec) {
        char sver[96];
        zv_quarantine_entry q = {
            .source = source,
            .record_id = rid,
            .stage = "mapping",
            .field = field[0] ? field : NULL,
            .reason = reason[0] ? reason : "mapping failed",
            .item_json = json,
            .mapping_version = mver,
            .source_version = zv_lifecycle_source_version(rt, source, sver, sizeof(sver)),
        };
        rc = rt->shared ? zv_sb_quarantine_add(rt->sb, &q, &out->new_entry)
                        : zv_store_quarantine_add(rt->store, &q, &out->new_entry);
        zv_log(ZV_LOG_WARN, src->inst.ctx ? src->inst.ctx->component : "pipeline",
               "quarantined record %s: %s%s%s", rid, field[0] ? field : "", field[0] ? ": " : "",
               q.reason);
        zv_metrics_quarantined(source, "mapping");
        out->mapping_failed = 1;
        free(json);
        return rc < 0 ? -1 : 0;
    }
    int64_t item_id = 0;
    rc = zv_sb_item_put(rt->sb, source, rid, json, mver, &item_id);
    free(json);
    if (rc == 0) rc = zv_pipeline_route(rt, rec, only, item_id, &out->route);
    zv_record_free(rec);
    /* A record no destination took keeps no item. */
    if (rc == 0 && out->route.nstaged == 0) rc = zv_sb_item_release(rt->sb, item_id);
    if (rc == 0 && out->route.quarantined) out->new_entry = newest_entry(rt, source, rid);
    return rc;
}

int zv_lifecycle_process(zv_runtime *rt, zv_source_rt *src, const zv_item *item, const char *rid,
                         const char *only, zv_lifecycle_outcome *out)
{
    return zv_lifecycle_process_keep(rt, src, item, rid, only, 0, out);
}

/* ---- due later ---- */

int zv_lifecycle_not_due(const zv_record *rec, const char *field, char due[11])
{
    int id = field ? zv_field_by_name(field) : -1;
    if (id < 0) return 0;
    const zv_field_def *def = zv_field_def_of((zv_field_id)id);
    /* Dates of care, not of the person: a birth date in the future is a mistake. */
    if (!def || def->type != ZV_T_DATE || def->kind == ZV_KIND_CLIENT) return 0;
    const char *v = zv_rec_str(rec, (zv_field_id)id);
    int64_t days;
    if (!v || strlen(v) != 10 || zv_date_days(v, &days) != 0) return 0;
    char today[11];
    zv_date_today(today);
    if (strcmp(v, today) <= 0) return 0;
    memcpy(due, v, 11);
    return 1;
}

int zv_lifecycle_hold(zv_runtime *rt, const zv_record *rec, const char *stage, const char *dest,
                      const char *field, const char *rule, const char *reason, const char *due)
{
    const char *source = rec->prov.source, *rid = rec->prov.record_id;
    char *item = NULL, *mver = NULL;
    if (zv_sb_item_get(rt->sb, source, rid, &item, &mver) < 0) return -1;
    unsigned char *enc = NULL;
    size_t len = 0;
    if (!item && zv_record_encode(rec, &enc, &len) < 0) {
        free(mver);
        return -1;
    }
    char sver[96], why[700];
    snprintf(why, sizeof(why), "not due before %s: %s", due, reason ? reason : "");
    zv_quarantine_entry q = {.source = source,
                             .record_id = rid,
                             .stage = stage,
                             .destination = dest,
                             .field = field,
                             .rule = rule,
                             .reason = why,
                             .item_json = item,
                             .record = enc,
                             .record_len = len,
                             .state = "waiting",
                             .due = due,
                             .mapping_version = mver,
                             .source_version =
                                 zv_lifecycle_source_version(rt, source, sver, sizeof(sver))};
    int r = zv_sb_quarantine_add(rt->sb, &q, NULL);
    free(item);
    free(mver);
    free(enc);
    zv_dest_rt *d = dest_of(rt, dest);
    if (d) d->waiting++;
    zv_log(ZV_LOG_NOTICE, dest ? dest : "pipeline", "%s/%s waiting until %s (%s%s%s)", source, rid,
           due, rule ? rule : "", rule ? " " : "", field ? field : "");
    return r;
}

struct of_dest {
    const char *dest;
    int64_t id;
};

static int newest_for_dest(const zv_quarantine_entry *e, void *arg)
{
    struct of_dest *o = arg;
    if (e->destination && o->dest && strcmp(e->destination, o->dest) == 0 && e->id > o->id)
        o->id = e->id;
    return 0;
}

int zv_lifecycle_more_reason(zv_runtime *rt, const zv_record *rec, const char *dest,
                             const char *field, const char *rule, const char *reason)
{
    struct of_dest o = {dest, 0};
    if (zv_sb_quarantine_of_record(rt->sb, rec->prov.source, rec->prov.record_id, newest_for_dest,
                                   &o) < 0)
        return -1;
    if (!o.id) return 0;
    zv_log(ZV_LOG_WARN, dest ? dest : "pipeline", "quarantined %s/%s: also %s%s%s%s%s",
           rec->prov.source, rec->prov.record_id, rule ? rule : "", rule ? " " : "",
           field ? field : "", field ? ": " : "", reason ? reason : "");
    return zv_sb_quarantine_add_reason(rt->sb, o.id, field, rule, reason);
}

/* ---- processing an entry again ---- */

struct qcopy {
    int found, closed;
    int64_t id;
    char *source, *record_id, *destination, *item_json, *state, *due, *outcome;
    unsigned char *record;
    size_t record_len;
};

static int copy_entry(const zv_quarantine_entry *e, void *arg)
{
    struct qcopy *q = arg;
    q->found = 1;
    q->closed = e->closed_at != 0;
    q->id = e->id;
    q->source = zv_strdup0(e->source);
    q->record_id = zv_strdup0(e->record_id);
    q->destination = zv_strdup0(e->destination);
    q->item_json = zv_strdup0(e->item_json);
    q->state = zv_strdup0(e->state);
    q->due = zv_strdup0(e->due);
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
    free(q->state);
    free(q->due);
    free(q->record);
}

/* The first reason of an entry, for the operator's answer. */
struct first {
    char text[600];
    int waiting;
    char due[11];
};

static int first_reason(const zv_quarantine_entry *e, void *arg)
{
    struct first *f = arg;
    snprintf(f->text, sizeof(f->text), "%s%s%s%s%s%s", e->stage ? e->stage : "",
             e->destination ? " for " : "", e->destination ? e->destination : "", ": ",
             e->rule ? e->rule : "", e->rule ? " " : "");
    size_t n = strlen(f->text);
    snprintf(f->text + n, sizeof(f->text) - n, "%s%s%s", e->field ? e->field : "",
             e->field ? ": " : "", e->reason ? e->reason : "");
    f->waiting = e->state && strcmp(e->state, "waiting") == 0;
    snprintf(f->due, sizeof(f->due), "%s", e->due ? e->due : "");
    return 1;
}

static void describe(zv_runtime *rt, int64_t id, struct first *f)
{
    memset(f, 0, sizeof(*f));
    zv_sb_quarantine_get(rt->sb, id, first_reason, f);
}

static int route_again(zv_runtime *rt, struct qcopy *q, zv_lifecycle_outcome *out, char *err,
                       size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!q->item_json) {
        /* An entry from before raw items were kept: its mapped record. */
        zv_record *rec = q->record ? zv_record_decode(q->record, q->record_len) : NULL;
        if (!rec) {
            snprintf(err, errlen, "entry %" PRId64 " keeps neither item nor record", q->id);
            return 5;
        }
        rt->retrying = q->id;
        int rc = zv_pipeline_route(rt, rec, q->destination, 0, &out->route);
        rt->retrying = 0;
        zv_record_free(rec);
        if (rc == 0 && out->route.quarantined)
            out->new_entry = newest_entry(rt, q->source, q->record_id);
        return rc;
    }
    zv_source_rt *src = source_of(rt, q->source);
    if (!src) {
        snprintf(err, errlen, "source '%s' is no longer configured", q->source);
        return 5;
    }
    zv_item *item = zv_item_from_json(q->item_json, strlen(q->item_json));
    if (!item) {
        snprintf(err, errlen, "the kept item of entry %" PRId64 " cannot be read back", q->id);
        return 5;
    }
    rt->retrying = q->id;
    int rc = zv_lifecycle_process_keep(rt, src, item, q->record_id, q->destination, q->id, out);
    rt->retrying = 0;
    zv_item_free_parsed(item);
    return rc;
}

static void staged_names(const zv_route_tally *t, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < t->nstaged && o < len; i++) {
        int dup = 0;
        for (size_t k = 0; k < i; k++)
            dup |= t->staged[k] == t->staged[i];
        if (!dup)
            o +=
                (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "", t->staged[i]->conf->name);
    }
}

/* After the flush: whether the record was queued or refused again by the
 * format (a newer entry than old); payloads: messages the flush made. */
static int render_result(zv_runtime *rt, struct qcopy *q, const zv_route_tally *t, int64_t old,
                         int64_t payloads, char *result, size_t len)
{
    int64_t again = newest_entry(rt, q->source, q->record_id);
    char names[512];
    staged_names(t, names, sizeof(names));
    if (again > old) {
        struct first f;
        describe(rt, again, &f);
        if (f.waiting)
            snprintf(result, len, "staged for %s; waiting until %s as entry %" PRId64, names, f.due,
                     again);
        else
            snprintf(result, len, "staged for %s, refused again as entry %" PRId64 " at %s", names,
                     again, f.text);
        return f.waiting ? 0 : 2;
    }
    snprintf(result, len, "queued for %s (%" PRId64 " message%s made)", names, payloads,
             payloads == 1 ? "" : "s");
    return 0;
}

/* After the commit: what was staged goes into the outbox now, so the
 * answer can say whether it was queued or refused again by the format. */
static int render_now(zv_runtime *rt, struct qcopy *q, const zv_route_tally *t, int64_t old,
                      char *result, size_t len)
{
    int64_t payloads = 0;
    for (size_t i = 0; i < t->nstaged; i++)
        payloads -= t->staged[i]->payloads;
    for (size_t i = 0; i < t->nstaged; i++)
        if (zv_pipeline_flush(rt, t->staged[i]) < 0) return -1;
    for (size_t i = 0; i < t->nstaged; i++)
        payloads += t->staged[i]->payloads;
    return render_result(rt, q, t, old, payloads, result, len);
}

/* An entry retried up to its commit; when staged, rendered later. */
struct pending {
    struct qcopy q;
    zv_lifecycle_outcome out;
    int64_t old; /* the record's newest entry before the render */
};

/* Entry id through the current configuration, committed with its outcome:
 * as zv_lifecycle_retry, but a staged record (0) is not rendered yet. */
static int retry_stage(zv_runtime *rt, int64_t id, const char *who, struct pending *p, char *result,
                       size_t len)
{
    struct qcopy q = {0};
    if (zv_sb_quarantine_get(rt->sb, id, copy_entry, &q) < 0) {
        snprintf(result, len, "store: %s", zv_sb_errmsg(rt->sb));
        free_qcopy(&q);
        return -1;
    }
    if (!q.found || q.closed) {
        snprintf(result, len,
                 q.found ? "quarantine entry %" PRId64 " is closed (%s)"
                         : "no quarantine entry %" PRId64 "%s",
                 id, q.found && q.state ? q.state : "");
        free_qcopy(&q);
        return 1;
    }
    int64_t old_newest = newest_entry(rt, q.source, q.record_id);
    /* Both stores (the shared one too on PostgreSQL): the entry's outcome
     * commits with what the retry staged, or neither does. */
    if (zv_rt_begin(rt, "quarantine retry") < 0) {
        snprintf(result, len, "store: %s", zv_rt_errmsg(rt));
        free_qcopy(&q);
        return -1;
    }
    zv_lifecycle_outcome out;
    int rc = route_again(rt, &q, &out, result, len);
    if (rc == 5) {
        zv_rt_rollback(rt);
        free_qcopy(&q);
        return 5;
    }
    char detail[1024], names[512];
    const char *outcome;
    staged_names(&out.route, names, sizeof(names));
    struct first f = {0};
    if (rc == 0 && out.new_entry) describe(rt, out.new_entry, &f);
    zv_source_rt *src = source_of(rt, q.source);
    const char *mver = src ? zv_lifecycle_mapping_version(src) : NULL;
    int o = snprintf(detail, sizeof(detail), "processed again by %s: ", who ? who : "?");
    if (out.mapping_failed || (!out.route.nstaged && out.route.quarantined)) {
        outcome = ZV_Q_REQUARANTINED;
        snprintf(detail + o, sizeof(detail) - (size_t)o, "refused again as entry %" PRId64 " at %s",
                 out.new_entry, f.text);
    } else if (out.route.nstaged) {
        outcome = ZV_Q_STAGED;
        snprintf(detail + o, sizeof(detail) - (size_t)o, "staged for %s (mapping %s)", names,
                 mver ? mver : "-");
    } else {
        outcome = ZV_Q_UNROUTED;
        snprintf(detail + o, sizeof(detail) - (size_t)o,
                 "no destination takes the record under the current routing");
    }
    int closed = rc == 0 ? zv_sb_quarantine_close(rt->sb, id, outcome, detail, zv_now()) : -1;
    if (closed == 1) {
        /* Another node closed it meanwhile (retried or dropped it): its
         * outcome stands, what this retry staged goes. */
        zv_rt_rollback(rt);
        snprintf(result, len, "quarantine entry %" PRId64 " was closed meanwhile", id);
        free_qcopy(&q);
        return 1;
    }
    if (closed != 0) rc = -1;
    zv_pipeline_save_counts(rt);
    if (rc != 0 || zv_rt_commit(rt) < 0) {
        snprintf(result, len, "store: %s", zv_rt_errmsg(rt));
        zv_rt_rollback(rt);
        free_qcopy(&q);
        return -1;
    }
    zv_log(ZV_LOG_NOTICE, "pipeline", "quarantine entry %" PRId64 " (%s/%s) %s: %s", id, q.source,
           q.record_id, outcome, detail);
    if (strcmp(outcome, ZV_Q_STAGED) == 0) {
        p->q = q;
        p->out = out;
        p->old = old_newest > out.new_entry ? old_newest : out.new_entry;
        return 0;
    }
    if (strcmp(outcome, ZV_Q_REQUARANTINED) == 0) {
        snprintf(result, len, "refused again as entry %" PRId64 " at %s", out.new_entry, f.text);
        rc = 2;
    } else {
        snprintf(result, len, "no destination takes the record under the current routing");
        rc = 3;
    }
    zv_bsn_scrub(result);
    free_qcopy(&q);
    return rc;
}

int zv_lifecycle_retry(zv_runtime *rt, int64_t id, const char *who, char *result, size_t len)
{
    struct pending p = {0};
    int rc = retry_stage(rt, id, who, &p, result, len);
    if (rc != 0) return rc;
    rc = render_now(rt, &p.q, &p.out.route, p.old, result, len);
    zv_bsn_scrub(result);
    free_qcopy(&p.q);
    return rc;
}

struct idlist {
    int64_t *v;
    size_t n, cap;
    int bad;
};

static int collect_all(const zv_quarantine_entry *e, void *arg)
{
    struct idlist *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        int64_t *v = realloc(l->v, cap * sizeof(*v));
        if (!v) {
            l->bad = 1;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = e->id;
    return 0;
}

/* Every destination any pending entry was staged for, rendered once;
 * made[i]: the messages destination i made in it. */
static int flush_pass(zv_runtime *rt, struct pending *p, size_t n, int64_t *made)
{
    for (size_t i = 0; i < rt->ndests; i++)
        made[i] = -rt->dests[i].payloads;
    char *done = calloc(rt->ndests ? rt->ndests : 1, 1);
    if (!done) return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        for (size_t k = 0; rc == 0 && k < p[i].out.route.nstaged; k++) {
            size_t di = (size_t)(p[i].out.route.staged[k] - rt->dests);
            if (di >= rt->ndests || done[di]) continue;
            done[di] = 1;
            rc = zv_pipeline_flush(rt, &rt->dests[di]);
        }
    free(done);
    for (size_t i = 0; i < rt->ndests; i++)
        made[i] += rt->dests[i].payloads;
    return rc < 0 ? -1 : 0;
}

/* The messages made in the pass by the destinations t names. */
static int64_t made_for(const zv_runtime *rt, const zv_route_tally *t, const int64_t *made)
{
    int64_t sum = 0;
    for (size_t i = 0; i < rt->ndests; i++)
        for (size_t k = 0; k < t->nstaged; k++)
            if (t->staged[k] == &rt->dests[i]) {
                sum += made[i];
                break;
            }
    return sum;
}

int zv_lifecycle_retry_all(zv_runtime *rt, const char *who, zv_retry_cb cb, void *arg,
                           int64_t *messages)
{
    struct idlist ids = {0};
    zv_quarantine_filter f = {.state = "open"};
    *messages = 0;
    if (zv_sb_quarantine_query(rt->sb, &f, collect_all, &ids) < 0 || ids.bad) {
        free(ids.v);
        return -1;
    }
    struct pending *p = ids.n ? calloc(ids.n, sizeof(*p)) : NULL;
    int *code = ids.n ? calloc(ids.n, sizeof(*code)) : NULL;
    int64_t *made = calloc(rt->ndests ? rt->ndests : 1, sizeof(*made));
    char(*res)[1024] = ids.n ? calloc(ids.n, sizeof(*res)) : NULL;
    int rc = !made || (ids.n && (!p || !code || !res)) ? -1 : 0;
    /* First every entry through mapping and routing, each committed with its
     * outcome; then one render per destination, so the fixed records leave
     * together as one message per destination, not one message each. */
    for (size_t i = 0; rc == 0 && i < ids.n; i++)
        code[i] = retry_stage(rt, ids.v[i], who, &p[i], res[i], sizeof(res[0]));
    if (rc == 0 && flush_pass(rt, p, ids.n, made) < 0) rc = -1;
    for (size_t i = 0; rc == 0 && i < rt->ndests; i++)
        *messages += made[i];
    for (size_t i = 0; rc == 0 && i < ids.n; i++) {
        if (code[i] == 0)
            code[i] = render_result(rt, &p[i].q, &p[i].out.route, p[i].old,
                                    made_for(rt, &p[i].out.route, made), res[i], sizeof(res[0]));
        zv_bsn_scrub(res[i]);
        cb(ids.v[i], code[i], res[i], arg);
    }
    for (size_t i = 0; p && i < ids.n; i++)
        free_qcopy(&p[i].q);
    free(p);
    free(code);
    free(made);
    free(res);
    free(ids.v);
    return rc;
}

int zv_lifecycle_drop(zv_sb *b, int64_t id, const char *who, char *result, size_t len)
{
    char detail[300];
    snprintf(detail, sizeof(detail), "by %s", who ? who : "?");
    int r = zv_sb_quarantine_close(b, id, ZV_Q_DROPPED, detail, zv_now());
    if (r == 0)
        snprintf(result, len, "dropped (recorded in the audit trail)");
    else
        snprintf(result, len, "%s", zv_sb_errmsg(b));
    return r;
}

/* ---- waiting records whose day has come ---- */

int zv_lifecycle_run_due(zv_runtime *rt)
{
    char today[11];
    zv_date_today(today);
    struct ids ids = {0};
    if (zv_sb_quarantine_due(rt->sb, today, collect_ids, &ids) < 0) return -1;
    char who[64], result[1024];
    snprintf(who, sizeof(who), "zinvold (due on %s)", today);
    int done = 0;
    for (size_t i = 0; i < ids.n; i++) {
        int r = zv_lifecycle_retry(rt, ids.v[i], who, result, sizeof(result));
        zv_log(r < 0 ? ZV_LOG_ERROR : ZV_LOG_NOTICE, "pipeline",
               "waiting entry %" PRId64 " is due: %s", ids.v[i], result);
        if (r >= 0) done++;
    }
    return done;
}

static void due_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zv_runtime *rt = arg;
    char today[11];
    zv_date_today(today);
    if (!rt->stopping && strcmp(today, rt->due_day) != 0) {
        /* Set first: a failing run is tried again tomorrow, not every minute. */
        memcpy(rt->due_day, today, sizeof(today));
        zv_lifecycle_run_due(rt);
    }
}

int zv_lifecycle_start(zv_runtime *rt)
{
    zv_date_today(rt->due_day);
    if (zv_sb_quarantine_count(rt->sb, "waiting") > 0 && zv_lifecycle_run_due(rt) < 0) return -1;
    if (rt->mode != ZV_RT_RUN) return 0;
    rt->due_timer = event_new(rt->base, -1, EV_PERSIST, due_cb, rt);
    if (!rt->due_timer) return -1;
    struct timeval minute = {60, 0};
    return evtimer_add(rt->due_timer, &minute);
}

void zv_lifecycle_stop(zv_runtime *rt)
{
    if (rt->due_timer) event_free(rt->due_timer);
    rt->due_timer = NULL;
}
