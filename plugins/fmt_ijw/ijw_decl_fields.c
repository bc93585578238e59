/*
 * What a finished JW323/WMO323 carries per record, read back from the
 * document and told to the host (rendered_fields), so the audit trail names
 * per client what left: the elements of the record's own Prestatie; the
 * Client's Bsn and the Declaratie's number and period only where they hold
 * this record's own value (they are written once per client / message); the
 * Header's Ontvanger when it is the record's funder.  A DeclaratiePeriode
 * computed from the lines (no claim period in the ECD) is no record's field.
 */
#include "ijw.h"

#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The field an element holds, by its name and its parent's. */
static int field_of(const xmlChar *parent, const xmlChar *name)
{
    static const struct {
        const char *parent, *el;
        zv_field_id f;
    } map[] = {
        {NULL, "Bsn", ZV_F_CLIENT_BSN},
        {NULL, "DeclaratieNummer", ZV_F_DECL_NUMBER},
        {"DeclaratiePeriode", "Begindatum", ZV_F_DECL_CLAIM_PERIOD_START},
        {"DeclaratiePeriode", "Einddatum", ZV_F_DECL_CLAIM_PERIOD_END},
        {NULL, "ReferentieNummer", ZV_F_DECL_REFERENCE},
        {NULL, "VorigReferentieNummer", ZV_F_DECL_PREVIOUS_REFERENCE},
        {NULL, "ToewijzingNummer", ZV_F_ENT_NUMBER},
        {NULL, "ProductCategorie", ZV_F_ENT_PRODUCT_CATEGORY},
        {NULL, "ProductCode", ZV_F_ENT_PRODUCT_CODE},
        {"ProductPeriode", "Begindatum", ZV_F_DECL_PERIOD_START},
        {"ProductPeriode", "Einddatum", ZV_F_DECL_PERIOD_END},
        {NULL, "GeleverdVolume", ZV_F_DECL_VOLUME},
        {NULL, "Eenheid", ZV_F_DECL_UNIT},
        {NULL, "ProductTarief", ZV_F_DECL_TARIFF},
        {"IngediendBedrag", "Bedrag", ZV_F_DECL_AMOUNT},
        {"IngediendBedrag", "DebetCredit", ZV_F_DECL_DEBIT_CREDIT},
    };
    for (size_t i = 0; i < COUNT(map); i++)
        if (xmlStrEqual(name, BAD_CAST map[i].el) &&
            (!map[i].parent || xmlStrEqual(parent, BAD_CAST map[i].parent)))
            return map[i].f;
    return -1;
}

/* Leaf elements below n (not into Prestaties unless own): a field counts
 * where the element holds r's value (own: r's own Prestatie, all of it). */
static void walk(xmlNodePtr n, const zv_record *r, int own, unsigned char *on)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (!own && (xmlStrEqual(c->name, BAD_CAST "Prestaties") ||
                     xmlStrEqual(c->name, BAD_CAST "Clienten")))
            continue;
        if (c->children && c->children->type == XML_ELEMENT_NODE) {
            walk(c, r, own, on);
            continue;
        }
        int f = field_of(n->name, c->name);
        const zv_value *v = f >= 0 ? zv_rec_get(r, (zv_field_id)f) : NULL;
        if (!v) continue;
        xmlChar *t = xmlNodeGetContent(c);
        if (t && strlen((const char *)t) == v->len && !memcmp(t, v->str, v->len)) on[f] = 1;
        xmlFree(t);
    }
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST name)) return c;
    return NULL;
}

static int report(const ijw_fmt *f, zv_render_out *out, const zv_batch *b, xmlNodePtr decl,
                  xmlNodePtr client, xmlNodePtr p, const char *ontvanger)
{
    size_t i = (size_t)(uintptr_t)p->_private - 1;
    const zv_record *r = b->records[i];
    unsigned char on[ZV_FIELD_COUNT] = {0};
    walk(p, r, 1, on);
    walk(client, r, 0, on);
    walk(decl, r, 0, on);
    const char *funder = zv_rec_str(r, ZV_F_ENT_FUNDER);
    if (funder && ontvanger && strcmp(funder, ontvanger) == 0) on[ZV_F_ENT_FUNDER] = 1;
    zv_field_id ids[ZV_FIELD_COUNT];
    size_t n = 0;
    for (int k = 0; k < ZV_FIELD_COUNT; k++)
        if (on[k]) ids[n++] = (zv_field_id)k;
    return f->host->rendered_fields(out, i, ids, n);
}

int ijw_report_rendered_decl(const ijw_fmt *f, zv_render_out *out, const zv_batch *b,
                             xmlNodePtr root, const char *ontvanger)
{
    if (!ZV_HOST_HAS(f->host, rendered_fields)) return 0;
    xmlNodePtr decl = child(root, "Declaratie");
    for (xmlNodePtr c = child(child(decl, "Clienten"), "Client"); c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        for (xmlNodePtr p = child(child(c, "Prestaties"), "Prestatie"); p; p = p->next)
            if (p->type == XML_ELEMENT_NODE && p->_private &&
                report(f, out, b, decl, c, p, ontvanger) < 0)
                return -1;
    }
    return 0;
}
