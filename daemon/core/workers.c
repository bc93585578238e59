/* The worker pool; see workers.h for the rules. */
#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct job {
    void (*work)(void *arg);
    void (*done)(void *arg);
    void *arg;
    struct job *next;
} job;

struct zv_workers {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *todo_head, *todo_tail; /* queued, not started */
    job *done_head, *done_tail; /* finished, done() not yet run */
    int pending;                /* queued + running + finished awaiting done() */
    int stopping;
    int efd;
    struct event *ev;
    pthread_t *threads;
    int nthreads;
    zv_loop_gate gate;
    void *gate_arg;
};

static void push(job **head, job **tail, job *j)
{
    j->next = NULL;
    if (*tail)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

static void *worker_main(void *arg)
{
    zv_workers *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->todo_head && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        job *j = w->todo_head;
        if (!j) break; /* stopping and nothing left */
        w->todo_head = j->next;
        if (!w->todo_head) w->todo_tail = NULL;
        pthread_mutex_unlock(&w->mu);
        j->work(j->arg);
        pthread_mutex_lock(&w->mu);
        push(&w->done_head, &w->done_tail, j);
        uint64_t one = 1;
        /* A full counter still wakes the loop: nothing to do on EAGAIN. */
        if (write(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* On the loop: done() of the first finished job.  1 when more are finished. */
static int run_one(zv_workers *w)
{
    pthread_mutex_lock(&w->mu);
    job *j = w->done_head;
    if (j) {
        w->done_head = j->next;
        if (!w->done_head) w->done_tail = NULL;
        w->pending--;
    }
    pthread_mutex_unlock(&w->mu);
    if (!j) return 0;
    j->done(j->arg);
    free(j);
    pthread_mutex_lock(&w->mu);
    int more = w->done_head != NULL;
    pthread_mutex_unlock(&w->mu);
    return more;
}

/* One done() per turn of the loop, so that units applied one after the
 * other (render units of several destinations) do not add up to one long
 * callback: the next runs in the next turn. */
static void run_done(zv_workers *w)
{
    if (w->gate && w->gate(w->gate_arg, w->ev, 0)) return;
    if (run_one(w)) event_active(w->ev, EV_READ, 0);
}

void zv_workers_set_gate(zv_workers *w, zv_loop_gate gate, void *arg)
{
    w->gate = gate;
    w->gate_arg = arg;
}

static void on_wakeup(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    uint64_t n;
    if (read((int)fd, &n, sizeof(n)) < 0) {
        /* EAGAIN: another turn drained it already; the list is what counts. */
    }
    run_done(arg);
}

zv_workers *zv_workers_new(struct event_base *base, int nthreads)
{
    if (nthreads <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = cpus > 0 && cpus < 2 ? (int)cpus : 2;
    }
    zv_workers *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->threads = calloc((size_t)nthreads, sizeof(*w->threads));
    if (w->efd < 0 || !w->threads) goto fail;
    w->ev = event_new(base, w->efd, EV_READ | EV_PERSIST, on_wakeup, w);
    if (!w->ev || event_add(w->ev, NULL) < 0) goto fail;
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0) break;
        w->nthreads++;
    }
    if (w->nthreads == 0) goto fail;
    return w;
fail:
    zv_workers_free(w);
    return NULL;
}

int zv_workers_queue(zv_workers *w, void (*work)(void *arg), void (*done)(void *arg), void *arg)
{
    if (!w || !work || !done) return -1;
    job *j = calloc(1, sizeof(*j));
    if (!j) return -1;
    *j = (job){work, done, arg, NULL};
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        pthread_mutex_unlock(&w->mu);
        free(j);
        return -1;
    }
    push(&w->todo_head, &w->todo_tail, j);
    w->pending++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

int zv_workers_pending(const zv_workers *w)
{
    if (!w) return 0;
    pthread_mutex_lock((pthread_mutex_t *)&w->mu);
    int n = w->pending;
    pthread_mutex_unlock((pthread_mutex_t *)&w->mu);
    return n;
}

int zv_workers_threads(const zv_workers *w)
{
    return w ? w->nthreads : 0;
}

void zv_workers_free(zv_workers *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    /* The threads finish every queued job before they end. */
    for (int i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    while (run_one(w)) {
    }
    if (w->gate && w->ev) w->gate(w->gate_arg, w->ev, 1);
    if (w->ev) event_free(w->ev);
    if (w->efd >= 0) close(w->efd);
    free(w->threads);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
