/*
 * The counts in memory, and their change log in SQLite (state version 3).
 *
 * Per period and client (its 128-bit key) one entry holds the client's
 * cell and date in every measure; beside them the clients per (period,
 * measure, cell).  A record is counted by a hash look-up and, when the
 * client's cell or date moved, by marking the entry: no SQLite on the hot
 * path.  Commit writes the entries the transaction changed as one row of
 * table changes (appended: its pages are new ones, so the write-ahead log
 * grows with the batch, not with the table).  Opening replays the rows in
 * order, the last one of an entry wins.  Once the log holds twice the live
 * entries (and at least SNAPSHOT_MIN more), a commit writes all entries
 * anew instead and deletes the old rows, so the table stays within about
 * twice the state and each change is written at most about three times.
 *
 * Memory: esize = 24 + 8 x measures bytes per entry, plus 8 bytes of index
 * (at most half full): with six measures about 80 bytes per client and
 * period, 80 MB for a million.
 *
 * Row of changes: entries, each
 *   varint period, 16 bytes key, varint k, then k times
 *   varint measure, varint cell, varint day
 * (the slots with a cell; the others have none).
 */
#include "signals_state_int.h"

#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

#define SNAPSHOT_MIN 4096
#define ROW_ENTRIES 65536

static sig_ent *ent_at(const sig_mem *m, size_t i)
{
    return (sig_ent *)(m->ents + i * m->esize);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static uint64_t ent_hash(uint32_t period, const unsigned char *key)
{
    uint64_t h;
    memcpy(&h, key, sizeof(h));
    return mix(h ^ ((uint64_t)period << 40));
}

static int vec_push(sig_intvec *v, int32_t x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        int32_t *grown = realloc(v->v, cap * sizeof(*grown));
        if (!grown) return -1;
        v->v = grown;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return 0;
}

int sig_mem_init(sig_mem *m, size_t nmeasures)
{
    memset(m, 0, sizeof(*m));
    m->nmeasures = nmeasures;
    m->esize = sizeof(sig_ent) + nmeasures * sizeof(sig_slot);
    return 0;
}

void sig_mem_free(sig_mem *m)
{
    free(m->ents);
    free(m->idx);
    free(m->cc);
    for (size_t i = 0; i < m->ncellsets; i++)
        free(m->cellsets[i].v);
    free(m->cellsets);
    free(m->dirty.v);
    memset(m, 0, sizeof(*m));
}

static int grow_idx(sig_mem *m)
{
    size_t n = m->nidx ? m->nidx * 2 : 1024;
    uint32_t *idx = calloc(n, sizeof(*idx));
    if (!idx || m->n >= UINT32_MAX / 2) {
        free(idx);
        return -1;
    }
    for (size_t e = 0; e < m->n; e++) {
        const sig_ent *x = ent_at(m, e);
        size_t i = ent_hash(x->period, x->key) & (n - 1);
        while (idx[i])
            i = (i + 1) & (n - 1);
        idx[i] = (uint32_t)e + 1;
    }
    free(m->idx);
    m->idx = idx;
    m->nidx = n;
    return 0;
}

/* The entry of (period, key), made (all slots empty) when absent; -1 when
 * memory is short. */
static long ent_get(sig_mem *m, uint32_t period, const unsigned char *key)
{
    /* The measures of one record share its (period, client): checked by
     * content, so a stale index (after a reload) is never taken for it. */
    if (m->last < m->n) {
        const sig_ent *e = ent_at(m, m->last);
        if (e->period == period && memcmp(e->key, key, SIG_KEY_BYTES) == 0) return (long)m->last;
    }
    if ((m->n + 1) * 2 > m->nidx && grow_idx(m) != 0) return -1;
    size_t mask = m->nidx - 1;
    for (size_t i = ent_hash(period, key) & mask;; i = (i + 1) & mask) {
        uint32_t v = m->idx[i];
        if (v) {
            const sig_ent *e = ent_at(m, v - 1);
            if (e->period == period && memcmp(e->key, key, SIG_KEY_BYTES) == 0)
                return (long)(m->last = v - 1);
            continue;
        }
        if (m->n == m->cap) {
            size_t cap = m->cap ? m->cap * 2 : 4096;
            unsigned char *grown = realloc(m->ents, cap * m->esize);
            if (!grown) return -1;
            m->ents = grown;
            m->cap = cap;
        }
        sig_ent *e = ent_at(m, m->n);
        memcpy(e->key, key, SIG_KEY_BYTES);
        e->period = period;
        e->dirty = 0;
        for (size_t k = 0; k < m->nmeasures; k++)
            e->slot[k] = (sig_slot){-1, 0};
        m->idx[i] = (uint32_t)++m->n;
        return (long)(m->last = m->n - 1);
    }
}

/* ---- clients per cell ---------------------------------------------------- */

static uint64_t cc_key(uint32_t period, uint32_t measure, int32_t cell)
{
    return ((uint64_t)period + 1) << 40 | (uint64_t)measure << 24 | (uint64_t)cell;
}

static sig_cellcount *cc_find(const sig_mem *m, uint64_t key)
{
    if (!m->nccslots) return NULL;
    size_t mask = m->nccslots - 1;
    for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
        if (m->cc[i].key == key) return &m->cc[i];
        if (!m->cc[i].key) return NULL;
    }
}

static int cc_grow(sig_mem *m)
{
    size_t n = m->nccslots ? m->nccslots * 2 : 256;
    sig_cellcount *cc = calloc(n, sizeof(*cc));
    if (!cc) return -1;
    for (size_t j = 0; j < m->nccslots; j++) {
        if (!m->cc[j].key) continue;
        size_t i = mix(m->cc[j].key) & (n - 1);
        while (cc[i].key)
            i = (i + 1) & (n - 1);
        cc[i] = m->cc[j];
    }
    free(m->cc);
    m->cc = cc;
    m->nccslots = n;
    return 0;
}

/* Add d to the clients of (period, measure, cell); a new cell joins the
 * cells of its (period, measure). */
static int cc_add(sig_mem *m, uint32_t period, uint32_t measure, int32_t cell, int64_t d)
{
    uint64_t key = cc_key(period, measure, cell);
    sig_cellcount *c = cc_find(m, key);
    if (c) {
        c->n += d;
        return 0;
    }
    if ((m->ncc + 1) * 2 > m->nccslots && cc_grow(m) != 0) return -1;
    size_t set = (size_t)period * m->nmeasures + measure;
    if (set >= m->ncellsets) {
        size_t n = m->ncellsets ? m->ncellsets : 64;
        while (n <= set)
            n *= 2;
        sig_intvec *grown = realloc(m->cellsets, n * sizeof(*grown));
        if (!grown) return -1;
        memset(grown + m->ncellsets, 0, (n - m->ncellsets) * sizeof(*grown));
        m->cellsets = grown;
        m->ncellsets = n;
    }
    if (vec_push(&m->cellsets[set], cell) != 0) return -1;
    size_t mask = m->nccslots - 1, i = mix(key) & mask;
    while (m->cc[i].key)
        i = (i + 1) & mask;
    m->cc[i] = (sig_cellcount){key, d};
    m->ncc++;
    return 0;
}

int64_t sig_mem_count(const sig_mem *m, uint32_t period, uint32_t measure, int32_t cell)
{
    const sig_cellcount *c = cc_find(m, cc_key(period, measure, cell));
    return c ? c->n : 0;
}

const sig_intvec *sig_mem_cells(const sig_mem *m, uint32_t period, uint32_t measure)
{
    size_t set = (size_t)period * m->nmeasures + measure;
    return measure < m->nmeasures && set < m->ncellsets ? &m->cellsets[set] : NULL;
}

/* ---- changing slots ------------------------------------------------------ */

/* Slot `measure` of entry ei becomes (cell, day); counts follow.  dirty:
 * the entry is to be written at commit. */
static int assign(sig_mem *m, long ei, uint32_t measure, int32_t cell, int32_t day, int dirty)
{
    sig_ent *e = ent_at(m, (size_t)ei);
    sig_slot *s = &e->slot[measure];
    if (s->cell == cell && (cell < 0 || s->day == day)) return 0;
    if (s->cell != cell) {
        if (s->cell >= 0 && cc_add(m, e->period, measure, s->cell, -1) != 0) return -1;
        if (cell >= 0 && cc_add(m, e->period, measure, cell, 1) != 0) return -1;
    }
    s->cell = cell;
    s->day = cell >= 0 ? day : 0;
    if (dirty && !e->dirty) {
        if (vec_push(&m->dirty, (int32_t)ei) != 0) return -1;
        e->dirty = 1;
    }
    return 0;
}

int sig_mem_set(sig_state *st, uint32_t period, const unsigned char key[SIG_KEY_BYTES],
                uint32_t measure, int32_t cell, int32_t day)
{
    if (measure >= st->mem.nmeasures) return -1;
    long ei = ent_get(&st->mem, period, key);
    return ei < 0 ? -1 : assign(&st->mem, ei, measure, cell, day, 1);
}

int sig_state_put(sig_state *st, int measure, int period, const unsigned char key[SIG_KEY_BYTES],
                  int32_t day, int cell)
{
    sig_mem *m = &st->mem;
    if (measure < 0 || (size_t)measure >= m->nmeasures || period < 0 || cell < 0) return -1;
    long ei = ent_get(m, (uint32_t)period, key);
    if (ei < 0) return -1;
    const sig_slot *s = &ent_at(m, (size_t)ei)->slot[measure];
    /* The greatest (date, cell name) is kept: the order of arrival does not matter. */
    if (s->cell >= 0 &&
        (day < s->day ||
         (day == s->day &&
          (s->cell == cell || strcmp(st->cellnames.name[cell], st->cellnames.name[s->cell]) < 0))))
        return 0;
    return assign(m, ei, (uint32_t)measure, cell, day, 1);
}

void sig_mem_clean(sig_mem *m)
{
    for (size_t i = 0; i < m->dirty.n; i++)
        ent_at(m, (size_t)m->dirty.v[i])->dirty = 0;
    m->dirty.n = 0;
}

/* ---- the log ------------------------------------------------------------- */

static void put_varint(zv_buf *b, uint32_t v)
{
    unsigned char c[5];
    size_t n = 0;
    do {
        c[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v) c[n] |= 0x80;
        n++;
    } while (v);
    zv_buf_append(b, c, n);
}

int sig_get_varint(const unsigned char **p, const unsigned char *end, uint32_t *out)
{
    uint32_t v = 0;
    for (int shift = 0; shift < 35 && *p < end; shift += 7) {
        unsigned char c = *(*p)++;
        v |= (uint32_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

static void encode_ent(const sig_mem *m, const sig_ent *e, zv_buf *b)
{
    uint32_t k = 0;
    for (size_t i = 0; i < m->nmeasures; i++)
        k += e->slot[i].cell >= 0;
    put_varint(b, e->period);
    zv_buf_append(b, e->key, SIG_KEY_BYTES);
    put_varint(b, k);
    for (size_t i = 0; i < m->nmeasures; i++) {
        if (e->slot[i].cell < 0) continue;
        put_varint(b, (uint32_t)i);
        put_varint(b, (uint32_t)e->slot[i].cell);
        put_varint(b, (uint32_t)e->slot[i].day);
    }
}

static int add_row(sig_state *st, const zv_buf *b)
{
    if (b->oom) return -1;
    sqlite3_stmt *s = st->change_add;
    sqlite3_reset(s);
    sqlite3_bind_blob(s, 1, b->data, (int)b->len, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Entries (the dirty ones, or all for a snapshot) in rows of ROW_ENTRIES. */
static int write_rows(sig_state *st, int all)
{
    sig_mem *m = &st->mem;
    size_t n = all ? m->n : m->dirty.n, inrow = 0;
    zv_buf b;
    zv_buf_init(&b);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        encode_ent(m, ent_at(m, all ? i : (size_t)m->dirty.v[i]), &b);
        if (++inrow == ROW_ENTRIES || i + 1 == n) {
            rc = add_row(st, &b);
            zv_buf_reset(&b);
            inrow = 0;
        }
    }
    zv_buf_free(&b);
    return rc;
}

int sig_mem_flush(sig_state *st)
{
    sig_mem *m = &st->mem;
    if (m->dirty.n == 0) return 0;
    int64_t logged = m->logged + (int64_t)m->dirty.n;
    int snapshot = logged > 2 * (int64_t)m->n + SNAPSHOT_MIN;
    if (snapshot && sqlite3_exec(st->db, "DELETE FROM changes", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    if (write_rows(st, snapshot) != 0) return -1;
    m->logged = snapshot ? (int64_t)m->n : logged;
    return 0;
}

/* One row of changes into memory; -1 when it does not decode or names a
 * number the dictionaries do not know (a damaged state, not read on). */
static int replay_row(sig_state *st, const unsigned char *p, size_t len, sig_slot *now)
{
    sig_mem *m = &st->mem;
    const unsigned char *end = p + len;
    while (p < end) {
        uint32_t period, k;
        if (sig_get_varint(&p, end, &period) != 0 || period >= st->periods.n ||
            (size_t)(end - p) < SIG_KEY_BYTES)
            return -1;
        const unsigned char *key = p;
        p += SIG_KEY_BYTES;
        if (sig_get_varint(&p, end, &k) != 0 || k > m->nmeasures) return -1;
        long ei = ent_get(m, period, key);
        if (ei < 0) return -1;
        for (size_t i = 0; i < m->nmeasures; i++)
            now[i] = (sig_slot){-1, 0};
        for (uint32_t j = 0; j < k; j++) {
            uint32_t ms, cell, day;
            if (sig_get_varint(&p, end, &ms) != 0 || sig_get_varint(&p, end, &cell) != 0 ||
                sig_get_varint(&p, end, &day) != 0 || ms >= m->nmeasures ||
                cell >= st->cellnames.n || day > INT32_MAX)
                return -1;
            now[ms] = (sig_slot){(int32_t)cell, (int32_t)day};
        }
        for (size_t i = 0; i < m->nmeasures; i++)
            if (assign(m, ei, (uint32_t)i, now[i].cell, now[i].day, 0) != 0) return -1;
        m->logged++;
    }
    return 0;
}

int sig_mem_load(sig_state *st)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT data FROM changes ORDER BY seq", -1, &s, NULL) !=
        SQLITE_OK)
        return -1;
    sig_slot *now = malloc((st->mem.nmeasures ? st->mem.nmeasures : 1) * sizeof(*now));
    int rc = now ? SQLITE_ROW : SQLITE_NOMEM;
    while (now && (rc = sqlite3_step(s)) == SQLITE_ROW)
        if (replay_row(st, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0), now) != 0)
            break;
    sqlite3_finalize(s);
    free(now);
    return rc == SQLITE_DONE ? 0 : -1;
}
