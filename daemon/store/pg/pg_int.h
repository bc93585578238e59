/* The PostgreSQL backend's internals, shared by pg_*.c. */
#ifndef ZV_PG_INT_H
#define ZV_PG_INT_H

#include <libpq-fe.h>
#include <stdint.h>

#include "store/store_iface_int.h"

/* The statements every payload meets, prepared once per connection
 * (zv_pg_qp): the server parses and plans each once, not per call. */
enum zv_pg_st {
    ZV_PG_ST_CLAIM,
    ZV_PG_ST_CLAIM_CAPPED,
    ZV_PG_ST_CLAIM_LOCK,
    ZV_PG_ST_RENEW,
    ZV_PG_ST_DELIVERED,
    ZV_PG_ST_DELIVERED_MANY,
    ZV_PG_ST_RETRY,
    ZV_PG_ST_DEAD,
    ZV_PG_ST_DLQ,
    ZV_PG_ST_VERDICT,
    ZV_PG_ST_AUDIT_HEAD,
    ZV_PG_ST_AUDIT_INS,
    ZV_PG_ST_ENQUEUE,
    ZV_PG_ST_N
};

typedef struct zv_pg {
    PGconn *c;
    int open;   /* zv_sb_begin's transaction is open */
    int failed; /* a step inside it failed: its commit rolls back */
    int schema; /* the version after the migrations at open */
    /* The open transaction holds a lock every node's appends wait for (the
     * audit head): it commits without waiting for the WAL flush, so the lock
     * is free at once, then waits for the flush outside it (commit in
     * pg_store.c). */
    int fast;
    /* "delivered" entries of the open transaction, chained only at its
     * commit (zv_pg_audit_defer): the head is locked for one statement per
     * transaction, not from the first outcome to the last.  Owned here,
     * every string malloc'd; freed at commit or rollback. */
    zv_audit_entry *defer;
    size_t ndefer, capdefer;
    /* Which of enum zv_pg_st this connection has prepared; cleared when it
     * is opened again (a new server session knows none). */
    unsigned char prepared[ZV_PG_ST_N];
    /* ZV_PG_PREPARE=0 in the environment: every statement unprepared, as
     * before (tests/bench measures both). */
    int no_prepare;
} zv_pg;

#define PG(b) ((zv_pg *)(b)->impl)

/* The outbox columns every row query returns, in zv_outbox_row order. */
#define ZV_PG_ROW_COLS                                                                             \
    "id, destination, message, idem_key, payload, content_type, extension, fields_json, "          \
    "records_json, state, attempts, next_attempt, first_enqueued, last_error, delivered_at"

/* Runs sql with text parameters (vals[i] NULL: SQL NULL) except those whose
 * fmts[i] is 1 (binary, lens[i] bytes); fmts/lens may be NULL.  The result
 * when its status is PGRES_COMMAND_OK or PGRES_TUPLES_OK; else NULL, with
 * b->err naming what, and the open transaction marked failed. */
PGresult *zv_pg_q(zv_sb *b, const char *what, const char *sql, int n, const char *const *vals,
                  const int *lens, const int *fmts);
/* As zv_pg_q, with statement id prepared on this connection at its first use. */
PGresult *zv_pg_qp(zv_sb *b, enum zv_pg_st id, const char *what, const char *sql, int n,
                   const char *const *vals, const int *lens, const int *fmts);
/* One statement of zv_pg_pipeline: prepared as id (id < 0: sent as text),
 * n text parameters. */
typedef struct zv_pg_step {
    int id;
    const char *sql;
    int n;
    const char *const *vals;
} zv_pg_step;
/* steps[0..n) (at most 16) sent at once, their results read after: one
 * round trip for all.  The server runs them in order, each after the one
 * before has ended (a later one's snapshot is taken after an earlier one's
 * lock), and skips the rest after a failure; then what they began is
 * rolled back.  For statements outside the caller's transaction (the
 * steps begin and end their own).  *keep: the result of step keep_i, to be
 * PQclear'd.  0, or -1 with b->err. */
int zv_pg_pipeline(zv_sb *b, const char *what, const zv_pg_step *steps, int n, int keep_i,
                   PGresult **keep);
/* A statement without parameters or result rows. */
int zv_pg_cmd(zv_sb *b, const char *what, const char *sql);
/* Records an error of ours (not the server's); returns -1. */
int zv_pg_fail(zv_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Several statements that belong together run in the caller's transaction
 * when one is open, else in their own: *own says which; op_end commits an
 * own one (rc < 0: rolls it back) and returns rc or the commit's failure. */
int zv_pg_op_begin(zv_sb *b, int *own);
int zv_pg_op_end(zv_sb *b, int own, int rc);

/* A transaction holding a lock others queue for commits without waiting
 * for the disk (zv_pg.fast; the audit head), and a claim not at all. */
#define ZV_PG_FAST_SQL "SET LOCAL synchronous_commit = off"
/* Decimal text of v in buf (24 bytes). */
const char *zv_pg_i64(char buf[24], int64_t v);
int64_t zv_pg_get_i64(const PGresult *r, int row, int col);
/* NULL for SQL NULL. */
const char *zv_pg_get_text(const PGresult *r, int row, int col);

/* A zv_outbox_row from row of r (ZV_PG_ROW_COLS); *payload is the decoded
 * bytea, to be PQfreemem'd after the row is used. */
void zv_pg_row(const PGresult *r, int row, zv_outbox_row *o, unsigned char **payload);

/* pg_schema.c: brings the database to ZV_PG_SCHEMA_VERSION (one
 * transaction, serialised between nodes starting at once). */
int zv_pg_migrate(zv_sb *b);

/* pg_outbox.c, pg_audit.c */
int zv_pg_enqueue(zv_sb *b, const zv_outbox_new *o);
int zv_pg_claim(zv_sb *b, const char *destination, int64_t now_ms, int64_t lease_ms, size_t limit,
                int cap, zv_outbox_cb cb, void *arg);
int64_t zv_pg_lease_renew(zv_sb *b, const int64_t *ids, size_t n, int64_t now_ms, int64_t lease_ms);
int64_t zv_pg_lease_expire(zv_sb *b, int64_t now_ms);
int64_t zv_pg_recover(zv_sb *b);
int zv_pg_delivered(zv_sb *b, int64_t id, int64_t now);
int zv_pg_delivered_many(zv_sb *b, const int64_t *ids, size_t n, int64_t now);
int zv_pg_retry(zv_sb *b, int64_t id, int64_t next_attempt_ms, const char *error);
int zv_pg_dead(zv_sb *b, int64_t id, const zv_dead_info *d, int64_t *dlq_id);
/* The dead letter entry of outbox_id (inside the caller's transaction). */
int zv_pg_dlq_insert(zv_sb *b, int64_t outbox_id, const zv_dead_info *d, int64_t *dlq_id);
/* pg_retention.c */
int zv_pg_record_verdict(zv_sb *b, int64_t outbox_id, int accepted, const zv_dead_info *d,
                         int64_t *dlq_id);
int zv_pg_oldest_pending(zv_sb *b, const char *destination, int64_t *first_enqueued);
int zv_pg_next_due(zv_sb *b, const char *destination, int64_t *when_ms);
int64_t zv_pg_prune(zv_sb *b, int64_t before, int limit);
int zv_pg_outbox_get(zv_sb *b, int64_t id, zv_outbox_cb cb, void *arg);
int64_t zv_pg_outbox_count(zv_sb *b, const char *destination, const char *state);
int64_t zv_pg_dlq_count(zv_sb *b, const char *destination);
/* pg_circuit.c */
int zv_pg_circuit_get(zv_sb *b, const char *destination, int64_t now_ms, int64_t *until_ms,
                      char *node, size_t nodelen);
int zv_pg_circuit_set(zv_sb *b, const char *destination, int64_t until_ms, const char *why);
/* pg_sources.c */
int zv_pg_watermark_get(zv_sb *b, const char *source, const char *key, char *buf, size_t buflen);
int zv_pg_watermark_set(zv_sb *b, const char *source, const char *key, const char *value);
int zv_pg_seen(zv_sb *b, const char *source, const char *record_id, const char *hash);
int zv_pg_source_lease(zv_sb *b, const char *source, int64_t now_ms, int64_t lease_ms, char *holder,
                       size_t holderlen);
int zv_pg_source_release(zv_sb *b, const char *source);
/* pg_staging.c */
int zv_pg_stage(zv_sb *b, const char *destination, int message, const unsigned char *rec,
                size_t len, int64_t item_id, const char *record_key);
int zv_pg_staged_after(zv_sb *b, const char *destination, int64_t after_id, size_t limit,
                       zv_staged_cb cb, void *arg);
int zv_pg_staged_delete(zv_sb *b, int64_t id);
int64_t zv_pg_staged_count(zv_sb *b, const char *destination);
int zv_pg_batch_peek(zv_sb *b, const char *destination, int64_t *seq);
int zv_pg_batch_set(zv_sb *b, const char *destination, int64_t seq);
/* pg_change.c */
int zv_pg_sent_same(zv_sb *b, const char *destination, const char *key, const char *digest);
int zv_pg_sent_put(zv_sb *b, const char *destination, const char *key, const char *digest,
                   const char *message, const unsigned char *rec, size_t len);
int zv_pg_sent_get(zv_sb *b, const char *destination, const char *key, char *message, size_t msglen,
                   unsigned char **rec, size_t *len);
int zv_pg_quarantine_add(zv_sb *b, const zv_quarantine_entry *e, int64_t *id);
int zv_pg_quarantine_like(zv_sb *b, const zv_quarantine_entry *e, int64_t except);
/* pg_quarantine.c */
int zv_pg_quarantine_query(zv_sb *b, const zv_quarantine_filter *f, zv_quarantine_cb cb, void *arg);
int zv_pg_quarantine_get(zv_sb *b, int64_t id, zv_quarantine_cb cb, void *arg);
int zv_pg_quarantine_of_record(zv_sb *b, const char *source, const char *record_id,
                               zv_quarantine_cb cb, void *arg);
int zv_pg_quarantine_due(zv_sb *b, const char *today, zv_quarantine_cb cb, void *arg);
int64_t zv_pg_quarantine_count(zv_sb *b, const char *state);
int zv_pg_quarantine_add_reason(zv_sb *b, int64_t id, const char *field, const char *rule,
                                const char *reason);
int zv_pg_quarantine_close(zv_sb *b, int64_t id, const char *outcome, const char *detail,
                           int64_t now);
int zv_pg_item_put(zv_sb *b, const char *source, const char *record_id, const char *item_json,
                   const char *mapping_version, int64_t *id);
int zv_pg_item_get(zv_sb *b, const char *source, const char *record_id, char **item_json,
                   char **mapping_version);
int zv_pg_item_release(zv_sb *b, int64_t id);
/* The entry chained when the open transaction commits (copied; seq not
 * known before); an entry appended meanwhile comes after these. */
int zv_pg_audit_defer(zv_sb *b, const zv_audit_entry *e);
/* The deferred entries into the chain, inside the transaction (the head is
 * locked from here to its end); commit calls it.  Dropping them: rollback. */
int zv_pg_audit_flush(zv_sb *b);
void zv_pg_audit_drop(zv_sb *b);
/* The entry inside an open transaction (the head row is locked until it ends). */
int zv_pg_audit_append_locked(zv_sb *b, const zv_audit_entry *e, int64_t *seq);
int zv_pg_audit_append(zv_sb *b, const zv_audit_entry *e, int64_t *seq);
int zv_pg_audit_each(zv_sb *b, zv_audit_cb cb, void *arg);
int zv_pg_audit_verify(zv_sb *b, int64_t *count, int64_t *bad_seq, char *why, size_t whylen);

#endif
