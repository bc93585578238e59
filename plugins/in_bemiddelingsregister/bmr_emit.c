/*
 * Items for the mapping: each answered Bemiddelingspecificatie as its JSON
 * pointers ("/bemiddeling/client/bsn"), the record id from the release's
 * record_id pointer; a notification without an object (not found, refused)
 * as an item with ZV_ITEM_ERROR, so it lands in quarantine with the reason
 * instead of vanishing.
 */
#include "bmr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bmr_emit_fields(bmr *b, const char *type, const char *id, const zv_item_field *f, size_t n)
{
    zv_item it = {ZV_SIZED(zv_item), type, id, f, n, sizeof(zv_item_field)};
    return b->host->emit(b->ctx, &it);
}

int bmr_emit_problem(bmr *b, const char *id, const char *type, const char *reason)
{
    zv_item_field f[] = {{ZV_ITEM_ERROR, reason, strlen(reason)}, {b->record_ptr, id, strlen(id)}};
    return bmr_emit_fields(b, type, id, f, ZV_COUNT(f)) < 0 ? -1 : 0;
}

int bmr_emit_answer(bmr *b, const zv_json *obj, char *why, size_t whylen)
{
    const char *id = zv_json_str(zv_json_pointer(obj, b->record_ptr), NULL);
    if (!id) {
        snprintf(why, whylen, "an answered object has no %s", b->record_ptr);
        return -1;
    }
    zv_jw *w = zv_jw_new(0);
    if (!w) return -1;
    zv_jw_value(w, obj);
    const char *text;
    size_t len;
    char err[200];
    int rc = -1;
    if (zv_jw_result(w, &text, &len) == 0 &&
        zv_json_flatten(b->flat, text, len, err, sizeof(err)) >= 0) {
        size_t n;
        const zv_json_pair *p = zv_json_flat_pairs(b->flat, &n);
        zv_item_field *f = calloc(n ? n : 1, sizeof(*f));
        if (f) {
            for (size_t i = 0; i < n; i++)
                f[i] = (zv_item_field){p[i].path, p[i].value, p[i].len};
            rc = bmr_emit_fields(b, b->item_type, id, f, n) < 0 ? -1 : 0;
            free(f);
        }
    }
    zv_jw_free(w);
    return rc;
}
