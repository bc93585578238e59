/*
 * The store interface on the SQLite file: the existing store.h calls, so
 * the embedded default behaves exactly as before.  One node: claims have no
 * lease (sqlite serialises writers, and rows in flight when the process ends
 * return at the next start, zv_sb_recover).
 */
#include "store_iface_int.h"
#include "store_admin.h"
#include "store_int.h"

#include <stdio.h>
#include <string.h>

#define S(b) ((zv_store *)(b)->impl)

/* The zv_store's message becomes the handle's when rc says it failed. */
static int64_t keep(zv_sb *b, int64_t rc)
{
    if (rc < 0) snprintf(b->err, sizeof(b->err), "%s", zv_store_errmsg(S(b)));
    return rc;
}

static void sq_close(zv_sb *b)
{
    zv_store_close(S(b));
}

static int sq_schema_version(zv_sb *b)
{
    return (int)keep(b, zv_store_schema_version(S(b)));
}

static int sq_begin(zv_sb *b, const char *owner)
{
    return (int)keep(b, zv_store_begin_as(S(b), owner));
}

static int sq_commit(zv_sb *b)
{
    return (int)keep(b, zv_store_commit(S(b)));
}

static void sq_rollback(zv_sb *b)
{
    zv_store_rollback(S(b));
}

static int sq_enqueue(zv_sb *b, const zv_outbox_new *o)
{
    return (int)keep(b, zv_store_enqueue(S(b), o));
}

static int sq_claim(zv_sb *b, const char *destination, int64_t now_ms, int64_t lease_ms,
                    size_t limit, int cap, zv_outbox_cb cb, void *arg)
{
    (void)lease_ms; /* no other node could take the row over */
    (void)cap;      /* nor hold any: the caller's own count is the limit */
    return (int)keep(b, zv_store_outbox_claim(S(b), destination, now_ms, limit, cb, arg));
}

static int64_t sq_lease_renew(zv_sb *b, const int64_t *ids, size_t n, int64_t now_ms,
                              int64_t lease_ms)
{
    (void)b, (void)ids, (void)n, (void)now_ms, (void)lease_ms;
    return 0;
}

static int64_t sq_lease_expire(zv_sb *b, int64_t now_ms)
{
    (void)b, (void)now_ms;
    return 0;
}

static int64_t sq_recover(zv_sb *b)
{
    return keep(b, zv_store_outbox_recover(S(b)));
}

static int sq_delivered(zv_sb *b, int64_t id, int64_t now)
{
    return (int)keep(b, zv_store_outbox_delivered(S(b), id, now));
}

static int sq_retry(zv_sb *b, int64_t id, int64_t next_attempt_ms, const char *error)
{
    return (int)keep(b, zv_store_outbox_retry(S(b), id, next_attempt_ms, error));
}

static int sq_dead(zv_sb *b, int64_t id, const zv_dead_info *d, int64_t *dlq_id)
{
    return (int)keep(b, zv_store_outbox_dead(S(b), id, d, dlq_id));
}

static int sq_record_verdict(zv_sb *b, int64_t outbox_id, int accepted, const zv_dead_info *d,
                             int64_t *dlq_id)
{
    return (int)keep(b, zv_store_record_verdict(S(b), outbox_id, accepted, d, dlq_id));
}

static int sq_oldest_pending(zv_sb *b, const char *destination, int64_t *first_enqueued)
{
    return (int)keep(b, zv_store_outbox_oldest_pending(S(b), destination, first_enqueued));
}

static int sq_next_due(zv_sb *b, const char *destination, int64_t *when_ms)
{
    return (int)keep(b, zv_store_outbox_next_due(S(b), destination, when_ms));
}

static int64_t sq_prune(zv_sb *b, int64_t before, int limit)
{
    return keep(b, zv_store_prune(S(b), before, limit));
}

static int sq_outbox_get(zv_sb *b, int64_t id, zv_outbox_cb cb, void *arg)
{
    return (int)keep(b, zv_store_outbox_get(S(b), id, cb, arg));
}

static int64_t sq_outbox_count(zv_sb *b, const char *destination, const char *state)
{
    return keep(b, zv_store_outbox_count(S(b), destination, state));
}

static int64_t sq_dlq_count(zv_sb *b, const char *destination)
{
    return keep(b, zv_store_dlq_count(S(b), destination));
}

/* One process: its engine's own circuit is the only one. */
static int sq_circuit_get(zv_sb *b, const char *destination, int64_t now_ms, int64_t *until_ms,
                          char *node, size_t nodelen)
{
    (void)b, (void)destination, (void)now_ms, (void)until_ms, (void)node, (void)nodelen;
    return 0;
}

static int sq_circuit_set(zv_sb *b, const char *destination, int64_t until_ms, const char *why)
{
    (void)b, (void)destination, (void)until_ms, (void)why;
    return 0;
}

static int sq_watermark_get(zv_sb *b, const char *source, const char *key, char *buf, size_t buflen)
{
    return (int)keep(b, zv_store_watermark_get(S(b), source, key, buf, buflen));
}

static int sq_watermark_set(zv_sb *b, const char *source, const char *key, const char *value)
{
    return (int)keep(b, zv_store_watermark_set(S(b), source, key, value));
}

static int sq_seen(zv_sb *b, const char *source, const char *record_id, const char *hash)
{
    return (int)keep(b, zv_store_seen(S(b), source, record_id, hash));
}

/* One process owns the file: it reads every source it has. */
static int sq_source_lease(zv_sb *b, const char *source, int64_t now_ms, int64_t lease_ms,
                           char *holder, size_t holderlen)
{
    (void)source, (void)now_ms, (void)lease_ms;
    if (holder && holderlen) snprintf(holder, holderlen, "%s", b->node);
    return 1;
}

static int sq_source_release(zv_sb *b, const char *source)
{
    (void)b, (void)source;
    return 0;
}

static int sq_audit_append(zv_sb *b, const zv_audit_entry *e, int64_t *seq)
{
    zv_store *s = S(b);
    int own;
    if (zv_store_op_begin(s, &own) < 0) return (int)keep(b, -1);
    if (zv_store_audit_append_cited_locked(s, e->at, e->kind, e->destination, e->idem_key,
                                           e->message, e->fields, e->payload_sha256, e->detail,
                                           e->clients, e->citations) == 0 &&
        seq)
        *seq = zv_store_count_sql(s, "SELECT seq FROM audit_head WHERE id = 1", NULL, NULL);
    return (int)keep(b, zv_store_op_end(s, own));
}

static int sq_audit_each(zv_sb *b, zv_audit_cb cb, void *arg)
{
    return (int)keep(b, zv_store_audit_each(S(b), cb, arg));
}

static int sq_audit_verify(zv_sb *b, int64_t *count, int64_t *bad_seq, char *why, size_t whylen)
{
    return (int)keep(b, zv_store_audit_verify(S(b), count, bad_seq, why, whylen));
}

/* Staging, change detection and quarantine: the zv_store calls the core
 * made before the interface had them, on the same connection (so inside
 * the same unit or transaction). */
static int sq_stage(zv_sb *b, const char *destination, int message, const unsigned char *rec,
                    size_t len, int64_t item_id, const char *record_key)
{
    (void)record_key; /* the encoded record has it; nothing reads it beside the row here */
    return (int)keep(b, zv_store_stage_item(S(b), destination, message, rec, len, item_id));
}

static int sq_staged_after(zv_sb *b, const char *destination, int64_t after_id, size_t limit,
                           zv_staged_cb cb, void *arg)
{
    return (int)keep(b, zv_store_staged_after(S(b), destination, after_id, limit, cb, arg));
}

static int sq_staged_delete(zv_sb *b, int64_t id)
{
    return (int)keep(b, zv_store_staged_delete(S(b), id));
}

static int64_t sq_staged_count(zv_sb *b, const char *destination)
{
    return keep(b, zv_store_staged_count(S(b), destination));
}

static int sq_batch_peek(zv_sb *b, const char *destination, int64_t *seq)
{
    return (int)keep(b, zv_store_batch_peek(S(b), destination, seq));
}

static int sq_batch_set(zv_sb *b, const char *destination, int64_t seq)
{
    return (int)keep(b, zv_store_batch_set(S(b), destination, seq));
}

static int sq_sent_same(zv_sb *b, const char *destination, const char *key, const char *digest)
{
    return (int)keep(b, zv_store_sent_same(S(b), destination, key, digest));
}

static int sq_sent_put(zv_sb *b, const char *destination, const char *key, const char *digest,
                       const char *message, const unsigned char *rec, size_t len)
{
    return (int)keep(b, zv_store_sent_put(S(b), destination, key, digest, message, rec, len));
}

static int sq_sent_get(zv_sb *b, const char *destination, const char *key, char *message,
                       size_t msglen, unsigned char **rec, size_t *len)
{
    return (int)keep(b, zv_store_sent_get(S(b), destination, key, message, msglen, rec, len));
}

static int sq_quarantine_add(zv_sb *b, const zv_quarantine_entry *e, int64_t *id)
{
    return (int)keep(b, zv_store_quarantine_add(S(b), e, id));
}

static int sq_quarantine_like(zv_sb *b, const zv_quarantine_entry *e, int64_t except)
{
    return (int)keep(b, zv_store_quarantine_like(S(b), e, except));
}

static int sq_quarantine_query(zv_sb *b, const zv_quarantine_filter *f, zv_quarantine_cb cb,
                               void *arg)
{
    return (int)keep(b, zv_store_quarantine_query(S(b), f, cb, arg));
}

static int sq_quarantine_get(zv_sb *b, int64_t id, zv_quarantine_cb cb, void *arg)
{
    return (int)keep(b, zv_store_quarantine_get(S(b), id, cb, arg));
}

static int sq_quarantine_of_record(zv_sb *b, const char *source, const char *record_id,
                                   zv_quarantine_cb cb, void *arg)
{
    return (int)keep(b, zv_store_quarantine_of_record(S(b), source, record_id, cb, arg));
}

static int sq_quarantine_due(zv_sb *b, const char *today, zv_quarantine_cb cb, void *arg)
{
    return (int)keep(b, zv_store_quarantine_due(S(b), today, cb, arg));
}

static int64_t sq_quarantine_count(zv_sb *b, const char *state)
{
    return keep(b, state && strcmp(state, "waiting") == 0 ? zv_store_quarantine_waiting(S(b))
                                                          : zv_store_quarantine_count(S(b)));
}

static int sq_quarantine_add_reason(zv_sb *b, int64_t id, const char *field, const char *rule,
                                    const char *reason)
{
    return (int)keep(b, zv_store_quarantine_add_reason(S(b), id, field, rule, reason));
}

static int sq_quarantine_close(zv_sb *b, int64_t id, const char *outcome, const char *detail,
                               int64_t now)
{
    int r = zv_store_quarantine_close(S(b), id, outcome, detail, now);
    /* 1 (not open) says why in the store's message too. */
    if (r != 0) snprintf(b->err, sizeof(b->err), "%s", zv_store_errmsg(S(b)));
    return r;
}

static int sq_item_put(zv_sb *b, const char *source, const char *record_id, const char *item_json,
                       const char *mapping_version, int64_t *id)
{
    return (int)keep(b, zv_store_item_put(S(b), source, record_id, item_json, mapping_version, id));
}

static int sq_item_get(zv_sb *b, const char *source, const char *record_id, char **item_json,
                       char **mapping_version)
{
    return (int)keep(b, zv_store_item_get(S(b), source, record_id, item_json, mapping_version));
}

static int sq_item_release(zv_sb *b, int64_t id)
{
    return (int)keep(b, zv_store_item_release(S(b), id));
}

const zv_sb_ops zv_sb_sqlite_ops = {
    .close = sq_close,
    .schema_version = sq_schema_version,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .enqueue = sq_enqueue,
    .claim = sq_claim,
    .lease_renew = sq_lease_renew,
    .lease_expire = sq_lease_expire,
    .recover = sq_recover,
    .delivered = sq_delivered,
    .retry = sq_retry,
    .dead = sq_dead,
    .record_verdict = sq_record_verdict,
    .oldest_pending = sq_oldest_pending,
    .next_due = sq_next_due,
    .prune = sq_prune,
    .outbox_get = sq_outbox_get,
    .outbox_count = sq_outbox_count,
    .dlq_count = sq_dlq_count,
    .circuit_get = sq_circuit_get,
    .circuit_set = sq_circuit_set,
    .watermark_get = sq_watermark_get,
    .watermark_set = sq_watermark_set,
    .seen = sq_seen,
    .source_lease = sq_source_lease,
    .source_release = sq_source_release,
    .stage = sq_stage,
    .staged_after = sq_staged_after,
    .staged_delete = sq_staged_delete,
    .staged_count = sq_staged_count,
    .batch_peek = sq_batch_peek,
    .batch_set = sq_batch_set,
    .sent_same = sq_sent_same,
    .sent_put = sq_sent_put,
    .sent_get = sq_sent_get,
    .quarantine_add = sq_quarantine_add,
    .quarantine_like = sq_quarantine_like,
    .quarantine_query = sq_quarantine_query,
    .quarantine_get = sq_quarantine_get,
    .quarantine_of_record = sq_quarantine_of_record,
    .quarantine_due = sq_quarantine_due,
    .quarantine_count = sq_quarantine_count,
    .quarantine_add_reason = sq_quarantine_add_reason,
    .quarantine_close = sq_quarantine_close,
    .item_put = sq_item_put,
    .item_get = sq_item_get,
    .item_release = sq_item_release,
    .audit_append = sq_audit_append,
    .audit_each = sq_audit_each,
    .audit_verify = sq_audit_verify,
};
