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

static int leaf_eval(const sig_cond *c, const zv_record *r)
{
    if (c->op == SC_PRESENT) return (zv_rec_get(r, (zv_field_id)c->field) != NULL) == !!c->present;
    const char *v = zv_rec_str(r, (zv_field_id)c->field);
    for (size_t i = 0; v && i < c->nvalues; i++)
        if (strcmp(v, c->values[i]) == 0) return 1;
    return 0;
}

int sig_cond_eval_memo(const sig_cond *c, const zv_record *r, signed char *memo)
{
    if (!c) return 1;
    switch (c->op) {
    case SC_PRESENT:
    case SC_IN:
        if (!memo) return leaf_eval(c, r);
        if (memo[c->leaf] < 0) memo[c->leaf] = (signed char)leaf_eval(c, r);
        return memo[c->leaf];
    case SC_ALL:
        for (size_t i = 0; i < c->nsub; i++)
            if (!sig_cond_eval_memo(c->sub[i], r, memo)) return 0;
        return 1;
    case SC_ANY:
        for (size_t i = 0; i < c->nsub; i++)
            if (sig_cond_eval_memo(c->sub[i], r, memo)) return 1;
        return 0;
    case SC_NOT:
        return !sig_cond_eval_memo(c->sub[0], r, memo);
    }
    return 0;
}

int sig_cond_eval(const sig_cond *c, const zv_record *r)
{
    return sig_cond_eval_memo(c, r, NULL);
}

static int same_test(const sig_cond *a, const sig_cond *b)
{
    if (a->op != b->op || a->field != b->field || a->present != b->present ||
        a->nvalues != b->nvalues)
        return 0;
    for (size_t i = 0; i < a->nvalues; i++)
        if (strcmp(a->values[i], b->values[i]) != 0) return 0;
    return 1;
}

int sig_cond_number(sig_cond *c, const sig_cond ***seen, size_t *n)
{
    if (!c) return 0;
    if (c->op != SC_IN && c->op != SC_PRESENT) {
        for (size_t i = 0; i < c->nsub; i++)
            if (sig_cond_number(c->sub[i], seen, n) != 0) return -1;
        return 0;
    }
    for (size_t i = 0; i < *n; i++)
        if (same_test((*seen)[i], c)) {
            c->leaf = (int)i;
            return 0;
        }
    const sig_cond **grown = realloc(*seen, (*n + 1) * sizeof(*grown));
    if (!grown) return -1;
    *seen = grown;
    grown[*n] = c;
    c->leaf = (int)(*n)++;
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

/* Year, month and day of a valid model date, the checks of zv_date_valid
 * (counting runs this per record: no sscanf, no strtol). */
int sig_ymd(const char *s, int *y, int *m, int *d)
{
    if (!s) return -1;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : (unsigned)(s[i] - '0') > 9u) return -1;
    if (s[10]) return -1;
    *y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    *m = (s[5] - '0') * 10 + (s[6] - '0');
    *d = (s[8] - '0') * 10 + (s[9] - '0');
    return *y >= 1800 && *m >= 1 && *m <= 12 && *d >= 1 && *d <= days_in_month(*y, *m) ? 0 : -1;
}

static int ymd(const char *date, int *y, int *m, int *d)
{
    return sig_ymd(date, y, m, d);
}

int32_t sig_days(int y, int m, int d)
{
    /* Days from civil (proleptic Gregorian), from 1800-01-01. */
    y -= m <= 2;
    int era = y / 400; /* y >= 1799 */
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468 + 62091);
}

/* n (0..9999) as at least `width` digits at p; the end. */
static char *put_int(char *p, int n, int width)
{
    char t[8];
    int k = 0;
    do {
        t[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n && k < 7);
    while (k < width)
        t[k++] = '0';
    while (k)
        *p++ = t[--k];
    return p;
}

static void put_date(char out[11], int y, int m, int d)
{
    char *p = put_int(out, y % 10000, 4);
    *p++ = '-';
    p = put_int(p, m, 2);
    *p++ = '-';
    p = put_int(p, d, 2);
    *p = '\0';
}

int sig_period_of(sig_period p, const char *date, char label[16], char first[11], char last[11])
{
    int y, m, d;
    if (ymd(date, &y, &m, &d) != 0) return -1;
    int span = p == SIG_MONTH ? 1 : p == SIG_QUARTER ? 3 : p == SIG_HALF ? 6 : 12;
    int m0 = (m - 1) / span * span + 1, m1 = m0 + span - 1;
    char *e = put_int(label, y, 4);
    switch (p) {
    case SIG_MONTH:
        *e++ = '-';
        e = put_int(e, m, 2);
        break;
    case SIG_QUARTER:
        *e++ = '-', *e++ = 'Q', *e++ = (char)('0' + (m0 - 1) / 3 + 1);
        break;
    case SIG_HALF:
        *e++ = '-', *e++ = 'H', *e++ = (char)('0' + (m0 - 1) / 6 + 1);
        break;
    case SIG_YEAR:
        break;
    }
    *e = '\0';
    put_date(first, y, m0, 1);
    put_date(last, y, m1, days_in_month(y, m1));
    return 0;
}

int sig_day_of(const char *date, int32_t *day)
{
    int y, m, d;
    if (ymd(date, &y, &m, &d) != 0) return -1;
    *day = sig_days(y, m, d);
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

static void band_label(const int *bands, size_t n, long v, char *out, size_t outlen)
{
    size_t i = n;
    while (i > 0 && bands[i - 1] > v)
        i--;
    char buf[32], *p = put_int(buf, bands[i - 1], 1);
    if (i == n) {
        *p++ = '+';
    } else {
        *p++ = '-';
        p = put_int(p, bands[i] - 1, 1);
    }
    size_t len = (size_t)(p - buf);
    if (len >= outlen) len = outlen - 1;
    memcpy(out, buf, len);
    out[len] = '\0';
}

void sig_wait_band(const sig_set *s, const char *assigned, const char *start, char *out,
                   size_t outlen)
{
    int32_t a, b;
    if (sig_day_of(assigned, &a) != 0 || sig_day_of(start, &b) != 0 || b < a) {
        snprintf(out, outlen, SIG_UNKNOWN);
        return;
    }
    band_label(s->wbands, s->nwbands, b - a, out, outlen);
}

void sig_age_band(const sig_set *s, const char *birth, const char *ref, char *out, size_t outlen)
{
    int by, bm, bd, ry, rm, rd;
    if (ymd(birth, &by, &bm, &bd) != 0 || ymd(ref, &ry, &rm, &rd) != 0) {
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
