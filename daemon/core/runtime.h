/*
 * The runtime: everything built from one config - plugin instances, compiled
 * mappings, catalogues and minimisers, the store, the HTTP listener and the
 * delivery engine - on the event base the daemon owns.
 *
 * Reload builds a new runtime next to the running one (validating all of
 * it), and only when that succeeded stops the old one and starts the new.
 */
#ifndef ZV_RUNTIME_H
#define ZV_RUNTIME_H

#include <event2/event.h>
#include "config.h"
#include "errors.h"

typedef struct zv_runtime zv_runtime;

typedef enum zv_rt_mode {
    ZV_RT_CHECK = 0, /* build and validate only */
    ZV_RT_RUN,       /* run until stopped */
    ZV_RT_ONCE,      /* drain sources, deliver, finish */
    ZV_RT_DRY,       /* zinvold --dry-run: formats are created (with the host given to
                        zv_runtime_build_host); sources and transports are loaded and
                        their options checked, but never created, so they touch nothing */
    ZV_RT_VALIDATE   /* zinvold --check-config: as ZV_RT_CHECK, but nothing on disk
                        changes: plugins' state folders are scratch ones, removed with
                        the runtime (plugins make their own folders only when started) */
} zv_rt_mode;

/* Build and validate.  Takes ownership of cfg (also on failure). */
zv_runtime *zv_runtime_build(zv_config *cfg, struct event_base *base, zv_rt_mode mode,
                             zv_errors *errs);
/* Open the store, bind the listener, start delivery and sources. */
int zv_runtime_start(zv_runtime *rt, char *err, size_t errlen);
/* Stop accepting input, flush staged batches into the outbox, let sends in
 * flight finish; done() is called once nothing is in flight any more. */
void zv_runtime_stop(zv_runtime *rt, void (*done)(void *arg), void *arg);
void zv_runtime_free(zv_runtime *rt);

/* Once mode: called when sources are drained and delivery has settled. */
void zv_runtime_on_finished(zv_runtime *rt, void (*cb)(void *arg, int status), void *arg);
/* On a PostgreSQL store: cb runs (once, on the loop) when another node has
 * taken over a source this runtime read.  The runtime then commits nothing
 * more of that source; the caller replaces it by one that stands by
 * (zinvold: a reload), or stops.  Without a cb the process gets SIGTERM. */
void zv_runtime_on_lease_lost(zv_runtime *rt, void (*cb)(void *arg), void *arg);

/* For zinvolctl: open the store without starting anything else, and
 * render what is staged into the outbox.  (Processing a quarantined entry
 * again: lifecycle.h.) */
int zv_runtime_open_store(zv_runtime *rt, char *err, size_t errlen);
int zv_runtime_flush(zv_runtime *rt);

/* After every turn of the event loop: 0 when no transaction is open, as it
 * must be; else it is rolled back, logged naming its owner, and -1. */
int zv_runtime_turn_check(zv_runtime *rt);

const zv_config *zv_runtime_config(const zv_runtime *rt);
/* A one-line summary of what happened, for --once and logs. */
void zv_runtime_summary(zv_runtime *rt, char *out, size_t outlen);

#endif
