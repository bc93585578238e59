/*
 * The puts of a transaction, written together at commit.  Sorted by period
 * and client, each client of a period costs one read and at most one write
 * of its row (the cells of all its measures in one small blob), and the
 * cells' client counts change by one upsert per cell whose count moved.
 * Before, every put was an upsert with triggers, one per record and
 * measure, each dirtying a random page of a table as large as the clients
 * times the measures: the write-ahead log grew with the table, not with the
 * batch.
 *
 * Row blob: entries sorted by measure number, each
 *   varint measure, varint cell, one byte date length, the date's bytes.
 */
#include "signals_state_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- dictionaries -------------------------------------------------------- */

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
    if (rc == SQLITE_DONE) return n;
    sig_dict_forget_uncommitted(d); /* the caller rolls back */
    return -1;
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

void sig_dict_forget_uncommitted(sig_dict *d)
{
    if (d->n == d->ncommitted) return;
    while (d->n > d->ncommitted)
        free(d->name[--d->n]);
    /* Rebuilt at the same size: it only shrank. */
    if (d->nslots) rehash(d, d->nslots);
}

void sig_dict_free(sig_dict *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->name[i]);
    free(d->name);
    free(d->slot);
    memset(d, 0, sizeof(*d));
}

/* ---- row blobs ----------------------------------------------------------- */

typedef struct entry {
    int measure, cell;
    char date[16];
} entry;

static void put_varint(zv_buf *b, unsigned v)
{
    unsigned char c[5];
    size_t n = 0;
    do {
        c[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v) c[n] |= 0x80;
        n++;
    } while (v);
    zv_buf_append(b, (const char *)c, n);
}

static int get_varint(const unsigned char **p, const unsigned char *end, int *out)
{
    unsigned v = 0;
    for (int shift = 0; shift < 32 && *p < end; shift += 7) {
        unsigned char c = *(*p)++;
        v |= (unsigned)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = (int)(v & 0x7fffffff);
            return 0;
        }
    }
    return -1;
}

static int decode(const unsigned char *p, size_t len, entry **out, size_t *n, size_t *cap)
{
    const unsigned char *end = p + len;
    *n = 0;
    while (p < end) {
        if (*n == *cap) {
            size_t c = *cap ? *cap * 2 : 16;
            entry *grown = realloc(*out, c * sizeof(*grown));
            if (!grown) return -1;
            *out = grown;
            *cap = c;
        }
        entry *e = &(*out)[*n];
        if (get_varint(&p, end, &e->measure) != 0 || get_varint(&p, end, &e->cell) != 0 ||
            p >= end || *p >= sizeof(e->date) || (size_t)(end - p) < 1u + *p)
            return -1;
        size_t dl = *p++;
        memcpy(e->date, p, dl);
        e->date[dl] = '\0';
        p += dl;
        (*n)++;
    }
    return 0;
}

static void encode(const entry *e, size_t n, zv_buf *b)
{
    zv_buf_reset(b);
    for (size_t i = 0; i < n; i++) {
        put_varint(b, (unsigned)e[i].measure);
        put_varint(b, (unsigned)e[i].cell);
        unsigned char dl = (unsigned char)strlen(e[i].date);
        zv_buf_append(b, (const char *)&dl, 1);
        zv_buf_append(b, e[i].date, dl);
    }
}

/* ---- the flush ----------------------------------------------------------- */

typedef struct delta {
    char period[16];
    int measure, cell, d;
} delta;

typedef struct flush {
    sig_state *st;
    entry *row;
    size_t nrow, caprow;
    delta *deltas;
    size_t ndeltas, capdeltas;
    zv_buf blob;
} flush;

static int cmp_put(const void *a, const void *b)
{
    const sig_put *x = a, *y = b;
    int c = strcmp(x->period, y->period);
    if (!c) c = memcmp(x->client, y->client, SIG_KEY_BYTES);
    if (!c) c = (x->measure > y->measure) - (x->measure < y->measure);
    return c;
}

static int cmp_delta(const void *a, const void *b)
{
    const delta *x = a, *y = b;
    if (x->measure != y->measure) return (x->measure > y->measure) - (x->measure < y->measure);
    int c = strcmp(x->period, y->period);
    return c ? c : (x->cell > y->cell) - (x->cell < y->cell);
}

/* (date, cell name) of a after b: the client's latest record wins, the
 * order of arrival does not matter. */
static int later(const sig_state *st, const char *da, int ca, const char *db, int cb)
{
    int c = strcmp(da, db);
    if (c) return c > 0;
    return strcmp(st->cellnames.name[ca], st->cellnames.name[cb]) > 0;
}

static int add_delta(flush *f, const char *period, int measure, int cell, int d)
{
    if (f->ndeltas == f->capdeltas) {
        size_t c = f->capdeltas ? f->capdeltas * 2 : 256;
        delta *grown = realloc(f->deltas, c * sizeof(*grown));
        if (!grown) return -1;
        f->deltas = grown;
        f->capdeltas = c;
    }
    delta *x = &f->deltas[f->ndeltas++];
    memcpy(x->period, period, sizeof(x->period));
    x->measure = measure;
    x->cell = cell;
    x->d = d;
    return 0;
}

static int read_row(flush *f, const sig_put *p)
{
    sqlite3_stmt *s = f->st->row_get;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, p->period, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, p->client, SIG_KEY_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(s), out = -1;
    f->nrow = 0;
    if (rc == SQLITE_DONE) out = 0;
    if (rc == SQLITE_ROW)
        out = decode(sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0), &f->row,
                     &f->nrow, &f->caprow);
    sqlite3_reset(s);
    /* Numbers the dictionaries do not know: a damaged state, not read on. */
    for (size_t i = 0; out == 0 && i < f->nrow; i++)
        if ((size_t)f->row[i].measure >= f->st->measures.n ||
            (size_t)f->row[i].cell >= f->st->cellnames.n)
            out = -1;
    return out;
}

static int write_row(flush *f, const sig_put *p)
{
    encode(f->row, f->nrow, &f->blob);
    if (f->blob.oom) return -1;
    sqlite3_stmt *s = f->st->row_put;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, p->period, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, p->client, SIG_KEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, f->blob.data, (int)f->blob.len, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    return (x->measure > y->measure) - (x->measure < y->measure);
}

/* One put into the client's row in memory: a new measure, or a later
 * (date, cell) than the one kept.  *changed when the row must be written. */
static int merge_put(flush *f, const sig_put *p, int *changed)
{
    for (size_t i = 0; i < f->nrow; i++) {
        entry *e = &f->row[i];
        if (e->measure != p->measure) continue;
        if (!later(f->st, p->date, p->cell, e->date, e->cell)) return 0;
        if (e->cell != p->cell && (add_delta(f, p->period, p->measure, e->cell, -1) != 0 ||
                                   add_delta(f, p->period, p->measure, p->cell, 1) != 0))
            return -1;
        e->cell = p->cell;
        memcpy(e->date, p->date, sizeof(e->date));
        *changed = 1;
        return 0;
    }
    if (f->nrow == f->caprow) {
        size_t c = f->caprow ? f->caprow * 2 : 16;
        entry *grown = realloc(f->row, c * sizeof(*grown));
        if (!grown) return -1;
        f->row = grown;
        f->caprow = c;
    }
    f->row[f->nrow++] = (entry){p->measure, p->cell, ""};
    memcpy(f->row[f->nrow - 1].date, p->date, sizeof(p->date));
    *changed = 1;
    return add_delta(f, p->period, p->measure, p->cell, 1);
}

/* The summed deltas: one upsert per (measure, period, cell) that moved. */
static int apply_deltas(flush *f)
{
    if (f->ndeltas) qsort(f->deltas, f->ndeltas, sizeof(*f->deltas), cmp_delta);
    sqlite3_stmt *s = f->st->cell_add;
    for (size_t i = 0; i < f->ndeltas;) {
        size_t j = i;
        int64_t sum = 0;
        for (; j < f->ndeltas && cmp_delta(&f->deltas[i], &f->deltas[j]) == 0; j++)
            sum += f->deltas[j].d;
        if (sum != 0) {
            const delta *d = &f->deltas[i];
            sqlite3_reset(s);
            sqlite3_bind_text(s, 1, f->st->measures.name[d->measure], -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, d->period, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 3, f->st->cellnames.name[d->cell], -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 4, sum);
            int rc = sqlite3_step(s);
            sqlite3_reset(s);
            if (rc != SQLITE_DONE) return -1;
        }
        i = j;
    }
    return 0;
}

int sig_pending_flush(sig_state *st)
{
    flush f = {.st = st};
    zv_buf_init(&f.blob);
    int rc = 0;
    if (st->nputs) qsort(st->puts, st->nputs, sizeof(*st->puts), cmp_put);
    for (size_t i = 0; i < st->nputs && rc == 0;) {
        size_t j = i;
        while (j < st->nputs && strcmp(st->puts[j].period, st->puts[i].period) == 0 &&
               memcmp(st->puts[j].client, st->puts[i].client, SIG_KEY_BYTES) == 0)
            j++;
        int changed = 0;
        rc = read_row(&f, &st->puts[i]);
        for (size_t k = i; k < j && rc == 0; k++)
            rc = merge_put(&f, &st->puts[k], &changed);
        if (rc == 0 && changed) {
            qsort(f.row, f.nrow, sizeof(*f.row), cmp_entry);
            rc = write_row(&f, &st->puts[i]);
        }
        i = j;
    }
    if (rc == 0) rc = apply_deltas(&f);
    st->nputs = 0;
    free(f.row);
    free(f.deltas);
    zv_buf_free(&f.blob);
    return rc;
}

void sig_pending_drop(sig_state *st)
{
    st->nputs = 0;
}
