/* A measure's table for one period: cells, margins (two dimensions), grand
 * total, and small-cell suppression.
 *
 * Primary: every published number 0 < n < k.  Secondary: in every line (a
 * row or column of cells with its margin, or the margins with the grand
 * total) a suppressed number must not be derivable from the rest: a line
 * with exactly one suppressed number gets another one (the smallest shown
 * cell, else its total), and a line whose shown total pins a suppressed cell
 * to one value given what a reader knows (a "<k" cell is 1..k-1, a secondary
 * one at least k) gets another one too.  Repeated until no line changes.
 * Then the whole table: every suppressed number must keep at least two
 * values consistent with all lines at once (interval propagation and a
 * bounded search, the same reasoning as the attack in
 * tests/integration/signals_recover.py); a pinned one gets a neighbour
 * suppressed, and the line rules run again. */
#include "signals.h"

#include <stdlib.h>
#include <string.h>

static int add_entry(sig_table *t, const char *v0, size_t l0, const char *v1, size_t l1,
                     int64_t count)
{
    sig_entry *ne = realloc(t->e, (t->n + 1) * sizeof(*ne));
    if (!ne) return -1;
    t->e = ne;
    sig_entry *e = &t->e[t->n];
    memset(e, 0, sizeof(*e));
    e->count = count;
    if (v0 && !(e->values[0] = strndup(v0, l0))) return -1;
    if (v1 && !(e->values[1] = strndup(v1, l1))) return -1;
    t->n++;
    return 0;
}

int sig_table_add_cell(sig_table *t, const char *cell, int64_t count)
{
    if (t->ndims == 0) return add_entry(t, NULL, 0, NULL, 0, count);
    const char *sep = strchr(cell, SIG_CELL_SEP);
    size_t l0 = sep ? (size_t)(sep - cell) : strlen(cell);
    if (t->ndims == 1) return add_entry(t, cell, l0, NULL, 0, count);
    if (!sep) return -1;
    return add_entry(t, cell, l0, sep + 1, strlen(sep + 1), count);
}

static int same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Index of the margin entry for value v of dimension d, adding it. */
static int margin(sig_table *t, int d, const char *v, size_t *idx)
{
    for (size_t i = t->ncells; i < t->n; i++)
        if (same(t->e[i].values[d], v) && !t->e[i].values[1 - d]) {
            *idx = i;
            return 0;
        }
    *idx = t->n;
    return d == 0 ? add_entry(t, v, strlen(v), NULL, 0, 0) : add_entry(t, NULL, 0, v, strlen(v), 0);
}

static int add_totals(sig_table *t)
{
    t->ncells = t->ndims == 0 ? 0 : t->n;
    int64_t grand = 0;
    for (size_t i = 0; i < t->n; i++)
        grand += t->e[i].count;
    if (t->ndims == 0) { /* the single count is the grand total itself */
        for (size_t i = 0; i < t->n; i++) {
            free(t->e[i].values[0]);
            free(t->e[i].values[1]);
        }
        t->n = 0;
    }
    for (size_t i = 0; t->ndims == 2 && i < t->ncells; i++)
        for (int d = 0; d < 2; d++) {
            size_t m;
            if (margin(t, d, t->e[i].values[d], &m) != 0) return -1;
            t->e[m].count += t->e[i].count;
        }
    return add_entry(t, NULL, 0, NULL, 0, grand);
}

typedef struct line {
    size_t *members, n, total;
} line;

/* Members of the line of entry `total`: cells under a margin, margins under
 * the grand total (one line per dimension). */
static size_t collect(const sig_table *t, size_t total, int dim, size_t *out)
{
    size_t n = 0;
    const sig_entry *T = &t->e[total];
    int grand = total == t->n - 1;
    for (size_t i = 0; i < t->n - 1; i++) {
        const sig_entry *e = &t->e[i];
        int is_cell = i < t->ncells;
        if (grand) {
            if (t->ndims == 1 ? is_cell : (!is_cell && e->values[dim] && !e->values[1 - dim]))
                out[n++] = i;
        } else if (is_cell) {
            int d = T->values[0] ? 0 : 1;
            if (same(e->values[d], T->values[d])) out[n++] = i;
        }
    }
    return n;
}

static int suppress_another(sig_table *t, const line *l)
{
    size_t best = (size_t)-1;
    for (size_t i = 0; i < l->n; i++) {
        const sig_entry *e = &t->e[l->members[i]];
        if (e->show == SIG_SHOWN && e->count > 0 &&
            (best == (size_t)-1 || e->count < t->e[best].count))
            best = l->members[i];
    }
    if (best == (size_t)-1 && t->e[l->total].show == SIG_SHOWN) best = l->total;
    if (best == (size_t)-1) return 0;
    t->e[best].show = SIG_SECONDARY;
    return 1;
}

/* 1 when a reader could pin a suppressed member from the shown total. */
static int pinned(const sig_table *t, const line *l, int64_t k)
{
    const sig_entry *T = &t->e[l->total];
    if (T->show != SIG_SHOWN) return 0;
    int64_t rest = T->count, sumlo = 0, sumhi = 0;
    for (size_t i = 0; i < l->n; i++) {
        const sig_entry *e = &t->e[l->members[i]];
        if (e->show == SIG_SHOWN) rest -= e->count;
    }
    for (size_t i = 0; i < l->n; i++) {
        const sig_entry *e = &t->e[l->members[i]];
        if (e->show == SIG_SHOWN) continue;
        sumlo += e->show == SIG_PRIMARY ? 1 : k;
        sumhi += e->show == SIG_PRIMARY ? k - 1 : rest;
    }
    for (size_t i = 0; i < l->n; i++) {
        const sig_entry *e = &t->e[l->members[i]];
        if (e->show == SIG_SHOWN) continue;
        int64_t lo = e->show == SIG_PRIMARY ? 1 : k, hi = e->show == SIG_PRIMARY ? k - 1 : rest;
        int64_t lo2 = rest - (sumhi - hi), hi2 = rest - (sumlo - lo);
        if (lo2 > lo) lo = lo2;
        if (hi2 < hi) hi = hi2;
        if (lo >= hi) return 1;
    }
    return 0;
}

static int protect(sig_table *t, const line *l, int64_t k)
{
    size_t s = t->e[l->total].show != SIG_SHOWN;
    for (size_t i = 0; i < l->n; i++)
        s += t->e[l->members[i]].show != SIG_SHOWN;
    if (s == 0) return 0;
    if (s == 1 || pinned(t, l, k)) return suppress_another(t, l);
    return 0;
}

static int build_lines(const sig_table *t, line **out, size_t *nout)
{
    size_t cap = t->n + 2;
    line *ls = calloc(cap, sizeof(*ls));
    if (!ls) return -1;
    size_t n = 0;
    for (size_t i = (t->ndims == 2 ? t->ncells : t->n - 1); i < t->n; i++) {
        int ndim = i == t->n - 1 && t->ndims == 2 ? 2 : 1;
        for (int d = 0; d < ndim; d++) {
            ls[n].members = calloc(t->n, sizeof(size_t));
            if (!ls[n].members) {
                *out = ls, *nout = n;
                return -1;
            }
            ls[n].total = i;
            ls[n].n = collect(t, i, d, ls[n].members);
            n++;
        }
    }
    *out = ls;
    *nout = n;
    return 0;
}

/* ---- whole-table check: what a reader can derive ---- */

typedef struct reader {
    const sig_table *t;
    const line *ls;
    size_t nl;
    long budget; /* search nodes left; out of budget counts as pinned */
} reader;

/* Narrow lo/hi with every line (total = sum of members); 0 if infeasible. */
static int narrow(const reader *r, int64_t *lo, int64_t *hi)
{
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t li = 0; li < r->nl; li++) {
            const line *l = &r->ls[li];
            /* members - total = 0 */
            int64_t smin = -hi[l->total], smax = -lo[l->total];
            for (size_t i = 0; i < l->n; i++)
                smin += lo[l->members[i]], smax += hi[l->members[i]];
            if (smin > 0 || smax < 0) return 0;
            for (size_t i = 0; i <= l->n; i++) {
                size_t v = i < l->n ? l->members[i] : l->total;
                int pos = i < l->n;
                int64_t tmin = smin - (pos ? lo[v] : -hi[v]), tmax = smax - (pos ? hi[v] : -lo[v]);
                int64_t nlo = pos ? -tmax : tmin, nhi = pos ? -tmin : tmax;
                if (nlo > lo[v]) lo[v] = nlo, changed = 1;
                if (nhi < hi[v]) hi[v] = nhi, changed = 1;
                if (lo[v] > hi[v]) return 0;
                smin = tmin + (pos ? lo[v] : -hi[v]);
                smax = tmax + (pos ? hi[v] : -lo[v]);
            }
        }
    }
    return 1;
}

/* 1 if some assignment within lo/hi satisfies every line; -1 out of budget. */
static int satisfiable(reader *r, const int64_t *lo0, const int64_t *hi0)
{
    if (--r->budget < 0) return -1;
    size_t n = r->t->n;
    int64_t *lo = malloc(2 * n * sizeof(int64_t));
    if (!lo) return -1;
    int64_t *hi = lo + n;
    memcpy(lo, lo0, n * sizeof(int64_t));
    memcpy(hi, hi0, n * sizeof(int64_t));
    int rc = narrow(r, lo, hi);
    size_t pick = n;
    for (size_t i = 0; rc == 1 && i < n; i++)
        if (lo[i] < hi[i] && (pick == n || hi[i] - lo[i] < hi[pick] - lo[pick])) pick = i;
    if (rc == 1 && pick < n) {
        int64_t a = lo[pick], b = hi[pick];
        rc = 0;
        for (int64_t v = a; v <= b && rc == 0; v++) {
            lo[pick] = hi[pick] = v;
            rc = satisfiable(r, lo, hi);
            if (rc == 0) { /* restore the others for the next value */
                memcpy(lo, lo0, n * sizeof(int64_t));
                memcpy(hi, hi0, n * sizeof(int64_t));
                narrow(r, lo, hi);
            }
        }
    }
    free(lo);
    return rc;
}

/* The reader's bounds: shown numbers exact, "<k" 1..k-1, "x" k..ub. */
static void reader_bounds(const sig_table *t, int64_t k, int64_t *lo, int64_t *hi)
{
    int64_t ub = 50 * k;
    for (size_t i = 0; i < t->n; i++)
        if (t->e[i].show == SIG_SHOWN) ub += t->e[i].count;
    for (size_t i = 0; i < t->n; i++) {
        const sig_entry *e = &t->e[i];
        lo[i] = e->show == SIG_SHOWN ? e->count : e->show == SIG_PRIMARY ? 1 : k;
        hi[i] = e->show == SIG_SHOWN ? e->count : e->show == SIG_PRIMARY ? k - 1 : ub;
    }
}

/* Index of a suppressed entry a reader can pin to one value, or t->n. */
static size_t find_pinned(const sig_table *t, const line *ls, size_t nl, int64_t k)
{
    size_t n = t->n;
    int64_t *lo = malloc(4 * n * sizeof(int64_t));
    if (!lo) return 0;
    int64_t *hi = lo + n, *l2 = hi + n, *h2 = l2 + n;
    reader_bounds(t, k, lo, hi);
    size_t found = n;
    for (size_t u = 0; u < n && found == n; u++) {
        if (t->e[u].show == SIG_SHOWN) continue;
        reader r = {.t = t, .ls = ls, .nl = nl, .budget = 20000};
        int values = 0;
        for (int64_t v = lo[u]; v <= hi[u] && values < 2; v++) {
            memcpy(l2, lo, n * sizeof(int64_t));
            memcpy(h2, hi, n * sizeof(int64_t));
            l2[u] = h2[u] = v;
            int s = satisfiable(&r, l2, h2);
            if (s < 0) break; /* cannot tell: treat as pinned */
            values += s;
        }
        if (values < 2) found = u;
    }
    free(lo);
    return found;
}

/* Suppress the smallest shown number on a line through entry u. */
static int suppress_near(sig_table *t, const line *ls, size_t nl, size_t u)
{
    size_t best = t->n;
    for (size_t li = 0; li < nl; li++) {
        const line *l = &ls[li];
        int on = l->total == u;
        for (size_t i = 0; i < l->n && !on; i++)
            on = l->members[i] == u;
        if (!on) continue;
        for (size_t i = 0; i <= l->n; i++) {
            size_t v = i < l->n ? l->members[i] : l->total;
            if (t->e[v].show == SIG_SHOWN && t->e[v].count > 0 &&
                (best == t->n || t->e[v].count < t->e[best].count))
                best = v;
        }
    }
    for (size_t v = 0; best == t->n && v < t->n; v++) /* none on its lines: any */
        if (t->e[v].show == SIG_SHOWN && t->e[v].count > 0 &&
            (best == t->n || t->e[v].count < t->e[best].count))
            best = v;
    if (best == t->n) return 0;
    t->e[best].show = SIG_SECONDARY;
    return 1;
}

int sig_table_finish(sig_table *t, int64_t k)
{
    if (add_totals(t) != 0) return -1;
    for (size_t i = 0; i < t->n; i++)
        if (t->e[i].count > 0 && t->e[i].count < k) t->e[i].show = SIG_PRIMARY;
    line *ls = NULL;
    size_t nl = 0;
    int rc = build_lines(t, &ls, &nl);
    for (int again = rc == 0; again;) {
        for (int changed = 1; changed;) {
            changed = 0;
            for (size_t i = 0; i < nl; i++)
                changed |= protect(t, &ls[i], k);
        }
        size_t u = find_pinned(t, ls, nl, k);
        again = u < t->n && suppress_near(t, ls, nl, u);
    }
    for (size_t i = 0; i < nl; i++)
        free(ls[i].members);
    free(ls);
    return rc;
}

void sig_table_clear(sig_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->e[i].values[0]);
        free(t->e[i].values[1]);
    }
    free(t->e);
    t->e = NULL;
    t->n = t->ncells = 0;
}
