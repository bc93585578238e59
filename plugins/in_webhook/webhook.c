/*
 * webhook source: an HTTP endpoint on the daemon's listener per source.
 *
 *  - Every request must carry an HMAC-SHA512 of its body under the shared
 *    secret (signature_header); unsigned or wrongly signed requests get 401
 *    and are counted ("rejected_signature").  Bodies over max_body get 413.
 *  - An event that carries only an id (fetch_url set) is completed by
 *    fetching the record from the ECD's REST API through the core's HTTP
 *    client (bearer token or mTLS client certificate).
 *  - 202 is sent only after the record (or its quarantine entry) and the
 *    event id are durable in the store: with group commit (commit_async)
 *    the answer goes out when the group this event joined is on disk.  A
 *    store or ECD failure answers 503 so the sender retries.
 *  - Replays: every event id is remembered in the store (host->event_once),
 *    committed with the record, and on a shared store seen by every node;
 *    a replayed event is acknowledged (202) but not processed again.  The
 *    ids of the last `replay_window` events are also kept in memory, so a
 *    replay to the same node is answered before any fetch.
 *  - A signed body that is not JSON, or a record the ECD cannot return,
 *    is kept in quarantine (ZV_ITEM_ERROR) and answered 400 / 202.
 */
#include "webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/plugin.h>
#include <zinvol/utf8.h>
#include <zinvol/util.h>

/* The options as the core stores them (host->config()). */
typedef struct wh_conf {
    const char *path, *secret, *sig_header, *id_ptr, *event_ptr, *type_ptr, *item_type;
    const char *fetch_url, *token, *cert, *key, *ca;
    int64_t max_body, timeout_ms;
    int window;
} wh_conf;

#define AT(m) ZV_OPT_AT(wh_conf, m)
static const zv_option options[] = {
    {.name = "path",
     .type = ZV_OPT_STRING,
     .min = 2,
     AT(path),
     .description = "route on the listener, starting with `/`; absent: `/webhook/<source name>`"},
    {.name = "secret",
     .type = ZV_OPT_STRING,
     .flags = ZV_OPT_REQUIRED | ZV_OPT_SECRET,
     .min = 16,
     AT(secret),
     .description = "shared secret, at least 16 characters"},
    {.name = "signature_header",
     .type = ZV_OPT_STRING,
     .def = "X-Signature-SHA512",
     .min = 1,
     AT(sig_header),
     .description = "HMAC-SHA512 of the raw body: hex, `sha512=<hex>` or base64"},
    {.name = "max_body",
     .type = ZV_OPT_SIZE,
     .def = "64KiB",
     .min = 1,
     AT(max_body),
     .description =
         "larger bodies: 413, from `Content-Length` before the body is read (the listener takes "
         "the largest `max_body` of its webhooks, at most `http.limits.max_body_size`)"},
    {.name = "id_pointer",
     .type = ZV_OPT_STRING,
     .def = "/id",
     AT(id_ptr),
     .description = "JSON pointer of the record id in the event"},
    {.name = "event_id_pointer",
     .type = ZV_OPT_STRING,
     .def = "/event_id",
     AT(event_ptr),
     .description = "JSON pointer of the event id (replay detection); absent in the event: the "
                    "body's SHA-256"},
    {.name = "type_pointer",
     .type = ZV_OPT_STRING,
     .def = "/type",
     AT(type_ptr),
     .description = "JSON pointer of the item type in the event"},
    {.name = "item_type",
     .type = ZV_OPT_STRING,
     AT(item_type),
     .description = "fixed item type for the mapping (overrides `type_pointer`)"},
    {.name = "fetch_url",
     .type = ZV_OPT_STRING,
     AT(fetch_url),
     .description = "for id-only events: `https://ecd/api/clients/{id}`, `{id}` is replaced; "
                    "without it the body is the record"},
    {.name = "bearer_token",
     .type = ZV_OPT_STRING,
     .flags = ZV_OPT_SECRET,
     AT(token),
     .description = "bearer token for `fetch_url`"},
    {.name = "cert_file",
     .type = ZV_OPT_PATH,
     AT(cert),
     .description = "mTLS client certificate (PEM) for `fetch_url` (one client certificate per "
                    "connector); goes with `key_file`"},
    {.name = "key_file",
     .type = ZV_OPT_PATH,
     .flags = ZV_OPT_SECRET,
     AT(key),
     .description = "mTLS client key (PEM)"},
    {.name = "ca_file",
     .type = ZV_OPT_PATH,
     AT(ca),
     .description = "CA bundle for the ECD's server certificate"},
    {.name = "timeout",
     .type = ZV_OPT_DURATION,
     .def = "30s",
     .min = 100,
     AT(timeout_ms),
     .description = "of one fetch"},
    {.name = "replay_window",
     .type = ZV_OPT_INT,
     .def = "256",
     .min = 1,
     .max = 1000,
     AT(window),
     .description = "event ids also kept in memory, so that a replay to the same node is answered "
                    "without a fetch (every id is remembered in the store, shared by the nodes)"},
};

typedef struct wh_src {
    zv_ctx *ctx;
    const zv_host *host;
    char path[256];
    const char *secret, *sig_header, *id_ptr, *event_ptr, *type_ptr, *item_type, *fetch_url;
    const char *token, *cert, *key, *ca;
    int64_t max_body, window, timeout_ms;
    zv_json_flat *flat;
    wh_mac *mac; /* the secret's HMAC-SHA512 key state, made once */
    int stopped;
    struct wh_pending *fetching; /* events waiting for their fetch */
    /* The answer store() gives once the event is durable (commit_async):
     * set by the caller just before it calls store(). */
    zv_http_exchange *reply_ex;
    int reply_status;
    const char *reply_msg;
    /* Events since the last summary line (one per SUMMARY_MS with traffic):
     * a webhook's "input" is a stream, so it gets a periodic line where a
     * file drop gets one per file. */
    zv_timer *summary;
    /* The replay window as in the store (window_load); NULL: read it again. */
    struct wh_win *win;
    int64_t t_events, t_new, t_unchanged, t_quarantined, t_staged_base;
} wh_src;

#define SUMMARY_MS 60000
#define WIN_MAX (64 * 1024)

/* One accepted event waiting for its fetch. */
typedef struct wh_pending {
    wh_src *s;
    zv_http_exchange *ex;
    zv_http_call *call; /* the host's, until fetched() runs or it is cancelled */
    struct wh_pending *prev, *next;
    char event_id[80];
    char record_id[128];
    char type[64];
} wh_pending;

static void reply(wh_src *s, zv_http_exchange *ex, int status, const char *msg)
{
    char body[512];
    int n = snprintf(body, sizeof(body), "{\"status\": %d, \"message\": \"%s\"}\n", status, msg);
    s->host->ex_reply(ex, status, "application/json", body, (size_t)n);
}

/* ---- replay window: a cache of the last event ids ---- */

/* The last `replay_window` event ids this node remembered (slot = the
 * event's number n modulo the window), in memory only: the store has every
 * id (event_once).  At start it is filled from the watermarks older
 * versions kept (events.<slot> = "<n> <id>", or before that the whole
 * window in "events", ids oldest first).  Whenever a unit that added an id
 * may be lost (a rollback, a failed commit, a lost group) the cache is
 * dropped and filled again, so a replay is never answered from an id the
 * store does not have. */
typedef struct wh_win {
    char (*id)[104]; /* per slot; "" empty */
    int64_t *n;      /* per slot: the event's number, 0 empty */
    int64_t next;    /* the number the next event gets */
} wh_win;

static void win_free(wh_win *w)
{
    if (!w) return;
    free(w->id);
    free(w->n);
    free(w);
}

/* The old whole-window watermark into the slots, oldest first. */
static int window_legacy(wh_src *s, wh_win *w)
{
    char *old = calloc(1, WIN_MAX);
    if (!old) return -1;
    if (s->host->watermark_get(s->ctx, "events", old, WIN_MAX) < 0) {
        free(old);
        return -1;
    }
    for (char *save = NULL, *t = strtok_r(old, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        size_t slot = (size_t)(w->next % s->window);
        snprintf(w->id[slot], sizeof(w->id[slot]), "%s", t);
        w->n[slot] = w->next++;
    }
    free(old);
    return 0;
}

static int window_load(wh_src *s)
{
    if (s->win) return 0;
    wh_win *w = calloc(1, sizeof(*w));
    if (!w || !(w->id = calloc((size_t)s->window, sizeof(*w->id))) ||
        !(w->n = calloc((size_t)s->window, sizeof(*w->n)))) {
        win_free(w);
        return -1;
    }
    w->next = 1;
    int any = 0;
    for (int64_t i = 0; i < s->window; i++) {
        char key[32], v[160];
        snprintf(key, sizeof(key), "events.%lld", (long long)i);
        if (s->host->watermark_get(s->ctx, key, v, sizeof(v)) < 0) {
            win_free(w);
            return -1;
        }
        long long n = 0;
        int off = 0;
        if (sscanf(v, "%lld %n", &n, &off) != 1 || n <= 0 || !v[off]) continue;
        /* A window made smaller since: the slot holds an older number. */
        size_t slot = (size_t)(n % s->window);
        if (w->n[slot] >= n) continue;
        snprintf(w->id[slot], sizeof(w->id[slot]), "%s", v + off);
        w->n[slot] = n;
        if (n >= w->next) w->next = n + 1;
        any = 1;
    }
    if (!any && window_legacy(s, w) < 0) {
        win_free(w);
        return -1;
    }
    s->win = w;
    return 0;
}

static void window_forget(wh_src *s)
{
    win_free(s->win);
    s->win = NULL;
}

static int seen_event(wh_src *s, const char *id)
{
    if (window_load(s) < 0) return 0;
    const wh_win *w = s->win;
    for (int64_t i = 0; i < s->window; i++)
        if (w->n[i] && strcmp(w->id[i], id) == 0) return 1;
    return 0;
}

/* Every id is in the store (event_once), so the window is only a cache in
 * front of it and is never written: slots in watermarks would be one more
 * row per event, and on a shared store the nodes' slots would overwrite
 * each other.  What older versions kept in watermarks (events.<slot>, or
 * the whole window in events) is still read into it at start, since the
 * store's table does not have those ids. */
static void remember_event(wh_src *s, const char *id)
{
    if (window_load(s) < 0) return;
    wh_win *w = s->win;
    size_t slot = (size_t)(w->next % s->window);
    snprintf(w->id[slot], sizeof(w->id[slot]), "%s", id);
    w->n[slot] = w->next++;
}

/* Before a fetch: was the event received before, by any node or before a
 * restart (the window only knows this run's)?  Asked by remembering it in
 * a unit that is then rolled back, since a fetch is no unit: store() asks
 * again, for keeps, when the record is there.  1 yes (counted), 0 no, -1
 * the store failed. */
static int received_before(wh_src *s, const char *event_id)
{
    if (!ZV_HOST_HAS(s->host, event_once)) return 0;
    int once = s->host->event_once(s->ctx, event_id);
    if (ZV_HOST_HAS(s->host, rollback)) s->host->rollback(s->ctx);
    if (once == 0) s->host->count(s->ctx, "replayed", 1);
    return once < 0 ? -1 : once == 0;
}

/* Another node (or this one before a restart) received the event: nothing
 * of it is kept again, and the sender hears what a replay hears. */
static int replayed_in_store(wh_src *s)
{
    if (ZV_HOST_HAS(s->host, rollback)) s->host->rollback(s->ctx);
    s->host->count(s->ctx, "replayed", 1);
    if (!s->reply_ex) return 0;
    reply(s, s->reply_ex, 202, "already received");
    s->reply_ex = NULL;
    return 1;
}

/* Ids go into URLs and watermarks: keep them to a safe alphabet. */
static int safe_id(const char *v, size_t len)
{
    if (len == 0 || len > 100) return 0;
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return 0;
    }
    return 1;
}

/* The answer to one event, sent when its unit is durable (or lost). */
typedef struct wh_answer {
    wh_src *s;
    zv_http_exchange *ex;
    int status;
    const char *msg;
} wh_answer;

static void durable(void *arg, int ok)
{
    wh_answer *a = arg;
    wh_src *s = a->s;
    if (!ok) {
        window_forget(s); /* the group with our ids in it is lost */
        s->host->log(s->ctx, ZV_LOG_ERROR,
                     "webhook %s: an event could not be stored; answered 503, the sender retries",
                     s->path);
        reply(s, a->ex, 503, "could not store the event; retry later");
    } else {
        if (a->status == 202) s->host->count(s->ctx, "accepted", 1);
        reply(s, a->ex, a->status, a->msg);
    }
    free(a);
}

/* Commit the event's unit: 1 when the answer (s->reply_*) goes out once it
 * is durable (group commit), 0 committed now, -1 failed. */
static int commit_event(wh_src *s)
{
    if (!s->reply_ex || !ZV_HOST_HAS(s->host, commit_async)) return s->host->commit(s->ctx);
    wh_answer *a = malloc(sizeof(*a));
    if (!a) return -1;
    *a = (wh_answer){s, s->reply_ex, s->reply_status, s->reply_msg};
    s->reply_ex = NULL;
    if (s->host->commit_async(s->ctx, durable, a) != 0) {
        free(a);
        return -1;
    }
    return 1;
}

/* The answer for the next store(): status and message when it is kept. */
static void answer_with(wh_src *s, zv_http_exchange *ex, int status, const char *msg)
{
    s->reply_ex = ex;
    s->reply_status = status;
    s->reply_msg = msg;
}

/* Emit the item (or its failure), remember the event, commit.  1: the
 * answer armed with answer_with() is sent when the event is durable. */
static int store(wh_src *s, const zv_item *it, const char *event_id)
{
    if (ZV_HOST_HAS(s->host, event_once)) {
        int once = s->host->event_once(s->ctx, event_id);
        if (once == 0) return replayed_in_store(s);
        if (once < 0) {
            if (ZV_HOST_HAS(s->host, rollback)) s->host->rollback(s->ctx);
            return -1;
        }
    }
    int rc = s->host->emit(s->ctx, it);
    if (rc < 0) {
        /* Nothing of this event may stay half-kept: the sender retries it. */
        if (ZV_HOST_HAS(s->host, rollback)) s->host->rollback(s->ctx);
        window_forget(s);
        return -1;
    }
    if (rc == ZV_EMIT_DUPLICATE) s->host->count(s->ctx, "duplicates", 1);
    remember_event(s, event_id);
    int c = commit_event(s);
    if (c < 0) {
        window_forget(s);
        return -1;
    }
    s->t_events++;
    s->t_new += rc == ZV_EMIT_STAGED;
    s->t_unchanged += rc == ZV_EMIT_DUPLICATE;
    s->t_quarantined += rc == ZV_EMIT_QUARANTINED;
    return c;
}

static int64_t staged_now(const wh_src *s)
{
    return ZV_HOST_HAS(s->host, staged_total) ? s->host->staged_total(s->ctx) : -1;
}

/* The info line an administrator looks for: what came in since the last one
 * and what became of it (issue 14 item 5). */
static void log_summary(wh_src *s)
{
    if (s->t_events == 0) return;
    char staged[64] = "";
    int64_t now = staged_now(s);
    if (now >= 0 && s->t_staged_base >= 0)
        snprintf(staged, sizeof(staged), ", %lld staged for destinations",
                 (long long)(now - s->t_staged_base));
    s->host->log(s->ctx, ZV_LOG_INFO,
                 "webhook %s: %lld events kept, %lld new, %lld unchanged, %lld quarantined%s",
                 s->path, (long long)s->t_events, (long long)s->t_new, (long long)s->t_unchanged,
                 (long long)s->t_quarantined, staged);
    s->t_events = s->t_new = s->t_unchanged = s->t_quarantined = 0;
    s->t_staged_base = now;
}

static void on_summary(void *arg)
{
    wh_src *s = arg;
    log_summary(s);
    if (!s->stopped) s->host->timer_arm(s->summary, SUMMARY_MS);
}

/* Outside bytes as text that can always be kept (written as JSON): valid
 * UTF-8 as it is, any other byte as \xNN; at most max bytes, never ending
 * inside a character or an escape.  Returns the length written to out. */
static size_t raw_text(const char *raw, size_t len, char *out, size_t max)
{
    size_t o = 0, i = 0;
    while (i < len && o < max) {
        size_t bad = 0;
        size_t run = zv_utf8_valid(raw + i, len - i, &bad) ? len - i : bad;
        size_t take = run <= max - o ? run : zv_utf8_cut(raw + i, run, max - o);
        memcpy(out + o, raw + i, take);
        o += take;
        i += take;
        if (take < run || i >= len || max - o < 4) break;
        snprintf(out + o, 5, "\\x%02x", (unsigned char)raw[i]);
        o += 4;
        i++;
    }
    return o;
}

#define RAW_MAX 4096

static int store_failure(wh_src *s, const char *record_id, const char *type, const char *why,
                         const char *raw, size_t rawlen, const char *event_id)
{
    char text[RAW_MAX];
    size_t n = raw ? raw_text(raw, rawlen, text, sizeof(text)) : 0;
    zv_item_field f[2] = {{ZV_ITEM_ERROR, why, strlen(why)}, {"!raw", text, n}};
    zv_item it = {ZV_SIZED(zv_item), type[0] ? type : NULL, record_id, f,
                  raw ? 2 : 1,       sizeof(zv_item_field)};
    s->host->log(s->ctx, ZV_LOG_WARN, "webhook %s: event %s kept in quarantine: %s", s->path,
                 event_id, why);
    return store(s, &it, event_id);
}

/* The first value or key of the event that is not strict UTF-8: no JSON,
 * XML or log can carry it, so the event goes to quarantine saying where. */
static int utf8_problem(const zv_json_pair *p, size_t cnt, char *why, size_t whylen,
                        const char *record_id)
{
    for (size_t i = 0; i < cnt; i++) {
        size_t bad = 0, plen = strlen(p[i].path);
        int in_key = !zv_utf8_valid(p[i].path, plen, &bad);
        if (!in_key && zv_utf8_valid(p[i].value, p[i].len, &bad)) continue;
        const char *v = in_key ? p[i].path : p[i].value;
        size_t vlen = in_key ? plen : p[i].len;
        char shown[200];
        shown[raw_text(p[i].path, plen, shown, sizeof(shown) - 1)] = '\0';
        snprintf(why, whylen, "record %s: %s of %s is not valid UTF-8 (%s at byte %zu)", record_id,
                 in_key ? "the key" : "the value", shown,
                 zv_utf8_strerror(zv_utf8_check(v, vlen, NULL)), bad);
        return 1;
    }
    return 0;
}

/* The record's own fields; the event id is delivery metadata, left out so
 * the same record content under a new event id is recognised as seen. */
static int store_json(wh_src *s, const char *json, size_t len, const char *record_id,
                      const char *type, const char *event_id, char *why, size_t whylen)
{
    char err[200];
    int n = zv_json_flatten(s->flat, json, len, err, sizeof(err));
    if (n < 0) {
        snprintf(why, whylen, "record %s is not JSON: %s", record_id, err);
        return store_failure(s, record_id, type, why, json, len, event_id);
    }
    size_t cnt;
    const zv_json_pair *p = zv_json_flat_pairs(s->flat, &cnt);
    if (utf8_problem(p, cnt, why, whylen, record_id))
        return store_failure(s, record_id, type, why, json, len, event_id);
    zv_item_field *f = calloc(cnt ? cnt : 1, sizeof(*f));
    if (!f) return -1;
    size_t nf = 0;
    char rtype[64] = "";
    for (size_t i = 0; i < cnt; i++) {
        if (s->event_ptr && strcmp(p[i].path, s->event_ptr) == 0) continue;
        if (!s->item_type && s->type_ptr && strcmp(p[i].path, s->type_ptr) == 0 &&
            p[i].len < sizeof(rtype))
            rtype[raw_text(p[i].value, p[i].len, rtype, sizeof(rtype) - 1)] = '\0';
        f[nf++] = (zv_item_field){p[i].path, p[i].value, p[i].len};
    }
    if (!type[0]) type = rtype;
    zv_item it = {ZV_SIZED(zv_item),    type[0] ? type : NULL, record_id, f, nf,
                  sizeof(zv_item_field)};
    int rc = store(s, &it, event_id);
    free(f);
    return rc;
}

static void unlink_fetch(wh_pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        p->s->fetching = p->next;
    if (p->next) p->next->prev = p->prev;
    p->prev = p->next = NULL;
}

static void fetched(const zv_http_response *resp, void *arg)
{
    wh_pending *p = arg;
    wh_src *s = p->s;
    char why[512];
    unlink_fetch(p);
    int rc;
    if (resp->status == 200) {
        answer_with(s, p->ex, 202, "accepted");
        rc = store_json(s, resp->body, resp->body_len, p->record_id, p->type, p->event_id, why,
                        sizeof(why));
    } else if (resp->status == 404 || resp->status == 410) {
        /* The ECD says the record does not exist: keep the event visible. */
        snprintf(why, sizeof(why), "the ECD answered %d for record %s", resp->status, p->record_id);
        answer_with(s, p->ex, 202, "accepted");
        rc = store_failure(s, p->record_id, p->type, why, NULL, 0, p->event_id);
    } else {
        s->host->log(s->ctx, ZV_LOG_WARN, "webhook: fetching record %s failed: %s%d", p->record_id,
                     resp->status  ? "HTTP "
                     : resp->error ? resp->error
                                   : "",
                     resp->status);
        s->host->count(s->ctx, "fetch_failed", 1);
        reply(s, p->ex, 503, "the ECD could not be reached; retry later");
        free(p);
        return;
    }
    s->reply_ex = NULL;
    if (rc == 1) { /* answered when durable */
        free(p);
        return;
    }
    if (rc != 0) {
        s->host->log(s->ctx, ZV_LOG_ERROR,
                     "webhook %s: event %s (record %s) could not be stored; answered 503, the "
                     "sender retries",
                     s->path, p->event_id, p->record_id);
        reply(s, p->ex, 503, "could not store the event; retry later");
    } else {
        s->host->count(s->ctx, "accepted", 1);
        reply(s, p->ex, 202, "accepted");
    }
    free(p);
}

static void ptr_value(const zv_json *root, const char *ptr, char *out, size_t outlen)
{
    out[0] = '\0';
    const zv_json *v = ptr && *ptr ? zv_json_pointer(root, ptr) : NULL;
    size_t len = 0;
    const char *s = zv_json_str(v, &len);
    if (!s && zv_json_type_of(v) == ZV_JSON_NUMBER) s = zv_json_number_text(v), len = strlen(s);
    /* Ids and types end up in logs, quarantine and JSON: valid UTF-8 only. */
    if (s && len < outlen) out[raw_text(s, len, out, outlen - 1)] = '\0';
}

static int start_fetch(wh_src *s, zv_http_exchange *ex, wh_pending *p)
{
    char url[2048];
    const char *at = strstr(s->fetch_url, "{id}");
    if (at)
        snprintf(url, sizeof(url), "%.*s%s%s", (int)(at - s->fetch_url), s->fetch_url, p->record_id,
                 at + 4);
    else
        snprintf(url, sizeof(url), "%s%s", s->fetch_url, p->record_id);
    zv_http_header hdr[] = {{"Accept", "application/json"}};
    zv_http_request req = {ZV_SIZED(zv_http_request),
                           .method = "GET",
                           .url = url,
                           .headers = hdr,
                           .nheaders = 1,
                           .header_size = sizeof(zv_http_header),
                           .timeout_ms = s->timeout_ms,
                           .ca_file = s->ca,
                           .cert_file = s->cert,
                           .key_file = s->key,
                           .bearer_token = s->token};
    p->ex = ex;
    p->s = s;
    p->call = s->host->http_request(s->ctx, &req, fetched, p);
    if (!p->call) return -1;
    p->next = s->fetching;
    if (p->next) p->next->prev = p;
    s->fetching = p;
    return 0;
}

static void on_request(zv_http_exchange *ex, void *arg)
{
    wh_src *s = arg;
    size_t len = 0;
    const char *body = s->host->ex_body(ex, &len);
    char why[512];
    if (s->stopped) {
        reply(s, ex, 503, "stopping");
        return;
    }
    if (strcmp(s->host->ex_method(ex), "POST") != 0) {
        reply(s, ex, 405, "POST only");
        return;
    }
    if ((int64_t)len > s->max_body) {
        s->host->count(s->ctx, "rejected_too_large", 1);
        {
            reply(s, ex, 413, "body too large");
            return;
        }
    }
    if (!wh_mac_ok(s->mac, body, len, s->host->ex_header(ex, s->sig_header))) {
        s->host->count(s->ctx, "rejected_signature", 1);
        s->host->log(s->ctx, ZV_LOG_WARN, "webhook %s: request without a valid signature", s->path);
        {
            reply(s, ex, 401, "missing or wrong signature");
            return;
        }
    }
    wh_pending *p = calloc(1, sizeof(*p));
    if (!p) {
        reply(s, ex, 503, "out of memory");
        return;
    }
    char err[200], hex[65];
    zv_json_doc *doc = zv_json_parse(body, len, 0, err, sizeof(err));
    const zv_json *root = zv_json_root(doc);
    ptr_value(root, s->event_ptr, p->event_id, sizeof(p->event_id));
    if (!safe_id(p->event_id, strlen(p->event_id))) {
        zv_sha256_hex(body, len, hex);
        snprintf(p->event_id, sizeof(p->event_id), "sha256:%.40s", hex);
    }
    ptr_value(root, s->id_ptr, p->record_id, sizeof(p->record_id));
    /* The item type comes from the record (type_pointer), not from the
     * event, so the same record looks the same whatever event announced it. */
    if (s->item_type) snprintf(p->type, sizeof(p->type), "%s", s->item_type);
    if (seen_event(s, p->event_id)) {
        s->host->count(s->ctx, "replayed", 1);
        reply(s, ex, 202, "already received");
        goto done;
    }
    if (!doc || zv_json_type_of(root) != ZV_JSON_OBJECT) {
        s->host->count(s->ctx, "rejected_json", 1);
        snprintf(why, sizeof(why), "webhook body is not a JSON object: %s",
                 doc ? "another JSON value" : err);
        answer_with(s, ex, 400, "body is not a JSON object (kept)");
        int rc = store_failure(s, p->event_id, "", why, body, len, p->event_id);
        s->reply_ex = NULL;
        if (rc != 1)
            reply(s, ex, rc == 0 ? 400 : 503,
                  rc == 0 ? "body is not a JSON object (kept)" : "retry");
        goto done;
    }
    if (!s->fetch_url) {
        answer_with(s, ex, 202, "accepted");
        int rc = store_json(s, body, len, p->record_id[0] ? p->record_id : p->event_id, p->type,
                            p->event_id, why, sizeof(why));
        s->reply_ex = NULL;
        if (rc == 1) goto done; /* answered when durable */
        if (rc == 0)
            s->host->count(s->ctx, "accepted", 1);
        else
            s->host->log(s->ctx, ZV_LOG_ERROR,
                         "webhook %s: event %s could not be stored; answered 503, the sender "
                         "retries",
                         s->path, p->event_id);
        reply(s, ex, rc == 0 ? 202 : 503, rc == 0 ? "accepted" : "could not store; retry later");
        goto done;
    }
    if (!safe_id(p->record_id, strlen(p->record_id))) {
        snprintf(why, sizeof(why), "event has no usable record id at %s", s->id_ptr);
        answer_with(s, ex, 400, "no usable record id (kept)");
        int rc = store_failure(s, p->event_id, p->type, why, body, len, p->event_id);
        s->reply_ex = NULL;
        if (rc != 1)
            reply(s, ex, rc == 0 ? 400 : 503, rc == 0 ? "no usable record id (kept)" : "retry");
        goto done;
    }
    zv_json_free(doc);
    doc = NULL;
    int known = received_before(s, p->event_id);
    if (known != 0) {
        reply(s, ex, known > 0 ? 202 : 503, known > 0 ? "already received" : "retry");
        free(p);
        return;
    }
    if (start_fetch(s, ex, p) != 0) {
        free(p);
        reply(s, ex, 503, "cannot fetch the record; retry later");
    }
    return;
done:
    zv_json_free(doc);
    free(p);
}

static int wh_create(zv_ctx *ctx, const zv_host *host, void **state, char *err, size_t errlen)
{
    wh_src *s = calloc(1, sizeof(*s));
    if (!s) return -1;
    s->ctx = ctx;
    s->host = host;
    const wh_conf *c = host->config(ctx);
    const char *path = c->path;
    if (path)
        snprintf(s->path, sizeof(s->path), "%s", path);
    else
        snprintf(s->path, sizeof(s->path), "/webhook/%s", host->instance_name(ctx));
    s->secret = c->secret;
    s->sig_header = c->sig_header;
    s->id_ptr = c->id_ptr;
    s->event_ptr = c->event_ptr;
    s->type_ptr = c->type_ptr;
    s->item_type = c->item_type;
    s->fetch_url = c->fetch_url;
    s->token = c->token;
    s->cert = c->cert;
    s->key = c->key;
    s->ca = c->ca;
    s->max_body = c->max_body;
    s->window = c->window;
    s->timeout_ms = c->timeout_ms;
    const char *bad = NULL;
    if (s->path[0] != '/')
        bad = "path: must start with /";
    else if (s->fetch_url && strncmp(s->fetch_url, "https://", 8) != 0 &&
             strncmp(s->fetch_url, "http://127.0.0.1", 16) != 0 &&
             strncmp(s->fetch_url, "http://localhost", 16) != 0)
        bad = "fetch_url: https:// (plain http only to the local machine)";
    else if ((s->cert != NULL) != (s->key != NULL))
        bad = "cert_file and key_file go together";
    if (bad || !(s->flat = zv_json_flat_new())) {
        snprintf(err, errlen, "%s", bad ? bad : "out of memory");
        free(s);
        return -1;
    }
    if (!(s->mac = wh_mac_new(s->secret))) {
        snprintf(err, errlen, "cannot make the HMAC-SHA512 key state (OpenSSL)");
        zv_json_flat_free(s->flat);
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int wh_start(void *state)
{
    wh_src *s = state;
    if (s->host->http_route(s->ctx, s->path, on_request, s) != 0) {
        s->host->log(s->ctx, ZV_LOG_ERROR, "webhook: cannot register route %s", s->path);
        return -1;
    }
    /* The listener refuses bodies over max_body before reading them; an
     * older core without the call reads them and on_request says 413. */
    if (ZV_HOST_HAS(s->host, http_route_limit))
        s->host->http_route_limit(s->ctx, s->path, (size_t)s->max_body);
    s->t_staged_base = staged_now(s);
    if ((s->summary = s->host->timer_new(s->ctx, on_summary, s)))
        s->host->timer_arm(s->summary, SUMMARY_MS);
    return 0;
}

static int wh_drain(void *state)
{
    wh_src *s = state;
    /* Events are pushed to us: nothing to fetch in once mode. */
    s->host->drained(s->ctx);
    return 0;
}

static void wh_stop(void *state)
{
    wh_src *s = state;
    s->stopped = 1;
    log_summary(s);
    if (s->summary) s->host->timer_cancel(s->summary);
}

static void wh_destroy(void *state)
{
    wh_src *s = state;
    if (!s) return;
    zv_json_flat_free(s->flat);
    s->flat = NULL;
    wh_mac_free(s->mac);
    s->mac = NULL;
    window_forget(s);
    if (s->summary) s->host->timer_free(s->summary);
    s->summary = NULL;
    /* Fetches still in flight never call back once cancelled; their
     * senders get 503 and retry. */
    while (s->fetching) {
        wh_pending *p = s->fetching;
        unlink_fetch(p);
        s->host->http_cancel(p->call);
        s->host->ex_reply(p->ex, 503, "text/plain", "stopping\n", 9);
        free(p);
    }
    free(s);
}

static const zv_source_ops ops = {ZV_SIZED(zv_source_ops), wh_start, wh_drain, wh_stop};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_SOURCE, "webhook"),
    .version = "1.0",
    .description = "Signed ECD webhooks (HMAC-SHA512), id-only events fetched from the ECD",
    ZV_OPTIONS(options, wh_conf),
    .create = wh_create,
    .destroy = wh_destroy,
    .source = &ops,
};
