/* Redundancy analysis: one row per (destination, message, catalogue entry)
 * and the flags that explain why a field's reporting may be redundant or
 * self-imposed.  Pure: everything comes from zv_audit_input. */
#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const FLAG_IDS[ZV_FLAG_COUNT] = {
    "no_legal_basis", "duplicate",     "collected_never_required",
    "derivable",      "over_frequent", "beyond_legal_maximum", "aggregate_would_do"};

static const char *const FLAG_NL[ZV_FLAG_COUNT] = {
    "Geen wettelijke grondslag", "Dubbel aangeleverd", "Verzameld, nergens vereist",
    "Afleidbaar door ontvanger", "Vaker dan vereist",  "Boven wettelijk maximum",
    "Tellingen volstaan"};

static const char *const LEVEL_NL[ZV_LEVEL_COUNT] = {
    "Wettelijk verplicht", "Standaard",   "Toezichthouder", "Contract",
    "Sectorafspraak",      "Eigen keuze", "Geen grondslag"};

const char *zv_flag_id(zv_flag_kind k)
{
    return (unsigned)k < ZV_FLAG_COUNT ? FLAG_IDS[k] : "?";
}

const char *zv_flag_label_nl(zv_flag_kind k)
{
    return (unsigned)k < ZV_FLAG_COUNT ? FLAG_NL[k] : "?";
}

const char *zv_level_label_nl(zv_level l)
{
    return (unsigned)l < ZV_LEVEL_COUNT ? LEVEL_NL[l] : "?";
}

void zv_audit_report_free(zv_audit_report *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->nflags; i++)
        free(r->flags[i].detail);
    free(r->flags);
    free(r->rows);
    free(r);
}

static zv_audit_counts counts_of(const zv_audit_input *in, const char *dest, int field)
{
    zv_audit_counts n = {0};
    for (size_t i = 0; i < in->ncounts; i++) {
        const zv_audit_count *c = &in->counts[i];
        if (c->field != field || strcmp(c->destination, dest) != 0) continue;
        n.kept += c->n.kept;
        n.dropped += c->n.dropped;
        n.not_applicable += c->n.not_applicable;
        n.missing += c->n.missing;
        n.delivered += c->n.delivered;
        /* flows come as one slot per destination and field */
        n.clients += c->n.clients;
        n.sends += c->n.sends;
        n.dup_clients += c->n.dup_clients;
        if (c->n.max_per_client > n.max_per_client) n.max_per_client = c->n.max_per_client;
    }
    return n;
}

static int build_rows(zv_audit_report *r)
{
    const zv_audit_input *in = r->in;
    size_t total = 0;
    for (size_t d = 0; d < in->ndests; d++)
        for (size_t m = 0; m < in->dests[d].nmsgs; m++)
            total += zv_catalogue_count(in->dests[d].msgs[m].cat);
    r->rows = calloc(total ? total : 1, sizeof(*r->rows));
    if (!r->rows) return -1;
    for (size_t d = 0; d < in->ndests; d++) {
        const zv_audit_dest *dest = &in->dests[d];
        for (size_t m = 0; m < dest->nmsgs; m++) {
            const zv_catalogue *cat = dest->msgs[m].cat;
            for (size_t i = 0; i < zv_catalogue_count(cat); i++) {
                zv_audit_row *row = &r->rows[r->nrows++];
                row->dest = d;
                row->msg = m;
                row->entry = zv_catalogue_entry(cat, i);
                /* An aggregate destination selects nothing to send: what its
                 * threshold lets through is read to count (row->read). */
                int kept = row->entry->level <= dest->threshold;
                row->selected = kept && !dest->aggregate;
                const unsigned char *dl = dest->msgs[m].delivered;
                row->sent = dl ? dl[row->entry->field] != 0 : -1;
                row->read = kept && dest->aggregate;
                row->n = counts_of(in, dest->name, row->entry->field);
            }
        }
    }
    return 0;
}

size_t zv_audit_senders(const zv_audit_report *r, int field, size_t *out, size_t max)
{
    size_t n = 0;
    for (size_t d = 0; d < r->in->ndests; d++) {
        int sends = 0;
        for (size_t i = 0; i < r->nrows && !sends; i++)
            sends = r->rows[i].dest == d && r->rows[i].selected && r->rows[i].entry->field == field;
        if (!sends) continue;
        if (n < max) out[n] = d;
        n++;
    }
    return n;
}

size_t zv_audit_personal_fields(const zv_audit_report *r, size_t d)
{
    char seen[ZV_FIELD_COUNT] = {0};
    size_t n = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        const zv_audit_row *row = &r->rows[i];
        int f = row->entry->field;
        if (row->dest != d || !row->selected || f < 0 || f >= ZV_FIELD_COUNT || seen[f]) continue;
        seen[f] = 1;
        n++;
    }
    return n;
}

size_t zv_audit_flag_count(const zv_audit_report *r, size_t d, zv_flag_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nflags; i++) {
        const zv_audit_flag *f = &r->flags[i];
        if (f->kind != k) continue;
        if (d != SIZE_MAX && (f->row == SIZE_MAX || r->rows[f->row].dest != d)) continue;
        n++;
    }
    return n;
}

static int add_flag(zv_audit_report *r, zv_flag_kind k, size_t row, size_t source, int field,
                    zv_buf *detail)
{
    if (detail->oom) return -1;
    zv_audit_flag *f = realloc(r->flags, (r->nflags + 1) * sizeof(*f));
    if (!f) return -1;
    r->flags = f;
    f = &r->flags[r->nflags++];
    f->kind = k;
    f->row = row;
    f->source = source;
    f->field = field;
    f->detail = zv_buf_steal(detail, NULL);
    if (row != SIZE_MAX) r->rows[row].flags |= 1u << k;
    return f->detail ? 0 : -1;
}

static void sent_note(zv_buf *b, const zv_audit_row *row, const zv_audit_dest *dest)
{
    if (row->read)
        zv_buf_puts(b, "; read to count, never sent (the destination receives only counts)");
    else if (row->selected)
        zv_buf_printf(b, "; sent at threshold %s", zv_level_name(dest->threshold));
    else
        zv_buf_printf(b, "; not sent (below threshold %s)", zv_level_name(dest->threshold));
}

static void duplicate_detail(const zv_audit_report *r, size_t self, int field, zv_buf *b)
{
    size_t idx[64];
    size_t n = zv_audit_senders(r, field, idx, 64);
    zv_buf_puts(b, "also sent to ");
    int first = 1;
    for (size_t i = 0; i < n && i < 64; i++) {
        if (idx[i] == self) continue;
        const char *name = r->in->dests[idx[i]].name;
        zv_audit_counts c = counts_of(r->in, name, field);
        zv_buf_printf(b, "%s%s (%lld delivered in %d days)", first ? "" : ", ", name,
                      (long long)c.delivered, r->in->period_days);
        first = 0;
    }
    zv_buf_puts(b, "; judged from the catalogues: the trail has no per-client flows for the "
                   "period");
}

/* Measured: how many of this destination's clients had the same field's
 * value sent to which other destinations. */
static void duplicate_measured(const zv_audit_report *r, const zv_audit_row *row, zv_buf *b)
{
    const char *self = r->in->dests[row->dest].name;
    zv_buf_printf(b, "for %lld of %lld clients the value also went to ",
                  (long long)row->n.dup_clients, (long long)row->n.clients);
    int first = 1;
    for (size_t i = 0; i < r->in->npairs; i++) {
        const zv_audit_pair *p = &r->in->pairs[i];
        if (p->field != row->entry->field || strcmp(p->destination, self) != 0) continue;
        zv_buf_printf(b, "%s%s (%lld clients)", first ? "" : ", ", p->other, (long long)p->clients);
        first = 0;
    }
    zv_buf_printf(b, " in the last %d days", r->in->period_days);
}

/* How many messages about one client the basis allows in the period. */
static int64_t allowed_per_client(const char *frequency, int period_days)
{
    static const struct {
        const char *name;
        int days;
    } F[] = {{"daily", 1},         {"weekly", 7},   {"monthly", 30},   {"quarterly", 91},
             {"half-yearly", 182}, {"yearly", 365}, {"2-yearly", 730}, {"3-yearly", 1095}};
    for (size_t i = 0; frequency && i < sizeof(F) / sizeof(F[0]); i++)
        if (strcmp(F[i].name, frequency) == 0)
            return period_days <= F[i].days ? 1 : (period_days + F[i].days - 1) / F[i].days;
    return 0; /* event, or unknown: no bound */
}

static int flag_duplicate(zv_audit_report *r, size_t i, zv_buf *b)
{
    zv_audit_row *row = &r->rows[i];
    size_t idx[1];
    if (!row->selected) return 0;
    if (r->in->have_flows) {
        /* only a client's value that really went to two parties counts */
        if (row->n.dup_clients <= 0) return 0;
        duplicate_measured(r, row, b);
    } else {
        if (zv_audit_senders(r, row->entry->field, idx, 1) < 2) return 0;
        duplicate_detail(r, row->dest, row->entry->field, b);
    }
    return add_flag(r, ZV_FLAG_DUPLICATE, i, SIZE_MAX, row->entry->field, b);
}

static int flag_derivable(zv_audit_report *r, size_t i, zv_buf *b)
{
    zv_audit_row *row = &r->rows[i];
    const zv_cat_entry *e = row->entry;
    if (!row->selected || e->nderivable == 0) return 0;
    zv_buf_puts(b, "the recipient can derive it from ");
    for (size_t k = 0; k < e->nderivable; k++)
        zv_buf_printf(b, "%s%s", k ? "; " : "", e->derivable_from[k]);
    /* Who can act: a field the standard demands cannot be left out by the
     * provider; the finding is then for the standard's owner. */
    if (e->level <= ZV_LEVEL_STANDARD && !e->optional)
        zv_buf_puts(b, "; the message standard makes it mandatory, so the provider cannot leave "
                       "it out: a finding for the standard's owner");
    else
        zv_buf_puts(b, "; not mandatory in the message: the provider can agree with the "
                       "recipient to leave it out");
    return add_flag(r, ZV_FLAG_DERIVABLE, i, SIZE_MAX, e->field, b);
}

static int flag_frequency(zv_audit_report *r, size_t i, zv_buf *b)
{
    zv_audit_row *row = &r->rows[i];
    const zv_audit_dest *dest = &r->in->dests[row->dest];
    const zv_cat_entry *e = row->entry;
    if (!row->selected) return 0;
    const char *sched = dest->schedule ? dest->schedule : "event";
    int srank = zv_frequency_rank(sched), frank = zv_frequency_rank(e->frequency);
    int by_schedule = srank >= 0 && frank >= 0 && srank < frank;
    int64_t allowed = allowed_per_client(e->frequency, r->in->period_days);
    int by_flow = r->in->have_flows && allowed > 0 && row->n.max_per_client > allowed;
    if (!by_schedule && !by_flow) return 0;
    if (by_schedule)
        zv_buf_printf(b, "sent %s (schedule) although the basis requires %s", sched, e->frequency);
    if (by_flow)
        zv_buf_printf(b,
                      "%sup to %lld messages about one client in %d days where the basis "
                      "(%s) needs %lld",
                      by_schedule ? "; " : "", (long long)row->n.max_per_client, r->in->period_days,
                      e->frequency, (long long)allowed);
    return add_flag(r, ZV_FLAG_OVER_FREQUENT, i, SIZE_MAX, e->field, b);
}

/* "; 12 clients, 14 messages in 30 days" when flows were measured. */
static void flow_note(const zv_audit_report *r, const zv_audit_row *row, zv_buf *b)
{
    if (r->in->have_flows && row->selected)
        zv_buf_printf(b, "; %lld clients, %lld messages in %d days", (long long)row->n.clients,
                      (long long)row->n.sends, r->in->period_days);
}

static int row_flags(zv_audit_report *r, size_t i)
{
    zv_audit_row *row = &r->rows[i];
    const zv_audit_dest *dest = &r->in->dests[row->dest];
    const zv_catalogue *cat = dest->msgs[row->msg].cat;
    const zv_cat_entry *e = row->entry;
    zv_buf b;
    zv_buf_init(&b);
    int rc = 0;
    if (e->level >= ZV_LEVEL_CONTRACT) {
        zv_buf_printf(&b, "requested at level %s, not required by law or standard",
                      zv_level_name(e->level));
        sent_note(&b, row, dest);
        flow_note(r, row, &b);
        rc |= add_flag(r, ZV_FLAG_NO_LEGAL_BASIS, i, SIZE_MAX, e->field, &b);
    }
    rc |= flag_duplicate(r, i, &b);
    rc |= flag_derivable(r, i, &b);
    rc |= flag_frequency(r, i, &b);
    if (!zv_catalogue_max_allows(cat, e->field)) {
        zv_buf_printf(&b, "not in the legal maximum (%s)", zv_catalogue_max_citation(cat));
        sent_note(&b, row, dest);
        flow_note(r, row, &b);
        rc |= add_flag(r, ZV_FLAG_BEYOND_LEGAL_MAXIMUM, i, SIZE_MAX, e->field, &b);
    }
    zv_buf_free(&b);
    return rc;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Which destinations list the field below their threshold (for the detail). */
static void requested_unsent(const zv_audit_report *r, int field, zv_buf *b)
{
    int any = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        const zv_audit_row *row = &r->rows[i];
        if (row->selected || row->entry->field != field) continue;
        zv_buf_printf(b, "%s%s at level %s", any ? ", " : " (listed by ",
                      r->in->dests[row->dest].name, zv_level_name(row->entry->level));
        any = 1;
    }
    if (any) zv_buf_puts(b, ", below its threshold)");
}

/* A field an aggregate destination counts is used, though never sent. */
static int read_to_count(const zv_audit_report *r, int field)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (r->rows[i].read && r->rows[i].entry->field == field) return 1;
    return 0;
}

/* A record-level destination whose catalogue says the receiver uses the
 * message for statistics or monitoring: counts would answer it.  One flag
 * per destination and message, on the row that makes it record-level (the
 * BSN when it is sent, else the first field sent). */
static int flag_aggregate(zv_audit_report *r, size_t d)
{
    const zv_audit_dest *dest = &r->in->dests[d];
    int rc = 0;
    for (size_t m = 0; !dest->aggregate && m < dest->nmsgs && rc == 0; m++) {
        const zv_catalogue *cat = dest->msgs[m].cat;
        const char *purpose = zv_catalogue_purpose(cat);
        if (!purpose || (strcmp(purpose, "statistics") && strcmp(purpose, "monitoring"))) continue;
        size_t at = SIZE_MAX, nsent = 0;
        for (size_t i = 0; i < r->nrows; i++) {
            const zv_audit_row *row = &r->rows[i];
            if (row->dest != d || row->msg != m || !row->selected) continue;
            nsent++;
            if (at == SIZE_MAX || row->entry->field == ZV_F_CLIENT_BSN) at = i;
        }
        if (at == SIZE_MAX) continue;
        zv_buf b;
        zv_buf_init(&b);
        zv_buf_printf(&b, "a record per client with %zu personal fields, for %s (the catalogue's "
                          "purpose): counts would do",
                      nsent, purpose);
        const char *set = zv_catalogue_signal_set(cat);
        if (set)
            zv_buf_printf(&b, "; signal set %s (conf/signals/%s.json) answers it with "
                              "suppressed counts and no personal field",
                          set, set);
        else
            zv_buf_puts(&b, "; no signal set is named for this catalogue: write one "
                            "(conf/signals/) and send it with the signals format");
        rc = add_flag(r, ZV_FLAG_AGGREGATE_WOULD_DO, at, SIZE_MAX, r->rows[at].entry->field, &b);
        zv_buf_free(&b);
    }
    return rc;
}

static int source_flags(zv_audit_report *r, size_t s)
{
    const zv_audit_source *src = &r->in->sources[s];
    int *ids = malloc((src->nfields ? src->nfields : 1) * sizeof(*ids));
    if (!ids) return -1;
    memcpy(ids, src->fields, src->nfields * sizeof(*ids));
    qsort(ids, src->nfields, sizeof(*ids), cmp_int);
    int rc = 0;
    zv_buf b;
    zv_buf_init(&b);
    for (size_t i = 0; i < src->nfields; i++) {
        if (i && ids[i] == ids[i - 1]) continue;
        if (!zv_field_def_of((zv_field_id)ids[i])) continue;
        size_t idx[1];
        if (zv_audit_senders(r, ids[i], idx, 1) > 0 || read_to_count(r, ids[i])) continue;
        zv_buf_printf(&b, "mapped from source %s but sent to no destination", src->name);
        requested_unsent(r, ids[i], &b);
        rc |= add_flag(r, ZV_FLAG_COLLECTED_NEVER_REQUIRED, SIZE_MAX, s, ids[i], &b);
    }
    zv_buf_free(&b);
    free(ids);
    return rc;
}

zv_audit_report *zv_audit_analyse(const zv_audit_input *in)
{
    zv_audit_report *r = calloc(1, sizeof(*r));
    if (!r) return NULL;
    r->in = in;
    int rc = build_rows(r);
    for (size_t i = 0; rc == 0 && i < r->nrows; i++)
        rc = row_flags(r, i);
    for (size_t s = 0; rc == 0 && s < in->nsources; s++)
        rc = source_flags(r, s);
    for (size_t d = 0; rc == 0 && d < in->ndests; d++)
        rc = flag_aggregate(r, d);
    if (rc != 0) {
        zv_audit_report_free(r);
        return NULL;
    }
    return r;
}
