/* Store: views and operator actions for the admin API; see store_admin.h. */
#include "store_admin.h"
#include "store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

#define ROW_COLS                                                                                   \
    "SELECT id, destination, message, idem_key, payload, content_type, extension, fields_json, "   \
    "records_json, state, attempts, next_attempt, first_enqueued, last_error, delivered_at "       \
    "FROM outbox "

int zv_store_outbox_list(zv_store *s, const char *destination, const char *state, int64_t limit,
                         zv_outbox_cb cb, void *arg)
{
    sqlite3_stmt *st = NULL;
    const char *sql = ROW_COLS "WHERE (?1 IS NULL OR destination = ?1) AND (?2 IS NULL OR "
                               "state = ?2) ORDER BY id DESC LIMIT ?3";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "outbox list");
    zv_store_bind_text(st, 1, destination);
    zv_store_bind_text(st, 2, state);
    sqlite3_bind_int64(st, 3, limit > 0 ? limit : 100);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        zv_outbox_row r = {
            .id = sqlite3_column_int64(st, 0),
            .destination = zv_store_col_text(st, 1),
            .message = zv_store_col_text(st, 2),
            .idem_key = zv_store_col_text(st, 3),
            .payload = sqlite3_column_blob(st, 4),
            .len = (size_t)sqlite3_column_bytes(st, 4),
            .content_type = zv_store_col_text(st, 5),
            .extension = zv_store_col_text(st, 6),
            .fields_json = zv_store_col_text(st, 7),
            .records_json = zv_store_col_text(st, 8),
            .state = zv_store_col_text(st, 9),
            .attempts = sqlite3_column_int(st, 10),
            .next_attempt_ms = sqlite3_column_int64(st, 11),
            .first_enqueued = sqlite3_column_int64(st, 12),
            .last_error = zv_store_col_text(st, 13),
            .delivered_at = sqlite3_column_int64(st, 14),
        };
        if (cb(&r, arg)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    int ret = rc == SQLITE_DONE ? 0 : zv_store_fail(s, "outbox list");
    sqlite3_finalize(st);
    return ret;
}

int zv_store_outbox_summary(zv_store *s, zv_outbox_sum_cb cb, void *arg)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT destination, state, count(*), min(first_enqueued) FROM outbox "
                           "GROUP BY destination, state",
                           -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "outbox summary");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *d = zv_store_col_text(st, 0), *state = zv_store_col_text(st, 1);
        if (cb(d ? d : "", state ? state : "", sqlite3_column_int64(st, 2),
               sqlite3_column_int64(st, 3), arg)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    int ret = rc == SQLITE_DONE ? 0 : zv_store_fail(s, "outbox summary");
    sqlite3_finalize(st);
    return ret;
}

/* One integer from a query with one text parameter: 0 found, 1 NULL/none.
 * sql a string constant (prepared once, zv_store_prep). */
static int one_int(zv_store *s, const char *sql, const char *a, int64_t *out)
{
    sqlite3_stmt *st = zv_store_prep(s, sql);
    if (!st) return -1;
    zv_store_bind_text(st, 1, a);
    int rc = sqlite3_step(st), ret = 1;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *out = sqlite3_column_int64(st, 0);
        ret = 0;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        ret = zv_store_fail(s, "query");
    }
    zv_store_unprep(s, st);
    return ret;
}

int zv_store_outbox_oldest_pending(zv_store *s, const char *destination, int64_t *first_enqueued)
{
    return one_int(s,
                   "SELECT min(first_enqueued) FROM outbox WHERE destination = ? AND "
                   "state IN ('pending', 'inflight')",
                   destination, first_enqueued);
}

int zv_store_outbox_last_delivered(zv_store *s, const char *destination, int64_t *at)
{
    return one_int(
        s, "SELECT max(delivered_at) FROM outbox WHERE destination = ? AND state = 'delivered'",
        destination, at);
}

static int outbox_state(zv_store *s, int64_t id, char *state, size_t len, char *dest, size_t dlen,
                        char *idem, size_t ilen, char *msg, size_t mlen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT state, destination, idem_key, message FROM outbox WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "outbox");
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), ret = 1;
    if (rc == SQLITE_ROW) {
        const char *v[4] = {zv_store_col_text(st, 0), zv_store_col_text(st, 1),
                            zv_store_col_text(st, 2), zv_store_col_text(st, 3)};
        snprintf(state, len, "%s", v[0] ? v[0] : "");
        snprintf(dest, dlen, "%s", v[1] ? v[1] : "");
        snprintf(idem, ilen, "%s", v[2] ? v[2] : "");
        snprintf(msg, mlen, "%s", v[3] ? v[3] : "");
        ret = 0;
    } else if (rc != SQLITE_DONE) {
        ret = zv_store_fail(s, "outbox");
    }
    sqlite3_finalize(st);
    if (ret == 1) snprintf(s->err, sizeof(s->err), "no outbox payload %" PRId64, id);
    return ret;
}

static int run_id(zv_store *s, const char *sql, int64_t a, int64_t b)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return zv_store_fail(s, sql);
    sqlite3_bind_int64(st, 1, a);
    if (sqlite3_bind_parameter_count(st) > 1) sqlite3_bind_int64(st, 2, b);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? sqlite3_changes(s->db) : zv_store_fail(s, "update");
}

int zv_store_outbox_retry_now(zv_store *s, int64_t id, int64_t now_ms)
{
    char state[16], dest[128], idem[256], msg[64];
    int r = outbox_state(s, id, state, sizeof(state), dest, sizeof(dest), idem, sizeof(idem), msg,
                         sizeof(msg));
    if (r != 0) return r;
    if (strcmp(state, "pending") != 0) {
        snprintf(s->err, sizeof(s->err),
                 "payload %" PRId64 " is %s; only pending payloads can be retried now (a dead "
                 "one: retry its dead letter entry)",
                 id, state);
        return 1;
    }
    int n = run_id(s, "UPDATE outbox SET next_attempt = ?2 WHERE id = ?1 AND state = 'pending'", id,
                   now_ms);
    return n < 0 ? -1 : 0;
}

int zv_store_outbox_drop(zv_store *s, int64_t id, int64_t now, const char *who)
{
    if (zv_store_begin(s) < 0) return -1;
    char state[16], dest[128], idem[256], msg[64];
    int r = outbox_state(s, id, state, sizeof(state), dest, sizeof(dest), idem, sizeof(idem), msg,
                         sizeof(msg));
    if (r == 0 && strcmp(state, "pending") != 0) {
        snprintf(s->err, sizeof(s->err),
                 "payload %" PRId64 " is %s; only pending payloads can be dropped here", id, state);
        r = 1;
    }
    if (r != 0) {
        zv_store_rollback(s);
        return r;
    }
    char detail[512];
    snprintf(detail, sizeof(detail), "outbox payload %" PRId64 " dropped before delivery by %s", id,
             who ? who : "?");
    if (zv_store_audit_append_locked(s, now, "outbox-drop", dest, idem, msg, NULL, NULL, detail) <
            0 ||
        run_id(s,
               "UPDATE outbox SET state = 'dropped', payload = NULL WHERE id = ? AND "
               "state = 'pending'",
               id, 0) != 1)
        s->failed = 1;
    return zv_store_commit(s);
}

int zv_store_audit_note(zv_store *s, int64_t now, const char *destination, const char *idem_key,
                        const char *message, const char *detail)
{
    if (zv_store_begin(s) < 0) return -1;
    char *d = zv_strdup0(detail);
    if (d) zv_bsn_scrub(d);
    if (zv_store_audit_append_locked(s, now, "admin", destination, idem_key, message, NULL, NULL,
                                     d) < 0)
        s->failed = 1;
    free(d);
    return zv_store_commit(s);
}

int64_t zv_store_audit_length(zv_store *s)
{
    return zv_store_count_sql(s, "SELECT count(*) FROM audit", NULL, NULL);
}

int zv_store_quarantine_stats(zv_store *s, zv_qstat_cb cb, void *arg)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT source, stage, count(*) FROM quarantine WHERE state = 'open' "
                           "GROUP BY source, stage "
                           "ORDER BY source, stage",
                           -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "quarantine stats");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *src = zv_store_col_text(st, 0), *stage = zv_store_col_text(st, 1);
        if (cb(src ? src : "", stage ? stage : "", sqlite3_column_int64(st, 2), arg)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    int ret = rc == SQLITE_DONE ? 0 : zv_store_fail(s, "quarantine stats");
    sqlite3_finalize(st);
    return ret;
}

int zv_store_write_probe(zv_store *s, int wait_ms, char *err, size_t errlen)
{
    if (s->open) return 0; /* a transaction of ours is open: we are writing */
    /* With a writer thread nothing is written or waited for here (the
     * loop never waits for a lock): see zv_store_writer_probe. */
    if (zv_store_writer_health(s, 0, err, errlen) != 1)
        return zv_store_writer_probe(s, err, errlen);
    sqlite3_busy_timeout(s->db, wait_ms);
    int ok = zv_store_exec(s, "BEGIN IMMEDIATE") == 0;
    if (ok) {
        ok = zv_store_exec(s, "INSERT OR REPLACE INTO meta(key, value) VALUES('health_probe', "
                              "strftime('%s','now'))") == 0;
        if (ok) ok = zv_store_exec(s, "COMMIT") == 0;
        if (!ok) {
            char keep[sizeof(s->err)];
            memcpy(keep, s->err, sizeof(keep));
            zv_store_exec(s, "ROLLBACK");
            memcpy(s->err, keep, sizeof(keep));
        }
    }
    sqlite3_busy_timeout(s->db, 5000);
    if (!ok) snprintf(err, errlen, "%s", s->err);
    return ok ? 0 : -1;
}
