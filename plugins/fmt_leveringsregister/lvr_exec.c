/*
 * Executes an accepted query against the register.  The walk is driven by
 * the release's map (release.json "roots" and "types"): a scalar field reads
 * a column, a relation follows an id column ("one": this row's column holds
 * the other's id; "many"/"single": the other rows' column holds this id).
 * `where` arguments take {field: {eq: value}} on a scalar field or one of a
 * type's "filters"; the templates use nothing else.  Every row belongs to
 * one zorgkantoor: the asker sees only its own (the register's own check,
 * beside the PDP's).  What was answered is collected for the audit trail:
 * the model fields of the non-null values and the clients of the rows.
 */
#include "lvr.h"
#include "gql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct row {
    int n;
    char **names, **vals;
} row;

typedef struct rows {
    row *v;
    size_t n;
} rows;

typedef struct ex {
    lvr *l;
    const gql_doc *doc;
    const zv_json *vars;
    const char *owner;
    zv_jw *w;
    lvr_disclosed *dis;
    char *err;
    size_t errlen;
    int failed;
    size_t nrows; /* answered rows, bounded */
} ex;

#define LVR_MAX_ROWS 10000

static int fail(ex *x, const gql_sel *s, const char *fmt, const char *a)
{
    if (!x->failed) {
        int n = s ? snprintf(x->err, x->errlen, "line %d, column %d: ", s->line, s->col) : 0;
        if (n >= 0 && (size_t)n < x->errlen) snprintf(x->err + n, x->errlen - (size_t)n, fmt, a);
    }
    x->failed = 1;
    return -1;
}

static void rows_free(rows *r)
{
    for (size_t i = 0; i < r->n; i++) {
        for (int c = 0; c < r->v[i].n; c++) {
            free(r->v[i].names[c]);
            free(r->v[i].vals[c]);
        }
        free(r->v[i].names);
        free(r->v[i].vals);
    }
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

static const char *cell(const row *r, const char *name)
{
    for (int c = 0; c < r->n; c++)
        if (!strcmp(r->names[c], name)) return r->vals[c];
    return NULL;
}

/* SELECT * FROM table WHERE col = val [AND fcol = fval] [AND zorgkantoor = owner]. */
static int query(ex *x, const char *table, const char *col, const char *val, const char *fcol,
                 const char *fval, int owned, rows *out)
{
    char sql[512];
    int n = snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE %s = ?1", table, col);
    if (fcol) n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND %s = ?2", fcol);
    if (owned) snprintf(sql + n, sizeof(sql) - (size_t)n, " AND zorgkantoor = ?3");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->l->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(x, NULL, "register: %s", sqlite3_errmsg(x->l->db));
    sqlite3_bind_text(st, 1, val, -1, SQLITE_STATIC);
    if (fcol) sqlite3_bind_text(st, 2, fval, -1, SQLITE_STATIC);
    if (owned) sqlite3_bind_text(st, 3, x->owner, -1, SQLITE_STATIC);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (++x->nrows > LVR_MAX_ROWS) {
            sqlite3_finalize(st);
            return fail(x, NULL, "the answer would exceed %s rows", "10000");
        }
        if (out->n == cap) {
            cap = cap ? cap * 2 : 4;
            row *nv = realloc(out->v, cap * sizeof(*nv));
            if (!nv) break;
            out->v = nv;
        }
        row *r = &out->v[out->n++];
        r->n = sqlite3_column_count(st);
        r->names = calloc((size_t)r->n, sizeof(char *));
        r->vals = calloc((size_t)r->n, sizeof(char *));
        for (int c = 0; r->names && r->vals && c < r->n; c++) {
            r->names[c] = strdup(sqlite3_column_name(st, c));
            const unsigned char *v = sqlite3_column_text(st, c);
            r->vals[c] = v ? strdup((const char *)v) : NULL;
        }
        if (!r->names || !r->vals) r->n = 0;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(x, NULL, "register: %s", "read failed");
}

/* A variable's or literal's text; NULL when absent or not a scalar. */
static const char *scalar_of(ex *x, const gql_value *v)
{
    if (v->kind == GQL_VAR) return zv_json_str(zv_json_get(x->vars, v->text), NULL);
    if (v->kind == GQL_STRING || v->kind == GQL_INT || v->kind == GQL_ENUM) return v->text;
    return NULL;
}

/* The `where` argument: one {field: {eq: value}} → column and value. */
static int where_of(ex *x, const gql_sel *s, const zv_json *type, const char **col,
                    const char **val)
{
    *col = *val = NULL;
    for (size_t i = 0; i < s->nargs; i++) {
        if (strcmp(s->args[i].name, "where") != 0)
            return fail(x, s, "unknown argument \"%s\"", s->args[i].name);
        const gql_value *w = s->args[i].value;
        if (w->kind != GQL_OBJECT || w->n != 1 || w->items[0]->kind != GQL_OBJECT ||
            w->items[0]->n != 1 || strcmp(w->items[0]->keys[0], "eq") != 0)
            return fail(x, s, "where: only {field: {eq: value}} is answered%s", "");
        const char *f = w->keys[0];
        const zv_json *fd = zv_json_get(zv_json_get(type, "fields"), f);
        *col = zv_json_str(zv_json_get(fd, "column"), NULL);
        if (!*col) *col = zv_json_str(zv_json_get(zv_json_get(type, "filters"), f), NULL);
        if (!*col) return fail(x, s, "where: unknown filter field \"%s\"", f);
        *val = scalar_of(x, w->items[0]->items[0]);
        if (!*val) return fail(x, s, "where: %s needs a value", f);
    }
    return 0;
}

static void add_bsn(lvr_disclosed *d, const char *bsn)
{
    if (!bsn) return;
    for (size_t i = 0; i < d->nbsns; i++)
        if (!strcmp(d->bsns[i], bsn)) return;
    if (d->nbsns == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        char **nv = realloc(d->bsns, cap * sizeof(*nv));
        if (!nv) return;
        d->bsns = nv;
        d->cap = cap;
    }
    if ((d->bsns[d->nbsns] = strdup(bsn))) d->nbsns++;
}

static void add_field(lvr_disclosed *d, const char *model)
{
    const char *p = d->fields.data;
    size_t n = strlen(model);
    while (p && *p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !memcmp(p, model, n)) return;
        p = e ? e + 1 : NULL;
    }
    zv_buf_printf(&d->fields, "%s%s", d->fields.len ? "," : "", model);
}

static int object(ex *x, const char *tname, const row *r, const gql_sel *sels, size_t n);

static const zv_json *type_of(ex *x, const char *name)
{
    return zv_json_get(x->l->types, name);
}

static int owned(const zv_json *type)
{
    return strcmp(zv_json_str(zv_json_get(type, "table"), NULL), "client") != 0;
}

/* A relation field: follow the map to the rows it names. */
static int relation(ex *x, const gql_sel *s, const zv_json *fd, const row *r)
{
    const char *tname = zv_json_str(zv_json_get(fd, "type"), NULL);
    const zv_json *t = type_of(x, tname);
    const char *table = zv_json_str(zv_json_get(t, "table"), NULL);
    if (!t || !table) return fail(x, s, "register map: no type %s", tname ? tname : "?");
    const char *fcol, *fval;
    if (where_of(x, s, t, &fcol, &fval) < 0) return -1;
    if (!s->nsels) return fail(x, s, "field \"%s\" needs a selection", s->name);
    const char *one = zv_json_str(zv_json_get(fd, "one"), NULL);
    const char *many = zv_json_str(zv_json_get(fd, "many"), NULL);
    const char *single = zv_json_str(zv_json_get(fd, "single"), NULL);
    rows rs = {0};
    int rc;
    if (one) {
        const char *v = cell(r, one);
        rc = v ? query(x, table, "id", v, fcol, fval, owned(t), &rs) : 0;
    } else {
        rc = query(x, table, many ? many : single, cell(r, "id"), fcol, fval, owned(t), &rs);
    }
    if (rc == 0) {
        if (many) {
            zv_jw_arr_open(x->w);
            for (size_t i = 0; rc == 0 && i < rs.n; i++)
                rc = object(x, tname, &rs.v[i], s->sels, s->nsels);
            zv_jw_arr_close(x->w);
        } else if (rs.n) {
            rc = object(x, tname, &rs.v[0], s->sels, s->nsels);
        } else {
            zv_jw_null(x->w);
        }
    }
    rows_free(&rs);
    return rc;
}

static void scalar(ex *x, const zv_json *fd, const row *r)
{
    const char *v = cell(r, zv_json_str(zv_json_get(fd, "column"), NULL));
    const char *kind = zv_json_str(zv_json_get(fd, "kind"), NULL);
    const char *model = zv_json_str(zv_json_get(fd, "model"), NULL);
    if (!v) {
        zv_jw_null(x->w);
        return;
    }
    if (model) add_field(x->dis, model);
    if (kind && !strcmp(kind, "int"))
        zv_jw_int(x->w, strtoll(v, NULL, 10));
    else if (kind && !strcmp(kind, "float"))
        zv_jw_double(x->w, strtod(v, NULL));
    else
        zv_jw_str(x->w, v);
}

static int fields(ex *x, const char *tname, const zv_json *t, const row *r, const gql_sel *sels,
                  size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const gql_sel *s = &sels[i];
        if (s->ndirs) return fail(x, s, "directives are not answered%s", "");
        if (s->kind != GQL_FIELD) {
            const gql_frag *f = s->kind == GQL_SPREAD ? gql_doc_frag(x->doc, s->name) : NULL;
            if (s->kind == GQL_SPREAD && !f) return fail(x, s, "unknown fragment \"%s\"", s->name);
            const char *cond = f ? f->type_cond : s->type_cond;
            if (cond && strcmp(cond, tname) != 0) continue;
            if (fields(x, tname, t, r, f ? f->sels : s->sels, f ? f->nsels : s->nsels) < 0)
                return -1;
            continue;
        }
        zv_jw_key(x->w, s->alias ? s->alias : s->name);
        if (!strcmp(s->name, "__typename")) {
            zv_jw_str(x->w, tname);
            continue;
        }
        const zv_json *fd = zv_json_get(zv_json_get(t, "fields"), s->name);
        if (!fd) return fail(x, s, "Cannot query field \"%s\"", s->name);
        if (zv_json_get(fd, "column")) {
            if (s->nsels || s->nargs) return fail(x, s, "field \"%s\" is a scalar", s->name);
            scalar(x, fd, r);
        } else if (relation(x, s, fd, r) < 0) {
            return -1;
        }
    }
    return 0;
}

static int object(ex *x, const char *tname, const row *r, const gql_sel *sels, size_t n)
{
    const zv_json *t = type_of(x, tname);
    add_bsn(x->dis, cell(r, "bsn"));
    zv_jw_obj_open(x->w);
    int rc = fields(x, tname, t, r, sels, n);
    zv_jw_obj_close(x->w);
    return rc;
}

static int root(ex *x, const gql_sel *s)
{
    if (s->kind != GQL_FIELD) return fail(x, s, "fragments at the root are not answered%s", "");
    const char *tname = zv_json_str(zv_json_get(x->l->roots, s->name), NULL);
    const zv_json *t = tname ? type_of(x, tname) : NULL;
    if (!t) return fail(x, s, "Cannot query field \"%s\" on type \"Query\"", s->name);
    const char *col, *val;
    if (where_of(x, s, t, &col, &val) < 0) return -1;
    if (!col) return fail(x, s, "%s: a where filter is required", s->name);
    zv_jw_key(x->w, s->alias ? s->alias : s->name);
    rows rs = {0};
    int rc =
        query(x, zv_json_str(zv_json_get(t, "table"), NULL), col, val, NULL, NULL, owned(t), &rs);
    zv_jw_arr_open(x->w);
    for (size_t i = 0; rc == 0 && i < rs.n; i++)
        rc = object(x, tname, &rs.v[i], s->sels, s->nsels);
    zv_jw_arr_close(x->w);
    rows_free(&rs);
    return rc;
}

/* Declared variables: required ones must be given, and given ones declared. */
static int check_vars(ex *x, const gql_op *op)
{
    for (size_t i = 0; i < op->nvars; i++) {
        const gql_vardef *v = &op->vars[i];
        size_t tl = strlen(v->type);
        const zv_json *given = zv_json_get(x->vars, v->name);
        if (tl && v->type[tl - 1] == '!' && !v->def &&
            (!given || zv_json_type_of(given) == ZV_JSON_NULL))
            return fail(x, NULL, "Variable \"$%s\" of required type was not provided", v->name);
    }
    for (size_t i = 0; i < zv_json_len(x->vars); i++) {
        const char *k = zv_json_key_at(x->vars, i);
        size_t j = 0;
        while (j < op->nvars && strcmp(op->vars[j].name, k) != 0)
            j++;
        if (j == op->nvars) return fail(x, NULL, "Variable \"$%s\" is not declared", k);
    }
    return 0;
}

int lvr_execute(lvr *l, const gql_doc *doc, const char *op_name, const zv_json *vars,
                const char *owner, zv_jw *out, lvr_disclosed *dis, char *err, size_t errlen)
{
    ex x = {.l = l,
            .doc = doc,
            .vars = vars,
            .owner = owner,
            .w = out,
            .dis = dis,
            .err = err,
            .errlen = errlen};
    const gql_op *op = gql_doc_op(doc, op_name);
    if (!op) return fail(&x, NULL, "no operation%s to run", op_name ? " of that name" : "");
    if (strcmp(op->kind, "query") != 0)
        return fail(&x, NULL, "the register answers queries, not a %s", op->kind);
    if (vars && zv_json_type_of(vars) != ZV_JSON_OBJECT)
        return fail(&x, NULL, "variables must be an object%s", "");
    if (check_vars(&x, op) < 0) return -1;
    zv_jw_obj_open(out);
    zv_jw_key(out, "data");
    zv_jw_obj_open(out);
    for (size_t i = 0; i < op->nsels && !x.failed; i++)
        root(&x, &op->sels[i]);
    zv_jw_obj_close(out);
    zv_jw_obj_close(out);
    return x.failed ? -1 : 0;
}

void lvr_disclosed_free(lvr_disclosed *d)
{
    for (size_t i = 0; i < d->nbsns; i++)
        free(d->bsns[i]);
    free(d->bsns);
    zv_buf_free(&d->fields);
    memset(d, 0, sizeof(*d));
}
