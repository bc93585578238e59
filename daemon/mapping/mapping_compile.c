/*
 * Mapping config -> compiled mapping.  The config form (documented in
 * daemon/mapping/README.md):
 *
 *   {"record_id": "/id" | ["/client_id", "/delivery_id"],
 *    "records": [ {"when": {"type": "Patient", "field": "/soort", "in": ["x"]},
 *                  "kind": "delivery",
 *                  "required": ["delivery.leveringsvorm"],
 *                  "fields": {"client.bsn": "/bsn",
 *                             "client.sex": {"from": "geslacht", "convert": ["trim", "upper"],
 *                                            "map": {"M": "1"}, "map_default": "0",
 *                                            "default": "0"},
 *                             "client.birth_date": {"from": "gebdat",
 *                                                   "date_format": ["%d-%m-%Y", "%Y-%m-%d"]},
 *                             "entitlement.law": {"value": "wlz"}}} ]}
 *
 * Every problem is reported (not only the first) so --check-config shows
 * them all at once.
 */
#include "mapping_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t zv_map_hash(const char *s, size_t len)
{
    /* Runs once per item field: the length and the last eight bytes tell
     * source paths apart well enough ("/client/bsn", "/levering/start"). */
    uint64_t h = (uint64_t)len * 0x9E3779B97F4A7C15ull;
    if (len >= 8) {
        uint64_t a, b;
        memcpy(&a, s + len - 8, 8);
        memcpy(&b, s, 8);
        h ^= a * 0xC2B2AE3D27D4EB4Full;
        h ^= (b + (h >> 29)) * 0x165667B19E3779F9ull;
    } else {
        for (size_t i = 0; i < len; i++)
            h = (h ^ (unsigned char)s[i]) * 0x100000001B3ull;
    }
    h ^= h >> 32;
    return (uint32_t)h;
}

int zv_map_path_find(const zv_mapping *m, const char *s, size_t len)
{
    if (!m->hashcap) return -1;
    size_t mask = m->hashcap - 1;
    for (size_t i = zv_map_hash(s, len) & mask;; i = (i + 1) & mask) {
        uint32_t v = m->hash[i];
        if (!v) return -1;
        if (m->plens[v - 1] == len && memcmp(m->paths[v - 1], s, len) == 0) return (int)v - 1;
    }
}

static int rehash(zv_mapping *m, size_t cap)
{
    uint32_t *h = calloc(cap, sizeof(*h));
    if (!h) return -1;
    for (size_t k = 0; k < m->npaths; k++) {
        size_t i = zv_map_hash(m->paths[k], strlen(m->paths[k])) & (cap - 1);
        while (h[i])
            i = (i + 1) & (cap - 1);
        h[i] = (uint32_t)k + 1;
    }
    free(m->hash);
    m->hash = h;
    m->hashcap = cap;
    return 0;
}

static int path_intern(zv_mapping *m, const char *s)
{
    int k = zv_map_path_find(m, s, strlen(s));
    if (k >= 0) return k;
    if (m->npaths == m->pathcap) {
        size_t cap = m->pathcap ? m->pathcap * 2 : 16;
        char **p = realloc(m->paths, cap * sizeof(*p));
        if (p) m->paths = p;
        size_t *l = p ? realloc(m->plens, cap * sizeof(*l)) : NULL;
        if (!l) return -1;
        m->plens = l;
        m->pathcap = cap;
    }
    if (!(m->paths[m->npaths] = strdup(s))) return -1;
    m->plens[m->npaths] = strlen(s);
    m->npaths++;
    /* Keep the table at most half full; rehash() inserts every path. */
    size_t cap = m->hashcap ? m->hashcap : 32;
    while (m->npaths * 2 > cap)
        cap *= 2;
    if (rehash(m, cap) < 0) {
        free(m->paths[--m->npaths]);
        return -1;
    }
    return (int)m->npaths - 1;
}

struct cc {
    zv_mapping *m;
    const char *file;
    zv_errors *errs;
    int bad;
    int on_error_drop; /* the mapping's "on_error" */
};

static void err(struct cc *c, const char *path, const char *fmt, const char *a)
{
    zv_errors_add(c->errs, c->file, path, fmt, a ? a : "");
    c->bad = 1;
}

static const char *str_of(struct cc *c, const zv_json *v, const char *path, const char *what)
{
    const char *s = zv_json_str(v, NULL);
    if (!s) err(c, path, "%s must be a string", what);
    return s;
}

static const struct {
    const char *name;
    int conv;
} convs[] = {
    {"trim", ZV_CONV_TRIM},     {"upper", ZV_CONV_UPPER},       {"lower", ZV_CONV_LOWER},
    {"digits", ZV_CONV_DIGITS}, {"collapse", ZV_CONV_COLLAPSE}, {"nospace", ZV_CONV_NOSPACE},
    {"euro", ZV_CONV_EURO},     {"letters", ZV_CONV_LETTERS},   {"initials", ZV_CONV_INITIALS}};

static void compile_convert(struct cc *c, zv_field_rule *fr, const zv_json *v, const char *path)
{
    if (zv_json_type_of(v) != ZV_JSON_ARRAY) {
        err(c, path, "must be an array of converter names%s", NULL);
        return;
    }
    for (size_t i = 0; i < zv_json_len(v); i++) {
        char p[256];
        zv_path_index(p, sizeof(p), path, i);
        const char *s = str_of(c, zv_json_at(v, i), p, "a converter");
        if (!s) continue;
        size_t k = 0;
        while (k < sizeof(convs) / sizeof(convs[0]) && strcmp(convs[k].name, s) != 0)
            k++;
        if (k == sizeof(convs) / sizeof(convs[0]))
            err(c, p,
                "unknown converter '%s' (trim, upper, lower, digits, collapse, nospace, "
                "euro, letters, initials)",
                s);
        else if (fr->nconv == ZV_MAP_MAX_CONV)
            err(c, p, "too many converters%s", NULL);
        else
            fr->conv[fr->nconv++] = (unsigned char)convs[k].conv;
    }
}

static void compile_map(struct cc *c, zv_field_rule *fr, const zv_json *v, const char *path)
{
    if (zv_json_type_of(v) != ZV_JSON_OBJECT) {
        err(c, path, "must be an object of source value -> model code%s", NULL);
        return;
    }
    fr->map = calloc(zv_json_len(v) + 1, sizeof(*fr->map));
    for (size_t i = 0; fr->map && i < zv_json_len(v); i++) {
        char p[256];
        zv_path_key(p, sizeof(p), path, zv_json_key_at(v, i));
        const char *to = str_of(c, zv_json_at(v, i), p, "a mapped code");
        if (!to) continue;
        fr->map[fr->nmap].from = strdup(zv_json_key_at(v, i));
        fr->map[fr->nmap].to = strdup(to);
        fr->nmap++;
    }
}

static void compile_formats(struct cc *c, zv_field_rule *fr, const zv_json *v, const char *path)
{
    size_t n = zv_json_type_of(v) == ZV_JSON_ARRAY ? zv_json_len(v) : 1;
    for (size_t i = 0; i < n; i++) {
        const zv_json *f = zv_json_type_of(v) == ZV_JSON_ARRAY ? zv_json_at(v, i) : v;
        char p[256];
        zv_path_index(p, sizeof(p), path, i);
        const char *s =
            str_of(c, f, zv_json_type_of(v) == ZV_JSON_ARRAY ? p : path, "a date format");
        if (!s) continue;
        char out[11];
        /* A format must at least name day, month and year. */
        if (!strstr(s, "%d") || !strstr(s, "%m") || !strstr(s, "%Y"))
            err(c, path, "date format '%s' must contain %%d, %%m and %%Y", s);
        else if (fr->nformats == ZV_MAP_MAX_FORMATS)
            err(c, path, "at most 4 date formats%s", NULL);
        else
            fr->formats[fr->nformats++] = strdup(s);
        (void)out;
    }
}

static const char *const field_keys[] = {"from",        "value",   "convert",     "map",
                                         "map_default", "default", "date_format", "not_future",
                                         "join",        "country", "on_error",    NULL};

static int sel_intern(struct cc *c, zv_selector *sel)
{
    zv_mapping *m = c->m;
    if (m->nsels == m->selcap) {
        size_t cap = m->selcap ? m->selcap * 2 : 8;
        zv_selector *n = realloc(m->sels, cap * sizeof(*n));
        if (!n) {
            zv_sel_free(sel);
            return -1;
        }
        m->sels = n;
        m->selcap = cap;
    }
    m->sels[m->nsels] = *sel;
    return (int)m->nsels++;
}

/* One source path: literal (through the path hash) or a selector; with
 * "join" every path is evaluated as a selector so repeats are collected. */
static int compile_ref(struct cc *c, const char *s, int join, zv_src_ref *ref, const char *path)
{
    zv_selector sel;
    char why[160];
    ref->path = ref->sel = -1;
    int rc = zv_sel_compile(s, &sel, why, sizeof(why));
    if (rc < 0) {
        char msg[300];
        snprintf(msg, sizeof(msg), "bad selector in '%.100s': %s", s, why);
        err(c, path, "%s", msg);
        return -1;
    }
    if (rc == 0 && !join) {
        ref->path = path_intern(c->m, s);
        return ref->path < 0 ? -1 : 0;
    }
    if (rc == 0 && zv_sel_literal(s, &sel) < 0) return -1;
    ref->sel = sel_intern(c, &sel);
    return ref->sel < 0 ? -1 : 0;
}

/* "from" / "country": one path or an array of alternatives (first
 * non-empty wins). */
static int compile_refs(struct cc *c, const zv_json *v, int join, zv_src_ref *refs,
                        const char *path)
{
    int arr = zv_json_type_of(v) == ZV_JSON_ARRAY;
    size_t n = arr ? zv_json_len(v) : 1;
    if (n == 0 || n > ZV_MAP_MAX_ALTS) {
        err(c, path, "must be a source path or an array of 1 to 4 alternatives%s", NULL);
        return 0;
    }
    int got = 0;
    for (size_t i = 0; i < n; i++) {
        char p[256];
        zv_path_index(p, sizeof(p), path, i);
        const char *s = str_of(c, arr ? zv_json_at(v, i) : v, arr ? p : path, "a source path");
        if (s && compile_ref(c, s, join, &refs[got], arr ? p : path) == 0) got++;
    }
    return got;
}

static void compile_from(struct cc *c, zv_field_rule *fr, const zv_json *v, const char *path)
{
    fr->nalts = compile_refs(c, v, fr->join != NULL, fr->alts, path);
    /* One literal path: the hot path reads it straight from its slot. */
    if (fr->nalts == 1 && fr->alts[0].path >= 0) {
        fr->src = fr->alts[0].path;
        fr->nalts = 0;
    }
}

static int compile_on_error(struct cc *c, const zv_json *v, const char *path)
{
    const char *s = str_of(c, v, path, "\"on_error\"");
    if (s && strcmp(s, "drop") && strcmp(s, "quarantine"))
        err(c, path, "must be \"quarantine\" or \"drop\", not '%s'", s);
    return s && strcmp(s, "drop") == 0;
}

static void compile_field(struct cc *c, zv_record_rule *rr, const char *name, const zv_json *v,
                          const char *path)
{
    int id = zv_field_by_name(name);
    if (id < 0) {
        err(c, path, "unknown model field '%s'", name);
        return;
    }
    const zv_field_def *def = zv_field_def_of(id);
    zv_field_rule *fr = &rr->fields[rr->nfields];
    memset(fr, 0, sizeof(*fr));
    fr->field = id;
    fr->src = -1;
    fr->not_future = id == ZV_F_CLIENT_BIRTH_DATE;
    fr->on_error_drop = c->on_error_drop;
    if (zv_json_type_of(v) == ZV_JSON_STRING) {
        compile_from(c, fr, v, path);
        rr->nfields++;
        return;
    }
    if (zv_json_type_of(v) != ZV_JSON_OBJECT) {
        err(c, path, "must be a source path string or an object with \"from\" or \"value\"%s",
            NULL);
        return;
    }
    for (size_t i = 0; i < zv_json_len(v); i++) {
        const char *k = zv_json_key_at(v, i);
        size_t j = 0;
        while (field_keys[j] && strcmp(field_keys[j], k) != 0)
            j++;
        char p[256];
        zv_path_key(p, sizeof(p), path, k);
        if (!field_keys[j]) err(c, p, "unknown key '%s'", k);
    }
    const zv_json *from = zv_json_get(v, "from"), *val = zv_json_get(v, "value");
    char p[256];
    if ((from != NULL) == (val != NULL))
        err(c, path, "needs exactly one of \"from\" (source path) or \"value\" (constant)%s", NULL);
    const char *s;
    if (zv_json_get(v, "join")) {
        zv_path_key(p, sizeof(p), path, "join");
        s = str_of(c, zv_json_get(v, "join"), p, "\"join\" (the separator)");
        if (s) fr->join = strdup(s);
        if (!from) err(c, p, "only makes sense with \"from\"%s", NULL);
    }
    if (zv_json_get(v, "on_error")) {
        zv_path_key(p, sizeof(p), path, "on_error");
        fr->on_error_drop = compile_on_error(c, zv_json_get(v, "on_error"), p);
    }
    if (zv_json_get(v, "country")) {
        zv_path_key(p, sizeof(p), path, "country");
        if (def->type != ZV_T_POSTCODE)
            err(c, p, "only for postcode fields (%s is not a postcode)", name);
        fr->ncountry = compile_refs(c, zv_json_get(v, "country"), 0, fr->country, p);
    }
    zv_path_key(p, sizeof(p), path, "from");
    if (from) compile_from(c, fr, from, p);
    zv_path_key(p, sizeof(p), path, "value");
    s = val ? str_of(c, val, p, "\"value\"") : NULL;
    if (s) fr->constant = strdup(s);
    if (zv_json_get(v, "convert")) {
        zv_path_key(p, sizeof(p), path, "convert");
        compile_convert(c, fr, zv_json_get(v, "convert"), p);
    }
    if (zv_json_get(v, "map")) {
        zv_path_key(p, sizeof(p), path, "map");
        compile_map(c, fr, zv_json_get(v, "map"), p);
    }
    if (zv_json_get(v, "map_default")) {
        zv_path_key(p, sizeof(p), path, "map_default");
        s = str_of(c, zv_json_get(v, "map_default"), p, "\"map_default\"");
        if (s) fr->map_other = strdup(s);
        if (!zv_json_get(v, "map")) err(c, p, "only makes sense next to \"map\"%s", NULL);
    }
    if (zv_json_get(v, "default")) {
        zv_path_key(p, sizeof(p), path, "default");
        s = str_of(c, zv_json_get(v, "default"), p, "\"default\"");
        if (s) fr->deflt = strdup(s);
    }
    if (zv_json_get(v, "date_format")) {
        zv_path_key(p, sizeof(p), path, "date_format");
        if (def->type != ZV_T_DATE)
            err(c, p, "only for date fields (%s is not a date)", name);
        else
            compile_formats(c, fr, zv_json_get(v, "date_format"), p);
    }
    if (zv_json_get(v, "not_future")) {
        zv_path_key(p, sizeof(p), path, "not_future");
        if (zv_json_bool(zv_json_get(v, "not_future"), &fr->not_future) < 0)
            err(c, p, "must be true or false%s", NULL);
        else if (def->type != ZV_T_DATE)
            err(c, p, "only for date fields (%s is not a date)", name);
    }
    size_t lens[3] = {fr->constant ? strlen(fr->constant) : 0, fr->deflt ? strlen(fr->deflt) : 0,
                      fr->map_other ? strlen(fr->map_other) : 0};
    for (int i = 0; i < 3; i++)
        if (lens[i] > fr->maxlit) fr->maxlit = lens[i];
    for (size_t i = 0; i < fr->nmap; i++)
        if (fr->map[i].to && strlen(fr->map[i].to) > fr->maxlit) fr->maxlit = strlen(fr->map[i].to);
    rr->nfields++;
}

/* Fields a record of each kind cannot do without: every message identifies
 * the client by BSN; routing needs the law and the funder; a delivery needs
 * its start and a declaration its period. */
static const int required_by_kind[ZV_KIND_COUNT][5] = {
    [ZV_KIND_CLIENT] = {ZV_F_CLIENT_BSN, -1},
    [ZV_KIND_ENTITLEMENT] = {ZV_F_CLIENT_BSN, ZV_F_ENT_LAW, ZV_F_ENT_FUNDER, -1},
    /* No delivery.start: a Wlz delivery that has not begun (Mutatiecode 12,
     * 18, 21) has none; the format's catalogue demands it where it must be. */
    [ZV_KIND_DELIVERY] = {ZV_F_CLIENT_BSN, ZV_F_ENT_LAW, ZV_F_ENT_FUNDER, -1},
    [ZV_KIND_DECLARATION] = {ZV_F_CLIENT_BSN, ZV_F_ENT_LAW, ZV_F_ENT_FUNDER, ZV_F_DECL_PERIOD_START,
                             -1},
};

static void compile_when(struct cc *c, zv_record_rule *rr, const zv_json *w, const char *path)
{
    char p[256];
    if (zv_json_type_of(w) != ZV_JSON_OBJECT) {
        err(c, path, "must be an object with \"type\" and/or \"field\"%s", NULL);
        return;
    }
    for (size_t i = 0; i < zv_json_len(w); i++) {
        const char *k = zv_json_key_at(w, i);
        zv_path_key(p, sizeof(p), path, k);
        if (strcmp(k, "type") && strcmp(k, "field") && strcmp(k, "in") && strcmp(k, "equals") &&
            strcmp(k, "present"))
            err(c, p, "unknown key '%s' (type, field, in, equals, present)", k);
    }
    zv_path_key(p, sizeof(p), path, "type");
    const char *s;
    if (zv_json_get(w, "type") && (s = str_of(c, zv_json_get(w, "type"), p, "\"type\"")))
        rr->when_type = strdup(s);
    zv_path_key(p, sizeof(p), path, "field");
    const zv_json *f = zv_json_get(w, "field");
    const zv_json *in = zv_json_get(w, "in"), *eq = zv_json_get(w, "equals");
    const zv_json *pr = zv_json_get(w, "present");
    if (!f) {
        if (in || eq || pr)
            err(c, path, "\"in\", \"equals\" and \"present\" need \"field\"%s", NULL);
        return;
    }
    if ((s = str_of(c, f, p, "\"field\""))) rr->when_src = path_intern(c->m, s);
    if (!!in + !!eq + !!pr != 1) {
        err(c, path, "\"field\" needs exactly one of \"in\", \"equals\" or \"present\"%s", NULL);
        return;
    }
    if (pr) {
        zv_path_key(p, sizeof(p), path, "present");
        if (zv_json_bool(pr, &rr->when_present) < 0 || !rr->when_present)
            err(c, p, "must be true%s", NULL);
        return;
    }
    size_t n = eq ? 1 : zv_json_len(in);
    if (in && zv_json_type_of(in) != ZV_JSON_ARRAY) {
        zv_path_key(p, sizeof(p), path, "in");
        err(c, p, "must be an array of strings%s", NULL);
        return;
    }
    rr->when_in = calloc(n + 1, sizeof(char *));
    for (size_t i = 0; rr->when_in && i < n; i++) {
        zv_path_key(p, sizeof(p), path, eq ? "equals" : "in");
        if ((s = str_of(c, eq ? eq : zv_json_at(in, i), p, "a value")))
            rr->when_in[rr->nwhen_in++] = strdup(s);
    }
}

static void compile_rule(struct cc *c, zv_record_rule *rr, const zv_json *r, const char *path)
{
    char p[256];
    memset(rr, 0, sizeof(*rr));
    rr->when_src = -1;
    if (zv_json_type_of(r) != ZV_JSON_OBJECT) {
        err(c, path, "must be an object with \"kind\" and \"fields\"%s", NULL);
        return;
    }
    for (size_t i = 0; i < zv_json_len(r); i++) {
        const char *k = zv_json_key_at(r, i);
        zv_path_key(p, sizeof(p), path, k);
        if (strcmp(k, "when") && strcmp(k, "kind") && strcmp(k, "fields") && strcmp(k, "required"))
            err(c, p, "unknown key '%s' (when, kind, fields, required)", k);
    }
    zv_path_key(p, sizeof(p), path, "kind");
    const char *kind =
        zv_json_get(r, "kind") ? str_of(c, zv_json_get(r, "kind"), p, "\"kind\"") : NULL;
    int k = kind ? zv_kind_by_name(kind) : -1;
    if (!zv_json_get(r, "kind"))
        err(c, p, "missing (client, entitlement, delivery or declaration)%s", NULL);
    else if (kind && k < 0)
        err(c, p, "unknown kind '%s' (client, entitlement, delivery, declaration)", kind);
    rr->kind = k < 0 ? ZV_KIND_CLIENT : (zv_kind)k;
    if (zv_json_get(r, "when")) {
        zv_path_key(p, sizeof(p), path, "when");
        compile_when(c, rr, zv_json_get(r, "when"), p);
    }
    const zv_json *fields = zv_json_get(r, "fields");
    zv_path_key(p, sizeof(p), path, "fields");
    if (zv_json_type_of(fields) != ZV_JSON_OBJECT || zv_json_len(fields) == 0) {
        err(c, p, "must be a non-empty object of model field -> source%s", NULL);
        return;
    }
    rr->fields = calloc(zv_json_len(fields), sizeof(*rr->fields));
    for (size_t i = 0; rr->fields && i < zv_json_len(fields); i++) {
        char fp[256];
        zv_path_key(fp, sizeof(fp), p, zv_json_key_at(fields, i));
        compile_field(c, rr, zv_json_key_at(fields, i), zv_json_at(fields, i), fp);
    }
    for (size_t i = 0; i < rr->nfields; i++)
        c->m->fills[rr->fields[i].field] = 1;
    for (int i = 0; k >= 0 && required_by_kind[k][i] >= 0; i++)
        rr->required[required_by_kind[k][i]] = 1;
    const zv_json *req = zv_json_get(r, "required");
    char rp[256];
    zv_path_key(rp, sizeof(rp), path, "required");
    if (req && zv_json_type_of(req) != ZV_JSON_ARRAY) err(c, rp, "must be an array%s", NULL);
    for (size_t i = 0; req && i < zv_json_len(req); i++) {
        char ip[256];
        zv_path_index(ip, sizeof(ip), rp, i);
        const char *s = str_of(c, zv_json_at(req, i), ip, "a model field");
        int id = s ? zv_field_by_name(s) : -1;
        if (s && id < 0) err(c, ip, "unknown model field '%s'", s);
        if (id >= 0) rr->required[id] = 1;
    }
    for (int id = 0; id < ZV_FIELD_COUNT; id++) {
        int has = 0;
        for (size_t i = 0; i < rr->nfields; i++)
            has |= rr->fields[i].field == id;
        if (rr->required[id] && !has)
            err(c, p, "required field %s has no mapping", zv_field_def_of(id)->name);
    }
}

static void compile_record_id(struct cc *c, const zv_json *v, const char *path)
{
    size_t n = zv_json_type_of(v) == ZV_JSON_ARRAY ? zv_json_len(v) : 1;
    if (n == 0 || n > 4) {
        err(c, path, "must be a source path or an array of 1 to 4 paths%s", NULL);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const zv_json *e = zv_json_type_of(v) == ZV_JSON_ARRAY ? zv_json_at(v, i) : v;
        const char *s = str_of(c, e, path, "record_id");
        if (s) c->m->id_src[c->m->nid++] = path_intern(c->m, s);
    }
}

zv_mapping *zv_mapping_compile(const zv_json *spec, const char *source, const char *cfgfile,
                               const char *path, zv_errors *errs)
{
    struct cc c = {.m = calloc(1, sizeof(zv_mapping)), .file = cfgfile, .errs = errs};
    char p[256];
    if (!c.m) return NULL;
    c.m->source = strdup(source ? source : "");
    if (zv_json_type_of(spec) != ZV_JSON_OBJECT) {
        err(&c, path, "mapping must be an object with \"records\"%s", NULL);
        zv_mapping_free(c.m);
        return NULL;
    }
    for (size_t i = 0; i < zv_json_len(spec); i++) {
        const char *k = zv_json_key_at(spec, i);
        zv_path_key(p, sizeof(p), path, k);
        if (strcmp(k, "records") && strcmp(k, "record_id") && strcmp(k, "on_error"))
            err(&c, p, "unknown key '%s' (records, record_id, on_error)", k);
    }
    if (zv_json_get(spec, "on_error")) {
        zv_path_key(p, sizeof(p), path, "on_error");
        c.on_error_drop = compile_on_error(&c, zv_json_get(spec, "on_error"), p);
    }
    if (zv_json_get(spec, "record_id")) {
        zv_path_key(p, sizeof(p), path, "record_id");
        compile_record_id(&c, zv_json_get(spec, "record_id"), p);
    }
    const zv_json *recs = zv_json_get(spec, "records");
    zv_path_key(p, sizeof(p), path, "records");
    if (zv_json_type_of(recs) != ZV_JSON_ARRAY || zv_json_len(recs) == 0) {
        err(&c, p, "must be a non-empty array of record rules%s", NULL);
    } else {
        c.m->rules = calloc(zv_json_len(recs), sizeof(*c.m->rules));
        for (size_t i = 0; c.m->rules && i < zv_json_len(recs); i++) {
            char rp[256];
            zv_path_index(rp, sizeof(rp), p, i);
            compile_rule(&c, &c.m->rules[c.m->nrules++], zv_json_at(recs, i), rp);
        }
        if (!c.m->rules) err(&c, p, "out of memory%s", NULL);
    }
    if (c.bad) {
        zv_mapping_free(c.m);
        return NULL;
    }
    return c.m;
}

static void free_rule(zv_record_rule *rr)
{
    for (size_t i = 0; i < rr->nfields; i++) {
        zv_field_rule *f = &rr->fields[i];
        free(f->join);
        free(f->constant);
        free(f->deflt);
        free(f->map_other);
        for (size_t k = 0; k < f->nmap; k++) {
            free(f->map[k].from);
            free(f->map[k].to);
        }
        free(f->map);
        for (int k = 0; k < f->nformats; k++)
            free(f->formats[k]);
    }
    free(rr->fields);
    for (size_t i = 0; i < rr->nwhen_in; i++)
        free(rr->when_in[i]);
    free(rr->when_in);
    free(rr->when_type);
}

void zv_mapping_free(zv_mapping *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->nrules; i++)
        free_rule(&m->rules[i]);
    free(m->rules);
    for (size_t i = 0; i < m->nsels; i++)
        zv_sel_free(&m->sels[i]);
    free(m->sels);
    for (size_t i = 0; i < m->npaths; i++)
        free(m->paths[i]);
    free(m->paths);
    free(m->plens);
    free(m->hash);
    free(m->source);
    free(m);
}

size_t zv_mapping_fields(const zv_mapping *m, int *ids, size_t max)
{
    size_t n = 0;
    for (int id = 0; id < ZV_FIELD_COUNT && n < max; id++)
        if (m->fills[id]) ids[n++] = id;
    return n;
}
