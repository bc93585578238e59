/* The bed: folder, config, runtime, loop and log; see zvtb.h. */
#include "zvtb_int.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zinvol/util.h>

#include "core/http_client.h"
#include "core/log.h"

void zvtb_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "testbed: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

char *zvtb_strdup(const char *s)
{
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) zvtb_fail("out of memory");
    return d;
}

/* ---- the log ---- */

/* Live beds, oldest first: the newest one gets the log lines. */
static zvtb *live[32];
static size_t nlive;
static zvtb *log_owner;

static void log_sink(void *arg, zv_log_level level, const char *component, const char *line)
{
    (void)arg;
    static const char *names[] = {"error", "warning", "notice", "info", "debug"};
    zvtb *tb = log_owner;
    if (!tb || getenv("ZVTB_VERBOSE"))
        fprintf(stderr, "%s [%s] %s\n", names[level], component, line);
    if (!tb) return;
    zv_buf_printf(&tb->log, "%s [%s] %s\n", names[level], component, line);
    snprintf(tb->log_last, sizeof(tb->log_last), "%s", line);
    if (level <= ZV_LOG_WARN) {
        tb->log_problems++;
        snprintf(tb->log_worst, sizeof(tb->log_worst), "%s", line);
    }
}

const char *zvtb_log(const zvtb *tb)
{
    return tb->log.data ? tb->log.data : "";
}
const char *zvtb_log_last(const zvtb *tb)
{
    return tb->log_last;
}
const char *zvtb_log_worst(const zvtb *tb)
{
    return tb->log_worst;
}
int zvtb_log_problems(const zvtb *tb)
{
    return tb->log_problems;
}
int zvtb_log_count(const zvtb *tb, const char *needle)
{
    int n = 0;
    const char *s = zvtb_log(tb);
    for (const char *line = s; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *copy = strndup(line, len);
        if (copy && strstr(copy, needle)) n++;
        free(copy);
        line += len + (end ? 1 : 0);
    }
    return n;
}
void zvtb_log_reset(zvtb *tb)
{
    zv_buf_free(&tb->log);
    zv_buf_init(&tb->log);
    tb->log_last[0] = tb->log_worst[0] = '\0';
    tb->log_problems = 0;
}

/* ---- the host table: the core's, with spies ---- */

static zvtb *bed_of(zv_ctx *ctx)
{
    for (size_t i = 0; i < nlive; i++)
        if (live[i]->rt && live[i]->rt == ctx->rt) return live[i];
    return NULL;
}

static void spy_log(zv_ctx *ctx, zv_log_level level, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    zvtb *tb = ctx ? bed_of(ctx) : NULL;
    if (tb && level <= ZV_LOG_WARN) {
        snprintf(tb->plugin_warning, sizeof(tb->plugin_warning), "%s", line);
        zv_bsn_scrub(tb->plugin_warning);
    }
    zv_core_host.log(ctx, level, "%s", line);
}

static int spy_emit(zv_ctx *ctx, const zv_item *item)
{
    zvtb *tb = bed_of(ctx);
    if (tb) {
        tb->nemits++;
        if (tb->fail_count > 0) {
            if (tb->fail_after > 0) {
                tb->fail_after--;
            } else {
                tb->fail_count--;
                return -1; /* as the core answers when the store fails */
            }
        }
    }
    return zv_core_host.emit(ctx, item);
}

static int spy_commit(zv_ctx *ctx)
{
    zvtb *tb = bed_of(ctx);
    if (tb) tb->ncommits++;
    return zv_core_host.commit(ctx);
}

/* ---- the folder ---- */

static void link_plugins(const char *from, const char *to)
{
    DIR *d = opendir(from);
    if (!d) zvtb_fail("plugin folder %s: %s", from, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 4 || strcmp(e->d_name + l - 3, ".so") != 0) continue;
        char src[4096], dst[4096];
        snprintf(src, sizeof(src), "%s/%s", from, e->d_name);
        snprintf(dst, sizeof(dst), "%s/%s", to, e->d_name);
        if (symlink(src, dst) < 0 && errno != EEXIST)
            zvtb_fail("link %s: %s", dst, strerror(errno));
    }
    closedir(d);
}

zvtb *zvtb_new(void)
{
    struct event_base *base = event_base_new();
    if (!base) zvtb_fail("event_base_new");
    zvtb *tb = zvtb_new_on(base);
    tb->own_base = 1;
    return tb;
}

struct event_base *zvtb_base(zvtb *tb)
{
    return tb->base;
}

zvtb *zvtb_new_on(struct event_base *base)
{
    signal(SIGPIPE, SIG_IGN);
    zvtb *tb = calloc(1, sizeof(*tb));
    if (!tb) zvtb_fail("out of memory");
    const char *t = getenv("TMPDIR");
    snprintf(tb->dir, sizeof(tb->dir), "%s/zvtb-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tb->dir)) zvtb_fail("mkdtemp: %s", strerror(errno));
    char plugins[sizeof(tb->dir) + 16];
    snprintf(plugins, sizeof(plugins), "%s/plugins", tb->dir);
    if (mkdir(plugins, 0700) < 0) zvtb_fail("mkdir %s: %s", plugins, strerror(errno));
    const char *pd = getenv("ZV_PLUGIN_DIR");
    link_plugins(pd && *pd ? pd : ZV_BUILD_PLUGIN_DIR, plugins);
    link_plugins(ZVTB_PLUGIN_DIR, plugins);
    tb->base = base;
    zv_buf_init(&tb->log);
    zv_errors_init(&tb->errs);
    if (nlive == sizeof(live) / sizeof(live[0])) zvtb_fail("more than 32 beds at once");
    live[nlive++] = tb;
    log_owner = tb;
    zv_log_set_sink(log_sink, NULL);
    zv_log_set_level(ZV_LOG_DEBUG);
    return tb;
}

const char *zvtb_dir(const zvtb *tb)
{
    return tb->dir;
}

struct zv_runtime *zvtb_runtime(zvtb *tb)
{
    return tb->rt;
}

static int has_key(const char *keys, const char *name)
{
    char q[64];
    snprintf(q, sizeof(q), "\"%s\"", name);
    return keys && strstr(keys, q) != NULL;
}

void zvtb_config(zvtb *tb, const char *keys)
{
    snprintf(tb->conf, sizeof(tb->conf), "%s/zinvol.conf", tb->dir);
    FILE *f = fopen(tb->conf, "w");
    if (!f) zvtb_fail("%s: %s", tb->conf, strerror(errno));
    const char *src = getenv("ZV_SOURCE_DIR");
    fprintf(f, "{\n");
    if (!has_key(keys, "state_dir")) fprintf(f, "\"state_dir\": \"%s/state\",\n", tb->dir);
    if (!has_key(keys, "plugin_dir")) fprintf(f, "\"plugin_dir\": \"%s/plugins\",\n", tb->dir);
    if (!has_key(keys, "catalogue_dir"))
        fprintf(f, "\"catalogue_dir\": \"%s/conf/catalogue\",\n", src ? src : ZVTB_SOURCE_DIR);
    if (!has_key(keys, "organisation"))
        fprintf(f, "\"organisation\": {\"agb\": \"12345678\", \"name\": \"Zorggroep Test\"},\n");
    if (!has_key(keys, "log_level")) fprintf(f, "\"log_level\": \"debug\",\n");
    fprintf(f, "%s\n}\n", keys ? keys : "");
    fclose(f);
}

static void errors_text(zvtb *tb)
{
    zv_buf_free(&tb->errtext);
    zv_buf_init(&tb->errtext);
    for (size_t i = 0; i < tb->errs.n; i++)
        zv_buf_printf(&tb->errtext, "%s\n", tb->errs.lines[i]);
}

int zvtb_build(zvtb *tb)
{
    if (tb->rt) zvtb_fail("a runtime is already built");
    zv_errors_free(&tb->errs);
    zv_errors_init(&tb->errs);
    zv_config *cfg = zv_config_load(tb->conf, NULL, &tb->errs);
    tb->host = zv_core_host;
    tb->host.log = spy_log;
    tb->host.emit = spy_emit;
    tb->host.commit = spy_commit;
    if (cfg) tb->rt = zv_runtime_build_host(cfg, tb->base, ZV_RT_RUN, &tb->host, &tb->errs);
    errors_text(tb);
    if (!tb->rt) return -1;
    char err[512];
    if (zv_runtime_open_store(tb->rt, err, sizeof(err)) < 0) zvtb_fail("open store: %s", err);
    return 0;
}

const char *zvtb_errors(const zvtb *tb)
{
    return tb->errtext.data ? tb->errtext.data : "";
}

int zvtb_start(zvtb *tb)
{
    char err[512] = "";
    if (zv_runtime_start(tb->rt, err, sizeof(err)) < 0) {
        zv_buf_free(&tb->errtext);
        zv_buf_init(&tb->errtext);
        zv_buf_printf(&tb->errtext, "%s\n", err);
        return -1;
    }
    return 0;
}

void zvtb_crash(zvtb *tb)
{
    zvtb_src_forget(tb);
    /* zv_runtime_free destroys the plugins before it frees the HTTP client,
     * whose free answers requests still in flight with "cancelled": into
     * destroyed plugins.  The daemon never frees a runtime with requests in
     * flight (stop waits for them); a crash here can, so the client goes
     * first, while the plugins that get the answers still exist. */
    if (tb->rt && tb->rt->http) {
        zv_http_client_free(tb->rt->http);
        tb->rt->http = NULL;
    }
    zv_runtime_free(tb->rt);
    tb->rt = NULL;
}

static void stopped(void *arg)
{
    ((zvtb *)arg)->stopped = 1;
}

static int is_stopped(zvtb *tb, void *arg)
{
    (void)arg;
    return tb->stopped;
}

void zvtb_stop(zvtb *tb)
{
    if (!tb->rt) return;
    tb->stopped = 0;
    zv_runtime_stop(tb->rt, stopped, tb);
    if (!zvtb_run_until(tb, is_stopped, NULL, 30000)) zvtb_fail("runtime did not stop in 30 s");
    zvtb_crash(tb);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

void zvtb_free(zvtb *tb)
{
    if (!tb) return;
    zvtb_stop(tb);
    for (size_t i = 0; i < nlive; i++)
        if (live[i] == tb) {
            memmove(&live[i], &live[i + 1], (nlive - i - 1) * sizeof(live[0]));
            nlive--;
            break;
        }
    log_owner = nlive ? live[nlive - 1] : NULL; /* none: lines go to stderr */
    if (tb->own_base) event_base_free(tb->base);
    zv_verdict_out_free(&tb->verdicts);
    zv_errors_free(&tb->errs);
    zv_buf_free(&tb->errtext);
    zv_buf_free(&tb->log);
    if (!getenv("ZVTB_KEEP")) nftw(tb->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(tb);
}

/* ---- the loop ---- */

static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
}

int zvtb_run_until(zvtb *tb, int (*pred)(zvtb *tb, void *arg), void *arg, int max_ms)
{
    struct event *t = event_new(tb->base, -1, EV_PERSIST, tick, NULL);
    struct timeval tv = {0, 20000};
    event_add(t, &tv);
    int64_t end = zv_now_ms() + max_ms;
    int r;
    while (!(r = pred(tb, arg)) && zv_now_ms() < end)
        event_base_loop(tb->base, EVLOOP_ONCE);
    event_free(t);
    return r;
}

static int never(zvtb *tb, void *arg)
{
    (void)tb, (void)arg;
    return 0;
}

void zvtb_run_for(zvtb *tb, int ms)
{
    zvtb_run_until(tb, never, NULL, ms);
}

/* ---- files ---- */

char *zvtb_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) zvtb_fail("cannot open %s: %s", path, strerror(errno));
    zv_buf b;
    zv_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        zv_buf_append(&b, chunk, n);
    fclose(f);
    if (len) *len = b.len;
    zv_buf_append(&b, "", 1);
    return zv_buf_steal(&b, NULL);
}

int zvtb_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}
