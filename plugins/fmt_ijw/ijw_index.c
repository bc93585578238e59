/*
 * A per-batch string index (open addressing, FNV-1a), so that finding the
 * earlier record of the same product or the message of the same client is
 * one lookup instead of a scan of the batch: rendering stays linear in the
 * batch size.  Keys are copied into one arena owned by the index.
 */
#include "ijw.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    size_t key; /* offset into arena + 1; 0: empty */
    size_t value;
} slot;

struct ijw_index {
    slot *slots;
    size_t cap, n; /* cap is a power of two */
    char *arena;
    size_t alen, acap;
};

static uint64_t hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

ijw_index *ijw_index_new(size_t expected)
{
    ijw_index *x = calloc(1, sizeof(*x));
    if (!x) return NULL;
    x->cap = 16;
    while (x->cap < expected * 2)
        x->cap <<= 1;
    x->slots = calloc(x->cap, sizeof(*x->slots));
    if (!x->slots) {
        free(x);
        return NULL;
    }
    return x;
}

void ijw_index_free(ijw_index *x)
{
    if (!x) return;
    free(x->slots);
    free(x->arena);
    free(x);
}

static slot *find(ijw_index *x, const char *key, size_t len)
{
    size_t i = (size_t)hash(key, len) & (x->cap - 1);
    for (;;) {
        slot *s = &x->slots[i];
        if (!s->key) return s;
        const char *k = x->arena + s->key - 1;
        if (strncmp(k, key, len) == 0 && k[len] == '\0') return s;
        i = (i + 1) & (x->cap - 1);
    }
}

static int grow(ijw_index *x)
{
    ijw_index bigger = {.cap = x->cap * 2, .arena = x->arena};
    bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
    if (!bigger.slots) return -1;
    for (size_t i = 0; i < x->cap; i++)
        if (x->slots[i].key) {
            const char *k = x->arena + x->slots[i].key - 1;
            *find(&bigger, k, strlen(k)) = x->slots[i];
        }
    free(x->slots);
    x->slots = bigger.slots;
    x->cap = bigger.cap;
    return 0;
}

static size_t store_key(ijw_index *x, const char *key, size_t len)
{
    if (x->alen + len + 1 > x->acap) {
        size_t nc = x->acap ? x->acap * 2 : 4096;
        while (nc < x->alen + len + 1)
            nc *= 2;
        char *a = realloc(x->arena, nc);
        if (!a) return 0;
        x->arena = a;
        x->acap = nc;
    }
    memcpy(x->arena + x->alen, key, len);
    x->arena[x->alen + len] = '\0';
    size_t off = x->alen + 1;
    x->alen += len + 1;
    return off;
}

int ijw_index_put(ijw_index *x, const char *key, size_t value, size_t *existing)
{
    size_t len = strlen(key);
    slot *s = find(x, key, len);
    if (s->key) {
        *existing = s->value;
        return 1;
    }
    if ((x->n + 1) * 2 > x->cap) {
        if (grow(x) != 0) return -1;
        s = find(x, key, len);
    }
    size_t off = store_key(x, key, len);
    if (!off) return -1;
    s->key = off;
    s->value = value;
    x->n++;
    return 0;
}
