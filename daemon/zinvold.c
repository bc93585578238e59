/*
 * zinvold: the daemon.  Runs in the foreground (systemd Type=notify), owns
 * the event loop, and swaps runtimes on SIGHUP only after the new config
 * validated completely.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "admin/admin.h"
#include "core/config.h"
#include "core/describe.h"
#include "core/log.h"
#include "core/plugin_loader.h"
#include "core/runtime.h"
#include "dryrun/dryrun.h"

typedef struct daemon_state {
    struct event_base *base;
    const char *config_file;
    zv_config_overrides ov;
    int log_level_override; /* -1: use the config's */
    zv_rt_mode mode;
    int dry_run;            /* --dry-run INPUT */
    const char *dry_source; /* --source NAME */
    int describe, markdown; /* --describe [--markdown] [PLUGIN] */
    const char *describe_plugin;
    const char *dry_input;
    zv_runtime *rt;
    zv_runtime *next;   /* validated, waiting for rt to stop (reload) */
    int reloading;      /* a reload is in progress */
    int reload_pending; /* SIGHUPs during a reload, merged into one more */
    int terminating;
    int standby_reload; /* the reload replaces a runtime that lost a source lease */
    int exit_status;
    struct event *reload_ev, *watchdog_ev;
    struct event *lease_lost_ev; /* next turn: the runtime's callback ran inside a unit */
    struct event *sig_term, *sig_int, *sig_hup;
    zv_admin_server *admin; /* admin API, metrics, console: lives across reloads */
} daemon_state;

static void usage(FILE *f)
{
    fprintf(f, "usage: zinvold [--config FILE] [--once] [options]\n"
               "       zinvold --check-config FILE\n"
               "       zinvold --dry-run [--config FILE] [--source NAME] INPUT\n"
               "       zinvold --describe [--markdown] [PLUGIN]\n"
               "\n"
               "  -c, --config FILE     configuration (default " ZV_DEFAULT_CONFIG ")\n"
               "      --check-config F  validate F completely (plugins, catalogues, mappings)\n"
               "                        and exit: 0 when valid, 1 with 'file: key: reason' lines\n"
               "      --once            process what the sources have now, deliver, exit\n"
               "      --dry-run INPUT   map, minimise and render the sample export INPUT\n"
               "                        (.csv, .json, .jsonl) and print what would be sent\n"
               "                        and quarantined; stores, writes and sends nothing\n"
               "      --source NAME     with --dry-run: the source whose mapping applies\n"
               "      --describe [P]    every option of the configuration and of each plugin\n"
               "                        (or of plugin P: \"http\", \"out_http\") with its type,\n"
               "                        default, range and meaning; --markdown: as tables\n"
               "      --state-dir DIR   override state_dir (also $ZINVOL_STATE_DIR)\n"
               "      --plugin-dir DIR  override plugin_dir (also $ZINVOL_PLUGIN_DIR)\n"
               "      --log-level L     error, warning, notice, info or debug\n"
               "      --today DATE      run as if today were DATE (YYYY-MM-DD; the clock goes\n"
               "                        on from there): records waiting for their day and the\n"
               "                        message dates follow it (tests, a missed run)\n"
               "  -V, --version         print the version and plugin ABI\n"
               "  -h, --help            this text\n"
               "\n"
               "Compiled-in defaults: config " ZV_DEFAULT_CONFIG ", state_dir " ZV_DEFAULT_STATE_DIR
               ",\nplugin_dir " ZV_PLUGIN_DIR ".\n"
               "\n"
               "Signals: SIGHUP reloads (the old config keeps running if the new one is\n"
               "invalid); SIGTERM stops taking input, finishes what is in flight, exits 0.\n"
               "On a PostgreSQL store a node whose source lease another node took over\n"
               "restarts its runtime to stand by (--once: exits 75, EX_TEMPFAIL).\n");
}

static void print_errors(const zv_errors *e)
{
    for (size_t i = 0; i < e->n; i++)
        fprintf(stderr, "%s\n", e->lines[i]);
}

static zv_runtime *build(daemon_state *d, zv_rt_mode mode, zv_errors *errs)
{
    zv_config *cfg = zv_config_load(d->config_file, &d->ov, errs);
    if (!cfg) return NULL;
    zv_log_set_level(d->log_level_override >= 0 ? (zv_log_level)d->log_level_override
                                                : cfg->log_level);
    return zv_runtime_build(cfg, d->base, mode, errs);
}

static void notify_status(const char *state, const char *status)
{
    sd_notifyf(0, "%s\nSTATUS=%s", state, status);
}

/* ---- reload ---- */

static void reload_done(daemon_state *d)
{
    d->reloading = 0;
    if (d->reload_pending && !d->terminating) {
        d->reload_pending = 0;
        event_active(d->reload_ev, 0, 0);
    }
}

static void old_stopped(void *arg)
{
    daemon_state *d = arg;
    zv_runtime_free(d->rt);
    d->rt = d->next;
    d->next = NULL;
    char err[1024];
    if (zv_runtime_start(d->rt, err, sizeof(err)) < 0) {
        /* The new config validated but could not start (a port taken, the
         * store unreadable).  The old runtime is gone: exit so that systemd
         * restarts us rather than running with nothing. */
        zv_log(ZV_LOG_ERROR, "core", "reload: cannot start: %s", err);
        d->exit_status = 1;
        event_base_loopexit(d->base, NULL);
        return;
    }
    zv_log(ZV_LOG_NOTICE, "core", "%s %s", d->standby_reload ? "standing by on" : "reloaded",
           d->config_file);
    notify_status("READY=1", d->standby_reload ? "running (standing by for a source lease)"
                                               : "running (reloaded)");
    d->standby_reload = 0;
    reload_done(d);
}

static void do_reload(evutil_socket_t fd, short what, void *arg);

static void stopped_exit(void *arg);

/* A node that cannot stand by in place (a once run, a config on disk that
 * no longer validates) exits with EX_TEMPFAIL, which the shipped unit's
 * Restart=on-failure restarts: exit 0 would leave the node down. */
static void stop_for_standby(daemon_state *d)
{
    if (d->terminating) return;
    d->terminating = 1;
    d->exit_status = 75;
    zv_log(ZV_LOG_NOTICE, "core", "stopping (exit 75) so that the node starts again as a standby");
    notify_status("STOPPING=1", "stopping: a source lease was taken over");
    zv_runtime_stop(d->rt, stopped_exit, d);
}

/* Another node took over a source this node read: a fresh runtime on the
 * same config stands by for the lease and goes on delivering meanwhile. */
static void on_lease_lost(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    daemon_state *d = arg;
    if (d->terminating) return;
    if (d->mode != ZV_RT_RUN) {
        stop_for_standby(d);
        return;
    }
    zv_log(ZV_LOG_NOTICE, "core", "restarting the runtime to stand by for the source lease");
    d->standby_reload = 1;
    do_reload(-1, 0, d);
}

/* Told from inside the unit whose commit the lease refused: replacing the
 * runtime there would stop it mid-commit, so it waits for the next turn. */
static void lease_lost(void *arg)
{
    daemon_state *d = arg;
    if (d->lease_lost_ev) event_active(d->lease_lost_ev, 0, 0);
}

static void do_reload(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    daemon_state *d = arg;
    if (d->terminating) return;
    if (d->reloading) {
        d->reload_pending = 1;
        return;
    }
    d->reloading = 1;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
               (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
    zv_log(ZV_LOG_NOTICE, "core", "reload requested: validating %s", d->config_file);
    zv_errors errs;
    zv_errors_init(&errs);
    d->next = build(d, ZV_RT_RUN, &errs);
    if (!d->next && d->standby_reload) {
        for (size_t i = 0; i < errs.n; i++)
            zv_log(ZV_LOG_ERROR, "core", "reload: %s", errs.lines[i]);
        zv_errors_free(&errs);
        stop_for_standby(d);
        return;
    }
    if (d->next) zv_runtime_on_lease_lost(d->next, lease_lost, d);
    if (!d->next) {
        for (size_t i = 0; i < errs.n; i++)
            zv_log(ZV_LOG_ERROR, "core", "reload: %s", errs.lines[i]);
        zv_log(ZV_LOG_ERROR, "core", "reload refused: still running on the previous config");
        zv_errors_free(&errs);
        notify_status("READY=1", "running (reload refused: invalid config, see log)");
        reload_done(d);
        return;
    }
    zv_errors_free(&errs);
    zv_runtime_stop(d->rt, old_stopped, d);
}

/* ---- stop ---- */

static void stopped_exit(void *arg)
{
    daemon_state *d = arg;
    event_base_loopexit(d->base, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    daemon_state *d = arg;
    if (sig == SIGHUP) {
        do_reload(-1, 0, d);
        return;
    }
    if (d->terminating) return;
    d->terminating = 1;
    zv_log(ZV_LOG_NOTICE, "core", "signal %d: stopping", (int)sig);
    notify_status("STOPPING=1", "stopping");
    if (d->next) {
        /* Mid-reload: the new runtime never started; drop it. */
        zv_runtime_free(d->next);
        d->next = NULL;
    }
    zv_runtime_stop(d->rt, stopped_exit, d);
}

static void watchdog(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    sd_notify(0, "WATCHDOG=1");
}

static void setup_watchdog(daemon_state *d)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
    d->watchdog_ev = event_new(d->base, -1, EV_PERSIST, watchdog, d);
    struct timeval tv = {(time_t)(usec / 2 / 1000000), (suseconds_t)(usec / 2 % 1000000)};
    if (d->watchdog_ev) event_add(d->watchdog_ev, &tv);
}

/* ---- once ---- */

static void once_stopped(void *arg)
{
    daemon_state *d = arg;
    event_base_loopexit(d->base, NULL);
}

static void once_finished(void *arg, int status)
{
    daemon_state *d = arg;
    char summary[4096];
    zv_runtime_summary(d->rt, summary, sizeof(summary));
    printf("zinvold --once: %s\n", summary);
    fflush(stdout);
    d->exit_status = status;
    zv_runtime_stop(d->rt, once_stopped, d);
}

static int parse_args(daemon_state *d, int argc, char **argv, int *check)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"check-config", required_argument, 0, 'C'},
                                         {"once", no_argument, 0, 'o'},
                                         {"dry-run", no_argument, 0, 'D'},
                                         {"source", required_argument, 0, 'S'},
                                         {"describe", no_argument, 0, 'd'},
                                         {"markdown", no_argument, 0, 'm'},
                                         {"state-dir", required_argument, 0, 's'},
                                         {"plugin-dir", required_argument, 0, 'p'},
                                         {"log-level", required_argument, 0, 'l'},
                                         {"today", required_argument, 0, 'T'},
                                         {"version", no_argument, 0, 'V'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            d->config_file = optarg;
            break;
        case 'C':
            d->config_file = optarg;
            *check = 1;
            break;
        case 'o':
            d->mode = ZV_RT_ONCE;
            break;
        case 'D':
            d->dry_run = 1;
            break;
        case 'S':
            d->dry_source = optarg;
            break;
        case 'd':
            d->describe = 1;
            break;
        case 'm':
            d->markdown = 1;
            break;
        case 's':
            d->ov.state_dir = optarg;
            break;
        case 'p':
            d->ov.plugin_dir = optarg;
            break;
        case 'l':
            d->log_level_override = zv_log_level_by_name(optarg);
            if (d->log_level_override < 0) {
                fprintf(stderr, "zinvold: unknown log level '%s'\n", optarg);
                return 2;
            }
            break;
        case 'T': {
            int64_t days;
            if (strlen(optarg) != 10 || zv_date_days(optarg, &days) != 0) {
                fprintf(stderr, "zinvold: --today wants a date YYYY-MM-DD, not '%s'\n", optarg);
                return 2;
            }
            zv_clock_set_today(days);
            break;
        }
        case 'V':
            printf("zinvold %s (plugin ABI %d.%d)\n", ZV_VERSION, ZV_ABI_MAJOR, ZV_ABI_MINOR);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (d->dry_run && (*check || d->mode == ZV_RT_ONCE)) {
        fprintf(stderr, "zinvold: --dry-run goes with neither --check-config nor --once\n");
        return 2;
    }
    if (d->dry_source && !d->dry_run) {
        fprintf(stderr, "zinvold: --source is for --dry-run\n");
        return 2;
    }
    if (d->describe && optind < argc) d->describe_plugin = argv[optind++];
    if (d->dry_run && optind < argc) d->dry_input = argv[optind++];
    if (d->dry_run && !d->dry_input) {
        fprintf(stderr, "zinvold: --dry-run needs an INPUT file\n");
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "zinvold: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return -1;
}

static int check_config(daemon_state *d)
{
    zv_errors errs;
    zv_errors_init(&errs);
    zv_runtime *rt = build(d, ZV_RT_VALIDATE, &errs);
    /* The state directory is made at start (0700), not now; one that
     * could not be made or written is a problem of this config. */
    if (rt) {
        const zv_config *cfg = zv_runtime_config(rt);
        char why[600];
        int u = zv_dir_usable(cfg->state_dir, why, sizeof(why));
        if (u < 0) zv_errors_add(&errs, d->config_file, "state_dir", "%s", why);
        if (u == 1)
            fprintf(stderr, "%s: state_dir: %s; zinvold makes it at start\n", d->config_file, why);
    }
    print_errors(&errs);
    int ok = rt && errs.n == 0;
    zv_runtime_free(rt);
    zv_errors_free(&errs);
    if (ok) printf("%s: configuration is valid\n", d->config_file);
    return ok ? 0 : 1;
}

/* ---- admin API ---- */

static zv_runtime *current_rt(void *arg)
{
    return ((daemon_state *)arg)->rt;
}

static void admin_reload(void *arg)
{
    daemon_state *d = arg;
    if (d->reload_ev) event_active(d->reload_ev, 0, 0);
}

static int run(daemon_state *d)
{
    zv_errors errs;
    zv_errors_init(&errs);
    d->rt = build(d, d->mode, &errs);
    print_errors(&errs);
    zv_errors_free(&errs);
    if (!d->rt) return 1;
    zv_runtime_on_lease_lost(d->rt, lease_lost, d);
    char err[1024];
    if (zv_runtime_start(d->rt, err, sizeof(err)) < 0) {
        fprintf(stderr, "zinvold: %s\n", err);
        return 1;
    }
    d->sig_term = evsignal_new(d->base, SIGTERM, on_signal, d);
    d->sig_int = evsignal_new(d->base, SIGINT, on_signal, d);
    d->sig_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
    d->reload_ev = event_new(d->base, -1, 0, do_reload, d);
    d->lease_lost_ev = event_new(d->base, -1, 0, on_lease_lost, d);
    event_add(d->sig_term, NULL);
    event_add(d->sig_int, NULL);
    if (d->mode == ZV_RT_RUN) event_add(d->sig_hup, NULL);
    if (d->mode == ZV_RT_ONCE) zv_runtime_on_finished(d->rt, once_finished, d);
    if (d->mode == ZV_RT_RUN) {
        d->admin = zv_admin_server_start(d->base, zv_runtime_config(d->rt), current_rt,
                                         admin_reload, d, err, sizeof(err));
        if (!d->admin) {
            fprintf(stderr, "zinvold: %s\n", err);
            return 1;
        }
    }
    setup_watchdog(d);
    zv_log(ZV_LOG_NOTICE, "core", "zinvold %s started (%s)", ZV_VERSION,
           d->mode == ZV_RT_ONCE ? "once" : "running");
    notify_status("READY=1", d->mode == ZV_RT_ONCE ? "processing once" : "running");
    /* Turn by turn, so that after each one the store is asserted idle: no
     * unit of work may outlive the callback that opened it (core/unit.c). */
    while (!event_base_got_exit(d->base) && !event_base_got_break(d->base)) {
        if (event_base_loop(d->base, EVLOOP_ONCE) != 0) break;
        zv_runtime_turn_check(d->rt);
        if (d->next) zv_runtime_turn_check(d->next);
    }
    return d->exit_status;
}

int main(int argc, char **argv)
{
    daemon_state d = {
        .config_file = ZV_DEFAULT_CONFIG, .mode = ZV_RT_RUN, .log_level_override = -1};
    int check = 0;
    d.ov.state_dir = getenv("ZINVOL_STATE_DIR");
    d.ov.plugin_dir = getenv("ZINVOL_PLUGIN_DIR");
    int r = parse_args(&d, argc, argv, &check);
    if (r >= 0) return r;
    if (d.describe) {
        r = zv_describe(stdout, d.ov.plugin_dir ? d.ov.plugin_dir : ZV_PLUGIN_DIR,
                        d.describe_plugin, d.markdown);
        zv_plugins_unload_all();
        return r == 0 ? 0 : 1;
    }
    signal(SIGPIPE, SIG_IGN);
    d.base = event_base_new();
    if (!d.base) {
        fprintf(stderr, "zinvold: cannot create the event loop\n");
        return 1;
    }
    int status = d.dry_run ? zv_dry_run(d.config_file, &d.ov, d.log_level_override, d.dry_source,
                                        d.dry_input, d.base, stdout)
                 : check   ? check_config(&d)
                           : run(&d);
    zv_admin_server_free(d.admin);
    zv_runtime_free(d.rt);
    zv_runtime_free(d.next);
    struct event *evs[] = {d.sig_term,  d.sig_int,     d.sig_hup,
                           d.reload_ev, d.watchdog_ev, d.lease_lost_ev};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (evs[i]) event_free(evs[i]);
    event_base_free(d.base);
    zv_plugins_unload_all();
    return status;
}
