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
} fh_flat;

void fh_flat_init(fh_flat *f);
void fh_flat_free(fh_flat *f);
void fh_flat_reset(fh_flat *f);
/* Append resource under its resourceType (or under `root` when given). */
int fh_flatten(fh_flat *f, const zv_json *resource, const char *root);
/* Make f->fields point into f->buf (after all appends). */
int fh_flat_finish(fh_flat *f);

#endif
