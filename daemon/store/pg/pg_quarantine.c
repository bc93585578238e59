/*
 * The PostgreSQL store's record lifecycle (store_quarantine.h on the shared
 * tables): quarantine entries read, searched, given more reasons and closed,
 * the records waiting for their day, and the raw source items a retry maps
 * again.  Any node can retry or drop an entry any node made.
 *
 * A close locks the entry's row (FOR UPDATE) before it moves it to
 * quarantine_closed, in the same transaction as its audit entry: of two
 * nodes closing one entry at once the second waits for the first, then
 * finds it gone and answers 1, so an entry ends in exactly one state.
 *
 * Source items: a staged row names its item (staged.item_id); the item goes
 * when the last staged row naming it is deleted (trigger of schema step 5),
 * whichever node renders it.
 */
#include "pg_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

/* Columns of both tables in one order (as the SQLite store's), so one row
 * reader serves both. */
#define OPEN_COLS                                                                                  \
    "SELECT id, created, source, record_id, stage, destination, field, rule, reason, "             \
    "item_json, record, state, reasons, mapping_version, source_version, due, "                    \
    "NULL::bigint AS closed_at, NULL::text AS detail FROM quarantine "
#define CLOSED_COLS                                                                                \
    "SELECT id, created, source, record_id, stage, destination, field, rule, reason, "             \
    "NULL::text, NULL::bytea, outcome, reasons, mapping_version, source_version, NULL::text, "     \
    "closed_at, detail FROM quarantine_closed "

static int rows(zv_sb *b, PGresult *r, zv_quarantine_cb cb, void *arg)
{
    if (!r) return -1;
    int n = 0, rc = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        unsigned char *rec = NULL;
        size_t len = 0;
        if (!PQgetisnull(r, i, 10)) {
            rec = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 10), &len);
            if (!rec) {
                rc = zv_pg_fail(b, "quarantine: out of memory");
                break;
            }
        }
        zv_quarantine_entry e = {
            .id = zv_pg_get_i64(r, i, 0),
            .created = zv_pg_get_i64(r, i, 1),
            .source = zv_pg_get_text(r, i, 2),
            .record_id = zv_pg_get_text(r, i, 3),
            .stage = zv_pg_get_text(r, i, 4),
            .destination = zv_pg_get_text(r, i, 5),
            .field = zv_pg_get_text(r, i, 6),
            .rule = zv_pg_get_text(r, i, 7),
            .reason = zv_pg_get_text(r, i, 8),
            .item_json = zv_pg_get_text(r, i, 9),
            .record = rec,
            .record_len = len,
            .state = zv_pg_get_text(r, i, 11),
            .reasons_json = zv_pg_get_text(r, i, 12),
            .mapping_version = zv_pg_get_text(r, i, 13),
            .source_version = zv_pg_get_text(r, i, 14),
            .due = zv_pg_get_text(r, i, 15),
            .closed_at = PQgetisnull(r, i, 16) ? 0 : zv_pg_get_i64(r, i, 16),
            .outcome_detail = zv_pg_get_text(r, i, 17),
        };
        n++;
        int stop = cb(&e, arg);
        if (rec) PQfreemem(rec);
        if (stop) break;
    }
    PQclear(r);
    return rc < 0 ? -1 : n;
}

#define FILTERS                                                                                    \
    "($2::text IS NULL OR source = $2) AND ($3::text IS NULL OR stage = $3) AND "                  \
    "($4::text IS NULL OR destination = $4) AND ($5::text IS NULL OR position(lower($5) in "       \
    "lower(coalesce(reasons, reason, '') || ' ' || coalesce(field, '') || ' ' || "                 \
    "coalesce(rule, '') || ' ' || coalesce(record_id, ''))) > 0) AND created >= $6 "

int zv_pg_quarantine_query(zv_sb *b, const zv_quarantine_filter *f, zv_quarantine_cb cb, void *arg)
{
    char since[24];
    const char *v[] = {f && f->state ? f->state : "open",
                       f ? f->source : NULL,
                       f ? f->stage : NULL,
                       f ? f->destination : NULL,
                       f ? f->text : NULL,
                       zv_pg_i64(since, f ? f->since : 0)};
    PGresult *r = zv_pg_q(
        b, "quarantine",
        OPEN_COLS "WHERE ($1 = 'all' OR state = $1) AND " FILTERS "UNION ALL " CLOSED_COLS
                  "WHERE ($1 IN ('all', 'closed') OR outcome = $1) AND " FILTERS "ORDER BY 1",
        6, v, NULL, NULL);
    return rows(b, r, cb, arg) < 0 ? -1 : 0;
}

int zv_pg_quarantine_get(zv_sb *b, int64_t id, zv_quarantine_cb cb, void *arg)
{
    char i[24];
    const char *v[] = {zv_pg_i64(i, id)};
    PGresult *r =
        zv_pg_q(b, "quarantine", OPEN_COLS "WHERE id = $1 UNION ALL " CLOSED_COLS "WHERE id = $1",
                1, v, NULL, NULL);
    int n = rows(b, r, cb, arg);
    return n < 0 ? -1 : n == 0 ? 1 : 0;
}

int zv_pg_quarantine_of_record(zv_sb *b, const char *source, const char *record_id,
                               zv_quarantine_cb cb, void *arg)
{
    const char *v[] = {source, record_id};
    PGresult *r =
        zv_pg_q(b, "quarantine", OPEN_COLS "WHERE source = $1 AND record_id = $2 ORDER BY id", 2, v,
                NULL, NULL);
    return rows(b, r, cb, arg) < 0 ? -1 : 0;
}

int zv_pg_quarantine_due(zv_sb *b, const char *today, zv_quarantine_cb cb, void *arg)
{
    const char *v[] = {today};
    PGresult *r =
        zv_pg_q(b, "quarantine", OPEN_COLS "WHERE state = 'waiting' AND due <= $1 ORDER BY id", 1,
                v, NULL, NULL);
    return rows(b, r, cb, arg) < 0 ? -1 : 0;
}

int64_t zv_pg_quarantine_count(zv_sb *b, const char *state)
{
    const char *v[] = {state ? state : "open"};
    PGresult *r = zv_pg_q(b, "quarantine", "SELECT count(*) FROM quarantine WHERE state = $1", 1, v,
                          NULL, NULL);
    if (!r) return -1;
    int64_t n = zv_pg_get_i64(r, 0, 0);
    PQclear(r);
    return n;
}

int zv_pg_quarantine_add_reason(zv_sb *b, int64_t id, const char *field, const char *rule,
                                const char *reason)
{
    char i[24];
    const char *v[] = {zv_pg_i64(i, id), field, rule, reason ? reason : ""};
    PGresult *r = zv_pg_q(b, "quarantine reason",
                          "UPDATE quarantine SET reasons = (coalesce(reasons, '[]')::jsonb || "
                          "jsonb_build_array(jsonb_build_object('field', $2::text, 'rule', "
                          "$3::text, 'reason', $4::text)))::text WHERE id = $1",
                          4, v, NULL, NULL);
    PQclear(r);
    return r ? 0 : -1;
}

/* What the audit entry says about the entry; the row locked until the end
 * of the transaction.  0 found, 1 not open or waiting, -1. */
static int lock_entry(zv_sb *b, int64_t id, char *what, size_t wlen, char *dest, size_t dlen)
{
    char i[24];
    const char *v[] = {zv_pg_i64(i, id)};
    PGresult *r = zv_pg_q(b, "quarantine close",
                          "SELECT source, record_id, stage, state, destination FROM quarantine "
                          "WHERE id = $1 FOR UPDATE",
                          1, v, NULL, NULL);
    if (!r) return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return 1;
    }
    const char *source = zv_pg_get_text(r, 0, 0), *rid = zv_pg_get_text(r, 0, 1),
               *stage = zv_pg_get_text(r, 0, 2), *state = zv_pg_get_text(r, 0, 3),
               *d = zv_pg_get_text(r, 0, 4);
    snprintf(what, wlen, "quarantine entry %" PRId64 " (%s/%s, %s%s%s)", id, source ? source : "",
             rid ? rid : "",
             state && strcmp(state, "waiting") == 0 ? "waiting"
             : stage                                ? stage
                                                    : "",
             d ? " for " : "", d ? d : "");
    snprintf(dest, dlen, "%s", d ? d : "");
    PQclear(r);
    return 0;
}

static int close_locked(zv_sb *b, int64_t id, const char *outcome, const char *detail, int64_t now)
{
    char what[600], dest[128];
    int found = lock_entry(b, id, what, sizeof(what), dest, sizeof(dest));
    if (found != 0) {
        if (found > 0) snprintf(b->err, sizeof(b->err), "no open quarantine entry %" PRId64, id);
        return found;
    }
    char *d = zv_strdup0(detail ? detail : "");
    if (!d) return zv_pg_fail(b, "quarantine close: out of memory");
    zv_bsn_scrub(d);
    char line[1400], i[24], at[24];
    snprintf(line, sizeof(line), "%s %s%s%s", what, outcome, *d ? ": " : "", d);
    const char *v[] = {zv_pg_i64(i, id), outcome, d, zv_pg_i64(at, now)};
    PGresult *r = zv_pg_q(b, "quarantine close",
                          "WITH gone AS (DELETE FROM quarantine WHERE id = $1 RETURNING *) "
                          "INSERT INTO quarantine_closed(id, created, source, record_id, stage, "
                          "destination, field, rule, reason, reasons, mapping_version, "
                          "source_version, closed_at, outcome, detail) SELECT id, created, "
                          "source, record_id, stage, destination, field, rule, reason, reasons, "
                          "mapping_version, source_version, $4, $2, $3 FROM gone",
                          4, v, NULL, NULL);
    free(d);
    if (!r) return -1;
    int moved = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    if (!moved) return zv_pg_fail(b, "quarantine entry %" PRId64 " was not moved", id);
    zv_audit_entry e = {
        .at = now, .kind = "quarantine", .destination = dest[0] ? dest : NULL, .detail = line};
    return zv_pg_audit_append_locked(b, &e, NULL);
}

int zv_pg_quarantine_close(zv_sb *b, int64_t id, const char *outcome, const char *detail,
                           int64_t now)
{
    int own;
    if (zv_pg_op_begin(b, &own) < 0) return -1;
    return zv_pg_op_end(b, own, close_locked(b, id, outcome, detail, now));
}

/* ---- source items in flight ---- */

int zv_pg_item_put(zv_sb *b, const char *source, const char *record_id, const char *item_json,
                   const char *mapping_version, int64_t *id)
{
    char at[24];
    const char *v[] = {source, record_id, item_json, mapping_version, zv_pg_i64(at, zv_now())};
    PGresult *r = zv_pg_q(b, "source item",
                          "INSERT INTO source_item(source, record_id, item_json, mapping_version, "
                          "created) VALUES($1, $2, $3, $4, $5) RETURNING id",
                          5, v, NULL, NULL);
    if (!r) return -1;
    *id = zv_pg_get_i64(r, 0, 0);
    PQclear(r);
    return 0;
}

int zv_pg_item_get(zv_sb *b, const char *source, const char *record_id, char **item_json,
                   char **mapping_version)
{
    *item_json = *mapping_version = NULL;
    const char *v[] = {source, record_id};
    PGresult *r = zv_pg_q(b, "source item",
                          "SELECT item_json, mapping_version FROM source_item WHERE source = $1 "
                          "AND record_id = $2 ORDER BY id DESC LIMIT 1",
                          2, v, NULL, NULL);
    if (!r) return -1;
    int ret = 1;
    if (PQntuples(r) == 1) {
        *item_json = zv_strdup0(zv_pg_get_text(r, 0, 0));
        *mapping_version = zv_strdup0(zv_pg_get_text(r, 0, 1));
        ret = 0;
    }
    PQclear(r);
    return ret;
}

int zv_pg_item_release(zv_sb *b, int64_t id)
{
    char i[24];
    const char *v[] = {zv_pg_i64(i, id)};
    PGresult *r = zv_pg_q(b, "source item",
                          "DELETE FROM source_item WHERE id = $1 AND NOT EXISTS "
                          "(SELECT 1 FROM staged WHERE item_id = source_item.id)",
                          1, v, NULL, NULL);
    PQclear(r);
    return r ? 0 : -1;
}
