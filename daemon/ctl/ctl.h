/*
 * zinvolctl: the operator's command line.  zinvolctl.c parses global options
 * and dispatches; each command group lives in its own ctl_*.c file.
 * Commands print results on stdout, errors on stderr, and return the exit
 * status (0 ok, 1 failure/finding, 2 usage).
 */
#ifndef ZV_CTL_H
#define ZV_CTL_H

#include <zinvol/json.h>
#include <zinvol/util.h>
#include "core/config.h"
#include "core/runtime.h"
#include "store/store.h"

typedef struct zv_ctl {
    const char *prog;
    const char *config_file; /* -c/--config, default ZV_DEFAULT_CONFIG */
    zv_config_overrides ov;  /* --state-dir, --plugin-dir */
    zv_config *cfg;          /* loaded by zv_ctl_need_config */
    zv_store *store;         /* opened by zv_ctl_need_store */
    const char *socket;      /* --socket: the daemon's admin socket (default from the config) */
    int offline;             /* --offline: never ask a daemon */
    int json;                /* --json: print the API's JSON as it is */
    struct event_base *base; /* for a runtime built offline (quarantine retry) */
    zv_runtime *rt;
} zv_ctl;

/* Load on first use; print "file: path: reason" lines and return -1 on error. */
int zv_ctl_need_config(zv_ctl *c);
int zv_ctl_need_store(zv_ctl *c);

/* ctl_api.c: the admin API, through a running daemon or on the store.
 * Returns the HTTP status, or -1 when it could not be asked (printed). */
int zv_ctl_call(zv_ctl *c, const char *method, const char *path, const char *query, zv_buf *out);
zv_json_doc *zv_ctl_call_json(zv_ctl *c, const char *method, const char *path, const char *query,
                              int *status);
const char *zv_ctl_error_of(const zv_json_doc *d);
/* Flush and free what an offline call built. */
void zv_ctl_finish(zv_ctl *c);

/* Command groups.  argv[0] is the group's first argument after its name. */
int zv_ctl_dlq(zv_ctl *c, int argc, char **argv);          /* dlq list|retry|drop */
int zv_ctl_audit_verify(zv_ctl *c, int argc, char **argv); /* audit verify */
int zv_ctl_audit_report(zv_ctl *c, int argc, char **argv); /* audit [--format ..] */
int zv_ctl_quarantine(zv_ctl *c, int argc, char **argv);   /* quarantine list|retry|drop */
int zv_ctl_retour(zv_ctl *c, int argc, char **argv);       /* retour DEST FILE */
int zv_ctl_source(zv_ctl *c, int argc, char **argv);       /* source replay SOURCE FILE */
int zv_ctl_disclose(zv_ctl *c, int argc, char **argv);     /* disclose BSN [...] */
int zv_ctl_status(zv_ctl *c, int argc, char **argv);       /* status */
int zv_ctl_outbox(zv_ctl *c, int argc, char **argv);       /* outbox list|show|retry|drop */
int zv_ctl_store(zv_ctl *c, int argc, char **argv);        /* store check|copy */

#endif
