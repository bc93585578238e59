/* Delivery engine: what an attempt's outcome does to the store, the
 * destination's circuit and its metrics; and when once mode may finish. */
#include "engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zinvol/util.h>

#include "admin/metrics.h"
#include "core/log.h"

int64_t zv_engine_wall_ms(void)
{
    /* The clock the outbox's times are written with (zinvold --today). */
    return zv_wall_ms();
}

int64_t zv_engine_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t zv_engine_backoff_ms(const zv_policy *p, int attempt, long retry_after_s)
{
    int64_t ms = p->backoff_initial_ms;
    for (int i = 1; i < attempt && ms < p->backoff_max_ms; i++)
        ms *= 2;
    if (ms > p->backoff_max_ms) ms = p->backoff_max_ms;
    /* Equal jitter: half fixed, half random, so a backlog that failed
     * together does not retry together. */
    ms = ms / 2 + (int64_t)(random() % (ms / 2 + 1));
    if (retry_after_s >= 0 && retry_after_s * 1000 > ms) ms = retry_after_s * 1000;
    return ms;
}

static void circuit_success(dest *d)
{
    d->consecutive_failures = 0;
    if (d->circuit != CIRCUIT_CLOSED) {
        d->circuit = CIRCUIT_CLOSED;
        /* For every node on a shared store (a no-op on SQLite). */
        if (zv_sb_circuit_set(d->e->sb, d->name, 0, NULL) < 0)
            zv_log(ZV_LOG_WARN, d->component, "cannot close the shared circuit: %s",
                   zv_sb_errmsg(d->e->sb));
        zv_log(ZV_LOG_NOTICE, d->component, "circuit closed: the receiver answers again");
    }
}

static void circuit_failure(dest *d, const zv_sending *s)
{
    d->consecutive_failures++;
    int open = d->circuit == CIRCUIT_HALF_OPEN ||
               (d->circuit == CIRCUIT_CLOSED && d->consecutive_failures >= d->pol.circuit_failures);
    if (!open) return;
    d->circuit = CIRCUIT_OPEN;
    d->open_until_ms = zv_engine_wall_ms() + d->pol.circuit_cooldown_s * 1000;
    d->m.circuit_opened++;
    if (zv_sb_circuit_set(d->e->sb, d->name, d->open_until_ms, s->detail) < 0)
        zv_log(ZV_LOG_WARN, d->component, "cannot open the shared circuit: %s",
               zv_sb_errmsg(d->e->sb));
    zv_log(ZV_LOG_WARN, d->component,
           "circuit open after %d consecutive failures (last: %s); no sends for %llds, then one "
           "probe",
           d->consecutive_failures, s->detail ? s->detail : "?",
           (long long)d->pol.circuit_cooldown_s);
}

static void record_ok(zv_delivery_engine *e, dest *d, zv_sending *s)
{
    d->m.delivered++;
    circuit_success(d);
    if (s->delivered_rc < 0 ||
        (s->delivered_rc == 0 && zv_sb_delivered(e->sb, s->id, zv_now()) < 0))
        return;
    if (s->have_verdicts) {
        int rej = 0;
        if (zv_delivery_apply_verdicts_sb(e->sb, s->id, s->records_json, &s->verdicts,
                                          s->http_status, &rej) == 0 &&
            rej > 0) {
            d->m.records_rejected += rej;
            zv_log(ZV_LOG_WARN, d->component,
                   "payload %s delivered; the receiver rejected %d of its records (dead letter)",
                   s->idem_key, rej);
        }
    }
}

static void record_dead(zv_delivery_engine *e, dest *d, zv_sending *s, const char *reason)
{
    d->m.dead++;
    zv_dead_info di = {.reason = reason, .http_status = s->http_status};
    int64_t id = 0;
    if (zv_sb_dead(e->sb, s->id, &di, &id) == 0)
        zv_log(ZV_LOG_WARN, d->component, "payload %s to the dead letter (entry %lld): %s",
               s->idem_key, (long long)id, reason);
}

static void record_retry(zv_delivery_engine *e, dest *d, zv_sending *s)
{
    const char *why = s->detail ? s->detail : "temporary failure";
    circuit_failure(d, s);
    int64_t now = zv_engine_wall_ms();
    int64_t deadline = (s->first_enqueued + d->pol.max_age_s) * 1000;
    if (now >= deadline) {
        char reason[512];
        snprintf(reason, sizeof(reason),
                 "not delivered within max_age (%llds, %d attempts); last error: %s",
                 (long long)d->pol.max_age_s, s->attempt, why);
        record_dead(e, d, s, reason);
        return;
    }
    d->m.retried++;
    int64_t delay = zv_engine_backoff_ms(&d->pol, s->attempt, s->retry_after_s);
    int64_t next = now + delay;
    if (next > deadline) next = deadline; /* one last try at the deadline */
    char err[512];
    if (s->http_status)
        snprintf(err, sizeof(err), "HTTP %d: %s", s->http_status, why);
    else
        snprintf(err, sizeof(err), "%s", why);
    zv_sb_retry(e->sb, s->id, next, err);
    zv_log(ZV_LOG_INFO, d->component, "payload %s attempt %d failed (%s); retry in %lld ms",
           s->idem_key, s->attempt, err, (long long)(next - now));
}

void zv_engine_record(zv_delivery_engine *e, zv_sending *s)
{
    dest *d = s->d;
    int64_t delivered0 = d->m.delivered, dead0 = d->m.dead;
    switch (s->status) {
    case ZV_SEND_OK:
        record_ok(e, d, s);
        break;
    case ZV_SEND_REJECTED: {
        /* The receiver is alive and answered: not a circuit failure. */
        circuit_success(d);
        d->m.rejected++;
        char reason[600];
        snprintf(reason, sizeof(reason), "rejected by the receiver: %s",
                 s->detail ? s->detail : "no reason given");
        record_dead(e, d, s, reason);
        break;
    }
    default:
        record_retry(e, d, s);
        break;
    }
    zv_metric_out o = d->m.delivered > delivered0 ? ZV_MOUT_DELIVERED
                      : d->m.dead > dead0          ? ZV_MOUT_DEAD
                                                   : ZV_MOUT_RETRIED;
    zv_metrics_delivery(d->name, o, (double)(zv_now_ms() - s->started_ms) / 1000.0, s->detail);
}

/* When may this destination try again: earliest due payload, or the end of
 * an open circuit.  1 when nothing is pending. */
static int next_try_ms(zv_delivery_engine *e, dest *d, int64_t *when)
{
    int64_t due;
    if (zv_sb_next_due(e->sb, d->name, &due) != 0) return 1;
    if (d->circuit == CIRCUIT_OPEN && d->open_until_ms > due) due = d->open_until_ms;
    *when = due;
    return 0;
}

void zv_engine_check_settled(zv_delivery_engine *e)
{
    if (!e->settled_cb) return;
    if (zv_delivery_busy(e) > 0) return;
    int64_t now = zv_engine_wall_ms(), horizon = now + e->patience_s * 1000, soonest = -1;
    for (dest *d = e->dests; d; d = d->next) {
        int64_t when;
        if (next_try_ms(e, d, &when) != 0 || when > horizon) continue;
        if (soonest < 0 || when < soonest) soonest = when;
    }
    if (soonest >= 0 && !e->stopped) {
        /* Something will be tried within the patience: look again then (the
         * destination's own timer does the sending). */
        int64_t ms = soonest - now + 100;
        if (ms < 100) ms = 100;
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        evtimer_add(e->settle_ev, &tv);
        return;
    }
    for (dest *d = e->dests; d; d = d->next)
        zv_log(ZV_LOG_INFO, d->component,
               "settled: %lld delivered, %lld retried, %lld to the dead letter, %lld pending",
               (long long)d->m.delivered, (long long)d->m.retried, (long long)d->m.dead,
               (long long)zv_sb_outbox_count(e->sb, d->name, "pending"));
    void (*cb)(void *) = e->settled_cb;
    e->settled_cb = NULL;
    cb(e->settled_arg);
}
