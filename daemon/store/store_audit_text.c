/* The text of a "delivered" audit entry from its outbox columns (store_chain.h). */
#include "store_chain.h"

#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>

/* The audit entry names the fields and their levels, never their values:
 * fields_json is [{"field":..,"level":..},...]. */
void zv_audit_fields_text(const char *fields_json, zv_buf *out)
{
    char err[128];
    if (!fields_json) return;
    zv_json_doc *d = zv_json_parse(fields_json, strlen(fields_json), 0, err, sizeof(err));
    const zv_json *a = d ? zv_json_root(d) : NULL;
    for (size_t i = 0; a && i < zv_json_len(a); i++) {
        const zv_json *e = zv_json_at(a, i);
        const char *f = zv_json_str(zv_json_get(e, "field"), NULL);
        const char *l = zv_json_str(zv_json_get(e, "level"), NULL);
        if (!f) continue;
        zv_buf_printf(out, "%s%s=%s", out->len ? "," : "", f, l ? l : "?");
    }
    if (!d) zv_buf_puts(out, "unreadable fields_json");
    zv_json_free(d);
}

/* {"field": "citation", ..} from fields_json, for the chained entry: the
 * citation that held when the message was made (render.c). */
char *zv_audit_citations_of(const char *fields_json)
{
    char err[64];
    zv_json_doc *d =
        fields_json ? zv_json_parse(fields_json, strlen(fields_json), 0, err, sizeof(err)) : NULL;
    if (!d) return NULL;
    zv_jw *w = zv_jw_new(0);
    zv_jw_obj_open(w);
    const zv_json *a = zv_json_root(d);
    for (size_t i = 0; i < zv_json_len(a); i++) {
        const zv_json *e = zv_json_at(a, i);
        const char *f = zv_json_str(zv_json_get(e, "field"), NULL);
        const char *c = zv_json_str(zv_json_get(e, "citation"), NULL);
        if (!f || !c) continue;
        zv_jw_key(w, f);
        zv_jw_str(w, c);
    }
    zv_jw_obj_close(w);
    const char *out;
    size_t len;
    char *res = zv_jw_result(w, &out, &len) == 0 ? strndup(out, len) : NULL;
    zv_jw_free(w);
    zv_json_free(d);
    return res;
}

/* The chained clients array: per carried record with a client key, the key
 * and the fields that record had in the payload (never values). */
char *zv_audit_clients_of(const char *records_json)
{
    char err[64];
    zv_json_doc *d = records_json
                         ? zv_json_parse(records_json, strlen(records_json), 0, err, sizeof(err))
                         : NULL;
    if (!d) return NULL;
    zv_jw *w = zv_jw_new(0);
    zv_jw_arr_open(w);
    size_t n = 0;
    const zv_json *a = zv_json_root(d);
    for (size_t i = 0; i < zv_json_len(a); i++) {
        const zv_json *e = zv_json_at(a, i);
        const char *k = zv_json_str(zv_json_get(e, "client"), NULL);
        if (!k) continue;
        zv_jw_obj_open(w);
        zv_jw_key(w, "client");
        zv_jw_str(w, k);
        const char *ref = zv_json_str(zv_json_get(e, "record"), NULL);
        if (ref) {
            zv_jw_key(w, "record");
            zv_jw_str(w, ref);
        }
        zv_jw_key(w, "fields");
        const zv_json *f = zv_json_get(e, "fields");
        if (f)
            zv_jw_value(w, f);
        else
            zv_jw_null(w);
        zv_jw_obj_close(w);
        n++;
    }
    zv_jw_arr_close(w);
    const char *out;
    size_t len;
    char *res = n && zv_jw_result(w, &out, &len) == 0 ? strndup(out, len) : NULL;
    zv_jw_free(w);
    zv_json_free(d);
    return res;
}
