/* Dictionaries of the count state: measure ids, cell names and period
 * labels by number (tables measures, cellnames, periods), so the counts in
 * memory and the change log hold small numbers, not strings. */
#include "signals_state_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

int sig_dict_find(const sig_dict *d, const char *name)
{
    if (!d->nslots) return -1;
    size_t mask = d->nslots - 1;
    for (size_t i = hash_str(name) & mask;; i = (i + 1) & mask) {
        int v = d->slot[i];
        if (!v) return -1;
        if (strcmp(d->name[v - 1], name) == 0) return v - 1;
    }
}

static int rehash(sig_dict *d, size_t nslots)
{
    int *slot = calloc(nslots, sizeof(*slot));
    if (!slot) return -1;
    for (size_t k = 0; k < d->n; k++)
        for (size_t i = hash_str(d->name[k]) & (nslots - 1);; i = (i + 1) & (nslots - 1))
            if (!slot[i]) {
                slot[i] = (int)k + 1;
                break;
            }
    free(d->slot);
    d->slot = slot;
    d->nslots = nslots;
    return 0;
}

static int dict_add(sig_dict *d, const char *name)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        char **grown = realloc(d->name, cap * sizeof(*grown));
        if (!grown) return -1;
        d->name = grown;
        d->cap = cap;
    }
    if ((d->n + 1) * 2 > d->nslots && rehash(d, d->nslots ? d->nslots * 2 : 128) != 0) return -1;
    if (!(d->name[d->n] = strdup(name))) return -1;
    size_t mask = d->nslots - 1, i = hash_str(name) & mask;
    while (d->slot[i])
        i = (i + 1) & mask;
    d->slot[i] = (int)++d->n;
    return (int)d->n - 1;
}

int sig_dict_intern(sig_dict *d, sqlite3_stmt *add, const char *name)
{
    int n = sig_dict_find(d, name);
    if (n >= 0) return n;
    if ((n = dict_add(d, name)) < 0) return -1;
    sqlite3_reset(add);
    sqlite3_bind_int(add, 1, n);
    sqlite3_bind_text(add, 2, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(add);
    sqlite3_reset(add);
    /* On failure the caller rolls back, which reloads the dictionaries. */
    return rc == SQLITE_DONE ? n : -1;
}

/* sql: SELECT n, name ... ORDER BY n; the numbers must be 0, 1, 2, ... */
int sig_dict_load(sig_dict *d, sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (sqlite3_column_int64(s, 0) != (sqlite3_int64)d->n ||
            dict_add(d, (const char *)sqlite3_column_text(s, 1)) < 0)
            break;
    sqlite3_finalize(s);
    d->ncommitted = d->n;
    return rc == SQLITE_DONE ? 0 : -1;
}

void sig_dict_free(sig_dict *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->name[i]);
    free(d->name);
    free(d->slot);
    memset(d, 0, sizeof(*d));
}
