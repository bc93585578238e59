/* The audit report as CSV for spreadsheets: one line per requested field
 * (section "field") and one per source field nobody needs (section
 * "source"); when a register answered queries in the period, also one line
 * per party and field of "sent versus asked" (section "sent_versus_asked",
 * in seven more columns, empty on the other lines; field empty: the party's
 * totals).  Quoting by libcsv; cells a spreadsheet would run as a formula
 * get a leading apostrophe. */
#include "audit.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const HEADER[] = {
    "section",  "destination",    "format",         "threshold", "schedule", "message",
    "source",   "field",          "element",        "level",     "citation", "condition",
    "optional", "frequency",      "derivable_from", "selected",  "sent",     "kept",
    "dropped",  "not_applicable", "missing",        "delivered", "flags",    NULL};
/* Only when the report has a sent-versus-asked section. */
static const char *const SVA_HEADER[] = {
    "party",   "sent_clients",   "sent_messages",  "asked_clients",
    "answers", "sent_not_asked", "asked_not_sent", NULL};
#define SVA_COLS 7

static void cell(zv_buf *out, const char *s, int first)
{
    if (!first) zv_buf_puts(out, ",");
    if (!s) s = "";
    char guarded[8] = "";
    if (strchr("=+-@\t\r", s[0]) && s[0]) strcpy(guarded, "'");
    size_t n = strlen(s) + strlen(guarded);
    char *src = malloc(n + 1);
    if (!src) {
        out->oom = 1;
        return;
    }
    snprintf(src, n + 1, "%s%s", guarded, s);
    size_t need = csv_write(NULL, 0, src, n);
    if (zv_buf_reserve(out, need + 1) == 0) {
        csv_write(out->data + out->len, need, src, n);
        out->len += need;
        out->data[out->len] = '\0';
    }
    free(src);
}

static void icell(zv_buf *out, int64_t v)
{
    char b[32];
    snprintf(b, sizeof(b), "%lld", (long long)v);
    cell(out, b, 0);
}

static void field_line(zv_buf *out, const zv_audit_report *r, const zv_audit_row *row)
{
    const zv_audit_dest *d = &r->in->dests[row->dest];
    const zv_cat_entry *e = row->entry;
    char *cond = e->condition ? zv_cond_describe(e->condition) : NULL;
    zv_buf list;
    zv_buf_init(&list);
    for (size_t k = 0; k < e->nderivable; k++)
        zv_buf_printf(&list, "%s%s", k ? "; " : "", e->derivable_from[k]);
    cell(out, "field", 1);
    cell(out, d->name, 0);
    cell(out, d->format, 0);
    cell(out, zv_level_name(d->threshold), 0);
    cell(out, d->schedule ? d->schedule : "event", 0);
    cell(out, d->msgs[row->msg].message, 0);
    cell(out, "", 0);
    cell(out, zv_field_def_of((zv_field_id)e->field)->name, 0);
    cell(out, e->element, 0);
    cell(out, zv_level_name(e->level), 0);
    cell(out, e->citation, 0);
    cell(out, cond, 0);
    cell(out, e->optional ? "yes" : "no", 0);
    cell(out, e->frequency, 0);
    cell(out, list.data, 0);
    cell(out, row->read ? "read" : row->selected ? "yes" : "no", 0);
    cell(out, row->sent < 0 ? "unknown" : row->sent ? "yes" : "no", 0);
    icell(out, row->n.kept);
    icell(out, row->n.dropped);
    icell(out, row->n.not_applicable);
    icell(out, row->n.missing);
    icell(out, row->n.delivered);
    zv_buf_reset(&list);
    for (int k = 0; k < ZV_FLAG_COUNT; k++)
        if (row->flags & (1u << k))
            zv_buf_printf(&list, "%s%s", list.len ? ";" : "", zv_flag_id((zv_flag_kind)k));
    cell(out, list.data, 0);
    for (int i = 0; r->in->sva && i < SVA_COLS; i++)
        cell(out, "", 0);
    zv_buf_puts(out, "\r\n");
    zv_buf_free(&list);
    free(cond);
}

static void source_line(zv_buf *out, const zv_audit_report *r, const zv_audit_flag *f)
{
    cell(out, "source", 1);
    for (int i = 0; i < 5; i++)
        cell(out, "", 0);
    cell(out, r->in->sources[f->source].name, 0);
    cell(out, zv_field_def_of((zv_field_id)f->field)->name, 0);
    for (int i = 0; i < 8; i++)
        cell(out, "", 0);
    for (int i = 0; i < 5; i++)
        cell(out, "", 0);
    cell(out, zv_flag_id(f->kind), 0);
    for (int i = 0; r->in->sva && i < SVA_COLS; i++)
        cell(out, "", 0);
    zv_buf_puts(out, "\r\n");
}

/* One sent-versus-asked line: the destinations that sent, the field (NULL:
 * the party's totals), then the seven counts. */
static void sva_line(zv_buf *out, const zv_audit_sva_party *p, const char *field,
                     const int64_t v[6])
{
    zv_buf by;
    zv_buf_init(&by);
    for (size_t i = 0; i < p->nsent_by; i++)
        zv_buf_printf(&by, "%s%s", i ? ";" : "", p->sent_by[i]);
    cell(out, "sent_versus_asked", 1);
    cell(out, by.data, 0);
    for (int i = 0; i < 5; i++)
        cell(out, "", 0);
    cell(out, field, 0);
    for (int i = 0; i < 15; i++)
        cell(out, "", 0);
    cell(out, p->party, 0);
    for (int i = 0; i < 6; i++)
        if (v[i] < 0)
            cell(out, "", 0);
        else
            icell(out, v[i]);
    zv_buf_puts(out, "\r\n");
    zv_buf_free(&by);
}

static void sva_lines(zv_buf *out, const zv_audit_sva *s)
{
    for (size_t i = 0; i < s->nparties; i++) {
        const zv_audit_sva_party *p = &s->parties[i];
        const int64_t t[6] = {
            p->sent_clients, p->sent_messages, p->asked_clients, p->answers, -1, -1};
        sva_line(out, p, NULL, t);
        for (size_t k = 0; k < p->nfields; k++) {
            const zv_audit_sva_field *f = &p->fields[k];
            const int64_t v[6] = {f->sent_clients, f->sent_messages,  f->asked_clients,
                                  f->answers,      f->sent_not_asked, f->asked_not_sent};
            sva_line(out, p, zv_field_def_of((zv_field_id)f->field)->name, v);
        }
    }
}

int zv_audit_render_csv(const zv_audit_report *r, zv_buf *out)
{
    for (size_t i = 0; HEADER[i]; i++)
        cell(out, HEADER[i], i == 0);
    for (size_t i = 0; r->in->sva && SVA_HEADER[i]; i++)
        cell(out, SVA_HEADER[i], 0);
    zv_buf_puts(out, "\r\n");
    for (size_t i = 0; i < r->nrows; i++)
        field_line(out, r, &r->rows[i]);
    for (size_t i = 0; i < r->nflags; i++)
        if (r->flags[i].kind == ZV_FLAG_COLLECTED_NEVER_REQUIRED) source_line(out, r, &r->flags[i]);
    if (r->in->sva) sva_lines(out, r->in->sva);
    return out->oom ? -1 : 0;
}
