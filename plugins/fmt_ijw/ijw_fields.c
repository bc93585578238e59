/*
 * What JW/WMO 305, 307 and 323 can carry (field_renderable), and for 305 /
 * 307 what a finished message carries per record, read back from the
 * document: the elements below the record's product element and the Client
 * element (written from the group's first record, so a field counts only
 * where the element holds this record's own value), and the Header's
 * Ontvanger when it is the record's funder.
 */
#include "ijw.h"

#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const zv_field_id START[] = {
    ZV_F_CLIENT_BSN,         ZV_F_CLIENT_BIRTH_DATE,  ZV_F_CLIENT_BIRTH_DATE_USAGE,
    ZV_F_CLIENT_SEX,         ZV_F_CLIENT_FAMILY_NAME, ZV_F_CLIENT_NAME_PREFIX,
    ZV_F_CLIENT_GIVEN_NAMES, ZV_F_CLIENT_INITIALS,    ZV_F_ENT_FUNDER,
    ZV_F_ENT_NUMBER,         ZV_F_ENT_PRODUCT_CATEGORY, ZV_F_ENT_PRODUCT_CODE,
    ZV_F_ENT_START,          ZV_F_DEL_START,          ZV_F_DEL_STATUS};
static const zv_field_id STOP_ONLY[] = {ZV_F_DEL_END_REASON, ZV_F_DEL_END};
static const zv_field_id DECL[] = {
    ZV_F_CLIENT_BSN,          ZV_F_ENT_FUNDER,           ZV_F_DECL_NUMBER,
    ZV_F_DECL_CLAIM_PERIOD_START, ZV_F_DECL_CLAIM_PERIOD_END, ZV_F_DECL_REFERENCE,
    ZV_F_DECL_PREVIOUS_REFERENCE, ZV_F_ENT_NUMBER,       ZV_F_ENT_PRODUCT_CATEGORY,
    ZV_F_ENT_PRODUCT_CODE,    ZV_F_DECL_PERIOD_START,    ZV_F_DECL_PERIOD_END,
    ZV_F_DECL_VOLUME,         ZV_F_DECL_UNIT,            ZV_F_DECL_TARIFF,
    ZV_F_DECL_AMOUNT,         ZV_F_DECL_DEBIT_CREDIT};

static int in(const zv_field_id *v, size_t n, zv_field_id f)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == f) return 1;
    return 0;
}

int ijw_field_renderable(const zv_json *options, int message, zv_field_id f)
{
    (void)options;
    int wmo;
    ijw_msg m;
    if (ijw_message_of(message, &wmo, &m) != 0) return 0;
    if (m == IJW_DECL) return in(DECL, COUNT(DECL), f);
    return in(START, COUNT(START), f) || (m == IJW_STOP && in(STOP_ONLY, COUNT(STOP_ONLY), f));
}

static int field_of(const xmlChar *name)
{
    static const struct {
        const char *el;
        zv_field_id f;
    } map[] = {
        {"Bsn", ZV_F_CLIENT_BSN},
        {"Datum", ZV_F_CLIENT_BIRTH_DATE},
        {"DatumGebruik", ZV_F_CLIENT_BIRTH_DATE_USAGE},
        {"Geslacht", ZV_F_CLIENT_SEX},
        {"Achternaam", ZV_F_CLIENT_FAMILY_NAME},
        {"Voorvoegsel", ZV_F_CLIENT_NAME_PREFIX},
        {"Voornamen", ZV_F_CLIENT_GIVEN_NAMES},
        {"Voorletters", ZV_F_CLIENT_INITIALS},
        {"ToewijzingNummer", ZV_F_ENT_NUMBER},
        {"Categorie", ZV_F_ENT_PRODUCT_CATEGORY},
        {"Code", ZV_F_ENT_PRODUCT_CODE},
        {"ToewijzingIngangsdatum", ZV_F_ENT_START},
        {"Begindatum", ZV_F_DEL_START},
        {"Einddatum", ZV_F_DEL_END},
        {"RedenBeeindiging", ZV_F_DEL_END_REASON},
        {"StatusAanlevering", ZV_F_DEL_STATUS},
    };
    for (size_t i = 0; i < COUNT(map); i++)
        if (xmlStrEqual(name, BAD_CAST map[i].el)) return map[i].f;
    return -1;
}

static int is_product_list(const xmlChar *name)
{
    return xmlStrEqual(name, BAD_CAST "StartProducten") ||
           xmlStrEqual(name, BAD_CAST "StopProducten");
}

static void walk(xmlNodePtr n, const zv_record *r, int client, unsigned char *on)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (client && is_product_list(c->name)) continue;
        if (c->children && c->children->type == XML_ELEMENT_NODE) {
            walk(c, r, client, on);
            continue;
        }
        int f = field_of(c->name);
        const zv_value *v = f >= 0 ? zv_rec_get(r, (zv_field_id)f) : NULL;
        if (!v) continue;
        xmlChar *t = xmlNodeGetContent(c);
        int same = t && strlen((const char *)t) == v->len && !memcmp(t, v->str, v->len);
        xmlFree(t);
        if (same || !client) on[f] = 1;
    }
}

int ijw_report_rendered(const ijw_fmt *f, zv_render_out *out, const zv_batch *b, xmlNodePtr root,
                        const char *ontvanger)
{
    if (!ZV_HOST_HAS(f->host, rendered_fields)) return 0;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || !xmlStrEqual(c->name, BAD_CAST "Client")) continue;
        for (xmlNodePtr list = c->children; list; list = list->next) {
            if (list->type != XML_ELEMENT_NODE || !is_product_list(list->name)) continue;
            for (xmlNodePtr p = list->children; p; p = p->next) {
                if (p->type != XML_ELEMENT_NODE || !p->_private) continue;
                size_t i = (size_t)(uintptr_t)p->_private - 1;
                const zv_record *r = b->records[i];
                unsigned char on[ZV_FIELD_COUNT] = {0};
                walk(p, r, 0, on);
                walk(c, r, 1, on);
                const char *funder = zv_rec_str(r, ZV_F_ENT_FUNDER);
                if (funder && ontvanger && strcmp(funder, ontvanger) == 0) on[ZV_F_ENT_FUNDER] = 1;
                zv_field_id ids[ZV_FIELD_COUNT];
                size_t n = 0;
                for (int k = 0; k < ZV_FIELD_COUNT; k++)
                    if (on[k]) ids[n++] = (zv_field_id)k;
                if (f->host->rendered_fields(out, i, ids, n) < 0) return -1;
            }
        }
    }
    return 0;
}
