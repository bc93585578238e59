/*
 * What the outbox keeps about the clients a payload carries: the record keys
 * for retours, the pseudonymous client key and field names for the audit
 * trail (kept for good), and the values for disclosure (kept as long as the
 * payload) - of the fields the payload really carries (render.c).  See audit/client_key.h and
 * store.h (zv_store_disclose).
 */
#include "render_clients.h"

#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>

#include "../audit/client_key.h"

/* One keyer per payload (client_key.h): its records' keys without a MAC
 * set-up each.  NULL without a secret (no keys) or out of memory (*oom). */
static zv_client_keyer *keyer_of(const zv_runtime *rt, int *oom)
{
    *oom = 0;
    if (!rt->client_secret_ok) return NULL;
    zv_client_keyer *k = zv_client_keyer_new(rt->client_secret);
    *oom = !k;
    return k;
}

static int key_of(zv_client_keyer *k, const zv_record *r, char key[ZV_CLIENT_KEY_HEX])
{
    const zv_value *v = zv_rec_get(r, ZV_F_CLIENT_BSN);
    if (!k || !v) return -1;
    return zv_keyer_client_key(k, v->str, v->len, key);
}

static char *finish(zv_jw *w)
{
    const char *s;
    size_t len;
    char *out = zv_jw_result(w, &s, &len) == 0 ? strndup(s, len) : NULL;
    zv_jw_free(w);
    return out;
}

char *zv_render_records_json(const zv_runtime *rt, const zv_batch *b, const size_t *idx,
                             char *const *keys, size_t n, const unsigned char *fields)
{
    int oom;
    zv_client_keyer *k = keyer_of(rt, &oom);
    zv_jw *w = oom ? NULL : zv_jw_new(0);
    if (!w) {
        zv_client_keyer_free(k);
        return NULL;
    }
    zv_jw_arr_open(w);
    for (size_t i = 0; i < n; i++) {
        const zv_record *r = b->records[idx[i]];
        zv_jw_obj_open(w);
        zv_jw_key(w, "source");
        zv_jw_str(w, r->prov.source);
        zv_jw_key(w, "record_id");
        zv_jw_str(w, r->prov.record_id);
        zv_jw_key(w, "key");
        zv_jw_str(w, keys ? keys[i] : NULL);
        char ck[ZV_CLIENT_KEY_HEX];
        if (key_of(k, r, ck) == 0) {
            zv_jw_key(w, "client");
            zv_jw_str(w, ck);
            char ref[ZV_RECORD_REF_HEX];
            zv_keyer_record_ref(k, r->prov.source, r->prov.record_id, ref);
            zv_jw_key(w, "record");
            zv_jw_str(w, ref);
            zv_jw_key(w, "fields");
            zv_jw_arr_open(w);
            const unsigned char *mask = fields + idx[i] * ZV_FIELD_COUNT;
            for (int f = 0; f < ZV_FIELD_COUNT; f++)
                if (mask[f]) zv_jw_str(w, zv_field_def_of((zv_field_id)f)->name);
            zv_jw_arr_close(w);
        }
        zv_jw_obj_close(w);
    }
    zv_jw_arr_close(w);
    zv_client_keyer_free(k);
    return finish(w);
}

char *zv_render_disclosure_json(const zv_runtime *rt, const zv_batch *b, const size_t *idx,
                                size_t n, const unsigned char *fields)
{
    int oom;
    zv_client_keyer *k = keyer_of(rt, &oom);
    zv_jw *w = k ? zv_jw_new(0) : NULL; /* no secret: no keys, nothing to disclose by */
    if (!w) {
        zv_client_keyer_free(k);
        return NULL;
    }
    zv_jw_arr_open(w);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        const zv_record *r = b->records[idx[i]];
        char ck[ZV_CLIENT_KEY_HEX];
        if (key_of(k, r, ck) != 0) continue;
        zv_jw_obj_open(w);
        zv_jw_key(w, "client");
        zv_jw_str(w, ck);
        zv_jw_key(w, "record");
        zv_jw_str(w, r->prov.record_id);
        zv_jw_key(w, "values");
        zv_jw_obj_open(w);
        const unsigned char *mask = fields + idx[i] * ZV_FIELD_COUNT;
        for (int f = 0; f < ZV_FIELD_COUNT; f++) {
            const zv_value *v = zv_rec_get(r, (zv_field_id)f);
            if (!v || !mask[f]) continue;
            zv_jw_key(w, zv_field_def_of((zv_field_id)f)->name);
            zv_jw_strn(w, v->str, v->len);
        }
        zv_jw_obj_close(w);
        zv_jw_obj_close(w);
        kept++;
    }
    zv_jw_arr_close(w);
    zv_client_keyer_free(k);
    char *out = finish(w);
    if (!kept) {
        free(out);
        return NULL;
    }
    return out;
}
