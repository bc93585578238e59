/* The audit report as JSON: the stable, documented form
 * (conf/schema/audit-report.schema.json).  Keys and flag ids are English;
 * adding members is compatible, renaming them is a version bump. */
#include "audit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_VERSION 1

static const char *fname(int field)
{
    return zv_field_def_of((zv_field_id)field)->name;
}

static void counts_obj(zv_jw *w, const zv_audit_counts *n)
{
    zv_jw_obj_open(w);
    zv_jw_key(w, "kept");
    zv_jw_int(w, n->kept);
    zv_jw_key(w, "dropped");
    zv_jw_int(w, n->dropped);
    zv_jw_key(w, "not_applicable");
    zv_jw_int(w, n->not_applicable);
    zv_jw_key(w, "missing");
    zv_jw_int(w, n->missing);
    zv_jw_key(w, "delivered");
    zv_jw_int(w, n->delivered);
    zv_jw_key(w, "clients");
    zv_jw_int(w, n->clients);
    zv_jw_key(w, "client_messages");
    zv_jw_int(w, n->sends);
    zv_jw_key(w, "max_per_client");
    zv_jw_int(w, n->max_per_client);
    zv_jw_key(w, "duplicate_clients");
    zv_jw_int(w, n->dup_clients);
    zv_jw_obj_close(w);
}

static void flag_ids(zv_jw *w, unsigned flags)
{
    zv_jw_arr_open(w);
    for (int k = 0; k < ZV_FLAG_COUNT; k++)
        if (flags & (1u << k)) zv_jw_str(w, zv_flag_id((zv_flag_kind)k));
    zv_jw_arr_close(w);
}

static void legal_obj(zv_jw *w, const zv_audit_report *r, size_t row)
{
    zv_audit_legal lg;
    zv_audit_legal_of(r, row, &lg);
    zv_jw_obj_open(w);
    zv_jw_key(w, "required");
    zv_jw_bool(w, lg.required);
    zv_jw_key(w, "route");
    zv_jw_str(w, zv_route_id(lg.route));
    zv_jw_key(w, "chain");
    zv_jw_arr_open(w);
    for (size_t i = 0; i < lg.nlinks; i++) {
        zv_jw_obj_open(w);
        zv_jw_key(w, "instrument");
        zv_jw_str(w, lg.links[i]->instrument);
        zv_jw_key(w, "verified");
        zv_jw_str(w, zv_verified_name(lg.links[i]->verified));
        zv_jw_key(w, "source");
        zv_jw_str(w, lg.links[i]->source);
        zv_jw_obj_close(w);
    }
    zv_jw_arr_close(w);
    zv_jw_key(w, "unverified");
    zv_jw_bool(w, lg.unverified);
    zv_jw_key(w, "note");
    zv_jw_str(w, lg.note);
    zv_jw_obj_close(w);
}

static void field_obj(zv_jw *w, const zv_audit_report *r, size_t ri)
{
    const zv_audit_row *row = &r->rows[ri];
    const zv_cat_entry *e = row->entry;
    zv_jw_obj_open(w);
    zv_jw_key(w, "field");
    zv_jw_str(w, fname(e->field));
    zv_jw_key(w, "description");
    zv_jw_str(w, zv_field_def_of((zv_field_id)e->field)->description);
    zv_jw_key(w, "element");
    zv_jw_str(w, e->element);
    zv_jw_key(w, "level");
    zv_jw_str(w, zv_level_name(e->level));
    zv_jw_key(w, "citation");
    zv_jw_str(w, e->citation);
    zv_jw_key(w, "optional");
    zv_jw_bool(w, e->optional);
    zv_jw_key(w, "condition");
    if (e->condition) {
        char *c = zv_cond_describe(e->condition);
        zv_jw_str(w, c ? c : "?");
        free(c);
    } else {
        zv_jw_null(w);
    }
    zv_jw_key(w, "frequency");
    zv_jw_str(w, e->frequency);
    zv_jw_key(w, "derivable_from");
    zv_jw_arr_open(w);
    for (size_t k = 0; k < e->nderivable; k++)
        zv_jw_str(w, e->derivable_from[k]);
    zv_jw_arr_close(w);
    zv_jw_key(w, "purpose");
    zv_jw_str(w, e->purpose);
    zv_jw_key(w, "overridden");
    zv_jw_bool(w, e->overridden);
    zv_jw_key(w, "selected");
    zv_jw_bool(w, row->selected);
    /* What was rendered and delivered (the trail), not what the threshold lets through. */
    zv_jw_key(w, "sent");
    if (row->sent < 0)
        zv_jw_null(w);
    else
        zv_jw_bool(w, row->sent);
    zv_jw_key(w, "read");
    zv_jw_bool(w, row->read);
    zv_jw_key(w, "counts");
    counts_obj(w, &row->n);
    zv_jw_key(w, "flags");
    flag_ids(w, row->flags);
    zv_jw_key(w, "legal");
    legal_obj(w, r, ri);
    zv_jw_obj_close(w);
}

static void message_obj(zv_jw *w, const zv_audit_report *r, size_t d, size_t m)
{
    const zv_audit_msg *msg = &r->in->dests[d].msgs[m];
    zv_jw_obj_open(w);
    zv_jw_key(w, "message");
    zv_jw_str(w, msg->message);
    zv_jw_key(w, "catalogue");
    zv_jw_str(w, zv_catalogue_id(msg->cat));
    zv_jw_key(w, "standard");
    zv_jw_str(w, zv_catalogue_standard(msg->cat));
    zv_jw_key(w, "purpose");
    zv_jw_str(w, zv_catalogue_purpose(msg->cat));
    zv_jw_key(w, "signal_set");
    zv_jw_str(w, zv_catalogue_signal_set(msg->cat));
    zv_jw_key(w, "maximum");
    const char *mc = zv_catalogue_max_citation(msg->cat);
    if (mc) {
        zv_jw_obj_open(w);
        zv_jw_key(w, "citation");
        zv_jw_str(w, mc);
        zv_jw_key(w, "fields");
        zv_jw_arr_open(w);
        for (int f = 0; f < ZV_FIELD_COUNT; f++)
            if (zv_catalogue_max_allows(msg->cat, f)) zv_jw_str(w, fname(f));
        zv_jw_arr_close(w);
        zv_jw_obj_close(w);
    } else {
        zv_jw_null(w);
    }
    zv_jw_key(w, "fields");
    zv_jw_arr_open(w);
    for (size_t i = 0; i < r->nrows; i++)
        if (r->rows[i].dest == d && r->rows[i].msg == m) field_obj(w, r, i);
    zv_jw_arr_close(w);
    zv_jw_obj_close(w);
}

static void dest_obj(zv_jw *w, const zv_audit_report *r, size_t d)
{
    const zv_audit_dest *dest = &r->in->dests[d];
    zv_jw_obj_open(w);
    zv_jw_key(w, "name");
    zv_jw_str(w, dest->name);
    zv_jw_key(w, "format");
    zv_jw_str(w, dest->format);
    zv_jw_key(w, "threshold");
    zv_jw_str(w, zv_level_name(dest->threshold));
    zv_jw_key(w, "schedule");
    zv_jw_str(w, dest->schedule ? dest->schedule : "event");
    zv_jw_key(w, "aggregate");
    zv_jw_bool(w, dest->aggregate);
    zv_jw_key(w, "personal_fields");
    zv_jw_int(w, (int64_t)zv_audit_personal_fields(r, d));
    /* The answer users ask for first: of the fields this destination gets,
     * how many are legally required, and by which route the rest is asked. */
    int64_t req = 0, notreq = 0, unver = 0, by_route[ZV_ROUTE_NONE + 1] = {0};
    for (size_t i = 0; i < r->nrows; i++) {
        if (r->rows[i].dest != d || !r->rows[i].selected) continue;
        zv_audit_legal lg;
        zv_audit_legal_of(r, i, &lg);
        if (lg.required)
            req++;
        else
            notreq++;
        if (lg.required && lg.unverified) unver++;
        by_route[lg.route]++;
    }
    zv_jw_key(w, "legal_split");
    zv_jw_obj_open(w);
    zv_jw_key(w, "legally_required");
    zv_jw_int(w, req);
    zv_jw_key(w, "legally_required_unverified");
    zv_jw_int(w, unver);
    zv_jw_key(w, "not_legally_required");
    zv_jw_int(w, notreq);
    zv_jw_key(w, "by_route");
    zv_jw_obj_open(w);
    for (int k = 0; k <= ZV_ROUTE_NONE; k++) {
        zv_jw_key(w, zv_route_id((zv_route)k));
        zv_jw_int(w, by_route[k]);
    }
    zv_jw_obj_close(w);
    zv_jw_obj_close(w);
    zv_jw_key(w, "messages");
    zv_jw_arr_open(w);
    for (size_t m = 0; m < dest->nmsgs; m++)
        message_obj(w, r, d, m);
    zv_jw_arr_close(w);
    zv_jw_obj_close(w);
}

static void flag_obj(zv_jw *w, const zv_audit_report *r, const zv_audit_flag *f)
{
    zv_jw_obj_open(w);
    zv_jw_key(w, "id");
    zv_jw_str(w, zv_flag_id(f->kind));
    zv_jw_key(w, "field");
    zv_jw_str(w, fname(f->field));
    if (f->row != SIZE_MAX) {
        const zv_audit_row *row = &r->rows[f->row];
        const zv_audit_dest *dest = &r->in->dests[row->dest];
        zv_jw_key(w, "destination");
        zv_jw_str(w, dest->name);
        zv_jw_key(w, "message");
        zv_jw_str(w, dest->msgs[row->msg].message);
        zv_jw_key(w, "level");
        zv_jw_str(w, zv_level_name(row->entry->level));
    } else {
        zv_jw_key(w, "source");
        zv_jw_str(w, r->in->sources[f->source].name);
    }
    if (f->kind == ZV_FLAG_DUPLICATE) {
        size_t idx[64];
        size_t n = zv_audit_senders(r, f->field, idx, 64);
        zv_jw_key(w, "destinations");
        zv_jw_arr_open(w);
        for (size_t i = 0; i < n && i < 64; i++) {
            const char *name = r->in->dests[idx[i]].name;
            zv_jw_obj_open(w);
            zv_jw_key(w, "name");
            zv_jw_str(w, name);
            zv_jw_key(w, "delivered");
            int64_t del = 0;
            for (size_t k = 0; k < r->in->ncounts; k++)
                if (r->in->counts[k].field == f->field &&
                    strcmp(r->in->counts[k].destination, name) == 0)
                    del += r->in->counts[k].n.delivered;
            zv_jw_int(w, del);
            /* measured: clients whose value went both here and to the flagged row's destination */
            int64_t both = 0;
            const char *self = r->in->dests[r->rows[f->row].dest].name;
            for (size_t k = 0; k < r->in->npairs; k++)
                if (r->in->pairs[k].field == f->field &&
                    !strcmp(r->in->pairs[k].destination, self) &&
                    !strcmp(r->in->pairs[k].other, name))
                    both += r->in->pairs[k].clients;
            zv_jw_key(w, "shared_clients");
            zv_jw_int(w, both);
            zv_jw_obj_close(w);
        }
        zv_jw_arr_close(w);
    }
    zv_jw_key(w, "detail");
    zv_jw_str(w, f->detail);
    zv_jw_obj_close(w);
}

static void summary_obj(zv_jw *w, const zv_audit_report *r)
{
    int64_t by_level[ZV_LEVEL_COUNT] = {0}, selected = 0, sent = 0;
    int unknown = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        by_level[r->rows[i].entry->level]++;
        selected += r->rows[i].selected;
        sent += r->rows[i].sent > 0;
        unknown |= r->rows[i].sent < 0;
    }
    zv_jw_obj_open(w);
    zv_jw_key(w, "destinations");
    zv_jw_int(w, (int64_t)r->in->ndests);
    zv_jw_key(w, "fields_requested");
    zv_jw_int(w, (int64_t)r->nrows);
    zv_jw_key(w, "fields_selected");
    zv_jw_int(w, selected);
    zv_jw_key(w, "fields_sent");
    if (unknown)
        zv_jw_null(w);
    else
        zv_jw_int(w, sent);
    zv_jw_key(w, "by_level");
    zv_jw_obj_open(w);
    for (int l = 0; l < ZV_LEVEL_COUNT; l++) {
        zv_jw_key(w, zv_level_name((zv_level)l));
        zv_jw_int(w, by_level[l]);
    }
    zv_jw_obj_close(w);
    zv_jw_key(w, "flags");
    zv_jw_obj_open(w);
    for (int k = 0; k < ZV_FLAG_COUNT; k++) {
        zv_jw_key(w, zv_flag_id((zv_flag_kind)k));
        zv_jw_int(w, (int64_t)zv_audit_flag_count(r, SIZE_MAX, (zv_flag_kind)k));
    }
    zv_jw_obj_close(w);
    zv_jw_key(w, "flags_by_destination");
    zv_jw_obj_open(w);
    for (size_t d = 0; d < r->in->ndests; d++) {
        zv_jw_key(w, r->in->dests[d].name);
        zv_jw_obj_open(w);
        for (int k = 0; k < ZV_FLAG_COUNT; k++) {
            if (k == ZV_FLAG_COLLECTED_NEVER_REQUIRED) continue;
            zv_jw_key(w, zv_flag_id((zv_flag_kind)k));
            zv_jw_int(w, (int64_t)zv_audit_flag_count(r, d, (zv_flag_kind)k));
        }
        zv_jw_obj_close(w);
    }
    zv_jw_obj_close(w);
    zv_jw_obj_close(w);
}

static void sources_arr(zv_jw *w, const zv_audit_input *in)
{
    zv_jw_arr_open(w);
    for (size_t s = 0; s < in->nsources; s++) {
        zv_jw_obj_open(w);
        zv_jw_key(w, "name");
        zv_jw_str(w, in->sources[s].name);
        zv_jw_key(w, "fields");
        zv_jw_arr_open(w);
        /* In registry order, once each. */
        for (int f = 0; f < ZV_FIELD_COUNT; f++)
            for (size_t i = 0; i < in->sources[s].nfields; i++)
                if (in->sources[s].fields[i] == f) {
                    zv_jw_str(w, fname(f));
                    break;
                }
        zv_jw_arr_close(w);
        zv_jw_obj_close(w);
    }
    zv_jw_arr_close(w);
}

static void sva_party(zv_jw *w, const zv_audit_sva_party *p)
{
    zv_jw_obj_open(w);
    zv_jw_key(w, "party");
    zv_jw_str(w, p->party);
    zv_jw_key(w, "sent_by");
    zv_jw_arr_open(w);
    for (size_t i = 0; i < p->nsent_by; i++)
        zv_jw_str(w, p->sent_by[i]);
    zv_jw_arr_close(w);
    zv_jw_key(w, "sent_messages");
    zv_jw_int(w, p->sent_messages);
    zv_jw_key(w, "answers");
    zv_jw_int(w, p->answers);
    zv_jw_key(w, "sent_clients");
    zv_jw_int(w, p->sent_clients);
    zv_jw_key(w, "asked_clients");
    zv_jw_int(w, p->asked_clients);
    zv_jw_key(w, "fields");
    zv_jw_arr_open(w);
    for (size_t i = 0; i < p->nfields; i++) {
        const zv_audit_sva_field *f = &p->fields[i];
        zv_jw_obj_open(w);
        zv_jw_key(w, "field");
        zv_jw_str(w, fname(f->field));
        zv_jw_key(w, "sent_clients");
        zv_jw_int(w, f->sent_clients);
        zv_jw_key(w, "sent_messages");
        zv_jw_int(w, f->sent_messages);
        zv_jw_key(w, "asked_clients");
        zv_jw_int(w, f->asked_clients);
        zv_jw_key(w, "answers");
        zv_jw_int(w, f->answers);
        zv_jw_key(w, "sent_not_asked");
        zv_jw_int(w, f->sent_not_asked);
        zv_jw_key(w, "asked_not_sent");
        zv_jw_int(w, f->asked_not_sent);
        zv_jw_obj_close(w);
    }
    zv_jw_arr_close(w);
    zv_jw_obj_close(w);
}

/* Sent versus asked: only when a register answered queries in the period. */
static void sva_obj(zv_jw *w, const zv_audit_sva *s)
{
    zv_jw_key(w, "sent_versus_asked");
    zv_jw_obj_open(w);
    zv_jw_key(w, "registers");
    zv_jw_arr_open(w);
    int only_asked = 1;
    for (size_t i = 0; i < s->nregisters; i++) {
        const zv_audit_sva_register *g = &s->registers[i];
        only_asked &= g->notifications_with_fields == 0;
        zv_jw_obj_open(w);
        zv_jw_key(w, "destination");
        zv_jw_str(w, g->destination);
        zv_jw_key(w, "notifications");
        zv_jw_int(w, g->notifications);
        zv_jw_key(w, "notifications_with_fields");
        zv_jw_int(w, g->notifications_with_fields);
        zv_jw_key(w, "answers");
        zv_jw_int(w, g->answers);
        zv_jw_obj_close(w);
    }
    zv_jw_arr_close(w);
    zv_jw_key(w, "register_data_only_when_asked");
    zv_jw_bool(w, only_asked);
    zv_jw_key(w, "parties");
    zv_jw_arr_open(w);
    for (size_t i = 0; i < s->nparties; i++)
        sva_party(w, &s->parties[i]);
    zv_jw_arr_close(w);
    zv_jw_obj_close(w);
}

int zv_audit_render_json(const zv_audit_report *r, zv_buf *out)
{
    zv_jw *w = zv_jw_new(1);
    if (!w) return -1;
    const zv_audit_input *in = r->in;
    zv_jw_obj_open(w);
    zv_jw_key(w, "report");
    zv_jw_str(w, "zinvol-audit");
    zv_jw_key(w, "version");
    zv_jw_int(w, REPORT_VERSION);
    zv_jw_key(w, "generated");
    zv_jw_str(w, in->generated);
    zv_jw_key(w, "period_days");
    zv_jw_int(w, in->period_days);
    zv_jw_key(w, "measured_flows");
    zv_jw_bool(w, in->have_flows);
    zv_jw_key(w, "organisation");
    zv_jw_obj_open(w);
    zv_jw_key(w, "agb");
    zv_jw_str(w, in->org_agb);
    zv_jw_key(w, "name");
    zv_jw_str(w, in->org_name);
    zv_jw_obj_close(w);
    zv_jw_key(w, "summary");
    summary_obj(w, r);
    zv_jw_key(w, "destinations");
    zv_jw_arr_open(w);
    for (size_t d = 0; d < in->ndests; d++)
        dest_obj(w, r, d);
    zv_jw_arr_close(w);
    zv_jw_key(w, "sources");
    sources_arr(w, in);
    zv_jw_key(w, "flags");
    zv_jw_arr_open(w);
    for (size_t i = 0; i < r->nflags; i++)
        flag_obj(w, r, &r->flags[i]);
    zv_jw_arr_close(w);
    if (in->sva) sva_obj(w, in->sva);
    zv_jw_obj_close(w);
    const char *buf;
    size_t len;
    int rc = zv_jw_result(w, &buf, &len);
    if (rc == 0) rc = zv_buf_append(out, buf, len) < 0 || zv_buf_puts(out, "\n") < 0 ? -1 : 0;
    zv_jw_free(w);
    return rc;
}
