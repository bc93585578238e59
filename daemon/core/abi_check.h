/*
 * Checks on the structs a plugin hands the core (ABI 2): each carries its
 * size and each array its element size; the core refuses one smaller than
 * ABI 2.0 defined it, so it never reads past what the plugin filled.
 */
#ifndef ZV_ABI_CHECK_H
#define ZV_ABI_CHECK_H

#include <stddef.h>
#include <zinvol/plugin.h>

/* Bytes of a struct up to and including member `last` (as ABI 2.0 ended). */
#define ZV_ABI_MIN_SIZE(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))

/* NULL when p (size `have`) has at least the 2.0 size `need`, else why
 * not, in why ("zv_item.size is 8, ABI 2.0 needs at least 48"). */
const char *zv_abi_size_problem(const char *what, size_t have, size_t need, char *why, size_t len);

/* An item as the core reads it: *out is *in, with fields pointing at an
 * array of this header's stride (a copy in *copy, to free(), only when the
 * source's field_size differs).  -1 and why when a size is too small. */
int zv_abi_item(const zv_item *in, zv_item *out, zv_item_field **copy, char *why, size_t len);
/* NULL when the struct is big enough for ABI 2.0, else why not. */
const char *zv_abi_payload_problem(const zv_payload_spec *p, char *why, size_t len);
const char *zv_abi_send_result_problem(const zv_send_result *r, char *why, size_t len);
const char *zv_abi_http_request_problem(const zv_http_request *r, char *why, size_t len);

#endif
