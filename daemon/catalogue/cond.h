/* Internal to the catalogue: compiling conditions. */
#ifndef ZV_CATALOGUE_COND_H
#define ZV_CATALOGUE_COND_H

#include "catalogue.h"

/* Problems go to errs under path; NULL on any error. */
zv_cond *zv_cond_compile(const zv_json *j, const char *file, const char *path, zv_errors *errs);
void zv_cond_free(zv_cond *c);

/* Parse one field entry (catalogue file or override) into e; 0 or -1.
 * deffreq is the catalogue's default frequency (may be NULL). */
int zv_cat_entry_parse(const zv_json *j, const char *file, const char *path, const char *deffreq,
                       int allow_message, zv_cat_entry *e, zv_errors *errs);
void zv_cat_entry_clear(zv_cat_entry *e);

#endif
