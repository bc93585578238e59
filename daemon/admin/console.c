/*
 * The web console: server-rendered HTML, no JavaScript.  Every page is built
 * from the same JSON the admin API answers (zv_admin_call), so the console
 * shows exactly what zinvolctl shows.  Actions are real <button>s in
 * <form method="post">, each carrying the per-process CSRF token; after an
 * action the browser is redirected (303) back with a notice.
 */
#include "server_int.h"
#include "store/store_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>

const char zv_console_css[] =
    ":root{--fg:#1a1a1a;--bg:#fff;--muted:#4a4a4a;--line:#c8c8c8;--accent:#00509e;"
    "--bad:#a4000f;--ok:#1d6b2a;--warn:#7a4b00}\n"
    "*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:var(--fg);"
    "background:var(--bg)}\n"
    "header{background:#12355b;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;"
    "gap:.5rem 1.5rem;align-items:center}\n"
    "header a{color:#fff}header .brand{font-weight:700;font-size:1.15rem;margin-right:1rem}\n"
    "nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}\n"
    "nav a[aria-current]{font-weight:700;text-decoration-thickness:3px}\n"
    "main{padding:1rem;max-width:1400px}h1{font-size:1.5rem;margin:.5rem 0 1rem}"
    "h2{font-size:1.2rem;margin:1.5rem 0 .5rem}\n"
    "a{color:var(--accent)}a:focus,button:focus,input:focus,select:focus{outline:3px solid "
    "#f5a300;outline-offset:2px}\n"
    ".wrap{overflow-x:auto}table{border-collapse:collapse;width:100%}th,td{text-align:left;"
    "padding:.4rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}\n"
    "th{background:#eef2f7}td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".badge{display:inline-block;padding:0 .5rem;border-radius:.75rem;font-weight:600;"
    "border:2px solid currentColor}.ok{color:var(--ok)}.bad{color:var(--bad)}"
    ".warn{color:var(--warn)}\n"
    ".notice{padding:.5rem 1rem;border-left:6px solid var(--accent);background:#eef2f7}"
    ".notice.bad{border-color:var(--bad);background:#fbeaea}\n"
    "form.inline{display:inline}button{font:inherit;padding:.3rem .9rem;border-radius:.3rem;"
    "border:2px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;"
    "min-height:44px}\n"
    "button.danger{background:#fff;color:var(--bad);border-color:var(--bad)}\n"
    "fieldset{border:1px solid var(--line);display:flex;flex-wrap:wrap;gap:.75rem;"
    "align-items:flex-end;padding:.75rem}\n"
    "label{display:block;font-weight:600}input,select{font:inherit;padding:.3rem;"
    "min-height:44px;border:2px solid #5c5c5c;border-radius:.3rem}\n"
    ".login{max-width:24rem;margin:3rem auto}.login input{width:100%;margin:.25rem 0 1rem}\n"
    ".muted{color:var(--muted)}code{word-break:break-all}header .who{color:#dfe6ee}\n"
    "@media (max-width:700px){table.cards thead{position:absolute;left:-9999px}"
    "table.cards tr{display:block;border:1px solid var(--line);margin:0 0 .75rem;"
    "padding:.25rem}table.cards td{display:block;border:0;padding:.2rem .4rem}"
    "table.cards td::before{content:attr(data-label) \": \";font-weight:600}"
    "td.num{text-align:left}}\n";

static void url_esc(zv_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.')
            zv_buf_append(b, p, 1);
        else
            zv_buf_printf(b, "%%%02X", *p);
    }
}

/* ---- JSON from the API ---- */

static zv_json_doc *call(const zv_console_req *r, const char *method, const char *path,
                         const char *query, int *status, char *err, size_t errlen)
{
    zv_admin_req ar = {.method = method, .path = path, .query = query, .who = r->who};
    zv_buf out;
    zv_buf_init(&out);
    const char *ctype;
    *status = zv_admin_call(r->env, &ar, &out, &ctype);
    zv_json_doc *d = out.data ? zv_json_parse(out.data, out.len, 0, err, errlen) : NULL;
    zv_buf_free(&out);
    return d;
}

static const char *s_of(const zv_json *o, const char *key)
{
    return zv_json_str(zv_json_get(o, key), NULL);
}

static int64_t i_of(const zv_json *o, const char *key)
{
    int64_t v = 0;
    zv_json_int(zv_json_get(o, key), &v);
    return v;
}

static void cell(zv_buf *b, const char *label, const char *v)
{
    zv_buf_puts(b, "<td data-label=\"");
    zv_console_esc(b, label);
    zv_buf_puts(b, "\">");
    if (v && *v)
        zv_console_esc(b, v);
    else
        zv_buf_puts(b, "<span class=\"muted\">-</span>");
    zv_buf_puts(b, "</td>");
}

static void cell_num(zv_buf *b, const char *label, int64_t v)
{
    zv_buf_printf(b, "<td class=\"num\" data-label=\"%s\">%lld</td>", label, (long long)v);
}

/* ---- page frame ---- */

static void page_open(const zv_console_req *r, zv_buf *b, const char *title, const char *current)
{
    static const char *const links[][2] = {{"/", "Overview"},       {"/quarantine", "Quarantine"},
                                           {"/dlq", "Dead letter"}, {"/outbox", "Outbox"},
                                           {"/audit", "Audit"},     {"/disclose", "Disclosure"}};
    zv_buf_printf(b,
                  "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                  "<title>%s - zinvol</title><link rel=\"stylesheet\" href=\"/console.css\">"
                  "</head><body><header><span class=\"brand\">zinvol</span>"
                  "<nav aria-label=\"Main\"><ul>",
                  title);
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
        zv_buf_printf(b, "<li><a href=\"%s\"%s>%s</a></li>", links[i][0],
                      strcmp(links[i][0], current) == 0 ? " aria-current=\"page\"" : "",
                      links[i][1]);
    zv_buf_puts(b, "</ul></nav><span class=\"who\">Signed in: ");
    zv_console_esc(b, r->who);
    zv_buf_printf(b, "</span></header><main id=\"main\"><h1>%s</h1>", title);
    char notice[512];
    const char *n = zv_admin_query(r->query, "notice", notice, sizeof(notice));
    char bad[8];
    const char *isbad = zv_admin_query(r->query, "bad", bad, sizeof(bad));
    if (n) {
        zv_buf_printf(b, "<p class=\"notice%s\" role=\"status\">", isbad ? " bad" : "");
        zv_console_esc(b, n);
        zv_buf_puts(b, "</p>");
    }
}

static void page_close(zv_buf *b)
{
    zv_buf_puts(b, "</main></body></html>\n");
}

static void action_form(const zv_console_req *r, zv_buf *b, const char *what, int64_t id,
                        const char *action, const char *label, int danger)
{
    zv_buf_printf(b,
                  "<form class=\"inline\" method=\"post\" action=\"/ui/%s/%lld/%s\">"
                  "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                  "<button type=\"submit\"%s aria-label=\"%s %s %lld\">%s</button></form> ",
                  what, (long long)id, action, r->csrf, danger ? " class=\"danger\"" : "", label,
                  what, (long long)id, label);
}

/* ---- overview ---- */

static void circuit_badge(zv_buf *b, const char *c)
{
    const char *cls = !c                     ? "muted"
                      : !strcmp(c, "closed") ? "ok"
                      : !strcmp(c, "open")   ? "bad"
                                             : "warn";
    zv_buf_printf(b, "<span class=\"badge %s\">", cls);
    zv_console_esc(b, c ? c : "unknown");
    zv_buf_puts(b, "</span>");
}

static int overview(const zv_console_req *r, zv_buf *b)
{
    int st;
    char err[256];
    zv_json_doc *d = call(r, "GET", "/api/status", NULL, &st, err, sizeof(err));
    const zv_json *s = d ? zv_json_root(d) : NULL;
    page_open(r, b, "Overview", "/");
    if (!s || st != 200) {
        zv_buf_puts(b, "<p class=\"notice bad\" role=\"alert\">The status could not be read.</p>");
        page_close(b);
        zv_json_free(d);
        return 500;
    }
    const zv_json *h = zv_json_get(s, "health");
    const char *hs = s_of(h, "status");
    int ok = hs && strcmp(hs, "ok") == 0;
    zv_buf_printf(b, "<p class=\"notice%s\" role=\"status\">Health: <strong>", ok ? "" : " bad");
    zv_console_esc(b, hs);
    zv_buf_puts(b, "</strong>");
    if (!ok && s_of(h, "reasons")) {
        zv_buf_puts(b, " - ");
        zv_console_esc(b, s_of(h, "reasons"));
    }
    const zv_json *dm = zv_json_get(s, "daemon"), *cf = zv_json_get(s, "config");
    zv_buf_printf(b, "</p><p>zinvold %s, up %llds. Config <code>", s_of(s, "version"),
                  (long long)i_of(dm, "uptime_s"));
    zv_console_esc(b, s_of(cf, "file"));
    zv_buf_printf(b,
                  "</code> (sha256 <code>%.12s</code>). In quarantine: "
                  "<a href=\"/quarantine\">%lld</a>.</p>",
                  s_of(cf, "sha256") ? s_of(cf, "sha256") : "", (long long)i_of(s, "quarantine"));
    zv_buf_puts(b, "<h2>Destinations</h2><div class=\"wrap\"><table class=\"cards\"><thead><tr>"
                   "<th scope=\"col\">Destination</th><th scope=\"col\">Format</th>"
                   "<th scope=\"col\">Staged</th><th scope=\"col\">Backlog</th>"
                   "<th scope=\"col\">Oldest pending (s)</th><th scope=\"col\">Dead letter</th>"
                   "<th scope=\"col\">Circuit</th><th scope=\"col\">Last success</th>"
                   "<th scope=\"col\">Last failure</th></tr></thead><tbody>");
    const zv_json *ds = zv_json_get(s, "destinations");
    for (size_t i = 0; i < zv_json_len(ds); i++) {
        const zv_json *x = zv_json_at(ds, i);
        zv_buf_puts(b, "<tr>");
        cell(b, "Destination", s_of(x, "name"));
        cell(b, "Format", s_of(x, "format"));
        cell_num(b, "Staged", i_of(x, "staged"));
        cell_num(b, "Backlog", i_of(x, "pending"));
        char age[32] = "";
        if (zv_json_get(x, "oldest_pending_age_s") &&
            zv_json_type_of(zv_json_get(x, "oldest_pending_age_s")) == ZV_JSON_NUMBER)
            snprintf(age, sizeof(age), "%lld", (long long)i_of(x, "oldest_pending_age_s"));
        cell(b, "Oldest pending (s)", age);
        cell_num(b, "Dead letter", i_of(x, "dead_letter"));
        zv_buf_puts(b, "<td data-label=\"Circuit\">");
        circuit_badge(b, s_of(x, "circuit"));
        zv_buf_puts(b, "</td>");
        cell(b, "Last success", s_of(x, "last_success"));
        char fail[400] = "";
        if (s_of(x, "last_failure"))
            snprintf(fail, sizeof(fail), "%s: %s", s_of(x, "last_failure"),
                     s_of(x, "last_error") ? s_of(x, "last_error") : "");
        cell(b, "Last failure", fail);
        zv_buf_puts(b, "</tr>");
    }
    zv_buf_puts(b, "</tbody></table></div><h2>Sources</h2><div class=\"wrap\"><table "
                   "class=\"cards\"><thead><tr><th scope=\"col\">Source</th><th "
                   "scope=\"col\">Type</th><th scope=\"col\">Records in</th><th "
                   "scope=\"col\">Last activity</th><th scope=\"col\">Last file</th></tr>"
                   "</thead><tbody>");
    const zv_json *ss = zv_json_get(s, "sources");
    for (size_t i = 0; i < zv_json_len(ss); i++) {
        const zv_json *x = zv_json_at(ss, i);
        zv_buf_puts(b, "<tr>");
        cell(b, "Source", s_of(x, "name"));
        cell(b, "Type", s_of(x, "type"));
        cell_num(b, "Records in", i_of(x, "records_in"));
        cell(b, "Last activity", s_of(x, "last_activity"));
        cell(b, "Last file", s_of(x, "last_file"));
        zv_buf_puts(b, "</tr>");
    }
    zv_buf_puts(b, "</tbody></table></div>");
    page_close(b);
    zv_json_free(d);
    return 200;
}

/* ---- quarantine ---- */

static void filter_input(zv_buf *b, const char *id, const char *label, const char *value)
{
    zv_buf_printf(b, "<div><label for=\"%s\">%s</label><input id=\"%s\" name=\"%s\" value=\"", id,
                  label, id, id);
    zv_console_esc(b, value);
    zv_buf_puts(b, "\"></div>");
}

static int quarantine(const zv_console_req *r, zv_buf *b)
{
    char f[4][256];
    const char *src = zv_admin_query(r->query, "source", f[0], sizeof(f[0]));
    const char *stage = zv_admin_query(r->query, "stage", f[1], sizeof(f[1]));
    const char *dest = zv_admin_query(r->query, "destination", f[2], sizeof(f[2]));
    const char *text = zv_admin_query(r->query, "q", f[3], sizeof(f[3]));
    zv_buf q;
    zv_buf_init(&q);
    const char *names[] = {"source", "stage", "destination", "q"};
    const char *vals[] = {src, stage, dest, text};
    for (int i = 0; i < 4; i++)
        if (vals[i]) {
            zv_buf_printf(&q, "%s%s=", q.len ? "&" : "", names[i]);
            url_esc(&q, vals[i]);
        }
    int st;
    char err[256];
    zv_json_doc *d = call(r, "GET", "/api/quarantine", q.data, &st, err, sizeof(err));
    zv_buf_free(&q);
    page_open(r, b, "Quarantine", "/quarantine");
    zv_buf_puts(b, "<form method=\"get\" action=\"/quarantine\" role=\"search\"><fieldset>"
                   "<legend>Filter</legend>");
    filter_input(b, "source", "Source", src);
    zv_buf_puts(b, "<div><label for=\"stage\">Stage</label><select id=\"stage\" name=\"stage\">"
                   "<option value=\"\">any</option>");
    static const char *const stages[] = {"mapping", "minimiser", "rule", "schema", "render"};
    for (int i = 0; i < 5; i++)
        zv_buf_printf(b, "<option%s>%s</option>",
                      stage && !strcmp(stage, stages[i]) ? " selected" : "", stages[i]);
    zv_buf_puts(b, "</select></div>");
    filter_input(b, "destination", "Destination", dest);
    filter_input(b, "q", "Reason, field or record contains", text);
    zv_buf_puts(b, "<div><button type=\"submit\">Filter</button></div></fieldset></form>");
    const zv_json *a = d ? zv_json_root(d) : NULL;
    zv_buf_printf(b,
                  "<p>%zu entries. Retry runs an entry through the current configuration; "
                  "drop discards it (both are written to the audit trail).</p>",
                  zv_json_len(a));
    zv_buf_puts(b, "<div class=\"wrap\"><table class=\"cards\"><thead><tr><th scope=\"col\">ID"
                   "</th><th scope=\"col\">When</th><th scope=\"col\">Stage</th><th "
                   "scope=\"col\">Destination</th><th scope=\"col\">Source/record</th><th "
                   "scope=\"col\">Reason</th><th scope=\"col\">Actions</th></tr></thead><tbody>");
    for (size_t i = 0; i < zv_json_len(a); i++) {
        const zv_json *x = zv_json_at(a, i);
        char sr[300], reason[1200];
        snprintf(sr, sizeof(sr), "%s/%s", s_of(x, "source") ? s_of(x, "source") : "",
                 s_of(x, "record_id") ? s_of(x, "record_id") : "");
        snprintf(reason, sizeof(reason), "%s%s%s%s%s", s_of(x, "rule") ? s_of(x, "rule") : "",
                 s_of(x, "rule") ? " " : "", s_of(x, "field") ? s_of(x, "field") : "",
                 s_of(x, "field") ? ": " : "", s_of(x, "reason") ? s_of(x, "reason") : "");
        zv_buf_puts(b, "<tr>");
        cell_num(b, "ID", i_of(x, "id"));
        cell(b, "When", s_of(x, "created"));
        char stage_s[64];
        if (s_of(x, "due"))
            snprintf(stage_s, sizeof(stage_s), "waiting until %s", s_of(x, "due"));
        else
            snprintf(stage_s, sizeof(stage_s), "%s", s_of(x, "stage") ? s_of(x, "stage") : "");
        cell(b, "Stage", stage_s);
        cell(b, "Destination", s_of(x, "destination"));
        cell(b, "Source/record", sr);
        cell(b, "Reason", reason);
        zv_buf_puts(b, "<td data-label=\"Actions\">");
        action_form(r, b, "quarantine", i_of(x, "id"), "retry", "Retry", 0);
        action_form(r, b, "quarantine", i_of(x, "id"), "drop", "Drop", 1);
        zv_buf_puts(b, "</td></tr>");
    }
    zv_buf_puts(b, "</tbody></table></div>");
    page_close(b);
    zv_json_free(d);
    return 200;
}

/* ---- dead letter ---- */

static int dlq(const zv_console_req *r, zv_buf *b)
{
    int st;
    char err[256];
    zv_json_doc *d = call(r, "GET", "/api/dlq", NULL, &st, err, sizeof(err));
    const zv_json *a = d ? zv_json_root(d) : NULL;
    page_open(r, b, "Dead letter", "/dlq");
    zv_buf_printf(b,
                  "<p>%zu entries: payloads a receiver refused or that were not delivered "
                  "within max_age. Retry queues a payload again with the same idempotency "
                  "key; a per-record rejection is corrected at the source and then dropped.</p>",
                  zv_json_len(a));
    zv_buf_puts(b, "<div class=\"wrap\"><table class=\"cards\"><thead><tr><th scope=\"col\">ID"
                   "</th><th scope=\"col\">When</th><th scope=\"col\">Destination</th><th "
                   "scope=\"col\">Message</th><th scope=\"col\">Idempotency key</th><th "
                   "scope=\"col\">Reason</th><th scope=\"col\">Actions</th></tr></thead><tbody>");
    for (size_t i = 0; i < zv_json_len(a); i++) {
        const zv_json *x = zv_json_at(a, i);
        zv_buf rs;
        zv_buf_init(&rs);
        if (i_of(x, "http_status"))
            zv_buf_printf(&rs, "HTTP %lld: ", (long long)i_of(x, "http_status"));
        if (s_of(x, "record_key")) zv_buf_printf(&rs, "record %s: ", s_of(x, "record_key"));
        if (s_of(x, "codes")) zv_buf_printf(&rs, "codes %s - ", s_of(x, "codes"));
        zv_buf_puts(&rs, s_of(x, "reason") ? s_of(x, "reason") : "");
        const char *reason = rs.data;
        zv_buf_puts(b, "<tr>");
        cell_num(b, "ID", i_of(x, "id"));
        cell(b, "When", s_of(x, "created"));
        cell(b, "Destination", s_of(x, "destination"));
        cell(b, "Message", s_of(x, "message"));
        cell(b, "Idempotency key", s_of(x, "idem_key"));
        cell(b, "Reason", reason);
        zv_buf_free(&rs);
        zv_buf_puts(b, "<td data-label=\"Actions\">");
        int retryable = 0;
        zv_json_bool(zv_json_get(x, "retryable"), &retryable);
        if (retryable) action_form(r, b, "dlq", i_of(x, "id"), "retry", "Retry", 0);
        action_form(r, b, "dlq", i_of(x, "id"), "drop", "Drop", 1);
        zv_buf_puts(b, "</td></tr>");
    }
    zv_buf_puts(b, "</tbody></table></div>");
    page_close(b);
    zv_json_free(d);
    return 200;
}

/* ---- outbox ---- */

static int outbox(const zv_console_req *r, zv_buf *b)
{
    int st;
    char err[256];
    zv_json_doc *d = call(r, "GET", "/api/outbox", "limit=200", &st, err, sizeof(err));
    const zv_json *a = d ? zv_json_root(d) : NULL;
    page_open(r, b, "Outbox", "/outbox");
    zv_buf_puts(b, "<p>The newest 200 payloads.</p><div class=\"wrap\"><table class=\"cards\">"
                   "<thead><tr><th scope=\"col\">ID</th><th scope=\"col\">Destination</th><th "
                   "scope=\"col\">Message</th><th scope=\"col\">State</th><th "
                   "scope=\"col\">Attempts</th><th scope=\"col\">Queued</th><th "
                   "scope=\"col\">Last error</th></tr></thead><tbody>");
    for (size_t i = 0; i < zv_json_len(a); i++) {
        const zv_json *x = zv_json_at(a, i);
        zv_buf_puts(b, "<tr>");
        cell_num(b, "ID", i_of(x, "id"));
        cell(b, "Destination", s_of(x, "destination"));
        cell(b, "Message", s_of(x, "message"));
        cell(b, "State", s_of(x, "state"));
        cell_num(b, "Attempts", i_of(x, "attempts"));
        cell(b, "Queued", s_of(x, "first_enqueued"));
        cell(b, "Last error", s_of(x, "last_error"));
        zv_buf_puts(b, "</tr>");
    }
    zv_buf_puts(b, "</tbody></table></div>");
    page_close(b);
    zv_json_free(d);
    return 200;
}

/* ---- audit ---- */

#define RECENT 50

struct recent {
    zv_buf rows[RECENT];
    int64_t n;
};

static int audit_row(const zv_audit_entry *e, void *arg)
{
    struct recent *rc = arg;
    zv_buf *b = &rc->rows[rc->n++ % RECENT];
    zv_buf_reset(b);
    char ts[21];
    zv_time_iso(e->at, ts);
    char seq[32];
    snprintf(seq, sizeof(seq), "%lld", (long long)e->seq);
    zv_buf_puts(b, "<tr>");
    cell(b, "Seq", seq);
    cell(b, "When", ts);
    cell(b, "Kind", e->kind);
    cell(b, "Destination", e->destination);
    cell(b, "Message", e->message);
    char *detail = zv_strdup0(e->detail ? e->detail : e->fields);
    if (detail) zv_bsn_scrub(detail);
    cell(b, "Detail", detail);
    free(detail);
    zv_buf_puts(b, "</tr>");
    return 0;
}

static int audit(const zv_console_req *r, zv_buf *b)
{
    int st;
    char err[256];
    zv_json_doc *d = call(r, "GET", "/api/audit/verify", NULL, &st, err, sizeof(err));
    const zv_json *v = d ? zv_json_root(d) : NULL;
    page_open(r, b, "Audit", "/audit");
    int intact = 0;
    zv_json_bool(zv_json_get(v, "intact"), &intact);
    if (intact)
        zv_buf_printf(b,
                      "<p class=\"notice\" role=\"status\">Audit trail intact: %lld entries "
                      "(hash chain verified now).</p>",
                      (long long)i_of(v, "entries"));
    else {
        zv_buf_printf(b,
                      "<p class=\"notice bad\" role=\"alert\">Audit trail BROKEN at entry "
                      "%lld: ",
                      (long long)i_of(v, "broken_at"));
        zv_console_esc(b, s_of(v, "why"));
        zv_buf_puts(b, "</p>");
    }
    zv_json_free(d);
    zv_buf_puts(b, "<p>The requirements and redundancy report: "
                   "<a href=\"/audit/report\">HTML</a>, "
                   "<a href=\"/api/audit/report?format=json\">JSON</a>, "
                   "<a href=\"/api/audit/report?format=csv\">CSV</a>.</p>"
                   "<h2>Latest audit trail entries</h2><div class=\"wrap\"><table "
                   "class=\"cards\"><thead><tr><th scope=\"col\">Seq</th><th "
                   "scope=\"col\">When</th><th scope=\"col\">Kind</th><th "
                   "scope=\"col\">Destination</th><th scope=\"col\">Message</th><th "
                   "scope=\"col\">Fields or detail (no values)</th></tr></thead><tbody>");
    struct recent *rc = calloc(1, sizeof(*rc));
    if (rc) {
        zv_store_audit_each(r->env->store, audit_row, rc);
        int64_t first = rc->n > RECENT ? rc->n - RECENT : 0;
        for (int64_t i = rc->n - 1; i >= first; i--)
            zv_buf_append(b, rc->rows[i % RECENT].data, rc->rows[i % RECENT].len);
        for (int i = 0; i < RECENT; i++)
            zv_buf_free(&rc->rows[i]);
        free(rc);
    }
    zv_buf_puts(b, "</tbody></table></div>");
    page_close(b);
    return 200;
}

static int audit_report(const zv_console_req *r, zv_buf *b)
{
    zv_admin_req ar = {
        .method = "GET", .path = "/api/audit/report", .query = "format=html", .who = r->who};
    const char *ctype;
    return zv_admin_call(r->env, &ar, b, &ctype);
}

/* ---- disclosure (AVG art. 15): a form, answered with the client's page ---- */

static int disclose_form(const zv_console_req *r, zv_buf *b)
{
    page_open(r, b, "Disclosure", "/disclose");
    zv_buf_printf(b,
                  "<p>What was sent about one client, and why: the page to hand to a client "
                  "who asks for access (AVG art. 15). The BSN is sent in the form body, never "
                  "in the address, and is not logged; each disclosure is written to the audit "
                  "trail with who asked.</p><form class=\"filters\" method=\"post\" "
                  "action=\"/disclose\"><input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                  "<div><label for=\"bsn\">BSN</label><input id=\"bsn\" name=\"bsn\" required "
                  "inputmode=\"numeric\" autocomplete=\"off\" pattern=\"[0-9 .]{8,11}\"></div>"
                  "<div><label for=\"from\">From (optional)</label><input id=\"from\" "
                  "name=\"from\" type=\"date\"></div><div><label for=\"to\">To (optional)"
                  "</label><input id=\"to\" name=\"to\" type=\"date\"></div>"
                  "<div><button type=\"submit\">Show disclosure</button></div></form>",
                  r->csrf);
    page_close(b);
    return 200;
}

static void query_param(zv_buf *q, const char *body, const char *name)
{
    char v[64];
    const char *x = zv_admin_query(body, name, v, sizeof(v));
    if (!x || !*x) return;
    zv_buf_printf(q, "%s%s=", q->len ? "&" : "", name);
    url_esc(q, x);
}

static int disclose_answer(const zv_console_req *r, zv_buf *b)
{
    if (!r->csrf_ok) {
        page_open(r, b, "Disclosure", "/disclose");
        zv_buf_puts(b, "<p class=\"notice bad\" role=\"status\">Refused: the form is stale or "
                       "came from another site. <a href=\"/disclose\">Try again</a>.</p>");
        page_close(b);
        return 403;
    }
    zv_buf q;
    zv_buf_init(&q);
    zv_buf_puts(&q, "format=html");
    query_param(&q, r->body, "bsn");
    query_param(&q, r->body, "from");
    query_param(&q, r->body, "to");
    zv_admin_req ar = {.method = "GET", .path = "/api/disclose", .query = q.data, .who = r->who};
    zv_buf out;
    zv_buf_init(&out);
    const char *ctype;
    int st = zv_admin_call(r->env, &ar, &out, &ctype);
    zv_buf_free(&q);
    if (st == 200) {
        zv_buf_append(b, out.data, out.len);
    } else {
        char err[256];
        zv_json_doc *d = out.data ? zv_json_parse(out.data, out.len, 0, err, sizeof(err)) : NULL;
        page_open(r, b, "Disclosure", "/disclose");
        zv_buf_puts(b, "<p class=\"notice bad\" role=\"status\">");
        zv_console_esc(b, d && s_of(zv_json_root(d), "error") ? s_of(zv_json_root(d), "error")
                                                              : "the disclosure failed");
        zv_buf_puts(b, " <a href=\"/disclose\">Try again</a>.</p>");
        page_close(b);
        zv_json_free(d);
    }
    zv_buf_free(&out);
    return st;
}

/* ---- actions ---- */

static int action(const zv_console_req *r, char *location, size_t loclen)
{
    char what[32], act[16];
    long long id = 0;
    int n = 0;
    if (sscanf(r->path, "/ui/%31[a-z]/%lld/%15[a-z]%n", what, &id, act, &n) != 3 ||
        r->path[n] != '\0' || id <= 0 || (strcmp(what, "quarantine") && strcmp(what, "dlq")) ||
        (strcmp(act, "retry") && strcmp(act, "drop")))
        return 404;
    zv_buf loc;
    zv_buf_init(&loc);
    zv_buf_printf(&loc, "/%s?", what);
    if (!r->csrf_ok) {
        zv_buf_puts(&loc, "bad=1&notice=");
        url_esc(&loc, "Refused: the form is stale or came from another site. Reload the page.");
    } else {
        char path[96];
        snprintf(path, sizeof(path), "/api/%s/%lld/%s", what, id, act);
        int st;
        char err[256];
        zv_json_doc *d = call(r, "POST", path, NULL, &st, err, sizeof(err));
        const zv_json *o = d ? zv_json_root(d) : NULL;
        char msg[700];
        if (st == 200 && s_of(o, "outcome")) /* quarantine: as zinvolctl prints it */
            snprintf(msg, sizeof(msg), "%lld: %s: %s", id, s_of(o, "outcome"),
                     s_of(o, "result") ? s_of(o, "result") : "done");
        else if (st == 200)
            snprintf(msg, sizeof(msg), "%lld: %s", id,
                     s_of(o, "result") ? s_of(o, "result") : "done");
        else
            snprintf(msg, sizeof(msg), "%lld: %s", id,
                     s_of(o, "error") ? s_of(o, "error") : "failed");
        if (st != 200) zv_buf_puts(&loc, "bad=1&");
        zv_buf_puts(&loc, "notice=");
        url_esc(&loc, msg);
        zv_json_free(d);
    }
    snprintf(location, loclen, "%s", loc.data ? loc.data : "/");
    zv_buf_free(&loc);
    return 303;
}

int zv_console_handle(const zv_console_req *r, zv_buf *out, char *location, size_t loclen)
{
    int post = strcmp(r->method, "POST") == 0;
    if (post) {
        if (strcmp(r->path, "/disclose") == 0) return disclose_answer(r, out);
        if (strncmp(r->path, "/ui/", 4) == 0) {
            int st = action(r, location, loclen);
            if (st != 404) return st;
        }
        zv_buf_puts(out, "<!DOCTYPE html><title>Not found</title><p>No such action.</p>\n");
        return 404;
    }
    if (strcmp(r->path, "/") == 0) return overview(r, out);
    if (strcmp(r->path, "/quarantine") == 0) return quarantine(r, out);
    if (strcmp(r->path, "/dlq") == 0) return dlq(r, out);
    if (strcmp(r->path, "/outbox") == 0) return outbox(r, out);
    if (strcmp(r->path, "/audit") == 0) return audit(r, out);
    if (strcmp(r->path, "/audit/report") == 0) return audit_report(r, out);
    if (strcmp(r->path, "/disclose") == 0) return disclose_form(r, out);
    zv_buf_puts(out, "<!DOCTYPE html><title>Not found</title><p>No such page. "
                     "<a href=\"/\">Overview</a></p>\n");
    return 404;
}
