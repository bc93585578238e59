/* Canonical text of a GraphQL document (gql_normalise in gql.h): the key a
 * request is matched against the published templates with. */
#include "gql.h"

#include <zinvol/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_value(zv_buf *b, const gql_value *v);

static void putch(zv_buf *b, char c)
{
    zv_buf_append(b, &c, 1);
}

static void print_string(zv_buf *b, const char *s)
{
    putch(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            putch(b, '\\');
            putch(b, (char)*p);
        } else if (*p < 0x20) {
            zv_buf_printf(b, "\\u%04x", *p);
        } else {
            putch(b, (char)*p);
        }
    }
    putch(b, '"');
}

static void print_value(zv_buf *b, const gql_value *v)
{
    switch (v->kind) {
    case GQL_VAR:
        zv_buf_printf(b, "$%s", v->text);
        break;
    case GQL_STRING:
        print_string(b, v->text);
        break;
    case GQL_LIST:
    case GQL_OBJECT:
        putch(b, v->kind == GQL_LIST ? '[' : '{');
        for (size_t i = 0; i < v->n; i++) {
            if (i) putch(b, ',');
            if (v->kind == GQL_OBJECT) zv_buf_printf(b, "%s:", v->keys[i]);
            print_value(b, v->items[i]);
        }
        putch(b, v->kind == GQL_LIST ? ']' : '}');
        break;
    default:
        zv_buf_puts(b, v->text);
    }
}

static void print_args(zv_buf *b, const gql_arg *a, size_t n)
{
    if (!n) return;
    putch(b, '(');
    for (size_t i = 0; i < n; i++) {
        zv_buf_printf(b, "%s%s:", i ? "," : "", a[i].name);
        print_value(b, a[i].value);
    }
    putch(b, ')');
}

static void print_dirs(zv_buf *b, const gql_directive *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        zv_buf_printf(b, "@%s", d[i].name);
        print_args(b, d[i].args, d[i].nargs);
    }
}

static void print_sels(zv_buf *b, const gql_sel *s, size_t n)
{
    putch(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i) putch(b, ' ');
        const gql_sel *x = &s[i];
        if (x->kind == GQL_SPREAD) {
            zv_buf_printf(b, "...%s", x->name);
        } else if (x->kind == GQL_INLINE) {
            zv_buf_puts(b, "...");
            if (x->type_cond) zv_buf_printf(b, "on %s", x->type_cond);
        } else {
            if (x->alias) zv_buf_printf(b, "%s:", x->alias);
            zv_buf_puts(b, x->name);
            print_args(b, x->args, x->nargs);
        }
        print_dirs(b, x->dirs, x->ndirs);
        if (x->nsels) print_sels(b, x->sels, x->nsels);
    }
    putch(b, '}');
}

char *gql_normalise(const gql_doc *d)
{
    zv_buf b;
    zv_buf_init(&b);
    for (size_t i = 0; i < d->nops; i++) {
        const gql_op *o = &d->ops[i];
        if (b.len) putch(&b, ' ');
        zv_buf_puts(&b, o->kind);
        if (o->name) zv_buf_printf(&b, " %s", o->name);
        if (o->nvars) {
            putch(&b, '(');
            for (size_t v = 0; v < o->nvars; v++) {
                zv_buf_printf(&b, "%s$%s:%s", v ? "," : "", o->vars[v].name, o->vars[v].type);
                if (o->vars[v].def) {
                    putch(&b, '=');
                    print_value(&b, o->vars[v].def);
                }
            }
            putch(&b, ')');
        }
        print_dirs(&b, o->dirs, o->ndirs);
        print_sels(&b, o->sels, o->nsels);
    }
    for (size_t i = 0; i < d->nfrags; i++) {
        const gql_frag *f = &d->frags[i];
        if (b.len) putch(&b, ' ');
        zv_buf_printf(&b, "fragment %s on %s", f->name, f->type_cond);
        print_dirs(&b, f->dirs, f->ndirs);
        print_sels(&b, f->sels, f->nsels);
    }
    if (b.oom) {
        zv_buf_free(&b);
        return NULL;
    }
    if (!b.data) return strdup("");
    return b.data; /* ownership passes to the caller */
}
