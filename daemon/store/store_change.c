/*
 * Store: what was last sent per destination and record key (change
 * detection, see core/change.h), and whether a record is already in
 * quarantine for the same reason.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

int zv_store_sent_same(zv_store *s, const char *destination, const char *key, const char *digest)
{
    sqlite3_stmt *st =
        zv_store_stmt(s, ZV_ST_SENT_GET,
                      "SELECT digest, message, rec FROM sent_digest WHERE destination = ? "
                      "AND record_key = ?");
    if (!st) return -1;
    zv_store_bind_text(st, 1, destination);
    zv_store_bind_text(st, 2, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) return zv_store_fail(s, "sent digest");
    const char *d = zv_store_col_text(st, 0);
    return d && strcmp(d, digest) == 0 ? 1 : 0;
}

int zv_store_sent_put(zv_store *s, const char *destination, const char *key, const char *digest,
                      const char *message, const unsigned char *rec, size_t len)
{
    sqlite3_stmt *st = zv_store_stmt(s, ZV_ST_SENT_PUT,
                                     "INSERT OR REPLACE INTO sent_digest(destination, record_key, "
                                     "digest, message, at, rec) VALUES(?, ?, ?, ?, ?, ?)");
    if (!st) return -1;
    zv_store_bind_text(st, 1, destination);
    zv_store_bind_text(st, 2, key);
    zv_store_bind_text(st, 3, digest);
    zv_store_bind_text(st, 4, message);
    sqlite3_bind_int64(st, 5, zv_now());
    if (rec)
        sqlite3_bind_blob64(st, 6, rec, len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
    if (sqlite3_step(st) != SQLITE_DONE) return zv_store_fail(s, "sent digest");
    return 0;
}

int zv_store_sent_get(zv_store *s, const char *destination, const char *key, char *message,
                      size_t msglen, unsigned char **rec, size_t *len)
{
    *rec = NULL;
    *len = 0;
    sqlite3_stmt *st = zv_store_stmt(s, ZV_ST_SENT_GET,
                                     "SELECT digest, message, rec FROM sent_digest WHERE "
                                     "destination = ? AND record_key = ?");
    if (!st) return -1;
    zv_store_bind_text(st, 1, destination);
    zv_store_bind_text(st, 2, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) return zv_store_fail(s, "sent digest");
    const char *m = zv_store_col_text(st, 1);
    snprintf(message, msglen, "%s", m ? m : "");
    const void *b = sqlite3_column_blob(st, 2);
    int n = sqlite3_column_bytes(st, 2);
    if (b && n > 0) {
        if (!(*rec = malloc((size_t)n))) return -1;
        memcpy(*rec, b, (size_t)n);
        *len = (size_t)n;
    }
    return 1;
}

int zv_store_quarantine_same(zv_store *s, const zv_quarantine_entry *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT 1 FROM quarantine WHERE source = ? AND record_id = ? AND "
                           "stage = ? AND reason IS ? AND field IS ? LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "prepare");
    zv_store_bind_text(st, 1, e->source);
    zv_store_bind_text(st, 2, e->record_id);
    zv_store_bind_text(st, 3, e->stage);
    zv_store_bind_text(st, 4, e->reason);
    zv_store_bind_text(st, 5, e->field);
    int rc = sqlite3_step(st);
    int ret = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : zv_store_fail(s, "quarantine");
    sqlite3_finalize(st);
    return ret;
}
