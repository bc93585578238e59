/*
 * What an AW35/AW39 can carry (field_renderable) and what one really
 * carries per record, read back from the finished message document: the
 * elements below the record's product element and its Client element, and
 * the Header's Ontvanger.  A field is reported only when the record has it
 * and, for the client block (written once per BSN, from the first record),
 * when the element holds this record's own value.
 */
#include "iwlz.h"

#include <string.h>

static const zv_field_id CLIENT[] = {
    ZV_F_CLIENT_BSN,         ZV_F_CLIENT_BIRTH_DATE,  ZV_F_CLIENT_BIRTH_DATE_USAGE,
    ZV_F_CLIENT_SEX,         ZV_F_CLIENT_FAMILY_NAME, ZV_F_CLIENT_NAME_PREFIX,
    ZV_F_CLIENT_GIVEN_NAMES, ZV_F_CLIENT_INITIALS};

static const zv_field_id AW35[] = {
    ZV_F_ENT_NUMBER,    ZV_F_ENT_FUNCTION_CODE,  ZV_F_ENT_ZZP_CODE,      ZV_F_ENT_START,
    ZV_F_ENT_FUNDER,    ZV_F_DEL_START,          ZV_F_DEL_PROVIDER_AGB,  ZV_F_DEL_KLASSE,
    ZV_F_DEL_OPSLAG,    ZV_F_DEL_STATUS,         ZV_F_DEL_SLEUTELDATUM,  ZV_F_DEL_ETMALEN,
    ZV_F_DEL_TREATMENT, ZV_F_DEL_LEVERINGSVORM, ZV_F_DEL_LEVERINGSSTATUS};

static const zv_field_id AW39[] = {
    ZV_F_ENT_NUMBER,        ZV_F_ENT_FUNCTION_CODE,   ZV_F_ENT_ZZP_CODE,
    ZV_F_ENT_START,         ZV_F_ENT_FUNDER,          ZV_F_DEL_START,
    ZV_F_DEL_PROVIDER_AGB,  ZV_F_DEL_MUTATION_CODE,   ZV_F_DEL_MUTATION_DATE,
    ZV_F_DEL_END,           ZV_F_DEL_DESTINATION_AGB, ZV_F_DEL_STATUS,
    ZV_F_DEL_LEVERINGSSTATUS, ZV_F_DEL_LEVERINGSSTATUS_CLASS, ZV_F_DEL_LEVERINGSVORM,
    /* the Aanvraag (render_aw39.c) */
    ZV_F_ENT_ISSUE_DATE, ZV_F_DEL_ETMALEN, ZV_F_DEL_KLASSE, ZV_F_DEL_DOSSIERHOUDER_AGB,
    ZV_F_DEL_COORDINATOR_AGB, ZV_F_DEL_DOELMATIG, ZV_F_DEL_EXTRA_COSTS_HOME, ZV_F_DEL_VENTILATION,
    ZV_F_DEL_OTHER_SUPPLEMENT, ZV_F_DEL_VERANTWOORD, ZV_F_DEL_REQUEST_KIND, ZV_F_DEL_REQUEST_START,
    ZV_F_DEL_REQUEST_END, ZV_F_DEL_REQUEST_PERCENTAGE, ZV_F_DEL_ADMISSION};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int in(const zv_field_id *v, size_t n, zv_field_id f)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == f) return 1;
    return 0;
}

int iwlz_field_renderable(const zv_json *options, int message, zv_field_id f)
{
    (void)options; /* zorgkantoor only replaces the Ontvanger's source */
    if (in(CLIENT, COUNT(CLIENT), f)) return message == IWLZ_AW35 || message == IWLZ_AW39;
    if (message == IWLZ_AW35) return in(AW35, COUNT(AW35), f);
    if (message == IWLZ_AW39) return in(AW39, COUNT(AW39), f);
    return 0;
}

/* Element -> field, for the elements a record's values fill. */
static int field_of(xmlNodePtr node, int message, const zv_record *r)
{
    const xmlChar *name = node->name;
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
        {"Besluitnummer", ZV_F_ENT_NUMBER},
        {"FunctieCode", ZV_F_ENT_FUNCTION_CODE},
        {"ZzpCode", ZV_F_ENT_ZZP_CODE},
        {"ToewijzingIngangsdatum", ZV_F_ENT_START},
        {"Begindatum", ZV_F_DEL_START},
        {"Sleuteldatum", ZV_F_DEL_SLEUTELDATUM},
        {"Instelling", ZV_F_DEL_PROVIDER_AGB},
        {"Etmalen", ZV_F_DEL_ETMALEN},
        {"Klasse", ZV_F_DEL_KLASSE},
        {"Opslag", ZV_F_DEL_OPSLAG},
        {"Leveringsstatus", ZV_F_DEL_LEVERINGSSTATUS},
        {"Leveringsvorm", ZV_F_DEL_LEVERINGSVORM},
        {"Behandeling", ZV_F_DEL_TREATMENT},
        {"StatusAanlevering", ZV_F_DEL_STATUS},
        {"Mutatiecode", ZV_F_DEL_MUTATION_CODE},
        {"InstellingBestemming", ZV_F_DEL_DESTINATION_AGB},
        {"LeveringsstatusClassificatie", ZV_F_DEL_LEVERINGSSTATUS_CLASS},
        {"Afgiftedatum", ZV_F_ENT_ISSUE_DATE},
        {"Dossierhouder", ZV_F_DEL_DOSSIERHOUDER_AGB},
        {"CoordinatorZorgThuis", ZV_F_DEL_COORDINATOR_AGB},
        {"Doelmatig", ZV_F_DEL_DOELMATIG},
        {"Verantwoord", ZV_F_DEL_VERANTWOORD},
        {"ExtraKostenThuis", ZV_F_DEL_EXTRA_COSTS_HOME},
        {"ToeslagBeademing", ZV_F_DEL_VENTILATION},
        {"ToeslagOverig", ZV_F_DEL_OTHER_SUPPLEMENT},
        {"Soort", ZV_F_DEL_REQUEST_KIND},
        {"ToewijzingEinddatum", ZV_F_DEL_REQUEST_END},
        {"ToewijzingPercentage", ZV_F_DEL_REQUEST_PERCENTAGE},
        {"Opname", ZV_F_DEL_ADMISSION},
    };
    /* An Aanvraag's requested start reuses the name ToewijzingIngangsdatum. */
    if (xmlStrEqual(name, BAD_CAST "ToewijzingIngangsdatum") && node->parent &&
        xmlStrEqual(node->parent->name, BAD_CAST "AanvraagInstelling"))
        return ZV_F_DEL_REQUEST_START;
    /* Mutatiedatum is the mutation date, else the end date (AW39). */
    if (message == IWLZ_AW39 && xmlStrEqual(name, BAD_CAST "Mutatiedatum"))
        return zv_rec_get(r, ZV_F_DEL_MUTATION_DATE) ? ZV_F_DEL_MUTATION_DATE : ZV_F_DEL_END;
    for (size_t i = 0; i < COUNT(map); i++)
        if (xmlStrEqual(name, BAD_CAST map[i].el)) return map[i].f;
    return -1;
}

static int is_product_box(const xmlChar *name)
{
    return xmlStrEqual(name, BAD_CAST "GeleverdeFuncties") ||
           xmlStrEqual(name, BAD_CAST "GeleverdeZorgzwaartepakketten") ||
           xmlStrEqual(name, BAD_CAST "MutatieFuncties") ||
           xmlStrEqual(name, BAD_CAST "MutatieZorgzwaartepakketten") ||
           xmlStrEqual(name, BAD_CAST "Aanvragen");
}

typedef struct marks {
    unsigned char on[ZV_FIELD_COUNT];
} marks;

/* Elements with text below n (not into product boxes when client is set). */
static void walk(xmlNodePtr n, int message, const zv_record *r, int client, marks *m)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (client && is_product_box(c->name)) continue;
        if (c->children && c->children->type == XML_ELEMENT_NODE) {
            walk(c, message, r, client, m);
            continue;
        }
        int f = field_of(c, message, r);
        const zv_value *v = f >= 0 ? zv_rec_get(r, (zv_field_id)f) : NULL;
        if (!v) continue;
        if (client) { /* the first record's block: only where it is this record's value */
            xmlChar *t = xmlNodeGetContent(c);
            int same = t && strlen((const char *)t) == v->len && !memcmp(t, v->str, v->len);
            xmlFree(t);
            if (!same) continue;
        }
        m->on[f] = 1;
    }
}

int iwlz_report_rendered(const iwlz_state *st, zv_render_out *out, const zv_batch *b,
                         xmlNodePtr product, const char *ontvanger)
{
    if (!ZV_HOST_HAS(st->host, rendered_fields) || !product->_private) return 0;
    size_t i = (size_t)(uintptr_t)product->_private - 1;
    const zv_record *r = b->records[i];
    marks m;
    memset(&m, 0, sizeof(m));
    walk(product, b->message, r, 0, &m);
    xmlNodePtr client = product->parent ? product->parent->parent : NULL;
    if (client) walk(client, b->message, r, 1, &m);
    /* The Header's Ontvanger is the funder when the values agree. */
    const char *funder = zv_rec_str(r, ZV_F_ENT_FUNDER);
    if (funder && ontvanger && strcmp(funder, ontvanger) == 0) m.on[ZV_F_ENT_FUNDER] = 1;
    zv_field_id ids[ZV_FIELD_COUNT];
    size_t n = 0;
    for (int f = 0; f < ZV_FIELD_COUNT; f++)
        if (m.on[f]) ids[n++] = (zv_field_id)f;
    return st->host->rendered_fields(out, i, ids, n);
}
