/*
 * The embedded store: one SQLite file (WAL) under the state directory.
 *
 * Tables: staged (mapped records waiting for their destination's batch
 * window), outbox, dead_letter, audit (hash-chained), quarantine, watermark,
 * seen (source de-duplication), counters, batch sequence.
 *
 * All functions return 0 on success and -1 on failure unless said otherwise;
 * zv_store_errmsg() says why.  Strings returned in callbacks are valid only
 * during the callback.  The store is used from the loop thread only.
 */
#ifndef ZV_STORE_H
#define ZV_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct zv_store zv_store;

/* Creates the file (mode 0600, see zv_store_file_modes) if it is absent. */
zv_store *zv_store_open(const char *path, char *err, size_t errlen);
/* The state directory: created 0700, or made so whatever it was (under a
 * systemd unit whose StateDirectory= it is, the unit's group bits stay);
 * never any access for others.  -1 when that cannot be done. */
int zv_store_state_dir(const char *dir, char *err, size_t errlen);
/* The store file and its -wal/-shm: 0600 (0640 when the folder gives its
 * group access and others none), created if the database is absent. */
int zv_store_file_modes(const char *path, char *err, size_t errlen);
void zv_store_close(zv_store *s);
const char *zv_store_errmsg(zv_store *s);

/* One transaction at a time, never nested: begin while one is open fails
 * (naming the owner that opened it), so no caller can believe it committed
 * what another one later rolls back.  owner names the caller in that error
 * ("source/ons", "delivery").  The daemon opens a transaction only inside
 * one callback of the loop and closes it before the callback returns
 * (daemon/core/unit.c); zv_store_txn_owner() is NULL between callbacks. */
int zv_store_begin_as(zv_store *s, const char *owner);
int zv_store_begin(zv_store *s); /* owner "?" */
/* Who holds the open transaction or unit, or NULL when none is open (a
 * group of committed units waiting for its commit is no one's). */
const char *zv_store_txn_owner(const zv_store *s);

/* Group commit.  A unit is a savepoint inside a group transaction, begun
 * with the group when none is open.  unit_commit releases it into the group:
 * sync 1 commits the group now (durable when it returns 0); sync 0 leaves it
 * for zv_store_group_commit, which commits every unit released since, with
 * one fsync, and then calls the on_group hook (ok 0: the group was rolled
 * back, its units are lost).  A failed step fails only its unit.  Begin of
 * a plain transaction commits a waiting group first (with a writer thread
 * it is a unit of the group instead, see below); a unit never nests. */
int zv_store_unit_begin(zv_store *s, const char *owner);
int zv_store_unit_commit(zv_store *s, int sync);
void zv_store_unit_rollback(zv_store *s);
int zv_store_group_commit(zv_store *s);
/* 1 when committed units wait for zv_store_group_commit. */
int zv_store_group_pending(const zv_store *s);
void zv_store_on_group(zv_store *s, void (*cb)(void *arg, int ok, int64_t units), void *arg);
int zv_store_commit(zv_store *s);
void zv_store_rollback(zv_store *s);
/* The group committed now, durable (or lost) when it returns, with a
 * writer thread too (its commit waited for). */
int zv_store_group_commit_sync(zv_store *s);
/* Hooks: on_pending when a unit was released into the group (so that
 * someone commits it), on_precommit just before a group is committed (its
 * units join that group). */
void zv_store_on_pending(zv_store *s, void (*cb)(void *arg), void *arg);
void zv_store_on_precommit(zv_store *s, void (*cb)(void *arg), void *arg);
/* The group a caller's released units are in (0: none is waiting), and
 * the last group that ended: the units are durable (or lost, on_group's
 * ok 0) once zv_store_done_gen() >= that number. */
int64_t zv_store_wait_gen(const zv_store *s);
int64_t zv_store_done_gen(const zv_store *s);

/* The writer thread (store_writer.c; the daemon's, not zinvolctl's).  From
 * then on every transaction begun on the loop is a unit of the group
 * (commit() releases it into the group, durable with it), the group's
 * COMMIT and fsync run on the writer thread, and another process's lock is
 * waited for there, never on the loop: begin fails at once while the file
 * is locked.  on_ready(arg) runs on the loop whenever a commit or a lock
 * wait has ended, so that work held back (zv_store_ready 0) goes on. */
struct event_base;
struct event;
int zv_store_writer_start(zv_store *s, struct event_base *base, void (*on_ready)(void *arg),
                          void *arg, char *err, size_t errlen);
/* The store as the loop's readers see it.  With a writer thread: a second
 * connection of the store's own (zv_store_writer_start opens it, the store
 * owns it until zv_store_close) that sees only what is committed, each
 * statement or read transaction (a plain BEGIN, never BEGIN IMMEDIATE) on
 * its own WAL snapshot.  So a read there never waits for the writer's
 * COMMIT, fsync or checkpoint, never meets the group the loop holds open,
 * and a read transaction of its own cannot collide with the writer's.
 * Reads only, on the loop thread.  Without a writer: s itself. */
zv_store *zv_store_reader(zv_store *s);
/* 1 when the loop may begin a unit now without waiting: no commit under way
 * and no lock waited for. */
int zv_store_ready(const zv_store *s);
/* Before a callback that may write (a webhook request): 1 when it can go
 * on now (the group is open, begun here if need be), 0 when it should wait
 * for on_ready (a commit under way, or the file locked by another process:
 * the writer now waits for it).  Without a writer always 1. */
int zv_store_group_prepare(zv_store *s);
/* After such a callback: a group it opened but put no unit into ends. */
void zv_store_group_end_empty(zv_store *s);
/* A loop callback that is about to write, before it begins a unit: 0 go
 * on now (no writer, or no commit or lock wait under way); 1 a commit (or
 * a wait for another process's lock) is under way, so return instead of
 * waiting for it: ev (the caller's own event, the one whose callback this
 * is) is made active on the loop once it has ended.  ev stays the
 * caller's: forget it before it is freed. */
int zv_store_when_ready(zv_store *s, struct event *ev);
void zv_store_when_ready_forget(zv_store *s, struct event *ev);
/* A large unit written off the loop: the unit is begun here (owner names
 * it), then body(arg) runs on the writer thread with the connection lent to
 * it, and the loop goes on meanwhile as during a commit (zv_store_ready 0:
 * work that would write is held back; a begin elsewhere waits for it).
 * body may only make store calls on s, nothing of the loop: 0 keeps the
 * unit (released into the group on the loop, durable with it), anything
 * else rolls it back.  done(arg, rc) follows on the loop in a callback of
 * its own: rc is body's, or -1 when the release failed.  Returns 0 lent; 1
 * not possible now (no writer, a commit or lock wait under way, a unit
 * open): the caller writes the unit itself; -1 the unit cannot begin
 * (zv_store_errmsg). */
int zv_store_lend_unit(zv_store *s, const char *owner, int (*body)(void *arg),
                       void (*done)(void *arg, int rc), void *arg);
/* A lent unit's end taken now and its done() run here (the runtime, before
 * what done() touches goes). */
void zv_store_lent_finish(zv_store *s);
/* Waits (a loop wait, counted) until the writer's job, a commit or a lent
 * unit's body, has ended, so that the caller may use the connection now:
 * for reads outside a unit that cannot be held back (a flush called
 * directly, as tests and zinvolctl do).  Two threads on one connection
 * would also race for its cached statements. */
void zv_store_wait_writer(zv_store *s);
/* Callbacks held back so (each a wait the loop did not do). */
int64_t zv_store_loop_deferrals(const zv_store *s);
/* How often the loop has stopped to wait for the writer's commit (a unit
 * begun, or a synchronous commit, while a group was being fsync'd): each
 * such wait is a stall of the loop.  0 without a writer. */
int64_t zv_store_loop_waits(const zv_store *s);
/* 0 healthy, 1 no writer, -1 (err says why) locked by another process for
 * longer than max_lock_ms, or the last group commit failed. */
int zv_store_writer_health(const zv_store *s, int64_t max_lock_ms, char *err, size_t errlen);
/* A savepoint inside an open transaction: undo() rolls back to it (and
 * forgets failures recorded since), release() keeps what was done.  *mark
 * is the caller's memory of the failure state; not nested. */
int zv_store_savepoint(zv_store *s, int *mark);
int zv_store_savepoint_release(zv_store *s);
void zv_store_savepoint_undo(zv_store *s, int mark);

/* ---- sources ---- */
/* 0 found (value in buf), 1 absent, -1 error. */
int zv_store_watermark_get(zv_store *s, const char *source, const char *key, char *buf,
                           size_t buflen);
int zv_store_watermark_set(zv_store *s, const char *source, const char *key, const char *value);
/* 1 when (source, record_id, content hash) was seen before, 0 when it is new
 * (and is now remembered), -1 on error. */
int zv_store_seen(zv_store *s, const char *source, const char *record_id, const char *hash);

/* ---- quarantine (more in store_quarantine.h) ---- */
typedef struct zv_quarantine_entry {
    int64_t id;
    int64_t created;
    const char *source;
    const char *record_id;
    const char *stage;           /* "mapping", "minimiser", "rule", "schema", "render", ... */
    const char *destination;     /* NULL for mapping failures */
    const char *field;           /* model field or source path; may be NULL */
    const char *rule;            /* rule code (CS002, TR039, ...); may be NULL */
    const char *reason;          /* the first reason; no BSN in clear */
    const char *item_json;       /* the raw item as the mapping reads it, for a retry */
    const unsigned char *record; /* encoded record (entries from before items were kept) */
    size_t record_len;
    /* Added with the record lifecycle (issue 12); all may be NULL/0. */
    const char *state;           /* open, waiting; closed entries: their outcome */
    const char *reasons_json;    /* every reason: [{"field":..,"rule":..,"reason":..}] */
    const char *mapping_version; /* of the mapping that made or refused the record */
    const char *source_version;  /* "filedrop 1.0" */
    const char *due;             /* waiting: the day it becomes due (YYYY-MM-DD) */
    int64_t closed_at;           /* closed entries */
    const char *outcome_detail;  /* closed entries: what became of it, by whom */
} zv_quarantine_entry;

/* A new open entry (or waiting, when e->state is "waiting"); reasons_json
 * NULL: the one reason of field/rule/reason. */
int zv_store_quarantine_add(zv_store *s, const zv_quarantine_entry *e, int64_t *id);
typedef int (*zv_quarantine_cb)(const zv_quarantine_entry *e, void *arg);
/* Calls cb per open entry, oldest first; cb returning non-zero stops. */
int zv_store_quarantine_each(zv_store *s, zv_quarantine_cb cb, void *arg);
/* An entry, open, waiting or closed; 1 when there is none. */
int zv_store_quarantine_get(zv_store *s, int64_t id, zv_quarantine_cb cb, void *arg);
/* Open entries (waiting ones not counted). */
int64_t zv_store_quarantine_count(zv_store *s);

/* 1 when an entry like e (source, record id, stage, field and reason) is
 * already in quarantine, 0 when not, -1 on error. */
int zv_store_quarantine_same(zv_store *s, const zv_quarantine_entry *e);

/* ---- change detection (core/change.h) ---- */
/* 1 when digest is what was last sent to destination for key, else 0; -1 error. */
int zv_store_sent_same(zv_store *s, const char *destination, const char *key, const char *digest);
/* Remember digest as the last content sent to destination for key, with
 * the message and the record sent (encoded; what a withdrawal repeats). */
int zv_store_sent_put(zv_store *s, const char *destination, const char *key, const char *digest,
                      const char *message, const unsigned char *rec, size_t len);
/* What was last sent to destination for key: 1 with the message name in
 * message (msglen bytes) and the encoded record in *rec (malloc'd, the
 * caller frees; NULL when none was kept), 0 nothing, -1 error. */
int zv_store_sent_get(zv_store *s, const char *destination, const char *key, char *message,
                      size_t msglen, unsigned char **rec, size_t *len);

/* ---- staging ---- */
int zv_store_stage(zv_store *s, const char *destination, int message, const unsigned char *rec,
                   size_t len);
/* The same, naming the kept source item (zv_store_item_put) the record was
 * mapped from; the item goes when no staged row names it any more. */
int zv_store_stage_item(zv_store *s, const char *destination, int message, const unsigned char *rec,
                        size_t len, int64_t item_id);
typedef struct zv_staged {
    int64_t id;
    int message;
    const unsigned char *rec;
    size_t len;
} zv_staged;
typedef int (*zv_staged_cb)(const zv_staged *st, void *arg);
/* Oldest first, at most limit rows (0: all). */
int zv_store_staged_each(zv_store *s, const char *destination, size_t limit, zv_staged_cb cb,
                         void *arg);
/* Up to limit (0: all) staged rows of destination with id > after_id, in id order. */
int zv_store_staged_after(zv_store *s, const char *destination, int64_t after_id, size_t limit,
                          zv_staged_cb cb, void *arg);
int zv_store_staged_delete(zv_store *s, int64_t id);
int64_t zv_store_staged_count(zv_store *s, const char *destination);
/* Next batch sequence number for a destination (1, 2, ...), durable. */
int zv_store_next_batch(zv_store *s, const char *destination, int64_t *seq);
/* The last batch sequence number handed out (0: none yet), and setting it:
 * a render that ran off the loop used the numbers after the one it peeked. */
int zv_store_batch_peek(zv_store *s, const char *destination, int64_t *seq);
int zv_store_batch_set(zv_store *s, const char *destination, int64_t seq);

/* ---- outbox ---- */
typedef struct zv_outbox_new {
    const char *destination;
    const char *message;  /* "AW35" */
    const char *idem_key; /* unique per destination */
    const void *payload;
    size_t len;
    const char *content_type;
    const char *extension;
    const char *fields_json;  /* [{"field":"client.bsn","level":"standard"},...] */
    const char *records_json; /* [{"source":..,"record_id":..,"key":..,"client":..,
                                 "fields":[..]},...]; client: see audit/client_key.h */
    /* [{"client":..,"record":..,"values":{field:value}}]: what this payload
     * says about each client, kept for disclosure until retention prunes the
     * payload; NULL: none. */
    const char *disclosure_json;
} zv_outbox_new;

/* 0 enqueued, 1 when the idempotency key was already there (not an error). */
int zv_store_enqueue(zv_store *s, const zv_outbox_new *o);
int64_t zv_store_outbox_count(zv_store *s, const char *destination, const char *state);

/* ---- counters: minimiser decisions and other per-destination tallies ---- */
/* An aggregate destination's records (render.c): counted, or not counted
 * (the counter's field is then the format's reason). */
#define ZV_COUNT_COUNTED "counted"
#define ZV_COUNT_NOT_COUNTED "not_counted"
int zv_store_count_add(zv_store *s, const char *destination, const char *field, const char *what,
                       int64_t n);
typedef int (*zv_count_cb)(const char *destination, const char *field, const char *what, int64_t n,
                           void *arg);
int zv_store_count_each(zv_store *s, zv_count_cb cb, void *arg);

/* ---- delivery (daemon/delivery); times: *_ms unix milliseconds, else unix seconds ---- */
typedef struct zv_outbox_row {
    int64_t id;
    const char *destination;
    const char *message;
    const char *idem_key;
    const void *payload; /* NULL once pruned or dropped */
    size_t len;
    const char *content_type;
    const char *extension;
    const char *fields_json;
    const char *records_json;
    const char *state; /* pending, inflight, delivered, dead, dropped */
    int attempts;
    int64_t next_attempt_ms;
    int64_t first_enqueued;
    const char *last_error;
    int64_t delivered_at;
} zv_outbox_row;
typedef int (*zv_outbox_cb)(const zv_outbox_row *r, void *arg);

/* Rows left 'inflight' by a crash: pending again, same idempotency key.
 * Not done by zv_store_open, because zinvolctl (or a reloading daemon) opens
 * the file while a running engine has rows in flight; the delivery engine
 * calls it once per process.  Returns the number of rows, or -1. */
int64_t zv_store_outbox_recover(zv_store *s);
/* What the last zv_store_outbox_recover found. */
int64_t zv_store_recovered(const zv_store *s);
/* Mark up to limit pending rows of destination due at now_ms as inflight and
 * call cb for each, earliest due first.  Returns the number claimed, or -1. */
int zv_store_outbox_claim(zv_store *s, const char *destination, int64_t now_ms, size_t limit,
                          zv_outbox_cb cb, void *arg);
/* Earliest next attempt of a pending row: 0 found, 1 none, -1 error. */
int zv_store_outbox_next_due(zv_store *s, const char *destination, int64_t *when_ms);
int zv_store_outbox_get(zv_store *s, int64_t id, zv_outbox_cb cb, void *arg); /* 1: absent */
int zv_store_outbox_find(zv_store *s, const char *destination, const char *idem_key,
                         int64_t *id); /* 1: absent */
/* The newest payload to destination that carried this record key (from
 * records_json): 0 found, 1 none, -1 error. */
int zv_store_outbox_find_record(zv_store *s, const char *destination, const char *record_key,
                                int64_t *id);
/* Delivered: state and time, plus one audit entry (fields with levels, the
 * payload's SHA-256) in the same transaction. */
int zv_store_outbox_delivered(zv_store *s, int64_t id, int64_t now);
/* Back to pending: attempts + 1, next attempt, last error. */
int zv_store_outbox_retry(zv_store *s, int64_t id, int64_t next_attempt_ms, const char *error);

typedef struct zv_dead_info {
    const char *reason;     /* required */
    int http_status;        /* 0: none */
    const char *codes;      /* retour error codes ("0233,8001"); may be NULL */
    const char *record_key; /* per-record rejection; NULL: the whole payload */
    const char *record_ref; /* source/record id of that record; may be NULL */
} zv_dead_info;
/* The whole payload is dead (rejected, or too old): state dead + dead letter entry. */
int zv_store_outbox_dead(zv_store *s, int64_t id, const zv_dead_info *d, int64_t *dlq_id);
/* One record of a delivered payload was rejected by the receiver (retour). */
int zv_store_record_verdict(zv_store *s, int64_t outbox_id, int accepted, const zv_dead_info *d,
                            int64_t *dlq_id);

/* ---- dead letter ---- */
typedef struct zv_dlq_entry {
    int64_t id;
    int64_t outbox_id;
    int64_t created;
    const char *destination;
    const char *message;
    const char *idem_key;
    const char *record_key; /* NULL: whole payload */
    const char *record_ref;
    const char *reason;
    const char *codes;
    int http_status;
    int attempts;
} zv_dlq_entry;
typedef int (*zv_dlq_cb)(const zv_dlq_entry *e, void *arg);
int zv_store_dlq_each(zv_store *s, zv_dlq_cb cb, void *arg);
int zv_store_dlq_get(zv_store *s, int64_t id, zv_dlq_cb cb, void *arg); /* 1: absent */
int64_t zv_store_dlq_count(zv_store *s, const char *destination);
/* Whole-payload entry: the outbox row is pending again with the SAME
 * idempotency key, attempts 0 and its age restarted; the entry goes.
 * 1 when absent or not retryable (a per-record rejection: fix the record at
 * the source); zv_store_errmsg says which. */
int zv_store_dlq_retry(zv_store *s, int64_t id, int64_t now);
/* Remove the entry, discard its payload, and audit the drop. 1: absent. */
int zv_store_dlq_drop(zv_store *s, int64_t id, int64_t now, const char *note);

/* ---- audit trail (hash chained; the head is kept apart to catch truncation) ---- */
typedef struct zv_audit_entry {
    int64_t seq;
    int64_t at;
    const char *kind; /* "delivered", "dlq-drop" */
    const char *destination;
    const char *idem_key;
    const char *message;
    const char *fields; /* "client.bsn=standard,delivery.start=standard" (no values) */
    const char *payload_sha256;
    const char *detail;
    const char *hash;
    const char *clients; /* [{"client":key,"fields":[..]}] or NULL; chained */
    /* {"field": "citation", ..}: the catalogue's citation per field when the
     * message was made, or NULL (entries before they were stored); chained */
    const char *citations;
} zv_audit_entry;
typedef int (*zv_audit_cb)(const zv_audit_entry *e, void *arg);
int zv_store_audit_each(zv_store *s, zv_audit_cb cb, void *arg);
/* 0 intact (*count entries), 1 broken (*bad_seq: first broken entry, why in
 * buf), -1 error. */
int zv_store_audit_verify(zv_store *s, int64_t *count, int64_t *bad_seq, char *why, size_t whylen);

/* ---- disclosure: what was sent about one client (AVG art. 15) ---- */
typedef struct zv_disclosed {
    int64_t outbox_id; /* 0 when the outbox row is gone */
    int64_t seq;       /* audit entry; 0 while not delivered */
    int64_t at;        /* delivered (audit time) or enqueued */
    const char *destination;
    const char *message;
    const char *idem_key;
    const char *state;       /* delivered, pending, inflight, dead, dropped */
    const char *fields;      /* this client's fields with levels: "client.bsn=standard,..." */
    const char *values_json; /* {field: value} while the payload is retained; else NULL */
    const char *dead_reason; /* state dead: why; else NULL */
    /* {"field": "citation"} as when the message was made (the chained
     * entry's, or the outbox row's); NULL for entries from before. */
    const char *citations;
} zv_disclosed;
typedef int (*zv_disclosed_cb)(const zv_disclosed *d, void *arg);
/* Every message about client_key between from and to (unix seconds, 0: open),
 * oldest first: delivered ones from the audit trail (which survives
 * retention), the others from the outbox.  Only chained data is believed: an
 * index row whose audit entry does not name the client is skipped. */
int zv_store_disclose(zv_store *s, const char *client_key, int64_t from, int64_t to,
                      zv_disclosed_cb cb, void *arg);
/* Disclosure values of payloads that retention has pruned; number removed. */
int64_t zv_store_disclosure_prune(zv_store *s);

/* ---- flows: what went to whom, counted per client (from the audit trail) ---- */
typedef struct zv_flow_row {
    const char *destination;
    const char *field;
    const char *other;      /* pair rows: the other destination; NULL in per-destination rows */
    int64_t clients;        /* distinct clients (pair rows: whose value went to both) */
    int64_t sends;          /* client-messages carrying the field */
    int64_t max_per_client; /* the most messages with the field about one client */
    int64_t dup_clients;    /* of clients: how many also had the value sent elsewhere */
} zv_flow_row;
typedef int (*zv_flow_cb)(const zv_flow_row *r, void *arg);
/* Per-destination rows first, then pair rows; deliveries from since on. */
int zv_store_flows(zv_store *s, int64_t since, zv_flow_cb cb, void *arg);

/* ---- retention ---- */
/* Discard up to limit payload bodies delivered before `before`; the row (its
 * idempotency key and record keys, for late retours) and the audit trail stay.  Returns the number
 * pruned or -1. */
int64_t zv_store_prune(zv_store *s, int64_t before, int limit);

#include "store_quarantine.h"

#endif
