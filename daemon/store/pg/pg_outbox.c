/*
 * The PostgreSQL outbox: enqueue, claims with a lease shared by every node,
 * and the outcome of each attempt.
 *
 * A claim takes due pending rows with FOR UPDATE SKIP LOCKED, so nodes
 * claiming at once each get different rows and never wait for each other,
 * and marks them inflight for this node until lease_until.  A node renews
 * its leases while it works; when it dies they run out and any node's
 * zv_sb_lease_expire makes the rows pending again: the same row, so the same
 * idempotency key and bytes go out again (at least once, never altered).
 */
#include "pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

#include "store/store_chain.h"

void zv_pg_row(const PGresult *r, int i, zv_outbox_row *o, unsigned char **payload)
{
    memset(o, 0, sizeof(*o));
    *payload = NULL;
    o->id = zv_pg_get_i64(r, i, 0);
    o->destination = zv_pg_get_text(r, i, 1);
    o->message = zv_pg_get_text(r, i, 2);
    o->idem_key = zv_pg_get_text(r, i, 3);
    if (!PQgetisnull(r, i, 4)) {
        size_t n = 0;
        *payload = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 4), &n);
        o->payload = *payload;
        o->len = *payload ? n : 0;
    }
    o->content_type = zv_pg_get_text(r, i, 5);
    o->extension = zv_pg_get_text(r, i, 6);
    o->fields_json = zv_pg_get_text(r, i, 7);
    o->records_json = zv_pg_get_text(r, i, 8);
    o->state = zv_pg_get_text(r, i, 9);
    o->attempts = (int)zv_pg_get_i64(r, i, 10);
    o->next_attempt_ms = zv_pg_get_i64(r, i, 11);
    o->first_enqueued = zv_pg_get_i64(r, i, 12);
    o->last_error = zv_pg_get_text(r, i, 13);
    o->delivered_at = zv_pg_get_i64(r, i, 14);
}

/* cb for every row of r, in order; returns the rows passed (cb non-zero stops). */
static int rows_each(const PGresult *r, zv_outbox_cb cb, void *arg)
{
    int n = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        zv_outbox_row o;
        unsigned char *payload;
        zv_pg_row(r, i, &o, &payload);
        int stop = cb(&o, arg);
        PQfreemem(payload);
        n++;
        if (stop) break;
    }
    return n;
}

int zv_pg_enqueue(zv_sb *b, const zv_outbox_new *o)
{
    if (!o->destination || !o->idem_key || !o->payload)
        return zv_pg_fail(b, "enqueue: destination, idem_key and payload are needed");
    char now[24], sec[24];
    int64_t now_ms = zv_now() * 1000;
    const char *v[] = {o->destination,
                       o->message,
                       o->idem_key,
                       o->payload,
                       o->content_type,
                       o->extension,
                       o->fields_json,
                       o->records_json,
                       o->disclosure_json,
                       zv_pg_i64(now, now_ms),
                       zv_pg_i64(sec, now_ms / 1000)};
    int lens[11] = {0, 0, 0, (int)o->len};
    int fmts[11] = {0, 0, 0, 1};
    PGresult *r = zv_pg_qp(b, ZV_PG_ST_ENQUEUE, "enqueue",
                           "INSERT INTO outbox(destination, message, idem_key, payload, "
                           "content_type, extension, fields_json, records_json, disclosure_json, "
                           "next_attempt, first_enqueued) "
                           "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
                           "ON CONFLICT (destination, idem_key) DO NOTHING",
                           11, v, lens, fmts);
    if (!r) return -1;
    int added = atoi(PQcmdTuples(r));
    PQclear(r);
    return added ? 0 : 1;
}

/* Nothing while a node has the destination's circuit open for all: the
 * claim itself looks, so a pump that gets its rows needs no question of its
 * own about the circuit (the engine asks only when a claim came up short). */
#define CLAIM_CIRCUIT_SQL                                                                          \
    "AND NOT EXISTS (SELECT 1 FROM circuit WHERE destination = $1 AND open_until > $2) "

static const char claim_sql[] =
    "WITH c AS (UPDATE outbox SET state = 'inflight', claimed_by = $3, "
    "lease_until = $4 WHERE id = ANY(ARRAY(SELECT id FROM outbox "
    "WHERE destination = $1 AND state = 'pending' AND next_attempt <= $2 " CLAIM_CIRCUIT_SQL
    "ORDER BY next_attempt, id LIMIT $5 FOR UPDATE SKIP LOCKED)) "
    "RETURNING " ZV_PG_ROW_COLS ") "
    "SELECT * FROM c ORDER BY next_attempt, id";

/* The same, taking only what the destination's cluster-wide limit leaves:
 * its rows in flight on every node counted in this statement's snapshot,
 * which is taken after the caller's lock. */
static const char claim_capped_sql[] =
    "WITH c AS (UPDATE outbox SET state = 'inflight', claimed_by = $3, "
    "lease_until = $4 WHERE id = ANY(ARRAY(SELECT id FROM outbox "
    "WHERE destination = $1 AND state = 'pending' AND next_attempt <= $2 " CLAIM_CIRCUIT_SQL
    "ORDER BY next_attempt, id LIMIT greatest(0, least($5::bigint, $6::bigint - (SELECT "
    "count(*) FROM outbox WHERE destination = $1 AND state = 'inflight'))) "
    "FOR UPDATE SKIP LOCKED)) RETURNING " ZV_PG_ROW_COLS ") "
    "SELECT * FROM c ORDER BY next_attempt, id";

/* pg_advisory_xact_lock's first key for a destination's claims ("zinvol" + 2). */
#define ZV_PG_LOCK_CLAIM "134593243"

#define CLAIM_LOCK_SQL "SELECT pg_advisory_xact_lock(" ZV_PG_LOCK_CLAIM ", hashtext($1))"

/* The claim in the caller's open transaction (its commit makes it ours). */
static PGresult *claim_in_txn(zv_sb *b, int cap, const char *const *v)
{
    if (cap > 0) {
        PGresult *l =
            zv_pg_qp(b, ZV_PG_ST_CLAIM_LOCK, "claim lock", CLAIM_LOCK_SQL, 1, v, NULL, NULL);
        if (!l) return NULL;
        PQclear(l);
    }
    return cap > 0 ? zv_pg_qp(b, ZV_PG_ST_CLAIM_CAPPED, "claim", claim_capped_sql, 6, v, NULL, NULL)
                   : zv_pg_qp(b, ZV_PG_ST_CLAIM, "claim", claim_sql, 5, v, NULL, NULL);
}

/* The claim as its own transaction, every statement of it sent at once:
 * one round trip, and the lock is held only while the server runs the
 * claim and the commit, never while a message travels.  The commit does
 * not wait for the disk: a claim lost with the server leaves its rows
 * pending, to go out again with the same keys and bytes (at least once
 * allows it), and a wait would hold the lock through every claim's flush. */
static PGresult *claim_alone(zv_sb *b, int cap, const char *const *v)
{
    zv_pg_step st[5];
    int n = 0;
    st[n++] = (zv_pg_step){-1, "BEGIN", 0, NULL};
    st[n++] = (zv_pg_step){-1, "SET LOCAL synchronous_commit = off", 0, NULL};
    /* A cap holds only if no two nodes count at once: the claims of one
     * destination take turns on an advisory lock until their commit, and
     * the claim's snapshot is taken after it. */
    if (cap > 0) st[n++] = (zv_pg_step){ZV_PG_ST_CLAIM_LOCK, CLAIM_LOCK_SQL, 1, v};
    int keep = n;
    st[n++] = cap > 0 ? (zv_pg_step){ZV_PG_ST_CLAIM_CAPPED, claim_capped_sql, 6, v}
                      : (zv_pg_step){ZV_PG_ST_CLAIM, claim_sql, 5, v};
    st[n++] = (zv_pg_step){-1, "COMMIT", 0, NULL};
    PGresult *r = NULL;
    return zv_pg_pipeline(b, "claim", st, n, keep, &r) < 0 ? NULL : r;
}

int zv_pg_claim(zv_sb *b, const char *destination, int64_t now_ms, int64_t lease_ms, size_t limit,
                int cap, zv_outbox_cb cb, void *arg)
{
    char now[24], until[24], lim[24], caps[24];
    const char *v[] = {destination,
                       zv_pg_i64(now, now_ms),
                       b->node,
                       zv_pg_i64(until, now_ms + lease_ms),
                       zv_pg_i64(lim, (int64_t)limit),
                       zv_pg_i64(caps, cap)};
    /* ARRAY(...) evaluates the locking subquery once, whatever the plan. */
    PGresult *r = PG(b)->open ? claim_in_txn(b, cap, v) : claim_alone(b, cap, v);
    /* The rows are ours once committed: only then does cb start a send. */
    int n = r ? rows_each(r, cb, arg) : -1;
    PQclear(r);
    return n;
}

/* id < 0: not prepared (a statement not met per payload). */
static int64_t changed(zv_sb *b, int id, const char *what, const char *sql, int n,
                       const char *const *v)
{
    PGresult *r = id < 0 ? zv_pg_q(b, what, sql, n, v, NULL, NULL)
                         : zv_pg_qp(b, (enum zv_pg_st)id, what, sql, n, v, NULL, NULL);
    if (!r) return -1;
    int64_t k = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return k;
}

int64_t zv_pg_lease_renew(zv_sb *b, const int64_t *ids, size_t n, int64_t now_ms, int64_t lease_ms)
{
    /* The ids as one array literal: {1,2,3}. */
    zv_buf a;
    zv_buf_init(&a);
    zv_buf_puts(&a, "{");
    for (size_t i = 0; i < n; i++)
        zv_buf_printf(&a, "%s%lld", i ? "," : "", (long long)ids[i]);
    zv_buf_puts(&a, "}");
    char until[24];
    const char *v[] = {b->node, zv_pg_i64(until, now_ms + lease_ms), a.data};
    int64_t k = a.data ? changed(b, ZV_PG_ST_RENEW, "lease renew",
                                 "UPDATE outbox SET lease_until = $2 WHERE state = 'inflight' AND "
                                 "claimed_by = $1 AND id = ANY($3::bigint[])",
                                 3, v)
                       : zv_pg_fail(b, "lease renew: out of memory");
    zv_buf_free(&a);
    return k;
}

int64_t zv_pg_lease_expire(zv_sb *b, int64_t now_ms)
{
    char now[24];
    const char *v[] = {zv_pg_i64(now, now_ms)};
    return changed(b, -1, "lease expiry",
                   "UPDATE outbox SET state = 'pending', claimed_by = NULL, lease_until = NULL "
                   "WHERE state = 'inflight' AND lease_until < $1",
                   1, v);
}

int64_t zv_pg_recover(zv_sb *b)
{
    const char *v[] = {b->node};
    return changed(b, -1, "recover",
                   "UPDATE outbox SET state = 'pending', claimed_by = NULL, lease_until = NULL "
                   "WHERE state = 'inflight' AND claimed_by = $1",
                   1, v);
}

/* The "delivered" entry, as the SQLite store writes it (store_outbox.c). */
static int audit_delivered(zv_sb *b, const zv_outbox_row *o, int64_t now)
{
    char sha[65];
    zv_sha256_hex(o->payload ? o->payload : (const void *)"", o->len, sha);
    zv_buf f;
    zv_buf_init(&f);
    zv_audit_fields_text(o->fields_json, &f);
    char *clients = zv_audit_clients_of(o->records_json);
    char *cites = zv_audit_citations_of(o->fields_json);
    zv_audit_entry e = {.at = now,
                        .kind = "delivered",
                        .destination = o->destination,
                        .idem_key = o->idem_key,
                        .message = o->message,
                        .fields = f.data ? f.data : "",
                        .payload_sha256 = sha,
                        .clients = clients,
                        .citations = cites};
    int rc = zv_pg_audit_defer(b, &e);
    free(cites);
    free(clients);
    zv_buf_free(&f);
    return rc;
}

int zv_pg_delivered(zv_sb *b, int64_t id, int64_t now)
{
    int own;
    if (zv_pg_op_begin(b, &own) < 0) return -1;
    char ids[24], at[24];
    const char *v[] = {zv_pg_i64(ids, id), zv_pg_i64(at, now)};
    /* Only the report that changes the row writes the entry: a node whose
     * lease ran out and another that sent the row again both say
     * "delivered", and the trail says it once. */
    PGresult *r = zv_pg_qp(b, ZV_PG_ST_DELIVERED, "delivered",
                           "UPDATE outbox SET state = 'delivered', delivered_at = $2, "
                           "attempts = attempts + 1, last_error = NULL, claimed_by = NULL, "
                           "lease_until = NULL WHERE id = $1 AND state IN ('inflight', 'pending') "
                           "RETURNING " ZV_PG_ROW_COLS,
                           2, v, NULL, NULL);
    int rc = r ? 0 : -1;
    if (r && PQntuples(r) == 1) {
        zv_outbox_row o;
        unsigned char *payload;
        zv_pg_row(r, 0, &o, &payload);
        rc = audit_delivered(b, &o, now);
        PQfreemem(payload);
    }
    PQclear(r);
    return zv_pg_op_end(b, own, rc);
}

/* {1,2,3}: ids as one array parameter. */
static int id_array(zv_buf *a, const int64_t *ids, size_t n)
{
    zv_buf_init(a);
    zv_buf_puts(a, "{");
    for (size_t i = 0; i < n; i++)
        zv_buf_printf(a, "%s%lld", i ? "," : "", (long long)ids[i]);
    zv_buf_puts(a, "}");
    return a->data ? 0 : -1;
}

/* A flush's "delivered" outcomes in one statement (one round trip instead
 * of one per payload); the entries are deferred to the commit as
 * zv_pg_delivered's are, in the order of ids. */
int zv_pg_delivered_many(zv_sb *b, const int64_t *ids, size_t n, int64_t now)
{
    int own;
    if (zv_pg_op_begin(b, &own) < 0) return -1;
    zv_buf a;
    char at[24];
    int rc = id_array(&a, ids, n) < 0 ? zv_pg_fail(b, "delivered: out of memory") : 0;
    const char *v[] = {a.data, zv_pg_i64(at, now)};
    PGresult *r = rc < 0 ? NULL
                         : zv_pg_qp(b, ZV_PG_ST_DELIVERED_MANY, "delivered",
                                    "WITH u AS (UPDATE outbox SET state = 'delivered', "
                                    "delivered_at = $2, attempts = attempts + 1, last_error = "
                                    "NULL, claimed_by = NULL, lease_until = NULL WHERE id = "
                                    "ANY($1::bigint[]) AND state IN ('inflight', 'pending') "
                                    "RETURNING " ZV_PG_ROW_COLS ") "
                                    "SELECT u.* FROM u JOIN unnest($1::bigint[]) WITH ORDINALITY "
                                    "AS k(id, o) ON k.id = u.id ORDER BY k.o",
                                    2, v, NULL, NULL);
    if (!r) rc = -1;
    for (int i = 0; r && rc == 0 && i < PQntuples(r); i++) {
        zv_outbox_row o;
        unsigned char *payload;
        zv_pg_row(r, i, &o, &payload);
        rc = audit_delivered(b, &o, now);
        PQfreemem(payload);
    }
    PQclear(r);
    zv_buf_free(&a);
    return zv_pg_op_end(b, own, rc);
}

int zv_pg_retry(zv_sb *b, int64_t id, int64_t next_attempt_ms, const char *error)
{
    char ids[24], next[24];
    const char *v[] = {zv_pg_i64(ids, id), zv_pg_i64(next, next_attempt_ms), error, b->node};
    int64_t k = changed(b, ZV_PG_ST_RETRY, "retry",
                        "UPDATE outbox SET state = 'pending', attempts = attempts + 1, "
                        "next_attempt = $2, last_error = $3, claimed_by = NULL, "
                        "lease_until = NULL WHERE id = $1 AND (state = 'pending' OR "
                        "(state = 'inflight' AND claimed_by = $4))",
                        4, v);
    return k < 0 ? -1 : k == 0 ? 1 : 0;
}

int zv_pg_dead(zv_sb *b, int64_t id, const zv_dead_info *d, int64_t *dlq_id)
{
    int own;
    if (zv_pg_op_begin(b, &own) < 0) return -1;
    char ids[24];
    const char *reason = d->reason ? d->reason : "unknown";
    const char *v[] = {zv_pg_i64(ids, id), reason};
    /* A row another node has settled meanwhile (its lease on this one ran
     * out, and it was sent again and delivered) keeps that outcome. */
    int64_t k = changed(b, ZV_PG_ST_DEAD, "dead",
                        "UPDATE outbox SET state = 'dead', attempts = attempts + 1, "
                        "last_error = $2, claimed_by = NULL, lease_until = NULL WHERE id = $1 "
                        "AND state IN ('inflight', 'pending')",
                        2, v);
    int rc = k < 0 ? -1 : 0;
    if (k == 0) {
        int64_t there = changed(b, -1, "dead", "SELECT 1 FROM outbox WHERE id = $1", 1, v);
        rc = there < 0 ? -1 : there == 0 ? zv_pg_fail(b, "dead letter: no outbox row %s", ids) : 0;
    } else if (k > 0)
        rc = zv_pg_dlq_insert(b, id, d, dlq_id);
    return zv_pg_op_end(b, own, rc);
}

int zv_pg_dlq_insert(zv_sb *b, int64_t outbox_id, const zv_dead_info *d, int64_t *dlq_id)
{
    char ids[24], now[24], status[24];
    const char *w[] = {zv_pg_i64(ids, outbox_id),
                       zv_pg_i64(now, zv_now()),
                       d->record_key,
                       d->record_ref,
                       d->reason ? d->reason : "unknown",
                       d->codes,
                       zv_pg_i64(status, d->http_status)};
    PGresult *r = zv_pg_qp(b, ZV_PG_ST_DLQ, "dead letter",
                           "INSERT INTO dead_letter(outbox_id, created, destination, "
                           "record_key, record_ref, reason, codes, http_status) "
                           "SELECT $1, $2, destination, $3, $4, $5, $6, $7 FROM outbox "
                           "WHERE id = $1 RETURNING id",
                           7, w, NULL, NULL);
    if (!r) return -1;
    int rc = PQntuples(r) == 1 ? 0 : zv_pg_fail(b, "dead letter: no outbox row %s", ids);
    if (rc == 0 && dlq_id) *dlq_id = zv_pg_get_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

/* The one value of sql about destination: 0 (in *out), 1 NULL, -1 error. */
static int one_i64(zv_sb *b, const char *what, const char *sql, const char *destination,
                   int64_t *out)
{
    const char *v[] = {destination};
    PGresult *r = zv_pg_q(b, what, sql, 1, v, NULL, NULL);
    if (!r) return -1;
    int rc = PQgetisnull(r, 0, 0) ? 1 : 0;
    if (rc == 0) *out = zv_pg_get_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

int zv_pg_next_due(zv_sb *b, const char *destination, int64_t *when_ms)
{
    return one_i64(b, "next due",
                   "SELECT min(next_attempt) FROM outbox WHERE destination = $1 AND "
                   "state = 'pending'",
                   destination, when_ms);
}

int zv_pg_oldest_pending(zv_sb *b, const char *destination, int64_t *first_enqueued)
{
    return one_i64(b, "oldest pending",
                   "SELECT min(first_enqueued) FROM outbox WHERE destination = $1 AND "
                   "state IN ('pending', 'inflight')",
                   destination, first_enqueued);
}

int zv_pg_outbox_get(zv_sb *b, int64_t id, zv_outbox_cb cb, void *arg)
{
    char ids[24];
    const char *v[] = {zv_pg_i64(ids, id)};
    PGresult *r = zv_pg_q(b, "outbox", "SELECT " ZV_PG_ROW_COLS " FROM outbox WHERE id = $1", 1, v,
                          NULL, NULL);
    if (!r) return -1;
    int n = rows_each(r, cb, arg);
    PQclear(r);
    return n ? 0 : 1;
}

static int64_t count(zv_sb *b, const char *sql, int n, const char *const *v)
{
    PGresult *r = zv_pg_q(b, "count", sql, n, v, NULL, NULL);
    if (!r) return -1;
    int64_t k = zv_pg_get_i64(r, 0, 0);
    PQclear(r);
    return k;
}

int64_t zv_pg_outbox_count(zv_sb *b, const char *destination, const char *state)
{
    const char *v[] = {destination, state};
    /* NULL matches everything: one statement for the four cases. */
    return count(b,
                 "SELECT count(*) FROM outbox WHERE ($1::text IS NULL OR destination = $1) AND "
                 "($2::text IS NULL OR state = $2)",
                 2, v);
}

int64_t zv_pg_dlq_count(zv_sb *b, const char *destination)
{
    const char *v[] = {destination};
    return count(b, "SELECT count(*) FROM dead_letter WHERE $1::text IS NULL OR destination = $1",
                 1, v);
}
