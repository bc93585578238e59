/*
 * zinvolctl: the operator's command line.  zinvolctl.c parses global options
 * and dispatches; each command group lives in its own ctl_*.c file.
 * Commands print results on stdout, errors on stderr, and return the exit
 * status (0 ok, 1 failure/finding, 2 usage).
 */
#ifndef ZV_CTL_H
#define ZV_CTL_H

#include "core/config.h"
#include "store/store.h"

typedef struct zv_ctl {
    const char *prog;
    const char *config_file; /* -c/--config, default ZV_DEFAULT_CONFIG */
    zv_config_overrides ov;  /* --state-dir, --plugin-dir */
    zv_config *cfg;          /* loaded by zv_ctl_need_config */
    zv_store *store;         /* opened by zv_ctl_need_store */
} zv_ctl;

/* Load on first use; print "file: path: reason" lines and return -1 on error. */
int zv_ctl_need_config(zv_ctl *c);
int zv_ctl_need_store(zv_ctl *c);

/* Command groups.  argv[0] is the group's first argument after its name. */
int zv_ctl_dlq(zv_ctl *c, int argc, char **argv);          /* dlq list|retry|drop */
int zv_ctl_audit_verify(zv_ctl *c, int argc, char **argv); /* audit verify */
int zv_ctl_audit_report(zv_ctl *c, int argc, char **argv); /* audit [--format ..] */
int zv_ctl_quarantine(zv_ctl *c, int argc, char **argv);   /* quarantine list|retry|drop */
int zv_ctl_retour(zv_ctl *c, int argc, char **argv);       /* retour DEST FILE */
int zv_ctl_disclose(zv_ctl *c, int argc, char **argv);     /* disclose BSN [...] */

#endif
