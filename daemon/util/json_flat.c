/*
 * Streaming flattening: one JSON document -> (JSON pointer, scalar text)
 * pairs, straight from yajl's callbacks without building a tree.  Sources
 * that read many records (JSON-lines exports) use it; all buffers are kept
 * between documents, so steady state allocates only yajl's handle.
 */
#include <zinvol/json.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#define FLAT_MAX_DEPTH 64

struct zv_json_flat {
    char *pool; /* paths and values, NUL-terminated, referenced by offset */
    size_t plen, pcap;
    struct off_pair {
        size_t path, value, len;
    } * offs;
    zv_json_pair *pairs;
    size_t n, cap;
    char path[1024]; /* the current pointer */
    size_t depth;
    size_t plens[FLAT_MAX_DEPTH + 2]; /* path length at each depth (+1: the open segment) */
    long index[FLAT_MAX_DEPTH + 2];   /* next array index, -1 in objects */
    size_t max_depth;                 /* <= FLAT_MAX_DEPTH */
    int oom;
    char why[64]; /* why a callback stopped the parse; "": yajl's own error */
};

zv_json_flat *zv_json_flat_new(void)
{
    zv_json_flat *f = calloc(1, sizeof(zv_json_flat));
    if (f) f->max_depth = FLAT_MAX_DEPTH;
    return f;
}

void zv_json_flat_max_depth(zv_json_flat *f, size_t depth)
{
    f->max_depth = depth && depth < FLAT_MAX_DEPTH ? depth : FLAT_MAX_DEPTH;
}

void zv_json_flat_free(zv_json_flat *f)
{
    if (!f) return;
    free(f->pool);
    free(f->offs);
    free(f->pairs);
    free(f);
}

static size_t pool_add(zv_json_flat *f, const char *s, size_t len)
{
    if (f->plen + len + 1 > f->pcap) {
        size_t cap = f->pcap ? f->pcap : 4096;
        while (cap < f->plen + len + 1)
            cap *= 2;
        char *p = realloc(f->pool, cap);
        if (!p) {
            f->oom = 1;
            return 0;
        }
        f->pool = p;
        f->pcap = cap;
    }
    size_t at = f->plen;
    memcpy(f->pool + at, s, len);
    f->pool[at + len] = '\0';
    f->plen += len + 1;
    return at;
}

/* Append a path segment (escaped per RFC 6901) at the current depth. */
static int segment(zv_json_flat *f, const char *s, size_t len)
{
    size_t o = f->plens[f->depth];
    if (o + 1 + 2 * len >= sizeof(f->path)) {
        snprintf(f->why, sizeof(f->why), "a member's path is longer than %zu bytes",
                 sizeof(f->path) - 1);
        return 0;
    }
    f->path[o++] = '/';
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '~' || s[i] == '/') {
            f->path[o++] = '~';
            f->path[o++] = s[i] == '~' ? '0' : '1';
        } else {
            f->path[o++] = s[i];
        }
    }
    f->path[o] = '\0';
    f->plens[f->depth + 1] = o;
    return 1;
}

/* A value begins: in an array it gets the next index as its segment. */
static int value_begins(zv_json_flat *f)
{
    if (f->depth > 0 && f->index[f->depth] >= 0) {
        char num[24];
        int n = snprintf(num, sizeof(num), "%ld", f->index[f->depth]++);
        return segment(f, num, (size_t)n);
    }
    if (f->depth == 0) f->plens[1] = 0;
    return 1;
}

static int scalar(void *ctx, const char *s, size_t len)
{
    zv_json_flat *f = ctx;
    if (!value_begins(f)) return 0;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        struct off_pair *o = realloc(f->offs, cap * sizeof(*o));
        if (o) f->offs = o;
        zv_json_pair *p = o ? realloc(f->pairs, cap * sizeof(*p)) : NULL;
        if (!p) {
            f->oom = 1;
            return 0;
        }
        f->pairs = p;
        f->cap = cap;
    }
    size_t plen = f->plens[f->depth + 1];
    struct off_pair *op = &f->offs[f->n++];
    op->path = pool_add(f, f->path, plen);
    op->value = pool_add(f, s, len);
    op->len = len;
    return !f->oom;
}

static int cb_null(void *ctx)
{
    zv_json_flat *f = ctx; /* absent, but it still takes an array index */
    return value_begins(f);
}
static int cb_bool(void *ctx, int b)
{
    return scalar(ctx, b ? "true" : "false", b ? 4 : 5);
}
static int cb_number(void *ctx, const char *s, size_t len)
{
    return scalar(ctx, s, len);
}
static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
    return scalar(ctx, (const char *)s, len);
}

static int open_container(zv_json_flat *f, int array)
{
    if (!value_begins(f)) return 0;
    if (f->depth == f->max_depth) {
        snprintf(f->why, sizeof(f->why), "nested deeper than %zu levels", f->max_depth);
        return 0;
    }
    f->depth++;
    f->index[f->depth] = array ? 0 : -1;
    return 1;
}

static int cb_start_map(void *ctx)
{
    return open_container(ctx, 0);
}
static int cb_start_array(void *ctx)
{
    return open_container(ctx, 1);
}
static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
    zv_json_flat *f = ctx;
    /* Paths are C strings: a key "bsn\u0000x" would become "/bsn". */
    if (memchr(s, 0, len)) {
        snprintf(f->why, sizeof(f->why), "object key contains \\u0000");
        return 0;
    }
    return segment(f, (const char *)s, len);
}
static int cb_end(void *ctx)
{
    zv_json_flat *f = ctx;
    f->depth--;
    return 1;
}

static const yajl_callbacks flat_callbacks = {cb_null,   cb_bool,        NULL,         NULL,
                                              cb_number, cb_string,      cb_start_map, cb_map_key,
                                              cb_end,    cb_start_array, cb_end};

int zv_json_flatten(zv_json_flat *f, const char *text, size_t len, char *err, size_t errlen)
{
    f->plen = f->n = f->depth = 0;
    f->plens[0] = 0;
    f->index[0] = -1;
    f->oom = 0;
    f->why[0] = '\0';
    yajl_handle h = yajl_alloc(&flat_callbacks, NULL, f);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
    if (st == yajl_status_ok) st = yajl_complete_parse(h);
    if (st != yajl_status_ok) {
        if (f->oom) {
            snprintf(err, errlen, "out of memory");
        } else if (f->why[0]) {
            snprintf(err, errlen, "offset %zu: %s", yajl_get_bytes_consumed(h), f->why);
        } else {
            size_t off = yajl_get_bytes_consumed(h);
            unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)text, len);
            snprintf(err, errlen, "offset %zu: %s", off,
                     msg ? (const char *)msg : "invalid JSON (or nested too deep)");
            if (msg) yajl_free_error(h, msg);
            /* yajl's message may end with a newline */
            size_t el = strlen(err);
            while (el && (err[el - 1] == '\n' || err[el - 1] == ' '))
                err[--el] = '\0';
        }
        yajl_free(h);
        return -1;
    }
    yajl_free(h);
    for (size_t i = 0; i < f->n; i++) {
        f->pairs[i].path = f->pool + f->offs[i].path;
        f->pairs[i].value = f->pool + f->offs[i].value;
        f->pairs[i].len = f->offs[i].len;
    }
    return (int)f->n;
}

const zv_json_pair *zv_json_flat_pairs(const zv_json_flat *f, size_t *n)
{
    *n = f->n;
    return f->pairs;
}
