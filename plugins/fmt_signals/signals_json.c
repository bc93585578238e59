/* The JSON document of a period (conf/schema/signals.schema.json). */
#include <stdio.h>
#include <string.h>
#include <zinvol/util.h>

#include "signals_fmt.h"

static void write_count(zv_jw *w, const sig_entry *e, int64_t k)
{
    char buf[32];
    if (e->show == SIG_PRIMARY) {
        snprintf(buf, sizeof(buf), "<%lld", (long long)k);
        zv_jw_str(w, buf);
    } else if (e->show == SIG_SECONDARY) {
        zv_jw_str(w, "x");
    } else {
        zv_jw_int(w, e->count);
    }
}

static void write_values(zv_jw *w, const sig_entry *e, size_t ndims)
{
    zv_jw_arr_open(w);
    for (size_t d = 0; d < ndims; d++)
        if (e->values[d])
            zv_jw_str(w, e->values[d]);
        else
            zv_jw_null(w);
    zv_jw_arr_close(w);
}

static int add_cell(const char *cell, int64_t count, void *arg)
{
    return sig_table_add_cell(arg, cell, count);
}

int sig_measure_table(sig_fmt *f, const sig_measure *m, const char *label, sig_table *t)
{
    memset(t, 0, sizeof(*t));
    t->ndims = m->ndims;
    if (sig_state_cells(f->state, m->id, label, add_cell, t) != 0 ||
        sig_table_finish(t, f->k) != 0) {
        sig_table_clear(t);
        return -1;
    }
    return 0;
}

static void write_entries(zv_jw *w, const sig_table *t, size_t from, size_t to, int64_t k)
{
    zv_jw_arr_open(w);
    for (size_t i = from; i < to; i++) {
        zv_jw_obj_open(w);
        zv_jw_key(w, "values"), write_values(w, &t->e[i], t->ndims);
        zv_jw_key(w, "count"), write_count(w, &t->e[i], k);
        zv_jw_obj_close(w);
    }
    zv_jw_arr_close(w);
}

static void write_measure(zv_jw *w, const sig_measure *m, const sig_table *t, int64_t k)
{
    zv_jw_obj_open(w);
    zv_jw_key(w, "id"), zv_jw_str(w, m->id);
    zv_jw_key(w, "title"), zv_jw_str(w, m->title);
    zv_jw_key(w, "purpose"), zv_jw_str(w, m->purpose);
    zv_jw_key(w, "citation"), zv_jw_str(w, m->citation);
    zv_jw_key(w, "dimensions");
    zv_jw_arr_open(w);
    for (size_t d = 0; d < m->ndims; d++)
        zv_jw_str(w, sig_dim_name(m->dims[d]));
    zv_jw_arr_close(w);
    zv_jw_key(w, "cells"), write_entries(w, t, 0, t->ncells, k);
    zv_jw_key(w, "margins"), write_entries(w, t, t->ncells, t->n - 1, k);
    zv_jw_key(w, "total"), write_count(w, &t->e[t->n - 1], k);
    zv_jw_obj_close(w);
}

void sig_write_document(sig_fmt *f, zv_jw *w, const zv_batch *b, const sig_period_ref *p,
                        const sig_table *tables, const sig_doc_extra *extra)
{
    char generated[21];
    zv_time_iso(b->now, generated);
    zv_jw_obj_open(w);
    zv_jw_key(w, "format"), zv_jw_str(w, "zinvol-signals");
    zv_jw_key(w, "version"), zv_jw_int(w, 1);
    zv_jw_key(w, "destination"), zv_jw_str(w, b->destination);
    zv_jw_key(w, "batch_id"), zv_jw_str(w, b->batch_id);
    zv_jw_key(w, "generated"), zv_jw_str(w, generated);
    zv_jw_key(w, "signal_set"), zv_jw_str(w, f->set->name);
    zv_jw_key(w, "description"), zv_jw_str(w, f->set->description);
    zv_jw_key(w, "period");
    zv_jw_obj_open(w);
    zv_jw_key(w, "kind"), zv_jw_str(w, sig_period_name(f->set->period));
    zv_jw_key(w, "label"), zv_jw_str(w, p->label);
    zv_jw_key(w, "start"), zv_jw_str(w, p->start);
    zv_jw_key(w, "end"), zv_jw_str(w, p->end);
    zv_jw_obj_close(w);
    zv_jw_key(w, "k"), zv_jw_int(w, f->k);
    if (extra) {
        zv_jw_key(w, "final"), zv_jw_bool(w, extra->final);
        zv_jw_key(w, "revision"), zv_jw_int(w, extra->revision);
        zv_jw_key(w, "narrative"), zv_jw_str(w, extra->narrative);
    }
    zv_jw_key(w, "measures");
    zv_jw_arr_open(w);
    for (size_t i = 0; i < f->set->nmeasures; i++)
        write_measure(w, &f->set->measures[i], &tables[i], f->k);
    zv_jw_arr_close(w);
    zv_jw_obj_close(w);
}
