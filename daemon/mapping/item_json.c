/* Raw items <-> JSON, the form they are kept in quarantine for a retry. */
#include "mapping.h"

#include <stdlib.h>
#include <string.h>

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
    pi->item.fields = pi->fields;
    pi->item.nfields = n;
    zv_json_free(doc);
    return &pi->item;
}

void zv_item_free_parsed(zv_item *item)
{
    free(item); /* item is the first member */
}
