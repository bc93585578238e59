/* Raw items <-> JSON, the form they are kept in quarantine for a retry. */
#include "mapping.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/utf8.h>

char *zv_item_to_json(const zv_item *item)
{
    zv_jw *w = zv_jw_new(0);
    if (!w) return NULL;
    zv_jw_obj_open(w);
    zv_jw_key(w, "type");
    item->type ? zv_jw_str(w, item->type) : zv_jw_null(w);
    zv_jw_key(w, "record_id");
    item->record_id ? zv_jw_str(w, item->record_id) : zv_jw_null(w);
    /* An array of pairs, not an object: paths may repeat and order matters. */
    zv_jw_key(w, "fields");
    zv_jw_arr_open(w);
    for (size_t i = 0; i < item->nfields; i++) {
        if (!item->fields[i].path || !item->fields[i].value) continue;
        zv_jw_arr_open(w);
        zv_jw_str(w, item->fields[i].path);
        zv_jw_strn(w, item->fields[i].value, item->fields[i].len);
        zv_jw_arr_close(w);
    }
    zv_jw_arr_close(w);
    zv_jw_obj_close(w);
    const char *buf;
    size_t len;
    char *out = NULL;
    if (zv_jw_result(w, &buf, &len) == 0 && (out = malloc(len + 1))) {
        memcpy(out, buf, len);
        out[len] = '\0';
    }
    zv_jw_free(w);
    return out;
}

/* Everything of a parsed item in one allocation. */
typedef struct parsed {
    zv_item item;
    zv_item_field fields[];
} parsed;

static char *copy(char **pool, const char *s, size_t len)
{
    char *p = *pool;
    memcpy(p, s, len);
    p[len] = '\0';
    *pool += len + 1;
    return p;
}

zv_item *zv_item_from_json(const char *json, size_t len)
{
    char err[128];
    zv_json_doc *doc = zv_json_parse(json, len, 0, err, sizeof(err));
    const zv_json *r = zv_json_root(doc), *fields = zv_json_get(r, "fields");
    if (!doc || zv_json_type_of(fields) != ZV_JSON_ARRAY) {
        zv_json_free(doc);
        return NULL;
    }
    size_t n = zv_json_len(fields), bytes = 0, sl;
    for (size_t i = 0; i < n; i++) {
        const zv_json *pair = zv_json_at(fields, i);
        const char *p = zv_json_str(zv_json_at(pair, 0), &sl);
        const char *v = p ? zv_json_str(zv_json_at(pair, 1), NULL) : NULL;
        if (zv_json_type_of(pair) != ZV_JSON_ARRAY || zv_json_len(pair) != 2 || !v) {
            zv_json_free(doc);
            return NULL;
        }
        bytes += sl + 1;
        zv_json_str(zv_json_at(pair, 1), &sl);
        bytes += sl + 1;
    }
    const char *type = zv_json_str(zv_json_get(r, "type"), NULL);
    const char *rid = zv_json_str(zv_json_get(r, "record_id"), NULL);
    bytes += (type ? strlen(type) + 1 : 0) + (rid ? strlen(rid) + 1 : 0);
    parsed *pi = malloc(sizeof(*pi) + n * sizeof(zv_item_field) + bytes);
    if (!pi) {
        zv_json_free(doc);
        return NULL;
    }
    char *pool = (char *)(pi->fields + n);
    pi->item.type = type ? copy(&pool, type, strlen(type)) : NULL;
    pi->item.record_id = rid ? copy(&pool, rid, strlen(rid)) : NULL;
    for (size_t i = 0; i < n; i++) {
        const zv_json *pair = zv_json_at(fields, i);
        const char *p = zv_json_str(zv_json_at(pair, 0), &sl);
        pi->fields[i].path = copy(&pool, p, sl);
        const char *v = zv_json_str(zv_json_at(pair, 1), &sl);
        pi->fields[i].value = copy(&pool, v, sl);
        pi->fields[i].len = sl;
    }
    pi->item.size = sizeof(pi->item);
    pi->item.fields = pi->fields;
    pi->item.nfields = n;
    pi->item.field_size = sizeof(pi->fields[0]);
    zv_json_free(doc);
    return &pi->item;
}

void zv_item_free_parsed(zv_item *item)
{
    free(item); /* item is the first member */
}

/* ---- strict UTF-8 at the entrance ---- */

static int text_ok(const char *s, size_t len)
{
    return !s || zv_utf8_valid(s, len, NULL);
}

/* s with every byte that is not part of a UTF-8 character as "\xNN";
 * returns the length written (out may be NULL to measure). */
static size_t spelled(const char *s, size_t len, char *out)
{
    size_t o = 0, i = 0, bad;
    while (i < len) {
        size_t good = zv_utf8_valid(s + i, len - i, &bad) ? len - i : bad;
        if (out) memcpy(out + o, s + i, good);
        o += good, i += good;
        if (i < len) {
            if (out) snprintf(out + o, 5, "\\x%02X", (unsigned char)s[i]);
            o += 4, i++;
        }
    }
    return o;
}

static const char *spell_into(char **pool, const char *s, size_t len, size_t *outlen)
{
    if (!s) return NULL;
    char *p = *pool;
    size_t n = spelled(s, len, p);
    p[n] = '\0';
    *pool += n + 1;
    if (outlen) *outlen = n;
    return p;
}

static void first_problem(const zv_item *item, char *why, size_t whylen)
{
    size_t bad = 0;
    zv_utf8_err e;
    if (item->type && (e = zv_utf8_check(item->type, strlen(item->type), &bad))) {
        snprintf(why, whylen, "item type is not valid UTF-8 at byte %zu (%s)", bad,
                 zv_utf8_strerror(e));
        return;
    }
    if (item->record_id && (e = zv_utf8_check(item->record_id, strlen(item->record_id), &bad))) {
        snprintf(why, whylen, "record id is not valid UTF-8 at byte %zu (%s)", bad,
                 zv_utf8_strerror(e));
        return;
    }
    for (size_t i = 0; i < item->nfields; i++) {
        const zv_item_field *f = &item->fields[i];
        if (!f->path || !f->value) continue;
        size_t pl = strlen(f->path);
        char shown[160];
        size_t n = spelled(f->path, pl > 100 ? 100 : pl, NULL);
        if (n < sizeof(shown))
            spelled(f->path, pl > 100 ? 100 : pl, shown), shown[n] = '\0';
        else
            snprintf(shown, sizeof(shown), "#%zu", i + 1);
        if ((e = zv_utf8_check(f->path, pl, &bad))) {
            snprintf(why, whylen, "field name '%s' is not valid UTF-8 at byte %zu (%s)", shown, bad,
                     zv_utf8_strerror(e));
            return;
        }
        if ((e = zv_utf8_check(f->value, f->len, &bad))) {
            snprintf(why, whylen, "value of field '%s' is not valid UTF-8 at byte %zu (%s)", shown,
                     bad, zv_utf8_strerror(e));
            return;
        }
    }
    snprintf(why, whylen, "not valid UTF-8");
}

int zv_item_text_check(const zv_item *item, zv_item **fixed)
{
    *fixed = NULL;
    int ok = text_ok(item->type, item->type ? strlen(item->type) : 0) &&
             text_ok(item->record_id, item->record_id ? strlen(item->record_id) : 0);
    for (size_t i = 0; ok && i < item->nfields; i++) {
        const zv_item_field *f = &item->fields[i];
        if (!f->path || !f->value) continue;
        ok = text_ok(f->path, strlen(f->path)) && text_ok(f->value, f->len);
    }
    if (ok) return 0;

    char why[400];
    first_problem(item, why, sizeof(why));
    size_t n = 1, bytes = sizeof(ZV_ITEM_ERROR) + strlen(why) + 1;
    if (item->type) bytes += spelled(item->type, strlen(item->type), NULL) + 1;
    if (item->record_id) bytes += spelled(item->record_id, strlen(item->record_id), NULL) + 1;
    for (size_t i = 0; i < item->nfields; i++) {
        const zv_item_field *f = &item->fields[i];
        if (!f->path || !f->value) continue;
        bytes += spelled(f->path, strlen(f->path), NULL) + spelled(f->value, f->len, NULL) + 2;
        n++;
    }
    parsed *pi = malloc(sizeof(*pi) + n * sizeof(zv_item_field) + bytes);
    if (!pi) return -1;
    char *pool = (char *)(pi->fields + n);
    pi->item.type = spell_into(&pool, item->type, item->type ? strlen(item->type) : 0, NULL);
    pi->item.record_id =
        spell_into(&pool, item->record_id, item->record_id ? strlen(item->record_id) : 0, NULL);
    /* The reason first: the mapping stops at the first ZV_ITEM_ERROR. */
    pi->fields[0].path = copy(&pool, ZV_ITEM_ERROR, strlen(ZV_ITEM_ERROR));
    pi->fields[0].value = copy(&pool, why, strlen(why));
    pi->fields[0].len = strlen(why);
    size_t k = 1;
    for (size_t i = 0; i < item->nfields; i++) {
        const zv_item_field *f = &item->fields[i];
        if (!f->path || !f->value) continue;
        pi->fields[k].path = spell_into(&pool, f->path, strlen(f->path), NULL);
        pi->fields[k].value = spell_into(&pool, f->value, f->len, &pi->fields[k].len);
        k++;
    }
    pi->item.size = sizeof(pi->item);
    pi->item.fields = pi->fields;
    pi->item.nfields = n;
    pi->item.field_size = sizeof(pi->fields[0]);
    *fixed = &pi->item;
    return 1;
}
