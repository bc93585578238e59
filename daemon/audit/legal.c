/*
 * "Legally required or not, and by which chain?" for one report row.  See
 * catalogue/chain.h for the data; this decides the answer and the route.
 */
#include "audit.h"

#include <string.h>

static void add_links(zv_audit_legal *out, const zv_chain *c)
{
    for (size_t i = 0; i < c->n && out->nlinks < ZV_AUDIT_MAX_LINKS; i++) {
        out->links[out->nlinks++] = &c->links[i];
        if (c->links[i].verified != ZV_VERIFIED) out->unverified = 1;
    }
}

void zv_audit_legal_of(const zv_audit_report *r, size_t row, zv_audit_legal *out)
{
    const zv_audit_row *rw = &r->rows[row];
    const zv_audit_dest *d = &r->in->dests[rw->dest];
    const zv_cat_entry *e = rw->entry;
    const zv_prescribed *p = zv_catalogue_prescribed(d->msgs[rw->msg].cat);
    memset(out, 0, sizeof(*out));
    switch (e->level) {
    case ZV_LEVEL_LAW:
        out->required = 1;
        out->route = ZV_ROUTE_LISTED_IN_LAW;
        add_links(out, &e->chain);
        /* a bare citation without a checked chain is a claim, not a fact */
        if (e->chain.n == 0) out->unverified = 1;
        break;
    case ZV_LEVEL_STANDARD:
        if (zv_prescribed_applies(p, d->format_options)) {
            out->required = 1;
            out->route = ZV_ROUTE_PRESCRIBED_STANDARD;
            add_links(out, &p->by);
        } else {
            out->route = p->present ? ZV_ROUTE_STANDARD_BY_AGREEMENT : ZV_ROUTE_STANDARD_UNKNOWN;
        }
        break;
    case ZV_LEVEL_REGULATOR:
        out->route = ZV_ROUTE_REGULATOR;
        break;
    case ZV_LEVEL_CONTRACT:
        out->route = ZV_ROUTE_CONTRACT;
        break;
    case ZV_LEVEL_SECTOR:
        out->route = ZV_ROUTE_SECTOR;
        break;
    case ZV_LEVEL_INTERNAL:
        out->route = ZV_ROUTE_INTERNAL;
        break;
    default:
        out->route = ZV_ROUTE_NONE;
    }
    out->note = p->present ? p->note : NULL;
}

const char *zv_route_id(zv_route r)
{
    static const char *const ID[] = {"listed_in_law", "standard_prescribed_by_regulation",
                                     "standard_by_agreement", "standard_prescription_unknown",
                                     "regulator_policy", "contract", "sector_framework",
                                     "internal_choice", "no_basis"};
    return (unsigned)r < sizeof(ID) / sizeof(ID[0]) ? ID[r] : "no_basis";
}

const char *zv_route_label_nl(zv_route r)
{
    static const char *const NL[] = {
        "in wet of regeling genoemd", "standaard, voorgeschreven bij regeling",
        "standaard, gebruikt volgens afspraak of contract", "standaard, voorschrift onbekend",
        "beleid van toezichthouder of uitvoerder", "contract", "sectorafspraak", "eigen keuze",
        "geen grondslag"};
    return (unsigned)r < sizeof(NL) / sizeof(NL[0]) ? NL[r] : "geen grondslag";
}
