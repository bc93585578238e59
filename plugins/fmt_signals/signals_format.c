/*
 * Signals format ("signals"): counts instead of records.
 *
 * The destination's records (minimised as usual) are not sent: each one
 * updates, per measure of the signal set and per period, the cell of its
 * client in the plugin's state (SQLite, hashed client keys).  What leaves
 * is one JSON document per period a batch touched, with the period's
 * counts so far, small cells suppressed.  See README.md and
 * conf/schema/signals.schema.json.
 */
#include "signals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

#define FORMAT_NAME "zinvol-signals"
#define FORMAT_VERSION 1
#define MAX_PERIODS 64

typedef struct sig_fmt {
    zv_ctx *ctx;
    const zv_host *host;
    sig_set *set;
    sig_state *state;
    int64_t k;
    int pretty;
} sig_fmt;

/* The options as the core stores them (host->config()). */
typedef struct sig_conf {
    const char *signal_set, *salt;
    int k, pretty;
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
    free(f);
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
    const sig_conf *c = host->config(ctx);
    f->k = c->k;
    f->pretty = c->pretty;
    if (!(f->set = sig_set_load(c->signal_set, err, errlen))) goto fail;
    if (!(f->state = sig_state_open(host->state_dir(ctx), c->salt, err, errlen))) goto fail;
    *state = f;
    return 0;
fail:
    sig_destroy(f);
    return -1;
}

static int sig_classify(void *state, const zv_record *rec)
{
    sig_fmt *f = state;
    for (size_t i = 0; i < f->set->nmeasures; i++)
        if (f->set->measures[i].kind < 0 || f->set->measures[i].kind == (int)rec->kind) return 0;
    return -1;
}

typedef struct period_ref {
    char label[16], start[11], end[11];
} period_ref;

typedef struct touched {
    period_ref p[MAX_PERIODS];
    size_t n;
} touched;

static int touch(touched *t, const char *label, const char *start, const char *end)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->p[i].label, label) == 0) return (int)i;
    if (t->n == MAX_PERIODS) return -1;
    snprintf(t->p[t->n].label, 16, "%s", label);
    snprintf(t->p[t->n].start, 11, "%s", start);
    snprintf(t->p[t->n].end, 11, "%s", end);
    return (int)t->n++;
}

static void cell_of(const sig_set *s, const sig_measure *m, const zv_record *r, const char *last,
                    zv_buf *cell)
{
    zv_buf_reset(cell);
    for (size_t d = 0; d < m->ndims; d++) {
        if (d > 0) zv_buf_append(cell, (char[]){SIG_CELL_SEP}, 1);
        if (m->dims[d] == SIG_DIM_AGE) {
            char band[32];
            sig_age_band(s, zv_rec_str(r, ZV_F_CLIENT_BIRTH_DATE), last, band, sizeof(band));
            zv_buf_puts(cell, band);
        } else {
            const char *v = zv_rec_str(r, (zv_field_id)m->dims[d]);
            zv_buf_puts(cell, v && *v ? v : SIG_UNKNOWN);
        }
    }
    zv_buf_append(cell, "", 1); /* NUL, len excludes nothing we read */
}

/* Count one record into every measure it meets; first[] gets the first
 * period it touched (-1: none). */
static int count_record(sig_fmt *f, const zv_record *r, touched *t, int *first, zv_buf *cell)
{
    *first = -1;
    const char *bsn = zv_rec_str(r, ZV_F_CLIENT_BSN);
    if (!bsn) return 0; /* no person to count distinctly */
    char key[65];
    sig_state_client_key(f->state, bsn, key);
    for (size_t i = 0; i < f->set->nmeasures; i++) {
        const sig_measure *m = &f->set->measures[i];
        if ((m->kind >= 0 && m->kind != (int)r->kind) || !sig_cond_eval(m->where, r)) continue;
        const char *date = zv_rec_str(r, (zv_field_id)m->date_field);
        char label[16], p0[11], p1[11];
        if (sig_period_of(f->set->period, date, label, p0, p1) != 0) continue;
        cell_of(f->set, m, r, p1, cell);
        int pi = touch(t, label, p0, p1);
        if (pi < 0 || sig_state_put(f->state, m->id, label, key, date, cell->data) != 0) return -1;
        if (*first < 0) *first = pi;
    }
    return 0;
}

static void write_count(zv_jw *w, const sig_entry *e, int64_t k)
{
    char buf[32];
    if (e->show == SIG_PRIMARY) {
        snprintf(buf, sizeof(buf), "<%lld", (long long)k);
        zv_jw_str(w, buf);
    } else if (e->show == SIG_SECONDARY) {
        zv_jw_str(w, "x");
    } else {
        zv_jw_int(w, e->count);
    }
}

static void write_values(zv_jw *w, const sig_entry *e, size_t ndims)
{
    zv_jw_arr_open(w);
    for (size_t d = 0; d < ndims; d++)
        if (e->values[d])
            zv_jw_str(w, e->values[d]);
        else
            zv_jw_null(w);
    zv_jw_arr_close(w);
}

static int add_cell(const char *cell, int64_t count, void *arg)
{
    return sig_table_add_cell(arg, cell, count);
}

static int write_measure(sig_fmt *f, zv_jw *w, const sig_measure *m, const char *label)
{
    sig_table t = {.ndims = m->ndims};
    if (sig_state_cells(f->state, m->id, label, add_cell, &t) != 0 ||
        sig_table_finish(&t, f->k) != 0) {
        sig_table_clear(&t);
        return -1;
    }
    zv_jw_obj_open(w);
    zv_jw_key(w, "id"), zv_jw_str(w, m->id);
    zv_jw_key(w, "title"), zv_jw_str(w, m->title);
    zv_jw_key(w, "purpose"), zv_jw_str(w, m->purpose);
    zv_jw_key(w, "citation"), zv_jw_str(w, m->citation);
    zv_jw_key(w, "dimensions");
    zv_jw_arr_open(w);
    for (size_t d = 0; d < m->ndims; d++)
        zv_jw_str(w, sig_dim_name(m->dims[d]));
    zv_jw_arr_close(w);
    zv_jw_key(w, "cells");
    zv_jw_arr_open(w);
    for (size_t i = 0; i < t.ncells; i++) {
        zv_jw_obj_open(w);
        zv_jw_key(w, "values"), write_values(w, &t.e[i], m->ndims);
        zv_jw_key(w, "count"), write_count(w, &t.e[i], f->k);
        zv_jw_obj_close(w);
    }
    zv_jw_arr_close(w);
    zv_jw_key(w, "margins");
    zv_jw_arr_open(w);
    for (size_t i = t.ncells; i + 1 < t.n; i++) {
        zv_jw_obj_open(w);
        zv_jw_key(w, "values"), write_values(w, &t.e[i], m->ndims);
        zv_jw_key(w, "count"), write_count(w, &t.e[i], f->k);
        zv_jw_obj_close(w);
    }
    zv_jw_arr_close(w);
    zv_jw_key(w, "total"), write_count(w, &t.e[t.n - 1], f->k);
    zv_jw_obj_close(w);
    sig_table_clear(&t);
    return 0;
}

static int write_document(sig_fmt *f, zv_jw *w, const zv_batch *b, const char *label,
                          const char *first, const char *last)
{
    char generated[21];
    zv_time_iso(b->now, generated);
    zv_jw_obj_open(w);
    zv_jw_key(w, "format"), zv_jw_str(w, FORMAT_NAME);
    zv_jw_key(w, "version"), zv_jw_int(w, FORMAT_VERSION);
    zv_jw_key(w, "destination"), zv_jw_str(w, b->destination);
    zv_jw_key(w, "batch_id"), zv_jw_str(w, b->batch_id);
    zv_jw_key(w, "generated"), zv_jw_str(w, generated);
    zv_jw_key(w, "signal_set"), zv_jw_str(w, f->set->name);
    zv_jw_key(w, "description"), zv_jw_str(w, f->set->description);
    zv_jw_key(w, "period");
    zv_jw_obj_open(w);
    zv_jw_key(w, "kind"), zv_jw_str(w, sig_period_name(f->set->period));
    zv_jw_key(w, "label"), zv_jw_str(w, label);
    zv_jw_key(w, "start"), zv_jw_str(w, first);
    zv_jw_key(w, "end"), zv_jw_str(w, last);
    zv_jw_obj_close(w);
    zv_jw_key(w, "k"), zv_jw_int(w, f->k);
    zv_jw_key(w, "measures");
    zv_jw_arr_open(w);
    for (size_t i = 0; i < f->set->nmeasures; i++)
        if (write_measure(f, w, &f->set->measures[i], label) != 0) return -1;
    zv_jw_arr_close(w);
    zv_jw_obj_close(w);
    return 0;
}

/* One payload for period `pi`, carrying the batch records whose first
 * touched period it is (and, for the last payload, those that touched none). */
static int emit_period(sig_fmt *f, const zv_batch *b, zv_render_out *out, const period_ref *pr,
                       const int *first, int pi, int last_payload)
{
    const char *label = pr->label;
    zv_jw *w = zv_jw_new(f->pretty);
    size_t *idx = calloc(b->n ? b->n : 1, sizeof(*idx)), n = 0;
    char *idem = NULL;
    const char *data;
    size_t len;
    int rc = -1;
    if (!w || !idx || write_document(f, w, b, label, pr->start, pr->end) != 0 ||
        zv_jw_result(w, &data, &len) != 0)
        goto done;
    for (size_t i = 0; i < b->n; i++)
        if (first[i] == pi || (last_payload && first[i] < 0)) idx[n++] = i;
    if (asprintf(&idem, "%s/%s/%s", b->destination, b->batch_id, label) < 0) {
        idem = NULL;
        goto done;
    }
    zv_payload_spec p = {ZV_SIZED(zv_payload_spec),
                         .data = data,
                         .len = len,
                         .content_type = "application/json",
                         .idem_key = idem,
                         .extension = "json",
                         .records = idx,
                         .nrecords = n,
                         .record_keys = NULL};
    rc = f->host->add_payload(out, &p) == 0 ? 0 : -1;
done:
    free(idem);
    free(idx);
    zv_jw_free(w);
    return rc;
}

/* What of record r the payloads carry: only the values that label a cell
 * (the measures' dimensions, as the counts' keys), for the measures it is
 * counted in; the BSN, dates and the birth date behind an age band are read
 * and never written. */
static int report_fields(sig_fmt *f, zv_render_out *out, size_t index, const zv_record *r)
{
    if (!ZV_HOST_HAS(f->host, rendered_fields)) return 0;
    unsigned char on[ZV_FIELD_COUNT] = {0};
    for (size_t i = 0; zv_rec_str(r, ZV_F_CLIENT_BSN) && i < f->set->nmeasures; i++) {
        const sig_measure *m = &f->set->measures[i];
        if ((m->kind >= 0 && m->kind != (int)r->kind) || !sig_cond_eval(m->where, r)) continue;
        char label[16], p0[11], p1[11];
        if (sig_period_of(f->set->period, zv_rec_str(r, (zv_field_id)m->date_field), label, p0,
                          p1) != 0)
            continue;
        for (size_t d = 0; d < m->ndims; d++)
            if (m->dims[d] >= 0 && m->dims[d] < ZV_FIELD_COUNT &&
                zv_rec_get(r, (zv_field_id)m->dims[d]))
                on[m->dims[d]] = 1;
    }
    zv_field_id ids[ZV_FIELD_COUNT];
    size_t n = 0;
    for (int k = 0; k < ZV_FIELD_COUNT; k++)
        if (on[k]) ids[n++] = (zv_field_id)k;
    return f->host->rendered_fields(out, index, ids, n);
}

static int cmp_label(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int sig_render(void *state, const zv_batch *b, zv_render_out *out)
{
    sig_fmt *f = state;
    if (b->n == 0) return 0;
    touched t = {.n = 0};
    int *first = calloc(b->n, sizeof(*first));
    zv_buf cell;
    zv_buf_init(&cell);
    int rc = -1;
    if (!first || sig_state_begin(f->state) != 0) goto done;
    for (size_t i = 0; i < b->n; i++)
        if (count_record(f, b->records[i], &t, &first[i], &cell) != 0) {
            sig_state_rollback(f->state);
            f->host->log(f->ctx, ZV_LOG_ERROR, "signals: could not count batch %s", b->batch_id);
            goto done;
        }
    if (sig_state_commit(f->state) != 0) {
        sig_state_rollback(f->state);
        goto done;
    }
    if (t.n == 0) { /* nothing counted: report the period the batch closed in */
        char now[21], p0[11], p1[11], label[16];
        zv_time_iso(b->now, now);
        now[10] = '\0';
        if (sig_period_of(f->set->period, now, label, p0, p1) != 0) goto done;
        touch(&t, label, p0, p1);
    }
    /* Periods in order; first[] indexes follow the sort. */
    period_ref orig[MAX_PERIODS];
    memcpy(orig, t.p, sizeof(orig));
    qsort(t.p, t.n, sizeof(t.p[0]), cmp_label);
    for (size_t i = 0; i < b->n; i++)
        if (first[i] >= 0) first[i] = touch(&t, orig[first[i]].label, "", "");
    rc = 0;
    for (size_t p = 0; p < t.n && rc == 0; p++)
        rc = emit_period(f, b, out, &t.p[p], first, (int)p, p + 1 == t.n);
    for (size_t i = 0; i < b->n && rc == 0; i++)
        rc = report_fields(f, out, i, b->records[i]);
done:
    zv_buf_free(&cell);
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
};
