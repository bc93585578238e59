/*
 * The register and the core's outbox are two SQLite files, committed one
 * after the other: render() commits the register, and the core puts the
 * payloads into the outbox later, in its own transaction (core/render.c
 * step 3).  Between the two a crash, or a render the core throws away (a
 * unit rendered again because the batch sequence moved, a try too large),
 * would leave the register changed and its notifications nowhere: the
 * record, still staged, is rendered again, finds the register unchanged
 * and makes no event.
 *
 * So the notifications of a record are kept in the register's own
 * transaction, beside the change they announce: per record (source and
 * record id) the digest of what was applied and the notification payloads
 * it gave, with their idempotency keys.  A record that comes again exactly
 * as it was last applied is a render the outbox may not have seen: its
 * notifications are handed out again, byte for byte with the same keys,
 * and the outbox (UNIQUE destination, idem_key; INSERT OR IGNORE) keeps
 * one.  The core's change detection stages no record that is unchanged
 * for this destination, so outside such a replay a record never comes
 * again with the same digest.
 */
#include "lvr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lvr_record_key(const zv_record *r, char *out, size_t len)
{
    snprintf(out, len, "%s\x1f%s", r->prov.source ? r->prov.source : "",
             r->prov.record_id ? r->prov.record_id : "");
}

void lvr_record_digest(const zv_record *r, char out[65])
{
    zv_buf b;
    zv_buf_init(&b);
    zv_buf_printf(&b, "%d", (int)r->kind);
    for (uint32_t f = 0; f < r->nfields; f++)
        if (r->values[f].str) {
            zv_buf_printf(&b, "|%u:%u:", (unsigned)f, (unsigned)r->values[f].len);
            zv_buf_append(&b, r->values[f].str, r->values[f].len);
        }
    zv_sha256_hex(b.data ? b.data : "", b.len, out);
    zv_buf_free(&b);
}

int lvr_emitted_find(lvr *l, const char *rkey, const char *digest)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db, "SELECT digest FROM emitted WHERE rkey = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, rkey, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), same = 0;
    if (rc == SQLITE_ROW) same = !strcmp((const char *)sqlite3_column_text(st, 0), digest);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? same : -1;
}

int lvr_emitted_forget(lvr *l, const char *rkey, const char *digest)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(l->db, "DELETE FROM emitted_note WHERE rkey = ?", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, rkey, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    if (rc < 0 ||
        sqlite3_prepare_v2(l->db, "INSERT OR REPLACE INTO emitted(rkey, digest) VALUES(?, ?)", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, rkey, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, digest, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

int lvr_emitted_add(lvr *l, const char *rkey, int n, const char *idem, const char *record_key,
                    const char *body, size_t len)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db,
                           "INSERT INTO emitted_note(rkey, n, idem, record_key, body) VALUES(?, ?, "
                           "?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, rkey, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, n);
    sqlite3_bind_text(st, 3, idem, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, record_key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, body, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

int lvr_emitted_each(lvr *l, const char *rkey, lvr_note_cb cb, void *arg)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db,
                           "SELECT idem, record_key, body FROM emitted_note WHERE rkey = ? ORDER "
                           "BY n",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, rkey, -1, SQLITE_STATIC);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *body = sqlite3_column_blob(st, 2);
        size_t len = (size_t)sqlite3_column_bytes(st, 2);
        if (cb(arg, (const char *)sqlite3_column_text(st, 0),
               (const char *)sqlite3_column_text(st, 1), body ? body : "", len) < 0) {
            rc = SQLITE_ERROR;
            break;
        }
        n++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? n : -1;
}
