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

static const zv_option options[] = {
    {"directory", ZV_OPT_STRING, NULL, ZV_OPT_REQUIRED | ZV_OPT_PATH,
     "Directory the ECD drops its exports in; done/ and rejected/ are created inside"},
    {"delimiter", ZV_OPT_STRING, ",", 0, "CSV field delimiter: one character, or \"tab\""},
    {"encoding", ZV_OPT_STRING, "utf-8", 0, "CSV encoding: utf-8 or windows-1252"},
    {"settle", ZV_OPT_STRING, "2s", 0,
     "A file is complete once it has not been written to for this long"},
    {"batch_rows", ZV_OPT_INT, "500", 0, "Records per commit (and per turn of the loop)"},
    {"item_type", ZV_OPT_STRING, NULL, 0,
     "Item type for the mapping's \"when\"; default: the file name up to the first _ - or ."},
    {"max_json_size", ZV_OPT_INT, "268435456", 0, "Largest .json file read as one document"},
    {NULL, 0, NULL, 0, NULL}};

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

/* Move name into sub/, adding .1, .2 ... rather than overwrite. */
static int move_to(fd_src *s, const char *name, const char *sub, char *dest, size_t destlen)
{
    char from[4096], dir[4096];
    snprintf(from, sizeof(from), "%s/%s", s->dir, name);
    snprintf(dir, sizeof(dir), "%s/%s", s->dir, sub);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) return -1;
    for (int i = 0; i < 1000; i++) {
        if (i == 0)
            snprintf(dest, destlen, "%s/%s", dir, name);
        else
            snprintf(dest, destlen, "%s/%s.%d", dir, name, i);
        if (access(dest, F_OK) != 0) return rename(from, dest);
    }
    return -1;
}

static void reject(fd_src *s, const char *name, const char *why)
{
    char dest[4096 + 16];
    s->host->log(s->ctx, ZV_LOG_WARN, "filedrop: %s rejected: %s", name, why);
    s->host->count(s->ctx, "files_rejected", 1);
    if (move_to(s, name, "rejected", dest, sizeof(dest) - 8) != 0) {
        s->host->log(s->ctx, ZV_LOG_ERROR, "filedrop: cannot move %s to rejected/: %s", name,
                     strerror(errno));
        return;
    }
    strcat(dest, ".reason");
    FILE *f = fopen(dest, "w");
    if (f) {
        fprintf(f, "%s\n", why);
        fclose(f);
    }
}

static void finish(fd_src *s, fd_reader *r)
{
    char dest[4096 + 16];
    /* Mark the file finished in the same commit as its last records. */
    s->host->watermark_set(s->ctx, "finished", fd_reader_sig(r));
    s->host->watermark_set(s->ctx, "file", "");
    s->host->watermark_set(s->ctx, "offset", "0");
    if (s->host->commit(s->ctx) != 0) return; /* retried from the watermark */
    if (move_to(s, fd_reader_name(r), "done", dest, sizeof(dest)) != 0)
        s->host->log(s->ctx, ZV_LOG_ERROR, "filedrop: cannot move %s to done/: %s",
                     fd_reader_name(r), strerror(errno));
    s->host->count(s->ctx, "files_done", 1);
}

static int commit_pos(fd_src *s, fd_reader *r)
{
    off_t off;
    int64_t row;
    char num[64];
    fd_reader_pos(r, &off, &row);
    s->host->watermark_set(s->ctx, "file", fd_reader_sig(r));
    snprintf(num, sizeof(num), "%lld:%lld", (long long)off, (long long)row);
    s->host->watermark_set(s->ctx, "offset", num);
    return s->host->commit(s->ctx);
}

static void scan(fd_src *s);

static void work(void *arg)
{
    fd_src *s = arg;
    fd_reader *r = s->cur;
    char why[512] = "";
    if (!r || s->stopped) return;
    int rc = fd_reader_step(s, r, why, sizeof(why));
    if (rc == -2 || (rc >= 0 && commit_pos(s, r) != 0)) {
        /* Store trouble: forget what was not committed, retry later. */
        s->host->log(s->ctx, ZV_LOG_WARN, "filedrop: %s: store unavailable, retrying",
                     fd_reader_name(r));
        fd_reader_close(r);
        s->cur = NULL;
        s->host->timer_arm(s->tick, 1000);
        return;
    }
    if (rc == 1) {
        s->host->timer_arm(s->work, 0);
        return;
    }
    char name[1024];
    snprintf(name, sizeof(name), "%s", fd_reader_name(r));
    if (rc == 0) {
        finish(s, r);
    } else {
        /* Unreadable mid-way: what was committed stays, the file goes. */
        commit_pos(s, r);
        reject(s, name, why);
    }
    fd_reader_close(r);
    s->cur = NULL;
    scan(s);
}

/* Start on the first complete file, if any.  In drain mode, report drained
 * when nothing complete is left. */
static void scan(fd_src *s)
{
    if (s->cur || s->stopped) return;
    DIR *d = opendir(s->dir);
    if (!d) {
        s->host->log(s->ctx, ZV_LOG_ERROR, "filedrop: cannot read %s: %s", s->dir, strerror(errno));
        if (s->draining) s->draining = 0, s->host->drained(s->ctx);
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!wanted(e->d_name)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof(*nn));
            if (!nn) break;
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof(*names), cmp_names);
    char wm_file[1200] = "", wm_off[64] = "", wm_fin[1200] = "";
    s->host->watermark_get(s->ctx, "file", wm_file, sizeof(wm_file));
    s->host->watermark_get(s->ctx, "offset", wm_off, sizeof(wm_off));
    s->host->watermark_get(s->ctx, "finished", wm_fin, sizeof(wm_fin));
    int64_t now = (int64_t)time(NULL);
    int waiting = 0;
    for (size_t i = 0; i < n && !s->cur; i++) {
        char path[4096], sig[1200], why[512] = "";
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", s->dir, names[i]);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        make_sig(names[i], &st, sig, sizeof(sig));
        if (strcmp(sig, wm_fin) == 0) { /* finished, but the move did not happen */
            char dest[4096 + 16];
            move_to(s, names[i], "done", dest, sizeof(dest));
            continue;
        }
        if ((int64_t)st.st_mtim.tv_sec + s->settle_s > now) {
            waiting = 1;
            continue;
        }
        long long off = 0, row = 0;
        if (strcmp(sig, wm_file) == 0) sscanf(wm_off, "%lld:%lld", &off, &row);
        if (off)
            s->host->log(s->ctx, ZV_LOG_NOTICE, "filedrop: resuming %s at byte %lld", names[i],
                         off);
        s->cur = fd_reader_open(s, names[i], sig, (off_t)off, row, why, sizeof(why));
        if (!s->cur) reject(s, names[i], why[0] ? why : "cannot be read");
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (s->cur) {
        s->host->timer_arm(s->work, 0);
        return;
    }
    if (s->draining) {
        if (waiting)
            s->host->log(s->ctx, ZV_LOG_NOTICE,
                         "filedrop: files still being written are left for the next run");
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
    if (!s->cur) s->host->timer_arm(s->tick, 200);
}

static int fd_create(zv_ctx *ctx, const zv_host *host, void **state, char *err, size_t errlen)
{
    fd_src *s = calloc(1, sizeof(*s));
    if (!s) return -1;
    s->ctx = ctx;
    s->host = host;
    s->inotify_fd = -1;
    s->dir = strdup(host->cfg_str(ctx, "directory"));
    const char *d = host->cfg_str(ctx, "delimiter");
    const char *enc = host->cfg_str(ctx, "encoding");
    s->settle_s = zv_duration_parse(host->cfg_str(ctx, "settle"));
    s->batch = host->cfg_int(ctx, "batch_rows");
    s->max_json = host->cfg_int(ctx, "max_json_size");
    s->item_type = zv_strdup0(host->cfg_str(ctx, "item_type"));
    if (d && strcmp(d, "tab") == 0) d = "\t";
    if (!d || strlen(d) != 1 || d[0] == '"' || d[0] == '\n') {
        snprintf(err, errlen, "delimiter: one character (not a quote or newline), or \"tab\"");
        goto fail;
    }
    s->delim = d[0];
    if (enc && (strcasecmp(enc, "windows-1252") == 0 || strcasecmp(enc, "cp1252") == 0))
        s->cp1252 = 1;
    else if (!enc || (strcasecmp(enc, "utf-8") != 0 && strcasecmp(enc, "utf8") != 0)) {
        snprintf(err, errlen, "encoding: utf-8 or windows-1252, not '%s'", enc ? enc : "");
        goto fail;
    }
    if (s->settle_s < 0) {
        snprintf(err, errlen, "settle: a duration such as \"2s\"");
        goto fail;
    }
    if (s->batch < 1) {
        snprintf(err, errlen, "batch_rows: at least 1");
        goto fail;
    }
    /* A fresh install has no drop folder yet: make it, so the default
     * configuration works out of the box.  A file in the way is an error. */
    if (zv_mkdir_p(s->dir, 0750) < 0) {
        snprintf(err, errlen, "directory: %s cannot be used as a folder: %s", s->dir,
                 strerror(errno));
        goto fail;
    }
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

static int fd_start(void *state)
{
    fd_src *s = state;
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
    s->draining = 1;
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
    s->host->timer_free(s->tick);
    s->host->timer_free(s->work);
    /* Records after the last commit are dropped: the watermark brings us
     * back to them. */
    fd_reader_close(s->cur);
    free(s->dir);
    free(s->item_type);
    free(s);
}

static const zv_source_ops ops = {fd_start, fd_drain, fd_stop};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_SOURCE, "filedrop"),
    .version = "1.0",
    .description = "ECD exports dropped as CSV, JSON or JSON-lines files",
    .options = options,
    .create = fd_create,
    .destroy = fd_destroy,
    .source = &ops,
};
