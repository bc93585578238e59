/*
 * The store's writer thread: the daemon's group commits (their COMMIT and
 * its fsync, and the checkpoints that follow) and the waits for another
 * process's lock run here, off the loop.  See store_txn.c for the rules the
 * loop keeps so that both threads can use one connection.
 *
 * One job at a time, posted by the loop: COMMIT or ROLLBACK of the group
 * the loop has let go of, WAIT for the file's write lock (held by
 * zinvolctl, say) on a probe connection of the writer's own, or UNIT: the
 * writes of one large unit the loop has begun and lent to the writer
 * (zv_store_lend_unit: a render unit's payloads, thousands of rows), so
 * that they do not hold up the loop.  The end of a
 * job is taken on the loop (the eventfd wakes it, or settle() waits for a
 * commit): the group's waiters learn whether their units are durable
 * (on_group) and the runtime that the store is ready again (on_ready).
 */
#include "store_int.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

enum job { JOB_NONE, JOB_COMMIT, JOB_ROLLBACK, JOB_WAIT, JOB_UNIT, JOB_STOP };

struct zv_store_writer {
    zv_store *s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* a job was posted (writer waits) */
    pthread_cond_t done_cv; /* a job ended (settle waits) */
    enum job job;           /* under way; JOB_NONE when idle */
    int ended;              /* the job has ended; the loop has not taken it yet */
    int ok;
    char err[512];
    int stop;
    /* Loop side. */
    int efd;
    struct event *ev;
    int64_t units;      /* of the group being committed */
    int64_t locked_ms;  /* since when the writer waits for the lock; 0: not */
    int64_t loop_waits; /* settle() found the commit still under way */
    int last_failed;    /* the last commit failed (for /healthz) */
    char last_err[512];
    void (*on_ready)(void *arg);
    void *ready_arg;
    sqlite3 *probe; /* the writer's own connection for lock waits */
    /* Loop callbacks held back until the job ends (zv_store_when_ready):
     * the caller's events, made active then. */
    struct event **held;
    size_t nheld, capheld;
    int64_t deferred; /* callbacks held back so far */
    /* JOB_UNIT: the body (writer thread), then its done() on the loop. */
    int (*body)(void *arg);
    void (*lent_done)(void *arg, int rc);
    void *lent_arg;
    int lent_rc;      /* body's result (writer), then the unit's (loop) */
    int lent_pending; /* the unit ended; its done() has not run yet */
    struct event *done_ev;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run_commit(zv_store_writer *w, enum job job)
{
    sqlite3 *db = w->s->db;
    char *msg = NULL;
    int rc = sqlite3_exec(db, job == JOB_COMMIT ? "COMMIT" : "ROLLBACK", NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        snprintf(w->err, sizeof(w->err), "%s", msg ? msg : sqlite3_errstr(rc));
    else if (job == JOB_ROLLBACK)
        snprintf(w->err, sizeof(w->err), "a step of the group failed; rolled back");
    sqlite3_free(msg);
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc == SQLITE_OK && job == JOB_COMMIT;
}

/* Until the write lock can be had (and is let go at once), or stop. */
static int run_wait(zv_store_writer *w)
{
    if (!w->probe) {
        const char *path = sqlite3_db_filename(w->s->db, "main");
        if (sqlite3_open_v2(path, &w->probe, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) !=
            SQLITE_OK) {
            snprintf(w->err, sizeof(w->err), "%s", sqlite3_errmsg(w->probe));
            sqlite3_close(w->probe);
            w->probe = NULL;
            return 0;
        }
        sqlite3_busy_timeout(w->probe, 250);
    }
    for (;;) {
        int rc = sqlite3_exec(w->probe, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_exec(w->probe, "ROLLBACK", NULL, NULL, NULL);
            return 1;
        }
        pthread_mutex_lock(&w->mu);
        int stop = w->stop;
        pthread_mutex_unlock(&w->mu);
        if ((rc & 0xff) != SQLITE_BUSY || stop) {
            snprintf(w->err, sizeof(w->err), "%s", sqlite3_errmsg(w->probe));
            return 0;
        }
    }
}

static void *writer_main(void *arg)
{
    zv_store_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while ((w->job == JOB_NONE || w->ended) && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop && (w->job == JOB_NONE || w->ended)) break;
        enum job job = w->job;
        pthread_mutex_unlock(&w->mu);
        w->err[0] = '\0';
        int ok;
        if (job == JOB_UNIT) {
            w->lent_rc = w->body(w->lent_arg);
            ok = w->lent_rc == 0;
        } else {
            ok = job == JOB_WAIT ? run_wait(w) : run_commit(w, job);
        }
        pthread_mutex_lock(&w->mu);
        w->ok = ok;
        w->ended = 1;
        pthread_cond_broadcast(&w->done_cv);
        uint64_t one = 1;
        /* A full counter still wakes the loop: nothing to do on EAGAIN. */
        if (write(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static enum job current(const zv_store_writer *w)
{
    pthread_mutex_lock((pthread_mutex_t *)&w->mu);
    enum job j = w->job;
    pthread_mutex_unlock((pthread_mutex_t *)&w->mu);
    return j;
}

/* On the loop: take the end of the job, if it has ended.  1 when one was taken. */
static int take(zv_store *s, int *ok)
{
    zv_store_writer *w = s->wr;
    pthread_mutex_lock(&w->mu);
    if (w->job == JOB_NONE || !w->ended) {
        pthread_mutex_unlock(&w->mu);
        return 0;
    }
    enum job job = w->job;
    w->job = JOB_NONE;
    w->ended = 0;
    *ok = w->ok;
    char err[sizeof(w->err)];
    memcpy(err, w->err, sizeof(err));
    pthread_mutex_unlock(&w->mu);
    if (job == JOB_WAIT) {
        w->locked_ms = 0;
    } else if (job == JOB_UNIT) {
        /* The unit is the loop's again: into the group, or rolled back. */
        s->lent = 0;
        if (w->lent_rc == 0) {
            if (zv_store_commit(s) < 0) w->lent_rc = -1;
        } else {
            zv_store_rollback(s);
        }
        w->lent_pending = 1;
        event_active(w->done_ev, EV_TIMEOUT, 0);
    } else {
        int64_t n = w->units;
        w->units = 0;
        w->last_failed = !*ok;
        if (!*ok) {
            snprintf(s->err, sizeof(s->err), "%s", err);
            snprintf(w->last_err, sizeof(w->last_err), "%s", err);
        }
        s->gen_done = s->gen;
        if (s->on_group) s->on_group(s->on_group_arg, *ok, n);
    }
    if (w->on_ready) w->on_ready(w->ready_arg);
    /* Held back callbacks go on, each in a callback of its own, after the
     * loop has looked at its sockets: made active here they would all run
     * back to back before the next poll (a file step, an outcome slice, a
     * render's start ...: hundreds of milliseconds without one /healthz).
     * A timer of 0 fires after the poll; an fd event is made active. */
    size_t n = w->nheld;
    w->nheld = 0;
    const struct timeval now = {0, 0};
    for (size_t i = 0; i < n; i++)
        if (event_get_events(w->held[i]) & (EV_READ | EV_WRITE) || event_add(w->held[i], &now) < 0)
            event_active(w->held[i], EV_TIMEOUT, 0);
    return 1;
}

int zv_store_when_ready(zv_store *s, struct event *ev)
{
    zv_store_writer *w = s ? s->wr : NULL;
    if (!w || current(w) == JOB_NONE) return 0;
    for (size_t i = 0; i < w->nheld; i++)
        if (w->held[i] == ev) return 1;
    if (w->nheld == w->capheld) {
        size_t cap = w->capheld ? w->capheld * 2 : 16;
        struct event **n = realloc(w->held, cap * sizeof(*n));
        if (!n) return 0; /* then it waits for the writer as before */
        w->held = n;
        w->capheld = cap;
    }
    w->held[w->nheld++] = ev;
    w->deferred++;
    return 1;
}

void zv_store_when_ready_forget(zv_store *s, struct event *ev)
{
    zv_store_writer *w = s ? s->wr : NULL;
    if (!w) return;
    for (size_t i = 0; i < w->nheld; i++)
        if (w->held[i] == ev) {
            w->held[i] = w->held[--w->nheld];
            return;
        }
}

int64_t zv_store_loop_deferrals(const zv_store *s)
{
    return s && s->wr ? s->wr->deferred : 0;
}

static void on_wakeup(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    uint64_t n;
    if (read((int)fd, &n, sizeof(n)) < 0) {
        /* EAGAIN: settle() took the end already. */
    }
    int ok;
    take(arg, &ok);
}

static void post(zv_store_writer *w, enum job job)
{
    pthread_mutex_lock(&w->mu);
    w->job = job;
    w->ended = 0;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int zv_store_writer_post_commit(zv_store *s, int64_t n)
{
    zv_store_writer *w = s->wr;
    w->units = n;
    post(w, s->failed ? JOB_ROLLBACK : JOB_COMMIT);
    s->failed = 0;
    return 0;
}

int zv_store_writer_settle(zv_store *s)
{
    zv_store_writer *w = s->wr;
    enum job j = current(w);
    if (j != JOB_COMMIT && j != JOB_ROLLBACK && j != JOB_UNIT) return 0;
    pthread_mutex_lock(&w->mu);
    if (!w->ended) w->loop_waits++;
    while (!w->ended)
        pthread_cond_wait(&w->done_cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    int ok = 0;
    take(s, &ok);
    return ok || j == JOB_UNIT ? 0 : -1; /* a lent unit's result is its done()'s */
}

static void run_lent_done(zv_store_writer *w)
{
    if (!w->lent_pending) return;
    w->lent_pending = 0;
    void (*done)(void *, int) = w->lent_done;
    w->lent_done = NULL;
    w->body = NULL;
    done(w->lent_arg, w->lent_rc);
}

static void on_lent_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    run_lent_done(arg);
}

int zv_store_lend_unit(zv_store *s, const char *owner, int (*body)(void *arg),
                       void (*done)(void *arg, int rc), void *arg)
{
    zv_store_writer *w = s->wr;
    if (!w || current(w) != JOB_NONE || w->lent_pending || s->unit || (s->open && !s->group))
        return 1;
    if (zv_store_begin_as(s, owner) < 0) return -1;
    s->lent = 1;
    w->body = body;
    w->lent_done = done;
    w->lent_arg = arg;
    w->lent_rc = -1;
    post(w, JOB_UNIT);
    return 0;
}

void zv_store_wait_writer(zv_store *s)
{
    if (s && s->wr) zv_store_writer_settle(s);
}

void zv_store_lent_finish(zv_store *s)
{
    zv_store_writer *w = s ? s->wr : NULL;
    if (!w) return;
    if (current(w) == JOB_UNIT) zv_store_writer_settle(s);
    if (w->lent_pending) event_del(w->done_ev);
    run_lent_done(w);
}

int64_t zv_store_loop_waits(const zv_store *s)
{
    return s->wr ? s->wr->loop_waits : 0;
}

int zv_store_writer_committing(const zv_store *s)
{
    enum job j = current(s->wr);
    return j == JOB_COMMIT || j == JOB_ROLLBACK;
}

int zv_store_writer_locked(const zv_store *s)
{
    return current(s->wr) == JOB_WAIT;
}

void zv_store_writer_wait_lock(zv_store *s)
{
    zv_store_writer *w = s->wr;
    if (current(w) != JOB_NONE) return;
    w->locked_ms = mono_ms();
    post(w, JOB_WAIT);
}

int zv_store_ready(const zv_store *s)
{
    return !s->wr || current(s->wr) == JOB_NONE;
}

int zv_store_writer_health(const zv_store *s, int64_t max_lock_ms, char *err, size_t errlen)
{
    const zv_store_writer *w = s->wr;
    if (!w) return 1;
    int64_t locked = w->locked_ms ? mono_ms() - w->locked_ms : 0;
    if (locked > max_lock_ms) {
        snprintf(err, errlen, "locked by another process for %lld ms (the writer waits for it)",
                 (long long)locked);
        return -1;
    }
    if (w->last_failed) {
        snprintf(err, errlen, "the last group commit failed: %s", w->last_err);
        return -1;
    }
    return 0;
}

int zv_store_writer_probe(zv_store *s, char *err, size_t errlen)
{
    zv_store_writer *w = s->wr;
    if (w->last_failed) {
        snprintf(err, errlen, "the last group commit failed: %s", w->last_err);
        return -1;
    }
    enum job j = current(w);
    if (j == JOB_COMMIT || j == JOB_ROLLBACK || j == JOB_UNIT || s->open)
        return 0; /* we are writing */
    if (j == JOB_WAIT) {
        snprintf(err, errlen,
                 "database is locked by another process (the writer has waited %lld ms for it)",
                 (long long)(mono_ms() - w->locked_ms));
        return -1;
    }
    /* The lock, taken and let go at once: no write, no fsync, no wait
     * beyond ZV_STORE_LOOP_BUSY_MS. */
    if (zv_store_run(s, "BEGIN IMMEDIATE") == 0) {
        zv_store_run(s, "ROLLBACK");
        return 0;
    }
    if ((s->last_rc & 0xff) == SQLITE_BUSY) {
        zv_store_writer_wait_lock(s);
        snprintf(err, errlen, "database is locked by another process (the writer waits for it)");
    } else {
        snprintf(err, errlen, "%s", s->err);
    }
    return -1;
}

int zv_store_writer_start(zv_store *s, struct event_base *base, void (*on_ready)(void *arg),
                          void *arg, char *err, size_t errlen)
{
    if (s->wr) return 0;
    zv_store_writer *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->s = s;
    w->on_ready = on_ready;
    w->ready_arg = arg;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    pthread_cond_init(&w->done_cv, NULL);
    w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->done_ev = event_new(base, -1, 0, on_lent_done, w);
    if (w->efd < 0 || !w->done_ev ||
        !(w->ev = event_new(base, w->efd, EV_READ | EV_PERSIST, on_wakeup, s)) ||
        event_add(w->ev, NULL) < 0 || pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        snprintf(err, errlen, "cannot start the store's writer thread");
        if (w->done_ev) event_free(w->done_ev);
        if (w->ev) event_free(w->ev);
        if (w->efd >= 0) close(w->efd);
        free(w);
        return -1;
    }
    s->wr = w;
    if (!(s->reader = zv_store_open_reader(s, err, errlen))) {
        zv_store_writer_stop(s);
        return -1;
    }
    /* The loop's own lock waits end at once: the writer does the waiting. */
    sqlite3_busy_timeout(s->db, ZV_STORE_LOOP_BUSY_MS);
    return 0;
}

void zv_store_writer_stop(zv_store *s)
{
    zv_store_writer *w = s->wr;
    if (!w) return;
    zv_store_writer_settle(s);
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    w->on_ready = NULL; /* the runtime is going */
    int ok;
    take(s, &ok); /* a lock wait cut short */
    /* A lent unit's done() the runtime did not take (zv_store_lent_finish)
     * is not run any more: what it would touch may be gone. */
    event_free(w->done_ev);
    event_free(w->ev);
    close(w->efd);
    if (w->probe) sqlite3_close(w->probe);
    free(w->held);
    pthread_cond_destroy(&w->cv);
    pthread_cond_destroy(&w->done_cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
    s->wr = NULL;
    zv_store_close(s->reader);
    s->reader = NULL;
    sqlite3_busy_timeout(s->db, 5000);
}
