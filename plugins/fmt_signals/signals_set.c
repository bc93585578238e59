/* Loading and validating a signal set file.  Errors read
 * "file: path: reason", like the catalogues'. */
#include "signals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const SET_KEYS[] = {"$schema",   "signal_set", "description",   "period",
                                       "age_bands", "measures",   "waiting_bands", NULL};
static const char *const MEASURE_KEYS[] = {"id",   "title", "purpose", "citation", "date",
                                           "kind", "where", "by",      NULL};

static int check_keys(const zv_json *o, const char *const *keys, const char *path, char *err,
                      size_t errlen)
{
    for (size_t i = 0; i < zv_json_len(o); i++) {
        const char *k = zv_json_key_at(o, i);
        size_t j = 0;
        while (keys[j] && strcmp(keys[j], k) != 0)
            j++;
        if (!keys[j]) {
            snprintf(err, errlen, "%s/%s: unknown key", path, k);
            return -1;
        }
    }
    return 0;
}

static int req_str(const zv_json *o, const char *key, const char *path, char **out, char *err,
                   size_t errlen)
{
    const char *s = zv_json_str(zv_json_get(o, key), NULL);
    if (!s || !*s) {
        snprintf(err, errlen, "%s/%s: required, a non-empty string", path, key);
        return -1;
    }
    *out = strdup(s);
    return *out ? 0 : -1;
}

const char *sig_dim_name(int dim)
{
    return dim == SIG_DIM_AGE    ? SIG_AGE_BAND
           : dim == SIG_DIM_WAIT ? SIG_WAIT_BAND
                                 : zv_field_def_of((zv_field_id)dim)->name;
}

/* Only codes (and provider AGB codes) may group: a date, free text, an
 * identifier, a BSN or a postcode would make a cell point at one person. */
static int parse_dim(const char *name, const char *path, int *dim, char *err, size_t errlen)
{
    if (strcmp(name, SIG_AGE_BAND) == 0) {
        *dim = SIG_DIM_AGE;
        return 0;
    }
    if (strcmp(name, SIG_WAIT_BAND) == 0) {
        *dim = SIG_DIM_WAIT;
        return 0;
    }
    int f = zv_field_by_name(name);
    if (f < 0) {
        snprintf(err, errlen, "%s: \"%s\" is not a model field, %s or %s", path, name, SIG_AGE_BAND,
                 SIG_WAIT_BAND);
        return -1;
    }
    zv_type t = zv_field_def_of((zv_field_id)f)->type;
    if (t != ZV_T_CODE && t != ZV_T_AGB) {
        snprintf(err, errlen, "%s: dimension %s refused: a %s value would identify a person%s",
                 path, name, zv_type_name(t),
                 t == ZV_T_DATE ? " (use " SIG_AGE_BAND " for ages)" : "");
        return -1;
    }
    *dim = f;
    return 0;
}

static int parse_date_field(const zv_json *m, const char *path, int *out, char *err, size_t errlen)
{
    const zv_json *j = zv_json_get(m, "date");
    const char *name = j ? zv_json_str(j, NULL) : "delivery.start";
    int f = name ? zv_field_by_name(name) : -1;
    if (f < 0 || zv_field_def_of((zv_field_id)f)->type != ZV_T_DATE) {
        snprintf(err, errlen, "%s/date: expected a date field of the model", path);
        return -1;
    }
    *out = f;
    return 0;
}

static int parse_measure(const zv_json *m, const char *path, sig_measure *out, char *err,
                         size_t errlen)
{
    if (zv_json_type_of(m) != ZV_JSON_OBJECT) {
        snprintf(err, errlen, "%s: expected an object", path);
        return -1;
    }
    if (check_keys(m, MEASURE_KEYS, path, err, errlen) != 0 ||
        req_str(m, "id", path, &out->id, err, errlen) != 0 ||
        req_str(m, "title", path, &out->title, err, errlen) != 0 ||
        req_str(m, "purpose", path, &out->purpose, err, errlen) != 0 ||
        req_str(m, "citation", path, &out->citation, err, errlen) != 0 ||
        parse_date_field(m, path, &out->date_field, err, errlen) != 0)
        return -1;
    const zv_json *kind = zv_json_get(m, "kind");
    out->kind = -1;
    if (kind &&
        (out->kind = zv_kind_by_name(zv_json_str(kind, NULL) ? zv_json_str(kind, NULL) : "")) < 0) {
        snprintf(err, errlen, "%s/kind: not a record kind", path);
        return -1;
    }
    const zv_json *where = zv_json_get(m, "where");
    char p[256];
    if (where) {
        snprintf(p, sizeof(p), "%s/where", path);
        if (!(out->where = sig_cond_compile(where, p, err, errlen))) return -1;
    }
    const zv_json *by = zv_json_get(m, "by");
    if (by && (zv_json_type_of(by) != ZV_JSON_ARRAY || zv_json_len(by) > SIG_MAX_DIMS)) {
        snprintf(err, errlen, "%s/by: expected an array of at most %d dimensions", path,
                 SIG_MAX_DIMS);
        return -1;
    }
    for (size_t i = 0; by && i < zv_json_len(by); i++) {
        snprintf(p, sizeof(p), "%s/by/%zu", path, i);
        const char *name = zv_json_str(zv_json_at(by, i), NULL);
        if (!name) {
            snprintf(err, errlen, "%s: expected a field name", p);
            return -1;
        }
        if (parse_dim(name, p, &out->dims[i], err, errlen) != 0) return -1;
        if (i > 0 && out->dims[0] == out->dims[i]) {
            snprintf(err, errlen, "%s: dimension %s named twice", p, name);
            return -1;
        }
        out->ndims++;
    }
    return 0;
}

static int parse_period(const zv_json *root, sig_set *s, char *err, size_t errlen)
{
    const char *p = zv_json_str(zv_json_get(root, "period"), NULL);
    for (int i = 0; p && i <= SIG_YEAR; i++)
        if (strcmp(p, sig_period_name((sig_period)i)) == 0) {
            s->period = (sig_period)i;
            return 0;
        }
    snprintf(err, errlen, "/period: required, one of month, quarter, half-year, year");
    return -1;
}

/* Lower bounds of bands (ages, waiting days): ascending, starting at 0. */
static int parse_band_list(const zv_json *root, const char *key, const int *def, size_t ndef,
                           int max, int *out, size_t *n, char *err, size_t errlen)
{
    const zv_json *b = zv_json_get(root, key);
    if (!b) {
        memcpy(out, def, ndef * sizeof(*def));
        *n = ndef;
        return 0;
    }
    if (zv_json_type_of(b) != ZV_JSON_ARRAY || zv_json_len(b) == 0 ||
        zv_json_len(b) > SIG_MAX_BANDS) {
        snprintf(err, errlen, "/%s: expected 1 to %d ascending numbers starting at 0", key,
                 SIG_MAX_BANDS);
        return -1;
    }
    for (size_t i = 0; i < zv_json_len(b); i++) {
        int64_t v;
        if (zv_json_int(zv_json_at(b, i), &v) != 0 || v < 0 || v > max || (i == 0 && v != 0) ||
            (i > 0 && v <= out[i - 1])) {
            snprintf(err, errlen, "/%s/%zu: expected ascending numbers starting at 0", key, i);
            return -1;
        }
        out[i] = (int)v;
        (*n)++;
    }
    return 0;
}

static int parse_bands(const zv_json *root, sig_set *s, char *err, size_t errlen)
{
    static const int ages[] = {0, 4, 12, 18}, waits[] = {0, 8, 29, 57};
    return parse_band_list(root, "age_bands", ages, 4, 150, s->bands, &s->nbands, err, errlen) ||
                   parse_band_list(root, "waiting_bands", waits, 4, 3650, s->wbands, &s->nwbands,
                                   err, errlen)
               ? -1
               : 0;
}

static int parse_set(const zv_json *root, sig_set *s, char *err, size_t errlen)
{
    if (zv_json_type_of(root) != ZV_JSON_OBJECT) {
        snprintf(err, errlen, "/: expected an object");
        return -1;
    }
    if (check_keys(root, SET_KEYS, "", err, errlen) != 0 ||
        req_str(root, "signal_set", "", &s->name, err, errlen) != 0 ||
        req_str(root, "description", "", &s->description, err, errlen) != 0 ||
        parse_period(root, s, err, errlen) != 0 || parse_bands(root, s, err, errlen) != 0)
        return -1;
    const zv_json *ms = zv_json_get(root, "measures");
    if (!ms || zv_json_type_of(ms) != ZV_JSON_ARRAY || zv_json_len(ms) == 0) {
        snprintf(err, errlen, "/measures: required, a non-empty array");
        return -1;
    }
    if (!(s->measures = calloc(zv_json_len(ms), sizeof(*s->measures)))) return -1;
    for (size_t i = 0; i < zv_json_len(ms); i++) {
        char p[64];
        snprintf(p, sizeof(p), "/measures/%zu", i);
        s->nmeasures++;
        if (parse_measure(zv_json_at(ms, i), p, &s->measures[i], err, errlen) != 0) return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->measures[j].id, s->measures[i].id) == 0) {
                snprintf(err, errlen, "%s/id: \"%s\" used twice", p, s->measures[i].id);
                return -1;
            }
    }
    const sig_cond **seen = NULL;
    int rc = 0;
    for (size_t i = 0; i < s->nmeasures && rc == 0; i++)
        rc = sig_cond_number(s->measures[i].where, &seen, &s->nleaves);
    free(seen);
    return rc;
}

sig_set *sig_set_load(const char *file, char *err, size_t errlen)
{
    char why[512] = "";
    zv_json_doc *d = zv_json_parse_file(file, 0, why, sizeof(why));
    if (!d) {
        snprintf(err, errlen, "%s: %s", file, why);
        return NULL;
    }
    sig_set *s = calloc(1, sizeof(*s));
    if (!s || parse_set(zv_json_root(d), s, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s: %s", file, s ? why : "out of memory");
        sig_set_free(s);
        s = NULL;
    }
    zv_json_free(d);
    return s;
}

void sig_set_free(sig_set *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->nmeasures; i++) {
        sig_measure *m = &s->measures[i];
        free(m->id);
        free(m->title);
        free(m->purpose);
        free(m->citation);
        sig_cond_free(m->where);
    }
    free(s->measures);
    free(s->name);
    free(s->description);
    free(s);
}
