/* Process-wide counters for /metrics; see metrics.h.  Small arrays searched
 * linearly: an installation has a handful of sources and destinations. */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

const double zv_metrics_buckets[ZV_METRICS_NBUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                        0.5,   1,    2.5,   5,    10,  30};

/* A growable array of fixed-size entries. */
typedef struct vec {
    void *v;
    size_t n, cap, size;
} vec;

static vec sources = {.size = sizeof(zv_msource)};
static vec dests = {.size = sizeof(zv_mdest)};
static vec quar = {.size = sizeof(zv_mquar)};
static vec plugins = {.size = sizeof(zv_mplugin)};
static int64_t started;

static void *vec_add(vec *x)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 8;
        void *nv = realloc(x->v, cap * x->size);
        if (!nv) return NULL;
        x->v = nv;
        x->cap = cap;
    }
    void *e = (char *)x->v + x->n++ * x->size;
    memset(e, 0, x->size);
    return e;
}

static void *vec_at(const vec *x, size_t i)
{
    return (char *)x->v + i * x->size;
}

int64_t zv_metrics_started(void)
{
    if (!started) started = zv_now();
    return started;
}

static zv_msource *source_get(const char *name, int create)
{
    for (size_t i = 0; i < sources.n; i++) {
        zv_msource *s = vec_at(&sources, i);
        if (strcmp(s->name, name) == 0) return s;
    }
    if (!create) return NULL;
    zv_metrics_started();
    zv_msource *s = vec_add(&sources);
    if (s) snprintf(s->name, sizeof(s->name), "%s", name);
    return s;
}

static zv_mdest *dest_get(const char *name, int create)
{
    for (size_t i = 0; i < dests.n; i++) {
        zv_mdest *d = vec_at(&dests, i);
        if (strcmp(d->name, name) == 0) return d;
    }
    if (!create) return NULL;
    zv_metrics_started();
    zv_mdest *d = vec_add(&dests);
    if (d) snprintf(d->name, sizeof(d->name), "%s", name);
    return d;
}

void zv_metrics_record(const char *source, zv_metric_rec what)
{
    zv_msource *s = source ? source_get(source, 1) : NULL;
    if (!s || what >= ZV_MREC__COUNT) return;
    s->rec[what]++;
    s->last_activity = zv_now();
}

void zv_metrics_quarantined(const char *source, const char *stage)
{
    source = source ? source : "";
    stage = stage ? stage : "";
    for (size_t i = 0; i < quar.n; i++) {
        zv_mquar *q = vec_at(&quar, i);
        if (strcmp(q->source, source) == 0 && strcmp(q->stage, stage) == 0) {
            q->n++;
            return;
        }
    }
    zv_mquar *q = vec_add(&quar);
    if (!q) return;
    snprintf(q->source, sizeof(q->source), "%s", source);
    snprintf(q->stage, sizeof(q->stage), "%s", stage);
    q->n = 1;
}

void zv_metrics_staged(const char *destination)
{
    zv_mdest *d = destination ? dest_get(destination, 1) : NULL;
    if (d) d->staged++;
}

void zv_metrics_delivery(const char *destination, zv_metric_out what, double seconds,
                         const char *detail)
{
    zv_mdest *d = destination ? dest_get(destination, 1) : NULL;
    if (!d || what >= ZV_MOUT__COUNT) return;
    d->out[what]++;
    if (seconds < 0) seconds = 0;
    d->count++;
    d->sum += seconds;
    for (int i = 0; i < ZV_METRICS_NBUCKETS; i++)
        if (seconds <= zv_metrics_buckets[i]) {
            d->bucket[i]++;
            break;
        }
    if (what == ZV_MOUT_DELIVERED) {
        d->last_success = zv_now();
    } else {
        d->last_failure = zv_now();
        snprintf(d->last_error, sizeof(d->last_error), "%s", detail ? detail : "failed");
        zv_bsn_scrub(d->last_error);
    }
}

void zv_metrics_plugin_count(const char *instance, const char *counter, int64_t delta)
{
    if (!instance || !counter) return;
    zv_mplugin *p = NULL;
    for (size_t i = 0; i < plugins.n && !p; i++) {
        zv_mplugin *x = vec_at(&plugins, i);
        if (strcmp(x->instance, instance) == 0 && strcmp(x->counter, counter) == 0) p = x;
    }
    if (!p && (p = vec_add(&plugins))) {
        snprintf(p->instance, sizeof(p->instance), "%s", instance);
        snprintf(p->counter, sizeof(p->counter), "%s", counter);
    }
    if (p) p->n += delta;
    if (strcmp(counter, "files_done") == 0) {
        zv_msource *s = source_get(instance, 1);
        if (s) s->last_file = zv_now();
    }
}

const zv_msource *zv_metrics_source(const char *name)
{
    return source_get(name, 0);
}

const zv_mdest *zv_metrics_dest(const char *name)
{
    return dest_get(name, 0);
}

size_t zv_metrics_quarantine_all(const zv_mquar **out)
{
    *out = quar.v;
    return quar.n;
}

size_t zv_metrics_plugin_all(const zv_mplugin **out)
{
    *out = plugins.v;
    return plugins.n;
}
