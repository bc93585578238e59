/*
 * The store interface: the outbox with claims, its outcomes, the source
 * side (watermarks, de-duplication, one reader per source) and the audit
 * chain, on either backend.
 *
 *   sqlite      the embedded file (store.h; the default).  One node: a claim
 *               is 'inflight' until the process ends; rows left so return
 *               to pending when the next process starts (zv_sb_recover).
 *   postgresql  a shared database (libpq), for several zinvold nodes.  A
 *               claim carries the node's name and a lease; rows whose lease
 *               ran out return to pending (zv_sb_lease_expire), with the
 *               same idempotency key and bytes.  Audit appends are
 *               serialised on the chain head row, so all nodes write one
 *               chain.
 *
 * Which one is chosen by the `store` setting (zv_store_target_parse):
 * "zinvol.db" or "/var/lib/zinvol/zinvol.db" is SQLite,
 * "postgresql://zinvol@db/zinvol?sslmode=verify-full" is PostgreSQL.  The
 * password is never part of the setting: store_password_file, or libpq's
 * PGPASSWORD / ~/.pgpass.
 *
 * Return values follow store.h: 0 success, -1 failure (zv_sb_errmsg says
 * why), 1 where said.  Strings in callbacks live only during the callback.
 * A handle is used by one thread at a time.
 */
#ifndef ZV_STORE_IFACE_H
#define ZV_STORE_IFACE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

typedef enum zv_store_kind { ZV_STORE_SQLITE = 0, ZV_STORE_POSTGRESQL = 1 } zv_store_kind;

/* Where the store is, parsed from the configuration (store_url.c). */
typedef struct zv_store_target {
    zv_store_kind kind;
    char *path;          /* sqlite: the file, absolute when state_dir was given */
    char *url;           /* postgresql: as configured; never holds a password */
    char *password_file; /* postgresql: NULL, or the file the password is read from */
} zv_store_target;

/* store: the setting; state_dir: where a relative SQLite file lives (may be
 * NULL); password_file: store_password_file (may be NULL).  A password in the
 * URL ("user:secret@", "password=") is refused; so is a password file with a
 * PostgreSQL-less build or an SQLite store. */
int zv_store_target_parse(const char *store, const char *state_dir, const char *password_file,
                          zv_store_target *t, char *err, size_t errlen);
void zv_store_target_free(zv_store_target *t);
/* 1 when store names a PostgreSQL database ("postgresql://", "postgres://"). */
int zv_store_is_url(const char *store);
/* 1 when this build has the PostgreSQL backend. */
int zv_store_have_postgresql(void);

/* The schema versions this build knows; a store made by a newer zinvol is
 * refused at open, an older one is migrated (each step recorded). */
#define ZV_SQLITE_SCHEMA_VERSION 1
#define ZV_PG_SCHEMA_VERSION 5

typedef struct zv_sb zv_sb;

/* Opens (and migrates) the store.  node names this process in claims
 * ("host:pid" when NULL).  The SQLite backend opens its own zv_store. */
zv_sb *zv_sb_open(const zv_store_target *t, const char *node, char *err, size_t errlen);
/* Wraps an open SQLite store; the caller keeps owning s (close it after). */
zv_sb *zv_sb_wrap(zv_store *s, const char *node);
void zv_sb_close(zv_sb *b);
const char *zv_sb_errmsg(const zv_sb *b);
zv_store_kind zv_sb_kind(const zv_sb *b);
const char *zv_sb_node(const zv_sb *b);
/* The schema version the store is at now. */
int zv_sb_schema_version(zv_sb *b);

/* A transaction around several calls (a batch of enqueues: one commit);
 * without one each call is its own.  Not nested. */
int zv_sb_begin(zv_sb *b);
/* The same, naming the caller (sqlite: in the error when a transaction is
 * open already, see zv_store_begin_as; with the daemon's writer thread it is
 * a unit of the group). */
int zv_sb_begin_as(zv_sb *b, const char *owner);
int zv_sb_commit(zv_sb *b);
void zv_sb_rollback(zv_sb *b);

/* 0 enqueued, 1 the (destination, idempotency key) was there already. */
int zv_sb_enqueue(zv_sb *b, const zv_outbox_new *o);
/* Claims up to limit pending rows of destination due at now_ms, earliest
 * due first, for this node until now_ms + lease_ms (postgresql; sqlite:
 * until the process ends); cb per row.  Rows another node holds are skipped,
 * never waited for.  postgresql: none while the destination's shared
 * circuit is open (zv_sb_circuit_get).  Returns the number claimed or -1. */
int zv_sb_claim(zv_sb *b, const char *destination, int64_t now_ms, int64_t lease_ms, size_t limit,
                zv_outbox_cb cb, void *arg);
/* The same, with the destination's `concurrency` as a limit for all nodes
 * together: at most cap rows of destination in flight at once, whichever
 * node holds them (claims of one destination are serialised for that).
 * sqlite: as zv_sb_claim (one node: its own count is the limit). */
int zv_sb_claim_capped(zv_sb *b, const char *destination, int64_t now_ms, int64_t lease_ms,
                       size_t limit, int cap, zv_outbox_cb cb, void *arg);
/* The rows ids[0..n) this node still holds a claim on and still works on
 * (a send or an outcome not yet committed) now last until now_ms +
 * lease_ms; returns how many.  A claim of ours not named here runs out: an
 * outcome whose commit failed leaves its row in flight, and only the lease
 * returns it to pending while this node lives. */
int64_t zv_sb_lease_renew(zv_sb *b, const int64_t *ids, size_t n, int64_t now_ms, int64_t lease_ms);
/* Claims whose lease ended before now_ms are pending again (any node's);
 * returns how many.  sqlite: 0 (no leases; see zv_sb_recover). */
int64_t zv_sb_lease_expire(zv_sb *b, int64_t now_ms);
/* sqlite: every in-flight row pending again (call once per process);
 * postgresql: this node's own claims from before (a restart under the same
 * node name).  Returns how many. */
int64_t zv_sb_recover(zv_sb *b);

/* Delivered: state, time, attempts + 1 and one audit entry in the same
 * transaction.  A second report for the same row adds no entry.  */
int zv_sb_delivered(zv_sb *b, int64_t id, int64_t now);
/* The same for n rows at once, their audit entries in the order of ids
 * (postgresql: one statement, not one round trip per row).  Inside the
 * caller's transaction; 0 or -1. */
int zv_sb_delivered_many(zv_sb *b, const int64_t *ids, size_t n, int64_t now);
/* Back to pending: attempts + 1, next attempt, last error.  postgresql: 1
 * when the row is no longer this node's claim (its lease ran out). */
int zv_sb_retry(zv_sb *b, int64_t id, int64_t next_attempt_ms, const char *error);
/* The whole payload is dead: state dead and a dead letter entry. */
int zv_sb_dead(zv_sb *b, int64_t id, const zv_dead_info *d, int64_t *dlq_id);
/* One record of a delivered payload accepted or rejected by the receiver
 * (d->record_key names it); a rejection is also a dead letter entry. */
int zv_sb_record_verdict(zv_sb *b, int64_t outbox_id, int accepted, const zv_dead_info *d,
                         int64_t *dlq_id);
/* When the oldest payload of destination not yet delivered (pending or in
 * flight) was enqueued, unix seconds: 0 found, 1 none (for /healthz). */
int zv_sb_oldest_pending(zv_sb *b, const char *destination, int64_t *first_enqueued);
/* Earliest next attempt of a pending row of destination: 0 found, 1 none. */
int zv_sb_next_due(zv_sb *b, const char *destination, int64_t *when_ms);
/* Retention (as zv_store_prune): up to limit payloads delivered before
 * `before` (unix seconds) lose their bodies and record keys; returns how
 * many. */
int64_t zv_sb_prune(zv_sb *b, int64_t before, int limit);
/* 1 when absent. */
int zv_sb_outbox_get(zv_sb *b, int64_t id, zv_outbox_cb cb, void *arg);
int64_t zv_sb_outbox_count(zv_sb *b, const char *destination, const char *state);
int64_t zv_sb_dlq_count(zv_sb *b, const char *destination);

/* ---- a destination's circuit breaker, shared by the nodes ---- */
/* 1 when some node opened destination's circuit and it is open at now_ms:
 * *until_ms when it ends, the node's name in node; 0 closed.  sqlite:
 * always 0 (the one process keeps its circuit itself). */
int zv_sb_circuit_get(zv_sb *b, const char *destination, int64_t now_ms, int64_t *until_ms,
                      char *node, size_t nodelen);
/* This node opened destination's circuit until until_ms (why: the last
 * failure), or closed it (until_ms 0: the receiver answers again). */
int zv_sb_circuit_set(zv_sb *b, const char *destination, int64_t until_ms, const char *why);

/* ---- sources ---- */
/* As zv_store_watermark_get/set: 0 found (value in buf), 1 absent. */
int zv_sb_watermark_get(zv_sb *b, const char *source, const char *key, char *buf, size_t buflen);
int zv_sb_watermark_set(zv_sb *b, const char *source, const char *key, const char *value);
/* 1 when (source, record_id, hash) was seen before, by any node (a webhook
 * event that two nodes received is handled once); 0 when new, and now
 * remembered. */
int zv_sb_seen(zv_sb *b, const char *source, const char *record_id, const char *hash);
/* The right to read source, which exactly one node has at a time: 1 this
 * node has it until now_ms + lease_ms (taken, renewed, or taken over from a
 * node whose lease ran out), 0 another node has it (its name in holder),
 * -1 error.  sqlite: always 1 (one process owns the file).  A reader renews
 * well within lease_ms and stops reading when it gets 0. */
int zv_sb_source_lease(zv_sb *b, const char *source, int64_t now_ms, int64_t lease_ms, char *holder,
                       size_t holderlen);
/* Gives this node's lease on source up (another node's is left alone). */
int zv_sb_source_release(zv_sb *b, const char *source);

/* ---- staging: a source's records on their way to a render unit ---- */
/* A minimised record (encoded) for destination and its message; item_id
 * names the kept source item (sqlite; 0: none), record_key the record
 * (source and record id; postgresql keeps it beside the row, NULL: none). */
int zv_sb_stage(zv_sb *b, const char *destination, int message, const unsigned char *rec,
                size_t len, int64_t item_id, const char *record_key);
/* Up to limit (0: all) staged rows of destination with id > after_id, in
 * id order (as zv_store_staged_after). */
int zv_sb_staged_after(zv_sb *b, const char *destination, int64_t after_id, size_t limit,
                       zv_staged_cb cb, void *arg);
/* The row leaves staging (rendered, or unchanged).  postgresql: -1 when it
 * is gone already (another node rendered it), so that render unit is
 * rolled back instead of sending the record twice. */
int zv_sb_staged_delete(zv_sb *b, int64_t id);
/* Staged rows of destination (NULL: all). */
int64_t zv_sb_staged_count(zv_sb *b, const char *destination);
/* The last batch sequence number of destination (0: none yet) and setting
 * it.  postgresql: inside a transaction the peek locks destination's
 * sequence until it ends, so the render units of two nodes take turns. */
int zv_sb_batch_peek(zv_sb *b, const char *destination, int64_t *seq);
int zv_sb_batch_set(zv_sb *b, const char *destination, int64_t seq);

/* ---- change detection (core/change.h): what was last sent per record ---- */
/* As zv_store_sent_same / _put / _get. */
int zv_sb_sent_same(zv_sb *b, const char *destination, const char *key, const char *digest);
int zv_sb_sent_put(zv_sb *b, const char *destination, const char *key, const char *digest,
                   const char *message, const unsigned char *rec, size_t len);
int zv_sb_sent_get(zv_sb *b, const char *destination, const char *key, char *message, size_t msglen,
                   unsigned char **rec, size_t *len);

/* ---- quarantine ---- */
/* A new entry, as zv_store_quarantine_add; *id its number (may be NULL). */
int zv_sb_quarantine_add(zv_sb *b, const zv_quarantine_entry *e, int64_t *id);
/* 1 when an open entry says exactly what e says (except: an entry id not to
 * count), as zv_store_quarantine_like. */
int zv_sb_quarantine_like(zv_sb *b, const zv_quarantine_entry *e, int64_t except);
/* The record lifecycle on either store (store_quarantine.h says what each
 * does on the SQLite file; postgresql does the same on the shared tables, so
 * an entry one node made can be retried or dropped by any other). */
int zv_sb_quarantine_query(zv_sb *b, const zv_quarantine_filter *f, zv_quarantine_cb cb, void *arg);
/* 1 when there is no entry id, open, waiting or closed. */
int zv_sb_quarantine_get(zv_sb *b, int64_t id, zv_quarantine_cb cb, void *arg);
int zv_sb_quarantine_of_record(zv_sb *b, const char *source, const char *record_id,
                               zv_quarantine_cb cb, void *arg);
int zv_sb_quarantine_due(zv_sb *b, const char *today, zv_quarantine_cb cb, void *arg);
/* Entries in state ("open" or "waiting"). */
int64_t zv_sb_quarantine_count(zv_sb *b, const char *state);
int zv_sb_quarantine_add_reason(zv_sb *b, int64_t id, const char *field, const char *rule,
                                const char *reason);
/* The entry leaves quarantine with its outcome and an audit entry in one
 * transaction; 1 when it is not open or waiting (closed meanwhile by
 * another node: postgresql locks the entry, so exactly one close wins). */
int zv_sb_quarantine_close(zv_sb *b, int64_t id, const char *outcome, const char *detail,
                           int64_t now);
/* The raw source item of a mapped record while a staged row names it
 * (zv_store_item_put / _get / _release). */
int zv_sb_item_put(zv_sb *b, const char *source, const char *record_id, const char *item_json,
                   const char *mapping_version, int64_t *id);
int zv_sb_item_get(zv_sb *b, const char *source, const char *record_id, char **item_json,
                   char **mapping_version);
int zv_sb_item_release(zv_sb *b, int64_t id);

/* Appends one entry (e->seq and e->hash are computed, not read); *seq gets
 * its number.  Serialised across nodes. */
int zv_sb_audit_append(zv_sb *b, const zv_audit_entry *e, int64_t *seq);
int zv_sb_audit_each(zv_sb *b, zv_audit_cb cb, void *arg);
/* As zv_store_audit_verify. */
int zv_sb_audit_verify(zv_sb *b, int64_t *count, int64_t *bad_seq, char *why, size_t whylen);

#endif
