/*
 * The admin API's dispatch: one function answers for the daemon (over its
 * listeners) and for zinvolctl when no daemon runs (on the store directly),
 * so both give the same answers.
 */
#include "service_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int svc_error(svc *c, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    zv_bsn_scrub(msg);
    zv_jw_free(c->w);
    c->w = zv_jw_new(0);
    zv_jw_obj_open(c->w);
    zv_jw_key(c->w, "error");
    zv_jw_str(c->w, msg);
    zv_jw_obj_close(c->w);
    return status;
}

void svc_str_scrubbed(zv_jw *w, const char *s)
{
    if (!s) {
        zv_jw_null(w);
        return;
    }
    char *copy = strdup(s);
    if (!copy) {
        zv_jw_null(w);
        return;
    }
    zv_bsn_scrub(copy);
    zv_jw_str(w, copy);
    free(copy);
}

void svc_time(zv_jw *w, int64_t t)
{
    if (t <= 0) {
        zv_jw_null(w);
        return;
    }
    char ts[21];
    zv_time_iso(t, ts);
    zv_jw_str(w, ts);
}

void svc_json_text(zv_jw *w, const char *text)
{
    char *copy = text ? strdup(text) : NULL;
    if (copy) zv_bsn_scrub(copy);
    char err[128];
    zv_json_doc *d = copy ? zv_json_parse(copy, strlen(copy), 0, err, sizeof(err)) : NULL;
    if (d)
        zv_jw_value(w, zv_json_root(d));
    else
        zv_jw_null(w);
    zv_json_free(d);
    free(copy);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

const char *zv_admin_query(const char *query, const char *name, char *buf, size_t len)
{
    size_t nl = strlen(name);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        const char *end = amp ? amp : p + strlen(p);
        if ((size_t)(end - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t o = 0;
            for (const char *q = p + nl + 1; q < end && o + 1 < len; q++) {
                if (*q == '+') {
                    buf[o++] = ' ';
                } else if (*q == '%' && q + 2 < end && hexval(q[1]) >= 0 && hexval(q[2]) >= 0) {
                    buf[o++] = (char)(hexval(q[1]) * 16 + hexval(q[2]));
                    q += 2;
                } else {
                    buf[o++] = *q;
                }
            }
            buf[o] = '\0';
            return o ? buf : NULL;
        }
        p = amp ? amp + 1 : end;
    }
    return NULL;
}

/* "/api/dlq/12/retry" -> collection "dlq", id 12, action "retry". */
static int split_path(const char *path, char *coll, size_t clen, int64_t *id, char *action,
                      size_t alen)
{
    *id = 0;
    action[0] = coll[0] = '\0';
    if (strncmp(path, "/api/", 5) != 0) return -1;
    const char *p = path + 5;
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (n == 0 || n >= clen) return -1;
    memcpy(coll, p, n);
    coll[n] = '\0';
    if (!slash) return 0;
    p = slash + 1;
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p) {
        /* "/api/audit/verify": a sub-collection, not an id */
        snprintf(action, alen, "%s", p);
        return strchr(action, '/') ? -1 : 0;
    }
    if (v <= 0) return -1;
    *id = v;
    if (*end == '\0') return 0;
    if (*end != '/' || strchr(end + 1, '/')) return -1;
    snprintf(action, alen, "%s", end + 1);
    return 0;
}

static int route(svc *c)
{
    char coll[32], action[32];
    int64_t id;
    if (split_path(c->req->path, coll, sizeof(coll), &id, action, sizeof(action)) < 0)
        return svc_error(c, 404, "no such endpoint: %s", c->req->path);
    int get = strcmp(c->req->method, "GET") == 0 || strcmp(c->req->method, "HEAD") == 0;
    int post = strcmp(c->req->method, "POST") == 0;
    if (!get && !post) return svc_error(c, 405, "use GET or POST");
    if (strcmp(coll, "status") == 0 && !id && !action[0])
        return get ? svc_status(c) : svc_error(c, 405, "status is GET only");
    if (strcmp(coll, "reload") == 0 && !id && !action[0])
        return post ? svc_reload(c) : svc_error(c, 405, "reload is POST only");
    if (strcmp(coll, "audit") == 0 && !id) {
        if (!get) return svc_error(c, 405, "the audit endpoints are GET only");
        if (strcmp(action, "report") == 0) return svc_audit_report(c);
        if (strcmp(action, "verify") == 0) return svc_audit_verify(c);
        return svc_error(c, 404, "audit/report or audit/verify");
    }
    if (strcmp(coll, "replay") == 0 && !id && !action[0])
        return post ? svc_replay(c) : svc_error(c, 405, "replay is POST only");
    if (strcmp(coll, "disclose") == 0 && !id && !action[0])
        return get ? svc_disclose(c) : svc_error(c, 405, "disclose is GET only");
    int q = strcmp(coll, "quarantine") == 0, d = strcmp(coll, "dlq") == 0,
        o = strcmp(coll, "outbox") == 0;
    if (!q && !d && !o) return svc_error(c, 404, "no such endpoint: %s", c->req->path);
    if (q && !id && strcmp(action, "retry") == 0)
        return post ? svc_quarantine_retry_all(c) : svc_error(c, 405, "retry is POST only");
    if (!id) {
        if (!get || action[0]) return svc_error(c, 405, "list with GET /api/%s", coll);
        return q ? svc_quarantine_list(c) : d ? svc_dlq_list(c) : svc_outbox_list(c);
    }
    if (!action[0]) {
        if (!get) return svc_error(c, 405, "show with GET /api/%s/ID", coll);
        return q ? svc_quarantine_show(c, id) : d ? svc_dlq_show(c, id) : svc_outbox_show(c, id);
    }
    if (!post) return svc_error(c, 405, "%s is POST only", action);
    if (strcmp(action, "retry") != 0 && strcmp(action, "drop") != 0)
        return svc_error(c, 404, "actions are retry and drop");
    return q   ? svc_quarantine_action(c, id, action)
           : d ? svc_dlq_action(c, id, action)
               : svc_outbox_action(c, id, action);
}

int zv_admin_call(const zv_admin_env *env, const zv_admin_req *req, zv_buf *out, const char **ctype)
{
    /* A read answers from the store's reader (zv_store_reader): what is
     * committed, on a snapshot of its own, so it never waits for the
     * writer's commit on the loop, never sees a group that is not durable
     * yet, and its own read transaction (audit verify) cannot meet the
     * writer's.  What it writes itself (a disclosure's audit entry) goes
     * through c.writer. */
    int get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    zv_admin_env renv = *env;
    if (get && env->store) renv.store = zv_store_reader(env->store);
    svc c = {.env = &renv,
             .req = req,
             .w = zv_jw_new(0),
             .raw = out,
             .ctype = NULL,
             .writer = env->store,
             .wrote = !get};
    if (!c.w) return 500;
    /* An action reads and writes on the writer's connection: nothing of
     * the group the loop holds open, or of one the writer is committing,
     * is under it (one wait for the writer per operator action). */
    int status = !get && env->store && zv_store_group_commit_sync(env->store) < 0
                     ? svc_error(&c, 503, "store: %s", zv_store_errmsg(env->store))
                     : route(&c);
    /* What an operator's request changed is on disk before the answer says
     * so: with the store's writer thread its transaction joined the group. */
    if (c.wrote && env->store && zv_store_group_commit_sync(env->store) < 0 && status < 300)
        status = 500;
    const char *buf;
    size_t len;
    if (c.ctype) {
        /* The handler wrote its answer into out itself. */
        *ctype = c.ctype;
    } else {
        *ctype = "application/json";
        if (zv_jw_result(c.w, &buf, &len) < 0) {
            status = 500;
            zv_buf_puts(out, "{\"error\":\"internal error writing the answer\"}");
        } else {
            zv_buf_append(out, buf, len);
            zv_buf_puts(out, "\n");
        }
    }
    zv_jw_free(c.w);
    return status;
}
