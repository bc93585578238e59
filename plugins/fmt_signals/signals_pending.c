/* Periods whose running counts a payload has still to carry (ABI 2.4:
 * one payload per touched period per flush, zv_batch.more).
 *
 * Table pending(period, batch): a period counted into since its last
 * running payload, batch '' until a payload for it is made, then the id of
 * the batch whose render made it.  Whether that batch reached the outbox is
 * the core's business (its transaction commits the payloads with the batch
 * sequence), so the mark is read back from the batch ids: the core numbers
 * batches 1, 2, 3, ... and hands a try that failed, or a unit rendered
 * again after a crash, the same or a lower id again.  So at a batch with
 * id Y a mark X < Y was committed (its row goes) and a mark X >= Y was not
 * (the period is pending again).  Counts themselves never depend on it:
 * they are in the state; this only decides which periods' running counts
 * are sent again. */
#include "signals_state_int.h"

#include <stdlib.h>
#include <string.h>

static int exec1(sig_state *st, const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) return -1;
    if (a) sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
    if (b) sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(s);
    return rc;
}

int sig_state_pending_sweep(sig_state *st, const char *batch_id)
{
    if (exec1(st, "DELETE FROM pending WHERE batch != '' AND CAST(batch AS INTEGER) < "
                  "CAST(?1 AS INTEGER)",
              batch_id, NULL) != 0)
        return -1;
    return exec1(st, "UPDATE pending SET batch = '' WHERE batch != ''", NULL, NULL);
}

int sig_state_pending_add(sig_state *st, const char *period)
{
    return exec1(st,
                 "INSERT INTO pending VALUES(?1, '') ON CONFLICT(period) DO UPDATE SET batch = ''",
                 period, NULL);
}

int sig_state_pending_made(sig_state *st, const char *period, const char *batch_id)
{
    return exec1(st, "UPDATE pending SET batch = ?2 WHERE period = ?1", period, batch_id);
}

int sig_state_pending_each(sig_state *st, int (*cb)(const char *period, void *arg), void *arg)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT period FROM pending WHERE batch = '' ORDER BY period",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW)
        if (cb((const char *)sqlite3_column_text(s, 0), arg) != 0) rc = 1;
    if (rc == 0 && step != SQLITE_DONE) rc = -1;
    sqlite3_finalize(s);
    return rc < 0 ? -1 : 0;
}
