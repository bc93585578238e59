/* Records: creation, copying and the store's binary encoding. */
#include <zinvol/model.h>
#include "arena.h"

#include <stdlib.h>
#include <string.h>

#define ENCODING_VERSION 1

/* The record, its values array and about `strings` bytes of values in one
 * first chunk.  A 1 KiB first chunk could not hold the values array
 * (ZV_FIELD_COUNT * 24 bytes), so every record took three chunks, 7 KiB,
 * most of it unused: a render unit of 5,000 decoded records per
 * destination was 35 MiB of it (issue 13). */
static zv_record *record_new(zv_kind kind, const char *source, const char *record_id,
                             int64_t received, size_t strings)
{
    zv_arena *a = zv_arena_new(sizeof(zv_record) + ZV_FIELD_COUNT * sizeof(zv_value) + strings);
    if (!a) return NULL;
    zv_record *r = zv_arena_alloc(a, sizeof(*r));
    zv_value *v = r ? zv_arena_alloc(a, ZV_FIELD_COUNT * sizeof(*v)) : NULL;
    if (!v) {
        zv_arena_free(a);
        return NULL;
    }
    memset(r, 0, sizeof(*r));
    memset(v, 0, ZV_FIELD_COUNT * sizeof(*v));
    r->nfields = ZV_FIELD_COUNT;
    r->kind = kind;
    r->values = v;
    r->arena = a;
    r->prov.source = zv_arena_strndup(a, source ? source : "", source ? strlen(source) : 0);
    r->prov.record_id =
        zv_arena_strndup(a, record_id ? record_id : "", record_id ? strlen(record_id) : 0);
    r->prov.received = received;
    if (!r->prov.source || !r->prov.record_id) {
        zv_arena_free(a);
        return NULL;
    }
    return r;
}

zv_record *zv_record_new(zv_kind kind, const char *source, const char *record_id, int64_t received)
{
    return record_new(kind, source, record_id, received, 512);
}

void zv_record_free(zv_record *r)
{
    if (r) zv_arena_free(r->arena);
}

static const zv_provenance *own_prov(zv_record *r, const zv_provenance *p)
{
    if (!p || p == &r->prov) return &r->prov;
    if (strcmp(p->source, r->prov.source) == 0 && strcmp(p->record_id, r->prov.record_id) == 0 &&
        p->received == r->prov.received)
        return &r->prov;
    zv_provenance *c = zv_arena_alloc(r->arena, sizeof(*c));
    if (!c) return NULL;
    c->source = zv_arena_strndup(r->arena, p->source, strlen(p->source));
    c->record_id = zv_arena_strndup(r->arena, p->record_id, strlen(p->record_id));
    c->received = p->received;
    return c->source && c->record_id ? c : NULL;
}

int zv_record_set(zv_record *r, zv_field_id id, const char *str, size_t len,
                  const zv_provenance *prov)
{
    if ((unsigned)id >= r->nfields || !str) return -1;
    const zv_provenance *p = own_prov(r, prov);
    char *s = p ? zv_arena_strndup(r->arena, str, len) : NULL;
    if (!s) return -1;
    r->values[id].str = s;
    r->values[id].len = (uint32_t)len;
    r->values[id].prov = p;
    return 0;
}

void zv_record_clear(zv_record *r, zv_field_id id)
{
    if ((unsigned)id < r->nfields) memset(&r->values[id], 0, sizeof(r->values[id]));
}

zv_record *zv_record_copy(const zv_record *src)
{
    zv_record *r =
        zv_record_new(src->kind, src->prov.source, src->prov.record_id, src->prov.received);
    if (!r) return NULL;
    for (uint32_t i = 0; i < src->nfields && i < r->nfields; i++) {
        const zv_value *v = &src->values[i];
        if (!v->str) continue;
        if (zv_record_set(r, (zv_field_id)i, v->str, v->len,
                          v->prov == &src->prov ? NULL : v->prov) < 0) {
            zv_record_free(r);
            return NULL;
        }
    }
    return r;
}

/* ---- encoding ----
 * u8 version, u8 kind, prov, u16 nextra, prov*nextra, u16 nvalues,
 * then per value: u16 field, u16 prov index (0 = record's own), str.
 * prov = str source, str record_id, i64 received; str = u32 len + bytes.
 * Little endian throughout. */

struct out {
    unsigned char *p;
    size_t len, cap;
    int oom;
};

static void put(struct out *o, const void *d, size_t n)
{
    if (o->oom) return;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        while (cap < o->len + n)
            cap *= 2;
        unsigned char *p = realloc(o->p, cap);
        if (!p) {
            o->oom = 1;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->len, d, n);
    o->len += n;
}

static void put_u(struct out *o, uint64_t v, int bytes)
{
    unsigned char b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put(o, b, (size_t)bytes);
}

static void put_str(struct out *o, const char *s, size_t len)
{
    put_u(o, len, 4);
    put(o, s, len);
}

static void put_prov(struct out *o, const zv_provenance *p)
{
    put_str(o, p->source, strlen(p->source));
    put_str(o, p->record_id, strlen(p->record_id));
    put_u(o, (uint64_t)p->received, 8);
}

int zv_record_encode(const zv_record *r, unsigned char **out, size_t *outlen)
{
    const zv_provenance *extra[ZV_FIELD_COUNT];
    uint16_t pidx[ZV_FIELD_COUNT];
    unsigned nextra = 0, nvalues = 0;
    for (uint32_t i = 0; i < r->nfields && i < ZV_FIELD_COUNT; i++) {
        const zv_value *v = &r->values[i];
        if (!v->str) continue;
        nvalues++;
        pidx[i] = 0;
        if (v->prov == &r->prov) continue;
        unsigned k = 0;
        while (k < nextra && extra[k] != v->prov)
            k++;
        if (k == nextra) extra[nextra++] = v->prov;
        pidx[i] = (uint16_t)(k + 1);
    }
    struct out o = {0};
    put_u(&o, ENCODING_VERSION, 1);
    put_u(&o, (uint64_t)r->kind, 1);
    put_prov(&o, &r->prov);
    put_u(&o, nextra, 2);
    for (unsigned k = 0; k < nextra; k++)
        put_prov(&o, extra[k]);
    put_u(&o, nvalues, 2);
    for (uint32_t i = 0; i < r->nfields && i < ZV_FIELD_COUNT; i++) {
        const zv_value *v = &r->values[i];
        if (!v->str) continue;
        put_u(&o, i, 2);
        put_u(&o, pidx[i], 2);
        put_str(&o, v->str, v->len);
    }
    if (o.oom) {
        free(o.p);
        return -1;
    }
    *out = o.p;
    *outlen = o.len;
    return 0;
}

struct in {
    const unsigned char *p;
    size_t len, off;
    int bad;
};

static uint64_t get_u(struct in *in, int bytes)
{
    if (in->bad || in->len - in->off < (size_t)bytes) {
        in->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)in->p[in->off + i] << (8 * i);
    in->off += (size_t)bytes;
    return v;
}

static const char *get_str(struct in *in, size_t *len)
{
    *len = (size_t)get_u(in, 4);
    if (in->bad || in->len - in->off < *len) {
        in->bad = 1;
        return NULL;
    }
    const char *s = (const char *)in->p + in->off;
    in->off += *len;
    return s;
}

/* Strings in the buffer are not NUL-terminated: copy through the arena. */
static int get_prov(struct in *in, zv_arena *a, zv_provenance *p)
{
    size_t l1, l2;
    const char *s1 = get_str(in, &l1);
    const char *s2 = s1 ? get_str(in, &l2) : NULL;
    p->received = (int64_t)get_u(in, 8);
    if (in->bad || !s2) return -1;
    p->source = zv_arena_strndup(a, s1, l1);
    p->record_id = zv_arena_strndup(a, s2, l2);
    return p->source && p->record_id ? 0 : -1;
}

zv_record *zv_record_decode(const unsigned char *buf, size_t len)
{
    struct in in = {buf, len, 0, 0};
    if (get_u(&in, 1) != ENCODING_VERSION) return NULL;
    unsigned kind = (unsigned)get_u(&in, 1);
    if (in.bad || kind >= ZV_KIND_COUNT) return NULL;
    /* Every string of the record is in buf; each copy gains a NUL and up
     * to 7 bytes of alignment, less than the 4-byte length and the ids
     * that precede it there, so len bytes nearly always suffice. */
    zv_record *r = record_new((zv_kind)kind, "", "", 0, len + 64);
    if (!r) return NULL;
    if (get_prov(&in, r->arena, &r->prov) < 0) goto bad;
    unsigned nextra = (unsigned)get_u(&in, 2);
    if (in.bad || nextra > ZV_FIELD_COUNT) goto bad;
    zv_provenance *extra = zv_arena_alloc(r->arena, (nextra + 1) * sizeof(*extra));
    if (!extra) goto bad;
    for (unsigned k = 0; k < nextra; k++)
        if (get_prov(&in, r->arena, &extra[k]) < 0) goto bad;
    unsigned nvalues = (unsigned)get_u(&in, 2);
    for (unsigned i = 0; i < nvalues && !in.bad; i++) {
        unsigned id = (unsigned)get_u(&in, 2), pi = (unsigned)get_u(&in, 2);
        size_t l;
        const char *s = get_str(&in, &l);
        if (in.bad || id >= ZV_FIELD_COUNT || pi > nextra) goto bad;
        if (zv_record_set(r, (zv_field_id)id, s, l, pi ? &extra[pi - 1] : NULL) < 0) goto bad;
    }
    if (in.bad || in.off != len) goto bad;
    return r;
bad:
    zv_record_free(r);
    return NULL;
}
