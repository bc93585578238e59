/* Store: source resume points, de-duplication, staging, counters (quarantine:
 * store_quarantine.c). */
#include "store_int.h"

#include <stdio.h>
#include <string.h>
#include <zinvol/util.h>

static sqlite3_stmt *prep(zv_store *s, const char *sql)
{
    return zv_store_prep(s, sql);
}

static int step_done(zv_store *s, sqlite3_stmt *st, const char *what, int finalize)
{
    int rc = sqlite3_step(st);
    int ret = rc == SQLITE_DONE ? 0 : zv_store_fail(s, what);
    if (finalize) zv_store_unprep(s, st);
    return ret;
}

int zv_store_watermark_get(zv_store *s, const char *source, const char *key, char *buf,
                           size_t buflen)
{
    sqlite3_stmt *st = prep(s, "SELECT value FROM watermark WHERE source = ? AND key = ?");
    if (!st) return -1;
    zv_store_bind_text(st, 1, source);
    zv_store_bind_text(st, 2, key);
    int rc = sqlite3_step(st), ret;
    if (rc == SQLITE_ROW) {
        const char *v = zv_store_col_text(st, 0);
        snprintf(buf, buflen, "%s", v ? v : "");
        ret = 0;
    } else {
        ret = rc == SQLITE_DONE ? 1 : zv_store_fail(s, "watermark");
    }
    zv_store_unprep(s, st);
    return ret;
}

int zv_store_watermark_set(zv_store *s, const char *source, const char *key, const char *value)
{
    sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO watermark(source, key, value) "
                               "VALUES(?, ?, ?)");
    if (!st) return -1;
    zv_store_bind_text(st, 1, source);
    zv_store_bind_text(st, 2, key);
    zv_store_bind_text(st, 3, value);
    return step_done(s, st, "watermark", 1);
}

int zv_store_seen(zv_store *s, const char *source, const char *record_id, const char *hash)
{
    sqlite3_stmt *st = zv_store_stmt(
        s, ZV_ST_SEEN, "INSERT OR IGNORE INTO seen(source, record_id, hash) VALUES(?, ?, ?)");
    if (!st) return -1;
    zv_store_bind_text(st, 1, source);
    zv_store_bind_text(st, 2, record_id);
    zv_store_bind_text(st, 3, hash);
    if (step_done(s, st, "seen", 0) < 0) return -1;
    return sqlite3_changes(s->db) == 0 ? 1 : 0;
}

int64_t zv_store_count_sql(zv_store *s, const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *st = prep(s, sql);
    if (!st) return -1;
    int i = 1;
    if (a) zv_store_bind_text(st, i++, a);
    if (b) zv_store_bind_text(st, i++, b);
    int64_t n =
        sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : zv_store_fail(s, "count");
    zv_store_unprep(s, st);
    return n;
}

/* ---- staging ---- */

int zv_store_stage(zv_store *s, const char *destination, int message, const unsigned char *rec,
                   size_t len)
{
    return zv_store_stage_item(s, destination, message, rec, len, 0);
}

int zv_store_stage_item(zv_store *s, const char *destination, int message, const unsigned char *rec,
                        size_t len, int64_t item_id)
{
    sqlite3_stmt *st = zv_store_stmt(s, ZV_ST_STAGE,
                                     "INSERT INTO staged(destination, message, rec, created, "
                                     "item_id) VALUES(?,?,?,?,?)");
    if (!st) return -1;
    zv_store_bind_text(st, 1, destination);
    sqlite3_bind_int(st, 2, message);
    sqlite3_bind_blob(st, 3, rec, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, zv_now());
    if (item_id > 0)
        sqlite3_bind_int64(st, 5, item_id);
    else
        sqlite3_bind_null(st, 5);
    return step_done(s, st, "stage", 0);
}

int zv_store_staged_each(zv_store *s, const char *destination, size_t limit, zv_staged_cb cb,
                         void *arg)
{
    return zv_store_staged_after(s, destination, 0, limit, cb, arg);
}

int zv_store_staged_after(zv_store *s, const char *destination, int64_t after_id, size_t limit,
                          zv_staged_cb cb, void *arg)
{
    sqlite3_stmt *st = zv_store_stmt(s, ZV_ST_STAGED_SEL,
                                     "SELECT id, message, rec FROM staged WHERE destination = ? "
                                     "AND id > ? ORDER BY id LIMIT ?");
    if (!st) return -1;
    zv_store_bind_text(st, 1, destination);
    sqlite3_bind_int64(st, 2, after_id);
    sqlite3_bind_int64(st, 3, limit ? (int64_t)limit : -1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        zv_staged r = {.id = sqlite3_column_int64(st, 0),
                       .message = sqlite3_column_int(st, 1),
                       .rec = sqlite3_column_blob(st, 2),
                       .len = (size_t)sqlite3_column_bytes(st, 2)};
        if (cb(&r, arg)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    int ret = rc == SQLITE_DONE ? 0 : zv_store_fail(s, "staged");
    /* Reset now: a cached statement left mid-scan would keep a read open. */
    sqlite3_reset(st);
    return ret;
}

int zv_store_staged_delete(zv_store *s, int64_t id)
{
    sqlite3_stmt *st = zv_store_stmt(s, ZV_ST_STAGED_DEL, "DELETE FROM staged WHERE id = ?");
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, id);
    return step_done(s, st, "staged", 0);
}

int64_t zv_store_staged_count(zv_store *s, const char *destination)
{
    if (!destination) return zv_store_count_sql(s, "SELECT count(*) FROM staged", NULL, NULL);
    return zv_store_count_sql(s, "SELECT count(*) FROM staged WHERE destination = ?", destination,
                              NULL);
}

int zv_store_next_batch(zv_store *s, const char *destination, int64_t *seq)
{
    sqlite3_stmt *st = zv_store_stmt(s, ZV_ST_NEXT_BATCH,
                                     "INSERT INTO batch_seq(destination, seq) VALUES(?, 1) "
                                     "ON CONFLICT(destination) DO UPDATE SET seq = seq + 1 "
                                     "RETURNING seq");
    if (!st) return -1;
    zv_store_bind_text(st, 1, destination);
    int ret = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        *seq = sqlite3_column_int64(st, 0);
    else
        ret = zv_store_fail(s, "batch sequence");
    sqlite3_reset(st);
    return ret;
}

int zv_store_batch_peek(zv_store *s, const char *destination, int64_t *seq)
{
    sqlite3_stmt *st;
    *seq = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT seq FROM batch_seq WHERE destination = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return zv_store_fail(s, "batch sequence");
    zv_store_bind_text(st, 1, destination);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *seq = sqlite3_column_int64(st, 0);
    zv_store_unprep(s, st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : zv_store_fail(s, "batch sequence");
}

int zv_store_batch_set(zv_store *s, const char *destination, int64_t seq)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO batch_seq(destination, seq) VALUES(?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "batch sequence");
    zv_store_bind_text(st, 1, destination);
    sqlite3_bind_int64(st, 2, seq);
    int rc = sqlite3_step(st);
    zv_store_unprep(s, st);
    return rc == SQLITE_DONE ? 0 : zv_store_fail(s, "batch sequence");
}

/* ---- counters ---- */

int zv_store_count_add(zv_store *s, const char *destination, const char *field, const char *what,
                       int64_t n)
{
    sqlite3_stmt *st = zv_store_stmt(s, ZV_ST_COUNT_ADD,
                                     "INSERT INTO counters(destination, field, what, n) "
                                     "VALUES(?, ?, ?, ?) ON CONFLICT(destination, field, what) "
                                     "DO UPDATE SET n = n + excluded.n");
    if (!st) return -1;
    zv_store_bind_text(st, 1, destination ? destination : "");
    zv_store_bind_text(st, 2, field ? field : "");
    zv_store_bind_text(st, 3, what);
    sqlite3_bind_int64(st, 4, n);
    return step_done(s, st, "counter", 0);
}

int zv_store_count_each(zv_store *s, zv_count_cb cb, void *arg)
{
    sqlite3_stmt *st = prep(
        s, "SELECT destination, field, what, n FROM counters ORDER BY destination, field, what");
    if (!st) return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cb(zv_store_col_text(st, 0), zv_store_col_text(st, 1), zv_store_col_text(st, 2),
               sqlite3_column_int64(st, 3), arg)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    int ret = rc == SQLITE_DONE ? 0 : zv_store_fail(s, "counters");
    zv_store_unprep(s, st);
    return ret;
}
