/* The audit report as one self-contained HTML page for auditors: inline CSS
 * and SVG only (no scripts, fonts or images from elsewhere), Dutch labels,
 * English ids.  It opens with the answer users ask first (legally required
 * or not, and by which chain), then the legend, the destination x field
 * grid, the weekly trend, and the details, which can be filtered by
 * destination, level and signal with plain radio buttons.  The same page
 * prints (and becomes the PDF): filters hidden, sections kept together. */
#include <stdlib.h>
#include <string.h>

#include "render_html.h"

static void tag_text(zv_buf *b, const char *tag, const char *text)
{
    zv_buf_printf(b, "<%s>", tag);
    zv_html_esc(b, text);
    zv_buf_printf(b, "</%s>", tag);
}

static const char *CSS =
    "*{box-sizing:border-box}body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,"
    "sans-serif;margin:0;color:#1a1a1a;background:#fafafa;line-height:1.4}"
    "main{max-width:1200px;margin:0 auto;padding:16px}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:20px;margin:28px 0 8px;"
    "border-bottom:2px solid #bbb;padding-bottom:4px}h3{font-size:16px;margin:14px 0 6px}"
    ".meta{color:#444;margin-bottom:12px}.note{color:#333;font-size:12px;margin:4px 0}"
    ".cards{display:flex;gap:10px;flex-wrap:wrap;margin:10px 0}"
    ".card{background:#fff;border:1px solid #ccc;border-radius:6px;padding:8px 12px;"
    "min-width:130px}.card b,.big{display:block;font-size:22px}"
    "table{border-collapse:collapse;width:100%;background:#fff;font-size:13px;"
    "margin-bottom:12px;table-layout:fixed}"
    "th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top;"
    "overflow-wrap:anywhere}th{background:#e8ecef;font-size:12px}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".lvl,.flag{display:inline-block;padding:1px 6px;margin:1px;border-radius:3px;color:#fff;"
    "font-size:12px}.v{font-size:11px;padding:0 4px;border-radius:3px;border:1px solid}"
    ".v.ok{color:#1b5e20}.v.part{color:#6d4c00}.v.unv{color:#b71c1c;font-weight:600}"
    "ul.chain{margin:0;padding-left:16px}.unsent td{color:#555}"
    ".legend span{margin-right:14px;white-space:nowrap}"
    ".sw{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}"
    ".legendgrid{display:grid;grid-template-columns:1fr 1fr;gap:16px}dd{margin:0 0 6px 16px}"
    ".grid{table-layout:auto}.grid td{text-align:center;padding:2px}.grid .gd{font-size:11px}"
    ".cell{display:inline-block;min-width:28px;padding:2px 4px;border-radius:3px;color:#fff;"
    "font-size:12px;font-weight:600;text-align:center}.cell.unsent{opacity:.45;"
    "text-decoration:line-through}.cell.read{background:#fff;color:#00838f;"
    "border:1px solid #00838f}.aggr{color:#00602a}"
    ".scroll{overflow-x:auto}svg.trend{width:100%;height:auto;max-height:200px;background:#fff;"
    "border:1px solid #ccc}"
    "input[type=radio]{margin:0 2px 0 10px}input:focus-visible+label{outline:2px solid #1565c0}"
    ".fhead{margin:6px 0 2px;font-weight:600}.filters{background:#fff;border:1px solid #ccc;"
    "border-radius:6px;padding:6px 10px}label{font-size:13px;display:inline-block;"
    "padding:2px 0}.rep{margin-top:10px}"
    "ul.details{font-size:13px;padding-left:18px}"
    "@media (max-width:700px){.legendgrid{grid-template-columns:1fr}"
    "table.det thead{display:none}table.det td,table.det tr{display:block;width:100%}"
    "table.det tr{border-bottom:2px solid #999}table.det td{border:0}"
    "table.det td::before{content:attr(data-label) ': ';font-weight:600}"
    "table.split thead{display:none}table.split td,table.split th,table.split tr"
    "{display:block;width:100%}table.split td::before{content:attr(data-label) ': ';"
    "font-weight:600}}"
    "@media print{body{background:#fff}main{max-width:none;padding:0}.fhead,input,label"
    "{display:none}.filters{border:0;padding:0}tr,.card,#legenda{break-inside:avoid}"
    "h2,h3{break-after:avoid}"
    "table{font-size:10px}.scroll{overflow:visible}}";

/* Stacked bar of the share of requested fields per level. */
static void level_chart(zv_buf *b, const zv_audit_report *r)
{
    size_t per[ZV_LEVEL_COUNT] = {0};
    for (size_t i = 0; i < r->nrows; i++)
        per[r->rows[i].entry->level]++;
    zv_buf_puts(b, "<h3>Aandeel gevraagde velden per niveau</h3><svg width=\"100%\" height=\"28\" "
                   "viewBox=\"0 0 800 28\" preserveAspectRatio=\"none\" role=\"img\" "
                   "aria-label=\"Aandeel velden per niveau\">");
    double x = 0;
    for (int l = 0; l < ZV_LEVEL_COUNT && r->nrows; l++) {
        if (!per[l]) continue;
        double w = 800.0 * (double)per[l] / (double)r->nrows;
        zv_buf_printf(b,
                      "<rect x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"28\" fill=\"%s\">"
                      "<title>%s: %zu</title></rect>",
                      x, w, ZV_HTML_LEVEL_COLOUR[l], zv_level_name((zv_level)l), per[l]);
        x += w;
    }
    zv_buf_puts(b, "</svg><p class=\"legend\">");
    for (int l = 0; l < ZV_LEVEL_COUNT; l++) {
        zv_buf_printf(b, "<span><i class=\"sw\" style=\"background:%s\"></i>",
                      ZV_HTML_LEVEL_COLOUR[l]);
        zv_html_esc(b, zv_level_label_nl((zv_level)l));
        zv_buf_printf(b, ": %zu</span> ", per[l]);
    }
    zv_buf_puts(b, "</p>");
}

static void summary(zv_buf *b, const zv_audit_report *r)
{
    size_t sent = 0, selected = 0;
    int unknown = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        sent += r->rows[i].sent > 0;
        selected += (size_t)r->rows[i].selected;
        unknown |= r->rows[i].sent < 0;
    }
    zv_buf_puts(b, "<section id=\"samenvatting\"><h2>Samenvatting</h2><div class=\"cards\">");
    zv_buf_printf(b, "<div class=\"card\"><b>%zu</b>Bestemmingen</div>", r->in->ndests);
    zv_buf_printf(b, "<div class=\"card\"><b>%zu</b>Gevraagde velden</div>", r->nrows);
    if (unknown)
        zv_buf_printf(b, "<div class=\"card\"><b>%zu</b>Geselecteerde velden</div>", selected);
    else
        zv_buf_printf(b, "<div class=\"card\"><b>%zu</b>Verzonden velden</div>", sent);
    zv_buf_printf(b, "<div class=\"card\"><b>%zu</b>Signalen</div></div>", r->nflags);
    level_chart(b, r);
    zv_buf_puts(b, "<table><thead><tr><th scope=\"col\">Signaal</th><th scope=\"col\">id</th>"
                   "<th scope=\"col\">Aantal</th></tr></thead><tbody>");
    for (int k = 0; k < ZV_FLAG_COUNT; k++) {
        zv_buf_puts(b, "<tr><td>");
        zv_html_flag_badge(b, (zv_flag_kind)k);
        zv_buf_printf(b, "</td><td><code>%s</code></td><td class=\"n\">%zu</td></tr>",
                      zv_flag_id((zv_flag_kind)k),
                      zv_audit_flag_count(r, SIZE_MAX, (zv_flag_kind)k));
    }
    zv_buf_puts(b, "</tbody></table>");
    if (!r->in->have_flows)
        zv_buf_puts(b, "<p class=\"note\">Dubbel en te vaak zijn beoordeeld op de catalogi en "
                       "schema's: het auditspoor heeft voor deze periode geen stromen per "
                       "cliënt.</p>");
    zv_buf_puts(b, "</section>");
}

static void row_classes(zv_buf *b, const zv_audit_row *row)
{
    zv_buf_printf(b, "row d%zu l%d", row->dest, (int)row->entry->level);
    for (int k = 0; k < ZV_FLAG_COUNT; k++)
        if (row->flags & (1u << k)) zv_buf_printf(b, " f%d", k);
    if (!row->selected) zv_buf_puts(b, " unsent");
}

static void field_row(zv_buf *b, const zv_audit_report *r, size_t ri)
{
    const zv_audit_row *row = &r->rows[ri];
    const zv_cat_entry *e = row->entry;
    const zv_field_def *def = zv_field_def_of((zv_field_id)e->field);
    zv_audit_legal lg;
    zv_audit_legal_of(r, ri, &lg);
    zv_buf_puts(b, "<tr class=\"");
    row_classes(b, row);
    zv_buf_puts(b, "\"><td data-label=\"Veld\"><code>");
    zv_html_esc(b, def->name);
    zv_buf_puts(b, "</code><br>");
    zv_html_esc(b, def->description);
    zv_buf_puts(b, "<br><small>");
    zv_html_esc(b, e->element);
    zv_buf_puts(b, "</small></td><td data-label=\"Niveau\">");
    zv_html_level_badge(b, e->level);
    zv_buf_puts(b, lg.required ? "<br><b>wettelijk verplicht</b>" : "<br>niet wettelijk verplicht");
    zv_buf_puts(b, "<br><small>");
    zv_html_esc(b, zv_route_label_nl(lg.route));
    zv_buf_puts(b, "</small></td><td data-label=\"Grondslag\">");
    zv_html_esc(b, e->citation);
    if (lg.nlinks) {
        zv_buf_puts(b, "<ul class=\"chain\">");
        for (size_t k = 0; k < lg.nlinks; k++) {
            zv_buf_puts(b, "<li>");
            zv_html_esc(b, lg.links[k]->instrument);
            zv_buf_puts(b, " ");
            zv_html_verified_mark(b, lg.links[k]->verified);
            zv_buf_puts(b, "</li>");
        }
        zv_buf_puts(b, "</ul>");
    } else if (lg.required && lg.unverified) {
        zv_buf_puts(b, " ");
        zv_html_verified_mark(b, ZV_UNVERIFIED);
    }
    zv_buf_puts(b, "</td><td data-label=\"Voorwaarde, frequentie\">");
    char *cond = e->condition ? zv_cond_describe(e->condition) : NULL;
    if (cond) {
        zv_html_esc(b, cond);
        zv_buf_puts(b, "<br>");
    }
    free(cond);
    zv_html_esc(b, e->frequency);
    /* Verzonden: in a delivered payload (the trail); without a trail what
     * the threshold selects, said as such. */
    zv_buf_printf(b, "</td><td data-label=\"Verzonden\">%s</td>",
                  row->read       ? "gelezen om te tellen"
                  : row->sent > 0 ? "ja"
                  : row->sent == 0
                      ? (row->selected ? "nee (geselecteerd, niet in een bericht)" : "nee")
                  : row->selected ? "geselecteerd"
                                  : "nee");
    const zv_audit_counts *n = &row->n;
    zv_buf_printf(b,
                  "<td data-label=\"Tellingen\">behouden %lld, weggelaten %lld, n.v.t. %lld, "
                  "ontbreekt %lld<br>afgeleverd %lld bericht(en), %lld cliënt(en)</td>",
                  (long long)n->kept, (long long)n->dropped, (long long)n->not_applicable,
                  (long long)n->missing, (long long)n->delivered, (long long)n->clients);
    zv_buf_puts(b, "<td data-label=\"Signalen\">");
    for (int k = 0; k < ZV_FLAG_COUNT; k++)
        if (row->flags & (1u << k)) zv_html_flag_badge(b, (zv_flag_kind)k);
    zv_buf_puts(b, "</td></tr>");
}

static void message_table(zv_buf *b, const zv_audit_report *r, size_t d, size_t m)
{
    const zv_audit_msg *msg = &r->in->dests[d].msgs[m];
    zv_buf_puts(b, "<h3>Bericht ");
    zv_html_esc(b, msg->message);
    zv_buf_puts(b, " &middot; catalogus <code>");
    zv_html_esc(b, zv_catalogue_id(msg->cat));
    zv_buf_puts(b, "</code></h3>");
    if (zv_catalogue_max_citation(msg->cat)) {
        zv_buf_puts(b, "<p>Wettelijk maximum: ");
        zv_html_esc(b, zv_catalogue_max_citation(msg->cat));
        zv_buf_puts(b, "</p>");
    }
    zv_buf_puts(b, "<table class=\"det\"><colgroup><col style=\"width:19%\"><col "
                   "style=\"width:13%\"><col style=\"width:28%\"><col style=\"width:11%\"><col "
                   "style=\"width:7%\"><col style=\"width:13%\"><col style=\"width:9%\">"
                   "</colgroup><thead><tr><th scope=\"col\">Veld</th><th scope=\"col\">Niveau"
                   "</th><th scope=\"col\">Grondslag en keten</th><th scope=\"col\">"
                   "Voorwaarde, frequentie</th><th scope=\"col\">Verzonden</th><th "
                   "scope=\"col\">Tellingen</th><th scope=\"col\">Signalen</th></tr></thead>"
                   "<tbody>");
    for (size_t i = 0; i < r->nrows; i++)
        if (r->rows[i].dest == d && r->rows[i].msg == m) field_row(b, r, i);
    zv_buf_puts(b, "</tbody></table>");
}

static void destination(zv_buf *b, const zv_audit_report *r, size_t d)
{
    const zv_audit_dest *dest = &r->in->dests[d];
    zv_buf_puts(b, "<section><h2>Bestemming: ");
    zv_html_esc(b, dest->name);
    zv_buf_puts(b, "</h2><p class=\"meta\">Formaat <code>");
    zv_html_esc(b, dest->format);
    zv_buf_puts(b, "</code> &middot; Drempel ");
    zv_html_level_badge(b, dest->threshold);
    zv_buf_puts(b, " &middot; Verzendfrequentie <code>");
    zv_html_esc(b, dest->schedule ? dest->schedule : "event");
    zv_buf_printf(b, "</code> &middot; <b class=\"pf\">%zu persoonsgegevens</b>",
                  zv_audit_personal_fields(r, d));
    if (dest->aggregate)
        zv_buf_puts(b, " (alleen tellingen; de velden hieronder worden gelezen om te tellen en "
                       "niet verzonden)");
    zv_buf_puts(b, "</p>");
    for (size_t m = 0; m < dest->nmsgs; m++)
        message_table(b, r, d, m);
    zv_buf_puts(b, "<ul class=\"details\">");
    for (size_t i = 0; i < r->nflags; i++) {
        const zv_audit_flag *f = &r->flags[i];
        if (f->row == SIZE_MAX || r->rows[f->row].dest != d) continue;
        zv_buf_puts(b, "<li class=\"");
        row_classes(b, &r->rows[f->row]);
        zv_buf_puts(b, "\">");
        zv_html_flag_badge(b, f->kind);
        zv_buf_puts(b, " <code>");
        zv_html_esc(b, zv_field_def_of((zv_field_id)f->field)->name);
        zv_buf_puts(b, "</code> (");
        zv_html_esc(b, dest->msgs[r->rows[f->row].msg].message);
        zv_buf_puts(b, "): ");
        zv_html_esc(b, f->detail);
        zv_buf_puts(b, "</li>");
    }
    zv_buf_puts(b, "</ul></section>");
}

static void unused_sources(zv_buf *b, const zv_audit_report *r)
{
    zv_buf_puts(b, "<section><h2>Verzameld, nergens vereist</h2><table><thead><tr><th "
                   "scope=\"col\">Bron</th><th scope=\"col\">Veld</th><th scope=\"col\">"
                   "Toelichting</th></tr></thead><tbody>");
    size_t n = 0;
    for (size_t i = 0; i < r->nflags; i++) {
        const zv_audit_flag *f = &r->flags[i];
        if (f->kind != ZV_FLAG_COLLECTED_NEVER_REQUIRED) continue;
        zv_buf_puts(b, "<tr>");
        tag_text(b, "td", r->in->sources[f->source].name);
        zv_buf_puts(b, "<td><code>");
        zv_html_esc(b, zv_field_def_of((zv_field_id)f->field)->name);
        zv_buf_puts(b, "</code></td>");
        tag_text(b, "td", f->detail);
        zv_buf_puts(b, "</tr>");
        n++;
    }
    if (!n) zv_buf_puts(b, "<tr><td colspan=\"3\">Geen</td></tr>");
    zv_buf_puts(b, "</tbody></table></section>");
}

/* Verstuurd versus gevraagd: what messages sent beside what a register
 * answered when asked (only when a register answered in the period). */
static void sent_asked(zv_buf *b, const zv_audit_sva *s)
{
    zv_buf_puts(b, "<section><h2>Verstuurd versus gevraagd (iWlz netwerkmodel)</h2><p>");
    for (size_t i = 0; i < s->nregisters; i++) {
        const zv_audit_sva_register *g = &s->registers[i];
        zv_buf_puts(b, "Register <code>");
        zv_html_esc(b, g->destination);
        zv_buf_printf(b,
                      "</code>: %lld vragen beantwoord, %lld notificaties verstuurd, waarvan "
                      "%lld met gegevens%s. ",
                      (long long)g->answers, (long long)g->notifications,
                      (long long)g->notifications_with_fields,
                      g->notifications_with_fields ? " (gegevens verlieten het register ongevraagd)"
                                                   : ": gegevens gingen alleen mee als antwoord");
    }
    zv_buf_puts(b, "</p>");
    for (size_t i = 0; i < s->nparties; i++) {
        const zv_audit_sva_party *p = &s->parties[i];
        zv_buf_puts(b, "<h3>");
        zv_html_esc(b, p->party);
        zv_buf_printf(b, "</h3><p>%lld berichten met gegevens over %lld cli&euml;nten",
                      (long long)p->sent_messages, (long long)p->sent_clients);
        for (size_t k = 0; k < p->nsent_by; k++) {
            zv_buf_puts(b, k ? ", " : " (");
            zv_html_esc(b, p->sent_by[k]);
            if (k + 1 == p->nsent_by) zv_buf_puts(b, ")");
        }
        zv_buf_printf(b, "; %lld antwoorden over %lld cli&euml;nten op eigen vraag.</p>",
                      (long long)p->answers, (long long)p->asked_clients);
        zv_buf_puts(b, "<table><thead><tr><th scope=\"col\">Veld</th><th scope=\"col\">"
                       "Verstuurd (cli&euml;nten / berichten)</th><th scope=\"col\">Gevraagd "
                       "(cli&euml;nten / antwoorden)</th><th scope=\"col\">Verstuurd, nooit "
                       "gevraagd</th></tr></thead><tbody>");
        for (size_t k = 0; k < p->nfields; k++) {
            const zv_audit_sva_field *f = &p->fields[k];
            zv_buf_puts(b, "<tr><td><code>");
            zv_html_esc(b, zv_field_def_of((zv_field_id)f->field)->name);
            zv_buf_printf(
                b, "</code></td><td>%lld / %lld</td><td>%lld / %lld</td><td>%lld</td></tr>",
                (long long)f->sent_clients, (long long)f->sent_messages,
                (long long)f->asked_clients, (long long)f->answers, (long long)f->sent_not_asked);
        }
        zv_buf_puts(b, "</tbody></table>");
    }
    zv_buf_puts(b, "</section>");
}

int zv_audit_render_html(const zv_audit_report *r, zv_buf *b)
{
    const zv_audit_input *in = r->in;
    zv_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                   "<title>zinvol audit - Rapportage gegevensminimalisatie</title><style>");
    zv_buf_puts(b, CSS);
    zv_html_filter_css(b, r);
    zv_buf_puts(b, "</style></head><body><main><h1>Rapportage gegevensminimalisatie</h1>"
                   "<div class=\"meta\">");
    zv_html_esc(b, in->org_name ? in->org_name : "");
    if (in->org_agb) {
        zv_buf_puts(b, " (AGB ");
        zv_html_esc(b, in->org_agb);
        zv_buf_puts(b, ")");
    }
    zv_buf_puts(b, " &middot; opgesteld ");
    zv_html_esc(b, in->generated);
    zv_buf_printf(b, " &middot; afgeleverd in de laatste %d dagen", in->period_days);
    zv_buf_puts(b, "<br>Per veld: hoe sterk het vereist is (Niveau), door wat (Grondslag), en "
                   "de beslissingen van de minimalisatie. AVG art. 5 lid 1 onder c.</div>");
    zv_html_legal_split(b, r);
    zv_html_legend(b);
    zv_html_grid(b, r);
    zv_html_trend(b, r);
    summary(b, r);
    unused_sources(b, r);
    if (in->sva) sent_asked(b, in->sva);
    /* The radios precede .rep as its siblings: that is what the filter rules
     * select on. */
    zv_buf_puts(b, "<h2>Per bestemming</h2><div class=\"filters\">");
    zv_html_filter_controls(b, r);
    zv_buf_puts(b, "<div class=\"rep\">");
    for (size_t d = 0; d < in->ndests; d++)
        destination(b, r, d);
    zv_buf_puts(
        b, "</div></div><p class=\"meta\">Gegenereerd door zinvolctl audit. Telling behouden / "
           "weggelaten / niet van toepassing / ontbreekt: beslissingen van de "
           "minimalisatie sinds de start van de opslag; afgeleverd: berichten en "
           "cliënten in de periode.</p></main></body></html>\n");
    return b->oom ? -1 : 0;
}
