/*
 * Logging to stderr, one line per event: "<level> [component] message".
 * Under systemd, stderr goes to the journal; the <N> prefix (sd-daemon.h
 * style) gives journald the priority.  Every line passes zv_bsn_scrub()
 * before it is written, as a last defence: callers still mask values with
 * zv_bsn_mask() themselves.
 */
#ifndef ZV_LOG_H
#define ZV_LOG_H

#include <stdarg.h>
#include <zinvol/plugin.h>

void zv_log_set_level(zv_log_level level);
zv_log_level zv_log_get_level(void);
/* Prefix lines with syslog priorities (<3>..) for journald: on when
 * JOURNAL_STREAM is set, as systemd does for services. */
void zv_log_set_journal(int on);
int zv_log_level_by_name(const char *name); /* -1 when unknown */
/* Lines go to fn instead of stderr (NULL: stderr again), after the same
 * escaping and BSN scrubbing; the testbed reads the log this way.  line is
 * valid only during the call. */
typedef void (*zv_log_sink)(void *arg, zv_log_level level, const char *component, const char *line);
void zv_log_set_sink(zv_log_sink fn, void *arg);

void zv_log(zv_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void zv_vlog(zv_log_level level, const char *component, const char *fmt, va_list ap);

#endif
