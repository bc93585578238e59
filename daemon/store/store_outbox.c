/* Store: the outbox (enqueue, claim, outcome of each attempt); retention is store_retention.c. */
#include "store_int.h"
#include "store_chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>
#include <zinvol/util.h>

int zv_store_enqueue(zv_store *s, const zv_outbox_new *o)
{
    sqlite3_stmt *st = zv_store_stmt(
        s, ZV_ST_ENQUEUE,
        "INSERT OR IGNORE INTO outbox(destination, message, idem_key, payload, content_type, "
        "extension, fields_json, records_json, state, attempts, next_attempt, first_enqueued) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)");
    if (!st) return -1;
    if (!o->destination || !o->idem_key || !o->payload) {
        snprintf(s->err, sizeof(s->err), "enqueue: destination, idem_key and payload are needed");
        if (s->open) s->failed = 1;
        return -1;
    }
    zv_store_bind_text(st, 1, o->destination);
    zv_store_bind_text(st, 2, o->message);
    zv_store_bind_text(st, 3, o->idem_key);
    sqlite3_bind_blob64(st, 4, o->payload, o->len, SQLITE_STATIC);
    zv_store_bind_text(st, 5, o->content_type);
    zv_store_bind_text(st, 6, o->extension);
    zv_store_bind_text(st, 7, o->fields_json);
    zv_store_bind_text(st, 8, o->records_json);
    int64_t now_ms = zv_now() * 1000;
    sqlite3_bind_int64(st, 9, now_ms);
    sqlite3_bind_int64(st, 10, now_ms / 1000);
    if (sqlite3_step(st) != SQLITE_DONE) return zv_store_fail(s, "enqueue");
    if (sqlite3_changes(s->db) == 0) return 1;
    if (o->disclosure_json &&
        zv_store_disclosure_put(s, sqlite3_last_insert_rowid(s->db), o->disclosure_json) < 0)
        return -1;
    return 0;
}

int64_t zv_store_outbox_count(zv_store *s, const char *destination, const char *state)
{
    if (destination && state)
        return zv_store_count_sql(s,
                                  "SELECT count(*) FROM outbox WHERE destination = ? AND state = ?",
                                  destination, state);
    if (destination)
        return zv_store_count_sql(s, "SELECT count(*) FROM outbox WHERE destination = ?",
                                  destination, NULL);
    if (state)
        return zv_store_count_sql(s, "SELECT count(*) FROM outbox WHERE state = ?", state, NULL);
    return zv_store_count_sql(s, "SELECT count(*) FROM outbox", NULL, NULL);
}

#define ROW_COLS                                                                                   \
    "SELECT id, destination, message, idem_key, payload, content_type, extension, fields_json, "   \
    "records_json, state, attempts, next_attempt, first_enqueued, last_error, delivered_at "       \
    "FROM outbox "

static void row_from(sqlite3_stmt *st, zv_outbox_row *r)
{
    r->id = sqlite3_column_int64(st, 0);
    r->destination = zv_store_col_text(st, 1);
    r->message = zv_store_col_text(st, 2);
    r->idem_key = zv_store_col_text(st, 3);
    r->payload = sqlite3_column_blob(st, 4);
    r->len = (size_t)sqlite3_column_bytes(st, 4);
    r->content_type = zv_store_col_text(st, 5);
    r->extension = zv_store_col_text(st, 6);
    r->fields_json = zv_store_col_text(st, 7);
    r->records_json = zv_store_col_text(st, 8);
    r->state = zv_store_col_text(st, 9);
    r->attempts = sqlite3_column_int(st, 10);
    r->next_attempt_ms = sqlite3_column_int64(st, 11);
    r->first_enqueued = sqlite3_column_int64(st, 12);
    r->last_error = zv_store_col_text(st, 13);
    r->delivered_at = sqlite3_column_int64(st, 14);
}

int zv_store_outbox_claim(zv_store *s, const char *destination, int64_t now_ms, size_t limit,
                          zv_outbox_cb cb, void *arg)
{
    sqlite3_stmt *sel = zv_store_stmt(s, ZV_ST_CLAIM_SEL,
                                      ROW_COLS "WHERE destination = ? AND state = 'pending' AND "
                                               "next_attempt <= ? ORDER BY next_attempt, id "
                                               "LIMIT ?");
    sqlite3_stmt *upd =
        zv_store_stmt(s, ZV_ST_CLAIM_UPD, "UPDATE outbox SET state = 'inflight' WHERE id = ?");
    if (!sel || !upd) return -1;
    /* Claiming needs no fsync of its own: a claim lost to a power cut only
     * means the row is pending again, and the next FULL commit syncs these
     * WAL frames anyway.  With the writer thread a claim is a unit of the
     * group, and the group's commit must stay FULL: never changed there
     * (the pragma cannot be set back inside the open group). */
    int cheap = !s->open && !s->wr;
    if (cheap) zv_store_exec(s, "PRAGMA synchronous=NORMAL");
    int own;
    if (zv_store_op_begin(s, &own) < 0) {
        if (cheap) zv_store_exec(s, "PRAGMA synchronous=FULL");
        return -1;
    }
    zv_store_bind_text(sel, 1, destination);
    sqlite3_bind_int64(sel, 2, now_ms);
    sqlite3_bind_int64(sel, 3, (int64_t)limit);
    int rc, n = 0;
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        zv_outbox_row r;
        row_from(sel, &r);
        sqlite3_reset(upd);
        sqlite3_bind_int64(upd, 1, r.id);
        if (sqlite3_step(upd) != SQLITE_DONE) {
            zv_store_fail(s, "claim");
            break;
        }
        n++;
        if (cb(&r, arg)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE) zv_store_fail(s, "claim");
    sqlite3_reset(sel);
    int rc2 = zv_store_op_end(s, own);
    if (cheap) zv_store_exec(s, "PRAGMA synchronous=FULL");
    return rc2 < 0 ? -1 : n;
}

int zv_store_outbox_next_due(zv_store *s, const char *destination, int64_t *when_ms)
{
    sqlite3_stmt *st = zv_store_stmt(s, ZV_ST_NEXT_DUE,
                                     "SELECT min(next_attempt) FROM outbox WHERE destination = ? "
                                     "AND state = 'pending'");
    if (!st) return -1;
    zv_store_bind_text(st, 1, destination);
    int ret = 1;
    if (sqlite3_step(st) != SQLITE_ROW)
        ret = zv_store_fail(s, "next due");
    else if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *when_ms = sqlite3_column_int64(st, 0);
        ret = 0;
    }
    sqlite3_reset(st);
    return ret;
}

static int row_query(zv_store *s, const char *sql, int64_t id, const char *a, const char *b,
                     zv_outbox_cb cb, void *arg)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "outbox");
    if (a) {
        zv_store_bind_text(st, 1, a);
        zv_store_bind_text(st, 2, b);
    } else {
        sqlite3_bind_int64(st, 1, id);
    }
    int rc = sqlite3_step(st), ret = 1;
    if (rc == SQLITE_ROW) {
        zv_outbox_row r;
        row_from(st, &r);
        cb(&r, arg);
        ret = 0;
    } else if (rc != SQLITE_DONE) {
        ret = zv_store_fail(s, "outbox");
    }
    sqlite3_finalize(st);
    return ret;
}

int zv_store_outbox_get(zv_store *s, int64_t id, zv_outbox_cb cb, void *arg)
{
    /* Cached: every delivered payload reads its row back for the audit entry. */
    sqlite3_stmt *st = zv_store_stmt(s, ZV_ST_OUTBOX_GET, ROW_COLS "WHERE id = ?");
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), ret = 1;
    if (rc == SQLITE_ROW) {
        zv_outbox_row r;
        row_from(st, &r);
        cb(&r, arg);
        ret = 0;
    } else if (rc != SQLITE_DONE) {
        ret = zv_store_fail(s, "outbox");
    }
    sqlite3_reset(st);
    return ret;
}

static int take_id(const zv_outbox_row *r, void *arg)
{
    *(int64_t *)arg = r->id;
    return 0;
}

int zv_store_outbox_find(zv_store *s, const char *destination, const char *idem_key, int64_t *id)
{
    return row_query(s, ROW_COLS "WHERE destination = ? AND idem_key = ?", 0, destination,
                     idem_key ? idem_key : "", take_id, id);
}

struct delivered_ctx {
    zv_store *s;
    int64_t now;
    int rc;
};

static int audit_delivered(const zv_outbox_row *r, void *arg)
{
    struct delivered_ctx *c = arg;
    char sha[65];
    zv_sha256_hex(r->payload ? r->payload : "", r->len, sha);
    zv_buf f;
    zv_buf_init(&f);
    zv_audit_fields_text(r->fields_json, &f);
    char *clients = zv_audit_clients_of(r->records_json);
    char *cites = zv_audit_citations_of(r->fields_json);
    c->rc = zv_store_audit_append_cited_locked(c->s, c->now, "delivered", r->destination,
                                               r->idem_key, r->message, f.data ? f.data : "", sha,
                                               NULL, clients, cites);
    free(cites);
    free(clients);
    zv_buf_free(&f);
    return 0;
}

int zv_store_outbox_delivered(zv_store *s, int64_t id, int64_t now)
{
    sqlite3_stmt *st = zv_store_stmt(s, ZV_ST_DELIVERED,
                                     "UPDATE outbox SET state = 'delivered', delivered_at = ?, "
                                     "attempts = attempts + 1, last_error = NULL "
                                     "WHERE id = ? AND state IN ('inflight', 'pending')");
    if (!st) return -1;
    int own;
    if (zv_store_op_begin(s, &own) < 0) return -1;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        zv_store_fail(s, "delivered");
    else if (sqlite3_changes(s->db) == 1) {
        struct delivered_ctx c = {s, now, -1};
        if (zv_store_outbox_get(s, id, audit_delivered, &c) != 0 || c.rc < 0) s->failed = 1;
    }
    return zv_store_op_end(s, own);
}

int zv_store_outbox_retry(zv_store *s, int64_t id, int64_t next_attempt_ms, const char *error)
{
    sqlite3_stmt *st =
        zv_store_stmt(s, ZV_ST_RETRY,
                      "UPDATE outbox SET state = 'pending', attempts = attempts + 1, "
                      "next_attempt = ?, last_error = ? WHERE id = ? AND "
                      "state IN ('inflight', 'pending')");
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, next_attempt_ms);
    zv_store_bind_text(st, 2, error);
    sqlite3_bind_int64(st, 3, id);
    return sqlite3_step(st) == SQLITE_DONE ? 0 : zv_store_fail(s, "retry");
}

static int dlq_insert(zv_store *s, int64_t outbox_id, const zv_dead_info *d, int64_t *dlq_id)
{
    sqlite3_stmt *st =
        zv_store_stmt(s, ZV_ST_DLQ_INS,
                      "INSERT INTO dead_letter(outbox_id, created, destination, record_key, "
                      "record_ref, reason, codes, http_status) SELECT id, ?, destination, "
                      "?, ?, ?, ?, ? FROM outbox WHERE id = ?");
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, zv_now());
    zv_store_bind_text(st, 2, d->record_key);
    zv_store_bind_text(st, 3, d->record_ref);
    zv_store_bind_text(st, 4, d->reason ? d->reason : "unknown");
    zv_store_bind_text(st, 5, d->codes);
    sqlite3_bind_int(st, 6, d->http_status);
    sqlite3_bind_int64(st, 7, outbox_id);
    int ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(s->db) == 1;
    sqlite3_reset(st);
    if (!ok) {
        snprintf(s->err, sizeof(s->err), "dead letter: no outbox row %lld", (long long)outbox_id);
        if (s->open) s->failed = 1;
        return -1;
    }
    if (dlq_id) *dlq_id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int zv_store_outbox_dead(zv_store *s, int64_t id, const zv_dead_info *d, int64_t *dlq_id)
{
    int own;
    if (zv_store_op_begin(s, &own) < 0) return -1;
    sqlite3_stmt *st = zv_store_stmt(s, ZV_ST_DEAD,
                                     "UPDATE outbox SET state = 'dead', attempts = attempts + 1, "
                                     "last_error = ? WHERE id = ?");
    if (st) {
        zv_store_bind_text(st, 1, d->reason);
        sqlite3_bind_int64(st, 2, id);
        if (sqlite3_step(st) != SQLITE_DONE) zv_store_fail(s, "dead");
        sqlite3_reset(st);
        dlq_insert(s, id, d, dlq_id);
    }
    return zv_store_op_end(s, own);
}

int zv_store_record_verdict(zv_store *s, int64_t outbox_id, int accepted, const zv_dead_info *d,
                            int64_t *dlq_id)
{
    if (!d || !d->record_key) {
        snprintf(s->err, sizeof(s->err), "verdict: a record key is needed");
        return -1;
    }
    int own;
    if (zv_store_op_begin(s, &own) < 0) return -1;
    sqlite3_stmt *st = zv_store_stmt(s, ZV_ST_VERDICT,
                                     "INSERT OR REPLACE INTO verdict(outbox_id, record_key, "
                                     "accepted, at) VALUES(?, ?, ?, ?)");
    if (st) {
        sqlite3_bind_int64(st, 1, outbox_id);
        zv_store_bind_text(st, 2, d->record_key);
        sqlite3_bind_int(st, 3, accepted ? 1 : 0);
        sqlite3_bind_int64(st, 4, zv_now());
        if (sqlite3_step(st) != SQLITE_DONE) zv_store_fail(s, "verdict");
        sqlite3_reset(st);
        if (!accepted) dlq_insert(s, outbox_id, d, dlq_id);
    }
    return zv_store_op_end(s, own);
}

struct find_rec {
    const char *key;
    int64_t id;
};

static int has_key(const char *records_json, const char *key)
{
    char err[64];
    zv_json_doc *d = zv_json_parse(records_json, strlen(records_json), 0, err, sizeof(err));
    const zv_json *a = d ? zv_json_root(d) : NULL;
    int found = 0;
    for (size_t i = 0; a && !found && i < zv_json_len(a); i++) {
        const char *k = zv_json_str(zv_json_get(zv_json_at(a, i), "key"), NULL);
        found = k && strcmp(k, key) == 0;
    }
    zv_json_free(d);
    return found;
}

int zv_store_outbox_find_record(zv_store *s, const char *destination, const char *record_key,
                                int64_t *id)
{
    /* Narrow with a plain substring (the JSON writer may escape '/'), then
     * confirm by reading records_json. */
    char frag[256];
    snprintf(frag, sizeof(frag), "%s", record_key);
    frag[strcspn(frag, "/\\\"")] = '\0';
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, records_json FROM outbox WHERE destination = ? AND "
                           "records_json IS NOT NULL AND instr(records_json, ?) > 0 "
                           "ORDER BY id DESC",
                           -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "find record");
    zv_store_bind_text(st, 1, destination);
    zv_store_bind_text(st, 2, frag);
    int rc, ret = 1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *rj = zv_store_col_text(st, 1);
        if (rj && has_key(rj, record_key)) {
            *id = sqlite3_column_int64(st, 0);
            ret = 0;
            break;
        }
    }
    if (ret == 1 && rc != SQLITE_DONE) ret = zv_store_fail(s, "find record");
    sqlite3_finalize(st);
    return ret;
}
