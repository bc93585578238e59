/*
 * zinvolctl store copy --from URL --to FILE: a PostgreSQL store into a new
 * SQLite file (for tests, and to take a store back to one machine).
 *
 * The rows of zv_copy_tables() come over as they are (ids, keys, payload
 * bytes, audit hashes) from one REPEATABLE READ snapshot, so nodes may go on
 * working meanwhile, into one SQLite transaction: a copy that fails leaves
 * the file without any of them.  Rows in flight are pending in the file (no
 * node holds them there).  The file's own indexes of the copied rows, the
 * audit entries' clients (audit_client) and what each retained payload
 * discloses (disclosure, from outbox.disclosure_json), are made from them.
 */
#include "pg_copy.h"
#include "pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

#include "store/store_int.h"

/* INSERT INTO name(cols) VALUES(?, ..) for ncols columns. */
static char *insert_sql(const zv_copy_table *t, int ncols)
{
    zv_buf b;
    zv_buf_init(&b);
    zv_buf_printf(&b, "INSERT INTO %s(%s) VALUES(", t->name, t->cols);
    for (int i = 0; i < ncols; i++)
        zv_buf_puts(&b, i ? ", ?" : "?");
    zv_buf_puts(&b, ")");
    return b.data;
}

/* Column i of the single row r into st, as the table's type says. */
static int bind_col(sqlite3_stmt *st, const zv_copy_table *t, const PGresult *r, int i)
{
    if (PQgetisnull(r, 0, i)) return sqlite3_bind_null(st, i + 1);
    const char *v = PQgetvalue(r, 0, i);
    if (t->types[i] == 'i') return sqlite3_bind_int64(st, i + 1, strtoll(v, NULL, 10));
    if (t->types[i] == 't') {
        /* No node holds a row of the file: it is pending there. */
        if (strcmp(t->name, "outbox") == 0 && i == 9 && strcmp(v, "inflight") == 0) v = "pending";
        return sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT);
    }
    size_t n = 0;
    unsigned char *bytes = PQunescapeBytea((const unsigned char *)v, &n);
    if (!bytes) return SQLITE_NOMEM;
    /* A zero-length blob stays a blob, not NULL. */
    int rc = sqlite3_bind_blob(st, i + 1, n ? (const void *)bytes : "", (int)n, SQLITE_TRANSIENT);
    PQfreemem(bytes);
    return rc;
}

/* Streams one table from src (single-row mode: one row in memory) into dst. */
static int64_t copy_table(zv_sb *src, zv_store *dst, const zv_copy_table *t, char *err,
                          size_t errlen)
{
    PGconn *c = PG(src)->c;
    size_t ncols = strlen(t->types);
    char *ins = insert_sql(t, (int)ncols);
    sqlite3_stmt *st = NULL;
    if (!ins || sqlite3_prepare_v2(dst->db, ins, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "write %s: %s", t->name, sqlite3_errmsg(dst->db));
        free(ins);
        return -1;
    }
    free(ins);
    char sql[1024];
    snprintf(sql, sizeof(sql), "SELECT %s FROM %s ORDER BY 1", t->cols, t->name);
    int64_t rows = 0;
    int failed = 0;
    if (!PQsendQuery(c, sql) || !PQsetSingleRowMode(c)) {
        snprintf(err, errlen, "read %s: %.200s", t->name, PQerrorMessage(c));
        sqlite3_finalize(st);
        return -1;
    }
    PGresult *r;
    while ((r = PQgetResult(c))) {
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_SINGLE_TUPLE && !failed) {
            int rc = PQnfields(r) == (int)ncols ? SQLITE_OK : SQLITE_MISMATCH;
            sqlite3_reset(st);
            for (size_t i = 0; rc == SQLITE_OK && i < ncols; i++)
                rc = bind_col(st, t, r, (int)i);
            if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_DONE)
                rows++;
            else {
                snprintf(err, errlen, "write %s: %s", t->name, sqlite3_errmsg(dst->db));
                failed = 1;
            }
        } else if (s != PGRES_SINGLE_TUPLE && s != PGRES_TUPLES_OK && !failed) {
            const char *m = PQresultErrorMessage(r);
            snprintf(err, errlen, "read %s: %.*s", t->name, (int)strcspn(m, "\n"), m);
            failed = 1;
        }
        PQclear(r); /* the rest is read and dropped: the connection must be idle after */
    }
    sqlite3_finalize(st);
    return failed ? -1 : rows;
}

/* The file must be a new one: no rows in any table the copy fills. */
static int check_empty(zv_store *dst, char *err, size_t errlen)
{
    size_t n;
    const zv_copy_table *t = zv_copy_tables(&n);
    for (size_t i = 0; i < n; i++) {
        int64_t k = zv_copy_sqlite_count(dst, t[i].name);
        if (k != 0) {
            snprintf(err, errlen,
                     k < 0 ? "cannot count %s in the file"
                           : "the file is not empty (%s has rows): "
                             "copy into a new one",
                     t[i].name);
            return -1;
        }
    }
    return 0;
}

/* The chain head as the database's; the clients index of every entry. */
static int finish_head(zv_sb *src, zv_store *dst, char *err, size_t errlen)
{
    PGresult *r = zv_pg_q(src, "audit head", "SELECT seq, hash FROM audit_head WHERE id = 1", 0,
                          NULL, NULL, NULL);
    if (!r) {
        snprintf(err, errlen, "%s", src->err);
        return -1;
    }
    sqlite3_stmt *st = NULL;
    int rc = PQntuples(r) == 1 ? 0 : -1;
    if (rc < 0) snprintf(err, errlen, "audit head: the head row is missing in the database");
    if (rc == 0 && sqlite3_prepare_v2(dst->db,
                                      "INSERT OR REPLACE INTO audit_head(id, seq, hash) "
                                      "VALUES(1, ?, ?)",
                                      -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, zv_pg_get_i64(r, 0, 0));
        sqlite3_bind_text(st, 2, PQgetvalue(r, 0, 1), -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) rc = -1;
    } else if (rc == 0)
        rc = -1;
    sqlite3_finalize(st);
    PQclear(r);
    /* audit.clients is the chained truth; audit_client only its index. */
    if (rc == 0 &&
        zv_store_exec(dst, "INSERT OR IGNORE INTO audit_client(client_key, seq) "
                           "SELECT json_extract(j.value, '$.client'), a.seq FROM audit a, "
                           "json_each(a.clients) j WHERE a.clients IS NOT NULL AND "
                           "json_extract(j.value, '$.client') IS NOT NULL") < 0) {
        snprintf(err, errlen, "audit clients: %s", zv_store_errmsg(dst));
        return -1;
    }
    if (rc < 0 && !err[0]) snprintf(err, errlen, "audit head: %s", sqlite3_errmsg(dst->db));
    return rc;
}

/* What each retained payload discloses, as the file keeps it. */
static int finish_disclosure(zv_sb *src, zv_store *dst, char *err, size_t errlen)
{
    PGresult *r = zv_pg_q(src, "disclosure",
                          "SELECT id, disclosure_json FROM outbox WHERE disclosure_json IS NOT "
                          "NULL ORDER BY id",
                          0, NULL, NULL, NULL);
    if (!r) {
        snprintf(err, errlen, "%s", src->err);
        return -1;
    }
    int rc = 0;
    for (int i = 0; rc == 0 && i < PQntuples(r); i++)
        if (zv_store_disclosure_put(dst, zv_pg_get_i64(r, i, 0), PQgetvalue(r, i, 1)) < 0) {
            snprintf(err, errlen, "%s", zv_store_errmsg(dst));
            rc = -1;
        }
    PQclear(r);
    return rc;
}

int zv_pg_copy_to_sqlite(zv_sb *src, zv_store *dst, zv_copy_report *rep, char *err, size_t errlen)
{
    memset(rep, 0, sizeof(*rep));
    err[0] = '\0';
    if (zv_sb_kind(src) != ZV_STORE_POSTGRESQL) {
        snprintf(err, errlen, "store copy --from reads a PostgreSQL store");
        return -1;
    }
    /* Every table from one snapshot while nodes may still work. */
    if (zv_pg_cmd(src, "copy", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") < 0) {
        snprintf(err, errlen, "%s", src->err);
        return -1;
    }
    PG(src)->open = 1;
    int rc = zv_store_exec(dst, "BEGIN IMMEDIATE");
    if (rc < 0) snprintf(err, errlen, "%s", zv_store_errmsg(dst));
    if (rc == 0) rc = check_empty(dst, err, errlen);
    size_t n;
    const zv_copy_table *t = zv_copy_tables(&n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rep->rows[i] = copy_table(src, dst, &t[i], err, errlen);
        if (rep->rows[i] < 0) rc = -1;
    }
    /* The snapshot's own counts, for zv_pg_copy_verify_back. */
    for (size_t i = 0; rc == 0 && i < n; i++)
        if ((rep->source_rows[i] = zv_copy_pg_count(src, t[i].name)) < 0) {
            snprintf(err, errlen, "%s", src->err);
            rc = -1;
        }
    if (rc == 0) rc = finish_head(src, dst, err, errlen);
    if (rc == 0) rc = finish_disclosure(src, dst, err, errlen);
    if (rc == 0 && zv_store_exec(dst, "COMMIT") < 0) {
        snprintf(err, errlen, "commit: %s", zv_store_errmsg(dst));
        rc = -1;
    }
    if (rc < 0) zv_store_exec(dst, "ROLLBACK");
    PG(src)->open = 0;
    PG(src)->failed = 0;
    zv_pg_cmd(src, "copy", "COMMIT");
    return rc;
}

int zv_pg_copy_verify_back(zv_store *dst, zv_copy_report *rep, char *why, size_t whylen)
{
    size_t n;
    const zv_copy_table *t = zv_copy_tables(&n);
    for (size_t i = 0; i < n; i++) {
        /* Against the snapshot copied (nodes may have gone on since). */
        int64_t b = zv_copy_sqlite_count(dst, t[i].name);
        if (b < 0) return -1;
        if (b != rep->source_rows[i] || b != rep->rows[i]) {
            snprintf(why, whylen, "%s: %lld rows in the database, %lld in the file", t[i].name,
                     (long long)rep->source_rows[i], (long long)b);
            return 1;
        }
    }
    int64_t bad = 0;
    int v = zv_store_audit_verify(dst, &rep->audit_entries, &bad, why, whylen);
    if (v != 0) return v;
    rep->verified = 1;
    return 0;
}
