/*
 * The notifications waiting for their query.  Each is kept in the source's
 * watermark "pending" (a JSON array), written in the unit that took the
 * notification and in the unit that emitted its answer, so a notification
 * the PEP got a 200 for is never lost: after a restart the queries resume.
 * A query that cannot be made now (no token, no answer, 408/429/5xx) waits
 * with a doubling delay and is the instance's problem; any other answer
 * ends it (the answer's objects, or why there is none, go to the mapping).
 */
#include "bmr.h"

#include "nmc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WM_KEY "pending"
#define MAX_DELAY_MS (5 * 60 * 1000)

int bmr_pending_save(bmr *b)
{
    zv_jw *w = zv_jw_new(0);
    if (!w) return -1;
    zv_jw_arr_open(w);
    for (size_t i = 0; i < b->npend; i++) {
        zv_jw_obj_open(w);
        zv_jw_key(w, "id");
        zv_jw_str(w, b->pend[i].id);
        zv_jw_key(w, "event");
        zv_jw_str(w, b->pend[i].event);
        zv_jw_key(w, "from");
        zv_jw_str(w, b->pend[i].from);
        zv_jw_obj_close(w);
    }
    zv_jw_arr_close(w);
    const char *s;
    size_t len;
    int rc = zv_jw_result(w, &s, &len) == 0 ? b->host->watermark_set(b->ctx, WM_KEY, s) : -1;
    zv_jw_free(w);
    return rc;
}

static int add(bmr *b, const char *id, const char *event, const char *from)
{
    size_t i = 0;
    while (i < b->npend && strcmp(b->pend[i].id, id) != 0)
        i++;
    if (i == b->npend) {
        if (b->npend == b->cap) {
            size_t cap = b->cap ? b->cap * 2 : 16;
            bmr_pending *n = realloc(b->pend, cap * sizeof(*n));
            if (!n) return -1;
            b->pend = n;
            b->cap = cap;
        }
        memset(&b->pend[i], 0, sizeof(b->pend[i]));
        snprintf(b->pend[i].id, sizeof(b->pend[i].id), "%s", id);
        b->npend++;
    }
    /* A newer notification of the same object: ask again, now. */
    bmr_pending *p = &b->pend[i];
    snprintf(p->event, sizeof(p->event), "%s", event);
    snprintf(p->from, sizeof(p->from), "%s", from ? from : "");
    p->due_ms = 0;
    p->attempts = 0;
    return 0;
}

int bmr_pending_add(bmr *b, const char *id, const char *event, const char *from)
{
    return add(b, id, event, from) < 0 ? -1 : bmr_pending_save(b);
}

void bmr_pending_remove(bmr *b, size_t i)
{
    memmove(&b->pend[i], &b->pend[i + 1], (b->npend - i - 1) * sizeof(b->pend[0]));
    b->npend--;
}

int bmr_pending_load(bmr *b)
{
    char buf[65536];
    if (b->host->watermark_get(b->ctx, WM_KEY, buf, sizeof(buf)) < 0 || !buf[0]) return 0;
    char err[128];
    zv_json_doc *d = zv_json_parse(buf, strlen(buf), 0, err, sizeof(err));
    const zv_json *a = d ? zv_json_root(d) : NULL;
    for (size_t i = 0; i < zv_json_len(a); i++) {
        const zv_json *o = zv_json_at(a, i);
        const char *id = zv_json_str(zv_json_get(o, "id"), NULL);
        const char *ev = zv_json_str(zv_json_get(o, "event"), NULL);
        if (id && ev) add(b, id, ev, zv_json_str(zv_json_get(o, "from"), NULL));
    }
    zv_json_free(d);
    return 0;
}

struct bmr_call {
    bmr *b;
    char id[40];
    int retried_token;
    zv_http_call *http; /* the query under way, cancelled in destroy */
    bmr_call *next;
};
typedef bmr_call call;

static void unlink_call(call *c)
{
    for (call **p = &c->b->calls; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            return;
        }
}

void bmr_calls_cancel(bmr *b)
{
    while (b->calls) {
        call *c = b->calls;
        b->calls = c->next;
        if (c->http) b->host->http_cancel(c->http);
        free(c);
    }
}

static bmr_pending *find(bmr *b, const char *id, size_t *idx)
{
    for (size_t i = 0; i < b->npend; i++)
        if (!strcmp(b->pend[i].id, id)) {
            if (idx) *idx = i;
            return &b->pend[i];
        }
    return NULL;
}

static void problem(bmr *b, const char *why)
{
    snprintf(b->last_error, sizeof(b->last_error), "%s", why);
    if (ZV_HOST_HAS(b->host, problem)) b->host->problem(b->ctx, why);
}

/* The query waits: a doubling delay from retry_ms, at most five minutes. */
static void later(bmr *b, const char *id, const char *why)
{
    bmr_pending *p = find(b, id, NULL);
    if (!p) return;
    p->inflight = 0;
    p->attempts++;
    int64_t d = b->retry_ms;
    for (int i = 1; i < p->attempts && d < MAX_DELAY_MS; i++)
        d *= 2;
    if (d > MAX_DELAY_MS) d = MAX_DELAY_MS;
    p->due_ms = zv_now_ms() + d;
    char msg[512];
    snprintf(msg, sizeof(msg), "Bemiddelingsregister: %s; %zu notification(s) wait for their query",
             why, b->npend);
    problem(b, msg);
    b->host->log(b->ctx, ZV_LOG_WARN, "query for bemiddelingspecificatie %s waits %llds: %s", id,
                 (long long)(d / 1000), why);
    bmr_kick(b);
}

/* The query is answered: its objects (or why none) go to the mapping, and
 * it leaves the pending list, in one unit. */
static void settle(bmr *b, const char *id, const zv_json *objs, const char *refusal)
{
    size_t idx;
    if (!find(b, id, &idx)) return;
    char why[512] = "";
    int rc = 0;
    if (refusal) {
        rc = bmr_emit_problem(b, id, b->item_type, refusal);
    } else if (!zv_json_len(objs)) {
        snprintf(why, sizeof(why),
                 "the Bemiddelingsregister has no bemiddelingspecificatie %s for instelling %s", id,
                 b->instelling);
        rc = bmr_emit_problem(b, id, b->item_type, why);
    }
    for (size_t i = 0; rc >= 0 && !refusal && i < zv_json_len(objs); i++)
        rc = bmr_emit_answer(b, zv_json_at(objs, i), why, sizeof(why));
    bmr_pending kept = b->pend[idx];
    bmr_pending_remove(b, idx);
    if (rc < 0 || bmr_pending_save(b) < 0 || b->host->commit(b->ctx) < 0) {
        /* Nothing of it is kept (the watermark still lists it): ask again
         * later. */
        b->host->rollback(b->ctx);
        b->pend[b->npend++] = kept; /* the slot it left is still allocated */
        later(b, id, "the answer could not be stored");
        return;
    }
    b->last_error[0] = '\0';
    if (ZV_HOST_HAS(b->host, problem)) b->host->problem(b->ctx, NULL);
    b->host->log(b->ctx, ZV_LOG_INFO,
                 "bemiddelingspecificatie %s: %zu object(s) from the register%s", id,
                 zv_json_len(objs), refusal ? " (refused)" : "");
    bmr_kick(b);
}

static int retryable(int s)
{
    return s == 0 || s == 408 || s == 425 || s == 429 || s >= 500;
}

static void send_query(nm *t, const char *token, const char *error, void *arg);

static void on_answer(const zv_http_response *r, void *arg)
{
    call *c = arg;
    bmr *b = c->b;
    c->http = NULL;
    char why[400], err[128];
    if (r->status == 401 && !c->retried_token) {
        nm_token_drop(&b->tok);
        c->retried_token = 1;
        if (nm_token_get(&b->tok, send_query, c) == 0) return;
    }
    zv_json_doc *d = r->body_len ? zv_json_parse(r->body, r->body_len, 0, err, sizeof(err)) : NULL;
    const zv_json *root = d ? zv_json_root(d) : NULL;
    const zv_json *errs = zv_json_get(root, "errors");
    const char *msg = zv_json_str(zv_json_get(zv_json_at(errs, 0), "message"), NULL);
    const zv_json *objs = zv_json_get(zv_json_get(root, "data"), b->answer_root);
    if (r->status == 0)
        snprintf(why, sizeof(why), "query: %s", r->error ? r->error : "no response");
    else
        snprintf(why, sizeof(why), "query: HTTP %d%s%.300s", r->status, msg ? ": " : "",
                 msg ? msg : "");
    for (char *p = why; *p; p++)
        if ((unsigned char)*p < 0x20) *p = ' ';
    zv_bsn_scrub(why);
    if (r->status == 200 && !zv_json_len(errs) && zv_json_type_of(objs) == ZV_JSON_ARRAY)
        settle(b, c->id, objs, NULL);
    else if (retryable(r->status) || r->status == 401)
        later(b, c->id, why);
    else
        settle(b, c->id, NULL, why); /* refused for good: to quarantine with the reason */
    zv_json_free(d);
    unlink_call(c);
    free(c);
}

/* {"BemiddelingspecificatieID": "{id}", "Instelling": "{instelling}"} */
static void variables(bmr *b, zv_jw *w, const char *id)
{
    zv_jw_obj_open(w);
    for (size_t i = 0; i < zv_json_len(b->vars); i++) {
        const char *v = zv_json_str(zv_json_at(b->vars, i), NULL);
        zv_jw_key(w, zv_json_key_at(b->vars, i));
        if (v && !strcmp(v, "{id}"))
            zv_jw_str(w, id);
        else if (v && !strcmp(v, "{instelling}"))
            zv_jw_str(w, b->instelling);
        else
            zv_jw_value(w, zv_json_at(b->vars, i));
    }
    zv_jw_obj_close(w);
}

static void send_query(nm *t, const char *token, const char *error, void *arg)
{
    (void)t;
    call *c = arg;
    bmr *b = c->b;
    if (!token) {
        char why[300];
        snprintf(why, sizeof(why), "%s", error ? error : "no token");
        later(b, c->id, why);
        unlink_call(c);
        free(c);
        return;
    }
    zv_jw *w = zv_jw_new(0);
    zv_jw_obj_open(w);
    zv_jw_key(w, "query");
    zv_jw_str(w, b->query);
    zv_jw_key(w, "variables");
    variables(b, w, c->id);
    zv_jw_obj_close(w);
    const char *body;
    size_t len = 0;
    zv_jw_result(w, &body, &len);
    char trace[33], span[17];
    zv_nm_b3(trace, span);
    zv_http_header hdr[] = {{"Content-Type", "application/json"},
                            {"Accept", "application/graphql-response+json"},
                            {"X-B3-TraceId", trace},
                            {"X-B3-SpanId", span}};
    zv_http_request req = {ZV_SIZED(zv_http_request),
                           .method = "POST",
                           .url = b->url,
                           .headers = hdr,
                           .nheaders = ZV_COUNT(hdr),
                           .header_size = sizeof(hdr[0]),
                           .body = body,
                           .body_len = len,
                           .timeout_ms = b->tok.timeout_ms,
                           .ca_file = b->tok.ca_file,
                           .cert_file = b->tok.cert_file,
                           .key_file = b->tok.key_file,
                           .bearer_token = token,
                           .max_response = 1048576};
    if (!(c->http = b->host->http_request(b->ctx, &req, on_answer, c))) {
        later(b, c->id, "cannot start the request");
        unlink_call(c);
        free(c);
    }
    zv_jw_free(w);
}

static void timer_cb(void *arg)
{
    bmr_kick(arg);
}

void bmr_kick(bmr *b)
{
    if (!b->started) return;
    int64_t now = zv_now_ms(), next = -1;
    for (size_t i = 0; i < b->npend; i++) {
        bmr_pending *p = &b->pend[i];
        if (p->inflight) continue;
        if (p->due_ms > now) {
            if (next < 0 || p->due_ms < next) next = p->due_ms;
            continue;
        }
        call *c = calloc(1, sizeof(*c));
        if (!c) break;
        c->b = b;
        snprintf(c->id, sizeof(c->id), "%s", p->id);
        p->inflight = 1;
        c->next = b->calls;
        b->calls = c;
        if (nm_token_get(&b->tok, send_query, c) < 0) {
            p->inflight = 0;
            unlink_call(c);
            free(c);
        }
    }
    if (!b->timer) b->timer = b->host->timer_new(b->ctx, timer_cb, b);
    if (b->timer && next >= 0) b->host->timer_arm(b->timer, (uint64_t)(next - now));
    if (b->draining && !b->npend) {
        b->draining = 0;
        b->host->drained(b->ctx);
    }
}
