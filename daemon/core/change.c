/* Change detection on what would be sent: see change.h. */
#include "change.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

#include "format_fields.h"
#include "log.h"
#include "plugin_loader.h"
#include "store/store.h"

int zv_change_key(const zv_record *r, char *buf, size_t len)
{
    size_t a = strlen(r->prov.source), b = strlen(r->prov.record_id);
    if (a + b + 2 > len) return -1;
    memcpy(buf, r->prov.source, a);
    buf[a] = '\x1f';
    memcpy(buf + a + 1, r->prov.record_id, b + 1);
    return 0;
}

/* Decimal digits of v at the end of buf[24]; returns the first. */
static const char *dec(uint64_t v, char buf[24])
{
    char *p = buf + 24;
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    return p;
}

static int put_dec(zv_buf *b, uint64_t v)
{
    char tmp[24];
    const char *p = dec(v, tmp);
    return zv_buf_append(b, p, (size_t)(tmp + 24 - p));
}

int zv_change_digest(const zv_dest_rt *d, int m, const zv_record *min,
                     char digest[ZV_CHANGE_DIGEST_HEX])
{
    zv_buf b;
    zv_buf_init(&b);
    /* Name and value lengths first, so no two contents serialise alike:
     * "<len>:<message>" then "|<field>:<len>:<value>" per field, written
     * without printf (this runs for every record and destination). */
    /* By the descriptor's stride (ABI 2): a later minor's declaration is longer. */
    const char *msg = zv_plugin_message(d->fmt.desc, (size_t)m)->name;
    size_t ml = strlen(msg);
    int rc = put_dec(&b, ml);
    if (rc == 0) rc = zv_buf_append(&b, ":", 1);
    if (rc == 0) rc = zv_buf_append(&b, msg, ml);
    for (int f = 0; rc == 0 && f < ZV_FIELD_COUNT; f++) {
        const zv_value *v = zv_rec_get(min, (zv_field_id)f);
        if (!v || !zv_dest_renders(d, m, (zv_field_id)f)) continue;
        rc = zv_buf_append(&b, "|", 1);
        if (rc == 0) rc = put_dec(&b, (uint64_t)f);
        if (rc == 0) rc = zv_buf_append(&b, ":", 1);
        if (rc == 0) rc = put_dec(&b, v->len);
        if (rc == 0) rc = zv_buf_append(&b, ":", 1);
        if (rc == 0) rc = zv_buf_append(&b, v->str, v->len);
    }
    if (rc == 0) zv_sha256_hex(b.data, b.len, digest);
    zv_buf_free(&b);
    return rc;
}

int zv_change_unchanged(zv_runtime *rt, const zv_dest_rt *d, int m, const zv_record *min)
{
    char key[512], dg[ZV_CHANGE_DIGEST_HEX];
    if (zv_change_key(min, key, sizeof(key)) < 0) return 0; /* no key: always new */
    if (zv_change_digest(d, m, min, dg) < 0) return -1;
    return zv_sb_sent_same(rt->sb, d->conf->name, key, dg);
}

int zv_change_mark_make(const zv_dest_rt *d, int m, const zv_record *min, zv_change_mark *out)
{
    memset(out, 0, sizeof(*out));
    if (zv_change_key(min, out->key, sizeof(out->key)) < 0) return 0;
    out->keyed = 1;
    if (zv_change_digest(d, m, min, out->digest) < 0) return -1;
    /* The record itself only where a withdrawal may have to repeat it. */
    if (zv_catalogue_withdraws(d->cats[m]) && zv_record_encode(min, &out->rec, &out->len) < 0)
        return -1;
    return 0;
}

int zv_change_mark_put(zv_runtime *rt, const zv_dest_rt *d, int m, const zv_change_mark *mk)
{
    if (!mk->keyed) return 0;
    return zv_sb_sent_put(rt->sb, d->conf->name, mk->key, mk->digest,
                             zv_plugin_message(d->fmt.desc, (size_t)m)->name, mk->rec, mk->len);
}

void zv_change_mark_free(zv_change_mark *mk)
{
    free(mk->rec);
    mk->rec = NULL;
}

int zv_change_sent(zv_runtime *rt, const zv_dest_rt *d, int m, const zv_record *min)
{
    zv_change_mark mk;
    int rc = zv_change_mark_make(d, m, min, &mk);
    if (rc == 0) rc = zv_change_mark_put(rt, d, m, &mk);
    zv_change_mark_free(&mk);
    return rc;
}

static int status_is(const zv_record *r, const char *v)
{
    const char *s = zv_rec_str(r, ZV_F_DEL_STATUS);
    return s && strcmp(s, v) == 0;
}

int zv_change_withdrawal(zv_runtime *rt, const zv_dest_rt *d, int m, const zv_record *min,
                         zv_record **out)
{
    *out = NULL;
    char key[512], msg[64];
    if (!zv_catalogue_withdraws(d->cats[m]) || !status_is(min, "1") ||
        zv_change_key(min, key, sizeof(key)) < 0)
        return 0;
    unsigned char *rec;
    size_t len;
    int r = zv_sb_sent_get(rt->sb, d->conf->name, key, msg, sizeof(msg), &rec, &len);
    if (r <= 0) return r;
    /* Only a first delivery of the same message is withdrawn: an AW39 after
     * an AW35 is the next event of the care, not a correction of it. */
    int same_msg = strcmp(msg, zv_plugin_message(d->fmt.desc, (size_t)m)->name) == 0;
    int kept = rec != NULL;
    zv_record *old = kept && same_msg ? zv_record_decode(rec, len) : NULL;
    free(rec);
    if (!kept && same_msg)
        zv_log(ZV_LOG_WARN, d->fmt.ctx->component,
               "record %s changed after it was sent, but the record as sent is no longer kept "
               "(past retention, or sent by an older zinvol): it goes as a first delivery "
               "without a withdrawal, which the receiver may refuse",
               min->prov.record_id);
    if (!old) return 0;
    if (!status_is(old, "1") || zv_record_set(old, ZV_F_DEL_STATUS, "3", 1, NULL) < 0) {
        zv_record_free(old);
        return 0;
    }
    *out = old;
    return 1;
}

struct keyed {
    char *key;
    size_t i;
};

static int by_key_then_order(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

int zv_change_filter(zv_runtime *rt, zv_dest_rt *d, zv_change_item *v, size_t n, size_t *unchanged)
{
    *unchanged = 0;
    if (!n) return 0;
    struct keyed *k = calloc(n, sizeof(*k));
    if (!k) return -1;
    int rc = 0;
    size_t nk = 0;
    for (size_t i = 0; i < n; i++) {
        char key[512];
        if (zv_change_key(v[i].rec, key, sizeof(key)) < 0) continue;
        if (!(k[nk].key = strdup(key))) {
            rc = -1;
            goto out;
        }
        k[nk++].i = i;
    }
    /* Staged in id order: of the same key only the last one counts. */
    qsort(k, nk, sizeof(*k), by_key_then_order);
    for (size_t j = 0; j + 1 < nk; j++)
        if (strcmp(k[j].key, k[j + 1].key) == 0) v[k[j].i].drop = 1;
    for (size_t i = 0; i < n; i++) {
        if (!v[i].drop) {
            int u = zv_change_unchanged(rt, d, v[i].message, v[i].rec);
            if (u < 0) {
                rc = -1;
                goto out;
            }
            v[i].drop = u;
        }
        if (!v[i].drop) continue;
        if (zv_sb_staged_delete(rt->sb, v[i].staged_id) < 0) {
            rc = -1;
            goto out;
        }
        (*unchanged)++;
    }
out:
    for (size_t j = 0; j < nk; j++)
        free(k[j].key);
    free(k);
    return rc;
}
