/*
 * Delivery engine: takes due payloads from the outbox and hands them to each
 * destination's transport, on the core's event loop.
 *
 * Per destination: a concurrency limit, a per-attempt timeout, exponential
 * backoff with jitter (Retry-After honoured), retries until the policy's
 * max_age (never a retry count), and a circuit breaker: after
 * circuit_failures consecutive failures nothing is sent for
 * circuit_cooldown_s, then a single probe decides.  Destinations never wait
 * for each other.  Outcomes of many sends are written to the store in one
 * transaction per loop turn.  Delivered payload bodies are pruned after the
 * retention period in small batches.
 */
#ifndef ZV_DELIVERY_H
#define ZV_DELIVERY_H

#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <zinvol/plugin.h>

#include "core/config.h"
#include "core/http_client.h"
#include "core/instance.h"
#include "store/store.h"
#include "store/store_iface.h"

typedef struct zv_delivery_engine zv_delivery_engine;

/* retention_s: delivered payload bodies older than this are discarded
 * (0: never). */
zv_delivery_engine *zv_delivery_new(struct event_base *base, zv_store *store, zv_http_client *http,
                                    int64_t retention_s);
/* The same on the store interface (either backend); sb is the caller's and
 * must outlive the engine.  On PostgreSQL the engine's claims carry a lease
 * of lease_ms (renewed while it runs, every lease_ms / 3), and it returns
 * the rows of nodes whose lease ran out to pending; lease_ms <= 0: 30 s. */
zv_delivery_engine *zv_delivery_new_sb(struct event_base *base, zv_sb *sb, zv_http_client *http,
                                       int64_t retention_s, int64_t lease_ms);
/* The policy is copied; the instances must outlive the engine.  format may
 * be NULL or have no interpret(). */
int zv_delivery_add(zv_delivery_engine *e, const char *destination, const zv_policy *policy,
                    zv_instance *transport, zv_instance *format);
/* Schedule due work for every destination (and the retention timer). */
void zv_delivery_start(zv_delivery_engine *e);
/* New outbox rows for destination (NULL: all). */
void zv_delivery_kick(zv_delivery_engine *e, const char *destination);
/* No new sends; sends in flight finish and are recorded. */
void zv_delivery_stop(zv_delivery_engine *e);
/* Sends in flight. */
int zv_delivery_busy(const zv_delivery_engine *e);
/* Time the engine spent on the loop (claiming, starting sends, recording outcomes). */
int64_t zv_delivery_busy_ns(const zv_delivery_engine *e);
/* Once mode: cb runs (from the loop) when nothing is in flight and no pending
 * payload can be tried within patience_s (its next attempt, or the open
 * circuit, lies further away).  Counts are logged. */
void zv_delivery_when_settled(zv_delivery_engine *e, int64_t patience_s, void (*cb)(void *arg),
                              void *arg);
void zv_delivery_free(zv_delivery_engine *e);
/* A gate before the engine's callbacks that write (its outcomes, its
 * claims): gate(arg, ev, 0) 1 means return now, ev (the callback's own
 * event) is made active again once the store can take the write without
 * the loop waiting (zv_store_when_ready); gate(arg, ev, 1) when ev is freed. */
struct event;
void zv_delivery_set_gate(zv_delivery_engine *e,
                          int (*gate)(void *arg, struct event *ev, int forget), void *arg);

typedef struct zv_delivery_metrics {
    int64_t sent;             /* attempts handed to the transport */
    int64_t delivered;        /* attempts that succeeded */
    int64_t retried;          /* attempts that failed temporarily */
    int64_t rejected;         /* payloads refused by the receiver (dead letter) */
    int64_t dead;             /* payloads moved to the dead letter (rejected or too old) */
    int64_t records_rejected; /* per-record rejections from interpret() */
    int64_t circuit_opened;
    int inflight;
    int circuit_open; /* 1 open, 2 half-open (probe), 0 closed */
} zv_delivery_metrics;
/* 0, or -1 when the destination is unknown. */
int zv_delivery_metrics_get(const zv_delivery_engine *e, const char *destination,
                            zv_delivery_metrics *m);

/* ---- verdicts: per-record results from a format's interpret() ---- */
typedef struct zv_verdict {
    char *record_key;
    int accepted;
    char *codes;
    char *reason;
} zv_verdict;

struct zv_verdict_out {
    zv_verdict *v;
    size_t n, cap;
};

void zv_verdict_out_init(zv_verdict_out *out);
void zv_verdict_out_free(zv_verdict_out *out);
/* Backs host->verdict. */
int zv_verdict_add(zv_verdict_out *out, const char *record_key, int accepted, const char *codes,
                   const char *reason);
/* Record verdicts against a delivered outbox row: rejected record keys go to
 * the dead letter with codes and reason (and the record's source reference
 * from records_json), accepted ones are marked accepted.  One transaction.
 * *rejected counts the rejections.  0 or -1 (zv_store_errmsg). */
int zv_delivery_apply_verdicts(zv_store *s, int64_t outbox_id, const char *records_json,
                               const zv_verdict_out *out, int http_status, int *rejected);
/* The same on either backend, inside the caller's transaction (the engine's). */
int zv_delivery_apply_verdicts_sb(zv_sb *b, int64_t outbox_id, const char *records_json,
                                  const zv_verdict_out *out, int http_status, int *rejected);

/* A retour message that came back as a file: the destination's format reads
 * it (interpret(), status 0); each verdict is matched to the newest payload
 * that carried its record key and recorded as above.  One line per verdict
 * goes to out.  0 all matched, 1 some record keys matched no payload (they
 * are named in out; the file should be kept), -1 failure (err). */
int zv_delivery_retour(zv_store *s, const char *destination, const zv_instance *fmt,
                       const char *body, size_t len, FILE *out, char *err, size_t errlen);
/* The same; *applied (may be NULL) receives how many verdicts were applied. */
int zv_delivery_retour_ex(zv_store *s, const char *destination, const zv_instance *fmt,
                          const char *body, size_t len, FILE *out, char *err, size_t errlen,
                          size_t *applied);

#endif
