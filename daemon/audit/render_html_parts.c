/*
 * The parts of the auditor's page that answer first: legally required or
 * not per destination (with the chain and what is unverified), the legend,
 * the destination x field grid and the weekly trend.  Inline SVG and CSS
 * only; every text from a config or catalogue is escaped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render_html.h"

const char *const ZV_HTML_LEVEL_COLOUR[ZV_LEVEL_COUNT] = {
    "#1b5e20", "#2e7d32", "#00695c", "#8d6e00", "#bf360c", "#b71c1c", "#4e342e"};
const char *const ZV_HTML_FLAG_COLOUR[ZV_FLAG_COUNT] = {"#b71c1c", "#6a1b9a", "#5d4037",
                                                        "#1565c0", "#bf360c", "#ad1457",
                                                        "#00838f"};

static const char *const LEVEL_ABBR[ZV_LEVEL_COUNT] = {"W", "S", "T", "C", "SA", "E", "-"};

static const char *const LEVEL_EXPLAIN[ZV_LEVEL_COUNT] = {
    "een wet of regeling noemt het gegeven",
    ("de berichtstandaard vraagt het; wettelijk verplicht alleen als een regeling de standaard "
     "voor deze bestemming voorschrijft"),
    "beleid van een toezichthouder of uitvoerder, zonder wettelijke grondslag",
    "gevraagd in een contract of overeenkomst",
    "gevraagd in een sectorafspraak of kwaliteitskader",
    "eigen keuze van de organisatie",
    "niemand vraagt erom"};

static const char *const FLAG_EXPLAIN[ZV_FLAG_COUNT] = {
    "gevraagd op contract-, sector- of eigen niveau: niet wettelijk vereist",
    "hetzelfde gegeven van dezelfde cliënt ging naar meer dan één partij",
    "uit de bron overgenomen, maar door geen enkele bestemming vereist",
    "de ontvanger kan het afleiden uit wat hij al heeft",
    "vaker verzonden dan de grondslag vraagt",
    "buiten het wettelijk maximum van de bestemming",
    ("een record per cliënt voor statistiek of monitoring: tellingen zonder persoonsgegevens "
     "(een signaalset) beantwoorden dezelfde vragen")};

void zv_html_level_badge(zv_buf *b, zv_level l)
{
    zv_buf_printf(b, "<span class=\"lvl\" style=\"background:%s\" title=\"%s\">",
                  ZV_HTML_LEVEL_COLOUR[l], zv_level_name(l));
    zv_html_esc(b, zv_level_label_nl(l));
    zv_buf_puts(b, "</span>");
}

void zv_html_flag_badge(zv_buf *b, zv_flag_kind k)
{
    zv_buf_printf(b, "<span class=\"flag\" style=\"background:%s\" title=\"%s\">",
                  ZV_HTML_FLAG_COLOUR[k], zv_flag_id(k));
    zv_html_esc(b, zv_flag_label_nl(k));
    zv_buf_puts(b, "</span>");
}

void zv_html_verified_mark(zv_buf *b, zv_verified v)
{
    static const char *const CLS[] = {"ok", "part", "unv"};
    static const char *const TXT[] = {"geverifieerd", "deels geverifieerd", "niet geverifieerd"};
    zv_buf_printf(b, "<span class=\"v %s\">%s</span>", CLS[v], TXT[v]);
}

void zv_html_filter_css(zv_buf *b, const zv_audit_report *r)
{
    for (size_t d = 0; d < r->in->ndests; d++)
        zv_buf_printf(b, "#fd%zu:checked~.rep .row:not(.d%zu){display:none}", d, d);
    for (int l = 0; l < ZV_LEVEL_COUNT; l++)
        zv_buf_printf(b, "#fl%d:checked~.rep .row:not(.l%d){display:none}", l, l);
    for (int k = 0; k < ZV_FLAG_COUNT; k++)
        zv_buf_printf(b, "#ff%d:checked~.rep .row:not(.f%d){display:none}", k, k);
}

static void radio(zv_buf *b, const char *group, const char *id, const char *label, int checked)
{
    zv_buf_printf(b, "<input type=\"radio\" name=\"%s\" id=\"%s\"%s>", group, id,
                  checked ? " checked" : "");
    zv_buf_printf(b, "<label for=\"%s\">", id);
    zv_html_esc(b, label);
    zv_buf_puts(b, "</label>");
}

void zv_html_filter_controls(zv_buf *b, const zv_audit_report *r)
{
    char id[32];
    zv_buf_puts(b, "<p class=\"fhead\">Filter de velden en signalen hieronder op bestemming:</p>");
    radio(b, "fd", "fdall", "alle bestemmingen", 1);
    for (size_t d = 0; d < r->in->ndests; d++) {
        snprintf(id, sizeof(id), "fd%zu", d);
        radio(b, "fd", id, r->in->dests[d].name, 0);
    }
    zv_buf_puts(b, "<p class=\"fhead\">op niveau:</p>");
    radio(b, "fl", "flall", "alle niveaus", 1);
    for (int l = 0; l < ZV_LEVEL_COUNT; l++) {
        snprintf(id, sizeof(id), "fl%d", l);
        radio(b, "fl", id, zv_level_label_nl((zv_level)l), 0);
    }
    zv_buf_puts(b, "<p class=\"fhead\">op signaal:</p>");
    radio(b, "ff", "ffall", "alle", 1);
    for (int k = 0; k < ZV_FLAG_COUNT; k++) {
        snprintf(id, sizeof(id), "ff%d", k);
        radio(b, "ff", id, zv_flag_label_nl((zv_flag_kind)k), 0);
    }
}

/* The distinct links behind the legally required fields of a destination. */
static void dest_chain(zv_buf *b, const zv_audit_report *r, size_t d)
{
    const zv_link *seen[64];
    size_t n = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        if (r->rows[i].dest != d || !r->rows[i].selected) continue;
        zv_audit_legal lg;
        zv_audit_legal_of(r, i, &lg);
        for (size_t k = 0; lg.required && k < lg.nlinks; k++) {
            size_t j = 0;
            while (j < n && strcmp(seen[j]->instrument, lg.links[k]->instrument) != 0)
                j++;
            if (j == n && n < 64) seen[n++] = lg.links[k];
        }
    }
    if (!n) {
        zv_buf_puts(b, "&ndash;");
        return;
    }
    zv_buf_puts(b, "<ul class=\"chain\">");
    for (size_t j = 0; j < n; j++) {
        zv_buf_puts(b, "<li>");
        zv_html_esc(b, seen[j]->instrument);
        zv_buf_puts(b, " ");
        zv_html_verified_mark(b, seen[j]->verified);
        zv_buf_puts(b, "</li>");
    }
    zv_buf_puts(b, "</ul>");
}

static void dest_routes(zv_buf *b, const zv_audit_report *r, size_t d, int required)
{
    size_t by[ZV_ROUTE_NONE + 1] = {0};
    for (size_t i = 0; i < r->nrows; i++) {
        if (r->rows[i].dest != d || !r->rows[i].selected) continue;
        zv_audit_legal lg;
        zv_audit_legal_of(r, i, &lg);
        if (lg.required == required) by[lg.route]++;
    }
    int any = 0;
    for (int k = 0; k <= ZV_ROUTE_NONE; k++) {
        if (!by[k]) continue;
        zv_buf_printf(b, "%s%zu ", any ? "<br>" : "", by[k]);
        zv_html_esc(b, zv_route_label_nl((zv_route)k));
        any = 1;
    }
}

void zv_html_legal_split(zv_buf *b, const zv_audit_report *r)
{
    zv_buf_puts(
        b, "<section id=\"wettelijk\"><h2>Wettelijk verplicht of niet?</h2>"
           "<p>Per bestemming: van de velden die worden verzonden, hoeveel een wet of "
           "regeling vereist (rechtstreeks, of doordat een regeling de berichtstandaard "
           "voor deze bestemming voorschrijft), en langs welke weg de rest wordt "
           "gevraagd. Schakels die niet zijn geverifieerd staan erbij.</p>"
           "<div class=\"scroll\"><table class=\"split\"><colgroup><col style=\"width:14%\"><col "
           "style=\"width:24%\"><col style=\"width:24%\"><col style=\"width:38%\">"
           "</colgroup><thead><tr><th scope=\"col\">"
           "Bestemming</th><th scope=\"col\">Wettelijk verplicht</th><th scope=\"col\">"
           "Niet wettelijk verplicht</th><th scope=\"col\">Keten</th></tr></thead><tbody>");
    for (size_t d = 0; d < r->in->ndests; d++) {
        size_t req = 0, unv = 0, notreq = 0;
        const char *note = NULL;
        for (size_t i = 0; i < r->nrows; i++) {
            if (r->rows[i].dest != d || !r->rows[i].selected) continue;
            zv_audit_legal lg;
            zv_audit_legal_of(r, i, &lg);
            if (lg.required) {
                req++;
                unv += (size_t)lg.unverified;
            } else {
                notreq++;
            }
            if (!note) note = lg.note;
        }
        zv_buf_puts(b, "<tr><th scope=\"row\">");
        zv_html_esc(b, r->in->dests[d].name);
        if (r->in->dests[d].aggregate) {
            zv_buf_puts(b, "</th><td colspan=\"3\" class=\"aggr\"><b class=\"big\">0</b> "
                           "persoonsgegevens: deze bestemming krijgt alleen tellingen (kleine "
                           "aantallen onderdrukt); de velden van haar catalogus worden gelezen "
                           "om te tellen, niet verzonden.</td></tr>");
            continue;
        }
        zv_buf_printf(b, "</th><td data-label=\"Wettelijk verplicht\"><b class=\"big\">%zu</b>",
                      req);
        if (unv)
            zv_buf_printf(b, "<br>waarvan %zu met een schakel die niet volledig is geverifieerd",
                          unv);
        zv_buf_puts(b, "<br>");
        dest_routes(b, r, d, 1);
        zv_buf_printf(
            b, "</td><td data-label=\"Niet wettelijk verplicht\"><b class=\"big\">%zu</b><br>",
            notreq);
        dest_routes(b, r, d, 0);
        zv_buf_puts(b, "</td><td data-label=\"Keten\">");
        dest_chain(b, r, d);
        if (note) {
            zv_buf_puts(b, "<p class=\"note\">");
            zv_html_esc(b, note);
            zv_buf_puts(b, "</p>");
        }
        zv_buf_puts(b, "</td></tr>");
    }
    zv_buf_puts(b, "</tbody></table></div></section>");
}

void zv_html_legend(zv_buf *b)
{
    zv_buf_puts(b, "<section id=\"legenda\"><h2>Legenda</h2><div class=\"legendgrid\">"
                   "<div><h3>Niveaus</h3><dl>");
    for (int l = 0; l < ZV_LEVEL_COUNT; l++) {
        zv_buf_printf(b, "<dt><span class=\"cell\" style=\"background:%s\">%s</span> ",
                      ZV_HTML_LEVEL_COLOUR[l], LEVEL_ABBR[l]);
        zv_html_esc(b, zv_level_label_nl((zv_level)l));
        zv_buf_puts(b, "</dt><dd>");
        zv_html_esc(b, LEVEL_EXPLAIN[l]);
        zv_buf_puts(b, "</dd>");
    }
    zv_buf_puts(b, "</dl></div><div><h3>Signalen</h3><dl>");
    for (int k = 0; k < ZV_FLAG_COUNT; k++) {
        zv_buf_puts(b, "<dt>");
        zv_html_flag_badge(b, (zv_flag_kind)k);
        zv_buf_puts(b, "</dt><dd>");
        zv_html_esc(b, FLAG_EXPLAIN[k]);
        zv_buf_puts(b, "</dd>");
    }
    zv_buf_puts(b, "</dl><h3>Verificatie</h3><dl><dt>");
    zv_html_verified_mark(b, ZV_VERIFIED);
    zv_buf_puts(b, "</dt><dd>tegen de tekst van de regeling gecontroleerd</dd><dt>");
    zv_html_verified_mark(b, ZV_PARTLY);
    zv_buf_puts(b, "</dt><dd>deels gelezen, of via de toelichting</dd><dt>");
    zv_html_verified_mark(b, ZV_UNVERIFIED);
    zv_buf_puts(b, "</dt><dd>niet gevonden in de gelezen bronnen: niet op vertrouwen</dd></dl>"
                   "</div></div></section>");
}

void zv_html_grid(zv_buf *b, const zv_audit_report *r)
{
    zv_buf_puts(b, "<section id=\"raster\"><h2>Wat gaat waarheen</h2><p>Per veld en "
                   "bestemming het niveau waarop het wordt gevraagd; doorgestreept: gevraagd, "
                   "maar onder de drempel en dus niet verzonden; #: alleen gelezen om te tellen "
                   "(de bestemming krijgt tellingen, geen persoonsgegevens).</p><div class=\"scroll\">"
                   "<table class=\"grid\"><thead><tr><th scope=\"col\">Veld</th>");
    for (size_t d = 0; d < r->in->ndests; d++) {
        zv_buf_puts(b, "<th scope=\"col\" class=\"gd\">");
        zv_html_esc(b, r->in->dests[d].name);
        zv_buf_puts(b, "</th>");
    }
    zv_buf_puts(b, "</tr></thead><tbody>");
    for (int f = 0; f < ZV_FIELD_COUNT; f++) {
        int any = 0;
        for (size_t i = 0; i < r->nrows && !any; i++)
            any = r->rows[i].entry->field == f;
        if (!any) continue;
        zv_buf_puts(b, "<tr><th scope=\"row\"><code>");
        zv_html_esc(b, zv_field_def_of((zv_field_id)f)->name);
        zv_buf_puts(b, "</code></th>");
        for (size_t d = 0; d < r->in->ndests; d++) {
            const zv_audit_row *best = NULL;
            for (size_t i = 0; i < r->nrows; i++) {
                const zv_audit_row *row = &r->rows[i];
                if (row->dest != d || row->entry->field != f) continue;
                if (!best || row->entry->level < best->entry->level) best = row;
            }
            if (!best) {
                zv_buf_puts(b, "<td></td>");
                continue;
            }
            zv_level l = best->entry->level;
            if (best->read) { /* counted, never sent: no level colour to suggest it leaves */
                zv_buf_puts(b, "<td><span class=\"cell read\" title=\"read to count, not "
                               "sent\">#</span></td>");
                continue;
            }
            zv_buf_printf(b,
                          "<td><span class=\"cell%s\" style=\"background:%s\" title=\"%s%s\">%s"
                          "</span></td>",
                          best->selected ? "" : " unsent", ZV_HTML_LEVEL_COLOUR[l],
                          zv_level_name(l), best->selected ? "" : ", below the threshold",
                          LEVEL_ABBR[l]);
        }
        zv_buf_puts(b, "</tr>");
    }
    zv_buf_puts(b, "</tbody></table></div></section>");
}

void zv_html_trend(zv_buf *b, const zv_audit_report *r)
{
    const zv_audit_input *in = r->in;
    zv_buf_puts(b, "<section id=\"trend\"><h2>Verzonden en in quarantaine per week</h2>");
    if (!in->nweeks) {
        zv_buf_puts(b, "<p>Geen gegevens over de periode.</p></section>");
        return;
    }
    int64_t max = 1;
    for (size_t w = 0; w < in->nweeks; w++) {
        if (in->weeks[w].sends > max) max = in->weeks[w].sends;
        if (in->weeks[w].quarantined > max) max = in->weeks[w].quarantined;
    }
    const double W = 800, H = 160, bw = W / (double)in->nweeks;
    zv_buf_printf(b,
                  "<svg class=\"trend\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
                  "aria-label=\"Verzonden berichten en quarantaine per week\">",
                  W, H + 20);
    for (size_t w = 0; w < in->nweeks; w++) {
        const zv_audit_week *wk = &in->weeks[w];
        double hs = H * (double)wk->sends / (double)max;
        double hq = H * (double)wk->quarantined / (double)max;
        char day[16];
        time_t t = (time_t)wk->start;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(day, sizeof(day), "%d-%m", &tm);
        zv_buf_printf(b,
                      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#1565c0\">"
                      "<title>week van %s: %lld verzonden</title></rect>"
                      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#bf360c\">"
                      "<title>week van %s: %lld in quarantaine</title></rect>",
                      w * bw + 1, H - hs, bw / 2 - 1, hs, day, (long long)wk->sends,
                      w * bw + bw / 2, H - hq, bw / 2 - 1, hq, day, (long long)wk->quarantined);
        if (in->nweeks <= 16 || w % 4 == 0)
            zv_buf_printf(b, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\">%s</text>", w * bw + 1,
                          H + 14, day);
    }
    zv_buf_puts(b, "</svg><p class=\"legend\"><span><i class=\"sw\" style=\"background:#1565c0\">"
                   "</i>verzonden berichten</span><span><i class=\"sw\" "
                   "style=\"background:#bf360c\"></i>in quarantaine</span></p></section>");
}
