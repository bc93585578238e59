/*
 * Signals format ("signals"): counts instead of records.
 *
 * The destination's records (minimised as usual) are not sent: each one
 * updates, per measure of the signal set and per period, the cell of its
 * client in the plugin's state (SQLite, hashed client keys).  What leaves
 * is one JSON document per period a batch touched, with the period's
 * counts so far, small cells suppressed; and, when the destination's
 * schedule is the signal set's period (e.g. quarterly), once a period has
 * ended its report: JSON, HTML and optionally PDF (signals_emit.c).  See
 * README.md and conf/schema/signals.schema.json.
 */
#include "signals_fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

/* The options as the core stores them (host->config()). */
typedef struct sig_conf {
    const char *signal_set, *salt, *narrative, *narrative_field;
    int k, pretty, pdf;
} sig_conf;

static const zv_option options[] = {
    {.name = "signal_set",
     .type = ZV_OPT_PATH,
     .flags = ZV_OPT_REQUIRED,
     .min = 1,
     ZV_OPT_AT(sig_conf, signal_set),
     .description = "the signal set file, e.g. `conf/signals/gemeente-jeugd.json`"},
    {.name = "k",
     .type = ZV_OPT_INT,
     .def = "5",
     .min = 2,
     .max = 1000,
     ZV_OPT_AT(sig_conf, k),
     .description = "smallest count shown; smaller ones read `\"<k\"`"},
    {.name = "salt",
     .type = ZV_OPT_STRING,
     .flags = ZV_OPT_SECRET,
     .min = 1,
     ZV_OPT_AT(sig_conf, salt),
     .description = "salt for the hashed client keys; absent: a random salt is created once in the "
                    "state directory (`salt`, mode 0600)"},
    {.name = "pretty",
     .type = ZV_OPT_BOOL,
     .def = "false",
     ZV_OPT_AT(sig_conf, pretty),
     .description = "indent the JSON"},
    {.name = "narrative",
     .type = ZV_OPT_PATH,
     .min = 1,
     ZV_OPT_AT(sig_conf, narrative),
     .description = "the team's story for the period report: a markdown file (every period), or a "
                    "folder with one `<period>.md` (or `.txt`) per period, e.g. `2026-Q3.md`"},
    {.name = "narrative_field",
     .type = ZV_OPT_STRING,
     .min = 1,
     ZV_OPT_AT(sig_conf, narrative_field),
     .description = "or: a text field of the model (e.g. `delivery.notes`) carrying the story, "
                    "taken only from records without a BSN (a team record, dated by its "
                    "`delivery.start`); a client's note never becomes a narrative. Not together "
                    "with `narrative`"},
    {.name = "pdf",
     .type = ZV_OPT_BOOL,
     .def = "false",
     ZV_OPT_AT(sig_conf, pdf),
     .description = "the period report also as PDF, printed by headless Chromium (`chromium` "
                    "package; `ZV_CHROMIUM` names another binary)"},
};

static const zv_message_decl messages[] = {
    {"SIGNALS", NULL /* the destination's catalogue.file names the fields counted */,
     "Aggregate counts of a signal set, one document per period"}};

static void sig_destroy(void *state)
{
    sig_fmt *f = state;
    if (!f) return;
    sig_state_close(f->state);
    sig_set_free(f->set);
    free(f->org);
    free(f->mnum);
    free(f);
}

/* A calendar schedule makes period reports, and must be the set's period. */
static int schedule_of(sig_fmt *f, char *err, size_t errlen)
{
    static const char *const CAL[] = {"monthly", "quarterly", "half-yearly", "yearly"};
    const char *sched = ZV_HOST_HAS(f->host, schedule) ? f->host->schedule(f->ctx) : NULL;
    if (!sched) return 0;
    for (int p = 0; p <= SIG_YEAR; p++) {
        if (strcmp(sched, CAL[p]) != 0) continue;
        if (p != (int)f->set->period) {
            snprintf(err, errlen,
                     "policy.schedule %s does not match the signal set's period %s: a period "
                     "report goes out once its period has ended (use schedule %s, or event for "
                     "running counts only)",
                     sched, sig_period_name(f->set->period), CAL[f->set->period]);
            return -1;
        }
        f->report = 1;
    }
    if (!strcmp(sched, "2-yearly") || !strcmp(sched, "3-yearly")) {
        snprintf(err, errlen,
                 "policy.schedule %s: the signals format reports per month, quarter, "
                 "half-year or year",
                 sched);
        return -1;
    }
    return 0;
}

static int narrative_opts(sig_fmt *f, const sig_conf *c, char *err, size_t errlen)
{
    f->narrative = c->narrative;
    const char *field = c->narrative_field;
    f->narrative_field = -1;
    if (f->narrative && field) {
        snprintf(err, errlen, "options narrative and narrative_field: name one of them");
        return -1;
    }
    if (!field) return 0;
    int id = zv_field_by_name(field);
    if (id < 0 || zv_field_def_of((zv_field_id)id)->type != ZV_T_STRING) {
        snprintf(err, errlen, "option narrative_field: %s is not a text field of the model", field);
        return -1;
    }
    f->narrative_field = id;
    return 0;
}

static int sig_create(zv_ctx *ctx, const zv_host *host, void **state, char *err, size_t errlen)
{
    sig_fmt *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    f->ctx = ctx;
    f->host = host;
    f->name_records = !ZV_HOST_HAS(host, not_counted);
    const sig_conf *c = host->config(ctx);
    f->k = c->k;
    f->pretty = c->pretty;
    f->pdf = c->pdf;
    const char *org = host->org(ctx, "name");
    if (org && !(f->org = strdup(org))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (!(f->set = sig_set_load(c->signal_set, err, errlen)) || schedule_of(f, err, errlen) != 0 ||
        narrative_opts(f, c, err, errlen) != 0)
        goto fail;
    if (!(f->state = sig_state_open(host->state_dir(ctx), c->salt, f->set, err, errlen))) goto fail;
    if (!(f->mnum = calloc(f->set->nmeasures ? f->set->nmeasures : 1, sizeof(*f->mnum)))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < f->set->nmeasures; i++)
        f->mnum[i] = sig_state_measure(f->state, f->set->measures[i].id);
    *state = f;
    return 0;
fail:
    sig_destroy(f);
    return -1;
}

static int sig_classify(void *state, const zv_record *rec)
{
    sig_fmt *f = state;
    if (f->narrative_field >= 0 && zv_rec_str(rec, (zv_field_id)f->narrative_field)) return 0;
    for (size_t i = 0; i < f->set->nmeasures; i++)
        if (f->set->measures[i].kind < 0 || f->set->measures[i].kind == (int)rec->kind) return 0;
    return -1;
}

int sig_touch(sig_touched *t, const char *label, const char *start, const char *end)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->p[i].label, label) == 0) return (int)i;
    if (t->n == SIG_MAX_PERIODS) return -1;
    snprintf(t->p[t->n].label, 16, "%s", label);
    snprintf(t->p[t->n].start, 11, "%s", start);
    snprintf(t->p[t->n].end, 11, "%s", end);
    return (int)t->n++;
}

/* What a record's cells derive, worked out once per record (the age band
 * once per reference day). */
typedef struct rec_derived {
    char age_ref[11]; /* the day age_band is for; "": none yet */
    int wait_done;
    char age_band[32], wait_band[32];
} rec_derived;

static void cell_of(const sig_set *s, const sig_measure *m, const zv_record *r, const char *last,
                    rec_derived *dv, zv_buf *cell)
{
    zv_buf_reset(cell);
    for (size_t d = 0; d < m->ndims; d++) {
        if (d > 0) zv_buf_append(cell, (char[]){SIG_CELL_SEP}, 1);
        if (m->dims[d] == SIG_DIM_AGE) {
            if (strcmp(dv->age_ref, last) != 0) {
                sig_age_band(s, zv_rec_str(r, ZV_F_CLIENT_BIRTH_DATE), last, dv->age_band,
                             sizeof(dv->age_band));
                snprintf(dv->age_ref, sizeof(dv->age_ref), "%s", last);
            }
            zv_buf_puts(cell, dv->age_band);
        } else if (m->dims[d] == SIG_DIM_WAIT) {
            if (!dv->wait_done)
                sig_wait_band(s, zv_rec_str(r, ZV_F_ENT_START), zv_rec_str(r, ZV_F_DEL_START),
                              dv->wait_band, sizeof(dv->wait_band));
            dv->wait_done = 1;
            zv_buf_puts(cell, dv->wait_band);
        } else {
            const char *v = zv_rec_str(r, (zv_field_id)m->dims[d]);
            zv_buf_puts(cell, v && *v ? v : SIG_UNKNOWN);
        }
    }
    zv_buf_append(cell, "", 1); /* NUL, len excludes nothing we read */
}

/* A team record (no BSN) with the narrative field: the story of the period
 * its delivery.start falls in.  Never a client's record: a note about a
 * person must not end up in a report. */
static int keep_narrative(sig_fmt *f, const zv_record *r, sig_touched *t, int *first)
{
    const char *text = zv_rec_str(r, (zv_field_id)f->narrative_field);
    const char *date = zv_rec_str(r, ZV_F_DEL_START);
    char label[16], p0[11], p1[11];
    if (!text || zv_rec_str(r, ZV_F_CLIENT_BSN) ||
        sig_period_of(f->set->period, date, label, p0, p1) != 0)
        return 0;
    int pi = sig_touch(t, label, p0, p1);
    if (pi < 0 || sig_state_narrative_put(f->state, label, date, text) != 0) return -1;
    *first = pi;
    return 0;
}

/* A batch's periods by month of the date (direct-mapped on year * 12 +
 * month): a record's period costs a look-up, not a label to print. */
#define PCACHE 64
typedef struct pslot {
    int key; /* year * 12 + month - 1; -1: free */
    int touched, num;
    char label[16], first[11], last[11];
} pslot;
typedef struct pcache {
    pslot s[PCACHE];
} pcache;

static void pcache_init(pcache *c)
{
    for (size_t i = 0; i < PCACHE; i++)
        c->s[i].key = -1;
}

/* The period of a date (NULL: not a valid date), and its day. */
static const pslot *period_for(sig_fmt *f, const char *date, sig_touched *t, pcache *c,
                               int32_t *day, int *rc)
{
    int y, m, d;
    *rc = 0;
    if (sig_ymd(date, &y, &m, &d) != 0) return NULL;
    *day = sig_days(y, m, d);
    int key = y * 12 + m - 1;
    pslot *s = &c->s[key % PCACHE];
    if (s->key == key) return s;
    s->key = -1;
    if (sig_period_of(f->set->period, date, s->label, s->first, s->last) != 0 ||
        (s->touched = sig_touch(t, s->label, s->first, s->last)) < 0 ||
        (s->num = sig_state_period(f->state, s->label)) < 0) {
        *rc = -1;
        return NULL;
    }
    s->key = key;
    return s;
}

/* Count one record into every measure it meets; first[] gets the first
 * period it touched (-1: none), counted[i] is set for every measure i it
 * was counted in. */
static int count_record(sig_fmt *f, const zv_record *r, sig_touched *t, pcache *pc,
                        signed char *memo, int *first, zv_buf *cell, unsigned char *counted)
{
    *first = -1;
    if (f->narrative_field >= 0 && keep_narrative(f, r, t, first) != 0) return -1;
    const char *bsn = zv_rec_str(r, ZV_F_CLIENT_BSN);
    if (!bsn) return 0; /* no person to count distinctly */
    unsigned char key[SIG_KEY_BYTES];
    int keyed = 0, rc;
    rec_derived dv = {.wait_done = 0};
    /* Most measures date a record by the same field: its period once. */
    const char *pdate = NULL;
    const pslot *ps = NULL;
    int32_t day = 0;
    memset(memo, -1, f->set->nleaves);
    for (size_t i = 0; i < f->set->nmeasures; i++) {
        const sig_measure *m = &f->set->measures[i];
        if ((m->kind >= 0 && m->kind != (int)r->kind) || !sig_cond_eval_memo(m->where, r, memo))
            continue;
        const char *date = zv_rec_str(r, (zv_field_id)m->date_field);
        if (!date) continue;
        if (!pdate || strcmp(date, pdate) != 0) {
            pdate = date;
            if (!(ps = period_for(f, date, t, pc, &day, &rc)) && rc != 0) return -1;
        }
        if (!ps) continue;
        if (!keyed && sig_state_client_key(f->state, bsn, key) != 0) return -1;
        keyed = 1;
        cell_of(f->set, m, r, ps->last, &dv, cell);
        int c = sig_state_cell(f->state, cell->data);
        if (c < 0 || sig_state_put(f->state, f->mnum[i], ps->num, key, day, c) != 0) return -1;
        if (*first < 0) *first = ps->touched;
        counted[i] = 1;
    }
    return 0;
}

/* The running counts of period `pi`, carrying the batch records whose first
 * touched period it is (and, for the last payload, those that touched none). */
static int emit_period(sig_fmt *f, const zv_batch *b, zv_render_out *out, const sig_period_ref *pr,
                       const int *first, int pi, int last_payload)
{
    zv_jw *w = zv_jw_new(f->pretty);
    sig_table *tables = calloc(f->set->nmeasures, sizeof(*tables));
    size_t *idx = calloc(b->n ? b->n : 1, sizeof(*idx)), n = 0, built = 0;
    char *idem = NULL;
    const char *data;
    size_t len;
    int rc = -1;
    if (!w || !idx || !tables) goto done;
    for (; built < f->set->nmeasures; built++)
        if (sig_measure_table(f, &f->set->measures[built], pr->label, &tables[built]) != 0)
            goto done;
    sig_write_document(f, w, b, pr, tables, NULL);
    if (zv_jw_result(w, &data, &len) != 0) goto done;
    for (size_t i = 0; i < b->n; i++)
        if (first[i] == pi || (last_payload && first[i] < 0)) idx[n++] = i;
    if (n == 0) /* touched only by records counted first elsewhere: they ride here too */
        for (size_t i = 0; i < b->n; i++)
            idx[n++] = i;
    if (asprintf(&idem, "%s/%s/%s", b->destination, b->batch_id, pr->label) < 0) {
        idem = NULL;
        goto done;
    }
    zv_payload_spec p = {ZV_SIZED(zv_payload_spec),
                         .data = data,
                         .len = len,
                         .content_type = "application/json",
                         .idem_key = idem,
                         .extension = "json",
                         .records = f->name_records ? idx : NULL,
                         .nrecords = f->name_records ? n : 0,
                         .record_keys = NULL};
    rc = f->host->add_payload(out, &p) == 0 ? 0 : -1;
done:
    for (size_t i = 0; i < built; i++)
        sig_table_clear(&tables[i]);
    free(tables);
    free(idem);
    free(idx);
    zv_jw_free(w);
    return rc;
}

/* What of record r the payloads carry: only the values that label a cell
 * (the measures' dimensions, as the counts' keys), for the measures it is
 * counted in; the BSN, dates and the birth date behind an age band are read
 * and never written. */
static int report_fields(sig_fmt *f, zv_render_out *out, size_t index, const zv_record *r,
                         const unsigned char *counted)
{
    if (!ZV_HOST_HAS(f->host, rendered_fields)) return 0;
    zv_field_id ids[ZV_FIELD_COUNT];
    size_t n = 0;
    for (size_t i = 0; i < f->set->nmeasures; i++) {
        const sig_measure *m = &f->set->measures[i];
        if (!counted[i]) continue;
        for (size_t d = 0; d < m->ndims; d++) {
            int id = m->dims[d];
            if (id < 0 || id >= ZV_FIELD_COUNT || !zv_rec_get(r, (zv_field_id)id)) continue;
            /* In order, once each: a few dimensions, so an insertion. */
            size_t k = n;
            while (k > 0 && (int)ids[k - 1] > id)
                k--;
            if (k > 0 && (int)ids[k - 1] == id) continue;
            memmove(&ids[k + 1], &ids[k], (n - k) * sizeof(ids[0]));
            ids[k] = (zv_field_id)id;
            n++;
        }
    }
    return f->host->rendered_fields(out, index, ids, n);
}

static int cmp_label(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Under a 2.4 core no payload names the records: each one counted in no
 * measure is told with its reason, so it still ends in a visible state. */
static int tell_not_counted(sig_fmt *f, const zv_batch *b, zv_render_out *out,
                            const unsigned char *counted)
{
    size_t nm = f->set->nmeasures;
    for (size_t i = 0; i < b->n; i++) {
        size_t k = 0;
        while (k < nm && !counted[i * nm + k])
            k++;
        if (k < nm) continue;
        const char *why = zv_rec_str(b->records[i], ZV_F_CLIENT_BSN)
                              ? "in no measure (its conditions or date do not apply)"
                              : "no client.bsn (no person to count)";
        if (f->host->not_counted(out, i, why) != 0) return -1;
    }
    return 0;
}

/* t: the periods pending after this flush's batches (ABI 2.4). */
static int add_pending(const char *label, void *arg)
{
    sig_touched *t = ((void **)arg)[0];
    sig_fmt *f = ((void **)arg)[1];
    char p0[11], p1[11];
    if (sig_period_bounds(f->set->period, label, p0, p1) != 0) return 0;
    return sig_touch(t, label, p0, p1) < 0 ? 1 : 0; /* full: the rest wait for the next flush */
}

/* Count the batch in one state transaction; coalescing: the touched
 * periods become pending in the same one. */
static int count_batch(sig_fmt *f, const zv_batch *b, int coalesce, sig_touched *t, int *first,
                       unsigned char *counted)
{
    size_t nm = f->set->nmeasures;
    zv_buf cell;
    zv_buf_init(&cell);
    pcache pc;
    pcache_init(&pc);
    signed char *memo = malloc(f->set->nleaves ? f->set->nleaves : 1);
    int rc = -1;
    if (!memo || sig_state_begin(f->state) != 0) goto done;
    if (coalesce && sig_state_pending_sweep(f->state, b->batch_id) != 0) goto fail;
    for (size_t i = 0; i < b->n; i++)
        if (count_record(f, b->records[i], t, &pc, memo, &first[i], &cell, &counted[i * nm]) != 0)
            goto fail;
    for (size_t p = 0; coalesce && p < t->n; p++)
        if (sig_state_pending_add(f->state, t->p[p].label) != 0) goto fail;
    if (sig_state_commit(f->state) == 0) {
        rc = 0;
        goto done;
    }
fail:
    sig_state_rollback(f->state);
    f->host->log(f->ctx, ZV_LOG_ERROR, "signals: could not count batch %s", b->batch_id);
done:
    zv_buf_free(&cell);
    free(memo);
    return rc;
}

/* Coalescing, the flush's last batch: the running counts of every pending
 * period, marked as made by this batch once they are handed over. */
static int emit_pending(sig_fmt *f, const zv_batch *b, zv_render_out *out, sig_touched *t,
                        const int *first)
{
    t->n = 0;
    void *arg[2] = {t, f};
    if (sig_state_pending_each(f->state, add_pending, arg) != 0) return -1;
    for (size_t p = 0; p < t->n; p++)
        if (emit_period(f, b, out, &t->p[p], first, (int)p, p + 1 == t->n) != 0) return -1;
    if (t->n == 0) return 0;
    if (sig_state_begin(f->state) != 0) return -1;
    for (size_t p = 0; p < t->n; p++)
        if (sig_state_pending_made(f->state, t->p[p].label, b->batch_id) != 0) {
            sig_state_rollback(f->state);
            return -1;
        }
    if (sig_state_commit(f->state) != 0) {
        sig_state_rollback(f->state);
        return -1;
    }
    return 0;
}

static int sig_render(void *state, const zv_batch *b, zv_render_out *out)
{
    sig_fmt *f = state;
    if (b->n == 0) return 0;
    /* Under a 2.4 core: running counts once per flush, with its last batch. */
    int coalesce = !f->name_records && ZV_BATCH_HAS(b, more);
    sig_touched t = {.n = 0};
    int *first = calloc(b->n, sizeof(*first));
    /* counted[i * nmeasures + m]: record i was counted in measure m. */
    unsigned char *counted = calloc(b->n * (f->set->nmeasures ? f->set->nmeasures : 1), 1);
    size_t nm = f->set->nmeasures;
    int rc = -1;
    if (!first || !counted || count_batch(f, b, coalesce, &t, first, counted) != 0) goto done;
    if (!f->name_records && tell_not_counted(f, b, out, counted) != 0) goto done;
    if (coalesce) {
        rc = b->more ? 0 : emit_pending(f, b, out, &t, first);
        if (rc == 0 && !b->more && f->report) rc = sig_emit_reports(f, b, out, &t, first);
        goto done;
    }
    if (t.n == 0) { /* nothing counted: report the period the batch closed in */
        char now[21], p0[11], p1[11], label[16];
        zv_time_iso(b->now, now);
        now[10] = '\0';
        if (sig_period_of(f->set->period, now, label, p0, p1) != 0) goto done;
        sig_touch(&t, label, p0, p1);
    }
    /* Periods in order; first[] indexes follow the sort. */
    sig_period_ref orig[SIG_MAX_PERIODS];
    memcpy(orig, t.p, sizeof(orig));
    qsort(t.p, t.n, sizeof(t.p[0]), cmp_label);
    for (size_t i = 0; i < b->n; i++)
        if (first[i] >= 0) first[i] = sig_touch(&t, orig[first[i]].label, "", "");
    rc = 0;
    for (size_t p = 0; p < t.n && rc == 0; p++)
        rc = emit_period(f, b, out, &t.p[p], first, (int)p, p + 1 == t.n);
    for (size_t i = 0; f->name_records && i < b->n && rc == 0; i++)
        rc = report_fields(f, out, i, b->records[i], &counted[i * nm]);
    if (rc == 0 && f->report) rc = sig_emit_reports(f, b, out, &t, first);
done:
    free(counted);
    free(first);
    return rc;
}

static const zv_format_ops format_ops = {
    ZV_SIZED(zv_format_ops), ZV_MESSAGES(messages), .classify = sig_classify,
    .render = sig_render,    .interpret = NULL,
};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_FORMAT, "signals"),
    .version = "1.0.0",
    .description = "Aggregate counts of a signal set, small cells suppressed (zinvol-signals v1)",
    ZV_OPTIONS(options, sig_conf),
    .create = sig_create,
    .destroy = sig_destroy,
    .format = &format_ops,
    .message_active = NULL,
    .format_flags = ZV_FORMAT_AGGREGATE,
};
