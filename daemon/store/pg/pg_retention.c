/*
 * The PostgreSQL store: per-record verdicts of a delivered payload, and
 * retention (what zv_store_prune does on the SQLite file, store_retention.c).
 */
#include "pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <zinvol/util.h>

/* A dead letter's key once retention passed (as store_retention.c). */
#define PRUNED_KEY "(pruned)"

int zv_pg_record_verdict(zv_sb *b, int64_t outbox_id, int accepted, const zv_dead_info *d,
                         int64_t *dlq_id)
{
    if (!d || !d->record_key) return zv_pg_fail(b, "verdict: a record key is needed");
    int own;
    if (zv_pg_op_begin(b, &own) < 0) return -1;
    char ids[24], at[24];
    const char *v[] = {zv_pg_i64(ids, outbox_id), d->record_key, accepted ? "1" : "0",
                       zv_pg_i64(at, zv_now())};
    PGresult *r = zv_pg_qp(b, ZV_PG_ST_VERDICT, "verdict",
                           "INSERT INTO verdict(outbox_id, record_key, accepted, at) "
                           "VALUES($1, $2, $3, $4) ON CONFLICT (outbox_id, record_key) DO UPDATE "
                           "SET accepted = excluded.accepted, at = excluded.at",
                           4, v, NULL, NULL);
    int rc = r ? 0 : -1;
    PQclear(r);
    if (rc == 0 && !accepted) rc = zv_pg_dlq_insert(b, outbox_id, d, dlq_id);
    return zv_pg_op_end(b, own, rc);
}

static int64_t run(zv_sb *b, const char *sql, int64_t before, int limit)
{
    char bs[24], ls[24];
    const char *v[] = {zv_pg_i64(bs, before), zv_pg_i64(ls, limit)};
    PGresult *r = zv_pg_q(b, "retention", sql, 2, v, NULL, NULL);
    if (!r) return -1;
    int64_t n = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return n;
}

int64_t zv_pg_prune(zv_sb *b, int64_t before, int limit)
{
    if (limit <= 0) limit = 500;
    int own;
    if (zv_pg_op_begin(b, &own) < 0) return -1;
    /* SKIP LOCKED: a node pruning never waits for another doing the same. */
    int64_t n = run(b,
                    "UPDATE outbox SET payload = NULL, records_json = NULL, last_error = NULL, "
                    "disclosure_json = NULL WHERE id = ANY(ARRAY(SELECT id FROM outbox WHERE "
                    "state = 'delivered' AND payload IS NOT NULL AND delivered_at < $1 "
                    "ORDER BY delivered_at LIMIT $2 FOR UPDATE SKIP LOCKED))",
                    before, limit);
    if (n >= 0 &&
        (run(b,
             "DELETE FROM verdict WHERE (outbox_id, record_key) IN (SELECT outbox_id, "
             "record_key FROM verdict WHERE at < $1 LIMIT $2)",
             before, limit) < 0 ||
         run(b,
             "UPDATE dead_letter SET record_key = '" PRUNED_KEY "' WHERE id IN (SELECT id FROM "
             "dead_letter WHERE created < $1 AND record_key IS NOT NULL AND record_key != "
             "'" PRUNED_KEY "' LIMIT $2)",
             before, limit) < 0))
        n = -1;
    return zv_pg_op_end(b, own, n < 0 ? -1 : 0) < 0 ? -1 : n;
}
