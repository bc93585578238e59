/*
 * FHIR resources -> item fields with FHIR element paths.
 *
 * Path syntax (documented for mappings):
 *   - the root is the resourceType: "Patient.birthDate", "Patient.gender";
 *   - object members are joined with '.': "EpisodeOfCare.period.start";
 *   - an array's first element has no index, later ones "[i]":
 *     "Patient.name.given" (first given name), "Patient.name.given[1]";
 *   - identifiers with a known system are selected by name instead of index:
 *     "Patient.identifier[bsn].value" (http://fhir.nl/fhir/NamingSystem/bsn
 *     and its OID urn:oid:2.16.840.1.113883.2.4.6.3), "[agb]" (.../agb-z),
 *     "[uzi]" (.../uzi-nr-pers);
 *   - extensions are selected by the last segment of their URL, their
 *     value[x] is ".value": "Patient.name.family.extension[humanname-own-prefix].value";
 *     primitive extensions ("_family") merge into their element ("family");
 *   - a name used again in the same array gets the occurrence after it:
 *     "extension[patient-proficiency]", "extension[patient-proficiency][1]",
 *     "identifier[bsn][1]", so every value has a path of its own;
 *   - choice elements outside extensions appear under their plain name and
 *     under the typed one: "Patient.deceased" and "Patient.deceasedDateTime";
 *   - contained resources keep their "resourceType"; narratives (text.div)
 *     are left out (they repeat the data, BSN included, as XHTML);
 *   - an EpisodeOfCare carries its patient's fields (from _include) under
 *     "Patient.": a delivery mapping reads "Patient.identifier[bsn].value".
 */
#include "fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/utf8.h>

void fh_flat_init(fh_flat *f)
{
    memset(f, 0, sizeof(*f)), zv_buf_init(&f->buf);
}
void fh_flat_free(fh_flat *f)
{
    zv_buf_free(&f->buf);
    free(f->fields);
}
static void add(fh_flat *f, const char *path, size_t plen, const char *v, size_t vlen);

void fh_flat_reset(fh_flat *f)
{
    zv_buf_reset(&f->buf);
    f->buf.oom = 0; /* what failed was one resource; the buffer is intact */
    f->n = 0;
    f->bad[0] = '\0';
}

int fh_flat_error(fh_flat *f, const char *type, const char *id)
{
    char bad[sizeof(f->bad)], path[80];
    snprintf(bad, sizeof(bad), "%s", f->bad);
    fh_flat_reset(f);
    int n = snprintf(path, sizeof(path), "%.40s.id", type);
    if (!id) id = ""; /* a resource without an id is still quarantined on its own */
    add(f, path, (size_t)n, id, strlen(id));
    add(f, ZV_ITEM_ERROR, strlen(ZV_ITEM_ERROR), bad, strlen(bad));
    return fh_flat_finish(f);
}

static void add(fh_flat *f, const char *path, size_t plen, const char *v, size_t vlen)
{
    /* yajl lets surrogates and overlong forms through, and "\u0000" would
     * cut the value short below: both make the resource unreadable. */
    size_t at = 0;
    zv_utf8_err e = zv_utf8_check(v, vlen, &at);
    const char *nul = e == ZV_UTF8_OK ? memchr(v, 0, vlen) : NULL;
    if ((e != ZV_UTF8_OK || nul) && !f->bad[0])
        snprintf(f->bad, sizeof(f->bad), "%.*s: %s at byte %zu of the value", (int)plen, path,
                 nul ? "U+0000 (NUL) in a string" : zv_utf8_strerror(e),
                 nul ? (size_t)(nul - v) : at);
    zv_buf_append(&f->buf, path, plen);
    zv_buf_append(&f->buf, "", 1);
    zv_buf_append(&f->buf, v, vlen);
    zv_buf_append(&f->buf, "", 1);
    f->n++;
}

static const struct {
    const char *system, *alias;
} systems[] = {{"http://fhir.nl/fhir/NamingSystem/bsn", "bsn"},
               {"urn:oid:2.16.840.1.113883.2.4.6.3", "bsn"},
               {"http://fhir.nl/fhir/NamingSystem/agb-z", "agb"},
               {"http://fhir.nl/fhir/NamingSystem/uzi-nr-pers", "uzi"}};

/* Names already used in one array, to number their repeats. */
#define MAX_NAMES 32
typedef struct names {
    char name[MAX_NAMES][104];
    int count[MAX_NAMES];
    int n;
} names;

/* The element's name within its array: a known identifier system's alias
 * or the last URL segment of an extension ('.', '[' and ']' made '_' so
 * the path stays parseable); "" when it has none. */
static void alias_of(const char *key, const zv_json *el, char *out, size_t outlen)
{
    out[0] = '\0';
    if (strcmp(key, "identifier") == 0) {
        const char *sys = zv_json_str(zv_json_get(el, "system"), NULL);
        for (size_t k = 0; sys && k < sizeof(systems) / sizeof(systems[0]); k++)
            if (strcmp(sys, systems[k].system) == 0) {
                snprintf(out, outlen, "%s", systems[k].alias);
                return;
            }
    }
    if (strcmp(key, "extension") == 0 || strcmp(key, "modifierExtension") == 0) {
        const char *url = zv_json_str(zv_json_get(el, "url"), NULL);
        const char *last = url ? strrchr(url, '/') : NULL;
        last = last ? last + 1 : url;
        if (last && last[0]) snprintf(out, outlen, "%.100s", last);
        for (char *c = out; *c; c++)
            if (*c == '.' || *c == '[' || *c == ']') *c = '_';
    }
}

/* The "[...]" selector of array element i, "" for the first plain one. */
static void selector(const char *key, const zv_json *el, size_t i, names *used, char *out,
                     size_t outlen)
{
    char alias[104];
    out[0] = '\0';
    alias_of(key, el, alias, sizeof(alias));
    if (!alias[0]) {
        if (i) snprintf(out, outlen, "[%zu]", i);
        return;
    }
    int k = 0;
    while (k < used->n && strcmp(used->name[k], alias) != 0)
        k++;
    if (k == used->n && used->n < MAX_NAMES) {
        snprintf(used->name[used->n], sizeof(used->name[0]), "%s", alias);
        used->count[used->n++] = 0;
    }
    if (k == MAX_NAMES) { /* too many different names: position only */
        snprintf(out, outlen, "[%s][i%zu]", alias, i);
        return;
    }
    int rep = used->count[k]++;
    if (rep)
        snprintf(out, outlen, "[%s][%d]", alias, rep);
    else
        snprintf(out, outlen, "[%s]", alias);
}

/* Choice elements [x] of Patient, EpisodeOfCare and what they contain:
 * "deceasedDateTime" -> "deceased". */
static size_t choice_base(const char *key)
{
    static const char *const bases[] = {"deceased",  "multipleBirth", "onset",
                                        "abatement", "effective",     "occurrence",
                                        "performed", "value",         NULL};
    for (int i = 0; bases[i]; i++) {
        size_t n = strlen(bases[i]);
        if (strncmp(key, bases[i], n) == 0 && key[n] >= 'A' && key[n] <= 'Z') return n;
    }
    return 0;
}

static void walk(fh_flat *f, const zv_json *v, char *path, size_t plen, size_t cap, int in_ext);

static void member(fh_flat *f, const char *key, const zv_json *v, char *path, size_t plen,
                   size_t cap, int in_ext)
{
    /* "_family" holds family's extensions: same path as "family". */
    if (key[0] == '_') key++;
    /* Inside an extension, valueString / valueCode / ... is ".value". */
    if (in_ext && strncmp(key, "value", 5) == 0 && key[5] >= 'A' && key[5] <= 'Z') key = "value";
    if (in_ext && strcmp(key, "url") == 0) return;
    /* A narrative: XHTML repeating the resource (BSN included). */
    if (strcmp(key, "text") == 0 && zv_json_type_of(v) == ZV_JSON_OBJECT) return;
    size_t base = in_ext ? 0 : choice_base(key);
    if (base) { /* under the plain name as well as the typed one */
        char plain[64];
        snprintf(plain, sizeof(plain), "%.*s", (int)(base < 63 ? base : 63), key);
        int m = snprintf(path + plen, cap - plen, ".%s", plain);
        if (m > 0 && (size_t)m < cap - plen) walk(f, v, path, plen + (size_t)m, cap, 0);
        path[plen] = '\0';
    }
    size_t o = plen;
    int n = snprintf(path + o, cap - o, ".%s", key);
    if (n < 0 || (size_t)n >= cap - o) return;
    o += (size_t)n;
    int ext = strcmp(key, "extension") == 0 || strcmp(key, "modifierExtension") == 0;
    if (zv_json_type_of(v) == ZV_JSON_ARRAY) {
        /* Only identifiers and extensions have names to number; on the
         * heap, as resources nest deeply. */
        names *used = NULL;
        if (ext || strcmp(key, "identifier") == 0) {
            if (!(used = malloc(sizeof(*used)))) {
                f->buf.oom = 1;
                return;
            }
            used->n = 0;
        }
        for (size_t i = 0; i < zv_json_len(v); i++) {
            char sel[160];
            const zv_json *el = zv_json_at(v, i);
            selector(key, el, i, used, sel, sizeof(sel));
            size_t sl = strlen(sel);
            if (o + sl + 1 >= cap) continue;
            memcpy(path + o, sel, sl + 1);
            walk(f, el, path, o + sl, cap, ext);
        }
        free(used);
        path[o] = '\0';
        return;
    }
    walk(f, v, path, o, cap, ext);
}

static void walk(fh_flat *f, const zv_json *v, char *path, size_t plen, size_t cap, int in_ext)
{
    path[plen] = '\0';
    switch (zv_json_type_of(v)) {
    case ZV_JSON_OBJECT:
        for (size_t i = 0; i < zv_json_len(v); i++) {
            /* resourceType too: a contained resource says what it is. */
            member(f, zv_json_key_at(v, i), zv_json_at(v, i), path, plen, cap, in_ext);
        }
        break;
    case ZV_JSON_STRING: {
        size_t len;
        const char *s = zv_json_str(v, &len);
        add(f, path, plen, s, len);
        break;
    }
    case ZV_JSON_NUMBER: {
        const char *s = zv_json_number_text(v);
        add(f, path, plen, s, strlen(s));
        break;
    }
    case ZV_JSON_BOOL: {
        int b = 0;
        zv_json_bool(v, &b);
        add(f, path, plen, b ? "true" : "false", b ? 4 : 5);
        break;
    }
    default:
        break; /* null; arrays only occur as members */
    }
    path[plen] = '\0';
}

int fh_flatten(fh_flat *f, const zv_json *resource, const char *root)
{
    char path[1024];
    const char *rt = root ? root : zv_json_str(zv_json_get(resource, "resourceType"), NULL);
    if (!rt || zv_json_type_of(resource) != ZV_JSON_OBJECT) return -1;
    int n = snprintf(path, sizeof(path), "%s", rt);
    if (n <= 0 || (size_t)n >= sizeof(path)) return -1;
    for (size_t i = 0; i < zv_json_len(resource); i++) {
        const char *k = zv_json_key_at(resource, i);
        if (strcmp(k, "resourceType") == 0) continue;
        member(f, k, zv_json_at(resource, i), path, (size_t)n, sizeof(path), 0);
    }
    return f->buf.oom ? -1 : 0;
}

int fh_flat_finish(fh_flat *f)
{
    if (f->n > f->cap) {
        zv_item_field *nf = realloc(f->fields, f->n * sizeof(*nf));
        if (!nf) return -1;
        f->fields = nf;
        f->cap = f->n;
    }
    size_t o = 0;
    for (size_t i = 0; i < f->n; i++) {
        const char *p = f->buf.data + o;
        o += strlen(p) + 1;
        const char *v = f->buf.data + o;
        size_t vl = strlen(v);
        o += vl + 1;
        f->fields[i] = (zv_item_field){p, v, vl};
    }
    return 0;
}
