/*
 * Retours without hands: a destination whose transport has a retour_dir
 * (the file-drop transport's option) has that folder watched; every file
 * that lands there (AW36, AW310, JW306, JW308, ...) is applied as
 * `zinvolctl retour DESTINATION FILE` does (zv_delivery_retour), then moved
 * to done/ - or, when it cannot be read, to rejected/ with FILE.reason
 * beside it.  Records it names that no payload carried are listed in
 * done/FILE.unmatched.  Polled (every 5 s while running, once at the start
 * of a --once run), so it works on any filesystem, also a network share.
 */
#include "runtime_int.h"
#include "delivery/delivery.h"
#include "log.h"
#include "store/store_admin.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zinvol/util.h>

#define RETOUR_MAX_BYTES (64u << 20)
#define RETOUR_SETTLE_S 2

static const char *retour_dir_of(const zv_dest_rt *d)
{
    const zv_optval *v = d->tr.ctx ? zv_optset_find(&d->tr.ctx->opts, "retour_dir") : NULL;
    return v && v->str && v->str[0] ? v->str : NULL;
}

static char *slurp(int dfd, const char *name, size_t *len, char *why, size_t whylen)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        if (fd >= 0) close(fd);
        return NULL;
    }
    if ((size_t)st.st_size > RETOUR_MAX_BYTES) {
        snprintf(why, whylen, "larger than %u bytes", RETOUR_MAX_BYTES);
        close(fd);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = 0;
    ssize_t r = 1;
    while (buf && n < (size_t)st.st_size && (r = read(fd, buf + n, (size_t)st.st_size - n)) > 0)
        n += (size_t)r;
    close(fd);
    if (!buf || r < 0) {
        snprintf(why, whylen, "cannot read: %s", buf ? strerror(errno) : "out of memory");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void write_beside(int dfd, const char *sub, const char *name, const char *ext,
                         const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s%s", sub, name, ext);
    int fd = openat(dfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0) return;
    size_t n = strlen(text);
    if (write(fd, text, n) != (ssize_t)n) { /* the log line says it all too */
    }
    close(fd);
}

/* Apply one settled file; 1 when it was handled (moved), 0 when it waits. */
static int apply_one(zv_runtime *rt, zv_dest_rt *d, int dfd, const char *name)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) return 0;
    if (zv_now() - st.st_mtime < RETOUR_SETTLE_S && rt->mode == ZV_RT_RUN) return 0;
    const char *dest = d->conf->name;
    char why[600] = "";
    size_t len = 0;
    char *body = slurp(dfd, name, &len, why, sizeof(why));
    char *lines = NULL;
    size_t lines_len = 0;
    int r = -1;
    if (body) {
        FILE *out = open_memstream(&lines, &lines_len);
        r = out ? zv_delivery_retour(rt->store, dest, &d->fmt, body, len, out, why, sizeof(why))
                : -1;
        if (out) fclose(out);
    }
    const char *sub = r < 0 ? "rejected" : "done";
    char to[1024];
    snprintf(to, sizeof(to), "%s/%s", sub, name);
    if (renameat(dfd, name, dfd, to) != 0) {
        zv_log(ZV_LOG_ERROR, d->tr.ctx->component, "retour %s: cannot move it to %s/: %s", name,
               sub, strerror(errno));
        free(body);
        free(lines);
        return 1;
    }
    char note[900];
    if (r < 0) {
        write_beside(dfd, sub, name, ".reason", why);
        zv_log(ZV_LOG_WARN, d->tr.ctx->component, "retour %s kept in rejected/: %s", name, why);
        snprintf(note, sizeof(note), "retour file %s for %s not applied (rejected/): %s", name,
                 dest, why);
    } else {
        /* One line per record, BSNs masked (zv_delivery_retour). */
        for (char *l = lines, *e; l && *l; l = e ? e + 1 : NULL) {
            e = strchr(l, '\n');
            if (e) *e = '\0';
            zv_log(ZV_LOG_INFO, d->tr.ctx->component, "retour %s: %s", name, l);
            if (e) *e = '\n';
            if (!e) break;
        }
        if (r == 1) write_beside(dfd, sub, name, ".unmatched", lines ? lines : "");
        snprintf(note, sizeof(note), "retour file %s for %s applied (done/)%s", name, dest,
                 r == 1 ? "; some records matched no payload (done/*.unmatched)" : "");
        zv_log(ZV_LOG_NOTICE, d->tr.ctx->component, "%s", note);
    }
    if (zv_store_audit_note(rt->store, zv_now(), dest, NULL, NULL, note) < 0)
        zv_log(ZV_LOG_ERROR, d->tr.ctx->component, "audit trail: %s", zv_store_errmsg(rt->store));
    free(body);
    free(lines);
    return 1;
}

static int scan_dest(zv_runtime *rt, zv_dest_rt *d, const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        zv_log(ZV_LOG_ERROR, d->tr.ctx->component, "retour_dir %s: %s", dir, strerror(errno));
        return -1;
    }
    mkdirat(dfd, "done", 0750);
    mkdirat(dfd, "rejected", 0750);
    DIR *dh = fdopendir(dup(dfd));
    int n = 0;
    struct dirent *de;
    while (dh && (de = readdir(dh))) {
        if (de->d_name[0] == '.') continue; /* also temp files being written */
        n += apply_one(rt, d, dfd, de->d_name);
    }
    if (dh) closedir(dh);
    close(dfd);
    return n;
}

int zv_retour_dirs_scan(zv_runtime *rt)
{
    int n = 0;
    for (size_t i = 0; i < rt->ndests && !rt->stopping; i++) {
        zv_dest_rt *d = &rt->dests[i];
        const char *dir = retour_dir_of(d);
        if (!dir) continue;
        if (zv_mkdir_p(dir, 0750) < 0) {
            zv_log(ZV_LOG_ERROR, d->tr.ctx->component, "retour_dir %s: %s", dir, strerror(errno));
            continue;
        }
        int r = scan_dest(rt, d, dir);
        if (r > 0) n += r;
    }
    return n;
}

static void retour_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zv_runtime *rt = arg;
    if (!rt->stopping) zv_retour_dirs_scan(rt);
}

int zv_retour_dirs_start(zv_runtime *rt)
{
    int any = 0;
    for (size_t i = 0; i < rt->ndests; i++)
        any |= retour_dir_of(&rt->dests[i]) != NULL;
    if (!any) return 0;
    zv_retour_dirs_scan(rt);
    if (rt->mode != ZV_RT_RUN) return 0;
    rt->retour_timer = event_new(rt->base, -1, EV_PERSIST, retour_cb, rt);
    if (!rt->retour_timer) return -1;
    struct timeval every = {5, 0};
    return evtimer_add(rt->retour_timer, &every);
}

void zv_retour_dirs_stop(zv_runtime *rt)
{
    if (rt->retour_timer) event_free(rt->retour_timer);
    rt->retour_timer = NULL;
}
