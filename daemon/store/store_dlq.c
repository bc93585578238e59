/* Store: the dead letter - listing, retry with the same idempotency key, audited drop. */
#include "store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <zinvol/util.h>

#define DLQ_COLS                                                                                   \
    "SELECT d.id, d.outbox_id, d.created, d.destination, o.message, o.idem_key, d.record_key, "    \
    "d.record_ref, d.reason, d.codes, d.http_status, o.attempts FROM dead_letter d "               \
    "LEFT JOIN outbox o ON o.id = d.outbox_id "

static int dlq_rows(zv_store *s, const char *sql, int64_t id, zv_dlq_cb cb, void *arg)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "dead letter");
    if (id > 0) sqlite3_bind_int64(st, 1, id);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        zv_dlq_entry e = {.id = sqlite3_column_int64(st, 0),
                          .outbox_id = sqlite3_column_int64(st, 1),
                          .created = sqlite3_column_int64(st, 2),
                          .destination = zv_store_col_text(st, 3),
                          .message = zv_store_col_text(st, 4),
                          .idem_key = zv_store_col_text(st, 5),
                          .record_key = zv_store_col_text(st, 6),
                          .record_ref = zv_store_col_text(st, 7),
                          .reason = zv_store_col_text(st, 8),
                          .codes = zv_store_col_text(st, 9),
                          .http_status = sqlite3_column_int(st, 10),
                          .attempts = sqlite3_column_int(st, 11)};
        n++;
        if (cb(&e, arg)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    int ret = rc == SQLITE_DONE ? n : zv_store_fail(s, "dead letter");
    sqlite3_finalize(st);
    return ret;
}

int zv_store_dlq_each(zv_store *s, zv_dlq_cb cb, void *arg)
{
    return dlq_rows(s, DLQ_COLS "ORDER BY d.id", 0, cb, arg) < 0 ? -1 : 0;
}

int zv_store_dlq_get(zv_store *s, int64_t id, zv_dlq_cb cb, void *arg)
{
    int n = dlq_rows(s, DLQ_COLS "WHERE d.id = ?", id, cb, arg);
    return n < 0 ? -1 : n == 0 ? 1 : 0;
}

int64_t zv_store_dlq_count(zv_store *s, const char *destination)
{
    if (!destination) return zv_store_count_sql(s, "SELECT count(*) FROM dead_letter", NULL, NULL);
    return zv_store_count_sql(s, "SELECT count(*) FROM dead_letter WHERE destination = ?",
                              destination, NULL);
}

static int copy_entry(const zv_dlq_entry *e, void *arg)
{
    zv_dlq_entry *out = arg;
    *out = *e;
    /* Only the scalars are used after the callback. */
    out->destination = out->message = out->idem_key = out->record_key = NULL;
    out->record_ref = out->reason = out->codes = NULL;
    out->http_status = e->record_key ? 1 : 0; /* reused: 1 = per-record entry */
    return 0;
}

static int run1(zv_store *s, const char *sql, int64_t a, int64_t b)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "dead letter");
    sqlite3_bind_int64(st, 1, a);
    if (sqlite3_bind_parameter_count(st) > 1) sqlite3_bind_int64(st, 2, b);
    int ret = sqlite3_step(st) == SQLITE_DONE ? 0 : zv_store_fail(s, "dead letter");
    sqlite3_finalize(st);
    return ret;
}

int zv_store_dlq_retry(zv_store *s, int64_t id, int64_t now)
{
    zv_dlq_entry e = {0};
    int g = zv_store_dlq_get(s, id, copy_entry, &e);
    if (g != 0) {
        if (g == 1) snprintf(s->err, sizeof(s->err), "no dead letter entry %" PRId64, id);
        return g;
    }
    if (e.http_status == 1) {
        snprintf(s->err, sizeof(s->err),
                 "entry %" PRId64 " is one rejected record of a delivered payload; correct the "
                 "record at its source (it is sent in a new message) and drop this entry",
                 id);
        return 1;
    }
    if (zv_store_begin(s) < 0) return -1;
    /* Same row, same idempotency key; the age restarts so max_age gives it a
     * full new retry window. */
    run1(s,
         "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt = ?1 * 1000, "
         "first_enqueued = ?1, last_error = NULL WHERE id = ?2 AND state = 'dead'",
         now, e.outbox_id);
    run1(s, "DELETE FROM dead_letter WHERE id = ?", id, 0);
    return zv_store_commit(s);
}

struct drop_ctx {
    zv_store *s;
    int64_t now;
    const char *note;
    int rc;
};

static int audit_drop(const zv_dlq_entry *e, void *arg)
{
    struct drop_ctx *c = arg;
    zv_buf d;
    zv_buf_init(&d);
    zv_buf_printf(&d, "dead letter %" PRId64 " dropped", e->id);
    if (e->record_key) zv_buf_printf(&d, "; record %s", e->record_key);
    zv_buf_printf(&d, "; reason: %s", e->reason ? e->reason : "-");
    if (c->note) zv_buf_printf(&d, "; note: %s", c->note);
    /* Record keys often start with a BSN: no values in the audit trail. */
    if (d.data) zv_bsn_scrub(d.data);
    c->rc = zv_store_audit_append_locked(c->s, c->now, "dlq-drop", e->destination, e->idem_key,
                                         e->message, NULL, NULL, d.data);
    zv_buf_free(&d);
    if (c->rc == 0 && !e->record_key)
        c->rc = run1(c->s,
                     "UPDATE outbox SET state = 'dropped', payload = NULL, records_json = NULL "
                     "WHERE id = ? AND state = 'dead'",
                     e->outbox_id, 0);
    return 0;
}

int zv_store_dlq_drop(zv_store *s, int64_t id, int64_t now, const char *note)
{
    if (zv_store_begin(s) < 0) return -1;
    struct drop_ctx c = {s, now, note, -1};
    int g = zv_store_dlq_get(s, id, audit_drop, &c);
    if (g == 1) {
        zv_store_rollback(s);
        snprintf(s->err, sizeof(s->err), "no dead letter entry %" PRId64, id);
        return 1;
    }
    if (g < 0 || c.rc < 0) s->failed = 1;
    run1(s, "DELETE FROM dead_letter WHERE id = ?", id, 0);
    return zv_store_commit(s);
}
