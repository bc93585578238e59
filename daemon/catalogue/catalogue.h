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
#include "chain.h"

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

/* ---- reading a loaded catalogue (minimiser, audit report) ---- */

/* A compiled condition; evaluated against a record. */
typedef struct zv_cond zv_cond;
/* 1 when the condition holds for rec (NULL condition: always). */
int zv_cond_eval(const zv_cond *c, const zv_record *rec);
/* Human-readable form, e.g. `delivery.leveringsvorm in (4, 5)`; malloc'd. */
char *zv_cond_describe(const zv_cond *c);

/* Frequencies, most frequent first: event, daily, weekly, monthly, quarterly,
 * half-yearly, yearly, 3-yearly.  -1 when unknown. */
int zv_frequency_rank(const char *name);
const char *zv_frequency_name(int rank);

typedef struct zv_cat_entry {
    int field;           /* zv_field_id */
    const char *element; /* message element it fills */
    zv_level level;
    const char *citation;
    int optional;             /* the message allows but does not demand it */
    const zv_cond *condition; /* NULL: always applies */
    const char *const *derivable_from;
    size_t nderivable;
    const char *frequency; /* entry's own or the catalogue's default */
    const char *purpose;   /* may be NULL */
    const char *note;      /* may be NULL */
    int overridden;        /* added or replaced by a destination override */
    zv_chain chain;        /* instruments that list this field (level law); may be empty */
} zv_cat_entry;

/* Parse from an already parsed document; file is used in messages and must
 * be the catalogue's file name (its base name is the catalogue id). */
zv_catalogue *zv_catalogue_from_json(const zv_json *root, const char *file, zv_errors *errs);
const char *zv_catalogue_id(const zv_catalogue *cat);     /* "iwlz-aw35" */
const char *zv_catalogue_file(const zv_catalogue *cat);   /* as loaded */
const char *zv_catalogue_format(const zv_catalogue *cat); /* "iwlz" */
const char *zv_catalogue_standard(const zv_catalogue *cat);
const char *zv_catalogue_description(const zv_catalogue *cat);
/* What the receiver uses the message for: "statistics", "monitoring",
 * "funding", "care", "supervision"; NULL when the catalogue does not say. */
const char *zv_catalogue_purpose(const zv_catalogue *cat);
/* The signal set (conf/signals/<name>.json) that would give the receiver
 * the same answers as counts; NULL: none named. */
const char *zv_catalogue_signal_set(const zv_catalogue *cat);
size_t zv_catalogue_count(const zv_catalogue *cat);
const zv_cat_entry *zv_catalogue_entry(const zv_catalogue *cat, size_t i);
/* The entry for a model field, or NULL. */
const zv_cat_entry *zv_catalogue_find(const zv_catalogue *cat, int field);
/* Whether (and for which format options) a regulation prescribes the
 * catalogue's standard; present 0 when the catalogue does not say. */
const zv_prescribed *zv_catalogue_prescribed(const zv_catalogue *cat);
/* Legal maximum: NULL citation when the catalogue states none. */
const char *zv_catalogue_max_citation(const zv_catalogue *cat);
/* "correction": {"by": "withdraw", "citation"}: the standard has no
 * "changed" delivery (iWlz CS058: StatusAanlevering 1 or 3 only), so a
 * change to a record already sent as this message goes out as a withdrawal
 * of what was sent (delivery.status 3) followed by the new content as a
 * first delivery (1).  0 ("resend", or no key): the changed record is sent
 * again as it is. */
int zv_catalogue_withdraws(const zv_catalogue *cat);
const char *zv_catalogue_correction_citation(const zv_catalogue *cat);
/* 1 when the maximum lists field (or when there is no maximum). */
int zv_catalogue_max_allows(const zv_catalogue *cat, int field);

typedef struct zv_minimiser zv_minimiser;

typedef enum zv_min_result {
    ZV_MIN_OK = 0,  /* *out holds the trimmed copy */
    ZV_MIN_MISSING, /* a field required at standard or above is absent */
    ZV_MIN_ERROR    /* out of memory */
} zv_min_result;

zv_minimiser *zv_minimiser_new(const zv_catalogue *cat, zv_level threshold);
void zv_minimiser_free(zv_minimiser *m);
/* Trim rec to what may be sent.  On ZV_MIN_MISSING, field names the missing
 * field and reason says why (no values in it).  *out is a copy of the kept
 * fields only (the caller's, zv_record_free). */
zv_min_result zv_minimise(zv_minimiser *m, const zv_record *rec, zv_record **out, char *field,
                          size_t fieldlen, char *reason, size_t reasonlen);
/* The same decisions, counts, field and reason, without a copy: on
 * ZV_MIN_OK *view shows exactly the kept values of rec (its strings and
 * provenance, the record's own provenance as the view's own), in a record
 * m owns.  Owner and lifetime: m's; never free it; valid until the next
 * zv_minimise/zv_minimise_view on m, zv_minimiser_free(m), or until rec is
 * changed or freed, whichever comes first.  For the loop's route, which
 * only encodes and digests what it keeps (core/pipeline.c). */
zv_min_result zv_minimise_view(zv_minimiser *m, const zv_record *rec, const zv_record **view,
                               char *field, size_t fieldlen, char *reason, size_t reasonlen);
/* Decisions since the last call, per field: kept, dropped (below threshold),
 * not_applicable (condition false), missing.  cb is called per field with
 * non-zero counts and the counts are reset. */
typedef void (*zv_min_count_cb)(const char *field, int64_t kept, int64_t dropped,
                                int64_t not_applicable, int64_t missing, void *arg);
void zv_minimiser_drain_counts(zv_minimiser *m, zv_min_count_cb cb, void *arg);

#endif
