/* The minimiser: only catalogued fields at or above the destination's
 * threshold whose condition holds leave the core.  Decisions are counted per
 * field (never with values) for the audit report. */
#include "catalogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { D_NONE = -1, D_KEPT = 0, D_DROPPED, D_NA, D_MISSING, D_COUNT };

struct zv_minimiser {
    const zv_catalogue *cat;
    zv_level threshold;
    int64_t counts[ZV_FIELD_COUNT][D_COUNT];
    /* The last view (zv_minimise_view): a record without an arena whose
     * values point into the record it was made from; set[0..nset) are the
     * ids it shows, so the next call clears only those. */
    zv_record view;
    zv_value values[ZV_FIELD_COUNT];
    uint16_t set[ZV_FIELD_COUNT];
    size_t nset;
};

zv_minimiser *zv_minimiser_new(const zv_catalogue *cat, zv_level threshold)
{
    if (!cat || (unsigned)threshold >= ZV_LEVEL_COUNT) return NULL;
    zv_minimiser *m = calloc(1, sizeof(*m));
    if (!m) return NULL;
    m->cat = cat;
    m->threshold = threshold;
    m->view.nfields = ZV_FIELD_COUNT;
    m->view.values = m->values;
    return m;
}

void zv_minimiser_free(zv_minimiser *m)
{
    free(m);
}

/* One decision per catalogue entry and record; D_NONE when there is
 * nothing to decide (an absent value nobody demands). */
static int decide(const zv_minimiser *m, const zv_cat_entry *e, const zv_record *rec)
{
    int present = zv_rec_get(rec, (zv_field_id)e->field) != NULL;
    if (e->level > m->threshold) return present ? D_DROPPED : D_NONE;
    if (!zv_cond_eval(e->condition, rec)) return present ? D_NA : D_NONE;
    if (present) return D_KEPT;
    if (e->level <= ZV_LEVEL_STANDARD && !e->optional) return D_MISSING;
    return D_NONE;
}

/* Points m's view at the kept values of rec: nothing is copied, and what
 * was decided against is never in it. */
static const zv_record *show(zv_minimiser *m, const zv_record *rec, const unsigned char *keep)
{
    zv_record *v = &m->view;
    for (size_t i = 0; i < m->nset; i++)
        memset(&m->values[m->set[i]], 0, sizeof(m->values[0]));
    m->nset = 0;
    v->kind = rec->kind;
    v->prov = rec->prov;
    for (uint32_t f = 0; f < rec->nfields && f < ZV_FIELD_COUNT; f++) {
        if (!keep[f] || !rec->values[f].str) continue;
        m->values[f] = rec->values[f];
        /* The record's own provenance is the view's own (the encoding and
         * zv_record_copy tell it from a value's foreign one by address). */
        if (m->values[f].prov == &rec->prov) m->values[f].prov = &v->prov;
        m->set[m->nset++] = (uint16_t)f;
    }
    return v;
}

zv_min_result zv_minimise_view(zv_minimiser *m, const zv_record *rec, const zv_record **view,
                               char *field, size_t fieldlen, char *reason, size_t reasonlen)
{
    size_t n = zv_catalogue_count(m->cat);
    signed char dec[ZV_FIELD_COUNT];
    unsigned char keep[ZV_FIELD_COUNT] = {0};
    const zv_cat_entry *missing = NULL;
    *view = NULL;
    for (size_t i = 0; i < n && i < ZV_FIELD_COUNT; i++) {
        const zv_cat_entry *e = zv_catalogue_entry(m->cat, i);
        dec[i] = (signed char)decide(m, e, rec);
        if (dec[i] == D_KEPT) keep[e->field] = 1;
        if (dec[i] == D_MISSING && !missing) missing = e;
    }
    if (missing) {
        /* The record goes to quarantine whole: count only what is missing. */
        for (size_t i = 0; i < n && i < ZV_FIELD_COUNT; i++)
            if (dec[i] == D_MISSING) m->counts[zv_catalogue_entry(m->cat, i)->field][D_MISSING]++;
        const char *name = zv_field_def_of((zv_field_id)missing->field)->name;
        if (field && fieldlen) snprintf(field, fieldlen, "%s", name);
        if (reason && reasonlen)
            snprintf(reason, reasonlen, "%s (%s) is required at level %s by %s but absent", name,
                     missing->element, zv_level_name(missing->level), missing->citation);
        return ZV_MIN_MISSING;
    }
    for (size_t i = 0; i < n && i < ZV_FIELD_COUNT; i++)
        if (dec[i] != D_NONE) m->counts[zv_catalogue_entry(m->cat, i)->field][dec[i]]++;
    *view = show(m, rec, keep);
    return ZV_MIN_OK;
}

zv_min_result zv_minimise(zv_minimiser *m, const zv_record *rec, zv_record **out, char *field,
                          size_t fieldlen, char *reason, size_t reasonlen)
{
    const zv_record *view;
    *out = NULL;
    zv_min_result r = zv_minimise_view(m, rec, &view, field, fieldlen, reason, reasonlen);
    if (r != ZV_MIN_OK) return r;
    /* A copy of the kept fields only; the dropped ones were never copied. */
    return (*out = zv_record_copy(view)) ? ZV_MIN_OK : ZV_MIN_ERROR;
}

void zv_minimiser_drain_counts(zv_minimiser *m, zv_min_count_cb cb, void *arg)
{
    for (int f = 0; f < ZV_FIELD_COUNT; f++) {
        int64_t *c = m->counts[f];
        if (!c[D_KEPT] && !c[D_DROPPED] && !c[D_NA] && !c[D_MISSING]) continue;
        cb(zv_field_def_of((zv_field_id)f)->name, c[D_KEPT], c[D_DROPPED], c[D_NA], c[D_MISSING],
           arg);
        memset(c, 0, sizeof(m->counts[f]));
    }
}
