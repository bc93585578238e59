/*
 * zinvold --dry-run: a sample export through the real mapping, catalogues,
 * minimisers and format plugins of a configuration, printed row by row,
 * without a store, a state directory, an outbox or a network connection.
 */
#ifndef ZV_DRYRUN_H
#define ZV_DRYRUN_H

#include <stdio.h>
#include <event2/event.h>
#include "core/config.h"

/* Runs the dry run and writes the report to out (problems with the config
 * or the input to stderr).  source may be NULL when the config has one
 * source.  Returns the exit status: 0 done (rows may have been quarantined),
 * 1 invalid config or unreadable input, 2 no such source. */
int zv_dry_run(const char *config_file, const zv_config_overrides *ov, int log_level,
               const char *source, const char *input, struct event_base *base, FILE *out);

#endif
