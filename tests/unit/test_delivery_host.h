/*
 * Test host for the delivery tests: a real libevent loop, the real HTTP
 * client, plugins loaded from the build's plugin directory with the core's
 * loader, options from a JSON text, and a real loopback receiver
 * (tests/fixtures/receiver/receiver.py) started as a child process.
 */
#ifndef TEST_DELIVERY_HOST_H
#define TEST_DELIVERY_HOST_H

/* Not every program uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"

#ifdef TH_NO_CHECK /* benchmarks: no Check runner around */
#define TH_ASSERT(c)                                                                               \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #c);                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)
#else
#include <check.h>
#define TH_ASSERT(c) ck_assert(c)
#endif
#include <event2/event.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zinvol/json.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

#include "core/http_client.h"
#include "core/instance.h"
#include "core/plugin_loader.h"
#include "delivery/delivery.h"
#include "../fixtures/host_options.h"

struct zv_ctx {
    const zv_plugin_descriptor *desc;
    zv_json_doc *opts;
    zv_optset oset;
    char name[64];
};

struct zv_timer {
    struct event *ev;
    zv_timer_cb cb;
    void *arg;
};

static struct event_base *th_base;
static zv_http_client *th_http;

static void th_log(zv_ctx *ctx, zv_log_level level, const char *fmt, ...)
{
    (void)ctx;
    (void)level;
    (void)fmt;
}

static const char *th_cfg_str(zv_ctx *ctx, const char *name)
{
    return th_opt_str(&ctx->oset, name);
}

static int64_t th_cfg_int(zv_ctx *ctx, const char *name)
{
    return th_opt_int(&ctx->oset, name);
}

static int th_cfg_bool(zv_ctx *ctx, const char *name)
{
    return (int)th_opt_int(&ctx->oset, name);
}

static double th_cfg_number(zv_ctx *ctx, const char *name)
{
    return th_opt_number(&ctx->oset, name);
}

static const zv_json *th_cfg_json(zv_ctx *ctx, const char *name)
{
    return th_opt_json(&ctx->oset, name);
}

static const void *th_config(zv_ctx *ctx)
{
    return ctx->oset.conf;
}

static const char *th_instance_name(zv_ctx *ctx)
{
    return ctx->name;
}

static const char *th_org(zv_ctx *ctx, const char *key)
{
    (void)ctx;
    return strcmp(key, "agb") == 0 ? "12345678" : "Zorggroep Test";
}

static void th_timer_fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zv_timer *t = arg;
    t->cb(t->arg);
}

static zv_timer *th_timer_new(zv_ctx *ctx, zv_timer_cb cb, void *arg)
{
    (void)ctx;
    zv_timer *t = calloc(1, sizeof(*t));
    t->cb = cb;
    t->arg = arg;
    t->ev = evtimer_new(th_base, th_timer_fire, t);
    return t;
}

static void th_timer_arm(zv_timer *t, uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_add(t->ev, &tv);
}

static void th_timer_cancel(zv_timer *t)
{
    evtimer_del(t->ev);
}

static void th_timer_free(zv_timer *t)
{
    if (!t) return;
    event_free(t->ev);
    free(t);
}

struct zv_watch {
    struct event *ev;
    zv_fd_cb cb;
    void *arg;
};

static void th_watch_fire(evutil_socket_t fd, short what, void *arg)
{
    zv_watch *w = arg;
    w->cb((int)fd, (what & EV_READ ? ZV_FD_READ : 0) | (what & EV_WRITE ? ZV_FD_WRITE : 0),
          w->arg);
}

static zv_watch *th_watch_fd(zv_ctx *ctx, int fd, int what, zv_fd_cb cb, void *arg)
{
    (void)ctx;
    zv_watch *w = calloc(1, sizeof(*w));
    w->cb = cb;
    w->arg = arg;
    short ev = EV_PERSIST | (what & ZV_FD_READ ? EV_READ : 0) | (what & ZV_FD_WRITE ? EV_WRITE : 0);
    w->ev = event_new(th_base, fd, ev, th_watch_fire, w);
    event_add(w->ev, NULL);
    return w;
}

static void th_unwatch_fd(zv_watch *w)
{
    if (!w) return;
    event_free(w->ev);
    free(w);
}

static zv_http_call *th_http_request(zv_ctx *ctx, const zv_http_request *req, zv_http_cb cb,
                                     void *arg)
{
    (void)ctx;
    return zv_http_client_request(th_http, req, cb, arg);
}

static void th_http_cancel(zv_http_call *call)
{
    zv_http_client_cancel(call);
}

static int th_verdict(zv_verdict_out *out, const char *key, int accepted, const char *codes,
                      const char *reason)
{
    return zv_verdict_add(out, key, accepted, codes, reason);
}

static const zv_host th_host = {
    .size = sizeof(zv_host),
    .abi_major = ZV_ABI_MAJOR,
    .abi_minor = ZV_ABI_MINOR,
    .log = th_log,
    .cfg_str = th_cfg_str,
    .cfg_int = th_cfg_int,
    .cfg_bool = th_cfg_bool,
    .cfg_number = th_cfg_number,
    .cfg_json = th_cfg_json,
    .config = th_config,
    .instance_name = th_instance_name,
    .org = th_org,
    .timer_new = th_timer_new,
    .timer_arm = th_timer_arm,
    .timer_cancel = th_timer_cancel,
    .timer_free = th_timer_free,
    .watch_fd = th_watch_fd,
    .unwatch_fd = th_unwatch_fd,
    .http_request = th_http_request,
    .http_cancel = th_http_cancel,
    .verdict = th_verdict,
};

static void th_init(void)
{
    signal(SIGPIPE, SIG_IGN);
    th_base = event_base_new();
    TH_ASSERT(th_base != NULL);
    th_http = zv_http_client_new(th_base);
    TH_ASSERT(th_http != NULL);
}

static void th_done(void)
{
    zv_http_client_free(th_http);
    event_base_free(th_base);
}

/* Load <plugin>.so and create an instance with options (JSON text). 0 or -1 (err). */
static int th_instance(zv_instance *inst, const char *so, zv_plugin_kind kind, const char *options,
                       char *err, size_t errlen)
{
    const char *dir = getenv("ZV_PLUGIN_DIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.so", dir ? dir : ".", so);
    const zv_plugin_descriptor *d = zv_plugin_open_file(path, kind, err, errlen);
    if (!d) return -1;
    zv_ctx *ctx = calloc(1, sizeof(*ctx));
    ctx->desc = d;
    snprintf(ctx->name, sizeof(ctx->name), "%s", so);
    if (options) {
        ctx->opts = zv_json_parse(options, strlen(options), 0, err, errlen);
        if (!ctx->opts) {
            free(ctx);
            return -1;
        }
    }
    inst->desc = d;
    inst->ctx = ctx;
    inst->state = NULL;
    if (th_opts_resolve(&ctx->oset, d, ctx->opts ? zv_json_root(ctx->opts) : NULL, err, errlen) <
            0 ||
        d->create(ctx, &th_host, &inst->state, err, errlen) < 0) {
        zv_json_free(ctx->opts);
        zv_optset_free(&ctx->oset);
        free(ctx);
        return -1;
    }
    return 0;
}

static void th_instance_free(zv_instance *inst)
{
    if (inst->desc && inst->state) inst->desc->destroy(inst->state);
    if (inst->ctx) {
        zv_json_free(inst->ctx->opts);
        zv_optset_free(&inst->ctx->oset);
        free(inst->ctx);
    }
    memset(inst, 0, sizeof(*inst));
}

/* Run the loop until done(arg) or max_s seconds passed (a bound against
 * hanging, not a timing assertion).  Returns done's last value. */
static void th_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static int th_run_until(int (*done)(void *arg), void *arg, int max_s)
{
    struct event *tick = event_new(th_base, -1, EV_PERSIST, th_tick, NULL);
    struct timeval tv = {0, 20000};
    event_add(tick, &tv);
    int64_t end = zv_now() + max_s;
    int r = 0;
    while (!(r = done(arg)) && zv_now() < end)
        event_base_loop(th_base, EVLOOP_ONCE);
    event_free(tick);
    return r;
}

/* ---- the receiver ---- */
typedef struct th_receiver {
    pid_t pid;
    int port;
    char log[512];
    char portfile[512];
} th_receiver;

/* args: extra receiver.py arguments, NULL-terminated.  port 0: any. */
static void th_receiver_start(th_receiver *r, const char *dir, int port, const char *const *args)
{
    char script[512];
    snprintf(script, sizeof(script), "%s/tests/fixtures/receiver/receiver.py",
             getenv("ZV_SOURCE_DIR") ? getenv("ZV_SOURCE_DIR") : "../..");
    snprintf(r->log, sizeof(r->log), "%s/received.jsonl", dir);
    snprintf(r->portfile, sizeof(r->portfile), "%s/port", dir);
    unlink(r->portfile);
    char portbuf[16];
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    const char *argv[40] = {"python3",     script,      "--port", portbuf,
                            "--port-file", r->portfile, "--log",  r->log};
    int n = 8;
    for (int i = 0; args && args[i] && n < 38; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    r->pid = fork();
    TH_ASSERT(r->pid >= 0);
    if (r->pid == 0) {
        execvp("python3", (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 400; i++) { /* up to 20 s for python to start */
        FILE *f = fopen(r->portfile, "r");
        if (f) {
            int ok = fscanf(f, "%d", &r->port) == 1;
            fclose(f);
            if (ok) return;
        }
        usleep(50000);
    }
    TH_ASSERT(!"receiver did not start");
}

static void th_receiver_stop(th_receiver *r)
{
    if (r->pid > 0) {
        kill(r->pid, SIGTERM);
        waitpid(r->pid, NULL, 0);
        r->pid = 0;
    }
}

/* Lines in the receiver's log with this status (0: any). */
static int th_received(const th_receiver *r, int status)
{
    FILE *f = fopen(r->log, "r");
    if (!f) return 0;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        char want[32];
        snprintf(want, sizeof(want), "\"status\": %d", status);
        if (!status || strstr(line, want)) n++;
    }
    fclose(f);
    return n;
}

static int th_received_grep(const th_receiver *r, const char *text)
{
    FILE *f = fopen(r->log, "r");
    if (!f) return 0;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof(line), f))
        if (strstr(line, text)) n++;
    fclose(f);
    return n;
}

static void th_mkdtemp(char *dir, size_t len, const char *tag)
{
    snprintf(dir, len, "/tmp/zv-%s-XXXXXX", tag);
    TH_ASSERT(mkdtemp(dir) != NULL);
}

static void th_rmrf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    TH_ASSERT(system(cmd) == 0);
}

#endif
