/* Internals shared by runtime.c, host.c, options.c, pipeline.c and httpd.c. */
#ifndef ZV_RUNTIME_INT_H
#define ZV_RUNTIME_INT_H

#include <event2/event.h>
#include <event2/http.h>
#include <zinvol/optmap.h>
#include <zinvol/plugin.h>
#include "catalogue/catalogue.h"
#include "config.h"
#include "http_client.h"
#include "instance.h"
#include "mapping/mapping.h"
#include "runtime.h"
#include "store/store.h"
#include "store/store_iface.h"

struct zv_delivery_engine;

typedef struct zv_source_rt zv_source_rt;
typedef struct zv_dest_rt zv_dest_rt;

struct zv_ctx {
    zv_runtime *rt;
    const char *name;     /* instance name: source or destination name */
    char component[96];   /* "source/ons", "transport/zk-5501" for logs */
    zv_optset opts;       /* the instance's options and config struct */
    zv_source_rt *src;    /* set for source instances */
    char *state_dir;      /* created on demand */
    char last_error[256]; /* the instance's last error log line (BSNs masked) */
    char org_buf[32];     /* org("retention") as text, valid until the next call */
    char problem[256];    /* host->problem(): what the operator must act on; "" none */
};

struct zv_source_rt {
    const zv_source_conf *conf;
    zv_instance inst;
    zv_mapping *mapping;
    int drained;
    int64_t items, staged, quarantined, duplicates;
    int64_t dest_staged; /* (record, destination) pairs staged */
    int64_t unchanged;   /* records that would have sent nothing new anywhere (core/change.h) */
    char mapping_version[17]; /* lifecycle.c: what quarantine entries name */
    /* source_lease.c, on a PostgreSQL store: this node reads the source only
     * while it holds the source's lease (webhooks: any node, no lease). */
    int leased;             /* the source needs the lease */
    int reading;            /* started on this node */
    struct event *lease_ev; /* renews, or waits to take over */
    char holder[128];       /* the node that held it when we last asked */
};

typedef struct zv_match {
    int field;
    const zv_json *values; /* string or array of strings */
} zv_match;

struct zv_dest_rt {
    const zv_dest_conf *conf;
    zv_instance fmt, tr;
    size_t nmsg;
    zv_catalogue **cats; /* per message */
    zv_minimiser **mins; /* per message */
    zv_match *match;
    size_t nmatch;
    struct event *batch_timer;
    int dirty; /* staged records wait for the batch window */
    int64_t staged, quarantined, payloads, rejected;
    int64_t waiting;        /* of rejected: held until their day (lifecycle.c) */
    int64_t flush_after;    /* staged id cursor of the flush in progress */
    int64_t render_ns;      /* time in the format's render (with its validation) */
    int64_t render_records; /* records handed to render */
    int64_t unit_ns;        /* whole work units: read staged, render, outbox, commit */
    int64_t render_cpu_ns;  /* render's CPU time (per core, load aside) */
    int64_t unchanged;      /* records not staged or not sent: equal to what was last sent */
    int64_t withdrawn;      /* withdrawals sent before a changed record (core/change.h) */
    /* The format declares ZV_FORMAT_AGGREGATE: its payloads hold only
     * counts, so the core skips the per-record accountability a
     * record-level destination needs (render.c, "Aggregate destinations"). */
    int aggregate;
    int64_t counted;        /* aggregate: records the format counted */
    int64_t not_counted;    /* aggregate: records it counted nowhere (a reason counter each) */
    int rendering;          /* a work unit is on a worker thread (render.c) */
    int restaged;           /* records were staged while it was there: another unit follows */
    /* Called on the loop when a unit that went to a worker has ended, with
     * what zv_pipeline_flush_step would have returned (1 more, 0 done, -1
     * failed); NULL: units are rendered synchronously. */
    void (*on_unit)(zv_runtime *rt, zv_dest_rt *d, int result);
    /* /healthz: the oldest payload not yet delivered as last read (0: none
     * seen yet), for probes that come while the writer has the store. */
    int64_t health_first;
    int health_has;
};

typedef struct zv_route {
    char *path;
    zv_ctx *ctx;
    zv_route_cb cb;
    void *arg;
    size_t max_body; /* the route's own body limit; 0: the listener's */
    struct zv_route *next;
} zv_route;

struct zv_runtime {
    zv_config *cfg;
    zv_rt_mode mode;
    const zv_host *host; /* handed to create(); &zv_core_host unless a dry run's */
    struct event_base *base;
    zv_store *store;
    zv_http_client *http;
    struct evhttp *httpd;
    struct zv_httpd_conns *conns; /* bounds of httpd's connections */
    zv_route *routes;
    struct zv_tls_listener *tls_listeners; /* plugins' own TLS listeners (httpd_tls.c) */
    zv_source_rt *sources;
    size_t nsources;
    zv_dest_rt *dests;
    size_t ndests;
    struct zv_delivery_engine *delivery;
    struct zv_workers *workers; /* heavy work off the loop (workers.h) */
    int started, stopping;
    /* The unit of work open now (unit.c): the instance whose emits and
     * watermarks it holds, NULL when none is open; never across callbacks. */
    zv_ctx *unit;
    int64_t unit_emits;
    int cb_depth;                            /* plugin callbacks on the stack */
    int64_t units_dropped;                   /* units rolled back because left open */
    struct zv_pending_count *pending_counts; /* count() outside a unit */
    /* Group commit (unit.c): the commit event after a turn, waiters of the
     * open group and waiters told (in durable_ev) that their group ended. */
    struct event *group_ev, *durable_ev;
    struct zv_durable_wait *durable_waiting, *durable_ready;
    /* The store's writer is done with a commit or a lock wait (ready_ev),
     * and the webhook requests held back meanwhile (httpd.c). */
    struct event *ready_ev;
    struct zv_deferred_ex *deferred_head, *deferred_tail;
    size_t ndeferred;
    void (*finished_cb)(void *arg, int status);
    void *finished_arg;
    void (*stopped_cb)(void *arg);
    void *stopped_arg;
    /* source_lease.c: another node took a source over (told once). */
    void (*lease_lost_cb)(void *arg);
    void *lease_lost_arg;
    int lease_lost;
    struct event *stop_poll;
    int once_failed;  /* once mode: a work unit failed */
    size_t once_next; /* once mode: the destination the next turn asks first */
    int64_t items_in;
    /* Once mode's stage times (monotonic ns), logged when it finishes. */
    int64_t t_start, t_drained, t_rendered, emit_ns;
    /* The installation's client-key secret (audit/client_key.h), loaded with
     * the store; client_secret_ok 0 means records carry no client key. */
    unsigned char client_secret[32];
    int client_secret_ok;
    /* lifecycle.c: a replay maps items again whatever was seen before;
     * waiting records are looked at when the day changes. */
    int replaying;
    struct event *due_timer;
    char due_day[11];
    int64_t retrying;           /* the entry a retry processes again (lifecycle.c) */
    char *scratch_dir;          /* ZV_RT_VALIDATE: plugin state folders (scratch.c) */
    struct event *retour_timer; /* retour_dir.c */
    /* Non-zero: every batch's now (unix time) instead of the clock; set by
     * the testbed (tests/testbed) so that dated rules are reproducible. */
    int64_t batch_now;
    /* The outbox, audit trail, watermarks and seen events through the store
     * interface: rt->store wrapped, or the shared PostgreSQL database (then
     * rt->store is the node's own file, see zv_runtime_open_store). */
    struct zv_sb *sb;
    /* sb is a PostgreSQL store: the source -> render path writes there, and
     * a unit or render transaction is open on it as well (sb_open). */
    int shared;
    /* zinvolctl without a daemon (quarantine): a PostgreSQL store is opened
     * in check mode too, so its entries are the shared ones. */
    int open_shared;
    int sb_open;
};

#include <time.h>
static inline int64_t zv_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t zv_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

extern const zv_host zv_core_host;

/* As zv_runtime_build, with the host table handed to the plugins' create()
 * (NULL: zv_core_host); the dry run passes its own.  host must outlive rt. */
zv_runtime *zv_runtime_build_host(zv_config *cfg, struct event_base *base, zv_rt_mode mode,
                                  const zv_host *host, zv_errors *errs);
/* Whether a destination's "match" takes the record (pipeline.c). */
int zv_dest_matches(const zv_dest_rt *d, const zv_record *rec);

/* options.c */
/* Check the instance's options (given: its section, path: "sources[0].options")
 * against the plugin's table and fill ctx->opts; errors as file: path.key: reason. */
int zv_options_resolve(zv_ctx *ctx, const zv_plugin_descriptor *d, const zv_json *given,
                       const char *path, zv_errors *errs);
void zv_options_free(zv_ctx *ctx);

/* runtime.c */
zv_ctx *zv_ctx_new(zv_runtime *rt, const char *name, const char *kind);
void zv_ctx_free(zv_ctx *ctx);

/* pipeline.c */
int zv_pipeline_emit(zv_ctx *ctx, const zv_item *item);
int zv_pipeline_commit(zv_ctx *ctx);
/* The unit into the group; sync 1: and the group committed now (commit()). */
int zv_pipeline_commit_unit(zv_ctx *ctx, int sync);
void zv_pipeline_rollback(zv_ctx *ctx);
/* Render what is staged for a destination into the outbox (batch window). */
int zv_pipeline_flush(zv_runtime *rt, zv_dest_rt *d);
int zv_pipeline_flush_all(zv_runtime *rt);
/* One work unit (policy max_records / max_bytes) of what is staged, in its own
 * transaction: 1 when more is staged, 0 when done, -1 on failure, 2 when the
 * unit went to a worker thread (only with rt->workers and d->on_unit set,
 * which then gets the result).  Callers on the loop step, so sends and
 * requests go on between units. */
int zv_pipeline_flush_step(zv_runtime *rt, zv_dest_rt *d);
int zv_render_add_payload(zv_render_out *out, const zv_payload_spec *p);
/* zv_host.rendered_fields (render.c). */
int zv_render_fields(zv_render_out *out, size_t index, const zv_field_id *fields, size_t n);
int zv_render_not_counted(zv_render_out *out, size_t index, const char *reason);
int zv_render_reject(zv_render_out *out, size_t index, const char *rule, const char *field,
                     const char *reason);
/* Set on a thread that quarantines for the loop (a render unit's writes
 * lent to the store's writer, render.c): the metrics are left to the
 * caller, who tells them on the loop. */
extern _Thread_local int zv_pipeline_metrics_later;
int zv_pipeline_quarantine(zv_runtime *rt, const zv_record *rec, const char *stage,
                           const char *dest, const char *field, const char *rule,
                           const char *reason);

/* unit.c: see there.  enter/leave wrap every call into a plugin. */
void zv_unit_enter(zv_ctx *ctx);
void zv_unit_leave(zv_ctx *ctx);
/* Open ctx's unit if it has none (emit, watermark_set); -1 when the store refuses. */
int zv_unit_open(zv_ctx *ctx);
int zv_unit_is_open(const zv_ctx *ctx);
/* Discard ctx's open unit (nothing when none is open). */
void zv_unit_rollback(zv_ctx *ctx);
void zv_unit_count_later(zv_runtime *rt, const char *name, const char *counter, int64_t delta);
/* Pending counts into the open transaction. */
void zv_unit_write_counts(zv_runtime *rt);
/* Pending counts in a transaction of their own (nothing may be open). */
void zv_unit_flush_counts(zv_runtime *rt);
void zv_unit_free_counts(zv_runtime *rt);
/* Group commit: set up with the store (and the base, when there is one);
 * end commits what waits and tells its waiters, before the store closes. */
int zv_unit_group_setup(zv_runtime *rt);
void zv_unit_group_end(zv_runtime *rt);
/* The store's writer thread, once the start-up work (recovery, waiting
 * records) is done: from then on the loop never waits for a lock. */
int zv_unit_writer_start(zv_runtime *rt, char *err, size_t errlen);
/* The loop's gate (workers.h zv_loop_gate, arg the runtime) before a
 * callback that writes: 1 while the store's writer commits, and ev is made
 * active once it has ended (zv_store_when_ready), so the loop never waits
 * for a commit; forget 1 before ev is freed. */
int zv_unit_store_gate(void *arg, struct event *ev, int forget);
/* httpd.c: plugin requests held back while the store is not ready (a
 * commit under way on the writer, a lock waited for) go on; dropped (503)
 * when the runtime ends. */
void zv_httpd_run_deferred(zv_runtime *rt);
void zv_httpd_drop_deferred(zv_runtime *rt);
/* host->commit_async: ctx's unit into the group; cb(arg, ok) once durable. */
int zv_unit_commit_async(zv_ctx *ctx, void (*cb)(void *arg, int ok), void *arg);

/* scratch.c: --check-config's plugin state folders, and their removal. */
const char *zv_scratch_state_dir(zv_ctx *ctx);
void zv_scratch_free(zv_runtime *rt);

/* shared_store.c: -1 (err names them) when the configuration has parts
 * that do not run on a PostgreSQL store in this version. */
int zv_runtime_shared_store_check(const zv_runtime *rt, char *err, size_t errlen);
/* A transaction on the local store and, on a PostgreSQL store, on the
 * shared one too (the shared one commits first; a failure there rolls both
 * back).  zv_rt_unit_* do the same around a source's unit. */
int zv_rt_begin(zv_runtime *rt, const char *owner);
int zv_rt_commit(zv_runtime *rt);
void zv_rt_rollback(zv_runtime *rt);
/* The last store error: the shared store's on PostgreSQL, else the file's. */
const char *zv_rt_errmsg(const zv_runtime *rt);
/* The shared half of a unit: begun after the local one, committed before
 * it (with the source's lease renewed inside, so a node that lost the
 * source commits nothing of it), rolled back with it. */
int zv_rt_unit_begin(zv_runtime *rt);
int zv_rt_unit_commit(zv_runtime *rt, zv_ctx *ctx);
void zv_rt_unit_abort(zv_runtime *rt);

/* source_lease.c: one node reads a source at a time (store_iface.h's
 * zv_sb_source_lease).  start: the sources that need no lease start, the
 * others when their lease is held; stop: the leases held are given up. */
int zv_source_leases_start(zv_runtime *rt, char *err, size_t errlen);
void zv_source_leases_stop(zv_runtime *rt);
/* Renews ctx's source's lease inside the open shared transaction: 0 held,
 * -1 lost or failed (the unit must not commit). */
int zv_source_lease_fence(zv_runtime *rt, zv_ctx *ctx);
/* runtime.c: a source's start() (drain() in once mode) as one unit. */
int zv_runtime_start_source(zv_runtime *rt, zv_source_rt *s, char *err, size_t errlen);

/* The node's own SQLite file under state_dir beside a PostgreSQL store. */
#define ZV_NODE_STORE "node-local.db"

/* retour_dir.c: destinations' retour folders, applied as zinvolctl retour. */
int zv_retour_dirs_start(zv_runtime *rt);
int zv_retour_dirs_scan(zv_runtime *rt);
void zv_retour_dirs_stop(zv_runtime *rt);

/* httpd.c */
int zv_httpd_start(zv_runtime *rt, char *err, size_t errlen);
void zv_httpd_free(zv_runtime *rt);
int zv_httpd_route(zv_ctx *ctx, const char *path, zv_route_cb cb, void *arg);
int zv_httpd_route_limit(zv_ctx *ctx, const char *path, size_t max_body);
const char *zv_httpd_ex_peer(zv_http_exchange *ex);
/* httpd_tls.c: plugins' TLS listeners with client-certificate verification */
int zv_httpd_tls_listen(zv_ctx *ctx, const zv_https_spec *spec, zv_route_cb cb, void *arg,
                        char *err, size_t errlen);
int zv_httpd_tls_start(zv_runtime *rt, char *err, size_t errlen);
void zv_httpd_tls_free(zv_runtime *rt);

#endif
