/* Delivery engine: scheduling, sending, and writing outcomes in batches. */
#include "engine_int.h"

#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

#include "core/abi_check.h"
#include "core/log.h"

#define PRUNE_BATCH 500
#define POLL_MS 30000
#define DEFAULT_LEASE_MS 30000
/* Outcomes recorded per turn of the loop (each an outbox update and an
 * audit entry): a burst of answers is recorded in slices, so the loop
 * serves /healthz and webhooks between them (issue 9). */
#define FLUSH_MAX 16
#define FLUSH_BUDGET_NS (10 * 1000000)
/* postgresql: a flush costs its round trips (five, however many outcomes,
 * see delivered_together) more than its rows, so more of them at once. */
#define FLUSH_MAX_PG 64
#define SHARED_RETRY_MS 50

static void flush_cb(evutil_socket_t fd, short what, void *arg);
static void prune_cb(evutil_socket_t fd, short what, void *arg);
static void settle_cb(evutil_socket_t fd, short what, void *arg);
static void lease_cb(evutil_socket_t fd, short what, void *arg);

zv_delivery_engine *zv_delivery_new_sb(struct event_base *base, zv_sb *sb, zv_http_client *http,
                                       int64_t retention_s, int64_t lease_ms)
{
    zv_delivery_engine *e = calloc(1, sizeof(*e));
    if (!e) return NULL;
    e->base = base;
    e->sb = sb;
    e->http = http;
    e->retention_s = retention_s;
    e->lease_ms = lease_ms > 0 ? lease_ms : DEFAULT_LEASE_MS;
    e->flush_ev = event_new(base, -1, 0, flush_cb, e);
    e->prune_ev = evtimer_new(base, prune_cb, e);
    e->settle_ev = evtimer_new(base, settle_cb, e);
    /* One process on an SQLite file: no one else could take a row over. */
    if (zv_sb_kind(sb) == ZV_STORE_POSTGRESQL) e->lease_ev = evtimer_new(base, lease_cb, e);
    if (!e->flush_ev || !e->prune_ev || !e->settle_ev ||
        (zv_sb_kind(sb) == ZV_STORE_POSTGRESQL && !e->lease_ev)) {
        zv_delivery_free(e);
        return NULL;
    }
    return e;
}

zv_delivery_engine *zv_delivery_new(struct event_base *base, zv_store *store, zv_http_client *http,
                                    int64_t retention_s)
{
    zv_sb *sb = zv_sb_wrap(store, NULL);
    zv_delivery_engine *e = sb ? zv_delivery_new_sb(base, sb, http, retention_s, 0) : NULL;
    if (!e) {
        zv_sb_close(sb);
        return NULL;
    }
    e->own_sb = 1;
    return e;
}

/* postgresql: our claims are renewed well before they run out (a send may
 * take the whole policy timeout), and rows of nodes that died go back to
 * pending for anyone, with the same idempotency key and bytes. */
static void renew(zv_delivery_engine *e, int64_t now)
{
    /* Only the rows a live sending stands for: one whose send is under way,
     * or whose outcome waits for its commit.  A row whose outcome was
     * recorded is not ours any more, even if that commit failed: its lease
     * runs out and it is pending again, same key and bytes. */
    size_t n = 0, cap = 0;
    for (zv_sending *s = e->out_head; s; s = s->next_out)
        cap++;
    for (zv_sending *s = e->done_head; s; s = s->next_done)
        cap++;
    int64_t *ids = cap ? malloc(cap * sizeof(*ids)) : NULL;
    if (cap && !ids) {
        zv_log(ZV_LOG_ERROR, "delivery", "cannot renew the claims' lease: out of memory");
        return;
    }
    for (zv_sending *s = e->out_head; s; s = s->next_out)
        if (!s->recorded && !s->queued) ids[n++] = s->id;
    for (zv_sending *s = e->done_head; s; s = s->next_done)
        ids[n++] = s->id;
    if (zv_sb_lease_renew(e->sb, ids, n, now, e->lease_ms) < 0)
        zv_log(ZV_LOG_ERROR, "delivery", "cannot renew the claims' lease: %s", zv_sb_errmsg(e->sb));
    free(ids);
}

static void lease_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zv_delivery_engine *e = arg;
    int64_t now = zv_engine_wall_ms();
    renew(e, now);
    int64_t back = zv_sb_lease_expire(e->sb, now);
    if (back < 0)
        zv_log(ZV_LOG_ERROR, "delivery", "cannot return expired claims: %s", zv_sb_errmsg(e->sb));
    else if (back > 0) {
        zv_log(ZV_LOG_NOTICE, "delivery",
               "%lld payloads claimed by a node whose lease ran out are pending again (same "
               "idempotency keys)",
               (long long)back);
        for (dest *d = e->dests; d; d = d->next)
            zv_engine_pump(d);
    }
    int64_t ms = e->lease_ms / 3;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(e->lease_ev, &tv);
}

static void dest_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    dest *d = arg;
    if (d->e->gate && d->e->gate(d->e->gate_arg, d->timer, 0)) return;
    zv_engine_pump(d);
}

void zv_delivery_set_gate(zv_delivery_engine *e,
                          int (*gate)(void *arg, struct event *ev, int forget), void *arg)
{
    e->gate = gate;
    e->gate_arg = arg;
}

int zv_delivery_add(zv_delivery_engine *e, const char *destination, const zv_policy *policy,
                    zv_instance *transport, zv_instance *format)
{
    if (!transport || !transport->desc || !transport->desc->transport) return -1;
    dest *d = calloc(1, sizeof(*d));
    if (!d) return -1;
    d->e = e;
    d->name = strdup(destination);
    d->pol = *policy;
    d->pol.schedule = NULL; /* not owned; not needed here */
    if (d->pol.concurrency < 1) d->pol.concurrency = 1;
    if (d->pol.backoff_initial_ms < 1) d->pol.backoff_initial_ms = 1000;
    if (d->pol.backoff_max_ms < d->pol.backoff_initial_ms)
        d->pol.backoff_max_ms = d->pol.backoff_initial_ms;
    if (d->pol.circuit_failures < 1) d->pol.circuit_failures = 5;
    if (d->pol.max_age_s < 1) d->pol.max_age_s = 7 * 86400;
    d->tr = transport;
    d->fmt = format;
    snprintf(d->component, sizeof(d->component), "delivery/%s", destination);
    d->timer = evtimer_new(e->base, dest_timer_cb, d);
    if (!d->name || !d->timer) {
        if (d->timer) event_free(d->timer);
        free(d->name);
        free(d);
        return -1;
    }
    d->next = e->dests;
    e->dests = d;
    return 0;
}

static dest *find_dest(const zv_delivery_engine *e, const char *name)
{
    for (dest *d = e->dests; d; d = d->next)
        if (strcmp(d->name, name) == 0) return d;
    return NULL;
}

void zv_delivery_start(zv_delivery_engine *e)
{
    e->started = 1;
    e->stopped = 0;
    /* Once per process: a reload starts a second engine while the first
     * still has rows in flight, and those are not orphans. */
    static int recovered;
    int64_t rec = 0;
    if (!recovered) {
        rec = zv_sb_recover(e->sb);
        if (rec < 0)
            zv_log(ZV_LOG_ERROR, "delivery", "cannot recover in-flight payloads: %s",
                   zv_sb_errmsg(e->sb));
        else
            recovered = 1;
    }
    if (rec > 0)
        zv_log(ZV_LOG_NOTICE, "delivery",
               "%lld payloads were in flight when the daemon last stopped; sending them again "
               "with the same idempotency keys",
               (long long)rec);
    if (e->lease_ev) lease_cb(-1, 0, e); /* rows of nodes gone before we came */
    for (dest *d = e->dests; d; d = d->next)
        zv_engine_pump(d);
    if (e->retention_s > 0) {
        struct timeval tv = {1, 0};
        evtimer_add(e->prune_ev, &tv);
    }
}

void zv_delivery_kick(zv_delivery_engine *e, const char *destination)
{
    if (!e || !e->started) return;
    for (dest *d = e->dests; d; d = d->next)
        if (!destination || strcmp(d->name, destination) == 0) zv_engine_pump(d);
}

void zv_delivery_stop(zv_delivery_engine *e)
{
    e->stopped = 1;
    for (dest *d = e->dests; d; d = d->next)
        evtimer_del(d->timer);
    evtimer_del(e->prune_ev);
    /* The lease timer goes on: sends in flight finish under our lease. */
}

int zv_delivery_busy(const zv_delivery_engine *e)
{
    int n = e->outstanding;
    for (zv_sending *s = e->done_head; s; s = s->next_done)
        n++;
    return n;
}

int64_t zv_delivery_busy_ns(const zv_delivery_engine *e)
{
    return e->busy_ns;
}

int zv_delivery_metrics_get(const zv_delivery_engine *e, const char *destination,
                            zv_delivery_metrics *m)
{
    const dest *d = find_dest(e, destination);
    if (!d) return -1;
    *m = d->m;
    m->inflight = d->inflight;
    m->circuit_open = d->circuit;
    return 0;
}

void zv_engine_sending_free(zv_sending *s)
{
    if (s->watchdog) event_free(s->watchdog);
    free(s->idem_key);
    free(s->message);
    free(s->content_type);
    free(s->extension);
    free(s->records_json);
    free(s->payload);
    free(s->detail);
    zv_verdict_out_free(&s->verdicts);
    free(s);
}

static void queue_outcome(zv_sending *s)
{
    zv_delivery_engine *e = s->e;
    s->queued = 1;
    s->next_done = NULL;
    if (e->done_tail)
        e->done_tail->next_done = s;
    else
        e->done_head = s;
    e->done_tail = s;
    event_active(e->flush_ev, 0, 0);
}

/* The receiver's answer is only valid now, so the format reads it here. */
static void interpret_answer(zv_sending *s, const zv_send_result *r)
{
    dest *d = s->d;
    if (!d->fmt || !d->fmt->desc || !d->fmt->desc->format || !d->fmt->desc->format->interpret)
        return;
    zv_answer a = {ZV_SIZED(zv_answer),
                   .status = r->http_status,
                   .content_type = r->answer_type,
                   .body = r->answer ? r->answer : "",
                   .len = r->answer ? r->answer_len : 0,
                   .payload = (const char *)s->payload,
                   .payload_len = s->len};
    if (d->fmt->desc->format->interpret(d->fmt->state, &a, &s->verdicts) < 0)
        zv_log(ZV_LOG_WARN, d->component,
               "payload %s: the format could not read the receiver's answer; delivered, "
               "without per-record verdicts",
               s->idem_key);
    else
        s->have_verdicts = s->verdicts.n > 0;
}

static void out_unlink(zv_sending *s)
{
    if (s->prev_out)
        s->prev_out->next_out = s->next_out;
    else if (s->e && s->e->out_head == s)
        s->e->out_head = s->next_out;
    if (s->next_out) s->next_out->prev_out = s->prev_out;
    s->prev_out = s->next_out = NULL;
}

static void on_sent(const zv_send_result *r, void *arg)
{
    zv_sending *s = arg;
    s->called_back = 1;
    if (!s->e) { /* engine freed while the transport was busy */
        zv_engine_sending_free(s);
        return;
    }
    out_unlink(s);
    s->e->outstanding--;
    if (s->queued) { /* the watchdog gave up on this attempt already */
        if (s->recorded) zv_engine_sending_free(s);
        return;
    }
    char why[160];
    if (zv_abi_send_result_problem(r, why, sizeof(why))) {
        /* Nothing in it can be trusted: try again, and say why. */
        s->status = ZV_SEND_RETRY;
        s->detail = zv_strdup0(why);
        s->retry_after_s = -1;
        queue_outcome(s);
        return;
    }
    s->status = r->status;
    s->http_status = r->http_status;
    s->detail = zv_strdup0(r->detail);
    s->retry_after_s = r->retry_after_s;
    if (r->status == ZV_SEND_OK) interpret_answer(s, r);
    queue_outcome(s);
}

static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zv_sending *s = arg;
    event_free(s->watchdog);
    s->watchdog = NULL;
    if (s->queued) return;
    s->status = ZV_SEND_RETRY;
    s->detail = strdup("no answer within the policy's timeout");
    s->retry_after_s = -1;
    queue_outcome(s);
}

static void start_send(dest *d, zv_sending *s)
{
    zv_delivery_engine *e = d->e;
    zv_delivery dl = {
        ZV_SIZED(zv_delivery),     .destination = d->name, .idem_key = s->idem_key,
        .payload = s->payload,     .len = s->len,          .content_type = s->content_type,
        .extension = s->extension, .attempt = s->attempt};
    d->inflight++;
    d->m.sent++;
    s->started_ms = zv_now_ms();
    e->outstanding++;
    s->next_out = e->out_head;
    if (e->out_head) e->out_head->prev_out = s;
    e->out_head = s;
    if (d->pol.timeout_ms > 0) {
        /* The transport has its own timeout; this one guards against a
         * transport that never answers.  A second of grace lets the
         * transport's own (more precise) error win. */
        s->watchdog = evtimer_new(e->base, watchdog_cb, s);
        int64_t ms = d->pol.timeout_ms + 1000;
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        if (s->watchdog) evtimer_add(s->watchdog, &tv);
    }
    if (d->tr->desc->transport->send(d->tr->state, &dl, on_sent, s) < 0) {
        out_unlink(s);
        e->outstanding--;
        s->called_back = 1;
        s->status = ZV_SEND_RETRY;
        s->detail = strdup("the transport could not start the send");
        s->retry_after_s = -1;
        queue_outcome(s);
    }
}

struct claim_ctx {
    dest *d;
    zv_sending *list[64];
    int n;
};

static int on_claim(const zv_outbox_row *r, void *arg)
{
    struct claim_ctx *c = arg;
    zv_sending *s = calloc(1, sizeof(*s));
    if (!s) return 1;
    s->e = c->d->e;
    s->d = c->d;
    s->id = r->id;
    s->idem_key = strdup(r->idem_key);
    s->message = zv_strdup0(r->message);
    s->content_type = zv_strdup0(r->content_type);
    s->extension = zv_strdup0(r->extension);
    s->records_json = zv_strdup0(r->records_json);
    s->len = r->len;
    s->payload = malloc(r->len ? r->len : 1);
    if (s->payload && r->len) memcpy(s->payload, r->payload, r->len);
    s->attempt = r->attempts + 1;
    s->first_enqueued = r->first_enqueued;
    s->retry_after_s = -1;
    c->list[c->n++] = s;
    return c->n == (int)(sizeof(c->list) / sizeof(c->list[0]));
}

static void arm_ms(struct event *ev, int64_t ms)
{
    if (ms < 0) ms = 0;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(ev, &tv);
}

/* Fill this destination's free slots with due payloads; arm its timer for
 * the next one.  Never waits for another destination. */
static void pump(dest *d);

void zv_engine_pump(dest *d)
{
    int64_t t0 = zv_engine_mono_ns();
    pump(d);
    d->e->busy_ns += zv_engine_mono_ns() - t0;
}

/* Another node on a shared store may have opened it (SQLite: never).  1
 * when it has: d's circuit is open now, until the other node said. */
static int shared_circuit(dest *d, int64_t now)
{
    int64_t until;
    char by[128];
    if (d->circuit == CIRCUIT_OPEN ||
        zv_sb_circuit_get(d->e->sb, d->name, now, &until, by, sizeof(by)) != 1)
        return 0;
    d->circuit = CIRCUIT_OPEN;
    d->open_until_ms = until;
    zv_log(ZV_LOG_WARN, d->component,
           "circuit open: node %s opened it for all nodes; no sends for %llds, then one probe", by,
           (long long)((until - now) / 1000));
    return 1;
}

static void pump(dest *d)
{
    zv_delivery_engine *e = d->e;
    if (e->stopped || !e->started) return;
    int64_t now = zv_engine_wall_ms();
    if (d->circuit == CIRCUIT_OPEN) {
        if (now < d->open_until_ms) {
            arm_ms(d->timer, d->open_until_ms - now);
            return;
        }
        d->circuit = CIRCUIT_HALF_OPEN;
        zv_log(ZV_LOG_NOTICE, d->component, "circuit half-open: sending one probe");
    }
    int slots =
        d->circuit == CIRCUIT_HALF_OPEN ? (d->inflight ? 0 : 1) : d->pol.concurrency - d->inflight;
    if (slots <= 0) return;
    /* No more than one claim_ctx holds (the rest next turn). */
    int room = (int)(sizeof(((struct claim_ctx *)0)->list) / sizeof(zv_sending *));
    if (slots > room) slots = room;
    struct claim_ctx c = {.d = d};
    /* concurrency holds for all nodes on a shared store together. */
    int n =
        zv_sb_claim_capped(e->sb, d->name, now, e->lease_ms, (size_t)slots,
                           d->circuit == CIRCUIT_HALF_OPEN ? 1 : d->pol.concurrency, on_claim, &c);
    if (n < 0)
        zv_log(ZV_LOG_ERROR, d->component, "cannot read the outbox: %s", zv_sb_errmsg(e->sb));
    for (int i = 0; i < c.n; i++) {
        zv_sending *s = c.list[i];
        s->probe = d->circuit == CIRCUIT_HALF_OPEN;
        if (!s->idem_key || !s->payload) {
            /* Out of memory: leave the row inflight; it is recovered at the next start. */
            s->e = NULL;
            zv_engine_sending_free(s);
            continue;
        }
        if (zv_now() - s->first_enqueued > d->pol.max_age_s) {
            d->inflight++;
            s->called_back = 1;
            s->status = ZV_SEND_RETRY;
            s->detail = strdup("older than max_age before it could be sent");
            queue_outcome(s);
            continue;
        }
        start_send(d, s);
    }
    if (c.n < slots) { /* closed, or half-open with nothing due for the probe yet */
        /* A claim takes nothing while the shared circuit is open: ask why
         * only now, not before every claim. */
        if (shared_circuit(d, now)) {
            arm_ms(d->timer, d->open_until_ms - now);
            return;
        }
        /* Look again at the next due payload, and at least every POLL_MS:
         * zinvolctl dlq retry adds due rows from another process. */
        int64_t due, wait = POLL_MS;
        if (zv_sb_next_due(e->sb, d->name, &due) == 0 && due - now < wait) wait = due - now;
        /* Due rows left on a shared store: other nodes hold the
         * destination's concurrency (or were claiming them just now); look
         * again soon, without spinning. */
        if (wait < SHARED_RETRY_MS && zv_sb_kind(e->sb) == ZV_STORE_POSTGRESQL)
            wait = SHARED_RETRY_MS;
        arm_ms(d->timer, wait);
    }
}

/* postgresql: the flush's successful sends are marked delivered in one
 * statement before the other outcomes are recorded (one round trip instead
 * of one each; on a busy machine every round trip waits for the server's
 * turn on a core).  SQLite keeps its order, one row at a time. */
static void delivered_together(zv_delivery_engine *e, zv_sending *list)
{
    if (zv_sb_kind(e->sb) != ZV_STORE_POSTGRESQL) return;
    int64_t ids[FLUSH_MAX_PG];
    size_t n = 0;
    for (zv_sending *s = list; s && n < FLUSH_MAX_PG; s = s->next_done)
        if (s->status == ZV_SEND_OK) ids[n++] = s->id;
    if (n == 0) return;
    int rc = zv_sb_delivered_many(e->sb, ids, n, zv_now()) < 0 ? -1 : 1;
    for (zv_sending *s = list; s; s = s->next_done)
        if (s->status == ZV_SEND_OK) s->delivered_rc = rc;
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zv_delivery_engine *e = arg;
    zv_sending *list = e->done_head;
    if (!list) return;
    if (e->gate && e->gate(e->gate_arg, e->flush_ev, 0)) return;
    int64_t t0 = zv_engine_mono_ns();
    /* The outcomes are one unit of their own: never joined to a
     * transaction someone else left open (it could be rolled back after we
     * reported success).  When the store refuses, they wait for a retry. */
    if (zv_sb_begin_as(e->sb, "delivery") < 0) {
        zv_log(ZV_LOG_ERROR, "delivery", "cannot record outcomes now, retrying in 1 s: %s",
               zv_sb_errmsg(e->sb));
        struct timeval tv = {1, 0};
        event_add(e->flush_ev, &tv);
        return;
    }
    /* At most FLUSH_MAX of them now, and none begun after FLUSH_BUDGET_NS
     * (a payload of thousands of clients takes milliseconds to record: its
     * digest, and an index row per client); the rest in the next turn.
     * postgresql: up to FLUSH_MAX_PG, the slice chosen first, its
     * deliveries written in one statement (delivered_together), then all of
     * it recorded. */
    zv_sending *last = list;
    if (zv_sb_kind(e->sb) == ZV_STORE_POSTGRESQL) {
        for (int n = 1; n < FLUSH_MAX_PG && last->next_done; n++)
            last = last->next_done;
        e->done_head = last->next_done;
        last->next_done = NULL;
        delivered_together(e, list);
        for (zv_sending *s = list; s; s = s->next_done)
            zv_engine_record(e, s);
    } else {
        zv_engine_record(e, last);
        for (int n = 1; n < FLUSH_MAX && last->next_done; n++) {
            if (zv_engine_mono_ns() - t0 >= FLUSH_BUDGET_NS) break;
            last = last->next_done;
            zv_engine_record(e, last);
        }
        e->done_head = last->next_done;
        last->next_done = NULL;
    }
    if (!e->done_head) e->done_tail = NULL;
    if (zv_sb_commit(e->sb) < 0)
        zv_log(ZV_LOG_ERROR, "delivery",
               "cannot record outcomes (the payloads are sent again after a restart): %s",
               zv_sb_errmsg(e->sb));
    while (list) {
        zv_sending *s = list;
        list = s->next_done;
        s->d->inflight--;
        s->recorded = 1;
        if (s->called_back) zv_engine_sending_free(s);
        /* else on_sent frees it when the transport answers late */
    }
    e->busy_ns += zv_engine_mono_ns() - t0;
    /* The next slice after the loop has polled its sockets (made active it
     * would run before them). */
    const struct timeval now = {0, 0};
    if (e->done_head) event_add(e->flush_ev, &now);
    for (dest *d = e->dests; d; d = d->next)
        zv_engine_pump(d);
    zv_engine_check_settled(e);
}

static void prune_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zv_delivery_engine *e = arg;
    int64_t n = zv_sb_prune(e->sb, zv_now() - e->retention_s, PRUNE_BATCH);
    if (n < 0)
        zv_log(ZV_LOG_WARN, "delivery", "retention: %s", zv_sb_errmsg(e->sb));
    else if (n > 0)
        zv_log(ZV_LOG_DEBUG, "delivery", "retention: discarded %lld delivered payloads",
               (long long)n);
    /* A full batch means more is due: come back soon, but let the loop
     * deliver in between. */
    int64_t idle = e->retention_s < 60 ? e->retention_s : 60;
    struct timeval tv = {n == PRUNE_BATCH ? 0 : idle, n == PRUNE_BATCH ? 50000 : 0};
    if (!e->stopped) evtimer_add(e->prune_ev, &tv);
}

static void settle_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zv_engine_check_settled(arg);
}

void zv_delivery_when_settled(zv_delivery_engine *e, int64_t patience_s, void (*cb)(void *arg),
                              void *arg)
{
    e->settled_cb = cb;
    e->settled_arg = arg;
    e->patience_s = patience_s;
    arm_ms(e->settle_ev, 0); /* never from inside this call */
}

void zv_delivery_free(zv_delivery_engine *e)
{
    if (!e) return;
    /* Outcomes not yet written stay 'inflight' in the store and are sent
     * again at the next start: at least once. */
    while (e->done_head) {
        zv_sending *s = e->done_head;
        e->done_head = s->next_done;
        if (s->called_back) zv_engine_sending_free(s);
        /* else it is in out_head too, handled below */
    }
    while (e->out_head) {
        zv_sending *s = e->out_head;
        out_unlink(s);
        s->e = NULL;
        if (s->watchdog) event_free(s->watchdog);
        s->watchdog = NULL;
    }
    while (e->dests) {
        dest *d = e->dests;
        e->dests = d->next;
        if (e->gate) e->gate(e->gate_arg, d->timer, 1);
        event_free(d->timer);
        free(d->name);
        free(d);
    }
    if (e->flush_ev && e->gate) e->gate(e->gate_arg, e->flush_ev, 1);
    if (e->flush_ev) event_free(e->flush_ev);
    if (e->prune_ev) event_free(e->prune_ev);
    if (e->settle_ev) event_free(e->settle_ev);
    if (e->lease_ev) event_free(e->lease_ev);
    if (e->own_sb) zv_sb_close(e->sb);
    free(e);
}
