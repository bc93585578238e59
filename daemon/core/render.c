/*
 * Batch window close: staged records of a destination are rendered by its
 * format plugin into payloads and moved to the outbox, one work unit at a
 * time: at most the policy's max_records records and about max_bytes of
 * staged data per unit, so memory is bounded by the unit and the loop runs
 * between units.
 *
 * A unit goes in three steps, so the loop never renders or validates:
 *   1. on the loop: read the unit's staged rows and the batch sequence;
 *   2. on a worker thread (core/workers.h): every render of the unit, with
 *      the format's XSD/XSLT validation, in memory only (no store, no
 *      event): payloads, rejections and records to isolate are collected;
 *   3. one transaction puts the payloads into the outbox, the rejected and
 *      isolated records into quarantine, takes the rendered rows out of
 *      staging and advances the batch sequence.  It is begun and released
 *      on the loop; its writes (thousands of rows for a large unit, which
 *      held the loop for up to half a second) run on the store's writer
 *      thread (zv_store_lend_unit) when none of its records waits for its
 *      day and the store is the daemon's own SQLite file, else on the loop.
 *      Step 1's reads (and the drop of unchanged records) are lent there
 *      too in the daemon's run mode.
 * Without a worker pool (zinvolctl, tests) step 2 runs on the caller's thread.
 * One unit per destination is in flight at a time, so a format's render()
 * is never called twice at once for one instance.
 *
 * One record never blocks the others: a render that fails, or a message
 * larger than max_bytes, is retried on each half of its records (each try
 * with its own batch id; a try that fails gives its id to the next) until
 * the record that causes it is alone; that one goes to quarantine with the
 * format's reason.  Only when every record of a unit fails on its own is the
 * failure taken as the format's (a broken state file, ...): the unit stays
 * staged for the next try.
 *
 * Aggregate destinations (the format declares ZV_FORMAT_AGGREGATE; ABI 2.4):
 * their payloads hold counts over many clients and name no records, so no
 * change detection (counting again changes nothing), no records, disclosure
 * rows or change marks in the trail; each record ends counted or not
 * counted with the format's reason, in store counters written in step 3.
 * zv_batch.more tells the format whether later batches of the flush
 * follow, so it sends its running counts once per flush.  The staged row
 * stays: staged with the source's watermark and deleted with the unit's
 * commit, it is what keeps counting restart-safe
 * (plugins/fmt_signals/README.md, "Aggregate destinations").
 */
#include "core/abi_check.h"
#include "core/plugin_loader.h"
#include "runtime_int.h"
#include "change.h"
#include "lifecycle.h"
#include "format_fields.h"
#include "render_clients.h"
#include "workers.h"
#include "delivery/delivery.h"
#include "admin/metrics.h"
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
    /* Made in step 2 with the render (prepare_payloads), so that step 3 on
     * the loop only writes: the outbox's JSON columns, and per record what
     * change detection remembers as sent.  prepared 0: not made. */
    int prepared;
    char *fj, *rj, *dj;
    zv_change_mark *marks; /* n */
};

/* A record the format rejected: quarantined in step 3 if its try is kept. */
struct reject {
    size_t index;
    int more; /* a further reason for a record already rejected in this batch */
    char *rule, *field, *reason;
};

/* Aggregate destinations: records counted nowhere, per reason. */
#define NC_REASONS 8
struct not_counted {
    char reason[64];
    int64_t n;
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
    struct reject *rej;
    size_t nrej, rejcap;
    int bad; /* the plugin broke the contract */
    char *uncounted; /* aggregate: per batch record, not_counted was called */
    struct not_counted nc[NC_REASONS]; /* the last one also takes any further reason */
    size_t nnc;
    int64_t nuncounted;
};

typedef struct staged_rec {
    int64_t id; /* 0: not staged (a withdrawal made for the unit) */
    int message;
    zv_record *rec;
    int withdraw; /* the withdrawal of what was sent before (core/change.h) */
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
    /* An aggregate format's payload names no records (nothing of any one
     * record is in it); every other payload carries at least one. */
    if (!p->data || !p->idem_key || !*p->idem_key || (!p->nrecords && !out->dest->aggregate)) {
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
    q->records = malloc((p->nrecords ? p->nrecords : 1) * sizeof(size_t));
    q->keys = calloc(p->nrecords ? p->nrecords : 1, sizeof(char *));
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
    if (p->nrecords) memcpy(q->records, p->records, p->nrecords * sizeof(size_t));
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
    /* One quarantine entry per record and batch, with every reason: a
     * further one is kept as "more" and added to that entry in step 3. */
    int more = out->rejected[index];
    /* Possibly on a worker thread: kept in memory, written in step 3 with the
     * payloads of the same try (or forgotten with a try that fails). */
    if (out->nrej == out->rejcap) {
        size_t cap = out->rejcap ? out->rejcap * 2 : 16;
        struct reject *r = realloc(out->rej, cap * sizeof(*r));
        if (!r) return -1;
        out->rej = r;
        out->rejcap = cap;
    }
    struct reject *r = &out->rej[out->nrej];
    r->index = index;
    r->more = more;
    r->rule = zv_strdup0(rule);
    r->field = zv_strdup0(field);
    r->reason = strdup(reason ? reason : "rejected by the format");
    if (!r->reason) {
        free(r->rule);
        free(r->field);
        return -1;
    }
    out->nrej++;
    out->rejected[index] = 1;
    return 0;
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

int zv_render_not_counted(zv_render_out *out, size_t index, const char *reason)
{
    if (index >= out->batch->n || !out->uncounted) {
        out->bad = 1;
        return -1;
    }
    if (out->uncounted[index]) return 0;
    out->uncounted[index] = 1;
    out->nuncounted++;
    const char *why = reason && *reason ? reason : "not counted by the format";
    size_t i = 0;
    while (i < out->nnc && strncmp(out->nc[i].reason, why, sizeof(out->nc[i].reason) - 1) != 0)
        i++;
    if (i == out->nnc && out->nnc == NC_REASONS) {
        i = NC_REASONS - 1;
        snprintf(out->nc[i].reason, sizeof(out->nc[i].reason), "other reasons");
    } else if (i == out->nnc) {
        snprintf(out->nc[i].reason, sizeof(out->nc[i].reason), "%s", why);
        out->nnc++;
    }
    out->nc[i].n++;
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
        free(q->fj);
        free(q->rj);
        free(q->dj);
        for (size_t k = 0; q->marks && k < q->n; k++)
            zv_change_mark_free(&q->marks[k]);
        free(q->marks);
    }
    free(out->p);
    free(out->rejected);
    free(out->uncounted);
    free(out->fields);
    free(out->reported);
    for (size_t i = 0; i < out->nrej; i++) {
        free(out->rej[i].rule);
        free(out->rej[i].field);
        free(out->rej[i].reason);
    }
    free(out->rej);
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
    l->v[l->n++] = (staged_rec){st->id, st->message, r, 0};
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

/* Step 2, after a good try: what step 3 would otherwise compute on the
 * loop.  Touches only the job (the destination's configuration and the
 * runtime's client secret are read, never written).  -1: out of memory. */
static int prepare_payloads(const zv_runtime *rt, const zv_dest_rt *d, int m, const zv_batch *b,
                            zv_render_out *out)
{
    for (size_t i = 0; i < out->np; i++) {
        struct payload *q = &out->p[i];
        if (q->prepared) continue;
        free(q->fj);
        free(q->rj);
        free(q->dj);
        for (size_t k = 0; q->marks && k < q->n; k++)
            zv_change_mark_free(&q->marks[k]);
        free(q->marks);
        q->fj = fields_json(d, m, out, q);
        q->rj = zv_render_records_json(rt, b, q->records, q->keys, q->n, out->fields);
        /* Counts disclose nothing about a client (README, "Aggregate
         * destinations"): no disclosure rows, no change marks. */
        q->dj = d->aggregate ? NULL
                             : zv_render_disclosure_json(rt, b, q->records, q->n, out->fields);
        q->marks = calloc(q->n ? q->n : 1, sizeof(*q->marks));
        if (!q->fj || !q->rj || !q->marks) return -1;
        for (size_t k = 0; !d->aggregate && k < q->n; k++)
            if (zv_change_mark_make(d, m, b->records[q->records[k]], &q->marks[k]) < 0) return -1;
        q->prepared = 1;
    }
    return 0;
}

static int enqueue_payloads(zv_runtime *rt, zv_dest_rt *d, int m, const zv_batch *b,
                            zv_render_out *out, int64_t *payloads)
{
    const char *msg = zv_plugin_message(d->fmt.desc, (size_t)m)->name;
    if (prepare_payloads(rt, d, m, b, out) < 0) return -1; /* only what step 2 did not */
    for (size_t i = 0; i < out->np; i++) {
        struct payload *q = &out->p[i];
        zv_outbox_new o = {d->conf->name, msg,    q->idem, q->data, q->len,
                           q->ctype,      q->ext, q->fj,   q->rj,   q->dj};
        int r = zv_sb_enqueue(rt->sb, &o);
        for (size_t k = 0; r >= 0 && !d->aggregate && k < q->n; k++)
            if (zv_change_mark_put(rt, d, m, &q->marks[k]) < 0) r = -1;
        if (r < 0) return -1;
        if (r == 1)
            zv_log(ZV_LOG_WARN, out->component, "payload %s was already in the outbox", q->idem);
        (*payloads)++;
    }
    return 0;
}

enum { TRY_OK = 0, TRY_FAILED = 1, TRY_TOO_BIG = 2, TRY_NOMEM = -1 };

/* What step 2 decided, applied in order by step 3. */
typedef struct outcome {
    int isolate; /* 0: a good try (payloads); 1: one record to quarantine */
    int m;       /* message */
    char batch_id[32];
    staged_rec **recs; /* the try's records (into the job's list) */
    size_t n;
    const zv_record **rv;
    zv_batch b;
    zv_render_out out;
    int why;         /* isolate: TRY_FAILED or TRY_TOO_BIG */
    size_t size;     /* isolate, TRY_TOO_BIG: its message's size */
    char error[256]; /* isolate, TRY_FAILED: the format's last error */
    struct outcome *next;
} outcome;

typedef struct render_job {
    zv_runtime *rt;
    zv_dest_rt *d;
    staged_list l;
    int64_t seq0; /* the batch sequence before the unit */
    int64_t seq;  /* the last batch id a kept try used */
    outcome *head, **tail;
    int failed; /* a fault of the format, or out of memory: nothing applied */
    int64_t render_ns, render_cpu_ns, render_records;
    int64_t payloads; /* enqueued by step 3 (counted into the destination on the loop) */
    int64_t unchanged, withdrawn; /* by step 1 (the same) */
    int64_t rejected;             /* quarantined by step 3 (the same) */
    int64_t agg[2];               /* aggregate: counted, not counted by step 3 (the same) */
    int64_t t_done;               /* when step 3 began on the loop (zv_mono_ns) */
} render_job;

static void free_outcome(outcome *o)
{
    free_out(&o->out);
    free(o->rv);
    free(o->recs);
    free(o);
}

/* Drop the outcomes after *mark (a message that failed as a whole). */
static void truncate_outcomes(render_job *j, outcome **mark)
{
    outcome *o = *mark;
    *mark = NULL;
    j->tail = mark;
    while (o) {
        outcome *n = o->next;
        free_outcome(o);
        o = n;
    }
}

static outcome *new_outcome(render_job *j, int m, staged_rec **recs, size_t n)
{
    outcome *o = calloc(1, sizeof(*o));
    if (!o) return NULL;
    o->m = m;
    o->n = n;
    o->recs = malloc(n * sizeof(*o->recs));
    o->rv = malloc(n * sizeof(*o->rv));
    if (!o->recs || !o->rv) {
        free_outcome(o);
        return NULL;
    }
    memcpy(o->recs, recs, n * sizeof(*recs));
    for (size_t i = 0; i < n; i++)
        o->rv[i] = recs[i]->rec;
    (void)j;
    return o;
}

static void append(render_job *j, outcome *o)
{
    *j->tail = o;
    j->tail = &o->next;
}

/* Step 2: one render of recs[0..n) as message m; a good one is kept as an
 * outcome.  *size: the largest payload. */
static int render_try(render_job *j, int m, staged_rec **recs, size_t n, size_t *size, int more)
{
    zv_dest_rt *d = j->d;
    outcome *o = new_outcome(j, m, recs, n);
    if (!o) return TRY_NOMEM;
    snprintf(o->batch_id, sizeof(o->batch_id), "%lld", (long long)(j->seq + 1));
    o->b = (zv_batch){ZV_SIZED(zv_batch),
                      d->conf->name,
                      o->batch_id,
                      m,
                      j->rt->batch_now ? j->rt->batch_now : zv_now(),
                      n,
                      o->rv,
                      more};
    o->out =
        (zv_render_out){.rt = j->rt, .dest = d, .batch = &o->b, .component = d->fmt.ctx->component};
    o->out.rejected = calloc(n, 1);
    o->out.fields = calloc(n, ZV_FIELD_COUNT);
    o->out.reported = calloc(n, 1);
    if (d->aggregate) o->out.uncounted = calloc(n, 1);
    if (!o->out.rejected || !o->out.fields || !o->out.reported ||
        (d->aggregate && !o->out.uncounted)) {
        free_outcome(o);
        return TRY_NOMEM;
    }
    d->fmt.ctx->last_error[0] = '\0';
    int64_t t0 = zv_mono_ns(), c0 = zv_thread_cpu_ns();
    int r = d->fmt.desc->format->render(d->fmt.state, &o->b, &o->out);
    j->render_ns += zv_mono_ns() - t0;
    j->render_cpu_ns += zv_thread_cpu_ns() - c0;
    j->render_records += (int64_t)n;
    int rc = TRY_OK;
    *size = 0;
    for (size_t i = 0; i < o->out.np; i++)
        if (o->out.p[i].len > *size) *size = o->out.p[i].len;
    if (r != 0 || o->out.bad)
        rc = TRY_FAILED;
    else if (*size > (size_t)d->conf->policy.max_bytes)
        rc = TRY_TOO_BIG;
    if (rc != TRY_OK) {
        free_outcome(o);
        return rc;
    }
    if (!d->aggregate) fields_fallback(d, m, &o->out);
    /* Out of memory here: step 3 tries again, and fails the unit if need be. */
    prepare_payloads(j->rt, d, m, &o->b, &o->out);
    j->seq++; /* a failed try leaves its batch id to the next one */
    append(j, o);
    return TRY_OK;
}

struct unit_stats {
    size_t good, isolated;
};

/* A record that cannot be rendered even alone: to quarantine in step 3. */
static int isolate_later(render_job *j, int m, staged_rec *r, int why, size_t size)
{
    outcome *o = new_outcome(j, m, &r, 1);
    if (!o) return -1;
    o->isolate = 1;
    o->why = why;
    o->size = size;
    snprintf(o->error, sizeof(o->error), "%s", j->d->fmt.ctx->last_error);
    append(j, o);
    return 0;
}

/* Render recs[0..n), halving around what fails (see the top of the file).
 * more: batches of the same flush follow this part (zv_batch.more). */
static int render_part(render_job *j, int m, staged_rec **recs, size_t n, struct unit_stats *st,
                       int more)
{
    size_t size = 0;
    int r = render_try(j, m, recs, n, &size, more);
    if (r == TRY_OK) {
        st->good += n;
        return 0;
    }
    if (r == TRY_NOMEM) return -1;
    if (n > 1) {
        size_t h = n / 2;
        zv_log(ZV_LOG_INFO, j->d->fmt.ctx->component, "%s of %zu records; trying %zu and %zu apart",
               r == TRY_TOO_BIG ? "message too large" : "render failed", n, h, n - h);
        if (render_part(j, m, recs, h, st, 1) < 0) return -1;
        return render_part(j, m, recs + h, n - h, st, more);
    }
    st->isolated++;
    return isolate_later(j, m, recs[0], r, size);
}

static int render_message(render_job *j, int m, staged_rec **recs, size_t n, int more)
{
    struct unit_stats st = {0, 0};
    outcome **mark = j->tail;
    int64_t seq = j->seq;
    if (render_part(j, m, recs, n, &st, more) < 0) return -1;
    if (n > 1 && st.good == 0 && st.isolated == n) {
        truncate_outcomes(j, mark);
        j->seq = seq;
        zv_log(ZV_LOG_ERROR, j->d->fmt.ctx->component,
               "render failed for each of %zu records alone: a fault of the format, not of a "
               "record; records stay staged",
               n);
        return -1;
    }
    return 0;
}

/* Step 2, on a worker thread: no store, no event, only the job. */
static void render_work(void *arg)
{
    render_job *j = arg;
    staged_list *l = &j->l;
    staged_rec **group = l->n ? malloc(l->n * sizeof(*group)) : NULL;
    if (l->n && !group) {
        j->failed = 1;
        return;
    }
    /* Per message, the withdrawals first and in messages of their own, so
     * they reach the receiver before the new deliveries of the same keys.
     * Only the last group of the flush's last unit has zv_batch.more 0. */
    size_t last = 0; /* group index (m * 2 + 1 - w) of the last group with records */
    for (size_t i = 0; i < l->n; i++) {
        size_t g = (size_t)l->v[i].message * 2 + (size_t)(1 - l->v[i].withdraw);
        if (g > last) last = g;
    }
    for (size_t m = 0; !j->failed && m < j->d->nmsg; m++)
        for (int w = 1; !j->failed && w >= 0; w--) {
            size_t n = 0;
            for (size_t i = 0; i < l->n; i++)
                if (l->v[i].message == (int)m && l->v[i].withdraw == w) group[n++] = &l->v[i];
            int more = j->l.full || m * 2 + (size_t)(1 - w) < last;
            if (n && render_message(j, (int)m, group, n, more) < 0) j->failed = 1;
        }
    free(group);
}

static int isolate(zv_runtime *rt, zv_dest_rt *d, const outcome *o, int64_t *rejected)
{
    char reason[512];
    const char *rule;
    if (o->why == TRY_TOO_BIG) {
        rule = "ZV-SIZE";
        snprintf(reason, sizeof(reason),
                 "rendered alone, the message is %zu bytes, more than the destination's "
                 "max_bytes (%lld)",
                 o->size, (long long)d->conf->policy.max_bytes);
    } else {
        rule = "ZV-RENDER";
        snprintf(reason, sizeof(reason), "the format could not render this record: %s",
                 o->error[0] ? o->error : "no reason given");
    }
    (*rejected)++;
    if (zv_pipeline_quarantine(rt, o->recs[0]->rec, "render", d->conf->name, NULL, rule, reason) <
            0 ||
        (o->recs[0]->id && zv_sb_staged_delete(rt->sb, o->recs[0]->id) < 0))
        return -1;
    return 0;
}

/* An aggregate destination's records end counted or not counted, with
 * the reason: store counters in the unit's transaction (field "record",
 * what "counted", or the reason as field and what "not_counted"). */
static int count_aggregate(zv_runtime *rt, const zv_dest_rt *d, const zv_render_out *out,
                           int64_t agg[2])
{
    int64_t rejected = 0;
    for (size_t i = 0; i < out->batch->n; i++)
        rejected += out->rejected[i] && !out->uncounted[i];
    int64_t counted = (int64_t)out->batch->n - rejected - out->nuncounted;
    if (counted > 0 &&
        zv_store_count_add(rt->store, d->conf->name, "record", ZV_COUNT_COUNTED, counted) < 0)
        return -1;
    for (size_t i = 0; i < out->nnc; i++)
        if (zv_store_count_add(rt->store, d->conf->name, out->nc[i].reason, ZV_COUNT_NOT_COUNTED,
                               out->nc[i].n) < 0)
            return -1;
    agg[0] += counted;
    agg[1] += out->nuncounted;
    return 0;
}

static const char *reject_stage(const struct reject *r)
{
    return r->rule && strcmp(r->rule, "XSD") == 0 ? "schema" : "rule";
}

static int apply_good(zv_runtime *rt, zv_dest_rt *d, outcome *o, int64_t *payloads,
                      int64_t *rejected, int64_t agg[2])
{
    o->out.batch = &o->b; /* the outcome moved since render() saw it */
    for (size_t i = 0; i < o->out.nrej; i++) {
        const struct reject *r = &o->out.rej[i];
        if (r->more) {
            if (zv_lifecycle_more_reason(rt, o->b.records[r->index], d->conf->name, r->field,
                                         r->rule, r->reason) < 0)
                return -1;
            continue;
        }
        if (zv_pipeline_quarantine(rt, o->b.records[r->index], reject_stage(r), d->conf->name,
                                   r->field, r->rule, r->reason) < 0)
            return -1;
        (*rejected)++;
    }
    if (enqueue_payloads(rt, d, o->m, &o->b, &o->out, payloads) < 0) return -1;
    if (d->aggregate && count_aggregate(rt, d, &o->out, agg) < 0) return -1;
    for (size_t i = 0; i < o->n; i++)
        if (o->recs[i]->id && zv_sb_staged_delete(rt->sb, o->recs[i]->id) < 0) return -1;
    return 0;
}

/* Step 3's writes, inside the unit's transaction: 0 done, 1 the batch
 * sequence moved (nothing may be kept), -1 failed.  When lent, on the
 * writer thread: then only store calls and the job (see can_lend). */
static int apply_body(render_job *j)
{
    zv_runtime *rt = j->rt;
    zv_dest_rt *d = j->d;
    int64_t now_seq = 0;
    int rc = zv_sb_batch_peek(rt->sb, d->conf->name, &now_seq);
    /* Someone else (zinvolctl) rendered meanwhile: our batch ids may be
     * theirs.  Nothing is applied; the records are rendered again. */
    if (rc == 0 && now_seq != j->seq0) return 1;
    for (outcome *o = j->head; rc == 0 && o; o = o->next)
        rc = o->isolate ? isolate(rt, d, o, &j->rejected)
                        : apply_good(rt, d, o, &j->payloads, &j->rejected, j->agg);
    if (rc == 0 && j->seq != j->seq0) rc = zv_sb_batch_set(rt->sb, d->conf->name, j->seq);
    return rc < 0 ? -1 : 0;
}

static void moved_notice(const render_job *j)
{
    zv_log(ZV_LOG_NOTICE, j->d->fmt.ctx->component,
           "the batch sequence moved during the render; rendering the unit again");
}

/* Step 3 on the loop: all of the unit in one transaction. */
static int apply(render_job *j)
{
    zv_runtime *rt = j->rt;
    j->payloads = j->rejected = j->agg[0] = j->agg[1] = 0;
    if (zv_rt_begin(rt, j->d->fmt.ctx->component) < 0) return -1;
    int rc = apply_body(j);
    if (rc == 0 && zv_rt_commit(rt) == 0) return 0;
    zv_rt_rollback(rt);
    if (rc == 1) moved_notice(j);
    return rc == 1 ? 1 : -1;
}

/* Step 3 may run off the loop when it writes only through the store (the
 * outbox, change marks, staging, quarantine entries, the batch sequence):
 * a record that would wait for its day (lifecycle.c) counts on the loop's
 * counters, the metrics are the loop's (told in lent_done), and a
 * PostgreSQL store is not the writer thread's connection. */
static int can_lend(const render_job *j)
{
    if (j->failed || j->rt->shared || j->rt->stopping) return 0;
    char due[11];
    for (const outcome *o = j->head; o; o = o->next) {
        if (o->isolate && zv_lifecycle_not_due(o->recs[0]->rec, NULL, due)) return 0;
        for (size_t i = 0; !o->isolate && i < o->out.nrej; i++)
            if (!o->out.rej[i].more &&
                zv_lifecycle_not_due(o->b.records[o->out.rej[i].index], o->out.rej[i].field, due))
                return 0;
    }
    return 1;
}

/* What the lent step 3 quarantined, into the loop's metrics. */
static void tell_quarantined(const render_job *j)
{
    for (const outcome *o = j->head; o; o = o->next) {
        if (o->isolate) zv_metrics_quarantined(o->recs[0]->rec->prov.source, "render");
        for (size_t i = 0; !o->isolate && i < o->out.nrej; i++)
            if (!o->out.rej[i].more)
                zv_metrics_quarantined(o->b.records[o->out.rej[i].index]->prov.source,
                                       reject_stage(&o->out.rej[i]));
    }
}

static void free_list(staged_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        zv_record_free(l->v[i].rec);
    free(l->v);
}

/* A changed record whose standard withdraws before it corrects
 * (core/change.h): its withdrawal joins the unit, not staged. */
static int add_withdrawals(zv_runtime *rt, zv_dest_rt *d, staged_list *l, int64_t *withdrawn)
{
    size_t n = l->n;
    for (size_t i = 0; i < n; i++) {
        zv_record *w;
        int r = zv_change_withdrawal(rt, d, l->v[i].message, l->v[i].rec, &w);
        if (r < 0) return -1;
        if (!r) continue;
        if (l->n == l->cap) {
            size_t cap = l->cap * 2;
            staged_rec *v = realloc(l->v, cap * sizeof(*v));
            if (!v) {
                zv_record_free(w);
                return -1;
            }
            l->v = v;
            l->cap = cap;
        }
        l->v[l->n++] = (staged_rec){0, l->v[i].message, w, 1};
        (*withdrawn)++;
        zv_log(ZV_LOG_INFO, d->fmt.ctx->component,
               "record %s changed after it was sent: its %s as sent is withdrawn first (the "
               "catalogue's correction: withdraw)",
               w->prov.record_id, zv_plugin_message(d->fmt.desc, (size_t)l->v[i].message)->name);
    }
    return 0;
}

/* Records of the unit that would send nothing new leave it (core/change.h),
 * inside the caller's transaction: their staged rows are deleted. */
static int filter_unchanged(zv_runtime *rt, zv_dest_rt *d, staged_list *l, int64_t *unchanged)
{
    if (!l->n || d->aggregate) return 0; /* counting again changes nothing */
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
        *unchanged += (int64_t)same;
    }
    free(v);
    return rc;
}

/* The same on the loop, in a transaction of its own, before the render. */
static int drop_unchanged(zv_runtime *rt, zv_dest_rt *d, render_job *j)
{
    if (!j->l.n) return 0;
    int rc = zv_rt_begin(rt, d->fmt.ctx->component);
    if (rc == 0) rc = filter_unchanged(rt, d, &j->l, &j->unchanged);
    if (rc == 0)
        rc = zv_rt_commit(rt);
    else
        zv_rt_rollback(rt);
    return rc == 0 ? add_withdrawals(rt, d, &j->l, &j->withdrawn) : rc;
}

static void free_job(render_job *j)
{
    truncate_outcomes(j, &j->head);
    free_list(&j->l);
    free(j);
}

/* What the unit's end (r: apply's) means for the destination: 1 more
 * staged, 0 done, -1 failed. */
static int unit_end(render_job *j, int r)
{
    zv_runtime *rt = j->rt;
    zv_dest_rt *d = j->d;
    if (r == 0) {
        d->payloads += j->payloads;
        d->rejected += j->rejected;
        d->counted += j->agg[0];
        d->not_counted += j->agg[1];
        if (rt->delivery && !rt->stopping) zv_delivery_kick(rt->delivery, d->conf->name);
        /* Rendered rows are gone; the cursor only steps over rows that could
         * not be decoded, within this flush. */
        d->flush_after = j->l.full ? j->l.last_id : 0;
        int more = j->l.full || d->restaged;
        d->restaged = 0;
        d->dirty = more;
        return more ? 1 : 0;
    }
    if (r == 1) { /* render again */
        d->flush_after = 0;
        d->dirty = 1;
        return 1;
    }
    zv_log(ZV_LOG_ERROR, d->fmt.ctx->component, "batch not rendered: %s",
           j->failed ? "see above" : zv_rt_errmsg(rt));
    d->flush_after = 0;
    d->dirty = 0;
    return -1;
}

static void count_render(render_job *j)
{
    zv_dest_rt *d = j->d;
    d->render_ns += j->render_ns;
    d->render_cpu_ns += j->render_cpu_ns;
    d->render_records += j->render_records;
}

static int finish_unit(render_job *j)
{
    count_render(j);
    return unit_end(j, j->failed ? -1 : apply(j));
}

static render_job *new_job(zv_runtime *rt, zv_dest_rt *d)
{
    const zv_policy *p = &d->conf->policy;
    render_job *j = calloc(1, sizeof(*j));
    if (!j) return NULL;
    j->rt = rt;
    j->d = d;
    j->tail = &j->head;
    j->l = (staged_list){.max_n = p->max_records > 0 ? (size_t)p->max_records : 5000,
                         .max_bytes = p->max_bytes > 0 ? (size_t)p->max_bytes : (8u << 20),
                         .last_id = d->flush_after};
    return j;
}

/* One row more than the unit can take tells whether more is staged. */
static int read_staged(render_job *j)
{
    return zv_sb_staged_after(j->rt->sb, j->d->conf->name, j->d->flush_after, j->l.max_n + 1,
                              collect, &j->l);
}

/* Step 1: the unit's rows, and the batch sequence they will follow. */
static render_job *start_unit(zv_runtime *rt, zv_dest_rt *d)
{
    render_job *j = new_job(rt, d);
    if (!j) return NULL;
    int rc = read_staged(j);
    if (rc == 0 && !j->l.bad) rc = drop_unchanged(rt, d, j);
    if (rc == 0 && !j->l.bad) rc = zv_sb_batch_peek(rt->sb, d->conf->name, &j->seq0);
    d->unchanged += j->unchanged;
    d->withdrawn += j->withdrawn;
    j->unchanged = j->withdrawn = 0;
    if (rc < 0 || j->l.bad) {
        zv_log(ZV_LOG_ERROR, d->fmt.ctx->component, "batch not rendered: %s", zv_rt_errmsg(rt));
        free_job(j);
        return NULL;
    }
    j->seq = j->seq0;
    return j;
}

/* The unit is over: then the next one, as the caller would. */
static void unit_over(render_job *j, int r)
{
    zv_runtime *rt = j->rt;
    zv_dest_rt *d = j->d;
    d->unit_ns += zv_mono_ns() - j->t_done + j->render_ns;
    d->rendering = 0;
    free_job(j);
    if (d->on_unit) d->on_unit(rt, d, r);
}

static int lent_body(void *arg)
{
    render_job *j = arg;
    zv_pipeline_metrics_later = 1; /* this thread's: the writer's */
    int rc = apply_body(j);
    zv_pipeline_metrics_later = 0;
    return rc;
}

/* The lent step 3 has ended, back on the loop. */
static void lent_done(void *arg, int rc)
{
    render_job *j = arg;
    if (rc == 1) moved_notice(j);
    if (rc == 0) tell_quarantined(j);
    unit_over(j, unit_end(j, rc == 1 ? 1 : rc < 0 ? -1 : 0));
}

/* Step 3 as the worker's done(). */
static void render_done(void *arg)
{
    render_job *j = arg;
    j->t_done = zv_mono_ns();
    if (can_lend(j)) {
        count_render(j);
        j->payloads = j->rejected = j->agg[0] = j->agg[1] = 0;
        int r = zv_store_lend_unit(j->rt->store, j->d->fmt.ctx->component, lent_body, lent_done, j);
        if (r == 0) return;
        if (r < 0) {
            unit_over(j, unit_end(j, -1));
            return;
        }
        /* Not now (a commit under way): on the loop, as before. */
        unit_over(j, unit_end(j, j->failed ? -1 : apply(j)));
        return;
    }
    unit_over(j, finish_unit(j));
}

static int flush_unit(zv_runtime *rt, zv_dest_rt *d);

int zv_pipeline_flush_step(zv_runtime *rt, zv_dest_rt *d)
{
    if (!d->fmt.desc || !rt->store) {
        d->dirty = 0;
        return 0;
    }
    if (d->rendering) return 2;
    int64_t t0 = zv_mono_ns();
    int r = flush_unit(rt, d);
    if (r != 2) d->unit_ns += zv_mono_ns() - t0;
    return r;
}

/* Step 1 in one unit lent to the store's writer (reading and decoding up
 * to max_records staged rows and looking each up for change detection
 * took the loop tens of milliseconds): 0 or -1.  On the writer thread:
 * only store calls and the job. */
static int start_body(void *arg)
{
    render_job *j = arg;
    zv_runtime *rt = j->rt;
    zv_dest_rt *d = j->d;
    int rc = read_staged(j);
    if (rc == 0 && !j->l.bad) rc = filter_unchanged(rt, d, &j->l, &j->unchanged);
    if (rc == 0 && !j->l.bad) rc = add_withdrawals(rt, d, &j->l, &j->withdrawn);
    if (rc == 0 && !j->l.bad) rc = zv_sb_batch_peek(rt->sb, d->conf->name, &j->seq0);
    return rc < 0 || j->l.bad ? -1 : 0;
}

/* Step 1 has ended, back on the loop: step 2 on a worker. */
static void start_done(void *arg, int rc)
{
    render_job *j = arg;
    zv_runtime *rt = j->rt;
    zv_dest_rt *d = j->d;
    if (rc == 0) { /* counted only when kept */
        d->unchanged += j->unchanged;
        d->withdrawn += j->withdrawn;
    }
    j->t_done = zv_mono_ns();
    if (rc != 0) {
        zv_log(ZV_LOG_ERROR, d->fmt.ctx->component, "batch not rendered: %s", zv_rt_errmsg(rt));
        d->flush_after = 0;
        d->dirty = 0;
        unit_over(j, -1);
        return;
    }
    j->seq = j->seq0;
    if (rt->stopping) { /* the rows stay staged for the next start */
        unit_over(j, 1);
        return;
    }
    if (j->l.n && zv_workers_queue(rt->workers, render_work, render_done, j) == 0) return;
    render_work(j);
    unit_over(j, finish_unit(j));
}

static int flush_unit(zv_runtime *rt, zv_dest_rt *d)
{
    /* Not in once mode: its poll takes a unit that returns at once (0) for
     * "nothing staged any more". */
    if (rt->workers && d->on_unit && !rt->shared && !rt->stopping && rt->mode == ZV_RT_RUN) {
        render_job *l = new_job(rt, d);
        if (!l) {
            d->flush_after = 0;
            d->dirty = 0;
            return -1;
        }
        d->rendering = 1;
        int r = zv_store_lend_unit(rt->store, d->fmt.ctx->component, start_body, start_done, l);
        if (r == 0) return 2;
        d->rendering = 0;
        free_job(l);
        if (r < 0) {
            zv_log(ZV_LOG_ERROR, d->fmt.ctx->component, "batch not rendered: %s", zv_rt_errmsg(rt));
            d->flush_after = 0;
            d->dirty = 0;
            return -1;
        }
    }
    /* Step 1 reads on the store's connection outside a unit: not while the
     * writer thread has it (another destination's lent unit). */
    if (rt->store) zv_store_wait_writer(rt->store);
    render_job *j = start_unit(rt, d);
    if (!j) {
        d->flush_after = 0;
        d->dirty = 0;
        return -1;
    }
    if (rt->workers && d->on_unit && j->l.n) {
        d->rendering = 1;
        if (zv_workers_queue(rt->workers, render_work, render_done, j) == 0) return 2;
        d->rendering = 0;
    }
    render_work(j); /* no pool (zinvolctl, tests): here and now */
    int r = finish_unit(j);
    free_job(j);
    return r;
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
