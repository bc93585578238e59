/*
 * filedrop source: picks up ECD exports (*.csv, *.json, *.jsonl) from a
 * directory, one file at a time in name order, and moves each to done/ or
 * rejected/ (with <name>.reason) when finished.
 *
 * When is a file complete?  A file is taken only after nobody has written
 * to it for `settle` (its mtime is at least that old), and never while its
 * name starts with '.' or ends in .tmp or .part (write-then-rename
 * exporters).  inotify (close-after-write, moved-in) only makes us look
 * sooner; a rescan timer catches the rest.
 *
 * Resume: the watermark holds the file's identity (name|size|mtime) and the
 * offset of the next record; it is written in the same commit as the
 * records before it, every `batch_rows` records.  After a restart the file
 * continues at that offset: nothing is lost and nothing is emitted twice.
 * The last commit of a file marks it finished before it is moved, so a
 * crash between the two moves it without reading it again.
 */
#include "filedrop.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zinvol/utf8.h>

static int wanted(const char *name)
{
    if (name[0] == '.') return 0;
    const char *ext = strrchr(name, '.');
    if (!ext) return 0;
    return strcmp(ext, ".csv") == 0 || strcmp(ext, ".json") == 0 || strcmp(ext, ".jsonl") == 0;
}

static void make_sig(const char *name, const struct stat *st, char *out, size_t len)
{
    snprintf(out, len, "%s|%lld|%lld.%09ld", name, (long long)st->st_size,
             (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *base_of(const char *dest)
{
    const char *b = strrchr(dest, '/');
    return b ? b + 1 : dest;
}

static void reject(fd_src *s, const char *name, const char *why)
{
    char dest[1200];
    s->host->log(s->ctx, ZV_LOG_WARN, "filedrop: %s rejected: %s", name, why);
    s->host->count(s->ctx, "files_rejected", 1);
    if (fd_move_to(s, name, "rejected", dest, sizeof(dest)) != 0) {
        s->host->log(s->ctx, ZV_LOG_ERROR, "filedrop: cannot move %s to rejected/: %s", name,
                     strerror(errno));
        return;
    }
    fd_write_reason(s, "rejected", base_of(dest), why);
}

/* The file's last records are durable (with its finished mark): tell, move. */
static void finished(fd_src *s, fd_reader *r)
{
    char dest[1200];
    const fd_tally *t = fd_reader_tally(r);
    /* The one line an administrator looks for: the file was taken, and
     * what became of its records. */
    char staged[64] = "";
    if (t->staged_base >= 0)
        snprintf(staged, sizeof(staged), ", %lld staged for destinations",
                 (long long)(s->host->staged_total(s->ctx) - t->staged_base));
    s->host->log(s->ctx, ZV_LOG_INFO,
                 "filedrop: %s processed: %lld rows, %lld new, %lld unchanged, %lld quarantined%s",
                 fd_reader_name(r), (long long)t->rows, (long long)t->fresh,
                 (long long)t->unchanged, (long long)t->quarantined, staged);
    if (fd_move_to(s, fd_reader_name(r), "done", dest, sizeof(dest)) != 0)
        s->host->log(s->ctx, ZV_LOG_ERROR, "filedrop: cannot move %s to done/: %s",
                     fd_reader_name(r), strerror(errno));
    s->host->count(s->ctx, "files_done", 1);
}

/* Where the next step starts, in the unit of the records before it; at the
 * end of the file (rc 0) the file is marked finished in it instead, so a
 * crash before the move to done/ moves it without reading it again. */
static void mark_pos(fd_src *s, fd_reader *r, int rc)
{
    if (rc == 0) {
        s->host->watermark_set(s->ctx, "finished", fd_reader_sig(r));
        s->host->watermark_set(s->ctx, "file", "");
        s->host->watermark_set(s->ctx, "offset", "0");
        return;
    }
    off_t off;
    int64_t row;
    char num[64];
    fd_reader_pos(r, &off, &row);
    s->host->watermark_set(s->ctx, "file", fd_reader_sig(r));
    snprintf(num, sizeof(num), "%lld:%lld", (long long)off, (long long)row);
    s->host->watermark_set(s->ctx, "offset", num);
}

static void scan(fd_src *s);

/* Store trouble: what was not committed is forgotten (the rows of the step
 * are discarded whole) and the file is read again from the watermark. */
static void retry_later(fd_src *s)
{
    s->host->log(s->ctx, ZV_LOG_WARN, "filedrop: %s: store unavailable, retrying",
                 fd_reader_name(s->cur));
    fd_reader_close(s->cur);
    s->cur = NULL;
    s->host->timer_arm(s->tick, 1000);
}

/* The step's unit is durable (ok 1) or lost (0): the next step, the file's
 * end, or its rejection.  Runs on the loop in a callback of its own. */
static void step_durable(void *arg, int ok)
{
    fd_src *s = arg;
    fd_reader *r = s->cur;
    int rc = s->step_rc;
    s->committing = 0;
    if (!r) return;
    if (s->stopped) return; /* destroy() closes the reader */
    if (rc == 1) {
        if (!ok) {
            retry_later(s);
            return;
        }
        s->host->timer_arm(s->work, 0);
        return;
    }
    if (rc == 0 && !ok) {
        retry_later(s); /* not marked finished: read again from the watermark */
        return;
    }
    if (rc == 0) {
        finished(s, r);
    } else {
        /* Unreadable mid-way: what was read before stays, the file goes. */
        char name[1024];
        snprintf(name, sizeof(name), "%s", fd_reader_name(r));
        reject(s, name, s->step_why);
    }
    fd_reader_close(r);
    s->cur = NULL;
    scan(s);
}

/* One step of the current file: at most batch_rows records and where the
 * next step starts, one unit.  The next step waits until this one is
 * durable, but the loop does not: with the host's group commit the fsync
 * runs on the store's writer thread and the loop serves everything else
 * meanwhile (a synchronous commit() stopped the loop for every fsync). */
static void work(void *arg)
{
    fd_src *s = arg;
    fd_reader *r = s->cur;
    if (!r || s->stopped || s->committing) return;
    s->step_why[0] = '\0';
    int rc = fd_reader_step(s, r, s->step_why, sizeof(s->step_why));
    if (rc == -2) {
        if (ZV_HOST_HAS(s->host, rollback)) s->host->rollback(s->ctx);
        retry_later(s);
        return;
    }
    mark_pos(s, r, rc);
    s->step_rc = rc;
    if (ZV_HOST_HAS(s->host, commit_async)) {
        s->committing = 1;
        /* Last: without a loop the host calls step_durable() from here. */
        if (s->host->commit_async(s->ctx, step_durable, s) == 0) return;
        s->committing = 0;
        if (ZV_HOST_HAS(s->host, rollback)) s->host->rollback(s->ctx);
        step_durable(s, 0);
        return;
    }
    int ok = s->host->commit(s->ctx) == 0;
    if (!ok && ZV_HOST_HAS(s->host, rollback)) s->host->rollback(s->ctx);
    step_durable(s, ok);
}

/* File names become record ids and log text: they must be plain text. */
static int name_is_text(const char *name)
{
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F) return 0;
    return zv_utf8_valid(name, strlen(name), NULL);
}

/* The wanted names in the folder, sorted; NULL with *n 0 on failure. */
static char **list_names(fd_src *s, size_t *n)
{
    *n = 0;
    int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) close(fd);
        s->host->log(s->ctx, ZV_LOG_ERROR, "filedrop: cannot read %s: %s", s->dir, strerror(errno));
        return NULL;
    }
    char **names = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!wanted(e->d_name)) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof(*nn));
            if (!nn) break;
            names = nn;
        }
        if ((names[*n] = strdup(e->d_name))) (*n)++;
    }
    closedir(d);
    if (*n) qsort(names, *n, sizeof(*names), cmp_names);
    return names;
}

static void maybe_prune(fd_src *s, int64_t now)
{
    int64_t every = s->retention_s < 3600 ? s->retention_s : 3600;
    if (s->retention_s <= 0 || now - s->pruned_at < every) return;
    s->pruned_at = now;
    int n = fd_prune_done(s, now);
    if (n > 0)
        s->host->log(s->ctx, ZV_LOG_INFO,
                     "filedrop: removed %d processed files from done/ (older than retention)", n);
}

/* A file's whole-file check (CSV) or parse (.json) on a worker thread: the
 * job is ours (host->queue_work's rules); done() runs on the loop. */
typedef struct open_job {
    fd_src *s;
    fd_reader *r;
    off_t off;
    int64_t row;
    int rc;
    char why[512];
} open_job;

static void open_work(void *arg)
{
    open_job *j = arg;
    j->rc = fd_reader_load(j->s, j->r, j->off, j->row, j->why, sizeof(j->why));
}

static void open_done(void *arg)
{
    open_job *j = arg;
    fd_src *s = j->s;
    s->opening = 0;
    if (s->stopped) {
        fd_reader_close(j->r);
    } else if (j->rc < 0) {
        char name[1024];
        snprintf(name, sizeof(name), "%s", fd_reader_name(j->r));
        fd_reader_close(j->r);
        reject(s, name, j->why[0] ? j->why : "cannot be read");
        scan(s);
    } else {
        s->cur = j->r;
        s->host->timer_arm(s->work, 0);
    }
    free(j);
}

/* 0 when the file is being opened on a worker thread; -1: open it here. */
static int open_off_loop(fd_src *s, const char *name, const char *sig, off_t off, int64_t row)
{
    if (!ZV_HOST_HAS(s->host, queue_work)) return -1;
    open_job *j = calloc(1, sizeof(*j));
    if (!j) return -1;
    *j = (open_job){.s = s, .off = off, .row = row};
    j->r = fd_reader_new(s, name, sig);
    if (!j->r) {
        free(j);
        return -1;
    }
    s->opening = 1;
    if (s->host->queue_work(s->ctx, open_work, open_done, j) == 0) return 0;
    s->opening = 0;
    fd_reader_close(j->r);
    free(j);
    return -1;
}

/* Try one directory entry: finish a lost move, reject what is not a file
 * we read, skip what is still being written, else open it.  1 when the
 * entry is still settling. */
static int try_entry(fd_src *s, const char *name, int64_t now, const char *wm_file,
                     const char *wm_off, const char *wm_fin)
{
    char sig[1200], why[512] = "";
    struct stat st;
    if (fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return 0; /* gone meanwhile */
    const char *bad = fd_not_regular(&st);
    if (!bad && !name_is_text(name))
        bad = "the file name is not plain UTF-8 text (control characters or invalid bytes); "
              "rename the file";
    if (bad) {
        reject(s, name, bad);
        return 0;
    }
    make_sig(name, &st, sig, sizeof(sig));
    if (strcmp(sig, wm_fin) == 0) { /* finished, but the move did not happen */
        char dest[1200];
        fd_move_to(s, name, "done", dest, sizeof(dest));
        return 0;
    }
    if ((int64_t)st.st_mtim.tv_sec + s->settle_s > now) return 1;
    long long off = 0, row = 0;
    if (strcmp(sig, wm_file) == 0) sscanf(wm_off, "%lld:%lld", &off, &row);
    if (off) s->host->log(s->ctx, ZV_LOG_NOTICE, "filedrop: resuming %s at byte %lld", name, off);
    if (open_off_loop(s, name, sig, (off_t)off, row) == 0) return 0;
    s->cur = fd_reader_open(s, name, sig, (off_t)off, row, why, sizeof(why));
    if (!s->cur) reject(s, name, why[0] ? why : "cannot be read");
    return 0;
}

/* Start on the first complete file, if any.  In drain mode, report drained
 * when nothing complete is left - after waiting (up to settle_wait) for
 * files still being written, so a cron run right after the export takes it. */
static void scan(fd_src *s)
{
    if (s->cur || s->opening || s->stopped) return;
    int64_t now = (int64_t)time(NULL);
    maybe_prune(s, now);
    size_t n;
    char **names = list_names(s, &n);
    char wm_file[1200] = "", wm_off[64] = "", wm_fin[1200] = "";
    s->host->watermark_get(s->ctx, "file", wm_file, sizeof(wm_file));
    s->host->watermark_get(s->ctx, "offset", wm_off, sizeof(wm_off));
    s->host->watermark_get(s->ctx, "finished", wm_fin, sizeof(wm_fin));
    int waiting = 0;
    for (size_t i = 0; i < n && !s->cur && !s->opening; i++)
        waiting += try_entry(s, names[i], now, wm_file, wm_off, wm_fin);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (s->opening) return; /* open_done() goes on */
    if (s->cur) {
        s->host->timer_arm(s->work, 0);
        return;
    }
    if (s->draining && waiting && now - s->drain_started < s->settle_wait_s) {
        if (!s->wait_logged)
            s->host->log(s->ctx, ZV_LOG_NOTICE,
                         "filedrop: waiting for %d file(s) still being written (settle %llds, "
                         "at most settle_wait %llds)",
                         waiting, (long long)s->settle_s, (long long)s->settle_wait_s);
        s->wait_logged = 1;
        s->host->timer_arm(s->tick, 250);
        return;
    }
    if (s->draining) {
        if (waiting)
            s->host->log(s->ctx, ZV_LOG_WARN,
                         "filedrop: %d file(s) still being written after settle_wait (%llds) "
                         "are left for the next run",
                         waiting, (long long)s->settle_wait_s);
        s->draining = 0;
        s->host->drained(s->ctx);
        return;
    }
    s->host->timer_arm(s->tick, waiting ? 500 : (uint64_t)s->settle_s * 1000 + 1000);
}

static void on_tick(void *arg)
{
    scan(arg);
}

static void on_inotify(int fd, int what, void *arg)
{
    (void)what;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    fd_src *s = arg;
    /* A file just closed still has to settle; look again shortly after. */
    if (!s->cur && !s->opening) s->host->timer_arm(s->tick, 200);
}

static int fd_create(zv_ctx *ctx, const zv_host *host, void **state, char *err, size_t errlen)
{
    fd_src *s = calloc(1, sizeof(*s));
    if (!s) return -1;
    s->ctx = ctx;
    s->host = host;
    s->inotify_fd = -1;
    s->dirfd = -1;
    s->dir = strdup(((const fd_conf *)host->config(ctx))->directory);
    if (!s->dir || fd_read_options(s, err, errlen) < 0) goto fail;
    /* Nothing is made here (zinvold --check-config creates nothing): a
     * missing folder is made when the source starts, so the default
     * configuration works on a fresh install; one that cannot be made or
     * written is an error now. */
    char why[512];
    int u = zv_dir_usable(s->dir, why, sizeof(why));
    if (u < 0) {
        snprintf(err, errlen, "directory: %s", why);
        goto fail;
    }
    if (u == 1)
        host->log(ctx, ZV_LOG_NOTICE, "filedrop: directory %s; it is made when the source starts",
                  why);
    s->tick = host->timer_new(ctx, on_tick, s);
    s->work = host->timer_new(ctx, work, s);
    *state = s;
    return 0;
fail:
    free(s->dir);
    free(s->item_type);
    free(s);
    return -1;
}

/* The drop folder, made when missing, opened once. */
static int open_dir(fd_src *s)
{
    if (s->dirfd >= 0) return 0;
    if (zv_mkdir_p(s->dir, 0750) < 0) {
        s->host->log(s->ctx, ZV_LOG_ERROR, "filedrop: directory %s cannot be used as a folder: %s",
                     s->dir, strerror(errno));
        return -1;
    }
    s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0) {
        s->host->log(s->ctx, ZV_LOG_ERROR, "filedrop: cannot open %s: %s", s->dir, strerror(errno));
        return -1;
    }
    return 0;
}

static int fd_start(void *state)
{
    fd_src *s = state;
    if (open_dir(s) < 0) return -1;
    s->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (s->inotify_fd >= 0 &&
        inotify_add_watch(s->inotify_fd, s->dir, IN_CLOSE_WRITE | IN_MOVED_TO) >= 0)
        s->watch = s->host->watch_fd(s->ctx, s->inotify_fd, ZV_FD_READ, on_inotify, s);
    else
        s->host->log(s->ctx, ZV_LOG_WARN, "filedrop: no inotify (%s); rescanning on a timer",
                     strerror(errno));
    s->host->timer_arm(s->tick, 0);
    return 0;
}

static int fd_drain(void *state)
{
    fd_src *s = state;
    if (open_dir(s) < 0) return -1;
    s->draining = 1;
    s->drain_started = (int64_t)time(NULL);
    s->wait_logged = 0;
    if (!s->cur) s->host->timer_arm(s->tick, 0);
    return 0;
}

static void fd_stop(void *state)
{
    fd_src *s = state;
    s->stopped = 1;
    s->host->timer_cancel(s->tick);
    s->host->timer_cancel(s->work);
}

static void fd_destroy(void *state)
{
    fd_src *s = state;
    if (!s) return;
    if (s->watch) s->host->unwatch_fd(s->watch);
    if (s->inotify_fd >= 0) close(s->inotify_fd);
    if (s->dirfd >= 0) close(s->dirfd);
    s->host->timer_free(s->tick);
    s->host->timer_free(s->work);
    /* Records after the last commit are dropped: the watermark brings us
     * back to them. */
    fd_reader_close(s->cur);
    free(s->dir);
    free(s->item_type);
    free(s);
}

static const zv_source_ops ops = {ZV_SIZED(zv_source_ops), fd_start, fd_drain, fd_stop};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_SOURCE, "filedrop"),
    .version = "1.0",
    .description = "ECD exports dropped as CSV, JSON or JSON-lines files",
    .options = fd_options,
    .noptions = FD_NOPTIONS,
    .option_size = sizeof(zv_option),
    .config_size = sizeof(fd_conf),
    .create = fd_create,
    .destroy = fd_destroy,
    .source = &ops,
};
