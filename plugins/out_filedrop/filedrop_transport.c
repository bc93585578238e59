/*
 * Transport "filedrop": write each payload as a file into a directory, for
 * upload through a funder's portal or a sync tool.  The file appears whole
 * or not at all: written to a hidden temp name, fsync'd, renamed, and the
 * directory fsync'd so the rename survives a crash.  The file name carries
 * the idempotency key, so a repeat overwrites the same file.
 *
 * The writes are small and local, so they run on the loop; the result is
 * reported from a timer, never from inside send().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

typedef struct fd_tr {
    zv_ctx *ctx;
    const zv_host *host;
    const char *dir;
    const char *prefix;
} fd_tr;

typedef struct pending {
    fd_tr *t;
    zv_timer *timer;
    zv_send_cb cb;
    void *arg;
    int ok;
    char detail[512];
} pending;

static const zv_option options[] = {
    {"dir", ZV_OPT_STRING, NULL, ZV_OPT_REQUIRED | ZV_OPT_PATH, "directory the files go into"},
    {"prefix", ZV_OPT_STRING, "", 0, "put before the idempotency key in file names"},
    {NULL, 0, NULL, 0, NULL}};

static int create(zv_ctx *ctx, const zv_host *host, void **state, char *err, size_t errlen)
{
    fd_tr *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->ctx = ctx;
    t->host = host;
    t->dir = host->cfg_str(ctx, "dir");
    t->prefix = host->cfg_str(ctx, "prefix");
    if (!t->prefix) t->prefix = "";
    /* Made when missing, so the default configuration works on a fresh
     * install; a file in the way is an error. */
    if (!t->dir || zv_mkdir_p(t->dir, 0750) < 0) {
        snprintf(err, errlen, "dir: %s cannot be used as a folder: %s", t->dir ? t->dir : "(none)",
                 t->dir ? strerror(errno) : "not set");
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

static void destroy(void *state)
{
    free(state);
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

static int drop_file(fd_tr *t, const zv_delivery *d, char *detail, size_t dlen)
{
    char name[256], final[4096], tmp[4096];
    safe_name(name, sizeof(name), t->prefix, d->idem_key, d->extension ? d->extension : "dat");
    snprintf(final, sizeof(final), "%s/%s", t->dir, name);
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", t->dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(detail, dlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    if (write_all(fd, d->payload, d->len) < 0 || fsync(fd) < 0) {
        snprintf(detail, dlen, "%s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    if (rename(tmp, final) < 0) {
        snprintf(detail, dlen, "%s: %s", final, strerror(errno));
        unlink(tmp);
        return -1;
    }
    int dfd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0) {
        snprintf(detail, dlen, "%s: fsync: %s", t->dir, strerror(errno));
        if (dfd >= 0) close(dfd);
        return -1;
    }
    close(dfd);
    snprintf(detail, dlen, "written %s", name);
    return 0;
}

static void report(void *arg)
{
    pending *p = arg;
    zv_send_result r = {
        .status = p->ok ? ZV_SEND_OK : ZV_SEND_RETRY, .detail = p->detail, .retry_after_s = -1};
    p->t->host->timer_free(p->timer);
    p->cb(&r, p->arg);
    free(p);
}

static int send_payload(void *state, const zv_delivery *d, zv_send_cb cb, void *arg)
{
    fd_tr *t = state;
    pending *p = calloc(1, sizeof(*p));
    if (!p) return -1;
    p->t = t;
    p->cb = cb;
    p->arg = arg;
    p->timer = t->host->timer_new(t->ctx, report, p);
    if (!p->timer) {
        free(p);
        return -1;
    }
    /* A full disk or a missing directory is temporary: retried until max_age. */
    p->ok = drop_file(t, d, p->detail, sizeof(p->detail)) == 0;
    t->host->timer_arm(p->timer, 0);
    return 0;
}

static const zv_transport_ops ops = {.send = send_payload};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_TRANSPORT, "filedrop"),
    .version = "1.0",
    .description = "write payloads into a directory (temp file, fsync, rename, fsync dir)",
    .options = options,
    .create = create,
    .destroy = destroy,
    .transport = &ops,
};
