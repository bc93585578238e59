/*
 * Batch window close: staged records of a destination are rendered by its
 * format plugin into payloads and moved to the outbox, one work unit at a
 * time: at most the policy's max_records records and about max_bytes of
 * staged data per unit, each unit in its own transaction, so memory is
 * bounded by the unit and the loop runs between units.
 *
 * One record never blocks the others: a render that fails, or a message
 * larger than max_bytes, is retried on each half of its records (each try
 * inside a savepoint, with its own batch id) until the record that causes
 * it is alone; that one goes to quarantine with the format's reason.  Only
 * when every record of a unit fails on its own is the failure taken as the
 * format's (a broken state file, ...): the unit stays staged for the next try.
 */
#include "core/abi_check.h"
#include "core/plugin_loader.h"
#include "runtime_int.h"
#include "change.h"
#include "lifecycle.h"
#include "format_fields.h"
#include "render_clients.h"
#include "delivery/delivery.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

struct payload {
    char *data;
    size_t len;
    char *ctype, *idem, *ext;
    size_t *records;
    char **keys;
    size_t n;
};

struct zv_render_out {
    zv_runtime *rt;
    zv_dest_rt *dest;
    const zv_batch *batch;
    const char *component;
    char *rejected; /* per batch record */
    /* Per batch record, ZV_FIELD_COUNT flags: the fields its payload
     * carries, as the format reported them (rendered_fields) or, when it
     * did not, those it was given that it can carry (format_fields.h). */
    unsigned char *fields;
    char *reported; /* per batch record: rendered_fields was called */
    struct payload *p;
    size_t np, cap;
    int bad; /* the plugin broke the contract */
};

typedef struct staged_rec {
    int64_t id;
    int message;
    zv_record *rec;
} staged_rec;

typedef struct staged_list {
    staged_rec *v;
    size_t n, cap;
    int bad;
    size_t max_n, max_bytes, bytes; /* the work unit's limits and size so far */
    int full;                       /* stopped at a limit: more may be staged */
    int64_t last_id;                /* last staged row read, decodable or not */
} staged_list;

int zv_render_add_payload(zv_render_out *out, const zv_payload_spec *p)
{
    char why[160];
    if (zv_abi_payload_problem(p, why, sizeof(why))) {
        zv_log(ZV_LOG_ERROR, out->component, "payload refused: %s", why);
        out->bad = 1;
        return -1;
    }
    if (!p->data || !p->idem_key || !*p->idem_key || !p->nrecords) {
        zv_log(ZV_LOG_ERROR, out->component, "payload without data, key or records refused");
        out->bad = 1;
        return -1;
    }
    for (size_t i = 0; i < p->nrecords; i++)
        if (p->records[i] >= out->batch->n || out->rejected[p->records[i]]) {
            zv_log(ZV_LOG_ERROR, out->component,
                   "payload %s carries record %zu that is unknown or rejected", p->idem_key,
                   p->records[i]);
            out->bad = 1;
            return -1;
        }
    if (out->np == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 8;
        struct payload *np = realloc(out->p, cap * sizeof(*np));
        if (!np) return -1;
        out->p = np;
        out->cap = cap;
    }
    struct payload *q = &out->p[out->np];
    memset(q, 0, sizeof(*q));
    q->data = malloc(p->len ? p->len : 1);
    q->records = malloc(p->nrecords * sizeof(size_t));
    q->keys = calloc(p->nrecords, sizeof(char *));
    if (!q->data || !q->records || !q->keys) {
        free(q->data);
        free(q->records);
        free(q->keys);
        return -1;
    }
    memcpy(q->data, p->data, p->len);
    q->len = p->len;
    q->ctype = strdup(p->content_type ? p->content_type : "application/octet-stream");
    q->idem = strdup(p->idem_key);
    q->ext = strdup(p->extension ? p->extension : "bin");
    q->n = p->nrecords;
    memcpy(q->records, p->records, p->nrecords * sizeof(size_t));
    for (size_t i = 0; i < p->nrecords; i++)
        q->keys[i] = p->record_keys && p->record_keys[i] ? strdup(p->record_keys[i]) : NULL;
    out->np++;
    return 0;
}

int zv_render_reject(zv_render_out *out, size_t index, const char *rule, const char *field,
                     const char *reason)
{
    if (index >= out->batch->n) {
        out->bad = 1;
        return -1;
    }
    /* One quarantine entry per record and batch, with every reason. */
    if (out->rejected[index])
        return zv_lifecycle_more_reason(out->rt, out->batch->records[index], out->dest->conf->name,
                                        field, rule, reason);
    out->rejected[index] = 1;
    /* Inside the flush transaction: rolled back with it if the render fails. */
    const char *stage = rule && strcmp(rule, "XSD") == 0 ? "schema" : "rule";
    return zv_pipeline_quarantine(out->rt, out->batch->records[index], stage, out->dest->conf->name,
                                  field, rule, reason ? reason : "rejected by the format");
}

int zv_render_fields(zv_render_out *out, size_t index, const zv_field_id *fields, size_t n)
{
    if (index >= out->batch->n || (n && !fields)) {
        out->bad = 1;
        return -1;
    }
    const zv_record *r = out->batch->records[index];
    unsigned char *mask = out->fields + index * ZV_FIELD_COUNT;
    memset(mask, 0, ZV_FIELD_COUNT);
    for (size_t i = 0; i < n; i++) {
        if ((int)fields[i] < 0 || fields[i] >= ZV_FIELD_COUNT || !zv_rec_get(r, fields[i])) {
            /* A format cannot claim to carry what it was not given. */
            zv_log(ZV_LOG_ERROR, out->component,
                   "record %zu: rendered_fields names field %d, which the record does not have",
                   index, (int)fields[i]);
            out->bad = 1;
            return -1;
        }
        mask[fields[i]] = 1;
    }
    out->reported[index] = 1;
    return 0;
}

/* Records the format reported nothing for: the fields it can carry. */
static void fields_fallback(const zv_dest_rt *d, int m, zv_render_out *out)
{
    for (size_t i = 0; i < out->batch->n; i++) {
        if (out->reported[i]) continue;
        unsigned char *mask = out->fields + i * ZV_FIELD_COUNT;
        for (int f = 0; f < ZV_FIELD_COUNT; f++)
            mask[f] = zv_rec_get(out->batch->records[i], (zv_field_id)f) &&
                      zv_dest_renders(d, m, (zv_field_id)f);
    }
}

static void free_out(zv_render_out *out)
{
    for (size_t i = 0; i < out->np; i++) {
        struct payload *q = &out->p[i];
        for (size_t k = 0; k < q->n; k++)
            free(q->keys[k]);
        free(q->keys);
        free(q->records);
        free(q->data);
        free(q->ctype);
        free(q->idem);
        free(q->ext);
    }
    free(out->p);
    free(out->rejected);
    free(out->fields);
    free(out->reported);
}

static int collect(const zv_staged *st, void *arg)
{
    staged_list *l = arg;
    if (l->n >= l->max_n || (l->n && l->bytes + st->len > l->max_bytes)) {
        l->full = 1;
        return 1;
    }
    l->last_id = st->id;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        staged_rec *v = realloc(l->v, cap * sizeof(*v));
        if (!v) {
            l->bad = 1;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    zv_record *r = zv_record_decode(st->rec, st->len);
    if (!r) {
        /* A staged row we cannot read is a store corruption or a downgrade. */
        zv_log(ZV_LOG_ERROR, "pipeline", "staged row %lld cannot be decoded; left in place",
               (long long)st->id);
        return 0;
    }
    l->v[l->n++] = (staged_rec){st->id, st->message, r};
    l->bytes += st->len;
    return 0;
}

/* [{"field":..,"level":..,"citation":..}] for the fields a payload carries
 * (as rendered), with the level and citation of the catalogue that holds
 * now, when the message is made: the trail keeps them (issue 15). */
static char *fields_json(const zv_dest_rt *d, int m, const zv_render_out *out,
                         const struct payload *q)
{
    char present[ZV_FIELD_COUNT] = {0};
    for (size_t i = 0; i < q->n; i++) {
        const unsigned char *mask = out->fields + q->records[i] * ZV_FIELD_COUNT;
        for (int f = 0; f < ZV_FIELD_COUNT; f++)
            if (mask[f]) present[f] = 1;
    }
    zv_jw *w = zv_jw_new(0);
    if (!w) return NULL;
    zv_jw_arr_open(w);
    for (int f = 0; f < ZV_FIELD_COUNT; f++) {
        if (!present[f]) continue;
        const zv_cat_entry *e = zv_catalogue_find(d->cats[m], f);
        zv_jw_obj_open(w);
        zv_jw_key(w, "field");
        zv_jw_str(w, zv_field_def_of((zv_field_id)f)->name);
        zv_jw_key(w, "level");
        zv_jw_str(w, e ? zv_level_name(e->level) : "none");
        if (e && e->citation) {
            zv_jw_key(w, "citation");
            zv_jw_str(w, e->citation);
        }
        zv_jw_obj_close(w);
    }
    zv_jw_arr_close(w);
    const char *s;
    size_t len;
    char *res = zv_jw_result(w, &s, &len) == 0 ? strndup(s, len) : NULL;
    zv_jw_free(w);
    return res;
}

static int enqueue_payloads(zv_runtime *rt, zv_dest_rt *d, int m, const zv_batch *b,
                            zv_render_out *out)
{
    const char *msg = zv_plugin_message(d->fmt.desc, (size_t)m)->name;
    for (size_t i = 0; i < out->np; i++) {
        struct payload *q = &out->p[i];
        char *fj = fields_json(d, m, out, q);
        char *rj = zv_render_records_json(rt, b, q->records, q->keys, q->n, out->fields);
        char *dj = zv_render_disclosure_json(rt, b, q->records, q->n, out->fields);
        zv_outbox_new o = {d->conf->name, msg, q->idem, q->data, q->len, q->ctype, q->ext, fj, rj,
                           dj};
        int r = fj && rj ? zv_store_enqueue(rt->store, &o) : -1;
        free(fj);
        free(rj);
        free(dj);
        for (size_t k = 0; r >= 0 && k < q->n; k++)
            if (zv_change_sent(rt, d, m, b->records[q->records[k]]) < 0) r = -1;
        if (r < 0) return -1;
        if (r == 1)
            zv_log(ZV_LOG_WARN, out->component, "payload %s was already in the outbox", q->idem);
        d->payloads++;
    }
    return 0;
}

enum { TRY_OK = 0, TRY_FAILED = 1, TRY_TOO_BIG = 2, TRY_STORE = -1 };

/* One render of recs[0..n) as message m and, when it is good, its payloads
 * into the outbox and its rows out of staging.  *size: the largest payload. */
static int render_try(zv_runtime *rt, zv_dest_rt *d, int m, staged_rec **recs, size_t n,
                      size_t *size)
{
    int64_t seq;
    if (zv_store_next_batch(rt->store, d->conf->name, &seq) < 0) return TRY_STORE;
    char batch_id[32];
    snprintf(batch_id, sizeof(batch_id), "%lld", (long long)seq);
    const zv_record **rv = malloc(n * sizeof(*rv));
    if (!rv) return TRY_STORE;
    for (size_t i = 0; i < n; i++)
        rv[i] = recs[i]->rec;
    zv_batch b = {ZV_SIZED(zv_batch), d->conf->name, batch_id, m, zv_now(), n, rv};
    zv_render_out out = {.rt = rt, .dest = d, .batch = &b, .component = d->fmt.ctx->component};
    out.rejected = calloc(n, 1);
    out.fields = calloc(n, ZV_FIELD_COUNT);
    out.reported = calloc(n, 1);
    int rc = TRY_STORE;
    if (!out.rejected || !out.fields || !out.reported) goto done;
    d->fmt.ctx->last_error[0] = '\0';
    int64_t t0 = zv_mono_ns(), c0 = zv_thread_cpu_ns();
    int r = d->fmt.desc->format->render(d->fmt.state, &b, &out);
    d->render_ns += zv_mono_ns() - t0;
    d->render_cpu_ns += zv_thread_cpu_ns() - c0;
    d->render_records += (int64_t)n;
    if (r != 0 || out.bad) {
        rc = TRY_FAILED;
        goto done;
    }
    *size = 0;
    for (size_t i = 0; i < out.np; i++)
        if (out.p[i].len > *size) *size = out.p[i].len;
    if (*size > (size_t)d->conf->policy.max_bytes) {
        rc = TRY_TOO_BIG;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        d->rejected += out.rejected[i];
    fields_fallback(d, m, &out);
    rc = enqueue_payloads(rt, d, m, &b, &out) == 0 ? TRY_OK : TRY_STORE;
    for (size_t i = 0; rc == TRY_OK && i < n; i++)
        if (zv_store_staged_delete(rt->store, recs[i]->id) < 0) rc = TRY_STORE;
done:
    free_out(&out);
    free(rv);
    return rc;
}

/* A record that cannot be rendered even alone: quarantine it, with the
 * format's reason, instead of the batch it came in. */
static int isolate(zv_runtime *rt, zv_dest_rt *d, staged_rec *r, int why, size_t size)
{
    char reason[512];
    const char *rule;
    if (why == TRY_TOO_BIG) {
        rule = "ZV-SIZE";
        snprintf(reason, sizeof(reason),
                 "rendered alone, the message is %zu bytes, more than the destination's "
                 "max_bytes (%d)",
                 size, d->conf->policy.max_bytes);
    } else {
        rule = "ZV-RENDER";
        snprintf(reason, sizeof(reason), "the format could not render this record: %s",
                 d->fmt.ctx->last_error[0] ? d->fmt.ctx->last_error : "no reason given");
    }
    d->rejected++;
    if (zv_pipeline_quarantine(rt, r->rec, "render", d->conf->name, NULL, rule, reason) < 0 ||
        zv_store_staged_delete(rt->store, r->id) < 0)
        return -1;
    return 0;
}

struct unit_stats {
    size_t good, isolated;
};

/* Render recs[0..n), halving around what fails (see the top of the file). */
static int render_part(zv_runtime *rt, zv_dest_rt *d, int m, staged_rec **recs, size_t n,
                       struct unit_stats *st)
{
    int mark;
    size_t size = 0;
    if (zv_store_savepoint(rt->store, &mark) < 0) return -1;
    int r = render_try(rt, d, m, recs, n, &size);
    if (r == TRY_OK) {
        st->good += n;
        return zv_store_savepoint_release(rt->store);
    }
    zv_store_savepoint_undo(rt->store, mark);
    if (r == TRY_STORE) return -1;
    if (n > 1) {
        size_t h = n / 2;
        zv_log(ZV_LOG_INFO, d->fmt.ctx->component,
               "%s of %zu records; trying %zu and %zu apart",
               r == TRY_TOO_BIG ? "message too large" : "render failed", n, h, n - h);
        if (render_part(rt, d, m, recs, h, st) < 0) return -1;
        return render_part(rt, d, m, recs + h, n - h, st);
    }
    st->isolated++;
    return isolate(rt, d, recs[0], r, size);
}

static int render_message(zv_runtime *rt, zv_dest_rt *d, int m, staged_rec **recs, size_t n)
{
    int mark;
    struct unit_stats st = {0, 0};
    if (zv_store_savepoint(rt->store, &mark) < 0) return -1;
    if (render_part(rt, d, m, recs, n, &st) < 0) {
        zv_store_savepoint_undo(rt->store, mark);
        return -1;
    }
    if (n > 1 && st.good == 0 && st.isolated == n) {
        zv_store_savepoint_undo(rt->store, mark);
        zv_log(ZV_LOG_ERROR, d->fmt.ctx->component,
               "render failed for each of %zu records alone: a fault of the format, not of a "
               "record; records stay staged",
               n);
        return -1;
    }
    return zv_store_savepoint_release(rt->store);
}

static void free_list(staged_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        zv_record_free(l->v[i].rec);
    free(l->v);
}

/* Records of the unit that would send nothing new leave it (core/change.h). */
static int drop_unchanged(zv_runtime *rt, zv_dest_rt *d, staged_list *l)
{
    if (!l->n) return 0;
    zv_change_item *v = calloc(l->n, sizeof(*v));
    if (!v) return -1;
    for (size_t i = 0; i < l->n; i++)
        v[i] = (zv_change_item){l->v[i].id, l->v[i].message, l->v[i].rec, 0};
    size_t same = 0, k = 0;
    int rc = zv_change_filter(rt, d, v, l->n, &same);
    for (size_t i = 0; rc == 0 && i < l->n; i++) {
        if (v[i].drop)
            zv_record_free(l->v[i].rec);
        else
            l->v[k++] = l->v[i];
    }
    if (rc == 0) {
        l->n = k;
        d->unchanged += (int64_t)same;
    }
    free(v);
    return rc;
}

static int render_unit(zv_runtime *rt, zv_dest_rt *d, staged_list *l)
{
    if (drop_unchanged(rt, d, l) < 0) return -1;
    staged_rec **group = l->n ? malloc(l->n * sizeof(*group)) : NULL;
    if (l->n && !group) return -1;
    int rc = 0;
    for (size_t m = 0; rc == 0 && m < d->nmsg; m++) {
        size_t n = 0;
        for (size_t i = 0; i < l->n; i++)
            if (l->v[i].message == (int)m) group[n++] = &l->v[i];
        if (n) rc = render_message(rt, d, (int)m, group, n);
    }
    free(group);
    return rc;
}

static int flush_unit(zv_runtime *rt, zv_dest_rt *d);

int zv_pipeline_flush_step(zv_runtime *rt, zv_dest_rt *d)
{
    if (!d->fmt.desc || !rt->store) {
        d->dirty = 0;
        return 0;
    }
    int64_t t0 = zv_mono_ns();
    int r = flush_unit(rt, d);
    d->unit_ns += zv_mono_ns() - t0;
    return r;
}

static int flush_unit(zv_runtime *rt, zv_dest_rt *d)
{
    const zv_policy *p = &d->conf->policy;
    staged_list l = {.max_n = p->max_records > 0 ? (size_t)p->max_records : 5000,
                     .max_bytes = p->max_bytes > 0 ? (size_t)p->max_bytes : (8u << 20),
                     .last_id = d->flush_after};
    if (zv_store_begin(rt->store) < 0) return -1;
    /* One row more than the unit can take tells whether more is staged. */
    int rc = zv_store_staged_after(rt->store, d->conf->name, d->flush_after, l.max_n + 1, collect,
                                   &l);
    if (rc < 0 || l.bad) rc = -1;
    if (rc == 0) rc = render_unit(rt, d, &l);
    free_list(&l);
    if (rc == 0 && zv_store_commit(rt->store) == 0) {
        if (rt->delivery) zv_delivery_kick(rt->delivery, d->conf->name);
        /* Rendered rows are gone; the cursor only steps over rows that could
         * not be decoded, within this flush. */
        d->flush_after = l.full ? l.last_id : 0;
        d->dirty = l.full;
        return l.full ? 1 : 0;
    }
    zv_log(ZV_LOG_ERROR, d->fmt.ctx->component, "batch not rendered: %s",
           zv_store_errmsg(rt->store));
    zv_store_rollback(rt->store);
    d->flush_after = 0;
    d->dirty = 0;
    return -1;
}

int zv_pipeline_flush(zv_runtime *rt, zv_dest_rt *d)
{
    int r;
    while ((r = zv_pipeline_flush_step(rt, d)) == 1)
        ;
    return r;
}

int zv_pipeline_flush_all(zv_runtime *rt)
{
    int rc = 0;
    for (size_t i = 0; i < rt->ndests; i++)
        if (zv_pipeline_flush(rt, &rt->dests[i]) < 0) rc = -1;
    return rc;
}
