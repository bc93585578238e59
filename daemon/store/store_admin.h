/*
 * Read-only views and operator actions on the store for the admin API,
 * metrics and health (daemon/admin).  The delivery path never uses these.
 * Same conventions as store.h: 0 ok, -1 error (zv_store_errmsg), strings in
 * callbacks valid only during the callback.
 */
#ifndef ZV_STORE_ADMIN_H
#define ZV_STORE_ADMIN_H

#include "store.h"

/* Outbox rows, newest first; destination/state NULL: any; limit 0: 100. */
int zv_store_outbox_list(zv_store *s, const char *destination, const char *state, int64_t limit,
                         zv_outbox_cb cb, void *arg);
/* Per destination and state: count and the oldest first_enqueued, in one
 * pass over the outbox (for /metrics and status on a large backlog). */
typedef int (*zv_outbox_sum_cb)(const char *destination, const char *state, int64_t n,
                                int64_t oldest, void *arg);
int zv_store_outbox_summary(zv_store *s, zv_outbox_sum_cb cb, void *arg);
/* Oldest first_enqueued of the destination's pending/inflight rows: 0 found, 1 none. */
int zv_store_outbox_oldest_pending(zv_store *s, const char *destination, int64_t *first_enqueued);
/* Newest delivered_at of the destination: 0 found, 1 none. */
int zv_store_outbox_last_delivered(zv_store *s, const char *destination, int64_t *at);
/* A pending row is tried at now_ms instead of its backoff time.  1 when the
 * row is absent or not pending (zv_store_errmsg says which). */
int zv_store_outbox_retry_now(zv_store *s, int64_t id, int64_t now_ms);
/* A pending row is discarded by an operator (state dropped, payload gone)
 * with an audit entry naming who.  1 when absent or not pending. */
int zv_store_outbox_drop(zv_store *s, int64_t id, int64_t now, const char *who);

/* An operator action in the audit trail (kind "admin"), its own transaction
 * unless one is open.  destination, idem_key, message may be NULL. */
int zv_store_audit_note(zv_store *s, int64_t now, const char *destination, const char *idem_key,
                        const char *message, const char *detail);
int64_t zv_store_audit_length(zv_store *s);

/* Quarantine entries per (source, stage). */
typedef int (*zv_qstat_cb)(const char *source, const char *stage, int64_t n, void *arg);
int zv_store_quarantine_stats(zv_store *s, zv_qstat_cb cb, void *arg);

/* Can the store take a write now?  A real write in a transaction, waiting at
 * most wait_ms for another writer.  0 yes, -1 no (why in err). */
int zv_store_write_probe(zv_store *s, int wait_ms, char *err, size_t errlen);

#endif
