/*
 * The option engine behind zv_option (plugin.h): one typed option system
 * for the core's own configuration and every plugin's options.
 *
 * A table of zv_option (pointer + count + element size) is checked against
 * a JSON object: unknown keys, JSON types, durations, sizes, enum choices,
 * ranges and required options; defaults (written once, in the table) are
 * applied; and every value is stored at its offset in a config struct.
 * Errors go to a callback with the option's name, so the caller can say
 * "file: path.key: reason".
 *
 * In zvutil so that the core and a test host check options the same way.
 */
#ifndef ZINVOL_OPTMAP_H
#define ZINVOL_OPTMAP_H

#include <stdio.h>
#include <zinvol/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The least element size of an option table of ABI 2.0. */
#define ZV_OPTION_SIZE_2_0 (offsetof(zv_option, offset) + sizeof(size_t))

/* A resolved value. */
typedef struct zv_optval {
    zv_option opt; /* the declaration, copied at the core's size */
    int set;       /* given in the config or by a default */
    int given;     /* given in the config */
    char *str;     /* string, path (resolved); owned by the set */
    int64_t i;     /* int, bool, enum index, size in bytes, duration in ms */
    double d;      /* number */
    const zv_json *json; /* object, array: points into the caller's document */
} zv_optval;

typedef struct zv_optset {
    zv_optval *v;
    size_t n;
    void *conf; /* conf_size bytes, zeroed then filled; owned by the set */
    size_t conf_size;
} zv_optset;

/* Called once per problem: key is the option's name (or the unknown key). */
typedef void (*zv_opt_error_fn)(void *arg, const char *key, const char *msg);

typedef struct zv_optspec {
    const zv_option *options;
    size_t count;
    size_t stride;    /* element size; 0: sizeof(zv_option) */
    size_t conf_size; /* 0: no struct is filled */
    /* "plugin 'http'" in messages about a plugin's options; NULL: the core's
     * wording ("unknown key", "missing (required)"). */
    const char *owner;
    const char *base_dir; /* relative paths resolve against this; NULL: kept as given */
} zv_optspec;

/* The option table of a plugin's descriptor (pointer, count, element size,
 * config struct size). */
void zv_descriptor_optspec(const zv_plugin_descriptor *d, zv_optspec *spec);

/* The i-th declaration, copied into *out (members the table's element size
 * does not reach are 0).  0, or -1 when i is past the end. */
int zv_optspec_get(const zv_optspec *spec, size_t i, zv_option *out);

/* The table itself is sound: names unique, enums have choices, defaults
 * parse and are in range, struct members inside conf_size and not
 * overlapping.  0, or -1 with err saying which option is wrong. */
int zv_optspec_check(const zv_optspec *spec, char *err, size_t errlen);

/* Check given (a JSON object or NULL) against spec and fill set; returns 0,
 * or -1 when anything was reported (set is usable either way and must be
 * freed).  given must outlive set (object and array values point into it). */
int zv_optset_resolve(zv_optset *set, const zv_optspec *spec, const zv_json *given,
                      zv_opt_error_fn err, void *arg);
void zv_optset_free(zv_optset *set);
/* The value of an option by name; NULL when undeclared or not set. */
const zv_optval *zv_optset_find(const zv_optset *set, const char *name);

/* Values as the user writes them.  0, or -1 when malformed (or overflowing). */
int zv_opt_duration_ms(const zv_json *v, int64_t *ms);
int zv_opt_duration_text_ms(const char *s, int64_t *ms);
int zv_opt_size(const zv_json *v, int64_t *bytes);
int zv_opt_size_text(const char *s, int64_t *bytes);
/* Index of s among choices "a|b|c", or -1. */
int zv_opt_choice(const char *choices, const char *s);

const char *zv_opt_type_name(zv_opt_type t);

/* --describe: every option with type, default, range and description.
 * markdown: a table (the plugin READMEs' option tables are this output). */
void zv_optspec_describe(FILE *out, const zv_optspec *spec, int markdown);

#ifdef __cplusplus
}
#endif
#endif
