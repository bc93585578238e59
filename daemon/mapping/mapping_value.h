/* One value through converters, code map and type checks (mapping internals). */
#ifndef ZV_MAPPING_VALUE_H
#define ZV_MAPPING_VALUE_H

#include "mapping_int.h"

typedef struct zv_map_ctx {
    char today[11];
    const char *buf_start; /* the scratch buffer: one byte before a value is free */
} zv_map_ctx;

/* Converters in place on *s (inside a writable scratch buffer). */
int zv_map_convert(const zv_field_rule *fr, char **s, size_t *len);
/* Code map: 0 and the mapped code, or -1 when the value is not mapped. */
int zv_map_lookup(const zv_field_rule *fr, const char *s, size_t len, const char **out,
                  size_t *outlen);
/* Type checks and canonical form, in place; -1 with a BSN-free reason. */
int zv_map_check(const zv_field_rule *fr, const zv_map_ctx *cx, char **s, size_t *len, char *reason,
                 size_t reasonlen);

#endif
