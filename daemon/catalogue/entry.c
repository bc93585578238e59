/* One catalogue field entry: levels, frequencies and the entry's validation.
 * Shared by catalogue files and destination overrides. */
#include "cond.h"

#include <stdlib.h>
#include <string.h>

static const char *const LEVELS[ZV_LEVEL_COUNT] = {"law",    "standard", "regulator", "contract",
                                                   "sector", "internal", "none"};

#define LEVEL_LIST "law, standard, regulator, contract, sector, internal, none"

const char *zv_level_name(zv_level l)
{
    return (unsigned)l < ZV_LEVEL_COUNT ? LEVELS[l] : "?";
}

int zv_level_by_name(const char *name)
{
    for (int i = 0; name && i < ZV_LEVEL_COUNT; i++)
        if (strcmp(LEVELS[i], name) == 0) return i;
    return -1;
}

static const char *const FREQS[] = {"event",       "daily",  "weekly",   "monthly", "quarterly",
                                    "half-yearly", "yearly", "3-yearly", NULL};

#define FREQ_LIST "event, daily, weekly, monthly, quarterly, half-yearly, yearly, 3-yearly"

int zv_frequency_rank(const char *name)
{
    for (int i = 0; name && FREQS[i]; i++)
        if (strcmp(FREQS[i], name) == 0) return i;
    return -1;
}

const char *zv_frequency_name(int rank)
{
    return rank >= 0 && rank < (int)(sizeof(FREQS) / sizeof(FREQS[0])) - 1 ? FREQS[rank] : NULL;
}

void zv_cat_entry_clear(zv_cat_entry *e)
{
    free((char *)e->element);
    free((char *)e->citation);
    free((char *)e->frequency);
    free((char *)e->purpose);
    free((char *)e->note);
    for (size_t i = 0; i < e->nderivable; i++)
        free((char *)e->derivable_from[i]);
    free((void *)e->derivable_from);
    zv_cond_free((zv_cond *)e->condition);
    zv_chain_clear(&e->chain);
    memset(e, 0, sizeof(*e));
}

static const char *const ENTRY_KEYS[] = {
    "field",          "element",   "level",   "citation", "optional", "condition",
    "derivable_from", "frequency", "purpose", "note",     "chain", NULL};

static int known_key(const char *k, int allow_message)
{
    if (allow_message && strcmp(k, "message") == 0) return 1;
    for (size_t i = 0; ENTRY_KEYS[i]; i++)
        if (strcmp(ENTRY_KEYS[i], k) == 0) return 1;
    return 0;
}

/* A string member: required ones must be non-empty text. */
static int get_text(const zv_json *j, const char *key, int required, const char *file,
                    const char *path, const char **out, zv_errors *errs)
{
    char p[512];
    zv_path_key(p, sizeof(p), path, key);
    const zv_json *v = zv_json_get(j, key);
    *out = NULL;
    if (!v) {
        if (required) zv_errors_add(errs, file, p, "missing (required)");
        return required ? -1 : 0;
    }
    const char *s = zv_json_str(v, NULL);
    if (!s) {
        zv_errors_add(errs, file, p, "expected a string, got %s",
                      zv_json_type_name(zv_json_type_of(v)));
        return -1;
    }
    if (required && s[strspn(s, " \t\r\n")] == '\0') {
        zv_errors_add(errs, file, p, "must not be empty");
        return -1;
    }
    *out = s;
    return 0;
}

static int dup_into(const char *s, const char **dst)
{
    if (!s) return 0;
    return (*dst = strdup(s)) ? 0 : -1;
}

static int parse_derivable(const zv_json *v, const char *file, const char *path, zv_cat_entry *e,
                           zv_errors *errs)
{
    char p[512];
    zv_path_key(p, sizeof(p), path, "derivable_from");
    if (zv_json_type_of(v) != ZV_JSON_ARRAY) {
        zv_errors_add(errs, file, p, "expected an array of strings, got %s",
                      zv_json_type_name(zv_json_type_of(v)));
        return -1;
    }
    size_t n = zv_json_len(v);
    const char **arr = calloc(n ? n : 1, sizeof(*arr));
    if (!arr) return -1;
    e->derivable_from = arr;
    for (size_t i = 0; i < n; i++) {
        const char *s = zv_json_str(zv_json_at(v, i), NULL);
        if (!s || !*s) {
            char pi[512];
            zv_path_index(pi, sizeof(pi), p, i);
            zv_errors_add(errs, file, pi, "expected a non-empty string");
            return -1;
        }
        if (!(arr[i] = strdup(s))) return -1;
        e->nderivable = i + 1;
    }
    return 0;
}

static int parse_level(const zv_json *j, const char *file, const char *path, zv_cat_entry *e,
                       zv_errors *errs)
{
    const char *s;
    if (get_text(j, "level", 1, file, path, &s, errs) < 0) return -1;
    int l = zv_level_by_name(s);
    if (l < 0) {
        char p[512];
        zv_path_key(p, sizeof(p), path, "level");
        zv_errors_add(errs, file, p, "unknown level \"%s\" (expected " LEVEL_LIST ")", s);
        return -1;
    }
    e->level = (zv_level)l;
    return 0;
}

static int parse_frequency(const zv_json *j, const char *file, const char *path,
                           const char *deffreq, zv_cat_entry *e, zv_errors *errs)
{
    const char *s;
    char p[512];
    zv_path_key(p, sizeof(p), path, "frequency");
    if (get_text(j, "frequency", 0, file, path, &s, errs) < 0) return -1;
    if (!s) s = deffreq;
    if (!s) {
        zv_errors_add(errs, file, p,
                      "missing (set it here or as the catalogue's default \"frequency\")");
        return -1;
    }
    if (zv_frequency_rank(s) < 0) {
        zv_errors_add(errs, file, p, "unknown frequency \"%s\" (expected " FREQ_LIST ")", s);
        return -1;
    }
    return dup_into(s, &e->frequency);
}

int zv_cat_entry_parse(const zv_json *j, const char *file, const char *path, const char *deffreq,
                       int allow_message, zv_cat_entry *e, zv_errors *errs)
{
    memset(e, 0, sizeof(*e));
    if (zv_json_type_of(j) != ZV_JSON_OBJECT) {
        zv_errors_add(errs, file, path, "expected an object, got %s",
                      zv_json_type_name(zv_json_type_of(j)));
        return -1;
    }
    int rc = 0;
    char p[512];
    for (size_t i = 0; i < zv_json_len(j); i++) {
        const char *k = zv_json_key_at(j, i);
        if (known_key(k, allow_message)) continue;
        zv_path_key(p, sizeof(p), path, k);
        zv_errors_add(errs, file, p, "unknown key");
        rc = -1;
    }
    const char *fname, *element, *citation, *purpose, *note;
    if (get_text(j, "field", 1, file, path, &fname, errs) < 0) {
        rc = -1;
    } else if ((e->field = zv_field_by_name(fname)) < 0) {
        zv_path_key(p, sizeof(p), path, "field");
        zv_errors_add(errs, file, p, "unknown model field \"%s\"", fname);
        rc = -1;
    }
    if (get_text(j, "element", 1, file, path, &element, errs) < 0) rc = -1;
    if (parse_level(j, file, path, e, errs) < 0) rc = -1;
    if (get_text(j, "citation", 1, file, path, &citation, errs) < 0) rc = -1;
    if (get_text(j, "purpose", 0, file, path, &purpose, errs) < 0) rc = -1;
    if (get_text(j, "note", 0, file, path, &note, errs) < 0) rc = -1;
    if (parse_frequency(j, file, path, deffreq, e, errs) < 0) rc = -1;
    const zv_json *ch = zv_json_get(j, "chain");
    if (ch) {
        zv_path_key(p, sizeof(p), path, "chain");
        if (zv_chain_parse(ch, file, p, &e->chain, errs) < 0) rc = -1;
    }
    const zv_json *v = zv_json_get(j, "optional");
    if (v && zv_json_bool(v, &e->optional) < 0) {
        zv_path_key(p, sizeof(p), path, "optional");
        zv_errors_add(errs, file, p, "expected true or false, got %s",
                      zv_json_type_name(zv_json_type_of(v)));
        rc = -1;
    }
    if ((v = zv_json_get(j, "derivable_from")) && parse_derivable(v, file, path, e, errs) < 0)
        rc = -1;
    if ((v = zv_json_get(j, "condition"))) {
        zv_path_key(p, sizeof(p), path, "condition");
        if (!(e->condition = zv_cond_compile(v, file, p, errs))) rc = -1;
    }
    if (allow_message && (v = zv_json_get(j, "message")) && !zv_json_str(v, NULL)) {
        zv_path_key(p, sizeof(p), path, "message");
        zv_errors_add(errs, file, p, "expected a string, got %s",
                      zv_json_type_name(zv_json_type_of(v)));
        rc = -1;
    }
    if (rc == 0 && (dup_into(element, &e->element) < 0 || dup_into(citation, &e->citation) < 0 ||
                    dup_into(purpose, &e->purpose) < 0 || dup_into(note, &e->note) < 0))
        rc = -1;
    if (rc < 0) zv_cat_entry_clear(e);
    return rc;
}
