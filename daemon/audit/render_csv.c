/* The audit report as CSV for spreadsheets: one line per requested field
 * (section "field") and one per source field nobody needs (section
 * "source").  Quoting by libcsv; cells a spreadsheet would run as a formula
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
    zv_buf_puts(out, "\r\n");
}

int zv_audit_render_csv(const zv_audit_report *r, zv_buf *out)
{
    for (size_t i = 0; HEADER[i]; i++)
        cell(out, HEADER[i], i == 0);
    zv_buf_puts(out, "\r\n");
    for (size_t i = 0; i < r->nrows; i++)
        field_line(out, r, &r->rows[i]);
    for (size_t i = 0; i < r->nflags; i++)
        if (r->flags[i].kind == ZV_FLAG_COLLECTED_NEVER_REQUIRED) source_line(out, r, &r->flags[i]);
    return out->oom ? -1 : 0;
}
