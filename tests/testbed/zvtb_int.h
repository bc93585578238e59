/* Internals of the testbed shared by its files. */
#ifndef ZVTB_INT_H
#define ZVTB_INT_H

#include <event2/event.h>
#include <zinvol/util.h>

#include "core/errors.h"
#include "core/runtime_int.h"
#include "zvtb.h"

struct zvtb {
    char dir[256];
    char conf[300];
    struct event_base *base;
    int own_base;
    zv_runtime *rt;
    zv_errors errs;
    zv_buf errtext;
    int stopped;
    zv_buf log;
    char log_last[2048], log_worst[2048];
    int log_problems;
    zv_verdict_out verdicts; /* the last zvtb_interpret's */
    /* The host table handed to the plugins: the core's own, with log, emit
     * and commit passed through counting wrappers (zvtb.c). */
    zv_host host;
    size_t nemits, ncommits;
    int fail_after, fail_count;
    char plugin_warning[1024]; /* the plugins' own last line at warning or worse */
    struct zvtb_src *src;      /* zvtb_src.c's view, when used */
};

void zvtb_src_forget(zvtb *tb); /* zvtb_src.c: before the runtime goes */

void zvtb_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
char *zvtb_strdup(const char *s);

#endif
