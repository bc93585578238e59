/*
 * Transport "filedrop": write each payload as a file into a directory, for
 * upload through a funder's portal or a sync tool.  The file appears whole
 * or not at all: written to a hidden temp name, synced, renamed, and the
 * directory synced so the rename survives a crash.  The file name carries
 * the idempotency key, so a repeat overwrites the same file.
 *
 * The disk work runs on a worker thread, off the loop, in batches: every
 * payload handed over while the worker was busy is written in the next
 * batch, whose files are synced together (one syncfs of the directory's
 * file system; fsync per file where that fails), then renamed, then the
 * directory synced once.  Only then are the sends reported, on the loop
 * (an eventfd the host watches), so "delivered" always means "on disk".
 * A host without fd watching gets the same work done on the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

typedef struct job job;

typedef struct fd_tr {
    zv_ctx *ctx;
    const zv_host *host;
    const char *dir;
    const char *prefix;
    int dir_made; /* the folder is made once, at the first batch (writer only) */
    /* Worker, started at the first send.  todo and done are guarded by mu. */
    int started, stop;
    pthread_t worker;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *todo, *todo_tail, *done, *done_tail;
    int efd;
    zv_watch *watch;
    zv_timer *sync_timer; /* on-loop fallback */
} fd_tr;

/* One send, owned by the transport from send() until its callback. */
struct job {
    job *next;
    char name[256];
    unsigned char *data;
    size_t len;
    zv_send_cb cb;
    void *arg;
    int fd; /* temp file while the batch is written */
    int ok;
    char detail[512];
};

/* The options as the core stores them (host->config()). */
typedef struct fd_tr_conf {
    const char *dir, *prefix, *retour_dir;
} fd_tr_conf;

static const zv_option options[] = {
    {.name = "dir",
     .type = ZV_OPT_PATH,
     .flags = ZV_OPT_REQUIRED,
     .min = 1,
     ZV_OPT_AT(fd_tr_conf, dir),
     .description = "directory the files go into (made when missing)"},
    {.name = "prefix",
     .type = ZV_OPT_STRING,
     .def = "",
     .max = 64,
     ZV_OPT_AT(fd_tr_conf, prefix),
     .description = "put before the idempotency key in file names"},
    {.name = "retour_dir",
     .type = ZV_OPT_PATH,
     .min = 1,
     ZV_OPT_AT(fd_tr_conf, retour_dir),
     .description = "folder where the funder's retours (AW36, AW310, JW306, ...) arrive: each file "
                    "is applied as zinvolctl retour does, then moved to done/ (or rejected/ with a "
                    ".reason)"},
};

static int create(zv_ctx *ctx, const zv_host *host, void **state, char *err, size_t errlen)
{
    fd_tr *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->ctx = ctx;
    t->host = host;
    const fd_tr_conf *c = host->config(ctx);
    t->dir = c->dir;
    t->prefix = c->prefix;
    t->efd = -1;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    /* Nothing is made here (zinvold --check-config creates nothing): a
     * missing folder is made with the first message, so the default
     * configuration works on a fresh install; one that cannot be made or
     * written is an error now. */
    char why[512] = "not set";
    int u = t->dir ? zv_dir_usable(t->dir, why, sizeof(why)) : -1;
    if (u < 0) {
        snprintf(err, errlen, "dir: %s", why);
        free(t);
        return -1;
    }
    if (u == 1)
        host->log(ctx, ZV_LOG_NOTICE, "filedrop: dir %s; it is made with the first message", why);
    const char *rdir = c->retour_dir;
    if (rdir && *rdir) {
        /* The core watches it (daemon/core/retour_dir.c); checked here. */
        u = zv_dir_usable(rdir, why, sizeof(why));
        if (u < 0) {
            snprintf(err, errlen, "retour_dir: %s", why);
            free(t);
            return -1;
        }
        if (u == 1)
            host->log(ctx, ZV_LOG_NOTICE, "filedrop: retour_dir %s; it is made at start", why);
    }
    *state = t;
    return 0;
}

/* Keys come from formats and are safe in practice; still, a file name must
 * never leave the directory. */
static void safe_name(char *out, size_t outlen, const char *prefix, const char *key,
                      const char *ext)
{
    size_t o = 0;
    const char *parts[3] = {prefix, key, NULL};
    for (int p = 0; parts[p]; p++)
        for (const char *c = parts[p]; *c && o + 1 < outlen; c++) {
            int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                     (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.';
            char ch = ok && !(o == 0 && *c == '.') ? *c : '_';
            out[o++] = ch;
        }
    out[o] = '\0';
    if (ext && *ext) snprintf(out + o, outlen - o, ".%s", ext);
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void fail(job *j, const char *what, const char *path)
{
    if (!j->detail[0])
        snprintf(j->detail, sizeof(j->detail), "%s: %s: %s", path, what, strerror(errno));
    j->ok = 0;
}

/* Write the batch's temp files, sync them together, rename them into place,
 * sync the directory once.  Runs on the worker (or the loop, as fallback). */
static void write_batch(fd_tr *t, job *list)
{
    char tmp[4096], final[4096];
    /* Made when missing, once (see create): a folder that disappears later
     * (an unmounted share) is a failure to retry, not made again. */
    if (!t->dir_made) {
        zv_mkdir_p(t->dir, 0750);
        t->dir_made = 1;
    }
    int n = 0, dfd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (job *j = list; j; j = j->next) {
        j->ok = 1;
        j->fd = -1;
        snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", t->dir, j->name);
        j->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (j->fd < 0) {
            fail(j, "open", tmp);
        } else if (write_all(j->fd, j->data, j->len) < 0) {
            fail(j, "write", tmp);
        } else {
            n++;
            continue;
        }
        if (j->fd >= 0) close(j->fd);
        j->fd = -1;
        unlink(tmp);
    }
    /* One sync for the whole batch; fsync each file if that is refused. */
    int synced = n > 1 && dfd >= 0 && syncfs(dfd) == 0;
    for (job *j = list; j; j = j->next) {
        if (j->fd < 0) continue;
        snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", t->dir, j->name);
        snprintf(final, sizeof(final), "%s/%s", t->dir, j->name);
        if (!synced && fsync(j->fd) < 0) fail(j, "fsync", tmp);
        close(j->fd);
        j->fd = -1;
        if (j->ok && rename(tmp, final) < 0) fail(j, "rename", final);
        if (!j->ok) unlink(tmp);
    }
    int dir_ok = dfd >= 0 && fsync(dfd) == 0;
    for (job *j = list; j; j = j->next) {
        if (j->ok && !dir_ok) fail(j, dfd < 0 ? "open" : "fsync", t->dir);
        if (j->ok) snprintf(j->detail, sizeof(j->detail), "written %s", j->name);
    }
    if (dfd >= 0) close(dfd);
}

static void report_list(job *list)
{
    while (list) {
        job *j = list;
        list = j->next;
        /* A full disk or a missing directory is temporary: retried until max_age. */
        zv_send_result r = {ZV_SIZED(zv_send_result), .status = j->ok ? ZV_SEND_OK : ZV_SEND_RETRY,
                            .detail = j->detail, .retry_after_s = -1};
        j->cb(&r, j->arg);
        free(j->data);
        free(j);
    }
}

static job *take(job **head, job **tail)
{
    job *l = *head;
    *head = *tail = NULL;
    return l;
}

static void append(job **head, job **tail, job *l)
{
    if (!l) return;
    if (*tail)
        (*tail)->next = l;
    else
        *head = l;
    while (l->next)
        l = l->next;
    *tail = l;
}

static void *worker_main(void *arg)
{
    fd_tr *t = arg;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        while (!t->todo && !t->stop)
            pthread_cond_wait(&t->cv, &t->mu);
        if (!t->todo) break; /* stopping, nothing left */
        job *batch = take(&t->todo, &t->todo_tail);
        pthread_mutex_unlock(&t->mu);
        write_batch(t, batch);
        pthread_mutex_lock(&t->mu);
        append(&t->done, &t->done_tail, batch);
        uint64_t one = 1;
        if (write(t->efd, &one, sizeof(one)) < 0) { /* counter full: already signalled */
        }
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

static void on_done(int fd, int what, void *arg)
{
    (void)what;
    fd_tr *t = arg;
    uint64_t n;
    if (read(fd, &n, sizeof(n)) < 0) { /* spurious wakeup: nothing to read */
    }
    pthread_mutex_lock(&t->mu);
    job *l = take(&t->done, &t->done_tail);
    pthread_mutex_unlock(&t->mu);
    report_list(l);
}

/* Fallback without a worker: what was handed over in this loop turn is
 * written as one batch from a timer, never from inside send(). */
static void on_sync_timer(void *arg)
{
    fd_tr *t = arg;
    job *l = take(&t->todo, &t->todo_tail);
    write_batch(t, l);
    report_list(l);
}

static int start_worker(fd_tr *t)
{
    t->started = -1;
    if (t->host->watch_fd) {
        t->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (t->efd >= 0) t->watch = t->host->watch_fd(t->ctx, t->efd, ZV_FD_READ, on_done, t);
        if (t->watch && pthread_create(&t->worker, NULL, worker_main, t) == 0) {
            t->started = 1;
            return 0;
        }
        if (t->watch) t->host->unwatch_fd(t->watch);
        t->watch = NULL;
        if (t->efd >= 0) close(t->efd);
        t->efd = -1;
    }
    t->sync_timer = t->host->timer_new(t->ctx, on_sync_timer, t);
    if (!t->sync_timer) return -1;
    t->host->log(t->ctx, ZV_LOG_INFO, "writing files on the loop (no worker thread)");
    return 0;
}

static int send_payload(void *state, const zv_delivery *d, zv_send_cb cb, void *arg)
{
    fd_tr *t = state;
    if (!t->started && start_worker(t) < 0) return -1;
    job *j = calloc(1, sizeof(*j));
    if (!j) return -1;
    j->data = malloc(d->len ? d->len : 1);
    if (!j->data) {
        free(j);
        return -1;
    }
    memcpy(j->data, d->payload, d->len);
    j->len = d->len;
    j->cb = cb;
    j->arg = arg;
    j->fd = -1;
    safe_name(j->name, sizeof(j->name), t->prefix, d->idem_key,
              d->extension ? d->extension : "dat");
    if (t->started == 1) {
        pthread_mutex_lock(&t->mu);
        append(&t->todo, &t->todo_tail, j);
        pthread_cond_signal(&t->cv);
        pthread_mutex_unlock(&t->mu);
    } else {
        append(&t->todo, &t->todo_tail, j);
        t->host->timer_arm(t->sync_timer, 0);
    }
    return 0;
}

static void destroy(void *state)
{
    fd_tr *t = state;
    if (t->started == 1) {
        /* The worker finishes what it was given; those sends are reported
         * here, so each callback still runs exactly once. */
        pthread_mutex_lock(&t->mu);
        t->stop = 1;
        pthread_cond_signal(&t->cv);
        pthread_mutex_unlock(&t->mu);
        pthread_join(t->worker, NULL);
        t->host->unwatch_fd(t->watch);
        close(t->efd);
        report_list(take(&t->done, &t->done_tail));
    }
    if (t->sync_timer) {
        job *l = take(&t->todo, &t->todo_tail);
        write_batch(t, l);
        report_list(l);
        t->host->timer_free(t->sync_timer);
    }
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

static const zv_transport_ops ops = {ZV_SIZED(zv_transport_ops), .send = send_payload};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_TRANSPORT, "filedrop"),
    .version = "1.0",
    .description = "write payloads into a directory (temp file, sync, rename, sync dir; batched "
                   "on a worker thread)",
    ZV_OPTIONS(options, fd_tr_conf),
    .create = create,
    .destroy = destroy,
    .transport = &ops,
};
