/*
 * JSON for zinvol: the only place that knows which JSON library is used
 * (yajl today).  Everything else - config, catalogues, sources, formats,
 * reports - goes through this interface, so the library can be swapped.
 *
 * A parsed document is immutable and owns all its nodes in one arena.
 */
#ifndef ZINVOL_JSON_H
#define ZINVOL_JSON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum zv_json_type {
    ZV_JSON_NULL = 0,
    ZV_JSON_BOOL,
    ZV_JSON_NUMBER,
    ZV_JSON_STRING,
    ZV_JSON_ARRAY,
    ZV_JSON_OBJECT
} zv_json_type;

typedef struct zv_json zv_json;
typedef struct zv_json_doc zv_json_doc;

#define ZV_JSON_COMMENTS 0x1u /* allow // and block comments (config files) */

/* Parse text.  On failure returns NULL and writes "line N, column M: why"
 * into err. */
zv_json_doc *zv_json_parse(const char *text, size_t len, unsigned flags, char *err, size_t errlen);
/* Read and parse a file; err names what failed (not the file: callers add it). */
zv_json_doc *zv_json_parse_file(const char *path, unsigned flags, char *err, size_t errlen);
void zv_json_free(zv_json_doc *doc);
const zv_json *zv_json_root(const zv_json_doc *doc);

zv_json_type zv_json_type_of(const zv_json *v);
const char *zv_json_type_name(zv_json_type t);
/* NULL unless v is a string. */
const char *zv_json_str(const zv_json *v, size_t *len);
/* 0 on success, -1 when v is not of that type (or not an integer). */
int zv_json_bool(const zv_json *v, int *out);
int zv_json_int(const zv_json *v, int64_t *out);
int zv_json_number(const zv_json *v, double *out);
/* The number as written in the source text. */
const char *zv_json_number_text(const zv_json *v);

/* Arrays and objects: element count, i-th element, i-th key. */
size_t zv_json_len(const zv_json *v);
const zv_json *zv_json_at(const zv_json *v, size_t i);
const char *zv_json_key_at(const zv_json *v, size_t i);
/* Object member by key, NULL when absent or v is not an object. */
const zv_json *zv_json_get(const zv_json *v, const char *key);
/* RFC 6901 JSON pointer ("" is the whole value). */
const zv_json *zv_json_pointer(const zv_json *v, const char *ptr);

/* ---- writing ---- */
typedef struct zv_jw zv_jw;

zv_jw *zv_jw_new(int pretty);
void zv_jw_free(zv_jw *w);
void zv_jw_obj_open(zv_jw *w);
void zv_jw_obj_close(zv_jw *w);
void zv_jw_arr_open(zv_jw *w);
void zv_jw_arr_close(zv_jw *w);
void zv_jw_key(zv_jw *w, const char *key);
void zv_jw_str(zv_jw *w, const char *s);
void zv_jw_strn(zv_jw *w, const char *s, size_t len);
void zv_jw_int(zv_jw *w, int64_t v);
void zv_jw_double(zv_jw *w, double v);
void zv_jw_bool(zv_jw *w, int v);
void zv_jw_null(zv_jw *w);
/* Copy a parsed value into the output. */
void zv_jw_value(zv_jw *w, const zv_json *v);
/* Output so far; valid until the next call on w. -1 if a call was misused. */
int zv_jw_result(zv_jw *w, const char **buf, size_t *len);

/* ---- streaming flattening (many records, no tree) ----
 * One document -> (JSON pointer, scalar text) pairs in document order:
 * strings unescaped, numbers as written, booleans "true"/"false", nulls
 * skipped.  {"a": {"b": [1, "x"]}} gives ("/a/b/0", "1"), ("/a/b/1", "x").
 * The pairs stay valid until the next zv_json_flatten() on the same f. */
typedef struct zv_json_flat zv_json_flat;
typedef struct zv_json_pair {
    const char *path;
    const char *value;
    size_t len;
} zv_json_pair;

zv_json_flat *zv_json_flat_new(void);
void zv_json_flat_free(zv_json_flat *f);
/* Containers nested deeper than this fail the document (default and
 * ceiling 64). */
void zv_json_flat_max_depth(zv_json_flat *f, size_t depth);
/* Number of pairs, or -1 with "offset N: why" in err.  Values carry their
 * length (a string may hold U+0000); a key holding U+0000 fails the
 * document, since paths are C strings. */
int zv_json_flatten(zv_json_flat *f, const char *text, size_t len, char *err, size_t errlen);
const zv_json_pair *zv_json_flat_pairs(const zv_json_flat *f, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
