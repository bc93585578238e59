/*
 * JSON behind one small interface.  This file and json_write.c are the only
 * users of yajl in the project; swap them to change the library.
 *
 * Parsing builds an immutable tree in one arena.  Containers are collected
 * on a stack of growable vectors while open and copied into the arena when
 * they close, so the arena holds exactly-sized arrays.
 */
#include <zinvol/json.h>
#include "arena.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

struct zv_json {
    zv_json_type type;
    union {
        int b;
        struct {
            const char *s; /* strings and number text, NUL-terminated */
            size_t len;
        } str;
        struct {
            zv_json **items;
            const char **keys; /* objects only */
            size_t n;
        } c;
    } u;
};

struct zv_json_doc {
    zv_arena *arena;
    zv_json *root;
};

/* One open container while parsing. */
struct frame {
    zv_json *node;
    zv_json **items;
    const char **keys;
    size_t n, cap;
    const char *pending_key;
};

struct builder {
    zv_json_doc *doc;
    struct frame *stack;
    size_t depth, cap;
    int oom;
    int nul_key; /* an object key held U+0000 */
};

#define MAX_DEPTH 512

static zv_json *new_node(struct builder *b, zv_json_type t)
{
    zv_json *n = zv_arena_alloc(b->doc->arena, sizeof(*n));
    if (!n) {
        b->oom = 1;
        return NULL;
    }
    memset(n, 0, sizeof(*n));
    n->type = t;
    return n;
}

static int attach(struct builder *b, zv_json *n)
{
    if (!n) return 0;
    if (b->depth == 0) {
        b->doc->root = n;
        return 1;
    }
    struct frame *f = &b->stack[b->depth - 1];
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        zv_json **items = realloc(f->items, cap * sizeof(*items));
        if (!items) goto oom;
        f->items = items;
        /* Always grow keys too: a frame reused by an object after an array
         * of the same depth must not find keys smaller than cap. */
        const char **keys = realloc(f->keys, cap * sizeof(*keys));
        if (!keys) goto oom;
        f->keys = keys;
        f->cap = cap;
    }
    if (f->node->type == ZV_JSON_OBJECT) f->keys[f->n] = f->pending_key;
    f->items[f->n++] = n;
    return 1;
oom:
    b->oom = 1;
    return 0;
}

static int open_container(struct builder *b, zv_json_type t)
{
    zv_json *n = new_node(b, t);
    if (!n || !attach(b, n)) return 0;
    if (b->depth == MAX_DEPTH) return 0;
    if (b->depth == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        struct frame *s = realloc(b->stack, cap * sizeof(*s));
        if (!s) {
            b->oom = 1;
            return 0;
        }
        memset(s + b->cap, 0, (cap - b->cap) * sizeof(*s));
        b->stack = s;
        b->cap = cap;
    }
    struct frame *f = &b->stack[b->depth++];
    f->node = n;
    f->n = 0;
    f->pending_key = NULL;
    return 1;
}

static int close_container(struct builder *b)
{
    struct frame *f = &b->stack[--b->depth];
    zv_json *n = f->node;
    n->u.c.n = f->n;
    if (f->n) {
        n->u.c.items = zv_arena_alloc(b->doc->arena, f->n * sizeof(zv_json *));
        if (!n->u.c.items) goto oom;
        memcpy(n->u.c.items, f->items, f->n * sizeof(zv_json *));
        if (n->type == ZV_JSON_OBJECT) {
            n->u.c.keys = zv_arena_alloc(b->doc->arena, f->n * sizeof(char *));
            if (!n->u.c.keys) goto oom;
            memcpy(n->u.c.keys, f->keys, f->n * sizeof(char *));
        }
    }
    return 1;
oom:
    b->oom = 1;
    return 0;
}

static int cb_null(void *ctx)
{
    struct builder *b = ctx;
    return attach(b, new_node(b, ZV_JSON_NULL));
}

static int cb_bool(void *ctx, int v)
{
    struct builder *b = ctx;
    zv_json *n = new_node(b, ZV_JSON_BOOL);
    if (n) n->u.b = v != 0;
    return attach(b, n);
}

static int text_node(struct builder *b, zv_json_type t, const char *s, size_t len)
{
    zv_json *n = new_node(b, t);
    if (!n) return 0;
    n->u.str.s = zv_arena_strndup(b->doc->arena, s, len);
    n->u.str.len = len;
    if (!n->u.str.s) {
        b->oom = 1;
        return 0;
    }
    return attach(b, n);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
    return text_node(ctx, ZV_JSON_NUMBER, s, len);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
    return text_node(ctx, ZV_JSON_STRING, (const char *)s, len);
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
    struct builder *b = ctx;
    /* Keys are C strings: "bsn\u0000x" would silently become "bsn" and
     * could stand in for another member.  No key of ours holds U+0000. */
    if (memchr(s, 0, len)) {
        b->nul_key = 1;
        return 0;
    }
    const char *k = zv_arena_strndup(b->doc->arena, (const char *)s, len);
    if (!k) {
        b->oom = 1;
        return 0;
    }
    b->stack[b->depth - 1].pending_key = k;
    return 1;
}

static int cb_start_map(void *ctx)
{
    return open_container(ctx, ZV_JSON_OBJECT);
}
static int cb_start_array(void *ctx)
{
    return open_container(ctx, ZV_JSON_ARRAY);
}
static int cb_end(void *ctx)
{
    return close_container(ctx);
}

static const yajl_callbacks callbacks = {
    cb_null,      cb_bool,    NULL,   NULL,           cb_number, cb_string,
    cb_start_map, cb_map_key, cb_end, cb_start_array, cb_end,
};

static void position(const char *text, size_t off, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static void parse_error(yajl_handle h, const char *text, size_t len, struct builder *b, char *err,
                        size_t errlen)
{
    if (!err || !errlen) return;
    if (b->oom) {
        snprintf(err, errlen, "out of memory");
        return;
    }
    if (b->depth >= MAX_DEPTH) {
        snprintf(err, errlen, "nested deeper than %d levels", MAX_DEPTH);
        return;
    }
    size_t off = yajl_get_bytes_consumed(h);
    if (off > len) off = len;
    size_t line, col;
    position(text, off, &line, &col);
    if (b->nul_key) {
        snprintf(err, errlen, "line %zu, column %zu: object key contains \\u0000", line, col);
        return;
    }
    unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)text, len);
    /* yajl says "parse error: <why>\n"; keep only the why. */
    const char *why = msg ? (const char *)msg : "invalid JSON";
    if (strncmp(why, "parse error: ", 13) == 0) why += 13;
    snprintf(err, errlen, "line %zu, column %zu: %.*s", line, col, (int)strcspn(why, "\n"), why);
    if (msg) yajl_free_error(h, msg);
}

zv_json_doc *zv_json_parse(const char *text, size_t len, unsigned flags, char *err, size_t errlen)
{
    zv_json_doc *doc = calloc(1, sizeof(*doc));
    if (!doc) return NULL;
    doc->arena = zv_arena_new(len * 2 + 256);
    struct builder b = {.doc = doc};
    yajl_handle h = doc->arena ? yajl_alloc(&callbacks, NULL, &b) : NULL;
    if (!h) {
        if (err) snprintf(err, errlen, "out of memory");
        zv_json_free(doc);
        return NULL;
    }
    yajl_config(h, yajl_allow_comments, (flags & ZV_JSON_COMMENTS) ? 1 : 0);
    yajl_config(h, yajl_dont_validate_strings, 0);
    yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
    if (st == yajl_status_ok) st = yajl_complete_parse(h);
    if (st == yajl_status_ok && !doc->root) {
        if (err) snprintf(err, errlen, "line 1, column 1: empty document");
        st = yajl_status_error;
    } else if (st != yajl_status_ok) {
        parse_error(h, text, len, &b, err, errlen);
    }
    for (size_t i = 0; i < b.cap; i++) {
        free(b.stack[i].items);
        free(b.stack[i].keys);
    }
    free(b.stack);
    yajl_free(h);
    if (st != yajl_status_ok) {
        zv_json_free(doc);
        return NULL;
    }
    return doc;
}

zv_json_doc *zv_json_parse_file(const char *path, unsigned flags, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err) snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 65536) {
            cap = cap ? cap * 2 : 65536;
            char *p = realloc(text, cap);
            if (!p) break;
            text = p;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed || !text) {
        if (err) snprintf(err, errlen, "cannot read: %s", failed ? strerror(errno) : "no memory");
        free(text);
        return NULL;
    }
    zv_json_doc *doc = zv_json_parse(text, len, flags, err, errlen);
    free(text);
    return doc;
}

void zv_json_free(zv_json_doc *doc)
{
    if (!doc) return;
    zv_arena_free(doc->arena);
    free(doc);
}

const zv_json *zv_json_root(const zv_json_doc *doc)
{
    return doc ? doc->root : NULL;
}

zv_json_type zv_json_type_of(const zv_json *v)
{
    return v ? v->type : ZV_JSON_NULL;
}

const char *zv_json_type_name(zv_json_type t)
{
    static const char *names[] = {"null", "boolean", "number", "string", "array", "object"};
    return (unsigned)t < 6 ? names[t] : "?";
}

const char *zv_json_str(const zv_json *v, size_t *len)
{
    if (!v || v->type != ZV_JSON_STRING) return NULL;
    if (len) *len = v->u.str.len;
    return v->u.str.s;
}

int zv_json_bool(const zv_json *v, int *out)
{
    if (!v || v->type != ZV_JSON_BOOL) return -1;
    *out = v->u.b;
    return 0;
}

int zv_json_int(const zv_json *v, int64_t *out)
{
    if (!v || v->type != ZV_JSON_NUMBER) return -1;
    char *end;
    errno = 0;
    long long x = strtoll(v->u.str.s, &end, 10);
    if (errno || *end) return -1;
    *out = x;
    return 0;
}

int zv_json_number(const zv_json *v, double *out)
{
    if (!v || v->type != ZV_JSON_NUMBER) return -1;
    *out = strtod(v->u.str.s, NULL);
    return 0;
}

const char *zv_json_number_text(const zv_json *v)
{
    return v && v->type == ZV_JSON_NUMBER ? v->u.str.s : NULL;
}

size_t zv_json_len(const zv_json *v)
{
    return v && (v->type == ZV_JSON_ARRAY || v->type == ZV_JSON_OBJECT) ? v->u.c.n : 0;
}

const zv_json *zv_json_at(const zv_json *v, size_t i)
{
    return i < zv_json_len(v) ? v->u.c.items[i] : NULL;
}

const char *zv_json_key_at(const zv_json *v, size_t i)
{
    return v && v->type == ZV_JSON_OBJECT && i < v->u.c.n ? v->u.c.keys[i] : NULL;
}

const zv_json *zv_json_get(const zv_json *v, const char *key)
{
    if (!v || v->type != ZV_JSON_OBJECT) return NULL;
    /* Last one wins, as most parsers do for duplicate keys. */
    for (size_t i = v->u.c.n; i-- > 0;)
        if (strcmp(v->u.c.keys[i], key) == 0) return v->u.c.items[i];
    return NULL;
}

/* Decode one reference token (~0 ~1 escapes) into buf. */
static const char *pointer_token(const char *p, char *buf, size_t buflen, size_t *used)
{
    size_t o = 0;
    const char *s = p;
    while (*s && *s != '/') {
        char c = *s++;
        if (c == '~' && (*s == '0' || *s == '1')) c = *s++ == '0' ? '~' : '/';
        if (o + 1 >= buflen) return NULL;
        buf[o++] = c;
    }
    buf[o] = '\0';
    *used = (size_t)(s - p);
    return buf;
}

const zv_json *zv_json_pointer(const zv_json *v, const char *ptr)
{
    char tok[256];
    while (v && *ptr) {
        if (*ptr != '/') return NULL;
        ptr++;
        size_t used;
        if (!pointer_token(ptr, tok, sizeof(tok), &used)) return NULL;
        ptr += used;
        if (v->type == ZV_JSON_OBJECT) {
            v = zv_json_get(v, tok);
        } else if (v->type == ZV_JSON_ARRAY) {
            char *end;
            unsigned long i = strtoul(tok, &end, 10);
            if (*end || !*tok || (tok[0] == '0' && tok[1])) return NULL;
            v = zv_json_at(v, i);
        } else {
            return NULL;
        }
    }
    return v;
}
