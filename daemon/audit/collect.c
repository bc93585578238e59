/* Fill the analysis input from a real installation: the config, the format
 * plugins' declared messages and catalogues (with the destinations'
 * overrides, found the way the runtime finds them), the source mappings, the
 * minimiser counters and the audit trail of delivered payloads. */
#include "collect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/plugin_loader.h"
#include "mapping/mapping.h"

struct zv_audit_collected {
    zv_audit_input in;
    zv_audit_dest *dests;
    zv_audit_msg **msgs; /* per destination */
    zv_audit_source *sources;
    int **source_fields;
    zv_audit_count *counts;
    size_t ncounts, capcounts;
    zv_audit_pair *pairs;
    size_t npairs, cappairs;
    zv_audit_week *weeks;
    size_t nweeks;
    zv_audit_sva *sva;
    char generated[21];
};

void zv_audit_collected_free(zv_audit_collected *c)
{
    if (!c) return;
    for (size_t d = 0; d < c->in.ndests; d++) {
        for (size_t m = 0; m < c->dests[d].nmsgs; m++) {
            zv_catalogue_free((zv_catalogue *)c->msgs[d][m].cat);
            free((unsigned char *)c->msgs[d][m].delivered);
        }
        free(c->msgs[d]);
    }
    for (size_t s = 0; s < c->in.nsources; s++)
        free(c->source_fields[s]);
    free(c->msgs);
    free(c->dests);
    free(c->sources);
    free(c->source_fields);
    free(c->counts);
    free(c->pairs);
    free(c->weeks);
    zv_audit_sva_free(c->sva);
    free(c);
}

typedef struct zv_audit_counted {
    zv_audit_collected *c;
    int64_t since; /* deliveries from this time on count */
} zv_audit_counted;

const zv_audit_input *zv_audit_collected_input(const zv_audit_collected *c)
{
    return &c->in;
}

static zv_catalogue *load_catalogue(const zv_config *cfg, const zv_dest_conf *dc,
                                    const zv_message_decl *m, zv_errors *errs)
{
    char path[128];
    const char *file = zv_json_str(zv_json_get(dc->catalogue, "file"), NULL);
    if (!file) file = m->catalogue;
    if (!file) {
        zv_path_key(path, sizeof(path), dc->path, "catalogue.file");
        zv_errors_add(errs, cfg->file, path, "format '%s' has no built-in catalogue: name one here",
                      dc->format);
        return NULL;
    }
    char full[4096];
    if (file[0] == '/')
        snprintf(full, sizeof(full), "%s", file);
    else
        snprintf(full, sizeof(full), "%s/%s", cfg->catalogue_dir, file);
    zv_catalogue *cat = zv_catalogue_load(full, errs);
    if (!cat) return NULL;
    zv_path_key(path, sizeof(path), dc->path, "catalogue");
    if (dc->catalogue && zv_catalogue_override(cat, dc->catalogue, cfg->file, path, errs) < 0) {
        zv_catalogue_free(cat);
        return NULL;
    }
    return cat;
}

static int collect_dest(zv_audit_collected *c, const zv_config *cfg, size_t d, zv_errors *errs)
{
    const zv_dest_conf *dc = &cfg->dests[d];
    zv_audit_dest *ad = &c->dests[d];
    ad->name = dc->name;
    ad->format = dc->format;
    ad->format_options = dc->format_options;
    ad->threshold = dc->policy.threshold;
    ad->schedule = dc->policy.schedule;
    char err[512], path[128];
    const zv_plugin_descriptor *desc =
        zv_plugin_open(cfg->plugin_dir, ZV_PLUGIN_FORMAT, dc->format, err, sizeof(err));
    if (!desc || !zv_plugin_nmessages(desc)) {
        zv_path_key(path, sizeof(path), dc->path, "format");
        zv_errors_add(errs, cfg->file, path, "%s", desc ? "plugin declares no messages" : err);
        return -1;
    }
    ad->aggregate = (zv_plugin_format_flags(desc) & ZV_FORMAT_AGGREGATE) != 0;
    size_t n = zv_plugin_nmessages(desc);
    c->msgs[d] = calloc(n ? n : 1, sizeof(zv_audit_msg));
    if (!c->msgs[d]) return -1;
    int rc = 0;
    for (size_t m = 0; m < n; m++) {
        /* Only what this destination really receives. */
        if (!zv_plugin_message_active(desc, dc->format_options, (int)m)) continue;
        const zv_message_decl *decl = zv_plugin_message(desc, m);
        zv_catalogue *cat = load_catalogue(cfg, dc, decl, errs);
        if (!cat) {
            rc = -1;
            continue;
        }
        c->msgs[d][ad->nmsgs++] = (zv_audit_msg){decl->name, cat, NULL};
    }
    ad->msgs = c->msgs[d];
    return rc;
}

static int collect_source(zv_audit_collected *c, const zv_config *cfg, size_t s, zv_errors *errs)
{
    const zv_source_conf *sc = &cfg->sources[s];
    char path[128];
    zv_path_key(path, sizeof(path), sc->path, "mapping");
    c->sources[s].name = sc->name;
    zv_mapping *m = zv_mapping_compile(sc->mapping, sc->name, cfg->file, path, errs);
    if (!m) return -1;
    c->source_fields[s] = calloc(ZV_FIELD_COUNT, sizeof(int));
    if (!c->source_fields[s]) {
        zv_mapping_free(m);
        return -1;
    }
    c->sources[s].fields = c->source_fields[s];
    c->sources[s].nfields = zv_mapping_fields(m, c->source_fields[s], ZV_FIELD_COUNT);
    zv_mapping_free(m);
    return 0;
}

/* The count entry for (destination, field), created on first use. */
static zv_audit_count *count_slot(zv_audit_collected *c, const char *dest, int field)
{
    size_t d;
    for (d = 0; d < c->in.ndests && strcmp(c->dests[d].name, dest) != 0; d++) {
    }
    if (d == c->in.ndests || field < 0) return NULL; /* not configured any more */
    for (size_t i = 0; i < c->ncounts; i++)
        if (c->counts[i].field == field && c->counts[i].destination == c->dests[d].name)
            return &c->counts[i];
    if (c->ncounts == c->capcounts) {
        size_t cap = c->capcounts ? c->capcounts * 2 : 64;
        zv_audit_count *n = realloc(c->counts, cap * sizeof(*n));
        if (!n) return NULL;
        c->counts = n;
        c->capcounts = cap;
    }
    zv_audit_count *slot = &c->counts[c->ncounts++];
    memset(slot, 0, sizeof(*slot));
    slot->destination = c->dests[d].name; /* owned by the config */
    slot->field = field;
    return slot;
}

static int on_count(const char *dest, const char *field, const char *what, int64_t n, void *arg)
{
    zv_audit_counted *ctx = arg;
    zv_audit_count *slot = count_slot(ctx->c, dest, zv_field_by_name(field));
    if (!slot) return 0;
    if (!strcmp(what, ZV_COUNT_KEPT))
        slot->n.kept += n;
    else if (!strcmp(what, ZV_COUNT_DROPPED))
        slot->n.dropped += n;
    else if (!strcmp(what, ZV_COUNT_NOT_APPLICABLE))
        slot->n.not_applicable += n;
    else if (!strcmp(what, ZV_COUNT_MISSING))
        slot->n.missing += n;
    return 0;
}

/* The delivered flags of destination/message, NULL when not configured. */
static unsigned char *delivered_of(zv_audit_collected *c, const char *dest, const char *msg)
{
    for (size_t d = 0; dest && msg && d < c->in.ndests; d++) {
        if (strcmp(c->dests[d].name, dest) != 0) continue;
        for (size_t m = 0; m < c->dests[d].nmsgs; m++)
            if (strcmp(c->msgs[d][m].message, msg) == 0)
                return (unsigned char *)c->msgs[d][m].delivered;
    }
    return NULL;
}

/* With a store, every message gets its delivered flags (all 0 at first). */
static int delivered_init(zv_audit_collected *c)
{
    for (size_t d = 0; d < c->in.ndests; d++)
        for (size_t m = 0; m < c->dests[d].nmsgs; m++)
            if (!(c->msgs[d][m].delivered = calloc(ZV_FIELD_COUNT, 1))) return -1;
    return 0;
}

/* "client.bsn=standard,delivery.start=standard": one delivery per field. */
static int on_audit(const zv_audit_entry *e, void *arg)
{
    zv_audit_counted *ctx = arg;
    if (!e->kind || strcmp(e->kind, "delivered") != 0 || e->at < ctx->since) return 0;
    size_t w = (size_t)((e->at - ctx->since) / (7 * 86400));
    if (w < ctx->c->nweeks) ctx->c->weeks[w].sends++;
    if (!e->fields) return 0;
    unsigned char *dl = delivered_of(ctx->c, e->destination, e->message);
    const char *p = e->fields;
    while (*p) {
        size_t len = strcspn(p, "=,");
        char name[64];
        if (len < sizeof(name)) {
            memcpy(name, p, len);
            name[len] = '\0';
            int f = zv_field_by_name(name);
            zv_audit_count *slot = count_slot(ctx->c, e->destination, f);
            if (slot) slot->n.delivered++;
            if (dl && f >= 0 && f < ZV_FIELD_COUNT) dl[f] = 1;
        }
        p += strcspn(p, ",");
        if (*p == ',') p++;
    }
    return 0;
}

static int on_quarantine(const zv_quarantine_entry *q, void *arg)
{
    zv_audit_counted *ctx = arg;
    if (q->created < ctx->since) return 0;
    size_t w = (size_t)((q->created - ctx->since) / (7 * 86400));
    if (w < ctx->c->nweeks) ctx->c->weeks[w].quarantined++;
    return 0;
}

static const char *dest_name(zv_audit_collected *c, const char *name)
{
    for (size_t d = 0; name && d < c->in.ndests; d++)
        if (strcmp(c->dests[d].name, name) == 0) return c->dests[d].name;
    return NULL;
}

static int on_flow(const zv_flow_row *r, void *arg)
{
    zv_audit_collected *c = arg;
    int field = zv_field_by_name(r->field ? r->field : "");
    c->in.have_flows = 1;
    if (!r->other) {
        zv_audit_count *slot = r->destination ? count_slot(c, r->destination, field) : NULL;
        if (slot) {
            slot->n.clients = r->clients;
            slot->n.sends = r->sends;
            slot->n.max_per_client = r->max_per_client;
            slot->n.dup_clients = r->dup_clients;
        }
        return 0;
    }
    const char *d = dest_name(c, r->destination), *o = dest_name(c, r->other);
    if (!d || !o || field < 0) return 0; /* a destination no longer configured */
    if (c->npairs == c->cappairs) {
        size_t cap = c->cappairs ? c->cappairs * 2 : 32;
        zv_audit_pair *n = realloc(c->pairs, cap * sizeof(*n));
        if (!n) return 1;
        c->pairs = n;
        c->cappairs = cap;
    }
    c->pairs[c->npairs++] = (zv_audit_pair){d, o, field, r->clients};
    return 0;
}

int zv_audit_collect(const zv_config *cfg, zv_store *store, int period_days, int64_t now,
                     zv_audit_collected **out, zv_errors *errs)
{
    *out = NULL;
    zv_audit_collected *c = calloc(1, sizeof(*c));
    if (!c) return -1;
    c->dests = calloc(cfg->ndests ? cfg->ndests : 1, sizeof(*c->dests));
    c->msgs = calloc(cfg->ndests ? cfg->ndests : 1, sizeof(*c->msgs));
    c->sources = calloc(cfg->nsources ? cfg->nsources : 1, sizeof(*c->sources));
    c->source_fields = calloc(cfg->nsources ? cfg->nsources : 1, sizeof(int *));
    if (!c->dests || !c->msgs || !c->sources || !c->source_fields) {
        zv_audit_collected_free(c);
        return -1;
    }
    int rc = 0;
    c->in.ndests = cfg->ndests;
    for (size_t d = 0; d < cfg->ndests; d++)
        rc |= collect_dest(c, cfg, d, errs);
    c->in.nsources = cfg->nsources;
    for (size_t s = 0; s < cfg->nsources; s++)
        rc |= collect_source(c, cfg, s, errs);
    zv_audit_counted ctx = {c, now - (int64_t)period_days * 86400};
    c->nweeks = period_days > 0 ? (size_t)(period_days + 6) / 7 : 0;
    if (c->nweeks > 106) c->nweeks = 106; /* two years of bars is the most a page can show */
    c->weeks = calloc(c->nweeks ? c->nweeks : 1, sizeof(*c->weeks));
    if (!c->weeks) rc = -1;
    for (size_t w = 0; w < c->nweeks; w++)
        c->weeks[w].start = ctx.since + (int64_t)w * 7 * 86400;
    if (rc == 0 && store && delivered_init(c) < 0) rc = -1;
    if (rc == 0 && store &&
        (zv_store_count_each(store, on_count, &ctx) < 0 ||
         zv_store_audit_each(store, on_audit, &ctx) < 0 ||
         zv_store_flows(store, ctx.since, on_flow, c) < 0 ||
         zv_store_quarantine_each(store, on_quarantine, &ctx) < 0 ||
         zv_audit_sva_collect(cfg, store, ctx.since, &c->sva) < 0)) {
        zv_errors_add(errs, cfg->store_path, "", "%s", zv_store_errmsg(store));
        rc = -1;
    }
    if (rc != 0) {
        zv_audit_collected_free(c);
        return -1;
    }
    zv_time_iso(now, c->generated);
    c->in.generated = c->generated;
    c->in.org_agb = cfg->org_agb;
    c->in.org_name = cfg->org_name;
    c->in.period_days = period_days;
    c->in.dests = c->dests;
    c->in.sources = c->sources;
    c->in.counts = c->counts;
    c->in.ncounts = c->ncounts;
    c->in.pairs = c->pairs;
    c->in.npairs = c->npairs;
    c->in.weeks = c->weeks;
    c->in.nweeks = c->nweeks;
    c->in.sva = c->sva;
    *out = c;
    return 0;
}
