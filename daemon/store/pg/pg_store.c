/*
 * The PostgreSQL backend: connection, password, transactions, the helpers
 * of pg_*.c, and its table of operations.
 */
#include "pg_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int zv_pg_fail(zv_sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, sizeof(b->err), fmt, ap);
    va_end(ap);
    if (PG(b)->open) PG(b)->failed = 1;
    return -1;
}

/* The server's message, first line only (the rest is context for psql). */
static void server_error(zv_sb *b, const char *what, const PGresult *r)
{
    const char *m = r ? PQresultErrorMessage(r) : "";
    if (!m || !*m) m = PQerrorMessage(PG(b)->c);
    zv_pg_fail(b, "%s: %.*s", what, (int)strcspn(m, "\n"), m);
}

/* Settings of every session: durable commits whatever the server's default is. */
#define SESSION_SETTINGS "SET synchronous_commit = on; SET client_min_messages = warning"

/* A connection the server or the network dropped is opened again for the
 * next statement outside a transaction (one that was open is lost with it:
 * its commit fails, and the caller's work is done again, as after a crash);
 * the statement that found it broken has failed already. */
static void reconnect(zv_sb *b)
{
    PGconn *c = PG(b)->c;
    if (PG(b)->open || PQstatus(c) != CONNECTION_BAD) return;
    PQreset(c);
    memset(PG(b)->prepared, 0, sizeof(PG(b)->prepared));
    if (PQstatus(c) == CONNECTION_OK) PQclear(PQexec(c, SESSION_SETTINGS));
}

PGresult *zv_pg_q(zv_sb *b, const char *what, const char *sql, int n, const char *const *vals,
                  const int *lens, const int *fmts)
{
    reconnect(b);
    PGresult *r = PQexecParams(PG(b)->c, sql, n, NULL, vals, lens, fmts, 0);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
    server_error(b, what, r);
    PQclear(r);
    return NULL;
}

/* Statement id prepared on this connection (once): its name in name. */
static int prepare(zv_sb *b, enum zv_pg_st id, const char *what, const char *sql, int n,
                   char name[16])
{
    zv_pg *p = PG(b);
    snprintf(name, 16, "zv%d", (int)id);
    if (p->prepared[id]) return 0;
    PGresult *r = PQprepare(p->c, name, sql, n, NULL);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK) {
        server_error(b, what, r);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    p->prepared[id] = 1;
    return 0;
}

PGresult *zv_pg_qp(zv_sb *b, enum zv_pg_st id, const char *what, const char *sql, int n,
                   const char *const *vals, const int *lens, const int *fmts)
{
    zv_pg *p = PG(b);
    if (p->no_prepare) return zv_pg_q(b, what, sql, n, vals, lens, fmts);
    reconnect(b);
    char name[16];
    if (prepare(b, id, what, sql, n, name) < 0) return NULL;
    PGresult *r = PQexecPrepared(p->c, name, n, vals, lens, fmts, 0);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
    server_error(b, what, r);
    PQclear(r);
    return NULL;
}

/* The result of one statement of a pipeline: 0 fine, -1 the first error
 * (named in b->err), 1 skipped after it. */
static int step_result(zv_sb *b, const char *what, PGresult *r, int failed)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return 0;
    if (st == PGRES_PIPELINE_ABORTED) return 1;
    if (!failed) server_error(b, what, r);
    return -1;
}

int zv_pg_pipeline(zv_sb *b, const char *what, const zv_pg_step *steps, int n, int keep_i,
                   PGresult **keep)
{
    zv_pg *p = PG(b);
    *keep = NULL;
    reconnect(b);
    char names[16][16];
    if (n > 16) return zv_pg_fail(b, "%s: too many statements at once", what);
    for (int i = 0; i < n; i++)
        if (steps[i].id >= 0 && !p->no_prepare &&
            prepare(b, (enum zv_pg_st)steps[i].id, what, steps[i].sql, steps[i].n, names[i]) < 0)
            return -1;
    PGconn *c = p->c;
    if (!PQenterPipelineMode(c)) return zv_pg_fail(b, "%s: %s", what, PQerrorMessage(c));
    int sent = 0;
    for (int i = 0; i < n; i++, sent++) {
        const zv_pg_step *s = &steps[i];
        int ok = s->id >= 0 && !p->no_prepare
                     ? PQsendQueryPrepared(c, names[i], s->n, s->vals, NULL, NULL, 0)
                     : PQsendQueryParams(c, s->sql, s->n, NULL, s->vals, NULL, NULL, 0);
        if (!ok) break;
    }
    int rc = sent == n && PQpipelineSync(c) ? 0 : zv_pg_fail(b, "%s: %s", what, PQerrorMessage(c));
    int failed = rc < 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        PGresult *r = PQgetResult(c);
        if (!r) { /* the connection broke */
            failed = zv_pg_fail(b, "%s: %s", what, PQerrorMessage(c));
            break;
        }
        if (step_result(b, what, r, failed) != 0) failed = 1;
        if (i == keep_i && !failed)
            *keep = r;
        else
            PQclear(r);
        PGresult *end;
        while ((end = PQgetResult(c))) /* NULL ends each statement's results */
            PQclear(end);
    }
    if (rc == 0) {
        PGresult *s = PQgetResult(c);
        if (!s || PQresultStatus(s) != PGRES_PIPELINE_SYNC) failed = 1;
        PQclear(s);
    }
    /* A connection left in pipeline mode would fail every later call: one
     * that cannot leave it is opened again. */
    if (!PQexitPipelineMode(c)) {
        PQreset(c);
        memset(p->prepared, 0, sizeof(p->prepared));
        if (PQstatus(c) == CONNECTION_OK) PQclear(PQexec(c, SESSION_SETTINGS));
        if (!failed) zv_pg_fail(b, "%s: the connection was left busy", what);
        failed = 1;
    }
    if (failed) {
        PQclear(*keep);
        *keep = NULL;
        /* What the steps began is given up (the caller's own transaction
         * is marked failed instead: its commit rolls back). */
        if (!p->open && PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) != PQTRANS_IDLE) {
            char keep_err[sizeof(b->err)];
            memcpy(keep_err, b->err, sizeof(keep_err));
            PQclear(PQexec(c, "ROLLBACK"));
            memcpy(b->err, keep_err, sizeof(keep_err));
        }
        return -1;
    }
    return 0;
}

int zv_pg_cmd(zv_sb *b, const char *what, const char *sql)
{
    reconnect(b);
    /* PQexec: the schema steps are several statements in one string. */
    PGresult *r = PQexec(PG(b)->c, sql);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) server_error(b, what, r);
    PQclear(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
}

const char *zv_pg_i64(char buf[24], int64_t v)
{
    snprintf(buf, 24, "%" PRId64, v);
    return buf;
}

int64_t zv_pg_get_i64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

const char *zv_pg_get_text(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* COMMIT; after a fast one, the wait for the WAL flush that the plain
 * COMMIT would have done while holding its locks: a transaction with an xid
 * committing synchronously flushes the WAL up to its own commit record,
 * which comes after ours.  The caller learns of success only once the
 * outcome is as durable as before; other nodes could build on it a moment
 * earlier, and a crash in between loses their later commits with it (the
 * WAL is one sequence), so the chain stays whole. */
static int rollback(zv_sb *b);

static int commit(zv_sb *b)
{
    if (PG(b)->ndefer && zv_pg_audit_flush(b) < 0) {
        char keep[sizeof(b->err)];
        memcpy(keep, b->err, sizeof(keep));
        rollback(b);
        memcpy(b->err, keep, sizeof(keep));
        return -1;
    }
    int fast = PG(b)->fast;
    PG(b)->fast = 0;
    if (fast != 1) return zv_pg_cmd(b, "commit", "COMMIT");
    /* The commit and the wait in one round trip. */
    static const zv_pg_step st[] = {{-1, "COMMIT", 0, NULL},
                                    {-1, "BEGIN", 0, NULL},
                                    {-1, "SELECT txid_current()", 0, NULL},
                                    {-1, "COMMIT", 0, NULL}};
    PGresult *r = NULL;
    int rc = zv_pg_pipeline(b, "commit", st, 4, 0, &r);
    PQclear(r);
    return rc;
}

static int rollback(zv_sb *b)
{
    PG(b)->fast = 0;
    zv_pg_audit_drop(b);
    /* (a pipeline that failed may have rolled back already) */
    if (PQtransactionStatus(PG(b)->c) == PQTRANS_IDLE) return 0;
    return zv_pg_cmd(b, "rollback", "ROLLBACK");
}

int zv_pg_op_begin(zv_sb *b, int *own)
{
    *own = !PG(b)->open;
    if (*own) PG(b)->fast = 0;
    return *own ? zv_pg_cmd(b, "begin", "BEGIN") : 0;
}

int zv_pg_op_end(zv_sb *b, int own, int rc)
{
    if (!own) return rc < 0 || PG(b)->failed ? -1 : rc;
    if (rc < 0) {
        char keep[sizeof(b->err)];
        memcpy(keep, b->err, sizeof(keep));
        rollback(b);
        memcpy(b->err, keep, sizeof(keep));
        return -1;
    }
    return commit(b) < 0 ? -1 : rc;
}

static int pg_begin(zv_sb *b, const char *owner)
{
    (void)owner; /* the server names the transaction's backend itself */
    if (PG(b)->open) return zv_pg_fail(b, "a transaction is already open; not nesting one");
    PG(b)->fast = 0;
    if (zv_pg_cmd(b, "begin", "BEGIN") < 0) return -1;
    PG(b)->open = 1;
    PG(b)->failed = 0;
    return 0;
}

static int pg_commit(zv_sb *b)
{
    if (!PG(b)->open) return zv_pg_fail(b, "commit without begin");
    PG(b)->open = 0;
    if (PG(b)->failed) {
        PG(b)->failed = 0;
        rollback(b);
        snprintf(b->err, sizeof(b->err), "transaction rolled back after an earlier failure");
        return -1;
    }
    return commit(b);
}

static void pg_rollback(zv_sb *b)
{
    if (!PG(b)->open) return;
    PG(b)->open = 0;
    PG(b)->failed = 0;
    rollback(b);
}

static int pg_schema_version(zv_sb *b)
{
    return PG(b)->schema;
}

static void pg_close(zv_sb *b)
{
    if (!PG(b)) return;
    zv_pg_audit_drop(b);
    free(PG(b)->defer);
    PQfinish(PG(b)->c);
    free(PG(b));
    b->impl = NULL;
}

/* The password file: one line, readable by no one but its owner and group
 * (the daemon's account reads it; others must not). */
static int read_password(const char *file, char *pw, size_t len, char *err, size_t errlen)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, errlen, "store_password_file %s: %s", file, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & 0007)) {
        snprintf(err, errlen, "store_password_file %s: %s", file,
                 S_ISREG(st.st_mode) ? "others may read it (chmod o-rwx)" : "not a regular file");
        close(fd);
        return -1;
    }
    ssize_t n = read(fd, pw, len - 1);
    close(fd);
    if (n < 0) n = 0;
    pw[n] = '\0';
    pw[strcspn(pw, "\r\n")] = '\0';
    if (!pw[0]) {
        snprintf(err, errlen, "store_password_file %s: empty", file);
        return -1;
    }
    return 0;
}

static const zv_sb_ops pg_ops;

zv_sb *zv_pg_open(const zv_store_target *t, const char *node, char *err, size_t errlen)
{
    char pw[1024] = "";
    if (t->password_file && read_password(t->password_file, pw, sizeof(pw), err, errlen) < 0)
        return NULL;
    zv_pg *p = calloc(1, sizeof(*p));
    zv_sb *b = p ? zv_sb_new(&pg_ops, ZV_STORE_POSTGRESQL, p, node) : NULL;
    if (!b) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* Without a file, libpq takes PGPASSWORD or ~/.pgpass itself. */
    const char *kw[] = {"dbname", "password", "fallback_application_name", NULL};
    const char *val[] = {t->url, pw[0] ? pw : NULL, "zinvol", NULL};
    const char *np = getenv("ZV_PG_PREPARE");
    p->no_prepare = np && strcmp(np, "0") == 0;
    p->c = PQconnectdbParams(kw, val, 1);
    explicit_bzero(pw, sizeof(pw));
    if (!p->c || PQstatus(p->c) != CONNECTION_OK) {
        const char *m = p->c ? PQerrorMessage(p->c) : "out of memory";
        snprintf(err, errlen, "%s: cannot connect: %.*s", t->url, (int)strcspn(m, "\n"), m);
        zv_sb_close(b);
        return NULL;
    }
    if (zv_pg_cmd(b, "settings", SESSION_SETTINGS) < 0 || zv_pg_migrate(b) < 0) {
        snprintf(err, errlen, "%s: %s", t->url, b->err);
        zv_sb_close(b);
        return NULL;
    }
    return b;
}

static const zv_sb_ops pg_ops = {
    .close = pg_close,
    .schema_version = pg_schema_version,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .enqueue = zv_pg_enqueue,
    .claim = zv_pg_claim,
    .lease_renew = zv_pg_lease_renew,
    .lease_expire = zv_pg_lease_expire,
    .recover = zv_pg_recover,
    .delivered = zv_pg_delivered,
    .delivered_many = zv_pg_delivered_many,
    .retry = zv_pg_retry,
    .dead = zv_pg_dead,
    .record_verdict = zv_pg_record_verdict,
    .oldest_pending = zv_pg_oldest_pending,
    .next_due = zv_pg_next_due,
    .prune = zv_pg_prune,
    .outbox_get = zv_pg_outbox_get,
    .outbox_count = zv_pg_outbox_count,
    .dlq_count = zv_pg_dlq_count,
    .circuit_get = zv_pg_circuit_get,
    .circuit_set = zv_pg_circuit_set,
    .watermark_get = zv_pg_watermark_get,
    .watermark_set = zv_pg_watermark_set,
    .seen = zv_pg_seen,
    .source_lease = zv_pg_source_lease,
    .source_release = zv_pg_source_release,
    .stage = zv_pg_stage,
    .staged_after = zv_pg_staged_after,
    .staged_delete = zv_pg_staged_delete,
    .staged_count = zv_pg_staged_count,
    .batch_peek = zv_pg_batch_peek,
    .batch_set = zv_pg_batch_set,
    .sent_same = zv_pg_sent_same,
    .sent_put = zv_pg_sent_put,
    .sent_get = zv_pg_sent_get,
    .quarantine_add = zv_pg_quarantine_add,
    .quarantine_like = zv_pg_quarantine_like,
    .quarantine_query = zv_pg_quarantine_query,
    .quarantine_get = zv_pg_quarantine_get,
    .quarantine_of_record = zv_pg_quarantine_of_record,
    .quarantine_due = zv_pg_quarantine_due,
    .quarantine_count = zv_pg_quarantine_count,
    .quarantine_add_reason = zv_pg_quarantine_add_reason,
    .quarantine_close = zv_pg_quarantine_close,
    .item_put = zv_pg_item_put,
    .item_get = zv_pg_item_get,
    .item_release = zv_pg_item_release,
    .audit_append = zv_pg_audit_append,
    .audit_each = zv_pg_audit_each,
    .audit_verify = zv_pg_audit_verify,
};
