#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zinvol/util.h>

static zv_log_level current = ZV_LOG_INFO;
static int journal = -1;
static zv_log_sink sink;
static void *sink_arg;

static const char *names[] = {"error", "warning", "notice", "info", "debug"};
static const int syslog_prio[] = {3, 4, 5, 6, 7};

void zv_log_set_level(zv_log_level level)
{
    current = level;
}
zv_log_level zv_log_get_level(void)
{
    return current;
}
void zv_log_set_journal(int on)
{
    journal = on;
}

void zv_log_set_sink(zv_log_sink fn, void *arg)
{
    sink = fn;
    sink_arg = arg;
}

int zv_log_level_by_name(const char *name)
{
    for (int i = 0; name && i < 5; i++)
        if (strcmp(names[i], name) == 0) return i;
    if (name && strcmp(name, "warn") == 0) return ZV_LOG_WARN;
    return -1;
}

void zv_vlog(zv_log_level level, const char *component, const char *fmt, va_list ap)
{
    if (level > current) return;
    if (journal < 0) journal = getenv("JOURNAL_STREAM") != NULL;
    char raw[2048], msg[4096];
    int n = vsnprintf(raw, sizeof(raw), fmt, ap);
    size_t len = n < 0 ? 0 : (size_t)n >= sizeof(raw) ? sizeof(raw) - 1 : (size_t)n;
    /* One event, one line: ids and reasons from outside cannot forge lines. */
    zv_escape_ctrl(raw, len, msg, sizeof(msg));
    zv_bsn_scrub(msg);
    if (sink) {
        sink(sink_arg, level, component ? component : "core", msg);
    } else if (journal) {
        fprintf(stderr, "<%d>[%s] %s\n", syslog_prio[level], component ? component : "core", msg);
    } else {
        char ts[21];
        zv_time_iso(zv_now(), ts);
        fprintf(stderr, "%s %s [%s] %s\n", ts, names[level], component ? component : "core", msg);
    }
}

void zv_log(zv_log_level level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    zv_vlog(level, component, fmt, ap);
    va_end(ap);
}
