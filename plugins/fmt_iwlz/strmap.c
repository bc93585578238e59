/* A small string -> index map: groups records by BSN and finds duplicate
 * products in batches of tens of thousands of records without quadratic
 * scans. */
#include "iwlz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

int iwlz_strmap_init(iwlz_strmap *m, size_t expected)
{
    size_t cap = 16;
    while (cap < expected * 2 + 1)
        cap *= 2;
    m->keys = calloc(cap, sizeof(*m->keys));
    m->vals = calloc(cap, sizeof(*m->vals));
    m->cap = cap;
    m->n = 0;
    if (!m->keys || !m->vals) {
        iwlz_strmap_free(m);
        return -1;
    }
    return 0;
}

void iwlz_strmap_free(iwlz_strmap *m)
{
    if (m->keys)
        for (size_t i = 0; i < m->cap; i++)
            free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

static int grow(iwlz_strmap *m)
{
    iwlz_strmap bigger;
    if (iwlz_strmap_init(&bigger, m->cap) < 0) return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = hash_str(m->keys[i]) & (bigger.cap - 1);
        while (bigger.keys[j])
            j = (j + 1) & (bigger.cap - 1);
        bigger.keys[j] = m->keys[i];
        bigger.vals[j] = m->vals[i];
        bigger.n++;
    }
    free(m->keys);
    free(m->vals);
    *m = bigger;
    return 0;
}

size_t iwlz_strmap_get_or_put(iwlz_strmap *m, const char *key, size_t val, int *inserted)
{
    *inserted = 0;
    if ((m->n + 1) * 2 > m->cap && grow(m) < 0) return SIZE_MAX;
    size_t i = hash_str(key) & (m->cap - 1);
    while (m->keys[i]) {
        if (strcmp(m->keys[i], key) == 0) return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = strdup(key);
    if (!m->keys[i]) return SIZE_MAX;
    m->vals[i] = val;
    m->n++;
    *inserted = 1;
    return val;
}

size_t iwlz_strmap_get(const iwlz_strmap *m, const char *key)
{
    if (!m->cap) return SIZE_MAX;
    size_t i = hash_str(key) & (m->cap - 1);
    while (m->keys[i]) {
        if (strcmp(m->keys[i], key) == 0) return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return SIZE_MAX;
}
