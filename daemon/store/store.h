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

zv_store *zv_store_open(const char *path, char *err, size_t errlen);
void zv_store_close(zv_store *s);
const char *zv_store_errmsg(zv_store *s);

/* Nested begin/commit pairs are counted; only the outermost one commits.
 * rollback undoes the whole outermost transaction. */
int zv_store_begin(zv_store *s);
int zv_store_commit(zv_store *s);
void zv_store_rollback(zv_store *s);

/* ---- sources ---- */
/* 0 found (value in buf), 1 absent, -1 error. */
int zv_store_watermark_get(zv_store *s, const char *source, const char *key, char *buf,
                           size_t buflen);
int zv_store_watermark_set(zv_store *s, const char *source, const char *key, const char *value);
/* 1 when (source, record_id, content hash) was seen before, 0 when it is new
 * (and is now remembered), -1 on error. */
int zv_store_seen(zv_store *s, const char *source, const char *record_id, const char *hash);

/* ---- quarantine ---- */
typedef struct zv_quarantine_entry {
    int64_t id;
    int64_t created;
    const char *source;
    const char *record_id;
    const char *stage;       /* "mapping", "minimiser", "rule", "schema" */
    const char *destination; /* NULL for mapping failures */
    const char *field;       /* model field or source path; may be NULL */
    const char *rule;        /* rule code (CS002, TR039, ...); may be NULL */
    const char *reason;      /* no BSN in clear */
    const char *item_json;   /* raw item (mapping) for retry; may be NULL */
    const unsigned char *record; /* encoded record (later stages); may be NULL */
    size_t record_len;
} zv_quarantine_entry;

int zv_store_quarantine_add(zv_store *s, const zv_quarantine_entry *e, int64_t *id);
typedef int (*zv_quarantine_cb)(const zv_quarantine_entry *e, void *arg);
/* Calls cb per entry, oldest first; cb returning non-zero stops. */
int zv_store_quarantine_each(zv_store *s, zv_quarantine_cb cb, void *arg);
int zv_store_quarantine_get(zv_store *s, int64_t id, zv_quarantine_cb cb, void *arg);
int zv_store_quarantine_delete(zv_store *s, int64_t id);
int64_t zv_store_quarantine_count(zv_store *s);

/* ---- staging ---- */
int zv_store_stage(zv_store *s, const char *destination, int message, const unsigned char *rec,
                   size_t len);
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
int zv_store_staged_delete(zv_store *s, int64_t id);
int64_t zv_store_staged_count(zv_store *s, const char *destination);
/* Next batch sequence number for a destination (1, 2, ...), durable. */
int zv_store_next_batch(zv_store *s, const char *destination, int64_t *seq);

/* ---- outbox ---- */
typedef struct zv_outbox_new {
    const char *destination;
    const char *message;      /* "AW35" */
    const char *idem_key;     /* unique per destination */
    const void *payload;
    size_t len;
    const char *content_type;
    const char *extension;
    const char *fields_json;  /* [{"field":"client.bsn","level":"standard"},...] */
    const char *records_json; /* [{"source":..,"record_id":..,"key":..},...] */
} zv_outbox_new;

/* 0 enqueued, 1 when the idempotency key was already there (not an error). */
int zv_store_enqueue(zv_store *s, const zv_outbox_new *o);
int64_t zv_store_outbox_count(zv_store *s, const char *destination, const char *state);

/* ---- counters: minimiser decisions and other per-destination tallies ---- */
int zv_store_count_add(zv_store *s, const char *destination, const char *field, const char *what,
                       int64_t n);
typedef int (*zv_count_cb)(const char *destination, const char *field, const char *what,
                           int64_t n, void *arg);
int zv_store_count_each(zv_store *s, zv_count_cb cb, void *arg);

#endif
