/* The store interface's backends: one table of operations each (store_iface.h). */
#ifndef ZV_STORE_IFACE_INT_H
#define ZV_STORE_IFACE_INT_H

#include "store_iface.h"

typedef struct zv_sb_ops {
    void (*close)(zv_sb *b);
    int (*schema_version)(zv_sb *b);
    int (*begin)(zv_sb *b, const char *owner);
    int (*commit)(zv_sb *b);
    void (*rollback)(zv_sb *b);
    int (*enqueue)(zv_sb *b, const zv_outbox_new *o);
    /* cap 0: no limit for all nodes together */
    int (*claim)(zv_sb *b, const char *destination, int64_t now_ms, int64_t lease_ms, size_t limit,
                 int cap, zv_outbox_cb cb, void *arg);
    int64_t (*lease_renew)(zv_sb *b, const int64_t *ids, size_t n, int64_t now_ms,
                           int64_t lease_ms);
    int64_t (*lease_expire)(zv_sb *b, int64_t now_ms);
    int64_t (*recover)(zv_sb *b);
    int (*delivered)(zv_sb *b, int64_t id, int64_t now);
    /* NULL: delivered for each id in turn */
    int (*delivered_many)(zv_sb *b, const int64_t *ids, size_t n, int64_t now);
    int (*retry)(zv_sb *b, int64_t id, int64_t next_attempt_ms, const char *error);
    int (*dead)(zv_sb *b, int64_t id, const zv_dead_info *d, int64_t *dlq_id);
    int (*record_verdict)(zv_sb *b, int64_t outbox_id, int accepted, const zv_dead_info *d,
                          int64_t *dlq_id);
    int (*oldest_pending)(zv_sb *b, const char *destination, int64_t *first_enqueued);
    int (*next_due)(zv_sb *b, const char *destination, int64_t *when_ms);
    int64_t (*prune)(zv_sb *b, int64_t before, int limit);
    int (*outbox_get)(zv_sb *b, int64_t id, zv_outbox_cb cb, void *arg);
    int64_t (*outbox_count)(zv_sb *b, const char *destination, const char *state);
    int64_t (*dlq_count)(zv_sb *b, const char *destination);
    int (*circuit_get)(zv_sb *b, const char *destination, int64_t now_ms, int64_t *until_ms,
                       char *node, size_t nodelen);
    int (*circuit_set)(zv_sb *b, const char *destination, int64_t until_ms, const char *why);
    int (*watermark_get)(zv_sb *b, const char *source, const char *key, char *buf, size_t buflen);
    int (*watermark_set)(zv_sb *b, const char *source, const char *key, const char *value);
    int (*seen)(zv_sb *b, const char *source, const char *record_id, const char *hash);
    int (*source_lease)(zv_sb *b, const char *source, int64_t now_ms, int64_t lease_ms,
                        char *holder, size_t holderlen);
    int (*source_release)(zv_sb *b, const char *source);
    int (*stage)(zv_sb *b, const char *destination, int message, const unsigned char *rec,
                 size_t len, int64_t item_id, const char *record_key);
    int (*staged_after)(zv_sb *b, const char *destination, int64_t after_id, size_t limit,
                        zv_staged_cb cb, void *arg);
    int (*staged_delete)(zv_sb *b, int64_t id);
    int64_t (*staged_count)(zv_sb *b, const char *destination);
    int (*batch_peek)(zv_sb *b, const char *destination, int64_t *seq);
    int (*batch_set)(zv_sb *b, const char *destination, int64_t seq);
    int (*sent_same)(zv_sb *b, const char *destination, const char *key, const char *digest);
    int (*sent_put)(zv_sb *b, const char *destination, const char *key, const char *digest,
                    const char *message, const unsigned char *rec, size_t len);
    int (*sent_get)(zv_sb *b, const char *destination, const char *key, char *message,
                    size_t msglen, unsigned char **rec, size_t *len);
    int (*quarantine_add)(zv_sb *b, const zv_quarantine_entry *e, int64_t *id);
    int (*quarantine_like)(zv_sb *b, const zv_quarantine_entry *e, int64_t except);
    int (*quarantine_query)(zv_sb *b, const zv_quarantine_filter *f, zv_quarantine_cb cb,
                            void *arg);
    int (*quarantine_get)(zv_sb *b, int64_t id, zv_quarantine_cb cb, void *arg);
    int (*quarantine_of_record)(zv_sb *b, const char *source, const char *record_id,
                                zv_quarantine_cb cb, void *arg);
    int (*quarantine_due)(zv_sb *b, const char *today, zv_quarantine_cb cb, void *arg);
    int64_t (*quarantine_count)(zv_sb *b, const char *state);
    int (*quarantine_add_reason)(zv_sb *b, int64_t id, const char *field, const char *rule,
                                 const char *reason);
    int (*quarantine_close)(zv_sb *b, int64_t id, const char *outcome, const char *detail,
                            int64_t now);
    int (*item_put)(zv_sb *b, const char *source, const char *record_id, const char *item_json,
                    const char *mapping_version, int64_t *id);
    int (*item_get)(zv_sb *b, const char *source, const char *record_id, char **item_json,
                    char **mapping_version);
    int (*item_release)(zv_sb *b, int64_t id);
    int (*audit_append)(zv_sb *b, const zv_audit_entry *e, int64_t *seq);
    int (*audit_each)(zv_sb *b, zv_audit_cb cb, void *arg);
    int (*audit_verify)(zv_sb *b, int64_t *count, int64_t *bad_seq, char *why, size_t whylen);
} zv_sb_ops;

struct zv_sb {
    const zv_sb_ops *ops;
    zv_store_kind kind;
    char node[128];
    char err[512];
    void *impl; /* zv_store * or the PostgreSQL connection state */
    int own_impl;
};

/* The handle around impl, or NULL (out of memory). */
zv_sb *zv_sb_new(const zv_sb_ops *ops, zv_store_kind kind, void *impl, const char *node);
extern const zv_sb_ops zv_sb_sqlite_ops;

#ifdef ZV_HAVE_POSTGRESQL
/* pg/pg_store.c */
zv_sb *zv_pg_open(const zv_store_target *t, const char *node, char *err, size_t errlen);
#endif

#endif
