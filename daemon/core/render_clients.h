/* The per-client parts of an outbox row (render_clients.c). */
#ifndef ZV_RENDER_CLIENTS_H
#define ZV_RENDER_CLIENTS_H

#include <stddef.h>
#include <zinvol/plugin.h>

#include "runtime_int.h"

/* records_json: [{"source","record_id","key","client","fields"}] for the
 * records idx[0..n) of b; keys may be NULL.  fields: per batch record
 * ZV_FIELD_COUNT flags, the fields its payload carries (render.c); only
 * those are named.  Caller frees; NULL: no memory. */
char *zv_render_records_json(const zv_runtime *rt, const zv_batch *b, const size_t *idx,
                             char *const *keys, size_t n, const unsigned char *fields);
/* disclosure_json: [{"client","record","values":{field:value}}] with the
 * values of the carried fields only; NULL when no record has a client key
 * (or no memory).  Caller frees. */
char *zv_render_disclosure_json(const zv_runtime *rt, const zv_batch *b, const size_t *idx,
                                size_t n, const unsigned char *fields);

#endif
