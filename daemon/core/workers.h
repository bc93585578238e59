/*
 * A small pool of worker threads for heavy work the loop must not do itself
 * (rendering with XSD/XSLT validation, large parses): the loop queues a job,
 * a worker runs work(arg), and done(arg) runs afterwards on the loop thread,
 * woken through an eventfd the event base watches.
 *
 * Rules, for the core and (through host->queue_work) for plugins:
 *  - arg is the caller's: the pool only passes it on.  It must stay valid
 *    until done(arg) has run, and done() is where the caller frees it.
 *  - work() runs on a worker thread: it may touch arg and what its owner
 *    made safe for threads, nothing of the loop (no store, no event, no
 *    host function).
 *  - done() runs exactly once per accepted job, on the loop, never inside
 *    zv_workers_queue(); also when the pool is freed: zv_workers_free()
 *    waits for the jobs queued and running and then calls their done().
 *  - Jobs start in the order they were queued; with more than one thread
 *    they may finish in another order.
 */
#ifndef ZV_WORKERS_H
#define ZV_WORKERS_H

#include <event2/event.h>

typedef struct zv_workers zv_workers;

/* nthreads 0: the default (2, or the CPU count when it is smaller). */
zv_workers *zv_workers_new(struct event_base *base, int nthreads);
/* 0 queued, -1 when it could not be (out of memory, the pool is stopping). */
int zv_workers_queue(zv_workers *w, void (*work)(void *arg), void (*done)(void *arg), void *arg);
/* A gate before each done(): gate(arg, ev, 0) 1 holds the finished jobs
 * back until ev (the pool's own event) is made active again, because
 * done() would write while the store's writer commits (zv_store_when_ready);
 * gate(arg, ev, 1) when the pool frees ev.  NULL: none. */
typedef int (*zv_loop_gate)(void *arg, struct event *ev, int forget);
void zv_workers_set_gate(zv_workers *w, zv_loop_gate gate, void *arg);
/* Jobs queued or running now. */
int zv_workers_pending(const zv_workers *w);
/* The threads of the pool. */
int zv_workers_threads(const zv_workers *w);
void zv_workers_free(zv_workers *w);

#endif
