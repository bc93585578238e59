/* Catalogue files: load, validate, apply destination overrides, read. */
#include "cond.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zv_catalogue {
    char *file, *id, *format, *message, *standard, *description, *frequency;
    char *purpose, *signal_set; /* what the receiver uses it for; the set that would replace it */
    char *max_citation;        /* NULL: no legal maximum stated */
    int withdraw;              /* "correction": {"by": "withdraw"} */
    char *correction_citation; /* its citation */
    zv_prescribed prescribed;
    unsigned char max_allows[ZV_FIELD_COUNT];
    zv_cat_entry *entries;
    size_t n, cap;
};

static const char *const TOP_KEYS[] = {"$schema",  "catalogue",   "format",     "message",
                                       "standard", "description", "maximum",    "frequency",
                                       "fields",   "prescribed",  "correction", "purpose",
                                       "signal_set", NULL};

/* What a receiver uses a message for (the catalogue's "purpose"). */
static const char *const PURPOSES[] = {"statistics", "monitoring", "funding",
                                       "care",       "supervision", NULL};

void zv_catalogue_free(zv_catalogue *cat)
{
    if (!cat) return;
    for (size_t i = 0; i < cat->n; i++)
        zv_cat_entry_clear(&cat->entries[i]);
    free(cat->entries);
    free(cat->file);
    free(cat->id);
    free(cat->format);
    free(cat->message);
    free(cat->standard);
    free(cat->description);
    free(cat->frequency);
    free(cat->purpose);
    free(cat->signal_set);
    free(cat->max_citation);
    free(cat->correction_citation);
    zv_prescribed_clear(&cat->prescribed);
    free(cat);
}

/* Required non-empty string member of the top level, duplicated into *out. */
static int top_text(const zv_json *root, const char *key, int required, const char *file,
                    char **out, zv_errors *errs)
{
    const zv_json *v = zv_json_get(root, key);
    if (!v) {
        if (required) zv_errors_add(errs, file, key, "missing (required)");
        return required ? -1 : 0;
    }
    const char *s = zv_json_str(v, NULL);
    if (!s || !*s) {
        zv_errors_add(errs, file, key, "expected a non-empty string, got %s",
                      s ? "\"\"" : zv_json_type_name(zv_json_type_of(v)));
        return -1;
    }
    return (*out = strdup(s)) ? 0 : -1;
}

/* "conf/catalogue/iwlz-aw35.json" -> "iwlz-aw35" */
static char *id_of_file(const char *file)
{
    char *copy = strdup(file), *id = NULL;
    if (!copy) return NULL;
    const char *base = basename(copy);
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".json") == 0) n -= 5;
    id = strndup(base, n);
    free(copy);
    return id;
}

static int parse_maximum(zv_catalogue *cat, const zv_json *m, const char *file, const char *base,
                         zv_errors *errs)
{
    char p[512];
    if (zv_json_type_of(m) != ZV_JSON_OBJECT) {
        zv_errors_add(errs, file, base, "expected an object, got %s",
                      zv_json_type_name(zv_json_type_of(m)));
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < zv_json_len(m); i++) {
        const char *k = zv_json_key_at(m, i);
        if (strcmp(k, "citation") && strcmp(k, "fields")) {
            zv_path_key(p, sizeof(p), base, k);
            zv_errors_add(errs, file, p, "unknown key (expected citation, fields)");
            rc = -1;
        }
    }
    const char *cit = zv_json_str(zv_json_get(m, "citation"), NULL);
    if (!cit || !*cit) {
        zv_path_key(p, sizeof(p), base, "citation");
        zv_errors_add(errs, file, p, "missing (a maximum needs its legal basis)");
        rc = -1;
    }
    const zv_json *f = zv_json_get(m, "fields");
    char pf[512];
    zv_path_key(pf, sizeof(pf), base, "fields");
    if (zv_json_type_of(f) != ZV_JSON_ARRAY) {
        zv_errors_add(errs, file, pf, "expected an array of model field names");
        return -1;
    }
    memset(cat->max_allows, 0, sizeof(cat->max_allows));
    for (size_t i = 0; i < zv_json_len(f); i++) {
        const char *name = zv_json_str(zv_json_at(f, i), NULL);
        int id = name ? zv_field_by_name(name) : -1;
        if (id < 0) {
            zv_path_index(p, sizeof(p), pf, i);
            if (name)
                zv_errors_add(errs, file, p, "unknown model field \"%s\"", name);
            else
                zv_errors_add(errs, file, p, "expected a model field name (string)");
            rc = -1;
            continue;
        }
        cat->max_allows[id] = 1;
    }
    if (rc == 0) {
        free(cat->max_citation);
        if (!(cat->max_citation = strdup(cit))) return -1;
    }
    return rc;
}

static ssize_t find_index(const zv_catalogue *cat, int field)
{
    for (size_t i = 0; i < cat->n; i++)
        if (cat->entries[i].field == field) return (ssize_t)i;
    return -1;
}

/* Takes ownership of e. */
static int add_entry(zv_catalogue *cat, zv_cat_entry *e)
{
    if (cat->n == cat->cap) {
        size_t cap = cat->cap ? cat->cap * 2 : 16;
        zv_cat_entry *n = realloc(cat->entries, cap * sizeof(*n));
        if (!n) {
            zv_cat_entry_clear(e);
            return -1;
        }
        cat->entries = n;
        cat->cap = cap;
    }
    cat->entries[cat->n++] = *e;
    return 0;
}

static int parse_fields(zv_catalogue *cat, const zv_json *fields, const char *file, zv_errors *errs)
{
    if (zv_json_type_of(fields) != ZV_JSON_ARRAY) {
        zv_errors_add(errs, file, "fields", "expected an array of field entries, got %s",
                      zv_json_type_name(zv_json_type_of(fields)));
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < zv_json_len(fields); i++) {
        char p[64];
        zv_path_index(p, sizeof(p), "fields", i);
        zv_cat_entry e;
        if (zv_cat_entry_parse(zv_json_at(fields, i), file, p, cat->frequency, 0, &e, errs) < 0) {
            rc = -1;
            continue;
        }
        ssize_t prev = find_index(cat, e.field);
        if (prev >= 0) {
            char pf[80];
            zv_path_key(pf, sizeof(pf), p, "field");
            zv_errors_add(errs, file, pf, "\"%s\" is already listed at fields[%zd]",
                          zv_field_def_of((zv_field_id)e.field)->name, prev);
            zv_cat_entry_clear(&e);
            rc = -1;
            continue;
        }
        if (add_entry(cat, &e) < 0) return -1;
    }
    return rc;
}

/* "correction": {"by": "withdraw" | "resend", "citation": "..."}: how the
 * standard wants a change to a record it was sent already (see catalogue.h). */
static int parse_correction(zv_catalogue *cat, const zv_json *c, const char *file, zv_errors *errs)
{
    const char *by = zv_json_str(zv_json_get(c, "by"), NULL);
    const char *cite = zv_json_str(zv_json_get(c, "citation"), NULL);
    int rc = 0;
    for (size_t i = 0; i < zv_json_len(c); i++) {
        const char *k = zv_json_key_at(c, i);
        if (strcmp(k, "by") != 0 && strcmp(k, "citation") != 0) {
            char p[96];
            snprintf(p, sizeof(p), "correction.%s", k);
            zv_errors_add(errs, file, p, "unknown key (expected by, citation)");
            rc = -1;
        }
    }
    if (!by || (strcmp(by, "withdraw") != 0 && strcmp(by, "resend") != 0)) {
        zv_errors_add(errs, file, "correction.by", "expected \"withdraw\" or \"resend\"");
        return -1;
    }
    if (!cite || !*cite) {
        zv_errors_add(errs, file, "correction.citation", "missing (required)");
        return -1;
    }
    cat->withdraw = strcmp(by, "withdraw") == 0;
    if (!(cat->correction_citation = strdup(cite))) return -1;
    return rc;
}

static int check_top_keys(const zv_json *root, const char *file, zv_errors *errs)
{
    int rc = 0;
    for (size_t i = 0; i < zv_json_len(root); i++) {
        const char *k = zv_json_key_at(root, i);
        int known = 0;
        for (size_t n = 0; TOP_KEYS[n]; n++)
            known |= strcmp(TOP_KEYS[n], k) == 0;
        if (!known) {
            zv_errors_add(errs, file, k, "unknown key");
            rc = -1;
        }
    }
    return rc;
}

zv_catalogue *zv_catalogue_from_json(const zv_json *root, const char *file, zv_errors *errs)
{
    if (zv_json_type_of(root) != ZV_JSON_OBJECT) {
        zv_errors_add(errs, file, "", "a catalogue must be a JSON object");
        return NULL;
    }
    zv_catalogue *cat = calloc(1, sizeof(*cat));
    if (!cat || !(cat->file = strdup(file))) {
        free(cat);
        return NULL;
    }
    int rc = check_top_keys(root, file, errs);
    rc |= top_text(root, "catalogue", 1, file, &cat->id, errs);
    rc |= top_text(root, "format", 1, file, &cat->format, errs);
    rc |= top_text(root, "message", 1, file, &cat->message, errs);
    rc |= top_text(root, "standard", 0, file, &cat->standard, errs);
    rc |= top_text(root, "description", 0, file, &cat->description, errs);
    if (top_text(root, "frequency", 0, file, &cat->frequency, errs) < 0) {
        rc = -1;
    } else if (cat->frequency && zv_frequency_rank(cat->frequency) < 0) {
        zv_errors_add(errs, file, "frequency", "unknown frequency \"%s\"", cat->frequency);
        free(cat->frequency);
        cat->frequency = NULL;
        rc = -1;
    }
    rc |= top_text(root, "signal_set", 0, file, &cat->signal_set, errs);
    if (top_text(root, "purpose", 0, file, &cat->purpose, errs) < 0) {
        rc = -1;
    } else if (cat->purpose) {
        size_t i = 0;
        while (PURPOSES[i] && strcmp(PURPOSES[i], cat->purpose) != 0)
            i++;
        if (!PURPOSES[i]) {
            zv_errors_add(errs, file, "purpose",
                          "unknown purpose \"%s\" (expected statistics, monitoring, funding, "
                          "care or supervision)",
                          cat->purpose);
            rc = -1;
        }
    }
    char *want = id_of_file(file);
    if (cat->id && want && strcmp(cat->id, want) != 0) {
        zv_errors_add(errs, file, "catalogue", "id \"%s\" differs from the file name \"%s\"",
                      cat->id, want);
        rc = -1;
    }
    free(want);
    const zv_json *m = zv_json_get(root, "maximum");
    if (m && parse_maximum(cat, m, file, "maximum", errs) < 0) rc = -1;
    const zv_json *corr = zv_json_get(root, "correction");
    if (corr && parse_correction(cat, corr, file, errs) < 0) rc = -1;
    const zv_json *pr = zv_json_get(root, "prescribed");
    if (pr && zv_prescribed_parse(pr, file, &cat->prescribed, errs) < 0) rc = -1;
    const zv_json *fields = zv_json_get(root, "fields");
    if (!fields) {
        zv_errors_add(errs, file, "fields", "missing (required)");
        rc = -1;
    } else if (parse_fields(cat, fields, file, errs) < 0) {
        rc = -1;
    }
    if (rc != 0) {
        zv_catalogue_free(cat);
        return NULL;
    }
    return cat;
}

zv_catalogue *zv_catalogue_load(const char *path, zv_errors *errs)
{
    char err[512];
    zv_json_doc *doc = zv_json_parse_file(path, 0, err, sizeof(err));
    if (!doc) {
        zv_errors_add(errs, path, "", "%s", err);
        return NULL;
    }
    zv_catalogue *cat = zv_catalogue_from_json(zv_json_root(doc), path, errs);
    zv_json_free(doc);
    return cat;
}

static int override_fields(zv_catalogue *cat, const zv_json *fields, const char *cfgfile,
                           const char *path, zv_errors *errs)
{
    char p[512];
    zv_path_key(p, sizeof(p), path, "fields");
    if (zv_json_type_of(fields) != ZV_JSON_ARRAY) {
        zv_errors_add(errs, cfgfile, p, "expected an array of field entries");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < zv_json_len(fields); i++) {
        char pi[512];
        zv_path_index(pi, sizeof(pi), p, i);
        const zv_json *j = zv_json_at(fields, i);
        zv_cat_entry e;
        if (zv_cat_entry_parse(j, cfgfile, pi, cat->frequency, 1, &e, errs) < 0) {
            rc = -1;
            continue;
        }
        /* An entry for another message of the same destination. */
        const char *msg = zv_json_str(zv_json_get(j, "message"), NULL);
        if (msg && strcmp(msg, cat->message) != 0) {
            zv_cat_entry_clear(&e);
            continue;
        }
        e.overridden = 1;
        ssize_t prev = find_index(cat, e.field);
        if (prev >= 0) {
            zv_cat_entry_clear(&cat->entries[prev]);
            cat->entries[prev] = e;
        } else if (add_entry(cat, &e) < 0) {
            return -1;
        }
    }
    return rc;
}

int zv_catalogue_override(zv_catalogue *cat, const zv_json *override, const char *cfgfile,
                          const char *path, zv_errors *errs)
{
    if (!override) return 0;
    if (zv_json_type_of(override) != ZV_JSON_OBJECT) {
        zv_errors_add(errs, cfgfile, path, "expected an object, got %s",
                      zv_json_type_name(zv_json_type_of(override)));
        return -1;
    }
    int rc = 0;
    char p[512];
    for (size_t i = 0; i < zv_json_len(override); i++) {
        const char *k = zv_json_key_at(override, i);
        if (!strcmp(k, "file") || !strcmp(k, "fields") || !strcmp(k, "maximum")) continue;
        zv_path_key(p, sizeof(p), path, k);
        zv_errors_add(errs, cfgfile, p, "unknown key (expected file, fields, maximum)");
        rc = -1;
    }
    const zv_json *f = zv_json_get(override, "file");
    if (f && !zv_json_str(f, NULL)) {
        zv_path_key(p, sizeof(p), path, "file");
        zv_errors_add(errs, cfgfile, p, "expected a catalogue file name (string)");
        rc = -1;
    }
    const zv_json *m = zv_json_get(override, "maximum");
    if (m) {
        zv_path_key(p, sizeof(p), path, "maximum");
        if (parse_maximum(cat, m, cfgfile, p, errs) < 0) rc = -1;
    }
    const zv_json *fields = zv_json_get(override, "fields");
    if (fields && override_fields(cat, fields, cfgfile, path, errs) < 0) rc = -1;
    return rc;
}

const char *zv_catalogue_message(const zv_catalogue *cat)
{
    return cat->message;
}
const char *zv_catalogue_id(const zv_catalogue *cat)
{
    return cat->id;
}
const char *zv_catalogue_file(const zv_catalogue *cat)
{
    return cat->file;
}
const char *zv_catalogue_format(const zv_catalogue *cat)
{
    return cat->format;
}
const char *zv_catalogue_standard(const zv_catalogue *cat)
{
    return cat->standard;
}
const char *zv_catalogue_purpose(const zv_catalogue *cat)
{
    return cat->purpose;
}
const char *zv_catalogue_signal_set(const zv_catalogue *cat)
{
    return cat->signal_set;
}
const char *zv_catalogue_description(const zv_catalogue *cat)
{
    return cat->description;
}
size_t zv_catalogue_count(const zv_catalogue *cat)
{
    return cat->n;
}

const zv_cat_entry *zv_catalogue_entry(const zv_catalogue *cat, size_t i)
{
    return i < cat->n ? &cat->entries[i] : NULL;
}

const zv_cat_entry *zv_catalogue_find(const zv_catalogue *cat, int field)
{
    ssize_t i = find_index(cat, field);
    return i >= 0 ? &cat->entries[i] : NULL;
}

const zv_prescribed *zv_catalogue_prescribed(const zv_catalogue *cat)
{
    return &cat->prescribed;
}

int zv_catalogue_withdraws(const zv_catalogue *cat)
{
    return cat && cat->withdraw;
}

const char *zv_catalogue_correction_citation(const zv_catalogue *cat)
{
    return cat ? cat->correction_citation : NULL;
}

const char *zv_catalogue_max_citation(const zv_catalogue *cat)
{
    return cat->max_citation;
}

int zv_catalogue_max_allows(const zv_catalogue *cat, int field)
{
    if (!cat->max_citation) return 1;
    return field >= 0 && field < ZV_FIELD_COUNT && cat->max_allows[field];
}
