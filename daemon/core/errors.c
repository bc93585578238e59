#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void zv_errors_init(zv_errors *e)
{
    memset(e, 0, sizeof(*e));
}

void zv_errors_free(zv_errors *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->lines[i]);
    free(e->lines);
    zv_errors_init(e);
}

void zv_errors_add(zv_errors *e, const char *file, const char *path, const char *fmt, ...)
{
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        char **l = realloc(e->lines, cap * sizeof(*l));
        if (!l) return;
        e->lines = l;
        e->cap = cap;
    }
    size_t len = strlen(why) + (file ? strlen(file) : 0) + (path ? strlen(path) : 0) + 8;
    char *line = malloc(len);
    if (!line) return;
    if (path && *path)
        snprintf(line, len, "%s: %s: %s", file ? file : "-", path, why);
    else
        snprintf(line, len, "%s: %s", file ? file : "-", why);
    e->lines[e->n++] = line;
}

void zv_path_key(char *out, size_t outlen, const char *base, const char *key)
{
    if (base && *base)
        snprintf(out, outlen, "%s.%s", base, key);
    else
        snprintf(out, outlen, "%s", key);
}

void zv_path_index(char *out, size_t outlen, const char *base, size_t index)
{
    snprintf(out, outlen, "%s[%zu]", base ? base : "", index);
}
