/*
 * zinvolctl store copy: an SQLite store into an empty PostgreSQL one
 * (pg_copy_back.c: the reverse).
 *
 * Every row of the tables below goes over as it is (ids, idempotency keys,
 * payload bytes, audit hashes), in one PostgreSQL transaction: a copy that
 * fails leaves the database as it was.  Rows in flight in the file are
 * pending in the copy (no node holds them).  The file's disclosure rows go
 * into outbox.disclosure_json, as the PostgreSQL store keeps them.
 * Afterwards the copy's chain is verified with the same code that made it,
 * and every table's rows counted on both sides.
 */
#include "pg_copy.h"
#include "pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include <zinvol/util.h>

/* Column types: i integer, t text, b blob. */
static const zv_copy_table tables[] = {
    {"outbox",
     "id, destination, message, idem_key, payload, content_type, extension, fields_json, "
     "records_json, state, attempts, next_attempt, first_enqueued, last_error, delivered_at",
     "itttbtttttiiiti"},
    {"dead_letter",
     "id, outbox_id, created, destination, record_key, record_ref, reason, codes, "
     "http_status",
     "iiittttti"},
    {"verdict", "outbox_id, record_key, accepted, at", "itii"},
    {"quarantine",
     "id, created, source, record_id, stage, destination, field, rule, reason, item_json, "
     "record, state, reasons, mapping_version, source_version, due",
     "iittttttttbttttt"},
    {"quarantine_closed",
     "id, created, source, record_id, stage, destination, field, rule, reason, reasons, "
     "mapping_version, source_version, closed_at, outcome, detail",
     "iittttttttttitt"},
    {"watermark", "source, key, value", "ttt"},
    {"seen", "source, record_id, hash", "ttt"},
    {"audit",
     "seq, at, kind, destination, idem_key, message, fields, payload_sha256, detail, hash, "
     "clients, citations",
     "iitttttttttt"},
    /* What a source staged and no render has taken yet, the raw items those
     * rows name (a quarantine at the format maps them again), each
     * destination's last batch number and what was last sent per record
     * (change detection): without them a copied store would lose staged
     * records, number batches from 1 again and send unchanged records
     * again.  staged.record_key is PostgreSQL's alone (NULL in the copy). */
    {"staged", "id, destination, message, rec, created, item_id", "itibii"},
    {"source_item", "id, source, record_id, item_json, mapping_version, created", "itttti"},
    {"batch_seq", "destination, seq", "ti"},
    {"sent_digest", "destination, record_key, digest, message, at, rec", "ttttib"},
};

const zv_copy_table *zv_copy_tables(size_t *n)
{
    *n = sizeof(tables) / sizeof(tables[0]);
    return tables;
}

/* INSERT INTO name(cols) VALUES($1, ..) for ncols columns. */
static char *insert_sql(const zv_copy_table *t, int ncols)
{
    zv_buf b;
    zv_buf_init(&b);
    zv_buf_printf(&b, "INSERT INTO %s(%s) VALUES(", t->name, t->cols);
    for (int i = 1; i <= ncols; i++)
        zv_buf_printf(&b, "%s$%d", i > 1 ? ", " : "", i);
    zv_buf_puts(&b, ")");
    return b.data;
}

static int64_t copy_table(zv_store *src, zv_sb *dst, const zv_copy_table *t)
{
    char sql[1024];
    snprintf(sql, sizeof(sql), "SELECT %s FROM %s ORDER BY 1", t->cols, t->name);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(src->db, sql, -1, &st, NULL) != SQLITE_OK)
        return zv_pg_fail(dst, "read %s: %s", t->name, sqlite3_errmsg(src->db));
    int n = sqlite3_column_count(st);
    char *ins = insert_sql(t, n);
    const char *vals[32];
    int lens[32], fmts[32];
    int64_t rows = 0;
    int rc;
    while (ins && n <= 32 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < n; i++) {
            int blob = t->types[i] == 'b';
            vals[i] = sqlite3_column_type(st, i) == SQLITE_NULL ? NULL
                      : blob                                    ? sqlite3_column_blob(st, i)
                             : (const char *)sqlite3_column_text(st, i);
            if (blob && !vals[i] && sqlite3_column_type(st, i) != SQLITE_NULL) vals[i] = "";
            lens[i] = blob ? sqlite3_column_bytes(st, i) : 0;
            fmts[i] = blob;
        }
        /* No node holds a row of the file: it is pending in the copy. */
        if (strcmp(t->name, "outbox") == 0 && vals[9] && strcmp(vals[9], "inflight") == 0)
            vals[9] = "pending";
        PGresult *r = zv_pg_q(dst, t->name, ins, n, vals, lens, fmts);
        if (!r) break;
        PQclear(r);
        rows++;
    }
    int ok = ins && n <= 32 && rc == SQLITE_DONE;
    if (ins && n <= 32 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        zv_pg_fail(dst, "read %s: %s", t->name, sqlite3_errmsg(src->db));
    sqlite3_finalize(st);
    free(ins);
    return ok ? rows : -1;
}

int64_t zv_copy_pg_count(zv_sb *dst, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    PGresult *r = zv_pg_q(dst, table, sql, 0, NULL, NULL, NULL);
    if (!r) return -1;
    int64_t n = zv_pg_get_i64(r, 0, 0);
    PQclear(r);
    return n;
}

/* The copy must not mix with another store's rows. */
static int check_empty(zv_sb *dst)
{
    size_t n;
    const zv_copy_table *t = zv_copy_tables(&n);
    for (size_t i = 0; i < n; i++) {
        int64_t k = zv_copy_pg_count(dst, t[i].name);
        if (k < 0) return -1;
        if (k > 0)
            return zv_pg_fail(dst,
                              "the database is not empty (%s has %lld rows): copy into a new one",
                              t[i].name, (long long)k);
    }
    return 0;
}

/* What each retained payload discloses: the file's disclosure rows, in the
 * form the PostgreSQL outbox keeps them (disclosure_json, as enqueued). */
static int copy_disclosure(zv_store *src, zv_sb *dst)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(src->db,
                           "SELECT outbox_id, json_group_array(json_object('client', client_key, "
                           "'record', record_ref, 'values', json(values_json))) FROM (SELECT * "
                           "FROM disclosure ORDER BY rowid) GROUP BY outbox_id ORDER BY outbox_id",
                           -1, &st, NULL) != SQLITE_OK)
        return zv_pg_fail(dst, "read disclosure: %s", sqlite3_errmsg(src->db));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *v[] = {(const char *)sqlite3_column_text(st, 0),
                           (const char *)sqlite3_column_text(st, 1)};
        PGresult *r =
            zv_pg_q(dst, "disclosure", "UPDATE outbox SET disclosure_json = $2 WHERE id = $1", 2, v,
                    NULL, NULL);
        if (!r) break;
        PQclear(r);
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        zv_pg_fail(dst, "read disclosure: %s", sqlite3_errmsg(src->db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Sequences after the copied ids, the chain head as the file's. */
static int finish(zv_store *src, zv_sb *dst)
{
    /* A quarantine id is never used again: closed entries keep theirs. */
    static const char *const seqs[][2] = {
        {"outbox", "outbox"},
        {"dead_letter", "dead_letter"},
        {"quarantine", "(SELECT id FROM quarantine UNION ALL SELECT id FROM quarantine_closed) q"},
        {"staged", "staged"},
        {"source_item", "source_item"}};
    for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
        char sql[384];
        snprintf(sql, sizeof(sql),
                 "SELECT setval(pg_get_serial_sequence('%s', 'id'), coalesce(max(id), 0) + 1, "
                 "false) FROM %s",
                 seqs[i][0], seqs[i][1]);
        if (zv_pg_cmd(dst, "sequence", sql) < 0) return -1;
    }
    if (copy_disclosure(src, dst) < 0) return -1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(src->db, "SELECT seq, hash FROM audit_head WHERE id = 1", -1, &st,
                           NULL) != SQLITE_OK)
        return zv_pg_fail(dst, "read audit head: %s", sqlite3_errmsg(src->db));
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *v[] = {(const char *)sqlite3_column_text(st, 0),
                           (const char *)sqlite3_column_text(st, 1)};
        PGresult *r =
            zv_pg_q(dst, "audit head", "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", 2,
                    v, NULL, NULL);
        rc = r ? 0 : -1;
        PQclear(r);
    }
    sqlite3_finalize(st);
    return rc;
}

int zv_pg_copy_from_sqlite(zv_store *src, zv_sb *dst, zv_copy_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    if (zv_sb_kind(dst) != ZV_STORE_POSTGRESQL)
        return zv_pg_fail(dst, "store copy goes into a PostgreSQL store");
    /* The file's rows from one snapshot while a daemon may still write. */
    if (zv_store_exec(src, "BEGIN") < 0) return zv_pg_fail(dst, "%s", zv_store_errmsg(src));
    int rc = zv_sb_begin(dst);
    if (rc == 0) rc = check_empty(dst);
    size_t n;
    const zv_copy_table *t = zv_copy_tables(&n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rep->rows[i] = copy_table(src, dst, &t[i]);
        if (rep->rows[i] < 0) rc = -1;
    }
    if (rc == 0) rc = finish(src, dst);
    if (rc == 0)
        rc = zv_sb_commit(dst);
    else
        zv_sb_rollback(dst);
    zv_store_exec(src, "COMMIT");
    return rc;
}

/* Not zv_store_count_sql: that caches by the SQL text's address, and this
 * text is made per table. */
int64_t zv_copy_sqlite_count(zv_store *src, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(src->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int zv_pg_copy_verify(zv_store *src, zv_sb *dst, zv_copy_report *rep, char *why, size_t whylen)
{
    size_t n;
    const zv_copy_table *t = zv_copy_tables(&n);
    for (size_t i = 0; i < n; i++) {
        int64_t a = zv_copy_sqlite_count(src, t[i].name);
        int64_t b = zv_copy_pg_count(dst, t[i].name);
        if (a < 0 || b < 0) return -1;
        if (a != b) {
            snprintf(why, whylen, "%s: %lld rows in the file, %lld in the copy", t[i].name,
                     (long long)a, (long long)b);
            return 1;
        }
        rep->rows[i] = b;
    }
    int64_t bad = 0;
    int v = zv_sb_audit_verify(dst, &rep->audit_entries, &bad, why, whylen);
    if (v != 0) return v;
    rep->verified = 1;
    return 0;
}
