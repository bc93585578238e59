/*
 * Period reports: when the destination's schedule is the signal set's
 * period (quarterly for a quarterly set), each period gets its report once
 * it has ended, at the first batch after its last day: the final counts as
 * JSON ("final": true, with the narrative), the same as an HTML page with a
 * chart per measure, and with option pdf that page printed to PDF.  A batch
 * that changes an ended period (a late record) sends the report again as the
 * next revision; the same counts are never sent twice by two batches (the
 * revision, a digest of what was sent and the batch are kept in
 * signals.db): the same batch rendered again (a retry after a failed
 * unit, the dry run's quiet pass) sends the same revision again, which the
 * outbox takes once.
 *
 * The format ABI has no timer of its own for formats: a destination that
 * receives nothing after a period ended sends that period's report with its
 * next batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/pdf.h>
#include <zinvol/util.h>

#include "signals_fmt.h"

typedef struct due_ctx {
    sig_fmt *f;
    const char *today;
    sig_touched *due;
} due_ctx;

static int add_if_ended(sig_touched *due, const char *label, const char *start, const char *end,
                        const char *today)
{
    if (strcmp(end, today) >= 0) return 0; /* still running (or ends today) */
    return sig_touch(due, label, start, end) < 0 ? -1 : 0;
}

static int on_unreported(const char *period, void *arg)
{
    due_ctx *c = arg;
    char first[11], last[11];
    if (sig_period_bounds(c->f->set->period, period, first, last) != 0) return 0;
    return add_if_ended(c->due, period, first, last, c->today);
}

/* What a report says, for "has it changed": every entry's values and shown
 * count, and the narrative. */
static void digest_of(const sig_fmt *f, const sig_table *tables, const char *narrative,
                      char out[65])
{
    zv_buf b;
    zv_buf_init(&b);
    for (size_t i = 0; i < f->set->nmeasures; i++) {
        const sig_table *t = &tables[i];
        zv_buf_printf(&b, "%s\n", f->set->measures[i].id);
        for (size_t j = 0; j < t->n; j++)
            zv_buf_printf(&b, "%s\x1f%s\x1f%d\x1f%lld\n",
                          t->e[j].values[0] ? t->e[j].values[0] : "",
                          t->e[j].values[1] ? t->e[j].values[1] : "", (int)t->e[j].show,
                          t->e[j].show == SIG_SHOWN ? (long long)t->e[j].count : 0LL);
    }
    zv_buf_printf(&b, "\x1e%s", narrative ? narrative : "");
    zv_sha256_hex(b.data ? b.data : "", b.len, out);
    zv_buf_free(&b);
}

static char *narrative_of(sig_fmt *f, const char *label)
{
    if (f->narrative_field >= 0) return sig_state_narrative_get(f->state, label);
    if (!f->narrative) return NULL;
    char *text = NULL, err[512];
    if (sig_narrative_read(f->narrative, label, &text, err, sizeof(err)) != 0) {
        /* The counts still go; the reader of the log knows which file to mend. */
        f->host->log(f->ctx, ZV_LOG_ERROR, "signals: narrative for %s left out: %s", label, err);
        return NULL;
    }
    return text;
}

static int add(sig_fmt *f, zv_render_out *out, const char *data, size_t len, const char *ctype,
               const char *ext, const char *idem, const size_t *idx, size_t n)
{
    zv_payload_spec p = {ZV_SIZED(zv_payload_spec),
                         .data = data,
                         .len = len,
                         .content_type = ctype,
                         .idem_key = idem,
                         .extension = ext,
                         .records = f->name_records ? idx : NULL,
                         .nrecords = f->name_records ? n : 0,
                         .record_keys = NULL};
    return f->host->add_payload(out, &p) == 0 ? 0 : -1;
}

/* The three payloads of one period report. */
static int emit_one(sig_fmt *f, const zv_batch *b, zv_render_out *out, const sig_period_ref *p,
                    const sig_table *tables, const char *narrative, int64_t rev, const size_t *idx,
                    size_t n)
{
    char idem[256], generated[21];
    zv_time_iso(b->now, generated);
    sig_doc_extra extra = {1, rev, narrative};
    zv_jw *w = zv_jw_new(f->pretty);
    const char *data;
    size_t len;
    int rc = -1;
    if (!w) return -1;
    sig_write_document(f, w, b, p, tables, &extra);
    snprintf(idem, sizeof(idem), "%s/report/%s/%lld/json", b->destination, p->label,
             (long long)rev);
    if (zv_jw_result(w, &data, &len) != 0 ||
        add(f, out, data, len, "application/json", "json", idem, idx, n) != 0)
        goto done;
    sig_report r = {f->set,    tables, f->k,           p->label,
                    p->start,  p->end, b->destination, f->org,
                    generated, rev,    narrative};
    zv_buf html, pdf;
    zv_buf_init(&html);
    zv_buf_init(&pdf);
    snprintf(idem, sizeof(idem), "%s/report/%s/%lld/html", b->destination, p->label,
             (long long)rev);
    rc = sig_report_html(&r, &html) == 0 &&
                 add(f, out, html.data, html.len, "text/html; charset=utf-8", "html", idem, idx,
                     n) == 0
             ? 0
             : -1;
    char err[512];
    if (rc == 0 && f->pdf) {
        snprintf(idem, sizeof(idem), "%s/report/%s/%lld/pdf", b->destination, p->label,
                 (long long)rev);
        if (zv_pdf_from_html(NULL, html.data, html.len, 120, &pdf, err, sizeof(err)) != 0)
            /* JSON and HTML carry the same; the PDF is a convenience. */
            f->host->log(f->ctx, ZV_LOG_ERROR, "signals: report %s sent without its PDF: %s",
                         p->label, err);
        else
            rc = add(f, out, pdf.data, pdf.len, "application/pdf", "pdf", idem, idx, n);
    }
    zv_buf_free(&html);
    zv_buf_free(&pdf);
    if (rc == 0)
        f->host->log(f->ctx, ZV_LOG_INFO, "signals: report %s revision %lld (%s)", p->label,
                     (long long)rev, f->pdf ? "json, html, pdf" : "json, html");
done:
    zv_jw_free(w);
    return rc;
}

/* The batch records that touched the period first, or all of them. */
static size_t carried(const zv_batch *b, const sig_touched *t, const int *first, const char *label,
                      size_t *idx)
{
    size_t n = 0;
    for (size_t j = 0; j < t->n; j++)
        if (strcmp(t->p[j].label, label) == 0)
            for (size_t i = 0; i < b->n; i++)
                if (first[i] == (int)j) idx[n++] = i;
    if (n == 0)
        for (size_t i = 0; i < b->n; i++)
            idx[n++] = i;
    return n;
}

typedef struct sent {
    char label[16], digest[65];
    int64_t rev;
} sent;

static int report_period(sig_fmt *f, const zv_batch *b, zv_render_out *out, const sig_touched *t,
                         const int *first, const sig_period_ref *p, sent *s, int *any)
{
    sig_table *tables = calloc(f->set->nmeasures, sizeof(*tables));
    size_t *idx = calloc(b->n, sizeof(*idx)), built = 0;
    char *narrative = NULL;
    int rc = -1;
    *any = 0;
    if (!tables || !idx) goto done;
    for (; built < f->set->nmeasures; built++)
        if (sig_measure_table(f, &f->set->measures[built], p->label, &tables[built]) != 0)
            goto done;
    narrative = narrative_of(f, p->label);
    char digest[65], old[65] = "", by[64] = "";
    int64_t rev = 0;
    digest_of(f, tables, narrative, digest);
    int got = sig_state_report_get(f->state, p->label, &rev, old, by);
    if (got < 0) goto done;
    int again = got == 0 && strcmp(by, b->batch_id) == 0; /* this batch, rendered again */
    if (got == 0 && strcmp(old, digest) == 0 && !again) { /* sent as it is */
        rc = 0;
        goto done;
    }
    rev = got != 0 ? 1 : again ? rev : rev + 1;
    size_t n = carried(b, t, first, p->label, idx);
    if (emit_one(f, b, out, p, tables, narrative, rev, idx, n) != 0) goto done;
    snprintf(s->label, sizeof(s->label), "%s", p->label);
    snprintf(s->digest, sizeof(s->digest), "%s", digest);
    s->rev = rev;
    *any = 1;
    rc = 0;
done:
    for (size_t i = 0; i < built; i++)
        sig_table_clear(&tables[i]);
    free(tables);
    free(idx);
    free(narrative);
    return rc;
}

static int cmp_label(const void *a, const void *b)
{
    return strcmp(a, b);
}

int sig_emit_reports(sig_fmt *f, const zv_batch *b, zv_render_out *out, const sig_touched *t,
                     const int *first)
{
    char today[21];
    zv_time_iso(b->now, today);
    today[10] = '\0';
    sig_touched due = {.n = 0};
    for (size_t i = 0; i < t->n; i++) {
        char first_day[11], last_day[11];
        if (sig_period_bounds(f->set->period, t->p[i].label, first_day, last_day) != 0) continue;
        if (add_if_ended(&due, t->p[i].label, first_day, last_day, today) != 0) return -1;
    }
    due_ctx c = {f, today, &due};
    if (sig_state_unreported(f->state, on_unreported, &c) != 0) return -1;
    qsort(due.p, due.n, sizeof(due.p[0]), cmp_label);
    sent s[SIG_MAX_PERIODS];
    size_t ns = 0;
    for (size_t i = 0; i < due.n; i++) {
        int any;
        if (report_period(f, b, out, t, first, &due.p[i], &s[ns], &any) != 0) return -1;
        ns += (size_t)any;
    }
    if (ns == 0) return 0;
    /* Written after the payloads were handed over: a render that fails
     * before this leaves the reports due for the next try. */
    if (sig_state_begin(f->state) != 0) return -1;
    for (size_t i = 0; i < ns; i++)
        if (sig_state_report_put(f->state, s[i].label, s[i].rev, s[i].digest, b->batch_id) != 0) {
            sig_state_rollback(f->state);
            return -1;
        }
    if (sig_state_commit(f->state) != 0) {
        sig_state_rollback(f->state);
        return -1;
    }
    return 0;
}
