/*
 * Delivery tests on the testbed: transports are created by the real core
 * (tests/testbed/zvtb.h: a bed per instance, its config naming the
 * transport and its options, built and started, so options are parsed by
 * the core and the plugin talks to the core's host: its HTTP client, timers
 * and log).  All beds share one libevent loop (th_base) on which the tests
 * also run their own delivery engine with the core's HTTP client
 * (th_http).  A real loopback receiver (tests/fixtures/receiver/receiver.py)
 * runs as a child process.
 */
#ifndef DELIVERY_FIXTURE_H
#define DELIVERY_FIXTURE_H

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
#include "delivery/delivery.h"
#include "zvtb.h"

static struct event_base *th_base;
static zv_http_client *th_http;

/* The beds behind th_instance(), to free them with their instance. */
static struct {
    zvtb *tb;
    void *state;
} th_beds[16];

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
    for (size_t i = 0; i < sizeof(th_beds) / sizeof(th_beds[0]); i++)
        if (th_beds[i].tb) {
            zvtb_crash(th_beds[i].tb);
            zvtb_free(th_beds[i].tb);
            th_beds[i].tb = NULL;
        }
    zv_http_client_free(th_http);
    event_base_free(th_base);
}

/* A transport <so> ("out_http") with options (JSON text), created by the
 * core for destination "zk" of a started bed on th_base.  0, or -1 with the
 * core's errors in err.  inst's members stay owned by the bed. */
static int th_instance(zv_instance *inst, const char *so, zv_plugin_kind kind, const char *options,
                       char *err, size_t errlen)
{
    TH_ASSERT(kind == ZV_PLUGIN_TRANSPORT);
    TH_ASSERT(strncmp(so, "out_", 4) == 0);
    size_t slot = 0;
    while (slot < sizeof(th_beds) / sizeof(th_beds[0]) && th_beds[slot].tb)
        slot++;
    TH_ASSERT(slot < sizeof(th_beds) / sizeof(th_beds[0]));
    zvtb *tb = zvtb_new_on(th_base);
    zv_buf c;
    zv_buf_init(&c);
    zv_buf_printf(&c,
                  "\"destinations\": [{\"name\": \"zk\", \"format\": \"json\", \"catalogue\": "
                  "{\"file\": \"json-example.json\"}, \"transport\": \"%s\"%s%s}]",
                  so + 4, options ? ", \"transport_options\": " : "", options ? options : "");
    zv_buf_append(&c, "", 1);
    zvtb_config(tb, c.data);
    zv_buf_free(&c);
    if (zvtb_build(tb) < 0 || zvtb_start(tb) < 0) {
        snprintf(err, errlen, "%s", zvtb_errors(tb));
        zvtb_free(tb);
        return -1;
    }
    *inst = *zvtb_transport(tb, "zk");
    th_beds[slot].tb = tb;
    th_beds[slot].state = inst->state;
    return 0;
}

static void th_instance_free(zv_instance *inst)
{
    for (size_t i = 0; i < sizeof(th_beds) / sizeof(th_beds[0]); i++)
        if (th_beds[i].tb && th_beds[i].state == inst->state) {
            /* Not a graceful stop: a test may leave a request hanging on
             * purpose; freeing the runtime cancels it in its HTTP client. */
            zvtb_crash(th_beds[i].tb);
            zvtb_free(th_beds[i].tb);
            th_beds[i].tb = NULL;
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
