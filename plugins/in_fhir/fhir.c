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
 * Origins are compared parsed (fhir_url.c), never as text.
 */
#include "fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The options as the core stores them (host->config()). */
typedef struct fh_conf {
    const char *base_url, *resources, *since, *token, *cert, *key, *ca;
    int64_t poll_ms, timeout_ms, backoff0_ms, backoff_max_ms;
    int page_size, max_retries;
} fh_conf;

#define AT(m) ZV_OPT_AT(fh_conf, m)
static const zv_option options[] = {
    {.name = "base_url",
     .type = ZV_OPT_STRING,
     .flags = ZV_OPT_REQUIRED,
     AT(base_url),
     .description = "FHIR R4 base, e.g. `https://ecd/fhir` (plain http only to localhost)"},
    {.name = "resources",
     .type = ZV_OPT_STRING,
     .def = "Patient,EpisodeOfCare",
     AT(resources),
     .description = "resource types to poll: `Patient` and/or `EpisodeOfCare`, comma-separated"},
    {.name = "poll_interval",
     .type = ZV_OPT_DURATION,
     .def = "5m",
     .min = 1000,
     AT(poll_ms),
     .description = "time between polls"},
    {.name = "page_size",
     .type = ZV_OPT_INT,
     .def = "100",
     .min = 1,
     .max = 1000,
     AT(page_size),
     .description = "`_count` per page"},
    {.name = "since",
     .type = ZV_OPT_STRING,
     AT(since),
     .description = "lower bound for the very first poll (an instant)"},
    {.name = "bearer_token",
     .type = ZV_OPT_STRING,
     .flags = ZV_OPT_SECRET,
     AT(token),
     .description = "bearer token (or use `cert_file` + `key_file`)"},
    {.name = "cert_file",
     .type = ZV_OPT_PATH,
     AT(cert),
     .description = "mTLS client certificate (PEM); goes with `key_file`"},
    {.name = "key_file",
     .type = ZV_OPT_PATH,
     .flags = ZV_OPT_SECRET,
     AT(key),
     .description = "mTLS client key (PEM)"},
    {.name = "ca_file",
     .type = ZV_OPT_PATH,
     AT(ca),
     .description = "CA bundle for the server certificate"},
    {.name = "timeout",
     .type = ZV_OPT_DURATION,
     .def = "60s",
     .min = 100,
     AT(timeout_ms),
     .description = "of one request"},
    {.name = "backoff_initial",
     .type = ZV_OPT_DURATION,
     .def = "2s",
     AT(backoff0_ms),
     .description =
         "first retry delay after 429, 5xx and transport errors; `Retry-After` is honoured"},
    {.name = "backoff_max",
     .type = ZV_OPT_DURATION,
     .def = "10m",
     .min = 1,
     AT(backoff_max_ms),
     .description = "longest retry delay"},
    {.name = "max_retries",
     .type = ZV_OPT_INT,
     .def = "8",
     .max = 1000,
     AT(max_retries),
     .description = "retries of one request before this poll gives up"},
};

#define MAX_TYPES 4

typedef struct fh_src {
    zv_ctx *ctx;
    const zv_host *host;
    char base[1024];
    char origin[512]; /* scheme://host[:port] of base: every request goes there */
    char types[MAX_TYPES][32];
    int ntypes, cur;
    int64_t poll_ms, page_size, timeout_ms, backoff0_ms, backoff_max_ms, max_retries;
    const char *since, *token, *cert, *key, *ca;
    zv_timer *timer;
    char url[4096]; /* the request in progress / to retry */
    int is_next;    /* url is a next link */
    int retries;
    int busy, draining, stopped;
    zv_http_call *call; /* the search page in flight (the host's), or NULL */
    char max[64];      /* highest meta.lastUpdated of this type's paging so far */
    char searched[64]; /* the first page's Bundle.meta.lastUpdated */
    int missing_lu;    /* resources of this paging without meta.lastUpdated */
    /* What became of this paging's resources, for its one info line. */
    int64_t t_rows, t_new, t_unchanged, t_quarantined, t_staged_base;
    int rebased_logged;
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

/* Length of a reference without its "/_history/<version>". */
static size_t unversioned(const char *ref)
{
    const char *h = strstr(ref, "/_history/");
    return h ? (size_t)(h - ref) : strlen(ref);
}

/* "Type/id" at the end of ref[0..len) names resource r. */
static int names_resource(const char *ref, size_t len, const zv_json *r)
{
    const char *t = zv_json_str(zv_json_get(r, "resourceType"), NULL);
    const char *id = zv_json_str(zv_json_get(r, "id"), NULL);
    if (!t || !id) return 0;
    size_t tl = strlen(t), il = strlen(id);
    if (len < tl + 1 + il || memcmp(ref + len - il, id, il) != 0) return 0;
    const char *tp = ref + len - il - 1 - tl;
    return tp[tl] == '/' && memcmp(tp, t, tl) == 0 && (tp == ref || tp[-1] == '/');
}

/* The resource a reference points to: contained ("#p"), an entry by
 * fullUrl (absolute or urn:uuid), a relative "Patient/1" or one below the
 * server's base, each with or without "/_history/<version>". */
static const zv_json *resolve_ref(const fh_src *s, const zv_json *entries, const zv_json *from,
                                  const char *ref)
{
    if (!ref || !ref[0]) return NULL;
    if (ref[0] == '#') {
        const zv_json *c = zv_json_get(from, "contained");
        for (size_t i = 0; i < zv_json_len(c); i++) {
            const char *id = zv_json_str(zv_json_get(zv_json_at(c, i), "id"), NULL);
            if (id && strcmp(id, ref + 1) == 0) return zv_json_at(c, i);
        }
        return NULL;
    }
    size_t len = unversioned(ref);
    int absolute = strstr(ref, "://") != NULL || strncmp(ref, "urn:", 4) == 0;
    size_t bl = strlen(s->base);
    /* An absolute reference below our own base is a relative one. */
    int ours = absolute && fh_same_origin(ref, s->base) && len > bl &&
               strncmp(ref + fh_origin_len(ref), s->base + fh_origin_len(s->base),
                       bl - fh_origin_len(s->base)) == 0;
    for (size_t i = 0; i < zv_json_len(entries); i++) {
        const zv_json *e = zv_json_at(entries, i);
        const zv_json *r = zv_json_get(e, "resource");
        const char *full = zv_json_str(zv_json_get(e, "fullUrl"), NULL);
        if (full && unversioned(full) == len && strncmp(full, ref, len) == 0) return r;
        if ((!absolute || ours) && names_resource(ref, len, r)) return r;
    }
    return NULL;
}

/* What a Patient says about itself that a destination must know: it died,
 * its record is no longer in use, or it was merged into another one.  The
 * mapping turns these into model fields; here they are logged and counted
 * so they never pass as ordinary clients unseen. */
static void patient_facts(fh_src *s, const zv_json *p, const char *rid)
{
    const zv_json *db = zv_json_get(p, "deceasedBoolean");
    int dead = 0, active = 1;
    if (db) zv_json_bool(db, &dead);
    if (zv_json_get(p, "deceasedDateTime")) dead = 1;
    if (zv_json_get(p, "active")) zv_json_bool(zv_json_get(p, "active"), &active);
    const zv_json *links = zv_json_get(p, "link");
    int merged = 0;
    for (size_t i = 0; i < zv_json_len(links); i++) {
        const char *t = zv_json_str(zv_json_get(zv_json_at(links, i), "type"), NULL);
        merged |= t && strcmp(t, "replaced-by") == 0;
    }
    if (dead) s->host->count(s->ctx, "patients_deceased", 1);
    if (!active) s->host->count(s->ctx, "patients_inactive", 1);
    if (merged) s->host->count(s->ctx, "patients_merged", 1);
    if (dead || !active || merged)
        s->host->log(s->ctx, ZV_LOG_NOTICE, "fhir: %s is%s%s%s", rid, dead ? " deceased" : "",
                     !active ? " inactive" : "", merged ? " merged (replaced-by)" : "");
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
        if (!lu) { /* see no_last_updated() */
            s->missing_lu++;
            lu = s->searched[0] ? s->searched : NULL;
        }
        if (lu && strlen(lu) < sizeof(s->max) && strcmp(lu, s->max) > 0)
            snprintf(s->max, sizeof(s->max), "%s", lu);
        char rid[200];
        snprintf(rid, sizeof(rid), "%s/%s", t, id ? id : "?");
        fh_flat_reset(&s->flat);
        if (fh_flatten(&s->flat, r, NULL) < 0) return -1; /* out of memory */
        if (strcmp(t, "Patient") == 0) patient_facts(s, r, rid);
        if (strcmp(t, "EpisodeOfCare") == 0) {
            const char *ref = zv_json_str(zv_json_pointer(r, "/patient/reference"), NULL);
            const zv_json *p = resolve_ref(s, entries, r, ref);
            if (p) {
                if (fh_flatten(&s->flat, p, "Patient") < 0) return -1;
            } else if (ref) {
                s->host->log(s->ctx, ZV_LOG_WARN, "fhir: %s: patient %.200s is not in the Bundle",
                             rid, ref);
                s->host->count(s->ctx, "unresolved_patients", 1);
            }
        }
        if (s->flat.bad[0]) {
            s->host->count(s->ctx, "bad_text", 1);
            if (fh_flat_error(&s->flat, t, id ? id : "?") < 0) return -1;
        } else if (fh_flat_finish(&s->flat) < 0) {
            return -1;
        }
        zv_item it = {ZV_SIZED(zv_item), t, rid, s->flat.fields, s->flat.n, sizeof(zv_item_field)};
        int rc = s->host->emit(s->ctx, &it);
        if (rc < 0) return -1;
        s->t_rows++;
        s->t_new += rc == ZV_EMIT_STAGED;
        s->t_unchanged += rc == ZV_EMIT_DUPLICATE;
        s->t_quarantined += rc == ZV_EMIT_QUARANTINED;
    }
    return 0;
}

static int64_t staged_now(const fh_src *s)
{
    return ZV_HOST_HAS(s->host, staged_total) ? s->host->staged_total(s->ctx) : -1;
}

/* The one line an administrator looks for per search: what came in and
 * what became of it (issue 14 item 5, like filedrop's per-file line). */
static void log_paging(const fh_src *s)
{
    char staged[64] = "";
    if (s->t_staged_base >= 0)
        snprintf(staged, sizeof(staged), ", %lld staged for destinations",
                 (long long)(staged_now(s) - s->t_staged_base));
    s->host->log(s->ctx, ZV_LOG_INFO,
                 "fhir: %s search processed: %lld resources, %lld new, %lld unchanged, %lld "
                 "quarantined%s",
                 s->types[s->cur], (long long)s->t_rows, (long long)s->t_new,
                 (long long)s->t_unchanged, (long long)s->t_quarantined, staged);
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

/* Resources without meta.lastUpdated (as the Nictiz examples are
 * published) cannot move the watermark themselves: they count as changed at
 * the search's time, the first page's Bundle.meta.lastUpdated.  Without
 * that either, the watermark stays where it was and every poll reads them
 * again (the core's de-duplication absorbs the repeats). */
static void no_last_updated(fh_src *s)
{
    s->host->count(s->ctx, "missing_last_updated", s->missing_lu);
    if (s->searched[0])
        s->host->log(s->ctx, ZV_LOG_WARN,
                     "fhir: %s: %d resources without meta.lastUpdated; the watermark is the "
                     "search time %s (Bundle.meta.lastUpdated)",
                     s->types[s->cur], s->missing_lu, s->searched);
    else
        s->host->log(s->ctx, ZV_LOG_WARN,
                     "fhir: %s: %d resources without meta.lastUpdated and a Bundle without "
                     "meta.lastUpdated: the watermark cannot advance, every poll reads them again",
                     s->types[s->cur], s->missing_lu);
}

static void on_response(const zv_http_response *resp, void *arg)
{
    fh_src *s = arg;
    char why[512], err[200], k[64];
    s->call = NULL;
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
    if (!s->is_next) { /* the search's own time, for resources without lastUpdated */
        const char *b = zv_json_str(zv_json_pointer(root, "/meta/lastUpdated"), NULL);
        snprintf(s->searched, sizeof(s->searched), "%s", b && strlen(b) < 64 ? b : "");
        s->missing_lu = 0;
        s->t_rows = s->t_new = s->t_unchanged = s->t_quarantined = 0;
        s->t_staged_base = staged_now(s);
    }
    if (emit_page(s, root) < 0) {
        /* The page is taken whole or not at all: the retry fetches it again. */
        if (ZV_HOST_HAS(s->host, rollback)) s->host->rollback(s->ctx);
        zv_json_free(doc);
        retry_later(s, -1, "store unavailable");
        return;
    }
    char nextbuf[4096];
    const char *next = next_link(root);
    if (next) {
        /* Next links are always requested from base_url's own origin, so
         * credentials never go elsewhere; a link on another origin is
         * accepted only when its path lies below base_url's (a reverse
         * proxy or a server that names itself differently). */
        int how = fh_next_url(s->base, next, nextbuf, sizeof(nextbuf));
        if (how < 0) {
            zv_json_free(doc);
            /* This page's records are good and kept; only the paging stops
             * (left open, the unit would be rolled back when this callback
             * returns, and every poll would lose the page the same way). */
            s->host->commit(s->ctx);
            fail_type(s, "next link points to another server");
            return;
        }
        if (how == 1 && !s->rebased_logged) {
            s->rebased_logged = 1;
            s->host->log(s->ctx, ZV_LOG_NOTICE,
                         "fhir: %s: next links name another origin (%.100s); following them on "
                         "%s",
                         s->types[s->cur], next, s->origin);
        }
        next = nextbuf;
    }
    wm_key(s, "next", k, sizeof(k));
    s->host->watermark_set(s->ctx, k, next ? next : "");
    wm_key(s, "max", k, sizeof(k));
    s->host->watermark_set(s->ctx, k, s->max);
    wm_key(s, "searched", k, sizeof(k));
    s->host->watermark_set(s->ctx, k, s->searched);
    if (!next && s->missing_lu) no_last_updated(s);
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
        log_paging(s);
        next_type(s);
        return;
    }
    s->is_next = 1;
    request(s);
}

static void request(fh_src *s)
{
    zv_http_header hdr[] = {{"Accept", "application/fhir+json"}};
    zv_http_request req = {ZV_SIZED(zv_http_request),
                           .method = "GET",
                           .url = s->url,
                           .headers = hdr,
                           .nheaders = 1,
                           .header_size = sizeof(zv_http_header),
                           .timeout_ms = s->timeout_ms,
                           .ca_file = s->ca,
                           .cert_file = s->cert,
                           .key_file = s->key,
                           .bearer_token = s->token};
    s->call = s->host->http_request(s->ctx, &req, on_response, s);
    if (!s->call) fail_type(s, "bad request URL");
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
        wm_key(s, "searched", k, sizeof(k));
        s->searched[0] = '\0';
        s->host->watermark_get(s->ctx, k, s->searched, sizeof(s->searched));
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
    const fh_conf *c = host->config(ctx);
    const char *base = c->base_url;
    snprintf(s->base, sizeof(s->base), "%s", base ? base : "");
    size_t bl = strlen(s->base);
    while (bl && s->base[bl - 1] == '/')
        s->base[--bl] = '\0';
    snprintf(s->origin, sizeof(s->origin), "%.*s", (int)fh_origin_len(s->base), s->base);
    char list[256];
    snprintf(list, sizeof(list), "%s", c->resources);
    for (char *save, *t = strtok_r(list, ", ", &save); t && s->ntypes < MAX_TYPES;
         t = strtok_r(NULL, ", ", &save))
        snprintf(s->types[s->ntypes++], sizeof(s->types[0]), "%s", t);
    s->poll_ms = c->poll_ms;
    s->timeout_ms = c->timeout_ms;
    s->backoff0_ms = c->backoff0_ms;
    s->backoff_max_ms = c->backoff_max_ms;
    s->page_size = c->page_size;
    s->max_retries = c->max_retries;
    s->since = c->since;
    s->token = c->token;
    s->cert = c->cert;
    s->key = c->key;
    s->ca = c->ca;
    const char *bad = NULL;
    if (strncmp(s->base, "https://", 8) != 0 && strncmp(s->base, "http://127.0.0.1", 16) != 0 &&
        strncmp(s->base, "http://localhost", 16) != 0)
        bad = "base_url: https:// (plain http only to the local machine)";
    else if (s->ntypes == 0)
        bad = "resources: at least one resource type";
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
    /* A page in flight never calls back once cancelled. */
    if (s->call) s->host->http_cancel(s->call);
    free(s);
}

static const zv_source_ops ops = {ZV_SIZED(zv_source_ops), fh_start, fh_drain, fh_stop};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_SOURCE, "fhir"),
    .version = "1.0",
    .description = "FHIR R4 (nl-core) Patient and EpisodeOfCare polling",
    ZV_OPTIONS(options, fh_conf),
    .create = fh_create,
    .destroy = fh_destroy,
    .source = &ops,
};
