/*
 * The period report as one self-contained HTML page (inline CSS and SVG, no
 * script, nothing fetched): per measure its purpose and basis, a small bar
 * chart and the table, small cells shown as "<k" and cells hidden to
 * protect them as "x"; then the team's narrative for the period.  The same
 * page prints to PDF (zv_pdf_from_html).  It shows only what the JSON
 * document of the period shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signals.h"

static const char CSS[] =
    "body{font-family:'DejaVu Sans',Arial,sans-serif;margin:0;background:#f5f5f2;color:#1a1a1a}"
    "main{max-width:900px;margin:0 auto;padding:24px;background:#fff}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 4px;"
    "border-top:2px solid #00695c;padding-top:10px}h3,h4,h5{margin:14px 0 4px}"
    ".meta{color:#555;font-size:13px}.purpose{margin:4px 0}.basis{color:#555;font-size:12px}"
    "table{border-collapse:collapse;margin:8px 0;font-size:13px}"
    "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}td.n,th.n{text-align:right}"
    "tr.total td,tr.total th,td.total{font-weight:700;background:#f0f4f3}"
    ".sup{color:#6d4c41;font-style:italic}svg{display:block;margin:6px 0;max-width:640px;"
    "width:100%;height:auto}.scroll{overflow-x:auto}"
    ".story{background:#f0f4f3;border-left:4px solid #00695c;padding:8px 16px;margin-top:12px}"
    ".legend{font-size:12px;color:#444}.cards{display:flex;gap:12px;flex-wrap:wrap}"
    ".card{border:1px solid #ccc;border-radius:6px;padding:8px 14px;min-width:140px}"
    ".card b{display:block;font-size:26px}"
    "@media print{body{background:#fff}main{padding:0}h2{break-after:avoid}"
    "section{break-inside:avoid}}";

/* "12", "<5" or "x": what the JSON says for the entry. */
static void count_text(char *out, size_t n, const sig_entry *e, int64_t k)
{
    if (e->show == SIG_PRIMARY)
        snprintf(out, n, "<%lld", (long long)k);
    else if (e->show == SIG_SECONDARY)
        snprintf(out, n, "x");
    else
        snprintf(out, n, "%lld", (long long)e->count);
}

static void count_cell(zv_buf *b, const sig_entry *e, int64_t k, const char *cls)
{
    char t[32];
    count_text(t, sizeof(t), e, k);
    zv_buf_printf(b, "<td class=\"n%s%s%s\">", e->show != SIG_SHOWN ? " sup" : "", cls ? " " : "",
                  cls ? cls : "");
    zv_html_escn(b, t, strlen(t));
    zv_buf_puts(b, "</td>");
}

static void text(zv_buf *b, const char *s)
{
    zv_html_escn(b, s ? s : "", s ? strlen(s) : 0);
}

/* Band labels in their natural order ("8-28" before "29-56"): a leading
 * number compares as a number. */
static int natcmp(const char *a, const char *b)
{
    if (!a || !b) return !a - !b;
    char *ea, *eb;
    long na = strtol(a, &ea, 10), nb = strtol(b, &eb, 10);
    if (ea != a && eb != b && na != nb) return na < nb ? -1 : 1;
    return strcmp(a, b);
}

static int cmp_entry(const void *x, const void *y)
{
    const sig_entry *a = *(const sig_entry *const *)x, *b = *(const sig_entry *const *)y;
    return natcmp(a->values[0], b->values[0]);
}

static int cmp_str(const void *x, const void *y)
{
    return natcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The entries a chart shows: the cells of one dimension, the margins over
 * the first dimension of two, the total of none. */
static size_t chart_rows(const sig_table *t, const sig_entry **rows, size_t max)
{
    size_t n = 0;
    if (t->ndims == 0) {
        rows[n++] = &t->e[t->n - 1];
    } else if (t->ndims == 1) {
        for (size_t i = 0; i < t->ncells && n < max; i++)
            rows[n++] = &t->e[i];
    } else {
        for (size_t i = t->ncells; i + 1 < t->n && n < max; i++)
            if (t->e[i].values[0] && !t->e[i].values[1]) rows[n++] = &t->e[i];
    }
    qsort(rows, n, sizeof(*rows), cmp_entry);
    return n;
}

/* Horizontal bars; a hidden number is drawn as a hatched stub of the same
 * width whatever it hides, so the picture tells no more than "<k" or "x". */
static void chart(zv_buf *b, const sig_table *t, int64_t k, size_t mi)
{
    const sig_entry *rows[64];
    size_t n = chart_rows(t, rows, 64);
    if (n == 0) return;
    int64_t max = k;
    for (size_t i = 0; i < n; i++)
        if (rows[i]->show == SIG_SHOWN && rows[i]->count > max) max = rows[i]->count;
    const int W = 640, L = 170, BAR = 18, GAP = 6, maxw = W - L - 60;
    int h = (int)n * (BAR + GAP) + GAP;
    zv_buf_printf(b,
                  "<svg viewBox=\"0 0 %d %d\" role=\"img\" "
                  "aria-label=\"staafdiagram\"><defs><pattern id=\"h%zu\" width=\"6\" "
                  "height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
                  "<rect width=\"3\" height=\"6\" fill=\"#bcaaa4\"/></pattern></defs>",
                  W, h, mi);
    for (size_t i = 0; i < n; i++) {
        const sig_entry *e = rows[i];
        int y = GAP + (int)i * (BAR + GAP);
        const char *label = t->ndims == 0 ? "totaal" : e->values[0] ? e->values[0] : "totaal";
        zv_buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\">", L - 8,
                      y + 13);
        text(b, label);
        zv_buf_puts(b, "</text>");
        char v[32];
        count_text(v, sizeof(v), e, k);
        int w = e->show == SIG_SHOWN ? (int)((double)maxw * (double)e->count / (double)max) : 14;
        if (e->show == SIG_SHOWN && e->count > 0 && w < 2) w = 2;
        if (e->show == SIG_SHOWN)
            zv_buf_printf(b,
                          "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#00695c\"/>",
                          L, y, w, BAR);
        else
            zv_buf_printf(b,
                          "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"url(#h%zu)\" "
                          "stroke=\"#8d6e63\"/>",
                          L, y, w, BAR, mi);
        zv_buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"12\">", L + w + 6, y + 13);
        text(b, v);
        zv_buf_puts(b, "</text>");
    }
    zv_buf_puts(b, "</svg>");
}

static const sig_entry *find(const sig_table *t, const char *v0, const char *v1)
{
    for (size_t i = 0; i < t->n; i++) {
        const sig_entry *e = &t->e[i];
        int m0 = v0 ? e->values[0] && !strcmp(e->values[0], v0) : !e->values[0];
        int m1 = v1 ? e->values[1] && !strcmp(e->values[1], v1) : !e->values[1];
        if (m0 && m1) return e;
    }
    return NULL;
}

/* Values of dimension d as the margins list them (every value once). */
static size_t dim_values(const sig_table *t, int d, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = t->ncells; i + 1 < t->n && n < max; i++)
        if (t->e[i].values[d] && !t->e[i].values[1 - d]) out[n++] = t->e[i].values[d];
    qsort(out, n, sizeof(*out), cmp_str);
    return n;
}

static void table_2d(zv_buf *b, const sig_measure *m, const sig_table *t, int64_t k)
{
    const char *rows[64], *cols[64];
    size_t nr = dim_values(t, 0, rows, 64), nc = dim_values(t, 1, cols, 64);
    zv_buf_puts(b, "<table><thead><tr><th>");
    text(b, sig_dim_name(m->dims[0]));
    zv_buf_puts(b, " \\ ");
    text(b, sig_dim_name(m->dims[1]));
    zv_buf_puts(b, "</th>");
    for (size_t c = 0; c < nc; c++) {
        zv_buf_puts(b, "<th class=\"n\">");
        text(b, cols[c]);
        zv_buf_puts(b, "</th>");
    }
    zv_buf_puts(b, "<th class=\"n\">totaal</th></tr></thead><tbody>");
    for (size_t r = 0; r <= nr; r++) {
        const char *rv = r < nr ? rows[r] : NULL;
        zv_buf_printf(b, "<tr%s><th>", rv ? "" : " class=\"total\"");
        text(b, rv ? rv : "totaal");
        zv_buf_puts(b, "</th>");
        for (size_t c = 0; c <= nc; c++) {
            const sig_entry *e = find(t, rv, c < nc ? cols[c] : NULL);
            if (e)
                count_cell(b, e, k, c == nc ? "total" : NULL);
            else
                zv_buf_puts(b, "<td class=\"n\">0</td>"); /* absent cells are 0 */
        }
        zv_buf_puts(b, "</tr>");
    }
    zv_buf_puts(b, "</tbody></table>");
}

static void table_1d(zv_buf *b, const sig_measure *m, const sig_table *t, int64_t k)
{
    zv_buf_puts(b, "<table><thead><tr><th>");
    text(b, m->ndims ? sig_dim_name(m->dims[0]) : "");
    zv_buf_puts(b, "</th><th class=\"n\">aantal</th></tr></thead><tbody>");
    const sig_entry *rows[64];
    size_t n = m->ndims ? chart_rows(t, rows, 64) : 0;
    for (size_t i = 0; i < n; i++) {
        zv_buf_puts(b, "<tr><th>");
        text(b, rows[i]->values[0]);
        zv_buf_puts(b, "</th>");
        count_cell(b, rows[i], k, NULL);
        zv_buf_puts(b, "</tr>");
    }
    zv_buf_puts(b, "<tr class=\"total\"><th>totaal</th>");
    count_cell(b, &t->e[t->n - 1], k, NULL);
    zv_buf_puts(b, "</tr></tbody></table>");
}

static void measure(zv_buf *b, const sig_measure *m, const sig_table *t, int64_t k, size_t mi)
{
    zv_buf_printf(b, "<section class=\"measure\" id=\"m-%zu\"><h2>", mi);
    text(b, m->title);
    zv_buf_puts(b, "</h2><p class=\"purpose\">");
    text(b, m->purpose);
    zv_buf_puts(b, "</p><p class=\"basis\">Grondslag: ");
    text(b, m->citation);
    zv_buf_puts(b, " &middot; <code>");
    text(b, m->id);
    zv_buf_puts(b, "</code></p>");
    chart(b, t, k, mi);
    size_t values = m->ndims == 1 ? t->ncells : m->ndims == 2 ? t->n - t->ncells - 1 : 0;
    if (values > 64) /* a page is for a few numbers; the JSON has them all */
        zv_buf_printf(b,
                      "<p class=\"basis\">De eerste 64 van %zu waarden; alle staan in de "
                      "JSON van deze periode.</p>",
                      values);
    zv_buf_puts(b, "<div class=\"scroll\">");
    if (m->ndims == 2)
        table_2d(b, m, t, k);
    else
        table_1d(b, m, t, k);
    zv_buf_puts(b, "</div></section>");
}

int sig_report_html(const sig_report *r, zv_buf *b)
{
    zv_buf_puts(b,
                "<!DOCTYPE html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>");
    text(b, r->set->name);
    zv_buf_puts(b, " ");
    text(b, r->label);
    zv_buf_printf(b, "</title><style>%s</style></head><body><main><h1>", CSS);
    text(b, r->set->description);
    zv_buf_puts(b, "</h1><p class=\"meta\">Periode <b>");
    text(b, r->label);
    zv_buf_puts(b, "</b> (");
    text(b, r->start);
    zv_buf_puts(b, " t/m ");
    text(b, r->end);
    zv_buf_puts(b, ") &middot; signaalset <code>");
    text(b, r->set->name);
    zv_buf_puts(b, "</code> &middot; aan <b>");
    text(b, r->destination);
    zv_buf_puts(b, "</b>");
    if (r->org) {
        zv_buf_puts(b, " &middot; van ");
        text(b, r->org);
    }
    zv_buf_printf(b, " &middot; opgesteld %s &middot; versie %lld</p>", r->generated,
                  (long long)r->revision);
    zv_buf_puts(b, "<section id=\"kern\"><div class=\"cards\">");
    for (size_t i = 0; i < r->set->nmeasures; i++) {
        char v[32];
        count_text(v, sizeof(v), &r->tables[i].e[r->tables[i].n - 1], r->k);
        zv_buf_puts(b, "<div class=\"card\"><b>");
        text(b, v);
        zv_buf_puts(b, "</b>");
        text(b, r->set->measures[i].title);
        zv_buf_puts(b, "</div>");
    }
    zv_buf_puts(b, "</div></section><section id=\"verhaal\"><h2>Het verhaal achter de cijfers"
                   "</h2><div class=\"story\">");
    if (r->narrative && *r->narrative)
        sig_markdown_html(b, r->narrative);
    else
        zv_buf_puts(b, "<p><em>Voor deze periode is geen toelichting aangeleverd.</em></p>");
    zv_buf_puts(b, "</div></section>");
    for (size_t i = 0; i < r->set->nmeasures; i++)
        measure(b, &r->set->measures[i], &r->tables[i], r->k, i);
    zv_buf_printf(b,
                  "<p class=\"legend\">Aantallen zijn verschillende cli&euml;nten in de periode. "
                  "<span class=\"sup\">&lt;%lld</span>: een klein aantal (1 tot %lld), "
                  "afgeschermd. <span class=\"sup\">x</span>: afgeschermd, zodat een klein "
                  "aantal niet uit de totalen is terug te rekenen. Er staan geen "
                  "persoonsgegevens in dit rapport.</p></main></body></html>\n",
                  (long long)r->k, (long long)r->k - 1);
    return b->oom ? -1 : 0;
}
