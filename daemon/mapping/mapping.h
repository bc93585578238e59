/*
 * Mapping: a source's raw items -> model records.  One compiled mapping per
 * source, from the "mapping" object of the source in the config.
 */
#ifndef ZV_MAPPING_H
#define ZV_MAPPING_H

#include <stddef.h>
#include <stdint.h>
#include <zinvol/json.h>
#include <zinvol/model.h>
#include <zinvol/plugin.h>
#include "../core/errors.h"

typedef struct zv_mapping zv_mapping;

/* Validate and compile; problems go to errs as "cfgfile: path: reason". */
zv_mapping *zv_mapping_compile(const zv_json *spec, const char *source, const char *cfgfile,
                               const char *path, zv_errors *errs);
void zv_mapping_free(zv_mapping *m);

/* Map one item.  On failure returns NULL and names the model field (or the
 * source path) and the reason; reasons never contain a BSN in clear. */
zv_record *zv_mapping_apply(const zv_mapping *m, const zv_item *item, int64_t received, char *field,
                            size_t fieldlen, char *reason, size_t reasonlen);

/* The same, reporting optional fields that were dropped: a field whose
 * rule says "on_error": "drop" (or the mapping's) and that is not required
 * is left out of the record when its value is bad, and dropped() gets the
 * model field and the (BSN-free) reason.  Required fields still fail. */
typedef void (*zv_map_drop_cb)(void *arg, const char *field, const char *reason);
zv_record *zv_mapping_apply_ex(const zv_mapping *m, const zv_item *item, int64_t received,
                               char *field, size_t fieldlen, char *reason, size_t reasonlen,
                               zv_map_drop_cb dropped, void *arg);

/* The record id the mapping's "record_id" setting gives this item (parts
 * joined by '/', absent parts left out).  1 and the id in out, or 0 when
 * the mapping has no record_id or none of its parts is present: then the
 * item's own record_id (or its content hash) identifies it.  The pipeline
 * should de-duplicate and quarantine under this id, so a re-dropped full
 * export is recognised record by record. */
int zv_mapping_record_id(const zv_mapping *m, const zv_item *item, char *out, size_t outlen);

/* Model fields this mapping can fill (for the audit's "collected, never
 * required").  Returns how many ids were written to ids. */
size_t zv_mapping_fields(const zv_mapping *m, int *ids, size_t max);

/* Items are kept in quarantine as JSON {"type":..,"record_id":..,
 * "fields":{path:value}} so a fixed mapping can process them again. */
char *zv_item_to_json(const zv_item *item);
/* The same JSON holding only what this mapping reads from the item: the
 * paths its rules, conditions, selectors and record id use (for the
 * quarantine, so narratives and unrelated persons are not kept).  An item
 * the source could not read (ZV_ITEM_ERROR) is kept whole. */
char *zv_mapping_item_json(const zv_mapping *m, const zv_item *item);
/* Parse that JSON back; free with zv_item_free_parsed. */
zv_item *zv_item_from_json(const char *json, size_t len);
void zv_item_free_parsed(zv_item *item);

/* Outside text must be strict UTF-8 (zv_utf8_check) to be kept as JSON and
 * rendered as XML.  0 when every path, value, type and record id of item
 * is; -1 out of memory; 1 with *fixed a copy (free with zv_item_free_parsed)
 * in which each byte that is not UTF-8 is spelled "\xNN" and whose first
 * field is ZV_ITEM_ERROR naming the first bad field, its byte offset and
 * the problem.  The mapping refuses such a copy with that reason, so it is
 * quarantined - and a retry fails the same way - instead of being cut,
 * guessed at or failing the store. */
int zv_item_text_check(const zv_item *item, zv_item **fixed);

#endif
