/*
 * The PostgreSQL store's staging: a source's minimised records waiting for
 * their destination's next render unit, and the batch sequence the render
 * units number their batches with.
 *
 * A source's step writes its staged rows and its watermark in one
 * transaction (the unit, core/unit.c), so a node that takes the source over
 * resumes exactly where the committed rows end.  Any node may render what
 * is staged: the batch sequence row is locked by the render unit that
 * peeks it inside its transaction, and a staged row that is gone when a
 * unit deletes it (another node rendered it first) fails that unit, which
 * rolls back instead of enqueueing the record a second time.
 */
#include "pg_int.h"

#include <stdio.h>
#include <string.h>
#include <zinvol/util.h>

int zv_pg_stage(zv_sb *b, const char *destination, int message, const unsigned char *rec,
                size_t len, int64_t item_id, const char *record_key)
{
    char m[24], at[24], item[24];
    const char *v[] = {destination,
                       zv_pg_i64(m, message),
                       (const char *)rec,
                       zv_pg_i64(at, zv_now()),
                       item_id > 0 ? zv_pg_i64(item, item_id) : NULL,
                       record_key};
    int lens[] = {0, 0, (int)len, 0, 0, 0};
    int fmts[] = {0, 0, 1, 0, 0, 0};
    PGresult *r = zv_pg_q(b, "stage",
                          "INSERT INTO staged(destination, message, rec, created, item_id, "
                          "record_key) VALUES($1, $2, $3, $4, $5, $6)",
                          6, v, lens, fmts);
    PQclear(r);
    return r ? 0 : -1;
}

int zv_pg_staged_after(zv_sb *b, const char *destination, int64_t after_id, size_t limit,
                       zv_staged_cb cb, void *arg)
{
    char a[24], l[24];
    const char *v[] = {destination, zv_pg_i64(a, after_id),
                       limit ? zv_pg_i64(l, (int64_t)limit) : NULL};
    PGresult *r = zv_pg_q(b, "staged",
                          "SELECT id, message, rec FROM staged WHERE destination = $1 AND id > $2 "
                          "ORDER BY id LIMIT $3",
                          3, v, NULL, NULL);
    if (!r) return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        size_t n = 0;
        unsigned char *rec = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 2), &n);
        if (!rec) {
            rc = zv_pg_fail(b, "staged: out of memory");
            break;
        }
        zv_staged st = {.id = zv_pg_get_i64(r, i, 0),
                        .message = (int)zv_pg_get_i64(r, i, 1),
                        .rec = rec,
                        .len = n};
        int stop = cb(&st, arg);
        PQfreemem(rec);
        if (stop) break;
    }
    PQclear(r);
    return rc;
}

int zv_pg_staged_delete(zv_sb *b, int64_t id)
{
    char i[24];
    const char *v[] = {zv_pg_i64(i, id)};
    PGresult *r = zv_pg_q(b, "staged", "DELETE FROM staged WHERE id = $1", 1, v, NULL, NULL);
    if (!r) return -1;
    int gone = strcmp(PQcmdTuples(r), "1") != 0;
    PQclear(r);
    if (gone)
        return zv_pg_fail(b, "staged row %lld is gone: another node rendered it", (long long)id);
    return 0;
}

int64_t zv_pg_staged_count(zv_sb *b, const char *destination)
{
    const char *v[] = {destination};
    PGresult *r = destination
                      ? zv_pg_q(b, "staged", "SELECT count(*) FROM staged WHERE destination = $1",
                                1, v, NULL, NULL)
                      : zv_pg_q(b, "staged", "SELECT count(*) FROM staged", 0, NULL, NULL, NULL);
    if (!r) return -1;
    int64_t n = zv_pg_get_i64(r, 0, 0);
    PQclear(r);
    return n;
}

int zv_pg_batch_peek(zv_sb *b, const char *destination, int64_t *seq)
{
    const char *v[] = {destination};
    *seq = 0;
    /* In a transaction the row is made if need be and locked: the peek and
     * the set of one render unit see no other node's unit between them. */
    if (PG(b)->open) {
        PGresult *r = zv_pg_q(b, "batch sequence",
                              "INSERT INTO batch_seq(destination, seq) VALUES($1, 0) "
                              "ON CONFLICT DO NOTHING",
                              1, v, NULL, NULL);
        if (!r) return -1;
        PQclear(r);
    }
    PGresult *r =
        zv_pg_q(b, "batch sequence",
                PG(b)->open ? "SELECT seq FROM batch_seq WHERE destination = $1 FOR UPDATE"
                            : "SELECT seq FROM batch_seq WHERE destination = $1",
                1, v, NULL, NULL);
    if (!r) return -1;
    if (PQntuples(r) == 1) *seq = zv_pg_get_i64(r, 0, 0);
    PQclear(r);
    return 0;
}

int zv_pg_batch_set(zv_sb *b, const char *destination, int64_t seq)
{
    char s[24];
    const char *v[] = {destination, zv_pg_i64(s, seq)};
    PGresult *r = zv_pg_q(b, "batch sequence",
                          "INSERT INTO batch_seq(destination, seq) VALUES($1, $2) "
                          "ON CONFLICT (destination) DO UPDATE SET seq = EXCLUDED.seq",
                          2, v, NULL, NULL);
    PQclear(r);
    return r ? 0 : -1;
}
