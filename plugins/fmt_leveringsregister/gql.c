/* GraphQL executable documents: lexer and recursive-descent parser (gql.h). */
#include "gql.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena: every node and string of one document ---- */

typedef struct block {
    struct block *next;
    size_t used, cap;
    max_align_t data[];
} block;

static void *arena_alloc(block **a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!*a || (*a)->cap - (*a)->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        block *b = malloc(sizeof(block) + cap);
        if (!b) return NULL;
        b->next = *a;
        b->used = 0;
        b->cap = cap;
        *a = b;
    }
    void *p = (char *)(*a)->data + (*a)->used;
    (*a)->used += n;
    memset(p, 0, n);
    return p;
}

static void arena_free(block *a)
{
    while (a) {
        block *n = a->next;
        free(a);
        a = n;
    }
}

/* ---- lexer ---- */

typedef enum tok {
    T_EOF = 0,
    T_PUNCT, /* one of ! $ & ( ) ... : = @ [ ] { | } */
    T_NAME,
    T_INT,
    T_FLOAT,
    T_STRING
} tok;

typedef struct parser {
    const char *s, *end, *p;
    int line;
    const char *line_start;
    tok t;
    char punct;     /* T_PUNCT: the character ('.' for ...) */
    const char *ts; /* token text */
    size_t tlen;
    char *sval; /* T_STRING: decoded, in the arena */
    int tline, tcol;
    int depth;
    size_t nodes;
    block *arena;
    char *err;
    size_t errlen;
    int failed;
} parser;

static int fail(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parser *ps, const char *fmt, ...)
{
    if (ps->failed) return -1;
    ps->failed = 1;
    int n = snprintf(ps->err, ps->errlen, "line %d, column %d: ", ps->tline, ps->tcol);
    if (n >= 0 && (size_t)n < ps->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void *node(parser *ps, size_t n)
{
    if (++ps->nodes > GQL_MAX_NODES) {
        fail(ps, "document too large (more than %d nodes)", GQL_MAX_NODES);
        return NULL;
    }
    void *p = arena_alloc(&ps->arena, n);
    if (!p) fail(ps, "out of memory");
    return p;
}

static char *dupn(parser *ps, const char *s, size_t n)
{
    char *d = arena_alloc(&ps->arena, n + 1);
    if (!d) {
        fail(ps, "out of memory");
        return NULL;
    }
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static int is_name_start(int c)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}
static int is_name(int c)
{
    return is_name_start(c) || is_digit(c);
}

static void newline(parser *ps, const char *after)
{
    ps->line++;
    ps->line_start = after;
}

/* White space, line terminators, commas, comments and a BOM are ignored. */
static void skip_ignored(parser *ps)
{
    while (ps->p < ps->end) {
        unsigned char c = (unsigned char)*ps->p;
        if (c == ' ' || c == '\t' || c == ',') {
            ps->p++;
        } else if (c == '\n') {
            newline(ps, ++ps->p);
        } else if (c == '\r') {
            ps->p++;
            if (ps->p < ps->end && *ps->p == '\n') ps->p++;
            newline(ps, ps->p);
        } else if (c == '#') {
            while (ps->p < ps->end && *ps->p != '\n' && *ps->p != '\r')
                ps->p++;
        } else if (c == 0xEF && ps->end - ps->p >= 3 && (unsigned char)ps->p[1] == 0xBB &&
                   (unsigned char)ps->p[2] == 0xBF) {
            ps->p += 3;
        } else {
            break;
        }
    }
}

static int hexval(int c)
{
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int read_u4(parser *ps, const char *q, uint32_t *cp)
{
    if (ps->end - q < 4) return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval((unsigned char)q[i]);
        if (h < 0) return -1;
        v = v * 16 + (uint32_t)h;
    }
    *cp = v;
    return 0;
}

/* "..." with escapes; the decoded text goes into ps->sval. */
static int lex_string(parser *ps)
{
    const char *q = ps->p + 1, *stop = q;
    /* Decoded text is never longer than its source: size the copy by it. */
    while (stop < ps->end && *stop != '"' && *stop != '\n' && *stop != '\r')
        stop += *stop == '\\' && stop + 1 < ps->end ? 2 : 1;
    char *out = arena_alloc(&ps->arena, (size_t)(stop - q) + 1);
    if (!out) return fail(ps, "out of memory");
    size_t n = 0;
    for (;;) {
        if (q >= ps->end || *q == '\n' || *q == '\r') return fail(ps, "unterminated string");
        unsigned char c = (unsigned char)*q;
        if (c == '"') break;
        if (c < 0x20 && c != '\t') return fail(ps, "control character in string");
        if (c != '\\') {
            out[n++] = (char)c;
            q++;
            continue;
        }
        if (q + 1 >= ps->end) return fail(ps, "unterminated string");
        char e = q[1];
        const char *map = "\"\"\\\\//b\bf\fn\nr\rt\t";
        const char *m = NULL;
        for (const char *k = map; *k; k += 2)
            if (*k == e) m = k;
        if (m) {
            out[n++] = m[1];
            q += 2;
            continue;
        }
        uint32_t cp;
        if (e != 'u' || read_u4(ps, q + 2, &cp) < 0) return fail(ps, "bad escape in string");
        q += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (ps->end - q < 6 || q[0] != '\\' || q[1] != 'u' || read_u4(ps, q + 2, &lo) < 0 ||
                lo < 0xDC00 || lo > 0xDFFF)
                return fail(ps, "lone surrogate in string");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            q += 6;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail(ps, "lone surrogate in string");
        }
        n += put_utf8(out + n, cp);
    }
    out[n] = '\0';
    ps->sval = out;
    ps->p = q + 1;
    return 0;
}

/* """...""" with \""" as the only escape; common indentation removed. */
static int lex_block_string(parser *ps)
{
    const char *q = ps->p + 3, *body = q;
    size_t cap = 0;
    for (;; q++) {
        if (q >= ps->end) return fail(ps, "unterminated block string");
        if (*q == '\\' && ps->end - q >= 4 && !memcmp(q + 1, "\"\"\"", 3)) {
            q += 3;
            continue;
        }
        if (*q == '"' && ps->end - q >= 3 && !memcmp(q, "\"\"\"", 3)) break;
        if (*q == '\n') newline(ps, q + 1);
    }
    const char *stop = q;
    cap = (size_t)(stop - body); /* \""" shrinks: the source length bounds the text */
    char *raw = arena_alloc(&ps->arena, cap + 1), *out = arena_alloc(&ps->arena, cap + 1);
    if (!raw || !out) return fail(ps, "out of memory");
    size_t n = 0;
    for (const char *r = body; r < stop; r++) {
        if (*r == '\\' && stop - r >= 4 && !memcmp(r + 1, "\"\"\"", 3)) {
            memcpy(raw + n, "\"\"\"", 3);
            n += 3;
            r += 3;
            continue;
        }
        raw[n++] = *r == '\r' ? '\n' : *r;
    }
    raw[n] = '\0';
    /* BlockStringValue(): the smallest indentation of lines after the first */
    size_t indent = SIZE_MAX;
    int first = 1;
    for (char *l = raw; l;) {
        char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l), ws = 0;
        while (ws < len && (l[ws] == ' ' || l[ws] == '\t'))
            ws++;
        if (!first && ws < len && ws < indent) indent = ws;
        first = 0;
        l = nl ? nl + 1 : NULL;
    }
    size_t o = 0;
    first = 1;
    int started = 0;
    size_t last_content = 0;
    for (char *l = raw; l;) {
        char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l), ws = 0;
        while (ws < len && (l[ws] == ' ' || l[ws] == '\t'))
            ws++;
        const char *t = l;
        if (!first && indent != SIZE_MAX) {
            size_t cut = indent < len ? indent : len;
            t += cut;
            len -= cut;
        }
        int blank = ws == (nl ? (size_t)(nl - l) : strlen(l));
        if (started || !blank) {
            if (started) out[o++] = '\n';
            memcpy(out + o, t, len);
            o += len;
            started = 1;
            if (!blank) last_content = o;
        }
        first = 0;
        l = nl ? nl + 1 : NULL;
    }
    out[last_content] = '\0';
    ps->sval = out;
    ps->p = stop + 3;
    return 0;
}

static int lex_number(parser *ps)
{
    const char *q = ps->p;
    int is_float = 0;
    if (*q == '-') q++;
    if (q >= ps->end || !is_digit(*q)) return fail(ps, "bad number");
    if (*q == '0' && q + 1 < ps->end && is_digit(q[1])) return fail(ps, "leading zero in number");
    while (q < ps->end && is_digit(*q))
        q++;
    if (q < ps->end && *q == '.') {
        is_float = 1;
        q++;
        if (q >= ps->end || !is_digit(*q)) return fail(ps, "bad number");
        while (q < ps->end && is_digit(*q))
            q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        is_float = 1;
        q++;
        if (q < ps->end && (*q == '+' || *q == '-')) q++;
        if (q >= ps->end || !is_digit(*q)) return fail(ps, "bad number");
        while (q < ps->end && is_digit(*q))
            q++;
    }
    if (q < ps->end && (is_name_start(*q) || *q == '.')) return fail(ps, "bad number");
    ps->t = is_float ? T_FLOAT : T_INT;
    ps->ts = ps->p;
    ps->tlen = (size_t)(q - ps->p);
    ps->p = q;
    return 0;
}

static int next(parser *ps)
{
    skip_ignored(ps);
    ps->tline = ps->line;
    ps->tcol = (int)(ps->p - ps->line_start) + 1;
    ps->sval = NULL;
    if (ps->p >= ps->end) {
        ps->t = T_EOF;
        return 0;
    }
    char c = *ps->p;
    if (strchr("!$&()=:@[]{}|", c) && c) {
        ps->t = T_PUNCT;
        ps->punct = c;
        ps->p++;
        return 0;
    }
    if (c == '.') {
        if (ps->end - ps->p < 3 || ps->p[1] != '.' || ps->p[2] != '.')
            return fail(ps, "unexpected '.'");
        ps->t = T_PUNCT;
        ps->punct = '.';
        ps->p += 3;
        return 0;
    }
    if (is_name_start(c)) {
        const char *q = ps->p;
        while (q < ps->end && is_name(*q))
            q++;
        ps->t = T_NAME;
        ps->ts = ps->p;
        ps->tlen = (size_t)(q - ps->p);
        ps->p = q;
        return 0;
    }
    if (c == '-' || is_digit(c)) return lex_number(ps);
    if (c == '"') {
        ps->t = T_STRING;
        if (ps->end - ps->p >= 3 && !memcmp(ps->p, "\"\"\"", 3)) return lex_block_string(ps);
        return lex_string(ps);
    }
    if ((unsigned char)c < 0x20 || (unsigned char)c == 0x7f)
        return fail(ps, "unexpected character U+%04X", (unsigned)(unsigned char)c);
    return fail(ps, "unexpected character '%c'", c);
}

/* ---- parser ---- */

static int is_punct(const parser *ps, char c)
{
    return ps->t == T_PUNCT && ps->punct == c;
}
static int is_kw(const parser *ps, const char *kw)
{
    return ps->t == T_NAME && ps->tlen == strlen(kw) && !memcmp(ps->ts, kw, ps->tlen);
}

static int expect(parser *ps, char c)
{
    if (!is_punct(ps, c)) return fail(ps, "expected '%s'", c == '.' ? "..." : (char[]){c, 0});
    return next(ps);
}

static char *name(parser *ps)
{
    if (ps->t != T_NAME) {
        fail(ps, "expected a name");
        return NULL;
    }
    char *n = dupn(ps, ps->ts, ps->tlen);
    return n && next(ps) == 0 ? n : NULL;
}

/* A growable array in the arena: doubles by copying (at most 2x waste). */
static void *grow(parser *ps, void *arr, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap) return arr;
    size_t nc = *cap ? *cap * 2 : 4;
    void *na = arena_alloc(&ps->arena, nc * elem);
    if (!na) {
        fail(ps, "out of memory");
        return NULL;
    }
    if (n) memcpy(na, arr, n * elem);
    *cap = nc;
    return na;
}

static int enter(parser *ps)
{
    if (++ps->depth > GQL_MAX_DEPTH) return fail(ps, "nested deeper than %d", GQL_MAX_DEPTH);
    return 0;
}

static gql_value *value(parser *ps, int is_const);

static gql_value *list_or_object(parser *ps, int is_const, int obj)
{
    gql_value *v = node(ps, sizeof(*v));
    if (!v || enter(ps) < 0 || next(ps) < 0) return NULL;
    v->kind = obj ? GQL_OBJECT : GQL_LIST;
    size_t cap = 0, kcap = 0;
    char close = obj ? '}' : ']';
    while (!is_punct(ps, close)) {
        if (ps->t == T_EOF) {
            fail(ps, "expected '%c'", close);
            return NULL;
        }
        if (obj) {
            char **k = grow(ps, v->keys, v->n, &kcap, sizeof(char *));
            if (!k) return NULL;
            v->keys = k;
            if (!(v->keys[v->n] = name(ps)) || expect(ps, ':') < 0) return NULL;
        }
        gql_value **it = grow(ps, v->items, v->n, &cap, sizeof(gql_value *));
        if (!it) return NULL;
        v->items = it;
        if (!(v->items[v->n] = value(ps, is_const))) return NULL;
        v->n++;
    }
    ps->depth--;
    return next(ps) == 0 ? v : NULL;
}

static gql_value *value(parser *ps, int is_const)
{
    if (is_punct(ps, '[') || is_punct(ps, '{'))
        return list_or_object(ps, is_const, ps->punct == '{');
    gql_value *v = node(ps, sizeof(*v));
    if (!v) return NULL;
    if (is_punct(ps, '$')) {
        if (is_const) {
            fail(ps, "variable not allowed here");
            return NULL;
        }
        if (next(ps) < 0) return NULL;
        v->kind = GQL_VAR;
        return (v->text = name(ps)) ? v : NULL;
    }
    switch (ps->t) {
    case T_INT:
    case T_FLOAT:
        v->kind = ps->t == T_INT ? GQL_INT : GQL_FLOAT;
        v->text = dupn(ps, ps->ts, ps->tlen);
        break;
    case T_STRING:
        v->kind = GQL_STRING;
        v->text = ps->sval;
        break;
    case T_NAME:
        v->kind = is_kw(ps, "true") || is_kw(ps, "false") ? GQL_BOOL
                  : is_kw(ps, "null")                     ? GQL_NULL
                                                          : GQL_ENUM;
        v->text = dupn(ps, ps->ts, ps->tlen);
        break;
    default:
        fail(ps, "expected a value");
        return NULL;
    }
    return v->text && next(ps) == 0 ? v : NULL;
}

static int arguments(parser *ps, gql_arg **out, size_t *n, int is_const)
{
    if (!is_punct(ps, '(')) return 0;
    if (next(ps) < 0) return -1;
    size_t cap = 0;
    do {
        gql_arg *a = grow(ps, *out, *n, &cap, sizeof(gql_arg));
        if (!a) return -1;
        *out = a;
        if (!(a[*n].name = name(ps)) || expect(ps, ':') < 0 || !(a[*n].value = value(ps, is_const)))
            return -1;
        (*n)++;
    } while (!is_punct(ps, ')'));
    return next(ps);
}

static int directives(parser *ps, gql_directive **out, size_t *n, int is_const)
{
    size_t cap = 0;
    while (is_punct(ps, '@')) {
        if (next(ps) < 0) return -1;
        gql_directive *d = grow(ps, *out, *n, &cap, sizeof(gql_directive));
        if (!d) return -1;
        *out = d;
        memset(&d[*n], 0, sizeof(d[*n]));
        if (!(d[*n].name = name(ps)) || arguments(ps, &d[*n].args, &d[*n].nargs, is_const) < 0)
            return -1;
        (*n)++;
    }
    return 0;
}

static int selection_set(parser *ps, gql_sel **out, size_t *n);

static int selection(parser *ps, gql_sel *s)
{
    s->line = ps->tline;
    s->col = ps->tcol;
    if (is_punct(ps, '.')) {
        if (next(ps) < 0) return -1;
        if (ps->t == T_NAME && !is_kw(ps, "on")) {
            s->kind = GQL_SPREAD;
            if (!(s->name = name(ps))) return -1;
            return directives(ps, &s->dirs, &s->ndirs, 0);
        }
        s->kind = GQL_INLINE;
        if (is_kw(ps, "on")) {
            if (next(ps) < 0 || !(s->type_cond = name(ps))) return -1;
        }
        if (directives(ps, &s->dirs, &s->ndirs, 0) < 0) return -1;
        if (!is_punct(ps, '{')) return fail(ps, "expected '{'");
        return selection_set(ps, &s->sels, &s->nsels);
    }
    s->kind = GQL_FIELD;
    if (!(s->name = name(ps))) return -1;
    if (is_punct(ps, ':')) {
        if (next(ps) < 0) return -1;
        s->alias = s->name;
        if (!(s->name = name(ps))) return -1;
    }
    if (arguments(ps, &s->args, &s->nargs, 0) < 0 || directives(ps, &s->dirs, &s->ndirs, 0) < 0)
        return -1;
    if (is_punct(ps, '{')) return selection_set(ps, &s->sels, &s->nsels);
    return 0;
}

static int selection_set(parser *ps, gql_sel **out, size_t *n)
{
    if (enter(ps) < 0 || expect(ps, '{') < 0) return -1;
    size_t cap = 0;
    do {
        if (ps->t == T_EOF) return fail(ps, "expected '}'");
        gql_sel *s = grow(ps, *out, *n, &cap, sizeof(gql_sel));
        if (!s || !node(ps, 1)) return -1;
        *out = s;
        memset(&s[*n], 0, sizeof(s[*n]));
        if (selection(ps, &s[*n]) < 0) return -1;
        (*n)++;
    } while (!is_punct(ps, '}'));
    ps->depth--;
    return next(ps);
}

/* Type: Name, [Type], either followed by '!'; written back canonically. */
static int type_ref(parser *ps, char *buf, size_t cap, size_t *len)
{
    if (enter(ps) < 0) return -1;
    if (is_punct(ps, '[')) {
        if (*len + 1 >= cap) return fail(ps, "type too long");
        buf[(*len)++] = '[';
        if (next(ps) < 0 || type_ref(ps, buf, cap, len) < 0) return -1;
        if (!is_punct(ps, ']')) return fail(ps, "expected ']'");
        if (*len + 1 >= cap) return fail(ps, "type too long");
        buf[(*len)++] = ']';
        if (next(ps) < 0) return -1;
    } else {
        if (ps->t != T_NAME) return fail(ps, "expected a type");
        if (*len + ps->tlen >= cap) return fail(ps, "type too long");
        memcpy(buf + *len, ps->ts, ps->tlen);
        *len += ps->tlen;
        if (next(ps) < 0) return -1;
    }
    if (is_punct(ps, '!')) {
        if (*len + 1 >= cap) return fail(ps, "type too long");
        buf[(*len)++] = '!';
        if (next(ps) < 0) return -1;
    }
    ps->depth--;
    return 0;
}

static int var_defs(parser *ps, gql_op *op)
{
    if (!is_punct(ps, '(')) return 0;
    if (next(ps) < 0) return -1;
    size_t cap = 0;
    do {
        gql_vardef *v = grow(ps, op->vars, op->nvars, &cap, sizeof(gql_vardef));
        if (!v) return -1;
        op->vars = v;
        gql_vardef *d = &v[op->nvars];
        memset(d, 0, sizeof(*d));
        if (expect(ps, '$') < 0 || !(d->name = name(ps)) || expect(ps, ':') < 0) return -1;
        char buf[256];
        size_t len = 0;
        if (type_ref(ps, buf, sizeof(buf), &len) < 0 || !(d->type = dupn(ps, buf, len))) return -1;
        if (is_punct(ps, '=')) {
            if (next(ps) < 0 || !(d->def = value(ps, 1))) return -1;
        }
        gql_directive *dirs = NULL;
        size_t nd = 0;
        if (directives(ps, &dirs, &nd, 1) < 0) return -1;
        op->nvars++;
    } while (!is_punct(ps, ')'));
    return next(ps);
}

static int operation(parser *ps, gql_op *op)
{
    if (is_punct(ps, '{')) {
        op->kind = dupn(ps, "query", 5);
        return op->kind ? selection_set(ps, &op->sels, &op->nsels) : -1;
    }
    if (!is_kw(ps, "query") && !is_kw(ps, "mutation") && !is_kw(ps, "subscription"))
        return fail(ps, "expected query, mutation, subscription, fragment or '{'");
    if (!(op->kind = name(ps))) return -1;
    if (ps->t == T_NAME && !(op->name = name(ps))) return -1;
    if (var_defs(ps, op) < 0 || directives(ps, &op->dirs, &op->ndirs, 0) < 0) return -1;
    if (!is_punct(ps, '{')) return fail(ps, "expected '{'");
    return selection_set(ps, &op->sels, &op->nsels);
}

static int fragment(parser *ps, gql_frag *f)
{
    if (next(ps) < 0) return -1;
    if (is_kw(ps, "on")) return fail(ps, "a fragment cannot be named 'on'");
    if (!(f->name = name(ps))) return -1;
    if (!is_kw(ps, "on")) return fail(ps, "expected 'on'");
    if (next(ps) < 0 || !(f->type_cond = name(ps))) return -1;
    if (directives(ps, &f->dirs, &f->ndirs, 0) < 0) return -1;
    if (!is_punct(ps, '{')) return fail(ps, "expected '{'");
    return selection_set(ps, &f->sels, &f->nsels);
}

static int document(parser *ps, gql_doc *d)
{
    size_t ocap = 0, fcap = 0;
    if (next(ps) < 0) return -1;
    if (ps->t == T_EOF) return fail(ps, "empty document");
    while (ps->t != T_EOF) {
        if (is_kw(ps, "fragment")) {
            gql_frag *f = grow(ps, d->frags, d->nfrags, &fcap, sizeof(gql_frag));
            if (!f) return -1;
            d->frags = f;
            memset(&f[d->nfrags], 0, sizeof(f[d->nfrags]));
            if (fragment(ps, &f[d->nfrags]) < 0) return -1;
            d->nfrags++;
            continue;
        }
        gql_op *o = grow(ps, d->ops, d->nops, &ocap, sizeof(gql_op));
        if (!o) return -1;
        d->ops = o;
        memset(&o[d->nops], 0, sizeof(o[d->nops]));
        if (operation(ps, &o[d->nops]) < 0) return -1;
        d->nops++;
    }
    for (size_t i = 0; i < d->nops; i++)
        if (d->nops > 1 && !d->ops[i].name)
            return fail(ps, "an anonymous operation must be the only one");
    return 0;
}

gql_doc *gql_parse(const char *text, size_t len, char *err, size_t errlen)
{
    char dummy[8];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    if (len > GQL_MAX_SIZE) {
        snprintf(err, errlen, "document larger than %u bytes", GQL_MAX_SIZE);
        return NULL;
    }
    parser ps = {.s = text,
                 .end = text + len,
                 .p = text,
                 .line = 1,
                 .line_start = text,
                 .tline = 1,
                 .tcol = 1,
                 .err = err,
                 .errlen = errlen};
    gql_doc *d = arena_alloc(&ps.arena, sizeof(*d));
    if (!d || document(&ps, d) < 0 || ps.failed) {
        if (!ps.failed) snprintf(err, errlen, "out of memory");
        arena_free(ps.arena);
        return NULL;
    }
    d->arena = ps.arena;
    return d;
}

void gql_doc_free(gql_doc *d)
{
    if (d) arena_free(d->arena);
}

const gql_op *gql_doc_op(const gql_doc *d, const char *name)
{
    if (!name || !*name) return d->nops == 1 ? &d->ops[0] : NULL;
    for (size_t i = 0; i < d->nops; i++)
        if (d->ops[i].name && !strcmp(d->ops[i].name, name)) return &d->ops[i];
    return NULL;
}

const gql_frag *gql_doc_frag(const gql_doc *d, const char *name)
{
    for (size_t i = 0; i < d->nfrags; i++)
        if (!strcmp(d->frags[i].name, name)) return &d->frags[i];
    return NULL;
}
