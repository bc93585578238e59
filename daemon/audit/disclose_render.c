/*
 * Renderings of a disclosure: plain Dutch text for the client, JSON for
 * systems, a self-contained HTML page, and PDF (the HTML printed by headless
 * Chromium, which keeps one layout for screen and paper).
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zinvol/json.h>
#include <zinvol/util.h>

#include "client_key.h"
#include "disclose.h"

typedef struct dfield {
    char *name, *label, *level, *citation, *value; /* value NULL: not retained */
} dfield;

typedef struct dmsg {
    int64_t at;
    char *destination, *format, *message, *state, *reason;
    dfield *f;
    size_t nf;
} dmsg;

struct zv_disclosure {
    const zv_config *cfg;
    const zv_audit_input *in;
    const zv_disclose_opts *o;
    dmsg *m;
    size_t n, cap;
};

static const char *const LEVEL_EXPLAIN[ZV_LEVEL_COUNT] = {
    "een wet of regeling schrijft voor dat dit gegeven wordt verstrekt.",
    ("de landelijke berichtstandaard (iStandaarden) vraagt dit gegeven; of de standaard zelf "
     "wettelijk is voorgeschreven, staat bij de grondslag."),
    "een toezichthouder of uitvoeringsorgaan vraagt dit, zonder dat een wet het voorschrijft.",
    "de overeenkomst tussen uw zorgaanbieder en de financier vraagt dit gegeven.",
    "een afspraak of kwaliteitskader in de zorgsector vraagt dit gegeven.",
    "uw zorgaanbieder heeft er zelf voor gekozen dit gegeven te verstrekken.",
    "voor dit gegeven is geen grondslag vastgelegd."};

static char *sdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

zv_disclosure *zv_disclose_new(const zv_config *cfg, const zv_audit_input *in,
                               const zv_disclose_opts *o)
{
    zv_disclosure *d = calloc(1, sizeof(*d));
    if (d) *d = (zv_disclosure){.cfg = cfg, .in = in, .o = o};
    return d;
}

static const zv_audit_dest *dest_of(const zv_disclosure *d, const char *name)
{
    for (size_t i = 0; d->in && name && i < d->in->ndests; i++)
        if (strcmp(d->in->dests[i].name, name) == 0) return &d->in->dests[i];
    return NULL;
}

static const char *citation_of(const zv_audit_dest *ad, const char *msg, int field)
{
    for (size_t i = 0; ad && msg && i < ad->nmsgs; i++) {
        if (strcmp(ad->msgs[i].message, msg) != 0) continue;
        const zv_cat_entry *e = zv_catalogue_find(ad->msgs[i].cat, field);
        return e ? e->citation : NULL;
    }
    return NULL;
}

static int add_fields(zv_disclosure *d, dmsg *m, const zv_disclosed *x)
{
    const zv_audit_dest *ad = dest_of(d, x->destination);
    char err[64];
    /* The citations stored when the message was made; entries from before
     * they were stored show the current catalogue's. */
    zv_json_doc *cites =
        x->citations ? zv_json_parse(x->citations, strlen(x->citations), 0, err, sizeof(err))
                     : NULL;
    const zv_json *croot = cites ? zv_json_root(cites) : NULL;
    zv_json_doc *vals =
        x->values_json ? zv_json_parse(x->values_json, strlen(x->values_json), 0, err, sizeof(err))
                       : NULL;
    const zv_json *vroot = vals ? zv_json_root(vals) : NULL;
    for (const char *p = x->fields; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        char name[128], level[32];
        snprintf(name, sizeof(name), "%.*s", (int)(eq ? eq - p : (long)len), p);
        snprintf(level, sizeof(level), "%.*s", eq ? (int)(len - (size_t)(eq - p) - 1) : 4,
                 eq ? eq + 1 : "none");
        dfield *nf = realloc(m->f, (m->nf + 1) * sizeof(*nf));
        if (!nf) {
            zv_json_free(vals);
            zv_json_free(cites);
            return -1;
        }
        m->f = nf;
        int id = zv_field_by_name(name);
        const zv_field_def *def = id >= 0 ? zv_field_def_of((zv_field_id)id) : NULL;
        size_t vlen = 0;
        const char *v = vroot ? zv_json_str(zv_json_get(vroot, name), &vlen) : NULL;
        const char *cite = croot ? zv_json_str(zv_json_get(croot, name), NULL)
                           : id >= 0 ? citation_of(ad, x->message, id)
                                     : NULL;
        m->f[m->nf++] = (dfield){sdup(name), sdup(def ? def->description : name), sdup(level),
                                 sdup(cite), v ? strndup(v, vlen) : NULL};
        p = end ? end + 1 : NULL;
    }
    zv_json_free(vals);
    zv_json_free(cites);
    return 0;
}

int zv_disclose_add(zv_disclosure *d, const zv_disclosed *x)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        dmsg *nm = realloc(d->m, cap * sizeof(*nm));
        if (!nm) return -1;
        d->m = nm;
        d->cap = cap;
    }
    const zv_audit_dest *ad = dest_of(d, x->destination);
    dmsg *m = &d->m[d->n++];
    *m = (dmsg){.at = x->at,
                .destination = sdup(x->destination),
                .format = sdup(ad ? ad->format : NULL),
                .message = sdup(x->message),
                .state = sdup(x->state),
                .reason = sdup(x->dead_reason)};
    return add_fields(d, m, x);
}

void zv_disclose_free(zv_disclosure *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) {
        dmsg *m = &d->m[i];
        for (size_t j = 0; j < m->nf; j++) {
            free(m->f[j].name);
            free(m->f[j].label);
            free(m->f[j].level);
            free(m->f[j].citation);
            free(m->f[j].value);
        }
        free(m->f);
        free(m->destination);
        free(m->format);
        free(m->message);
        free(m->state);
        free(m->reason);
    }
    free(d->m);
    free(d);
}

static const char *state_nl(const char *s)
{
    if (!s) return "onbekend";
    if (!strcmp(s, "delivered")) return "afgeleverd";
    if (!strcmp(s, "queried")) return "opgevraagd bij ons register en beantwoord";
    if (!strcmp(s, "pending")) return "wacht op verzending";
    if (!strcmp(s, "inflight")) return "wordt nu verzonden";
    if (!strcmp(s, "dead")) return "niet afgeleverd (geweigerd of verlopen)";
    if (!strcmp(s, "dropped")) return "door de beheerder verwijderd, niet verzonden";
    return s;
}

static zv_level level_of(const char *name)
{
    int l = zv_level_by_name(name);
    return l < 0 ? ZV_LEVEL_NONE : (zv_level)l;
}

static void when(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm);
}

static void period(const zv_disclose_opts *o, char *buf, size_t len)
{
    char a[32] = "het begin", b[32] = "nu";
    if (o->from) when(o->from, a, sizeof(a));
    if (o->to) when(o->to, b, sizeof(b));
    snprintf(buf, len, "%s tot %s", a, b);
}

static void masked(const zv_disclose_opts *o, char *buf, size_t len)
{
    zv_bsn_mask(o->bsn, buf, len);
}

static void render_text(const zv_disclosure *d, zv_buf *b)
{
    char mb[64], per[96], t[32];
    masked(d->o, mb, sizeof(mb));
    period(d->o, per, sizeof(per));
    zv_buf_printf(b, "Welke gegevens over u zijn verstrekt\n\n");
    zv_buf_printf(b, "Cliënt (BSN): %s\nPeriode: %s\n", mb, per);
    if (d->cfg->org_name)
        zv_buf_printf(b, "Zorgaanbieder: %s%s%s%s\n", d->cfg->org_name,
                      d->cfg->org_agb ? " (AGB " : "", d->cfg->org_agb ? d->cfg->org_agb : "",
                      d->cfg->org_agb ? ")" : "");
    zv_buf_printf(b, "Aantal berichten: %zu\n", d->n);
    for (size_t i = 0; i < d->n; i++) {
        const dmsg *m = &d->m[i];
        when(m->at, t, sizeof(t));
        zv_buf_printf(b, "\n%zu. %s: bericht %s aan %s: %s\n", i + 1, t,
                      m->message ? m->message : "?", m->destination, state_nl(m->state));
        if (m->reason) zv_buf_printf(b, "   Reden: %s\n", m->reason);
        for (size_t j = 0; j < m->nf; j++) {
            const dfield *f = &m->f[j];
            zv_buf_printf(b, "   - %s: %s\n", f->label,
                          f->value ? f->value
                          : m->state && !strcmp(m->state, "queried")
                              ? "(waarde zoals die toen in het register stond)"
                              : "(waarde niet meer bewaard: bewaartermijn verstreken)");
            zv_buf_printf(b, "     waarom: %s%s%s\n", zv_level_label_nl(level_of(f->level)),
                          f->citation ? ", " : "", f->citation ? f->citation : "");
        }
    }
    zv_buf_printf(b, "\nWat de redenen betekenen\n");
    for (int l = 0; l < ZV_LEVEL_COUNT; l++)
        zv_buf_printf(b, "- %s: %s\n", zv_level_label_nl((zv_level)l), LEVEL_EXPLAIN[l]);
}

static void render_json(const zv_disclosure *d, zv_buf *b)
{
    zv_jw *w = zv_jw_new(1);
    char mb[64];
    masked(d->o, mb, sizeof(mb));
    zv_jw_obj_open(w);
    zv_jw_key(w, "client");
    zv_jw_str(w, mb);
    zv_jw_key(w, "from");
    if (d->o->from)
        zv_jw_int(w, d->o->from);
    else
        zv_jw_null(w);
    zv_jw_key(w, "to");
    if (d->o->to)
        zv_jw_int(w, d->o->to);
    else
        zv_jw_null(w);
    zv_jw_key(w, "messages");
    zv_jw_arr_open(w);
    for (size_t i = 0; i < d->n; i++) {
        const dmsg *m = &d->m[i];
        zv_jw_obj_open(w);
        zv_jw_key(w, "at");
        zv_jw_int(w, m->at);
        zv_jw_key(w, "destination");
        zv_jw_str(w, m->destination);
        zv_jw_key(w, "format");
        zv_jw_str(w, m->format);
        zv_jw_key(w, "message");
        zv_jw_str(w, m->message);
        zv_jw_key(w, "state");
        zv_jw_str(w, m->state);
        zv_jw_key(w, "reason");
        zv_jw_str(w, m->reason);
        zv_jw_key(w, "fields");
        zv_jw_arr_open(w);
        for (size_t j = 0; j < m->nf; j++) {
            const dfield *f = &m->f[j];
            zv_jw_obj_open(w);
            zv_jw_key(w, "field");
            zv_jw_str(w, f->name);
            zv_jw_key(w, "label");
            zv_jw_str(w, f->label);
            zv_jw_key(w, "level");
            zv_jw_str(w, f->level);
            zv_jw_key(w, "citation");
            zv_jw_str(w, f->citation);
            zv_jw_key(w, "value");
            zv_jw_str(w, f->value);
            zv_jw_obj_close(w);
        }
        zv_jw_arr_close(w);
        zv_jw_obj_close(w);
    }
    zv_jw_arr_close(w);
    zv_jw_key(w, "levels");
    zv_jw_obj_open(w);
    for (int l = 0; l < ZV_LEVEL_COUNT; l++) {
        zv_jw_key(w, zv_level_name((zv_level)l));
        zv_jw_str(w, LEVEL_EXPLAIN[l]);
    }
    zv_jw_obj_close(w);
    zv_jw_obj_close(w);
    const char *s;
    size_t len;
    if (zv_jw_result(w, &s, &len) == 0) zv_buf_append(b, s, len);
    zv_buf_puts(b, "\n");
    zv_jw_free(w);
}

static const char CSS[] =
    "body{font-family:system-ui,sans-serif;max-width:56rem;margin:1.5rem auto;padding:0 1rem;"
    "color:#1a1a1a;line-height:1.45}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}"
    "table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}th,td{text-align:left;"
    "padding:.35rem .5rem;border-bottom:1px solid #ccc;vertical-align:top;overflow-wrap:anywhere}"
    "th{background:#eef2f5}.meta{color:#444}.msg{border:1px solid #bbb;border-radius:6px;"
    "padding:.5rem 1rem;margin:1rem 0;break-inside:avoid}.state{font-weight:600}"
    ".gone{color:#555;font-style:italic}@media print{body{margin:0;max-width:none}"
    ".msg{border-color:#888}}@media (max-width:480px){th:nth-child(3),td:nth-child(3)"
    "{display:none}}";

static void render_html(const zv_disclosure *d, zv_buf *b)
{
    char mb[64], per[96], t[32];
    masked(d->o, mb, sizeof(mb));
    period(d->o, per, sizeof(per));
    zv_buf_printf(b,
                  "<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                  "<title>Welke gegevens over u zijn verstrekt</title><style>%s</style></head>"
                  "<body><main><h1>Welke gegevens over u zijn verstrekt</h1><p class=\"meta\">"
                  "Cliënt (BSN): ",
                  CSS);
    zv_html_esc(b, mb);
    zv_buf_puts(b, "<br>Periode: ");
    zv_html_esc(b, per);
    if (d->cfg->org_name) {
        zv_buf_puts(b, "<br>Zorgaanbieder: ");
        zv_html_esc(b, d->cfg->org_name);
    }
    zv_buf_printf(b, "<br>Aantal berichten: %zu</p>", d->n);
    for (size_t i = 0; i < d->n; i++) {
        const dmsg *m = &d->m[i];
        when(m->at, t, sizeof(t));
        zv_buf_puts(b, "<section class=\"msg\"><h2>");
        zv_html_esc(b, t);
        zv_buf_puts(b, ": bericht ");
        zv_html_esc(b, m->message);
        zv_buf_puts(b, " aan ");
        zv_html_esc(b, m->destination);
        zv_buf_puts(b, "</h2><p class=\"state\">");
        zv_html_esc(b, state_nl(m->state));
        if (m->reason) {
            zv_buf_puts(b, ": ");
            zv_html_esc(b, m->reason);
        }
        zv_buf_puts(b, "</p><table><thead><tr><th scope=\"col\">Gegeven</th><th scope=\"col\">"
                       "Waarde</th><th scope=\"col\">Waarom</th></tr></thead><tbody>");
        for (size_t j = 0; j < m->nf; j++) {
            const dfield *f = &m->f[j];
            zv_buf_puts(b, "<tr><td>");
            zv_html_esc(b, f->label);
            zv_buf_puts(b, "</td><td>");
            if (f->value)
                zv_html_esc(b, f->value);
            else
                zv_buf_puts(b, "<span class=\"gone\">niet meer bewaard</span>");
            zv_buf_puts(b, "</td><td>");
            zv_html_esc(b, zv_level_label_nl(level_of(f->level)));
            if (f->citation) {
                zv_buf_puts(b, ": ");
                zv_html_esc(b, f->citation);
            }
            zv_buf_puts(b, "</td></tr>");
        }
        zv_buf_puts(b, "</tbody></table></section>");
    }
    zv_buf_puts(b, "<h2>Wat de redenen betekenen</h2><dl>");
    for (int l = 0; l < ZV_LEVEL_COUNT; l++) {
        zv_buf_puts(b, "<dt>");
        zv_html_esc(b, zv_level_label_nl((zv_level)l));
        zv_buf_puts(b, "</dt><dd>");
        zv_html_esc(b, LEVEL_EXPLAIN[l]);
        zv_buf_puts(b, "</dd>");
    }
    zv_buf_puts(b, "</dl></main></body></html>\n");
}

int zv_disclose_render(const zv_disclosure *d, zv_buf *b)
{
    const char *f = d->o->format;
    if (!strcmp(f, "json"))
        render_json(d, b);
    else if (!strcmp(f, "text"))
        render_text(d, b);
    else
        render_html(d, b);
    return b->oom ? -1 : 0;
}

static int collect_cb(const zv_disclosed *m, void *arg)
{
    return zv_disclose_add(arg, m) < 0;
}

int zv_disclose_build(const zv_config *cfg, const zv_audit_input *in, zv_store *store,
                      const zv_disclose_opts *o, zv_buf *out, char *err, size_t errlen)
{
    unsigned char secret[ZV_CLIENT_SECRET_LEN];
    char why[512];
    if (zv_client_secret_load(cfg->state_dir, 0, secret, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "client-key secret: %s", why);
        return -1;
    }
    char key[ZV_CLIENT_KEY_HEX];
    if (!o->bsn || zv_client_key(secret, o->bsn, strlen(o->bsn), key) < 0) {
        snprintf(err, errlen, "not a BSN (8 or 9 digits expected)");
        return -1;
    }
    zv_disclosure *d = zv_disclose_new(cfg, in, o);
    int rc = d ? zv_store_disclose(store, key, o->from, o->to, collect_cb, d) : -1;
    if (rc < 0)
        snprintf(err, errlen, "%s", d ? zv_store_errmsg(store) : "out of memory");
    else if (zv_disclose_render(d, out) < 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    zv_disclose_free(d);
    return rc;
}

int zv_disclose_date_bound(const char *s, int end_of_day, int64_t *out)
{
    int64_t days;
    if (!s || strlen(s) != 10 || zv_date_days(s, &days) != 0) return -1;
    *out = days * 86400 + (end_of_day ? 86399 : 0);
    return 0;
}
