/*
 * zinvolctl's way to the admin API: over the daemon's Unix socket when a
 * daemon runs, otherwise the same API function on the store directly
 * (zv_admin_call), so both give the same answers and the same output.
 */
#include "ctl.h"
#include "core/runtime_int.h"

#include <errno.h>
#include <event2/event.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "admin/admin.h"
#include "core/runtime.h"

#define REPLY_TIMEOUT_S 120

/* -1: no daemon (nothing listens), -2: there is one but we cannot reach it. */
static int connect_daemon(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!path || strlen(path) >= sizeof(sa.sun_path)) return -1;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        struct timeval tv = {REPLY_TIMEOUT_S, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        return fd;
    }
    int e = errno;
    close(fd);
    if (e == ENOENT || e == ECONNREFUSED) return -1;
    snprintf(err, errlen, "cannot reach the daemon at %s: %s", path, strerror(e));
    return -2;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A small HTTP/1.1 exchange with Connection: close; evhttp answers with a
 * Content-Length, so the body is everything after the headers. */
static int http_exchange(int fd, const char *method, const char *path, const char *query,
                         zv_buf *out, char *err, size_t errlen)
{
    zv_buf req;
    zv_buf_init(&req);
    zv_buf_printf(&req,
                  "%s %s%s%s HTTP/1.1\r\nHost: zinvold\r\nConnection: close\r\n"
                  "Content-Length: 0\r\n\r\n",
                  method, path, query ? "?" : "", query ? query : "");
    int ok = !req.oom && write_all(fd, req.data, req.len) == 0;
    zv_buf_free(&req);
    zv_buf in;
    zv_buf_init(&in);
    char chunk[16384];
    ssize_t n;
    while (ok && (n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            ok = 0;
        else
            zv_buf_append(&in, chunk, (size_t)n);
    }
    int status = -1;
    const char *hdr_end = in.data ? strstr(in.data, "\r\n\r\n") : NULL;
    if (ok && hdr_end && sscanf(in.data, "HTTP/1.%*d %d", &status) == 1) {
        zv_buf_append(out, hdr_end + 4, in.len - (size_t)(hdr_end + 4 - in.data));
    } else {
        snprintf(err, errlen, "the daemon did not answer (%s)",
                 ok ? "malformed reply" : strerror(errno));
        status = -1;
    }
    zv_buf_free(&in);
    return status;
}

static zv_runtime *offline_rt(void *arg)
{
    zv_ctl *c = arg;
    if (c->rt) return c->rt;
    zv_errors errs;
    zv_errors_init(&errs);
    zv_config *cfg = zv_config_load(c->config_file, &c->ov, &errs);
    if (!c->base) c->base = event_base_new();
    c->rt = cfg && c->base ? zv_runtime_build(cfg, c->base, ZV_RT_CHECK, &errs) : NULL;
    if (cfg && !c->base) zv_config_free(cfg);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.lines[i]);
    zv_errors_free(&errs);
    char err[1024];
    if (c->rt) c->rt->open_shared = zv_store_is_url(c->cfg->store_path);
    if (c->rt && zv_runtime_open_store(c->rt, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s: %s\n", c->prog, err);
        zv_runtime_free(c->rt);
        c->rt = NULL;
    }
    return c->rt;
}

void zv_ctl_finish(zv_ctl *c)
{
    if (c->rt) {
        /* Records a retry staged go into the outbox now, not at a window. */
        zv_runtime_flush(c->rt);
        zv_runtime_free(c->rt);
        c->rt = NULL;
    }
    if (c->base) event_base_free(c->base);
    c->base = NULL;
}

int zv_ctl_call(zv_ctl *c, const char *method, const char *path, const char *query, zv_buf *out)
{
    if (zv_ctl_need_config(c) < 0) return -1;
    char err[512] = "";
    const char *sock = c->socket ? c->socket : c->cfg->admin.socket;
    int fd = c->offline ? -1 : connect_daemon(sock, err, sizeof(err));
    if (fd == -2) {
        fprintf(stderr, "%s: %s\n", c->prog, err);
        return -1;
    }
    if (fd >= 0) {
        int st = http_exchange(fd, method, path, query, out, err, sizeof(err));
        close(fd);
        if (st < 0) fprintf(stderr, "%s: %s\n", c->prog, err);
        return st;
    }
    zv_runtime *shared = NULL;
    if (zv_store_is_url(c->cfg->store_path)) {
        /* The quarantine's calls go through the store interface; the other
         * views read an SQLite file. */
        if (strncmp(path, "/api/quarantine", 15) != 0) {
            fprintf(stderr,
                    "%s: on a PostgreSQL store without a daemon only quarantine, store check, "
                    "store copy and audit verify work in this version\n",
                    c->prog);
            return -1;
        }
        if (!(shared = offline_rt(c))) return -1;
    } else if (zv_ctl_need_store(c) < 0) {
        return -1;
    }
    struct passwd *pw = getpwuid(getuid());
    char who[160];
    snprintf(who, sizeof(who), "uid %u (%s) with zinvolctl on the store (no daemon running)",
             (unsigned)getuid(), pw ? pw->pw_name : "?");
    zv_admin_env env = {.store = shared ? shared->store : c->store,
                        .rt = shared,
                        .cfg = c->cfg,
                        .need_rt = offline_rt,
                        .need_rt_arg = c};
    zv_admin_req req = {.method = method, .path = path, .query = query, .who = who};
    const char *ctype;
    return zv_admin_call(&env, &req, out, &ctype);
}

zv_json_doc *zv_ctl_call_json(zv_ctl *c, const char *method, const char *path, const char *query,
                              int *status)
{
    zv_buf out;
    zv_buf_init(&out);
    *status = zv_ctl_call(c, method, path, query, &out);
    zv_json_doc *d = NULL;
    if (*status > 0) {
        char err[256];
        d = zv_json_parse(out.data ? out.data : "", out.len, 0, err, sizeof(err));
        if (!d) fprintf(stderr, "%s: unreadable answer: %s\n", c->prog, err);
    }
    zv_buf_free(&out);
    return d;
}

const char *zv_ctl_error_of(const zv_json_doc *d)
{
    const char *e = d ? zv_json_str(zv_json_get(zv_json_root(d), "error"), NULL) : NULL;
    return e ? e : "failed";
}
