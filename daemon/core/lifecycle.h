/*
 * The record lifecycle (issue 12): a raw item through the current mapping,
 * catalogue and routing; quarantine entries redone from their raw item,
 * superseded by a corrected version, or waiting for their day; replay of a
 * whole file.  Every way out of quarantine is audited
 * (zv_sb_quarantine_close, on either store).
 */
#ifndef ZV_LIFECYCLE_H
#define ZV_LIFECYCLE_H

#include "runtime_int.h"

/* Which destinations a record was staged for, and how many refused it. */
typedef struct zv_route_tally {
    zv_dest_rt *staged[16]; /* the first 16 */
    size_t nstaged;
    int64_t staged_n; /* all of them */
    int64_t quarantined;
} zv_route_tally;

/* pipeline.c: route one mapped record to every destination that takes it
 * (only: just that one), staged naming item_id (0: none).  t may be NULL. */
int zv_pipeline_route(zv_runtime *rt, const zv_record *rec, const char *only, int64_t item_id,
                      zv_route_tally *t);
void zv_pipeline_save_counts(zv_runtime *rt);

typedef struct zv_lifecycle_outcome {
    int mapping_failed;   /* quarantined at the mapping (entry new_entry) */
    int64_t new_entry;    /* the newest entry this processing made; 0 none */
    zv_route_tally route; /* when mapped */
    int64_t superseded;   /* older entries of the record it closed */
    int same_quarantined; /* a row seen before failed as its open entry says: nothing new */
} zv_lifecycle_outcome;

/* One item (strict UTF-8) under record id rid inside the caller's open
 * transaction: mapped with the source's current mapping, older entries of
 * the record closed as superseded (except `keep`, which the caller closes
 * itself), its raw item kept, routed (only: one destination).  0 or -1. */
int zv_lifecycle_process(zv_runtime *rt, zv_source_rt *src, const zv_item *item, const char *rid,
                         const char *only, zv_lifecycle_outcome *out);
/* Same, for a caller that has an entry to keep out of the supersede. */
int zv_lifecycle_process_keep(zv_runtime *rt, zv_source_rt *src, const zv_item *item,
                              const char *rid, const char *only, int64_t keep,
                              zv_lifecycle_outcome *out);
/* Same, knowing whether this content was seen before: then only entries
 * that are no longer true (a mapping failure of a row that maps now) are
 * superseded, and a failure its open entry already says is nothing new. */
int zv_lifecycle_process_seen(zv_runtime *rt, zv_source_rt *src, const zv_item *item,
                              const char *rid, const char *only, int64_t keep, int seen,
                              zv_lifecycle_outcome *out);

/* The mapping's version (first 16 hex of the SHA-256 of its config) and
 * the source plugin's ("filedrop 1.0"); NULL when the source is unknown. */
const char *zv_lifecycle_mapping_version(zv_source_rt *src);
const char *zv_lifecycle_source_version(zv_runtime *rt, const char *source, char *buf, size_t len);

/* A rejection of a date field whose value lies after today is not an
 * error but early: 1 with the day in due. */
int zv_lifecycle_not_due(const zv_record *rec, const char *field, char due[11]);
/* Keep such a record waiting until due (raw item kept, audited when it
 * leaves); counted as waiting, not quarantined. */
int zv_lifecycle_hold(zv_runtime *rt, const zv_record *rec, const char *stage, const char *dest,
                      const char *field, const char *rule, const char *reason, const char *due);

/* One more reason of the format for a record it already refused in this
 * render: added to the record's newest entry for dest. */
int zv_lifecycle_more_reason(zv_runtime *rt, const zv_record *rec, const char *dest,
                             const char *field, const char *rule, const char *reason);

/* An entry processed again: 0 staged or queued, 1 absent or closed,
 * 2 re-quarantined, 3 no destination takes it now, -1 error; what became
 * of it in result (BSNs masked).  who goes into the audit trail. */
int zv_lifecycle_retry(zv_runtime *rt, int64_t id, const char *who, char *result, size_t len);
/* Every open entry processed again in one pass: each through mapping and
 * routing (committed with its outcome), then one render per destination.
 * cb is called once per entry, in id order, with zv_lifecycle_retry's code
 * and result; *messages: the messages the pass made.  0, or -1 (store). */
typedef void (*zv_retry_cb)(int64_t id, int code, const char *result, void *arg);
int zv_lifecycle_retry_all(zv_runtime *rt, const char *who, zv_retry_cb cb, void *arg,
                           int64_t *messages);
/* An operator drops an entry (audited).  0, 1 absent or closed, -1. */
int zv_lifecycle_drop(zv_sb *b, int64_t id, const char *who, char *result, size_t len);
/* replay.c: a file read again by the source's file reader, every item
 * through the current mapping whatever was seen, then rendered.  0 done
 * (what happened in result), 1 no such source, 2 the file cannot be read
 * (nothing of it staged), -1 store error.  Audited with who. */
int zv_lifecycle_replay(zv_runtime *rt, const char *source, const char *path, const char *who,
                        char *result, size_t len);

/* Waiting entries whose day has come, processed again.  Number done or -1. */
int zv_lifecycle_run_due(zv_runtime *rt);
/* Daemon and once mode: run due entries now and whenever the day changes. */
int zv_lifecycle_start(zv_runtime *rt);
void zv_lifecycle_stop(zv_runtime *rt);

#endif
