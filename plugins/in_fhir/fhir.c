/*
 * fhir source: polls a FHIR R4 server (nl-core profiles) for Patient and
 * EpisodeOfCare resources changed since the last poll.
 *
 *   GET <base>/<Type>?_lastUpdated=gt<watermark>&_sort=_lastUpdated&_count=N
 *       (EpisodeOfCare also &_include=EpisodeOfCare:patient)
 *   then Bundle.link[next] until there is none.
 *
 * Watermarks per resource type: "<Type>.lastUpdated" (highest
 * meta.lastUpdated fully processed), and while paging "<Type>.next" (the
 * next page's URL) with "<Type>.max"; each page's records are committed
 * together with them, so a restart continues at the page it was on.
 *
 * Errors: 429 and 5xx (and transport failures) are retried with
 * exponential backoff, honouring Retry-After.  Any other failure, an
 * OperationOutcome, a body that is not a Bundle, or a next link that
 * fails or leaves the server, ends this poll for the type (logged and
 * counted as "fhir_errors"); the next poll starts again from the committed
 * lastUpdated, and the core's de-duplication absorbs what is seen twice.
 */
#include "fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const zv_option options[] = {
    {"base_url", ZV_OPT_STRING, NULL, ZV_OPT_REQUIRED, "FHIR base, e.g. https://ecd/fhir"},
    {"resources", ZV_OPT_STRING, "Patient,EpisodeOfCare", 0, "Resource types to poll"},
    {"poll_interval", ZV_OPT_STRING, "5m", 0, "Time between polls"},
    {"page_size", ZV_OPT_INT, "100", 0, "_count per page"},
    {"since", ZV_OPT_STRING, NULL, 0, "First poll: only resources updated after this instant"},
    {"bearer_token", ZV_OPT_STRING, NULL, ZV_OPT_SECRET, "Bearer token"},
    {"cert_file", ZV_OPT_STRING, NULL, ZV_OPT_PATH, "mTLS client certificate (PEM)"},
    {"key_file", ZV_OPT_STRING, NULL, ZV_OPT_PATH | ZV_OPT_SECRET, "mTLS client key (PEM)"},
    {"ca_file", ZV_OPT_STRING, NULL, ZV_OPT_PATH, "CA bundle for the server certificate"},
    {"timeout", ZV_OPT_STRING, "60s", 0, "Timeout of one request"},
    {"backoff_initial", ZV_OPT_STRING, "2s", 0, "First retry delay after 429 / 5xx"},
    {"backoff_max", ZV_OPT_STRING, "10m", 0, "Longest retry delay"},
    {"max_retries", ZV_OPT_INT, "8", 0, "Retries of one request before this poll gives up"},
    {NULL, 0, NULL, 0, NULL}};

#define MAX_TYPES 4

typedef struct fh_src {
    zv_ctx *ctx;
    const zv_host *host;
    char base[1024];
    char origin[512]; /* scheme://host:port of base: next links must stay there */
    char types[MAX_TYPES][32];
    int ntypes, cur;
    int64_t poll_ms, page_size, timeout_ms, backoff0_ms, backoff_max_ms, max_retries;
    const char *since, *token, *cert, *key, *ca;
    zv_timer *timer;
    char url[4096]; /* the request in progress / to retry */
    int is_next;    /* url is a next link */
    int retries;
    int busy, draining, stopped, dying, inflight;
    char max[64]; /* highest meta.lastUpdated of this type's paging so far */
    fh_flat flat;
} fh_src;

static void poll_type(fh_src *s);
static void request(fh_src *s);

static void wm_key(fh_src *s, const char *what, char *out, size_t len)
{
    snprintf(out, len, "%s.%s", s->types[s->cur], what);
}

static void finish_poll(fh_src *s)
{
    s->busy = 0;
    if (s->draining) {
        s->draining = 0;
        s->host->drained(s->ctx);
    }
    if (!s->stopped) s->host->timer_arm(s->timer, (uint64_t)s->poll_ms);
}

static void next_type(fh_src *s)
{
    s->cur++;
    if (s->cur >= s->ntypes) {
        finish_poll(s);
        return;
    }
    poll_type(s);
}

static void fail_type(fh_src *s, const char *what)
{
    s->host->log(s->ctx, ZV_LOG_WARN, "fhir: %s %s: %s", s->types[s->cur],
                 s->is_next ? "paging" : "search", what);
    s->host->count(s->ctx, "fhir_errors", 1);
    char k[64];
    /* A next link that failed is not tried again: start over next poll. */
    if (s->is_next) {
        wm_key(s, "next", k, sizeof(k));
        s->host->watermark_set(s->ctx, k, "");
        s->host->commit(s->ctx);
        s->host->count(s->ctx, "paging_restarted", 1);
    }
    next_type(s);
}

static void retry_later(fh_src *s, long retry_after_s, const char *what)
{
    if (++s->retries > s->max_retries) {
        fail_type(s, what);
        return;
    }
    int64_t ms = s->backoff0_ms;
    for (int i = 1; i < s->retries && ms < s->backoff_max_ms; i++)
        ms *= 2;
    if (retry_after_s > 0 && retry_after_s * 1000 > ms) ms = retry_after_s * 1000;
    if (ms > s->backoff_max_ms) ms = s->backoff_max_ms;
    s->host->log(s->ctx, ZV_LOG_NOTICE, "fhir: %s: %s; retry in %lld ms", s->types[s->cur], what,
                 (long long)ms);
    s->host->count(s->ctx, "fhir_retries", 1);
    s->host->timer_arm(s->timer, (uint64_t)ms);
}

/* First issue of an OperationOutcome as text. */
static void outcome_text(const zv_json *oo, char *out, size_t len)
{
    const zv_json *issue = zv_json_at(zv_json_get(oo, "issue"), 0);
    const char *sev = zv_json_str(zv_json_get(issue, "severity"), NULL);
    const char *code = zv_json_str(zv_json_get(issue, "code"), NULL);
    const char *diag = zv_json_str(zv_json_get(issue, "diagnostics"), NULL);
    if (!diag) diag = zv_json_str(zv_json_pointer(issue, "/details/text"), NULL);
    snprintf(out, len, "OperationOutcome %s/%s: %.300s", sev ? sev : "?", code ? code : "?",
             diag ? diag : "(no diagnostics)");
    zv_bsn_scrub(out);
}

static const zv_json *find_included(const zv_json *entries, const char *ref)
{
    for (size_t i = 0; ref && i < zv_json_len(entries); i++) {
        const zv_json *r = zv_json_get(zv_json_at(entries, i), "resource");
        const char *t = zv_json_str(zv_json_get(r, "resourceType"), NULL);
        const char *id = zv_json_str(zv_json_get(r, "id"), NULL);
        size_t tl = t ? strlen(t) : 0;
        if (t && id && strncmp(ref, t, tl) == 0 && ref[tl] == '/' && strcmp(ref + tl + 1, id) == 0)
            return r;
    }
    return NULL;
}

/* Emit every "match" entry of the page; -1 when the store failed. */
static int emit_page(fh_src *s, const zv_json *bundle)
{
    const zv_json *entries = zv_json_get(bundle, "entry");
    const char *want = s->types[s->cur];
    for (size_t i = 0; i < zv_json_len(entries); i++) {
        const zv_json *e = zv_json_at(entries, i);
        const char *mode = zv_json_str(zv_json_pointer(e, "/search/mode"), NULL);
        if (mode && strcmp(mode, "match") != 0) continue; /* _include: joined below */
        const zv_json *r = zv_json_get(e, "resource");
        const char *t = zv_json_str(zv_json_get(r, "resourceType"), NULL);
        if (!t || strcmp(t, want) != 0) continue;
        const char *id = zv_json_str(zv_json_get(r, "id"), NULL);
        const char *lu = zv_json_str(zv_json_pointer(r, "/meta/lastUpdated"), NULL);
        if (lu && strlen(lu) < sizeof(s->max) && strcmp(lu, s->max) > 0)
            snprintf(s->max, sizeof(s->max), "%s", lu);
        fh_flat_reset(&s->flat);
        fh_flatten(&s->flat, r, NULL);
        if (strcmp(t, "EpisodeOfCare") == 0) {
            const char *ref = zv_json_str(zv_json_pointer(r, "/patient/reference"), NULL);
            const zv_json *p = find_included(entries, ref);
            if (p) fh_flatten(&s->flat, p, "Patient");
        }
        if (fh_flat_finish(&s->flat) < 0) return -1;
        char rid[200];
        snprintf(rid, sizeof(rid), "%s/%s", t, id ? id : "?");
        zv_item it = {t, rid, s->flat.fields, s->flat.n};
        if (s->host->emit(s->ctx, &it) < 0) return -1;
    }
    return 0;
}

static const char *next_link(const zv_json *bundle)
{
    const zv_json *links = zv_json_get(bundle, "link");
    for (size_t i = 0; i < zv_json_len(links); i++) {
        const zv_json *l = zv_json_at(links, i);
        const char *rel = zv_json_str(zv_json_get(l, "relation"), NULL);
        if (rel && strcmp(rel, "next") == 0) return zv_json_str(zv_json_get(l, "url"), NULL);
    }
    return NULL;
}

static void on_response(const zv_http_response *resp, void *arg)
{
    fh_src *s = arg;
    char why[512], err[200], k[64];
    s->inflight = 0;
    if (s->dying) {
        free(s);
        return;
    }
    if (s->stopped) return;
    if (resp->status == 0 || resp->status == 429 || resp->status >= 500) {
        snprintf(why, sizeof(why), "%s%d", resp->status ? "HTTP " : "", resp->status);
        if (!resp->status)
            snprintf(why, sizeof(why), "%s", resp->error ? resp->error : "no answer");
        {
            retry_later(s, resp->retry_after_s, why);
            return;
        }
    }
    zv_json_doc *doc = zv_json_parse(resp->body, resp->body_len, 0, err, sizeof(err));
    const zv_json *root = zv_json_root(doc);
    const char *rt = zv_json_str(zv_json_get(root, "resourceType"), NULL);
    if (rt && strcmp(rt, "OperationOutcome") == 0) {
        outcome_text(root, why, sizeof(why));
        zv_json_free(doc);
        {
            fail_type(s, why);
            return;
        }
    }
    if (resp->status != 200 || !rt || strcmp(rt, "Bundle") != 0) {
        snprintf(why, sizeof(why), "HTTP %d, %s", resp->status, !doc ? "not JSON" : "not a Bundle");
        zv_json_free(doc);
        {
            fail_type(s, why);
            return;
        }
    }
    s->retries = 0;
    if (emit_page(s, root) < 0) {
        zv_json_free(doc);
        {
            retry_later(s, -1, "store unavailable");
            return;
        }
    }
    const char *next = next_link(root);
    if (next && strncmp(next, s->origin, strlen(s->origin)) != 0) {
        zv_json_free(doc);
        /* Never follow (and send credentials) to another server. */
        {
            fail_type(s, "next link points to another server");
            return;
        }
    }
    wm_key(s, "next", k, sizeof(k));
    s->host->watermark_set(s->ctx, k, next ? next : "");
    wm_key(s, "max", k, sizeof(k));
    s->host->watermark_set(s->ctx, k, s->max);
    if (!next && s->max[0]) {
        wm_key(s, "lastUpdated", k, sizeof(k));
        s->host->watermark_set(s->ctx, k, s->max);
    }
    if (next && strlen(next) < sizeof(s->url)) snprintf(s->url, sizeof(s->url), "%s", next);
    zv_json_free(doc);
    if (s->host->commit(s->ctx) != 0) {
        retry_later(s, -1, "commit failed");
        return;
    }
    if (!next) {
        next_type(s);
        return;
    }
    s->is_next = 1;
    request(s);
}

static void request(fh_src *s)
{
    zv_http_header hdr[] = {{"Accept", "application/fhir+json"}};
    zv_http_request req = {.method = "GET",
                           .url = s->url,
                           .headers = hdr,
                           .nheaders = 1,
                           .timeout_ms = s->timeout_ms,
                           .ca_file = s->ca,
                           .cert_file = s->cert,
                           .key_file = s->key,
                           .bearer_token = s->token};
    if (s->host->http_request(s->ctx, &req, on_response, s) != 0)
        fail_type(s, "bad request URL");
    else
        s->inflight = 1;
}

/* Percent-encode what a FHIR instant can contain in a query. */
static void enc(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (; *in && o + 4 < len; in++) {
        if (*in == '+' || *in == ':' || *in == ' ')
            o += (size_t)snprintf(out + o, len - o, "%%%02X", (unsigned char)*in);
        else
            out[o++] = *in;
    }
    out[o] = '\0';
}

static void poll_type(fh_src *s)
{
    char k[64], wm[4096] = "", next[4096] = "";
    s->retries = 0;
    s->max[0] = '\0';
    wm_key(s, "next", k, sizeof(k));
    s->host->watermark_get(s->ctx, k, next, sizeof(next));
    if (next[0]) { /* resume paging where a restart interrupted it */
        wm_key(s, "max", k, sizeof(k));
        s->host->watermark_get(s->ctx, k, s->max, sizeof(s->max));
        snprintf(s->url, sizeof(s->url), "%s", next);
        s->is_next = 1;
        {
            request(s);
            return;
        }
    }
    wm_key(s, "lastUpdated", k, sizeof(k));
    if (s->host->watermark_get(s->ctx, k, wm, sizeof(wm)) != 0 && s->since)
        snprintf(wm, sizeof(wm), "%s", s->since);
    char e[256] = "";
    if (wm[0]) enc(wm, e, sizeof(e));
    snprintf(s->url, sizeof(s->url), "%s/%s?_sort=_lastUpdated&_count=%lld%s%s%s", s->base,
             s->types[s->cur], (long long)s->page_size, e[0] ? "&_lastUpdated=gt" : "", e,
             strcmp(s->types[s->cur], "EpisodeOfCare") == 0 ? "&_include=EpisodeOfCare:patient"
                                                            : "");
    s->is_next = 0;
    request(s);
}

static void on_timer(void *arg)
{
    fh_src *s = arg;
    if (s->stopped) return;
    if (s->busy) {
        request(s);
        return;
    } /* a retry after backoff */
    s->busy = 1;
    s->cur = 0;
    poll_type(s);
}

static int fh_create(zv_ctx *ctx, const zv_host *host, void **state, char *err, size_t errlen)
{
    fh_src *s = calloc(1, sizeof(*s));
    if (!s) return -1;
    s->ctx = ctx;
    s->host = host;
    const char *base = host->cfg_str(ctx, "base_url");
    snprintf(s->base, sizeof(s->base), "%s", base ? base : "");
    size_t bl = strlen(s->base);
    while (bl && s->base[bl - 1] == '/')
        s->base[--bl] = '\0';
    const char *scheme_end = strstr(s->base, "://");
    const char *host_end = scheme_end ? strchr(scheme_end + 3, '/') : NULL;
    size_t ol = host_end ? (size_t)(host_end - s->base) : bl;
    snprintf(s->origin, sizeof(s->origin), "%.*s/", (int)ol, s->base);
    char list[256];
    snprintf(list, sizeof(list), "%s", host->cfg_str(ctx, "resources"));
    for (char *save, *t = strtok_r(list, ", ", &save); t && s->ntypes < MAX_TYPES;
         t = strtok_r(NULL, ", ", &save))
        snprintf(s->types[s->ntypes++], sizeof(s->types[0]), "%s", t);
    s->poll_ms = zv_duration_parse(host->cfg_str(ctx, "poll_interval")) * 1000;
    s->timeout_ms = zv_duration_parse(host->cfg_str(ctx, "timeout")) * 1000;
    s->backoff0_ms = zv_duration_parse(host->cfg_str(ctx, "backoff_initial")) * 1000;
    s->backoff_max_ms = zv_duration_parse(host->cfg_str(ctx, "backoff_max")) * 1000;
    s->page_size = host->cfg_int(ctx, "page_size");
    s->max_retries = host->cfg_int(ctx, "max_retries");
    s->since = host->cfg_str(ctx, "since");
    s->token = host->cfg_str(ctx, "bearer_token");
    s->cert = host->cfg_str(ctx, "cert_file");
    s->key = host->cfg_str(ctx, "key_file");
    s->ca = host->cfg_str(ctx, "ca_file");
    const char *bad = NULL;
    if (strncmp(s->base, "https://", 8) != 0 && strncmp(s->base, "http://127.0.0.1", 16) != 0 &&
        strncmp(s->base, "http://localhost", 16) != 0)
        bad = "base_url: https:// (plain http only to the local machine)";
    else if (s->ntypes == 0)
        bad = "resources: at least one resource type";
    else if (s->poll_ms <= 0 || s->timeout_ms <= 0 || s->backoff0_ms < 0 || s->backoff_max_ms <= 0)
        bad = "poll_interval, timeout, backoff_initial, backoff_max: durations such as \"5m\"";
    else if (s->page_size < 1 || s->page_size > 1000)
        bad = "page_size: 1 to 1000";
    else if ((s->cert != NULL) != (s->key != NULL))
        bad = "cert_file and key_file go together";
    for (int i = 0; !bad && i < s->ntypes; i++)
        if (strcmp(s->types[i], "Patient") && strcmp(s->types[i], "EpisodeOfCare"))
            bad = "resources: Patient and/or EpisodeOfCare";
    if (bad) {
        snprintf(err, errlen, "%s", bad);
        free(s);
        return -1;
    }
    fh_flat_init(&s->flat);
    s->timer = host->timer_new(ctx, on_timer, s);
    *state = s;
    return 0;
}

static int fh_start(void *state)
{
    fh_src *s = state;
    s->host->timer_arm(s->timer, 0);
    return 0;
}

static int fh_drain(void *state)
{
    fh_src *s = state;
    s->draining = 1;
    if (!s->busy) {
        s->host->timer_cancel(s->timer);
        on_timer(s);
    }
    return 0;
}

static void fh_stop(void *state)
{
    fh_src *s = state;
    s->stopped = 1;
    s->host->timer_cancel(s->timer);
}

static void fh_destroy(void *state)
{
    fh_src *s = state;
    if (!s) return;
    s->host->timer_free(s->timer);
    fh_flat_free(&s->flat);
    /* A request in flight calls back once more: free there. */
    if (s->inflight) {
        s->dying = 1;
        return;
    }
    free(s);
}

static const zv_source_ops ops = {fh_start, fh_drain, fh_stop};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_SOURCE, "fhir"),
    .version = "1.0",
    .description = "FHIR R4 (nl-core) Patient and EpisodeOfCare polling",
    .options = options,
    .create = fh_create,
    .destroy = fh_destroy,
    .source = &ops,
};
