/*
 * Requirements catalogue and minimiser.
 *
 * A catalogue describes one message of one funder format (AW35, JW305, the
 * CBS set, ...): per canonical model field, how strongly it is required
 * (level), by what (citation), under which condition, how often, what for,
 * and what the recipient could derive it from.  The minimiser applies a
 * destination's threshold to records using the catalogue.
 */
#ifndef ZV_CATALOGUE_H
#define ZV_CATALOGUE_H

#include <stddef.h>
#include <stdint.h>
#include <zinvol/json.h>
#include <zinvol/model.h>
#include "../core/errors.h"

/* Strongest first: a threshold T keeps every field with level <= T. */
typedef enum zv_level {
    ZV_LEVEL_LAW = 0,
    ZV_LEVEL_STANDARD,
    ZV_LEVEL_REGULATOR,
    ZV_LEVEL_CONTRACT,
    ZV_LEVEL_SECTOR,
    ZV_LEVEL_INTERNAL,
    ZV_LEVEL_NONE,
    ZV_LEVEL_COUNT
} zv_level;

const char *zv_level_name(zv_level l);
int zv_level_by_name(const char *name); /* -1 when unknown */

typedef struct zv_catalogue zv_catalogue;

/* Load and validate a catalogue file; every problem is added to errs as
 * "file: path: reason".  NULL when there was any error. */
zv_catalogue *zv_catalogue_load(const char *path, zv_errors *errs);
/* Apply a destination's override (the "catalogue" object of a destination in
 * the config): extra or changed fields, typically at level contract.  cfgfile
 * and path locate the override in the config for messages. */
int zv_catalogue_override(zv_catalogue *cat, const zv_json *override, const char *cfgfile,
                          const char *path, zv_errors *errs);
void zv_catalogue_free(zv_catalogue *cat);
const char *zv_catalogue_message(const zv_catalogue *cat); /* "AW35" */

typedef struct zv_minimiser zv_minimiser;

typedef enum zv_min_result {
    ZV_MIN_OK = 0,  /* *out holds the trimmed copy */
    ZV_MIN_MISSING, /* a field required at standard or above is absent */
    ZV_MIN_ERROR    /* out of memory */
} zv_min_result;

zv_minimiser *zv_minimiser_new(const zv_catalogue *cat, zv_level threshold);
void zv_minimiser_free(zv_minimiser *m);
/* Trim rec to what may be sent.  On ZV_MIN_MISSING, field names the missing
 * field and reason says why (no values in it). */
zv_min_result zv_minimise(zv_minimiser *m, const zv_record *rec, zv_record **out, char *field,
                          size_t fieldlen, char *reason, size_t reasonlen);
/* Decisions since the last call, per field: kept, dropped (below threshold),
 * not_applicable (condition false), missing.  cb is called per field with
 * non-zero counts and the counts are reset. */
typedef void (*zv_min_count_cb)(const char *field, int64_t kept, int64_t dropped,
                                int64_t not_applicable, int64_t missing, void *arg);
void zv_minimiser_drain_counts(zv_minimiser *m, zv_min_count_cb cb, void *arg);

#endif
