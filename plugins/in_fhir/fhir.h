/* fhir source: internals shared between its files. */
#ifndef ZV_IN_FHIR_H
#define ZV_IN_FHIR_H

#include <zinvol/json.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

/* Flattened resource: paths and values in one buffer. */
typedef struct fh_flat {
    zv_buf buf; /* path \0 value \0 ... */
    zv_item_field *fields;
    size_t n, cap;
    char bad[320]; /* the first value that is not strict UTF-8 or holds U+0000 */
} fh_flat;

void fh_flat_init(fh_flat *f);
void fh_flat_free(fh_flat *f);
void fh_flat_reset(fh_flat *f);
/* Append resource under its resourceType (or under `root` when given). */
int fh_flatten(fh_flat *f, const zv_json *resource, const char *root);
/* Make f->fields point into f->buf (after all appends). */
int fh_flat_finish(fh_flat *f);
/* Replace what was flattened by "<type>.id" and a ZV_ITEM_ERROR field
 * with f->bad: a resource with broken text is quarantined on its own,
 * holding nothing of its content. */
int fh_flat_error(fh_flat *f, const char *type, const char *id);

/* URLs (fhir_url.c).  Origins are compared parsed: scheme and host without
 * regard to case, the default port (80, 443) the same as none, and
 * localhost, 127.0.0.1 and [::1] as one host. */
size_t fh_origin_len(const char *url); /* "scheme://authority" */
int fh_same_origin(const char *a, const char *b);
/* The URL to request for a next link: its path and query on base's origin.
 * 0: same origin; 1: another origin but a path below base's (rebased);
 * -1: refused (another server, or too long). */
int fh_next_url(const char *base, const char *next, char *out, size_t outlen);

#endif
