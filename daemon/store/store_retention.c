/*
 * Store: retention.  After the retention period a delivered payload goes,
 * and so does everything kept with it that names a record by its key —
 * keys are "<bsn>/<besluitnummer>" for some formats: the payload's
 * records_json and last_error, the verdicts of its retour, and the key of
 * a dead letter (replaced by a marker; its pseudonymous record_ref and the
 * reason stay, so the entry still says what happened), and the record kept
 * beside a sent digest for a later withdrawal (the digest stays).  The hash-chained
 * audit trail is not touched: it holds no record keys in clear.
 */
#include "store_int.h"

#include <stdio.h>

/* A dead letter's key once retention passed; not NULL, because a NULL key
 * means "the whole payload" to zinvolctl dlq. */
#define PRUNED_KEY "(pruned)"

static int64_t run(zv_store *s, const char *sql, int64_t before, int limit)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "retention");
    sqlite3_bind_int64(st, 1, before);
    if (limit > 0) sqlite3_bind_int(st, 2, limit);
    int64_t n =
        sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(s->db) : zv_store_fail(s, "retention");
    sqlite3_finalize(st);
    return n;
}

int64_t zv_store_prune(zv_store *s, int64_t before, int limit)
{
    if (limit <= 0) limit = 500;
    /* Through the outbox_prune index: oldest delivered payloads first. */
    int64_t n = run(s,
                    "UPDATE outbox SET payload = NULL, records_json = NULL, last_error = NULL "
                    "WHERE id IN (SELECT id FROM outbox WHERE state = 'delivered' AND payload IS "
                    "NOT NULL AND delivered_at < ? ORDER BY delivered_at LIMIT ?)",
                    before, limit);
    if (n < 0) return -1;
    /* Rows pruned by an older version kept their records_json. */
    if (run(s,
            "UPDATE outbox SET records_json = NULL, last_error = NULL WHERE id IN (SELECT id "
            "FROM outbox WHERE state IN ('delivered', 'dropped') AND payload IS NULL AND "
            "(records_json IS NOT NULL OR last_error IS NOT NULL) AND delivered_at < ? LIMIT ?)",
            before, limit) < 0)
        return -1;
    if (run(s,
            "DELETE FROM verdict WHERE rowid IN (SELECT rowid FROM verdict WHERE at < ? LIMIT ?)",
            before, limit) < 0)
        return -1;
    if (run(s,
            "UPDATE dead_letter SET record_key = '" PRUNED_KEY "' WHERE id IN (SELECT id FROM "
            "dead_letter WHERE created < ? AND record_key IS NOT NULL AND record_key != "
            "'" PRUNED_KEY "' LIMIT ?)",
            before, limit) < 0)
        return -1;
    /* The record last sent per key (for a withdrawal, core/change.h) holds
     * what the payload held: it goes after the same time; the digest stays. */
    if (run(s,
            "UPDATE sent_digest SET rec = NULL WHERE (destination, record_key) IN (SELECT "
            "destination, record_key FROM sent_digest WHERE at < ? AND rec IS NOT NULL LIMIT ?)",
            before, limit) < 0)
        return -1;
    /* The values kept for disclosure go with the payload they came from. */
    if (n > 0 && zv_store_disclosure_prune(s) < 0) return -1;
    return n;
}
