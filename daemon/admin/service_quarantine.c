/*
 * The admin API's quarantine: list (filters source, stage, destination,
 * q, since, state; format=csv for the team that fixes the ECD), show, and
 * the ways out - retry (the raw item through the current configuration),
 * drop - each audited by the store in the same transaction.  zinvolctl and
 * the console call exactly these, through the socket or on the store.
 */
#include "service_int.h"
#include "core/lifecycle.h"
#include "core/log.h"
#include "core/runtime_int.h"
#include "store/store_admin.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *who(const svc *c)
{
    return c->req->who ? c->req->who : "unknown";
}

/* The daemon's shared store on PostgreSQL (the entries of every node are
 * there), NULL on the SQLite file (env->store). */
static zv_sb *shared(const svc *c)
{
    return c->env->rt && c->env->rt->shared ? c->env->rt->sb : NULL;
}

static int query(const svc *c, const zv_quarantine_filter *f, zv_quarantine_cb cb, void *arg)
{
    zv_sb *b = shared(c);
    return b ? zv_sb_quarantine_query(b, f, cb, arg)
             : zv_store_quarantine_query(c->env->store, f, cb, arg);
}

static const char *errmsg(const svc *c)
{
    zv_sb *b = shared(c);
    return b ? zv_sb_errmsg(b) : zv_store_errmsg(c->env->store);
}

/* --since: a date (YYYY-MM-DD, from its start, UTC), unix seconds, or a
 * duration back from now ("2d", "12h").  -1 when it is none of these. */
static int64_t parse_since(const char *s)
{
    if (!s || !*s) return 0;
    int64_t days;
    if (strlen(s) == 10 && zv_date_days(s, &days) == 0) return days * 86400;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end == '\0' && v >= 0) return v;
    int64_t d = zv_duration_parse(s);
    return d >= 0 ? zv_now() - d : -1;
}

typedef struct qlist {
    zv_jw *w;
    zv_buf *csv;
    int64_t limit, n;
    int full;
} qlist;

static void reasons(zv_jw *w, const zv_quarantine_entry *e)
{
    if (e->reasons_json) {
        svc_json_text(w, e->reasons_json);
        return;
    }
    zv_jw_arr_open(w);
    zv_jw_obj_open(w);
    zv_jw_key(w, "field");
    zv_jw_str(w, e->field);
    zv_jw_key(w, "rule");
    zv_jw_str(w, e->rule);
    zv_jw_key(w, "reason");
    svc_str_scrubbed(w, e->reason);
    zv_jw_obj_close(w);
    zv_jw_arr_close(w);
}

static void entry_json(zv_jw *w, const zv_quarantine_entry *e, int full)
{
    zv_jw_obj_open(w);
    zv_jw_key(w, "id");
    zv_jw_int(w, e->id);
    zv_jw_key(w, "created");
    svc_time(w, e->created);
    zv_jw_key(w, "state");
    zv_jw_str(w, e->closed_at ? "closed" : e->state ? e->state : "open");
    zv_jw_key(w, "source");
    zv_jw_str(w, e->source);
    zv_jw_key(w, "record_id");
    svc_str_scrubbed(w, e->record_id);
    zv_jw_key(w, "stage");
    zv_jw_str(w, e->stage);
    zv_jw_key(w, "destination");
    zv_jw_str(w, e->destination);
    zv_jw_key(w, "field");
    zv_jw_str(w, e->field);
    zv_jw_key(w, "rule");
    zv_jw_str(w, e->rule);
    zv_jw_key(w, "reason");
    svc_str_scrubbed(w, e->reason);
    zv_jw_key(w, "due");
    zv_jw_str(w, e->due);
    zv_jw_key(w, "outcome");
    zv_jw_str(w, e->closed_at ? e->state : NULL);
    zv_jw_key(w, "closed_at");
    svc_time(w, e->closed_at);
    if (full) {
        zv_jw_key(w, "reasons");
        reasons(w, e);
        zv_jw_key(w, "outcome_detail");
        svc_str_scrubbed(w, e->outcome_detail);
        zv_jw_key(w, "mapping_version");
        zv_jw_str(w, e->mapping_version);
        zv_jw_key(w, "source_version");
        zv_jw_str(w, e->source_version);
        /* The kept input, BSNs masked: enough to see what to fix. */
        zv_jw_key(w, "item");
        svc_json_text(w, e->item_json);
        zv_jw_key(w, "record_bytes");
        zv_jw_int(w, (int64_t)e->record_len);
    }
    zv_jw_obj_close(w);
}

static void cell(zv_buf *out, const char *s, int first)
{
    if (!first) zv_buf_puts(out, ",");
    char *v = zv_strdup0(s ? s : "");
    if (!v) {
        out->oom = 1;
        return;
    }
    zv_bsn_scrub(v);
    /* A spreadsheet runs a cell starting with = + - @ as a formula. */
    size_t n = strlen(v);
    char *src = malloc(n + 2);
    if (!src) {
        free(v);
        out->oom = 1;
        return;
    }
    snprintf(src, n + 2, "%s%s", v[0] && strchr("=+-@\t\r", v[0]) ? "'" : "", v);
    n = strlen(src);
    size_t need = csv_write(NULL, 0, src, n);
    if (zv_buf_reserve(out, need + 1) == 0) {
        csv_write(out->data + out->len, need, src, n);
        out->len += need;
        out->data[out->len] = '\0';
    }
    free(src);
    free(v);
}

static const char *const CSV_HEADER[] = {"id",        "created",         "state",       "source",
                                         "record_id", "stage",           "destination", "field",
                                         "rule",      "reason",          "all_reasons", "due",
                                         "outcome",   "mapping_version", "item",        NULL};

/* Every reason as "field: rule reason; ..." for one spreadsheet cell. */
static void all_reasons(zv_buf *b, const zv_quarantine_entry *e)
{
    char err[64];
    zv_json_doc *d = e->reasons_json ? zv_json_parse(e->reasons_json, strlen(e->reasons_json), 0,
                                                     err, sizeof(err))
                                     : NULL;
    const zv_json *a = d ? zv_json_root(d) : NULL;
    for (size_t i = 0; a && i < zv_json_len(a); i++) {
        const zv_json *r = zv_json_at(a, i);
        const char *f = zv_json_str(zv_json_get(r, "field"), NULL),
                   *ru = zv_json_str(zv_json_get(r, "rule"), NULL),
                   *re = zv_json_str(zv_json_get(r, "reason"), NULL);
        zv_buf_printf(b, "%s%s%s%s%s%s", i ? "; " : "", f ? f : "", f ? ": " : "", ru ? ru : "",
                      ru ? " " : "", re ? re : "");
    }
    zv_json_free(d);
}

static void entry_csv(zv_buf *out, const zv_quarantine_entry *e)
{
    char id[24], created[21] = "";
    snprintf(id, sizeof(id), "%lld", (long long)e->id);
    if (e->created) zv_time_iso(e->created, created);
    zv_buf r;
    zv_buf_init(&r);
    all_reasons(&r, e);
    const char *v[] = {id,
                       created,
                       e->closed_at ? "closed"
                       : e->state   ? e->state
                                    : "open",
                       e->source,
                       e->record_id,
                       e->stage,
                       e->destination,
                       e->field,
                       e->rule,
                       e->reason,
                       r.data,
                       e->due,
                       e->closed_at ? e->state : NULL,
                       e->mapping_version,
                       e->item_json};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        cell(out, v[i], i == 0);
    zv_buf_puts(out, "\r\n");
    zv_buf_free(&r);
}

static int list_cb(const zv_quarantine_entry *e, void *arg)
{
    qlist *l = arg;
    if (l->csv)
        entry_csv(l->csv, e);
    else
        entry_json(l->w, e, l->full);
    return ++l->n >= l->limit;
}

int svc_quarantine_list(svc *c)
{
    char b1[128], b2[32], b3[128], b4[256], b5[40], b6[24], b7[16], b8[16];
    const char *q = c->req->query;
    zv_quarantine_filter f = {
        .source = zv_admin_query(q, "source", b1, sizeof(b1)),
        .stage = zv_admin_query(q, "stage", b2, sizeof(b2)),
        .destination = zv_admin_query(q, "destination", b3, sizeof(b3)),
        .text = zv_admin_query(q, "q", b4, sizeof(b4)),
        .state = zv_admin_query(q, "state", b6, sizeof(b6)),
    };
    const char *since = zv_admin_query(q, "since", b5, sizeof(b5));
    f.since = parse_since(since);
    if (f.since < 0) return svc_error(c, 400, "since: a date (YYYY-MM-DD), unix time or duration");
    static const char *const states[] = {
        "open",          "waiting",    "closed",      "all", ZV_Q_STAGED, ZV_Q_REQUARANTINED,
        ZV_Q_SUPERSEDED, ZV_Q_DROPPED, ZV_Q_UNROUTED, NULL};
    int ok = !f.state;
    for (size_t i = 0; !ok && states[i]; i++)
        ok = strcmp(states[i], f.state) == 0;
    if (!ok)
        return svc_error(c, 400,
                         "state: open, waiting, closed, all, or an outcome (staged, "
                         "requarantined, superseded, dropped, unrouted)");
    const char *fmt = zv_admin_query(q, "format", b7, sizeof(b7));
    if (fmt && strcmp(fmt, "csv") != 0 && strcmp(fmt, "json") != 0)
        return svc_error(c, 400, "format: json or csv");
    const char *lim = zv_admin_query(q, "limit", b8, sizeof(b8));
    long long n = lim ? strtoll(lim, NULL, 10) : 0;
    qlist l = {.w = c->w, .limit = n > 0 ? n : INT64_MAX};
    if (fmt && strcmp(fmt, "csv") == 0) {
        l.csv = c->raw;
        for (size_t i = 0; CSV_HEADER[i]; i++)
            cell(c->raw, CSV_HEADER[i], i == 0);
        zv_buf_puts(c->raw, "\r\n");
        if (query(c, &f, list_cb, &l) < 0) {
            c->raw->len = 0;
            return svc_error(c, 500, "store: %s", errmsg(c));
        }
        c->ctype = "text/csv; charset=utf-8";
        return 200;
    }
    zv_jw_arr_open(c->w);
    if (query(c, &f, list_cb, &l) < 0) return svc_error(c, 500, "store: %s", errmsg(c));
    zv_jw_arr_close(c->w);
    return 200;
}

int svc_quarantine_show(svc *c, int64_t id)
{
    qlist l = {.w = c->w, .limit = 1, .full = 1};
    zv_sb *b = shared(c);
    int r = b ? zv_sb_quarantine_get(b, id, list_cb, &l)
              : zv_store_quarantine_get(c->env->store, id, list_cb, &l);
    if (r < 0) return svc_error(c, 500, "store: %s", errmsg(c));
    if (l.n == 0) return svc_error(c, 404, "no quarantine entry %lld", (long long)id);
    return 200;
}

static int answer(svc *c, int64_t id, const char *outcome, const char *result)
{
    zv_jw_obj_open(c->w);
    zv_jw_key(c->w, "id");
    zv_jw_int(c->w, id);
    zv_jw_key(c->w, "outcome");
    zv_jw_str(c->w, outcome);
    zv_jw_key(c->w, "result");
    svc_str_scrubbed(c->w, result);
    zv_jw_obj_close(c->w);
    return 200;
}

int svc_quarantine_action(svc *c, int64_t id, const char *action)
{
    char result[1024] = "";
    if (strcmp(action, "drop") == 0) {
        zv_sb *b = shared(c), *own = b ? NULL : zv_sb_wrap(c->env->store, NULL);
        if (!b && !own) return svc_error(c, 500, "out of memory");
        int r = zv_lifecycle_drop(b ? b : own, id, who(c), result, sizeof(result));
        zv_sb_close(own);
        if (r == 1) return svc_error(c, 404, "%s", result);
        if (r < 0) return svc_error(c, 500, "store: %s", result);
        zv_log(ZV_LOG_NOTICE, "admin", "quarantine entry %lld dropped by %s (audited)",
               (long long)id, who(c));
        return answer(c, id, ZV_Q_DROPPED, result);
    }
    zv_runtime *rt = c->env->rt;
    if (!rt && c->env->need_rt) rt = c->env->need_rt(c->env->need_rt_arg);
    if (!rt) return svc_error(c, 500, "the configuration could not be built for a retry");
    int r = zv_lifecycle_retry(rt, id, who(c), result, sizeof(result));
    if (r == 1) return svc_error(c, 404, "%s", result);
    if (r == 5) return svc_error(c, 409, "%s", result);
    if (r < 0) return svc_error(c, 500, "%s", result[0] ? result : "retry failed");
    return answer(c, id,
                  r == 0   ? ZV_Q_STAGED
                  : r == 2 ? ZV_Q_REQUARANTINED
                           : ZV_Q_UNROUTED,
                  result);
}

struct retry_answer {
    zv_jw *w;
    int64_t n[4]; /* staged, requarantined, unrouted, other */
};

static void retry_one(int64_t id, int code, const char *result, void *arg)
{
    struct retry_answer *a = arg;
    const char *outcome = code == 0   ? ZV_Q_STAGED
                          : code == 2 ? ZV_Q_REQUARANTINED
                          : code == 3 ? ZV_Q_UNROUTED
                          : code == 5 ? "kept"
                          : code == 1 ? "gone"
                                      : "failed";
    a->n[code == 0 ? 0 : code == 2 ? 1 : code == 3 ? 2 : 3]++;
    zv_jw_obj_open(a->w);
    zv_jw_key(a->w, "id");
    zv_jw_int(a->w, id);
    zv_jw_key(a->w, "outcome");
    zv_jw_str(a->w, outcome);
    zv_jw_key(a->w, "result");
    svc_str_scrubbed(a->w, result);
    zv_jw_obj_close(a->w);
}

/* POST /api/quarantine/retry: every open entry again, in one pass. */
int svc_quarantine_retry_all(svc *c)
{
    zv_runtime *rt = c->env->rt;
    if (!rt && c->env->need_rt) rt = c->env->need_rt(c->env->need_rt_arg);
    if (!rt) return svc_error(c, 500, "the configuration could not be built for a retry");
    struct retry_answer a = {.w = c->w};
    int64_t messages = 0;
    zv_jw_obj_open(c->w);
    zv_jw_key(c->w, "entries");
    zv_jw_arr_open(c->w);
    int r = zv_lifecycle_retry_all(rt, who(c), retry_one, &a, &messages);
    zv_jw_arr_close(c->w);
    if (r < 0) return svc_error(c, 500, "store: %s", errmsg(c));
    static const char *const keys[] = {"staged", "requarantined", "unrouted", "other"};
    for (int i = 0; i < 4; i++) {
        zv_jw_key(c->w, keys[i]);
        zv_jw_int(c->w, a.n[i]);
    }
    zv_jw_key(c->w, "messages");
    zv_jw_int(c->w, messages);
    zv_jw_obj_close(c->w);
    zv_log(ZV_LOG_NOTICE, "admin",
           "quarantine retry of every open entry by %s: %lld staged, %lld refused again, "
           "%lld unrouted, %lld other; %lld messages made",
           who(c), (long long)a.n[0], (long long)a.n[1], (long long)a.n[2], (long long)a.n[3],
           (long long)messages);
    return 200;
}

/* POST /api/replay?source=S&file=PATH: PATH as the daemon sees it. */
int svc_replay(svc *c)
{
    char sbuf[128], fbuf[4096], result[1400] = "";
    const char *source = zv_admin_query(c->req->query, "source", sbuf, sizeof(sbuf));
    const char *file = zv_admin_query(c->req->query, "file", fbuf, sizeof(fbuf));
    if (!source || !file || file[0] != '/')
        return svc_error(c, 400, "replay wants source=NAME and file=/absolute/path");
    zv_runtime *rt = c->env->rt;
    if (!rt && c->env->need_rt) rt = c->env->need_rt(c->env->need_rt_arg);
    if (!rt) return svc_error(c, 500, "the configuration could not be built for a replay");
    int r = zv_lifecycle_replay(rt, source, file, who(c), result, sizeof(result));
    if (r == 1) return svc_error(c, 404, "%s", result);
    if (r == 2) return svc_error(c, 422, "%s", result);
    if (r < 0) return svc_error(c, 500, "%s", result);
    zv_jw_obj_open(c->w);
    zv_jw_key(c->w, "result");
    svc_str_scrubbed(c->w, result);
    zv_jw_obj_close(c->w);
    return 200;
}
