/*
 * /metrics: Prometheus text exposition format 0.0.4.  Counters come from the
 * process-wide registry (metrics.c); gauges are read from the runtime and
 * the store at scrape time.  Every configured source and destination gets
 * its series, zero or not, so a rate() never starts from nothing.
 */
#include "admin.h"
#include "core/runtime_int.h"
#include "delivery/delivery.h"
#include "metrics.h"
#include "store/store_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void head(zv_buf *b, const char *name, const char *type, const char *help)
{
    zv_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values: backslash, double quote and newline escaped. */
static void label(zv_buf *b, const char *key, const char *v)
{
    zv_buf_printf(b, "%s=\"", key);
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '\\' || *p == '"')
            zv_buf_printf(b, "\\%c", *p);
        else if (*p == '\n')
            zv_buf_puts(b, "\\n");
        else
            zv_buf_append(b, p, 1);
    }
    zv_buf_puts(b, "\"");
}

static void sample1(zv_buf *b, const char *name, const char *k, const char *v, double x)
{
    zv_buf_printf(b, "%s{", name);
    label(b, k, v);
    zv_buf_printf(b, "} %.17g\n", x);
}

static void sample2(zv_buf *b, const char *name, const char *k1, const char *v1, const char *k2,
                    const char *v2, double x)
{
    zv_buf_printf(b, "%s{", name);
    label(b, k1, v1);
    zv_buf_puts(b, ",");
    label(b, k2, v2);
    zv_buf_printf(b, "} %.17g\n", x);
}

static void sources(zv_runtime *rt, zv_buf *b)
{
    static const char *const names[] = {"zinvol_source_records_in_total",
                                        "zinvol_source_records_mapped_total",
                                        "zinvol_source_records_duplicate_total"};
    static const char *const helps[] = {
        "Records a source handed to the pipeline.", "Records mapped into the internal model.",
        "Records skipped because the same content was seen before."};
    for (int k = 0; k < ZV_MREC__COUNT; k++) {
        head(b, names[k], "counter", helps[k]);
        for (size_t i = 0; i < rt->nsources; i++) {
            const zv_msource *m = zv_metrics_source(rt->sources[i].conf->name);
            sample1(b, names[k], "source", rt->sources[i].conf->name, m ? (double)m->rec[k] : 0);
        }
    }
    head(b, "zinvol_source_last_activity_timestamp_seconds", "gauge",
         "When a source last handed over a record (0: not since the daemon started).");
    for (size_t i = 0; i < rt->nsources; i++) {
        const zv_msource *m = zv_metrics_source(rt->sources[i].conf->name);
        sample1(b, "zinvol_source_last_activity_timestamp_seconds", "source",
                rt->sources[i].conf->name, m ? (double)m->last_activity : 0);
    }
    head(b, "zinvol_source_last_file_processed_timestamp_seconds", "gauge",
         "When a file-drop source last finished a file (0: not since the daemon started).");
    for (size_t i = 0; i < rt->nsources; i++) {
        const zv_msource *m = zv_metrics_source(rt->sources[i].conf->name);
        sample1(b, "zinvol_source_last_file_processed_timestamp_seconds", "source",
                rt->sources[i].conf->name, m ? (double)m->last_file : 0);
    }
    const zv_mquar *q;
    size_t nq = zv_metrics_quarantine_all(&q);
    head(b, "zinvol_records_quarantined_total", "counter",
         "Records sent to quarantine, per source and stage (mapping, minimiser, rule, schema).");
    for (size_t i = 0; i < rt->nsources; i++) {
        int any = 0;
        for (size_t j = 0; j < nq; j++)
            if (strcmp(q[j].source, rt->sources[i].conf->name) == 0 &&
                strcmp(q[j].stage, "mapping") == 0)
                any = 1;
        if (!any)
            sample2(b, "zinvol_records_quarantined_total", "source", rt->sources[i].conf->name,
                    "stage", "mapping", 0);
    }
    for (size_t j = 0; j < nq; j++)
        sample2(b, "zinvol_records_quarantined_total", "source", q[j].source, "stage", q[j].stage,
                (double)q[j].n);
}

static int qstat(const char *source, const char *stage, int64_t n, void *arg)
{
    sample2(arg, "zinvol_quarantine_entries", "source", source, "stage", stage, (double)n);
    return 0;
}

static void dest_counters(zv_runtime *rt, zv_buf *b)
{
    head(b, "zinvol_destination_records_staged_total", "counter",
         "Minimised records staged for a destination's next message.");
    for (size_t i = 0; i < rt->ndests; i++) {
        const zv_mdest *m = zv_metrics_dest(rt->dests[i].conf->name);
        sample1(b, "zinvol_destination_records_staged_total", "destination",
                rt->dests[i].conf->name, m ? (double)m->staged : 0);
    }
    static const char *const names[] = {"zinvol_destination_messages_delivered_total",
                                        "zinvol_destination_messages_retried_total",
                                        "zinvol_destination_messages_dead_lettered_total"};
    static const char *const helps[] = {
        "Delivery attempts that succeeded.",
        "Delivery attempts that failed temporarily and will be retried.",
        "Payloads moved to the dead letter (rejected, or older than max_age)."};
    for (int k = 0; k < ZV_MOUT__COUNT; k++) {
        head(b, names[k], "counter", helps[k]);
        for (size_t i = 0; i < rt->ndests; i++) {
            const zv_mdest *m = zv_metrics_dest(rt->dests[i].conf->name);
            sample1(b, names[k], "destination", rt->dests[i].conf->name, m ? (double)m->out[k] : 0);
        }
    }
    const char *h = "zinvol_delivery_duration_seconds";
    head(b, h, "histogram", "Time from handing a payload to the transport until its outcome.");
    for (size_t i = 0; i < rt->ndests; i++) {
        const char *name = rt->dests[i].conf->name;
        const zv_mdest *m = zv_metrics_dest(name);
        int64_t cum = 0;
        for (int k = 0; k < ZV_METRICS_NBUCKETS; k++) {
            cum += m ? m->bucket[k] : 0;
            char le[32];
            snprintf(le, sizeof(le), "%g", zv_metrics_buckets[k]);
            sample2(b, "zinvol_delivery_duration_seconds_bucket", "destination", name, "le", le,
                    (double)cum);
        }
        sample2(b, "zinvol_delivery_duration_seconds_bucket", "destination", name, "le", "+Inf",
                m ? (double)m->count : 0);
        sample1(b, "zinvol_delivery_duration_seconds_sum", "destination", name, m ? m->sum : 0);
        sample1(b, "zinvol_delivery_duration_seconds_count", "destination", name,
                m ? (double)m->count : 0);
    }
}

static const char *const states[] = {"pending", "inflight", "delivered", "dead", "dropped"};

struct summary {
    zv_runtime *rt;
    int64_t (*n)[5];
    int64_t *oldest; /* of pending and inflight; 0 none */
};

static int sum_cb(const char *dest, const char *state, int64_t n, int64_t oldest, void *arg)
{
    struct summary *x = arg;
    for (size_t i = 0; i < x->rt->ndests; i++) {
        if (strcmp(x->rt->dests[i].conf->name, dest) != 0) continue;
        for (int k = 0; k < 5; k++)
            if (strcmp(states[k], state) == 0) x->n[i][k] = n;
        if ((!strcmp(state, "pending") || !strcmp(state, "inflight")) &&
            (!x->oldest[i] || oldest < x->oldest[i]))
            x->oldest[i] = oldest;
    }
    return 0;
}

static void dest_gauges(zv_runtime *rt, zv_buf *b)
{
    int64_t now = zv_now();
    size_t nd = rt->ndests ? rt->ndests : 1;
    struct summary x = {rt, calloc(nd, sizeof(*x.n)), calloc(nd, sizeof(int64_t))};
    if (!x.n || !x.oldest) {
        free(x.n);
        free(x.oldest);
        return;
    }
    /* One pass over the outbox, not one query per destination and state;
     * a shared PostgreSQL outbox is counted through the store interface. */
    if (zv_sb_kind(rt->sb) == ZV_STORE_POSTGRESQL)
        for (size_t i = 0; i < rt->ndests; i++)
            for (int k = 0; k < 5; k++)
                x.n[i][k] = zv_sb_outbox_count(rt->sb, rt->dests[i].conf->name, states[k]);
    else
        zv_store_outbox_summary(rt->store, sum_cb, &x);
    head(b, "zinvol_outbox_payloads", "gauge", "Payloads in the outbox, per state.");
    for (size_t i = 0; i < rt->ndests; i++)
        for (size_t k = 0; k < 5; k++)
            sample2(b, "zinvol_outbox_payloads", "destination", rt->dests[i].conf->name, "state",
                    states[k], (double)x.n[i][k]);
    head(b, "zinvol_outbox_oldest_pending_age_seconds", "gauge",
         "Age of the oldest payload not yet delivered (0: none waiting).");
    for (size_t i = 0; i < rt->ndests; i++)
        sample1(b, "zinvol_outbox_oldest_pending_age_seconds", "destination",
                rt->dests[i].conf->name, x.oldest[i] ? (double)(now - x.oldest[i]) : 0);
    free(x.n);
    free(x.oldest);
    head(b, "zinvol_staged_records", "gauge",
         "Records waiting for their destination's batch window.");
    for (size_t i = 0; i < rt->ndests; i++)
        sample1(b, "zinvol_staged_records", "destination", rt->dests[i].conf->name,
                (double)zv_store_staged_count(rt->store, rt->dests[i].conf->name));
    head(b, "zinvol_dead_letter_entries", "gauge", "Entries in the dead letter.");
    for (size_t i = 0; i < rt->ndests; i++)
        sample1(b, "zinvol_dead_letter_entries", "destination", rt->dests[i].conf->name,
                (double)zv_sb_dlq_count(rt->sb, rt->dests[i].conf->name));
    head(b, "zinvol_circuit_state", "gauge",
         "Circuit breaker per destination: 0 closed, 1 open, 2 half-open (one probe).");
    for (size_t i = 0; i < rt->ndests; i++) {
        zv_delivery_metrics m = {0};
        if (rt->delivery) zv_delivery_metrics_get(rt->delivery, rt->dests[i].conf->name, &m);
        sample1(b, "zinvol_circuit_state", "destination", rt->dests[i].conf->name, m.circuit_open);
    }
}

struct fields {
    zv_runtime *rt;
    int64_t (*n)[4];
};

static int field_count(const char *destination, const char *field, const char *what, int64_t n,
                       void *arg)
{
    (void)field;
    struct fields *f = arg;
    static const char *const whats[] = {"kept", "dropped", "not_applicable", "missing"};
    for (size_t i = 0; i < f->rt->ndests; i++)
        if (strcmp(f->rt->dests[i].conf->name, destination) == 0)
            for (int k = 0; k < 4; k++)
                if (strcmp(whats[k], what) == 0) f->n[i][k] += n;
    return 0;
}

static void minimiser(zv_runtime *rt, zv_buf *b)
{
    static const char *const whats[] = {"kept", "dropped", "not_applicable", "missing"};
    int64_t(*n)[4] = calloc(rt->ndests ? rt->ndests : 1, sizeof(*n));
    if (!n) return;
    struct fields f = {rt, n};
    zv_store_count_each(rt->store, field_count, &f);
    head(b, "zinvol_minimiser_fields_total", "counter",
         "Field decisions of the minimiser per destination (kept, dropped, ...), over the "
         "store's lifetime.");
    for (size_t i = 0; i < rt->ndests; i++)
        for (int k = 0; k < 4; k++)
            sample2(b, "zinvol_minimiser_fields_total", "destination", rt->dests[i].conf->name,
                    "decision", whats[k], (double)n[i][k]);
    free(n);
}

static void problem_sample(zv_buf *b, const zv_ctx *ctx)
{
    if (ctx) sample1(b, "zinvol_plugin_problem", "component", ctx->component, ctx->problem[0] != 0);
}

/* 1 while an instance has reported a problem (host->problem), else 0. */
static void plugin_problems(zv_runtime *rt, zv_buf *b)
{
    head(b, "zinvol_plugin_problem", "gauge",
         "1 while a plugin instance reports a condition an operator must act on.");
    for (size_t i = 0; i < rt->nsources; i++)
        problem_sample(b, rt->sources[i].inst.ctx);
    for (size_t i = 0; i < rt->ndests; i++) {
        problem_sample(b, rt->dests[i].fmt.ctx);
        problem_sample(b, rt->dests[i].tr.ctx);
    }
}

int zv_metrics_render(zv_runtime *rt, zv_buf *b)
{
    head(b, "zinvol_build_info", "gauge", "The running version.");
    sample1(b, "zinvol_build_info", "version", ZV_VERSION, 1);
    head(b, "zinvol_start_time_seconds", "gauge", "When the daemon started (unix time).");
    zv_buf_printf(b, "zinvol_start_time_seconds %lld\n", (long long)zv_metrics_started());
    if (!rt || !rt->store) return 0;
    sources(rt, b);
    head(b, "zinvol_quarantine_entries", "gauge",
         "Records in quarantine now, per source and stage.");
    zv_store_quarantine_stats(rt->store, qstat, b);
    dest_counters(rt, b);
    dest_gauges(rt, b);
    minimiser(rt, b);
    head(b, "zinvol_audit_entries", "gauge", "Length of the hash-chained audit trail.");
    zv_buf_printf(b, "zinvol_audit_entries %lld\n", (long long)zv_store_audit_length(rt->store));
    const zv_mplugin *p;
    size_t np = zv_metrics_plugin_all(&p);
    head(b, "zinvol_plugin_events_total", "counter", "Counters reported by plugins.");
    for (size_t i = 0; i < np; i++)
        sample2(b, "zinvol_plugin_events_total", "instance", p[i].instance, "event", p[i].counter,
                (double)p[i].n);
    plugin_problems(rt, b);
    return b->oom ? -1 : 0;
}
