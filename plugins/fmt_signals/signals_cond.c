/* Conditions of a signal set, in the catalogue's syntax.  The catalogue's
 * compiler lives in the core, which formats do not link, so the plugin
 * compiles and evaluates its own (same keys, same meaning). */
#include "signals.h"

#include <zinvol/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

static const char *const COND_KEYS[] = {"field", "in",  "equals", "present",
                                        "all",   "any", "not",    NULL};

static int known_key(const char *k)
{
    for (size_t i = 0; COND_KEYS[i]; i++)
        if (strcmp(COND_KEYS[i], k) == 0) return 1;
    return 0;
}

static sig_cond *fail(sig_cond *c, char *err, size_t errlen, const char *path, const char *why,
                      const char *what)
{
    snprintf(err, errlen, "%s: %s%s", path, why, what ? what : "");
    sig_cond_free(c);
    return NULL;
}

static int add_value(sig_cond *c, const zv_json *v)
{
    const char *s = zv_json_str(v, NULL);
    if (!s) s = zv_json_number_text(v);
    if (!s) return -1;
    char **nv = realloc(c->values, (c->nvalues + 1) * sizeof(*nv));
    if (!nv) return -1;
    c->values = nv;
    if (!(c->values[c->nvalues] = strdup(s))) return -1;
    c->nvalues++;
    return 0;
}

static sig_cond *compile_field(const zv_json *j, const char *path, char *err, size_t errlen)
{
    sig_cond *c = calloc(1, sizeof(*c));
    if (!c) return fail(c, err, errlen, path, "out of memory", NULL);
    const char *name = zv_json_str(zv_json_get(j, "field"), NULL);
    c->field = name ? zv_field_by_name(name) : -1;
    if (c->field < 0)
        return fail(c, err, errlen, path, "field: not a model field: ", name ? name : "(none)");
    const zv_json *in = zv_json_get(j, "in"), *eq = zv_json_get(j, "equals"),
                  *pr = zv_json_get(j, "present");
    if (!!in + !!eq + !!pr != 1)
        return fail(c, err, errlen, path, "needs exactly one of in, equals, present", NULL);
    if (pr) {
        c->op = SC_PRESENT;
        if (zv_json_bool(pr, &c->present) != 0)
            return fail(c, err, errlen, path, "present: expected true or false", NULL);
        return c;
    }
    c->op = SC_IN;
    if (eq) {
        if (add_value(c, eq) != 0)
            return fail(c, err, errlen, path, "equals: expected a string or number", NULL);
        return c;
    }
    if (zv_json_type_of(in) != ZV_JSON_ARRAY || zv_json_len(in) == 0)
        return fail(c, err, errlen, path, "in: expected a non-empty array", NULL);
    for (size_t i = 0; i < zv_json_len(in); i++)
        if (add_value(c, zv_json_at(in, i)) != 0)
            return fail(c, err, errlen, path, "in: expected strings or numbers", NULL);
    return c;
}

sig_cond *sig_cond_compile(const zv_json *j, const char *path, char *err, size_t errlen)
{
    if (zv_json_type_of(j) != ZV_JSON_OBJECT)
        return fail(NULL, err, errlen, path, "expected a condition object", NULL);
    for (size_t i = 0; i < zv_json_len(j); i++)
        if (!known_key(zv_json_key_at(j, i)))
            return fail(NULL, err, errlen, path, "unknown key ", zv_json_key_at(j, i));
    const zv_json *all = zv_json_get(j, "all"), *any = zv_json_get(j, "any"),
                  *not = zv_json_get(j, "not");
    if (!all && !any && !not ) return compile_field(j, path, err, errlen);
    if (!!all + !!any + !!not != 1 || zv_json_get(j, "field"))
        return fail(NULL, err, errlen, path, "needs exactly one of field, all, any, not", NULL);
    sig_cond *c = calloc(1, sizeof(*c));
    if (!c) return fail(c, err, errlen, path, "out of memory", NULL);
    const zv_json *list = not ? NULL : (all ? all : any);
    c->op = not ? SC_NOT : (all ? SC_ALL : SC_ANY);
    size_t n = not ? 1 : zv_json_len(list);
    if (list && (zv_json_type_of(list) != ZV_JSON_ARRAY || n == 0))
        return fail(c, err, errlen, path, all ? "all" : "any", ": expected a non-empty array");
    if (!(c->sub = calloc(n, sizeof(*c->sub))))
        return fail(c, err, errlen, path, "out of memory", NULL);
    for (size_t i = 0; i < n; i++) {
        char p[256];
        if (not )
            snprintf(p, sizeof(p), "%s/not", path);
        else
            snprintf(p, sizeof(p), "%s/%s/%zu", path, all ? "all" : "any", i);
        c->sub[i] = sig_cond_compile(not ? not : zv_json_at(list, i), p, err, errlen);
        if (!c->sub[i]) {
            sig_cond_free(c);
            return NULL;
        }
        c->nsub++;
    }
    return c;
}

void sig_cond_free(sig_cond *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->nvalues; i++)
        free(c->values[i]);
    free(c->values);
    for (size_t i = 0; i < c->nsub; i++)
        sig_cond_free(c->sub[i]);
    free(c->sub);
    free(c);
}

int sig_cond_eval(const sig_cond *c, const zv_record *r)
{
    if (!c) return 1;
    switch (c->op) {
    case SC_PRESENT:
        return (zv_rec_get(r, (zv_field_id)c->field) != NULL) == !!c->present;
    case SC_IN: {
        const char *v = zv_rec_str(r, (zv_field_id)c->field);
        for (size_t i = 0; v && i < c->nvalues; i++)
            if (strcmp(v, c->values[i]) == 0) return 1;
        return 0;
    }
    case SC_ALL:
        for (size_t i = 0; i < c->nsub; i++)
            if (!sig_cond_eval(c->sub[i], r)) return 0;
        return 1;
    case SC_ANY:
        for (size_t i = 0; i < c->nsub; i++)
            if (sig_cond_eval(c->sub[i], r)) return 1;
        return 0;
    case SC_NOT:
        return !sig_cond_eval(c->sub[0], r);
    }
    return 0;
}

/* ---- periods and age bands ---- */

static const char *const PERIOD_NAMES[] = {"month", "quarter", "half-year", "year"};

const char *sig_period_name(sig_period p)
{
    return PERIOD_NAMES[p];
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

int sig_period_of(sig_period p, const char *date, char label[16], char first[11], char last[11])
{
    int y, m, d;
    if (!date || !zv_date_valid(date, strlen(date)) || sscanf(date, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return -1;
    int span = p == SIG_MONTH ? 1 : p == SIG_QUARTER ? 3 : p == SIG_HALF ? 6 : 12;
    int m0 = (m - 1) / span * span + 1, m1 = m0 + span - 1;
    switch (p) {
    case SIG_MONTH:
        snprintf(label, 16, "%04d-%02d", y, m);
        break;
    case SIG_QUARTER:
        snprintf(label, 16, "%04d-Q%d", y, (m0 - 1) / 3 + 1);
        break;
    case SIG_HALF:
        snprintf(label, 16, "%04d-H%d", y, (m0 - 1) / 6 + 1);
        break;
    case SIG_YEAR:
        snprintf(label, 16, "%04d", y);
        break;
    }
    snprintf(first, 11, "%04d-%02d-01", y % 10000, m0 % 100);
    snprintf(last, 11, "%04d-%02d-%02d", y % 10000, m1 % 100, days_in_month(y, m1) % 100);
    return 0;
}

int sig_period_bounds(sig_period p, const char *label, char first[11], char last[11])
{
    int y, n = 1;
    char c = 0, date[11], got[16];
    if (!label || sscanf(label, "%4d", &y) != 1) return -1;
    if (p == SIG_MONTH && sscanf(label, "%*4d-%2d", &n) != 1) return -1;
    if ((p == SIG_QUARTER || p == SIG_HALF) && sscanf(label, "%*4d-%c%d", &c, &n) != 2) return -1;
    int month = p == SIG_MONTH     ? n
                : p == SIG_QUARTER ? (n - 1) * 3 + 1
                : p == SIG_HALF    ? (n - 1) * 6 + 1
                                   : 1;
    if (month < 1 || month > 12) return -1;
    snprintf(date, sizeof(date), "%04d-%02d-01", y % 10000, month);
    /* The label must be the one this period kind gives that date. */
    if (sig_period_of(p, date, got, first, last) != 0 || strcmp(got, label) != 0) return -1;
    return 0;
}

/* Days since 1970-01-01 of a valid YYYY-MM-DD (civil calendar). */
static long day_number(const char *date)
{
    int y, m, d;
    if (!date || !zv_date_valid(date, strlen(date)) || sscanf(date, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return LONG_MIN;
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void band_label(const int *bands, size_t n, long v, char *out, size_t outlen)
{
    size_t i = n;
    while (i > 0 && bands[i - 1] > v)
        i--;
    if (i == n)
        snprintf(out, outlen, "%d+", bands[i - 1]);
    else
        snprintf(out, outlen, "%d-%d", bands[i - 1], bands[i] - 1);
}

void sig_wait_band(const sig_set *s, const char *assigned, const char *start, char *out,
                   size_t outlen)
{
    long a = day_number(assigned), b = day_number(start);
    if (a == LONG_MIN || b == LONG_MIN || b < a) {
        snprintf(out, outlen, SIG_UNKNOWN);
        return;
    }
    band_label(s->wbands, s->nwbands, b - a, out, outlen);
}

void sig_age_band(const sig_set *s, const char *birth, const char *ref, char *out, size_t outlen)
{
    int by, bm, bd, ry, rm, rd;
    if (!birth || !zv_date_valid(birth, strlen(birth)) ||
        sscanf(birth, "%4d-%2d-%2d", &by, &bm, &bd) != 3 ||
        sscanf(ref, "%4d-%2d-%2d", &ry, &rm, &rd) != 3) {
        snprintf(out, outlen, SIG_UNKNOWN);
        return;
    }
    int age = ry - by - ((rm < bm || (rm == bm && rd < bd)) ? 1 : 0);
    if (age < 0) {
        snprintf(out, outlen, SIG_UNKNOWN);
        return;
    }
    band_label(s->bands, s->nbands, age, out, outlen);
}
