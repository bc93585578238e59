/*
 * Error collection for validation: config, catalogues, mappings.  Each line
 * reads "file: path.to.key: reason", the form --check-config prints.
 */
#ifndef ZV_ERRORS_H
#define ZV_ERRORS_H

#include <stddef.h>

typedef struct zv_errors {
    char **lines;
    size_t n, cap;
} zv_errors;

void zv_errors_init(zv_errors *e);
void zv_errors_free(zv_errors *e);
/* path may be "" for whole-file errors; file may be NULL. */
void zv_errors_add(zv_errors *e, const char *file, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Join a JSON path: base "sources[0]" + key "type" -> "sources[0].type". */
void zv_path_key(char *out, size_t outlen, const char *base, const char *key);
void zv_path_index(char *out, size_t outlen, const char *base, size_t index);

#endif
