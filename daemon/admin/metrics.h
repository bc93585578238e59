/*
 * Process-wide counters for /metrics.  They live for the whole process (a
 * reload builds a new runtime, the counters go on), so Prometheus sees a
 * reset only when the daemon restarts.  Used from the loop thread only.
 *
 * The hooks are called from the pipeline, the delivery engine and the
 * plugin host; gauges (backlog, circuit, audit length) are read from the
 * runtime and the store when /metrics is scraped (metrics_render.c).
 */
#ifndef ZV_ADMIN_METRICS_H
#define ZV_ADMIN_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef enum zv_metric_rec {
    ZV_MREC_IN = 0,    /* a record came from the source */
    ZV_MREC_MAPPED,    /* mapped into the model */
    ZV_MREC_DUPLICATE, /* seen before: skipped */
    ZV_MREC__COUNT
} zv_metric_rec;

typedef enum zv_metric_out {
    ZV_MOUT_DELIVERED = 0,
    ZV_MOUT_RETRIED,
    ZV_MOUT_DEAD,
    ZV_MOUT__COUNT
} zv_metric_out;

#define ZV_METRICS_NBUCKETS 12
extern const double zv_metrics_buckets[ZV_METRICS_NBUCKETS]; /* seconds */

void zv_metrics_record(const char *source, zv_metric_rec what);
void zv_metrics_quarantined(const char *source, const char *stage);
void zv_metrics_staged(const char *destination);
/* One attempt's outcome and how long it took; detail of a failure may be NULL. */
void zv_metrics_delivery(const char *destination, zv_metric_out what, double seconds,
                         const char *detail);
/* A plugin's own counter (host->count): "files_done" also stamps the time. */
void zv_metrics_plugin_count(const char *instance, const char *counter, int64_t delta);

/* ---- reading (metrics_render.c, status) ---- */
typedef struct zv_msource {
    char name[72];
    int64_t rec[ZV_MREC__COUNT];
    int64_t last_activity; /* unix seconds of the last record; 0 none */
    int64_t last_file;     /* unix seconds of the last file done; 0 none */
} zv_msource;

typedef struct zv_mquar {
    char source[72], stage[24];
    int64_t n;
} zv_mquar;

typedef struct zv_mdest {
    char name[72];
    int64_t staged;
    int64_t out[ZV_MOUT__COUNT];
    int64_t bucket[ZV_METRICS_NBUCKETS]; /* cumulative at render time, not here */
    int64_t count;
    double sum;
    int64_t last_success, last_failure; /* unix seconds; 0 none */
    char last_error[256];
} zv_mdest;

typedef struct zv_mplugin {
    char instance[72], counter[48];
    int64_t n;
} zv_mplugin;

/* NULL when the name was never seen. */
const zv_msource *zv_metrics_source(const char *name);
const zv_mdest *zv_metrics_dest(const char *name);
/* All entries, for labels not in the current config. */
size_t zv_metrics_quarantine_all(const zv_mquar **out);
size_t zv_metrics_plugin_all(const zv_mplugin **out);
int64_t zv_metrics_started(void); /* process start, unix seconds */

#endif
