/* Catalogue conditions: compile the JSON forms into a small tree, evaluate
 * it against a record, and describe it for the audit report. */
#include "cond.h"

#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

#define MAX_DEPTH 16

enum cond_kind { C_IN, C_EQUALS, C_PRESENT, C_ALL, C_ANY, C_NOT };

struct zv_cond {
    enum cond_kind kind;
    int field;
    char **vals; /* C_IN, C_EQUALS (one value) */
    size_t nvals;
    int present;
    struct zv_cond **kids; /* C_ALL, C_ANY, C_NOT (one kid) */
    size_t nkids;
};

void zv_cond_free(zv_cond *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->nvals; i++)
        free(c->vals[i]);
    free(c->vals);
    for (size_t i = 0; i < c->nkids; i++)
        zv_cond_free(c->kids[i]);
    free(c->kids);
    free(c);
}

static int add_value(zv_cond *c, const char *s)
{
    char **v = realloc(c->vals, (c->nvals + 1) * sizeof(*v));
    if (!v) return -1;
    c->vals = v;
    if (!(v[c->nvals] = strdup(s))) return -1;
    c->nvals++;
    return 0;
}

static zv_cond *compile(const zv_json *j, const char *file, const char *path, int depth,
                        zv_errors *errs);

static int compile_list(zv_cond *c, const zv_json *arr, const char *file, const char *path,
                        int depth, zv_errors *errs)
{
    if (zv_json_type_of(arr) != ZV_JSON_ARRAY || zv_json_len(arr) == 0) {
        zv_errors_add(errs, file, path, "expected a non-empty array of conditions");
        return -1;
    }
    size_t n = zv_json_len(arr);
    c->kids = calloc(n, sizeof(*c->kids));
    if (!c->kids) return -1;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char p[512];
        zv_path_index(p, sizeof(p), path, i);
        zv_cond *k = compile(zv_json_at(arr, i), file, p, depth + 1, errs);
        if (!k) {
            rc = -1;
            continue;
        }
        c->kids[c->nkids++] = k;
    }
    return rc;
}

/* {"field": F, "in": [..]} | {"field": F, "equals": V} | {"field": F, "present": b} */
static int compile_field_test(zv_cond *c, const zv_json *j, const char *file, const char *path,
                              zv_errors *errs)
{
    char p[512];
    const zv_json *f = zv_json_get(j, "field");
    const char *fname = zv_json_str(f, NULL);
    zv_path_key(p, sizeof(p), path, "field");
    if (!fname) {
        zv_errors_add(errs, file, p, "expected a model field name (string), got %s",
                      zv_json_type_name(zv_json_type_of(f)));
        return -1;
    }
    c->field = zv_field_by_name(fname);
    if (c->field < 0) {
        zv_errors_add(errs, file, p, "unknown model field \"%s\"", fname);
        return -1;
    }
    const zv_json *in = zv_json_get(j, "in"), *eq = zv_json_get(j, "equals"),
                  *pr = zv_json_get(j, "present");
    if ((in != NULL) + (eq != NULL) + (pr != NULL) != 1) {
        zv_errors_add(errs, file, path,
                      "a field test needs exactly one of \"in\", \"equals\", \"present\"");
        return -1;
    }
    if (in) {
        c->kind = C_IN;
        zv_path_key(p, sizeof(p), path, "in");
        if (zv_json_type_of(in) != ZV_JSON_ARRAY || zv_json_len(in) == 0) {
            zv_errors_add(errs, file, p, "expected a non-empty array of strings");
            return -1;
        }
        for (size_t i = 0; i < zv_json_len(in); i++) {
            const char *s = zv_json_str(zv_json_at(in, i), NULL);
            if (!s) {
                char pi[512];
                zv_path_index(pi, sizeof(pi), p, i);
                zv_errors_add(errs, file, pi, "expected a string (model values are text)");
                return -1;
            }
            if (add_value(c, s) < 0) return -1;
        }
    } else if (eq) {
        c->kind = C_EQUALS;
        zv_path_key(p, sizeof(p), path, "equals");
        const char *s = zv_json_str(eq, NULL);
        if (!s) {
            zv_errors_add(errs, file, p, "expected a string (model values are text), got %s",
                          zv_json_type_name(zv_json_type_of(eq)));
            return -1;
        }
        if (add_value(c, s) < 0) return -1;
    } else {
        c->kind = C_PRESENT;
        zv_path_key(p, sizeof(p), path, "present");
        if (zv_json_bool(pr, &c->present) < 0) {
            zv_errors_add(errs, file, p, "expected true or false, got %s",
                          zv_json_type_name(zv_json_type_of(pr)));
            return -1;
        }
    }
    return 0;
}

static const char *const COND_KEYS[] = {"field", "in",  "equals", "present",
                                        "all",   "any", "not",    NULL};

static int check_keys(const zv_json *j, const char *file, const char *path, zv_errors *errs)
{
    int rc = 0;
    for (size_t i = 0; i < zv_json_len(j); i++) {
        const char *k = zv_json_key_at(j, i);
        int known = 0;
        for (size_t n = 0; COND_KEYS[n]; n++)
            known |= strcmp(COND_KEYS[n], k) == 0;
        if (!known) {
            char p[512];
            zv_path_key(p, sizeof(p), path, k);
            zv_errors_add(errs, file, p,
                          "unknown key (expected field with in/equals/present, all, any or not)");
            rc = -1;
        }
    }
    return rc;
}

static zv_cond *compile(const zv_json *j, const char *file, const char *path, int depth,
                        zv_errors *errs)
{
    if (zv_json_type_of(j) != ZV_JSON_OBJECT) {
        zv_errors_add(errs, file, path, "a condition must be an object, got %s",
                      zv_json_type_name(zv_json_type_of(j)));
        return NULL;
    }
    if (depth > MAX_DEPTH) {
        zv_errors_add(errs, file, path, "condition nested deeper than %d levels", MAX_DEPTH);
        return NULL;
    }
    if (check_keys(j, file, path, errs) < 0) return NULL;
    const zv_json *all = zv_json_get(j, "all"), *any = zv_json_get(j, "any"),
                  *not = zv_json_get(j, "not"), *field = zv_json_get(j, "field");
    int forms = (all != NULL) + (any != NULL) + (not != NULL) + (field != NULL);
    if (forms != 1) {
        zv_errors_add(errs, file, path,
                      "a condition needs exactly one of \"field\", \"all\", \"any\", \"not\"");
        return NULL;
    }
    zv_cond *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    char p[512];
    int rc;
    if (field) {
        rc = compile_field_test(c, j, file, path, errs);
    } else if (not ) {
        c->kind = C_NOT;
        zv_path_key(p, sizeof(p), path, "not");
        c->kids = calloc(1, sizeof(*c->kids));
        rc = -1;
        if (c->kids && (c->kids[0] = compile(not, file, p, depth + 1, errs)) != NULL) {
            c->nkids = 1;
            rc = 0;
        }
    } else {
        c->kind = all ? C_ALL : C_ANY;
        zv_path_key(p, sizeof(p), path, all ? "all" : "any");
        rc = compile_list(c, all ? all : any, file, p, depth, errs);
    }
    if (rc < 0) {
        zv_cond_free(c);
        return NULL;
    }
    return c;
}

zv_cond *zv_cond_compile(const zv_json *j, const char *file, const char *path, zv_errors *errs)
{
    return compile(j, file, path, 0, errs);
}

int zv_cond_eval(const zv_cond *c, const zv_record *rec)
{
    if (!c) return 1;
    const char *v;
    switch (c->kind) {
    case C_IN:
    case C_EQUALS:
        v = zv_rec_str(rec, (zv_field_id)c->field);
        if (!v) return 0;
        for (size_t i = 0; i < c->nvals; i++)
            if (strcmp(v, c->vals[i]) == 0) return 1;
        return 0;
    case C_PRESENT:
        return (zv_rec_str(rec, (zv_field_id)c->field) != NULL) == (c->present != 0);
    case C_ALL:
        for (size_t i = 0; i < c->nkids; i++)
            if (!zv_cond_eval(c->kids[i], rec)) return 0;
        return 1;
    case C_ANY:
        for (size_t i = 0; i < c->nkids; i++)
            if (zv_cond_eval(c->kids[i], rec)) return 1;
        return 0;
    case C_NOT:
        return !zv_cond_eval(c->kids[0], rec);
    }
    return 0;
}

static void describe(const zv_cond *c, zv_buf *b)
{
    const char *name =
        zv_field_def_of((zv_field_id)c->field) ? zv_field_def_of((zv_field_id)c->field)->name : "?";
    switch (c->kind) {
    case C_IN:
        zv_buf_printf(b, "%s in (", name);
        for (size_t i = 0; i < c->nvals; i++)
            zv_buf_printf(b, "%s%s", i ? ", " : "", c->vals[i]);
        zv_buf_puts(b, ")");
        break;
    case C_EQUALS:
        zv_buf_printf(b, "%s = %s", name, c->vals[0]);
        break;
    case C_PRESENT:
        zv_buf_printf(b, "%s %s", name, c->present ? "present" : "absent");
        break;
    case C_ALL:
    case C_ANY:
        zv_buf_puts(b, "(");
        for (size_t i = 0; i < c->nkids; i++) {
            if (i) zv_buf_puts(b, c->kind == C_ALL ? " and " : " or ");
            describe(c->kids[i], b);
        }
        zv_buf_puts(b, ")");
        break;
    case C_NOT:
        zv_buf_puts(b, "not ");
        describe(c->kids[0], b);
        break;
    }
}

char *zv_cond_describe(const zv_cond *c)
{
    zv_buf b;
    zv_buf_init(&b);
    if (c)
        describe(c, &b);
    else
        zv_buf_puts(&b, "always");
    if (b.oom) {
        zv_buf_free(&b);
        return NULL;
    }
    return zv_buf_steal(&b, NULL);
}
