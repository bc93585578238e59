/* Delivery engine internals shared by engine.c and engine_outcome.c. */
#ifndef ZV_ENGINE_INT_H
#define ZV_ENGINE_INT_H

#include "delivery.h"

typedef struct dest dest;
typedef struct zv_sending zv_sending;

enum { CIRCUIT_CLOSED = 0, CIRCUIT_OPEN = 1, CIRCUIT_HALF_OPEN = 2 };

struct dest {
    zv_delivery_engine *e;
    char *name;
    char component[96];
    zv_policy pol;
    zv_instance *tr, *fmt;
    struct event *timer; /* next due payload, or the end of the circuit's cooldown */
    int inflight;        /* slots taken */
    int consecutive_failures;
    int circuit;
    int64_t open_until_ms;
    zv_delivery_metrics m;
    dest *next;
};

/* One attempt: lives until its outcome is recorded AND the transport has
 * called back (a watchdog may record a timeout before that). */
struct zv_sending {
    zv_delivery_engine *e; /* NULL once the engine is gone */
    dest *d;
    int64_t id;
    char *idem_key, *message, *content_type, *extension, *records_json;
    unsigned char *payload;
    size_t len;
    int attempt;        /* this one, 1-based */
    int64_t started_ms; /* monotonic; for the duration histogram (admin/metrics) */
    int64_t first_enqueued;
    int probe;
    int called_back, queued, recorded;
    zv_sending *prev_out, *next_out; /* engine's list of sends awaiting the transport */
    struct event *watchdog;
    /* outcome */
    zv_send_status status;
    int http_status;
    char *detail;
    long retry_after_s;
    zv_verdict_out verdicts;
    int have_verdicts;
    /* postgresql: its "delivered" was written with the flush's others
     * (1 done, -1 failed); 0: record_ok writes it */
    int delivered_rc;
    zv_sending *next_done;
};

struct zv_delivery_engine {
    struct event_base *base;
    zv_sb *sb;              /* the outbox, on either backend */
    int own_sb;             /* made by zv_delivery_new around a zv_store: freed with the engine */
    int64_t lease_ms;       /* postgresql: how long a claim lasts without renewal */
    struct event *lease_ev; /* postgresql: renews ours, returns expired ones */
    zv_http_client *http;
    int64_t retention_s;
    dest *dests;
    struct event *flush_ev; /* outcomes are written in one transaction per loop turn */
    zv_sending *done_head, *done_tail;
    struct event *prune_ev;
    int started, stopped;
    int outstanding; /* sendings whose transport has not called back yet */
    zv_sending *out_head;
    void (*settled_cb)(void *arg);
    void *settled_arg;
    int64_t patience_s;
    struct event *settle_ev;
    int64_t busy_ns;
    /* Before a callback that writes (outcomes, claims): see
     * zv_delivery_set_gate. */
    int (*gate)(void *arg, struct event *ev, int forget);
    void *gate_arg;
};

void zv_engine_pump(dest *d);
void zv_engine_record(zv_delivery_engine *e, zv_sending *s); /* in a transaction */
void zv_engine_sending_free(zv_sending *s);
void zv_engine_check_settled(zv_delivery_engine *e);
/* Wall clock in milliseconds: next attempts are stored, so not monotonic. */
int64_t zv_engine_wall_ms(void);
int64_t zv_engine_mono_ns(void);
int64_t zv_engine_backoff_ms(const zv_policy *p, int attempt, long retry_after_s);

#endif
