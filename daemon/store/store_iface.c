/* The store interface: opening a backend and handing each call to it. */
#include "store_iface_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

zv_sb *zv_sb_new(const zv_sb_ops *ops, zv_store_kind kind, void *impl, const char *node)
{
    zv_sb *b = calloc(1, sizeof(*b));
    if (!b) return NULL;
    b->ops = ops;
    b->kind = kind;
    b->impl = impl;
    if (node && *node) {
        snprintf(b->node, sizeof(b->node), "%s", node);
    } else {
        char host[64] = "localhost";
        gethostname(host, sizeof(host) - 1);
        snprintf(b->node, sizeof(b->node), "%s:%ld", host, (long)getpid());
    }
    return b;
}

int zv_store_have_postgresql(void)
{
#ifdef ZV_HAVE_POSTGRESQL
    return 1;
#else
    return 0;
#endif
}

zv_sb *zv_sb_open(const zv_store_target *t, const char *node, char *err, size_t errlen)
{
    if (t->kind == ZV_STORE_POSTGRESQL) {
#ifdef ZV_HAVE_POSTGRESQL
        return zv_pg_open(t, node, err, errlen);
#else
        snprintf(err, errlen, "this zinvol is built without the PostgreSQL store (libpq-dev)");
        return NULL;
#endif
    }
    zv_store *s = zv_store_open(t->path, err, errlen);
    if (!s) return NULL;
    zv_sb *b = zv_sb_wrap(s, node);
    if (!b) {
        zv_store_close(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->own_impl = 1;
    return b;
}

zv_sb *zv_sb_wrap(zv_store *s, const char *node)
{
    return zv_sb_new(&zv_sb_sqlite_ops, ZV_STORE_SQLITE, s, node);
}

void zv_sb_close(zv_sb *b)
{
    if (!b) return;
    if (b->own_impl || b->kind != ZV_STORE_SQLITE) b->ops->close(b);
    free(b);
}

const char *zv_sb_errmsg(const zv_sb *b)
{
    return b ? b->err : "no store";
}

zv_store_kind zv_sb_kind(const zv_sb *b)
{
    return b->kind;
}

const char *zv_sb_node(const zv_sb *b)
{
    return b->node;
}

int zv_sb_schema_version(zv_sb *b)
{
    return b->ops->schema_version(b);
}

int zv_sb_begin(zv_sb *b)
{
    return b->ops->begin(b, "store interface");
}

int zv_sb_begin_as(zv_sb *b, const char *owner)
{
    return b->ops->begin(b, owner);
}

int zv_sb_commit(zv_sb *b)
{
    return b->ops->commit(b);
}

void zv_sb_rollback(zv_sb *b)
{
    b->ops->rollback(b);
}

int zv_sb_enqueue(zv_sb *b, const zv_outbox_new *o)
{
    return b->ops->enqueue(b, o);
}

int zv_sb_claim(zv_sb *b, const char *destination, int64_t now_ms, int64_t lease_ms, size_t limit,
                zv_outbox_cb cb, void *arg)
{
    return b->ops->claim(b, destination, now_ms, lease_ms, limit, 0, cb, arg);
}

int zv_sb_claim_capped(zv_sb *b, const char *destination, int64_t now_ms, int64_t lease_ms,
                       size_t limit, int cap, zv_outbox_cb cb, void *arg)
{
    return b->ops->claim(b, destination, now_ms, lease_ms, limit, cap > 0 ? cap : 0, cb, arg);
}

int64_t zv_sb_lease_renew(zv_sb *b, const int64_t *ids, size_t n, int64_t now_ms, int64_t lease_ms)
{
    if (n == 0) return 0;
    return b->ops->lease_renew(b, ids, n, now_ms, lease_ms);
}

int64_t zv_sb_lease_expire(zv_sb *b, int64_t now_ms)
{
    return b->ops->lease_expire(b, now_ms);
}

int64_t zv_sb_recover(zv_sb *b)
{
    return b->ops->recover(b);
}

int zv_sb_delivered(zv_sb *b, int64_t id, int64_t now)
{
    return b->ops->delivered(b, id, now);
}

int zv_sb_delivered_many(zv_sb *b, const int64_t *ids, size_t n, int64_t now)
{
    if (n == 0) return 0;
    if (b->ops->delivered_many) return b->ops->delivered_many(b, ids, n, now);
    for (size_t i = 0; i < n; i++)
        if (b->ops->delivered(b, ids[i], now) < 0) return -1;
    return 0;
}

int zv_sb_retry(zv_sb *b, int64_t id, int64_t next_attempt_ms, const char *error)
{
    return b->ops->retry(b, id, next_attempt_ms, error);
}

int zv_sb_dead(zv_sb *b, int64_t id, const zv_dead_info *d, int64_t *dlq_id)
{
    return b->ops->dead(b, id, d, dlq_id);
}

int zv_sb_record_verdict(zv_sb *b, int64_t outbox_id, int accepted, const zv_dead_info *d,
                         int64_t *dlq_id)
{
    return b->ops->record_verdict(b, outbox_id, accepted, d, dlq_id);
}

int zv_sb_oldest_pending(zv_sb *b, const char *destination, int64_t *first_enqueued)
{
    return b->ops->oldest_pending(b, destination, first_enqueued);
}

int zv_sb_next_due(zv_sb *b, const char *destination, int64_t *when_ms)
{
    return b->ops->next_due(b, destination, when_ms);
}

int64_t zv_sb_prune(zv_sb *b, int64_t before, int limit)
{
    return b->ops->prune(b, before, limit);
}

int zv_sb_outbox_get(zv_sb *b, int64_t id, zv_outbox_cb cb, void *arg)
{
    return b->ops->outbox_get(b, id, cb, arg);
}

int64_t zv_sb_outbox_count(zv_sb *b, const char *destination, const char *state)
{
    return b->ops->outbox_count(b, destination, state);
}

int64_t zv_sb_dlq_count(zv_sb *b, const char *destination)
{
    return b->ops->dlq_count(b, destination);
}

int zv_sb_circuit_get(zv_sb *b, const char *destination, int64_t now_ms, int64_t *until_ms,
                      char *node, size_t nodelen)
{
    return b->ops->circuit_get(b, destination, now_ms, until_ms, node, nodelen);
}

int zv_sb_circuit_set(zv_sb *b, const char *destination, int64_t until_ms, const char *why)
{
    return b->ops->circuit_set(b, destination, until_ms, why);
}

int zv_sb_watermark_get(zv_sb *b, const char *source, const char *key, char *buf, size_t buflen)
{
    return b->ops->watermark_get(b, source, key, buf, buflen);
}

int zv_sb_watermark_set(zv_sb *b, const char *source, const char *key, const char *value)
{
    return b->ops->watermark_set(b, source, key, value);
}

int zv_sb_seen(zv_sb *b, const char *source, const char *record_id, const char *hash)
{
    return b->ops->seen(b, source, record_id, hash);
}

int zv_sb_source_lease(zv_sb *b, const char *source, int64_t now_ms, int64_t lease_ms, char *holder,
                       size_t holderlen)
{
    return b->ops->source_lease(b, source, now_ms, lease_ms, holder, holderlen);
}

int zv_sb_source_release(zv_sb *b, const char *source)
{
    return b->ops->source_release(b, source);
}

int zv_sb_stage(zv_sb *b, const char *destination, int message, const unsigned char *rec,
                size_t len, int64_t item_id, const char *record_key)
{
    return b->ops->stage(b, destination, message, rec, len, item_id, record_key);
}

int zv_sb_staged_after(zv_sb *b, const char *destination, int64_t after_id, size_t limit,
                       zv_staged_cb cb, void *arg)
{
    return b->ops->staged_after(b, destination, after_id, limit, cb, arg);
}

int zv_sb_staged_delete(zv_sb *b, int64_t id)
{
    return b->ops->staged_delete(b, id);
}

int64_t zv_sb_staged_count(zv_sb *b, const char *destination)
{
    return b->ops->staged_count(b, destination);
}

int zv_sb_batch_peek(zv_sb *b, const char *destination, int64_t *seq)
{
    return b->ops->batch_peek(b, destination, seq);
}

int zv_sb_batch_set(zv_sb *b, const char *destination, int64_t seq)
{
    return b->ops->batch_set(b, destination, seq);
}

int zv_sb_sent_same(zv_sb *b, const char *destination, const char *key, const char *digest)
{
    return b->ops->sent_same(b, destination, key, digest);
}

int zv_sb_sent_put(zv_sb *b, const char *destination, const char *key, const char *digest,
                   const char *message, const unsigned char *rec, size_t len)
{
    return b->ops->sent_put(b, destination, key, digest, message, rec, len);
}

int zv_sb_sent_get(zv_sb *b, const char *destination, const char *key, char *message, size_t msglen,
                   unsigned char **rec, size_t *len)
{
    return b->ops->sent_get(b, destination, key, message, msglen, rec, len);
}

int zv_sb_quarantine_add(zv_sb *b, const zv_quarantine_entry *e, int64_t *id)
{
    return b->ops->quarantine_add(b, e, id);
}

int zv_sb_quarantine_like(zv_sb *b, const zv_quarantine_entry *e, int64_t except)
{
    return b->ops->quarantine_like(b, e, except);
}

int zv_sb_quarantine_query(zv_sb *b, const zv_quarantine_filter *f, zv_quarantine_cb cb, void *arg)
{
    return b->ops->quarantine_query(b, f, cb, arg);
}

int zv_sb_quarantine_get(zv_sb *b, int64_t id, zv_quarantine_cb cb, void *arg)
{
    return b->ops->quarantine_get(b, id, cb, arg);
}

int zv_sb_quarantine_of_record(zv_sb *b, const char *source, const char *record_id,
                               zv_quarantine_cb cb, void *arg)
{
    return b->ops->quarantine_of_record(b, source, record_id, cb, arg);
}

int zv_sb_quarantine_due(zv_sb *b, const char *today, zv_quarantine_cb cb, void *arg)
{
    return b->ops->quarantine_due(b, today, cb, arg);
}

int64_t zv_sb_quarantine_count(zv_sb *b, const char *state)
{
    return b->ops->quarantine_count(b, state);
}

int zv_sb_quarantine_add_reason(zv_sb *b, int64_t id, const char *field, const char *rule,
                                const char *reason)
{
    return b->ops->quarantine_add_reason(b, id, field, rule, reason);
}

int zv_sb_quarantine_close(zv_sb *b, int64_t id, const char *outcome, const char *detail,
                           int64_t now)
{
    return b->ops->quarantine_close(b, id, outcome, detail, now);
}

int zv_sb_item_put(zv_sb *b, const char *source, const char *record_id, const char *item_json,
                   const char *mapping_version, int64_t *id)
{
    return b->ops->item_put(b, source, record_id, item_json, mapping_version, id);
}

int zv_sb_item_get(zv_sb *b, const char *source, const char *record_id, char **item_json,
                   char **mapping_version)
{
    return b->ops->item_get(b, source, record_id, item_json, mapping_version);
}

int zv_sb_item_release(zv_sb *b, int64_t id)
{
    return b->ops->item_release(b, id);
}

int zv_sb_audit_append(zv_sb *b, const zv_audit_entry *e, int64_t *seq)
{
    return b->ops->audit_append(b, e, seq);
}

int zv_sb_audit_each(zv_sb *b, zv_audit_cb cb, void *arg)
{
    return b->ops->audit_each(b, cb, arg);
}

int zv_sb_audit_verify(zv_sb *b, int64_t *count, int64_t *bad_seq, char *why, size_t whylen)
{
    return b->ops->audit_verify(b, count, bad_seq, why, whylen);
}
