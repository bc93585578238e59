/* The audit report as one self-contained HTML page for auditors: inline CSS
 * and SVG only (no scripts, fonts or images from elsewhere), Dutch labels,
 * English ids.  Every text from config or catalogue is escaped. */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

static const char *const LEVEL_COLOUR[ZV_LEVEL_COUNT] = {"#1b5e20", "#43a047", "#00897b", "#f9a825",
                                                         "#ef6c00", "#d84315", "#b71c1c"};

static const char *const FLAG_COLOUR[ZV_FLAG_COUNT] = {"#b71c1c", "#6a1b9a", "#5d4037",
                                                       "#1565c0", "#ef6c00", "#ad1457"};

static void esc(zv_buf *b, const char *s)
{
    if (!s) return;
    for (; *s; s++) {
        switch (*s) {
        case '<':
            zv_buf_puts(b, "&lt;");
            break;
        case '>':
            zv_buf_puts(b, "&gt;");
            break;
        case '&':
            zv_buf_puts(b, "&amp;");
            break;
        case '"':
            zv_buf_puts(b, "&quot;");
            break;
        case '\'':
            zv_buf_puts(b, "&#39;");
            break;
        default:
            zv_buf_append(b, s, 1);
        }
    }
}

static void tag_text(zv_buf *b, const char *tag, const char *text)
{
    zv_buf_printf(b, "<%s>", tag);
    esc(b, text);
    zv_buf_printf(b, "</%s>", tag);
}

static const char *CSS =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px;"
    "color:#212121;background:#fafafa}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:20px;margin:32px 0 8px;"
    "border-bottom:2px solid #ccc;padding-bottom:4px}h3{font-size:16px;margin:16px 0 6px}"
    ".meta{color:#555;margin-bottom:16px}"
    ".cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}"
    ".card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px "
    "14px;min-width:140px}"
    ".card b{display:block;font-size:22px}"
    "table{border-collapse:collapse;width:100%;background:#fff;font-size:12px;margin-bottom:12px}"
    "td{overflow-wrap:break-word}td code{white-space:nowrap}"
    "th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}"
    "th{background:#eceff1}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".lvl{display:inline-block;padding:1px 6px;border-radius:3px;color:#fff;font-size:12px;"
    "white-space:nowrap}"
    ".flag{display:inline-block;padding:1px 5px;margin:1px;border-radius:3px;color:#fff;"
    "font-size:11px}"
    ".unsent{color:#888}.legend span{margin-right:14px;white-space:nowrap}"
    ".sw{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}"
    ".bar{height:14px;display:inline-block;vertical-align:middle}"
    "code{font-size:12px}ul.details{font-size:13px}.scroll{overflow-x:auto}"
    "th{font-size:11px}";

static void level_badge(zv_buf *b, zv_level l)
{
    zv_buf_printf(b, "<span class=\"lvl\" style=\"background:%s\" title=\"%s\">", LEVEL_COLOUR[l],
                  zv_level_name(l));
    esc(b, zv_level_label_nl(l));
    zv_buf_puts(b, "</span>");
}

static void flag_badge(zv_buf *b, zv_flag_kind k)
{
    zv_buf_printf(b, "<span class=\"flag\" style=\"background:%s\" title=\"%s\">", FLAG_COLOUR[k],
                  zv_flag_id(k));
    esc(b, zv_flag_label_nl(k));
    zv_buf_puts(b, "</span>");
}

/* Stacked bar of the share of requested fields per level. */
static void level_chart(zv_buf *b, const zv_audit_report *r)
{
    size_t per[ZV_LEVEL_COUNT] = {0};
    for (size_t i = 0; i < r->nrows; i++)
        per[r->rows[i].entry->level]++;
    zv_buf_puts(b, "<h3>Aandeel velden per grondslag</h3>"
                   "<svg width=\"100%\" height=\"28\" viewBox=\"0 0 800 28\" "
                   "preserveAspectRatio=\"none\" role=\"img\" "
                   "aria-label=\"Aandeel velden per grondslag\">");
    double x = 0;
    for (int l = 0; l < ZV_LEVEL_COUNT && r->nrows; l++) {
        double w = 800.0 * (double)per[l] / (double)r->nrows;
        if (per[l] == 0) continue;
        zv_buf_printf(b,
                      "<rect x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"28\" fill=\"%s\">"
                      "<title>%s: %zu</title></rect>",
                      x, w, LEVEL_COLOUR[l], zv_level_name((zv_level)l), per[l]);
        x += w;
    }
    zv_buf_puts(b, "</svg><div class=\"legend\">");
    for (int l = 0; l < ZV_LEVEL_COUNT; l++) {
        zv_buf_printf(b, "<span><i class=\"sw\" style=\"background:%s\"></i>", LEVEL_COLOUR[l]);
        esc(b, zv_level_label_nl((zv_level)l));
        zv_buf_printf(b, ": %zu (%zu%%)</span>", per[l],
                      r->nrows ? (per[l] * 100 + r->nrows / 2) / r->nrows : 0);
    }
    zv_buf_puts(b, "</div>");
}

/* Per destination a row of bars, one per flag kind, scaled to the largest. */
static void flag_chart(zv_buf *b, const zv_audit_report *r)
{
    size_t max = 1;
    for (size_t d = 0; d < r->in->ndests; d++)
        for (int k = 0; k < ZV_FLAG_COUNT; k++) {
            size_t n = zv_audit_flag_count(r, d, (zv_flag_kind)k);
            if (n > max) max = n;
        }
    zv_buf_puts(b, "<h3>Signalen per bestemming</h3><table><tr><th>Bestemming</th>"
                   "<th>Signalen</th></tr>");
    for (size_t d = 0; d < r->in->ndests; d++) {
        zv_buf_puts(b, "<tr><td>");
        esc(b, r->in->dests[d].name);
        zv_buf_puts(b, "</td><td>");
        for (int k = 0; k < ZV_FLAG_COUNT; k++) {
            size_t n = zv_audit_flag_count(r, d, (zv_flag_kind)k);
            if (!n) continue;
            zv_buf_printf(b,
                          "<div><span class=\"bar\" style=\"width:%zupx;background:%s\">"
                          "</span> ",
                          n * 300 / max, FLAG_COLOUR[k]);
            esc(b, zv_flag_label_nl((zv_flag_kind)k));
            zv_buf_printf(b, ": %zu</div>", n);
        }
        zv_buf_puts(b, "</td></tr>");
    }
    zv_buf_puts(b, "</table>");
}

static void summary(zv_buf *b, const zv_audit_report *r)
{
    size_t sent = 0;
    for (size_t i = 0; i < r->nrows; i++)
        sent += (size_t)r->rows[i].sent;
    zv_buf_puts(b, "<h2>Samenvatting</h2><div class=\"cards\">");
    zv_buf_printf(b, "<div class=\"card\"><b>%zu</b>Bestemmingen</div>", r->in->ndests);
    zv_buf_printf(b, "<div class=\"card\"><b>%zu</b>Gevraagde velden</div>", r->nrows);
    zv_buf_printf(b, "<div class=\"card\"><b>%zu</b>Verzonden velden</div>", sent);
    zv_buf_printf(b, "<div class=\"card\"><b>%zu</b>Signalen</div>", r->nflags);
    zv_buf_puts(b, "</div>");
    level_chart(b, r);
    flag_chart(b, r);
    zv_buf_puts(b, "<h3>Signalen (totaal)</h3><table><tr><th>Signaal</th><th>id</th>"
                   "<th>Aantal</th></tr>");
    for (int k = 0; k < ZV_FLAG_COUNT; k++) {
        zv_buf_puts(b, "<tr><td>");
        flag_badge(b, (zv_flag_kind)k);
        zv_buf_printf(b, "</td><td><code>%s</code></td><td class=\"n\">%zu</td></tr>",
                      zv_flag_id((zv_flag_kind)k),
                      zv_audit_flag_count(r, SIZE_MAX, (zv_flag_kind)k));
    }
    zv_buf_puts(b, "</table>");
}

static void counts_cells(zv_buf *b, const zv_audit_counts *n)
{
    zv_buf_printf(b,
                  "<td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
                  "<td class=\"n\">%lld</td><td class=\"n\">%lld</td>",
                  (long long)n->kept, (long long)n->dropped, (long long)n->not_applicable,
                  (long long)n->missing, (long long)n->delivered);
}

static void field_row(zv_buf *b, const zv_audit_row *row)
{
    const zv_cat_entry *e = row->entry;
    const zv_field_def *def = zv_field_def_of((zv_field_id)e->field);
    zv_buf_printf(b, "<tr%s><td><code>", row->sent ? "" : " class=\"unsent\"");
    esc(b, def->name);
    zv_buf_puts(b, "</code><br>");
    esc(b, def->description);
    zv_buf_puts(b, "</td>");
    tag_text(b, "td", e->element);
    zv_buf_puts(b, "<td>");
    level_badge(b, e->level);
    zv_buf_puts(b, "</td>");
    tag_text(b, "td", e->citation);
    char *cond = e->condition ? zv_cond_describe(e->condition) : NULL;
    tag_text(b, "td", cond ? cond : "");
    free(cond);
    tag_text(b, "td", e->frequency);
    tag_text(b, "td", row->sent ? "ja" : "nee");
    counts_cells(b, &row->n);
    zv_buf_puts(b, "<td>");
    for (int k = 0; k < ZV_FLAG_COUNT; k++)
        if (row->flags & (1u << k)) flag_badge(b, (zv_flag_kind)k);
    zv_buf_puts(b, "</td></tr>");
}

static void destination(zv_buf *b, const zv_audit_report *r, size_t d)
{
    const zv_audit_dest *dest = &r->in->dests[d];
    zv_buf_puts(b, "<h2>Bestemming: ");
    esc(b, dest->name);
    zv_buf_puts(b, "</h2><p class=\"meta\">Formaat <code>");
    esc(b, dest->format);
    zv_buf_puts(b, "</code> &middot; Drempel ");
    level_badge(b, dest->threshold);
    zv_buf_puts(b, " &middot; Verzendfrequentie <code>");
    esc(b, dest->schedule ? dest->schedule : "event");
    zv_buf_puts(b, "</code></p>");
    for (size_t m = 0; m < dest->nmsgs; m++) {
        const zv_audit_msg *msg = &dest->msgs[m];
        zv_buf_puts(b, "<h3>Bericht ");
        esc(b, msg->message);
        zv_buf_puts(b, " &middot; catalogus <code>");
        esc(b, zv_catalogue_id(msg->cat));
        zv_buf_puts(b, "</code></h3>");
        if (zv_catalogue_max_citation(msg->cat)) {
            zv_buf_puts(b, "<p>Wettelijk maximum: ");
            esc(b, zv_catalogue_max_citation(msg->cat));
            zv_buf_puts(b, "</p>");
        }
        zv_buf_puts(b, "<div class=\"scroll\"><table><tr><th>Veld</th><th>Element</th>"
                       "<th>Niveau</th>"
                       "<th>Grondslag</th><th>Voorwaarde</th><th>Frequentie</th>"
                       "<th>Verzonden</th><th>Behouden</th><th>Weggelaten</th>"
                       "<th title=\"Niet van toepassing\">N.v.t.</th><th>Ontbreekt</th>"
                       "<th>Afgeleverd</th><th>Signalen</th></tr>");
        for (size_t i = 0; i < r->nrows; i++)
            if (r->rows[i].dest == d && r->rows[i].msg == m) field_row(b, &r->rows[i]);
        zv_buf_puts(b, "</table></div>");
    }
    zv_buf_puts(b, "<ul class=\"details\">");
    for (size_t i = 0; i < r->nflags; i++) {
        const zv_audit_flag *f = &r->flags[i];
        if (f->row == SIZE_MAX || r->rows[f->row].dest != d) continue;
        zv_buf_puts(b, "<li>");
        flag_badge(b, f->kind);
        zv_buf_puts(b, " <code>");
        esc(b, zv_field_def_of((zv_field_id)f->field)->name);
        zv_buf_puts(b, "</code> (");
        esc(b, dest->msgs[r->rows[f->row].msg].message);
        zv_buf_puts(b, "): ");
        esc(b, f->detail);
        zv_buf_puts(b, "</li>");
    }
    zv_buf_puts(b, "</ul>");
}

static void unused_sources(zv_buf *b, const zv_audit_report *r)
{
    zv_buf_puts(b, "<h2>Verzameld, nergens vereist</h2><table><tr><th>Bron</th><th>Veld</th>"
                   "<th>Toelichting</th></tr>");
    size_t n = 0;
    for (size_t i = 0; i < r->nflags; i++) {
        const zv_audit_flag *f = &r->flags[i];
        if (f->kind != ZV_FLAG_COLLECTED_NEVER_REQUIRED) continue;
        zv_buf_puts(b, "<tr>");
        tag_text(b, "td", r->in->sources[f->source].name);
        zv_buf_puts(b, "<td><code>");
        esc(b, zv_field_def_of((zv_field_id)f->field)->name);
        zv_buf_puts(b, "</code></td>");
        tag_text(b, "td", f->detail);
        zv_buf_puts(b, "</tr>");
        n++;
    }
    if (!n) zv_buf_puts(b, "<tr><td colspan=\"3\">Geen</td></tr>");
    zv_buf_puts(b, "</table>");
}

int zv_audit_render_html(const zv_audit_report *r, zv_buf *b)
{
    const zv_audit_input *in = r->in;
    zv_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width\">"
                   "<title>zinvol audit - Rapportage gegevensminimalisatie</title><style>");
    zv_buf_puts(b, CSS);
    zv_buf_puts(b, "</style></head><body><h1>Rapportage gegevensminimalisatie</h1>"
                   "<div class=\"meta\">");
    esc(b, in->org_name ? in->org_name : "");
    if (in->org_agb) {
        zv_buf_puts(b, " (AGB ");
        esc(b, in->org_agb);
        zv_buf_puts(b, ")");
    }
    zv_buf_puts(b, " &middot; opgesteld ");
    esc(b, in->generated);
    zv_buf_printf(b, " &middot; afgeleverd in de laatste %d dagen", in->period_days);
    zv_buf_puts(b, "<br>Per veld: hoe sterk het vereist is (Niveau), door wat (Grondslag), en "
                   "de beslissingen van de minimalisatie. AVG art. 5 lid 1 onder c.</div>");
    summary(b, r);
    unused_sources(b, r);
    for (size_t d = 0; d < in->ndests; d++)
        destination(b, r, d);
    zv_buf_puts(b, "<p class=\"meta\">Gegenereerd door zinvolctl audit. Telling behouden / "
                   "weggelaten / niet van toepassing / ontbreekt: beslissingen van de "
                   "minimalisatie sinds de start van de opslag; afgeleverd: berichten in de "
                   "periode.</p></body></html>\n");
    return b->oom ? -1 : 0;
}
