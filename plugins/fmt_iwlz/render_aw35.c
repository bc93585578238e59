/* AW35 (aanvang zorglevering): the GeleverdeFunctie and
 * GeleverdZorgzwaartepakket elements, in the order AW35.xsd fixes.  Only
 * values present in the (minimised) record are written. */
#include "iwlz.h"

static const char *get(const zv_record *r, zv_field_id id)
{
    return zv_rec_str(r, id);
}

static const char *or_raw(const char *mapped, const char *raw)
{
    return mapped ? mapped : raw;
}

static xmlNodePtr functie(xmlNodePtr client, xmlNsPtr ns, const zv_record *r)
{
    xmlNodePtr c = iwlz_container(client, ns, "GeleverdeFuncties", "GeleverdeZorgzwaartepakketten");
    xmlNodePtr p = c ? xmlNewChild(c, ns, BAD_CAST "GeleverdeFunctie", NULL) : NULL;
    if (!p) return NULL;
    iwlz_text(p, ns, "Besluitnummer", get(r, ZV_F_ENT_NUMBER));
    iwlz_text(p, ns, "FunctieCode", get(r, ZV_F_ENT_FUNCTION_CODE));
    iwlz_text(p, ns, "ToewijzingIngangsdatum", get(r, ZV_F_ENT_START));
    iwlz_text(p, ns, "Begindatum", get(r, ZV_F_DEL_START));
    iwlz_text(p, ns, "Instelling", get(r, ZV_F_DEL_PROVIDER_AGB));
    iwlz_text(p, ns, "Klasse", get(r, ZV_F_DEL_KLASSE));
    iwlz_text(p, ns, "Opslag", get(r, ZV_F_DEL_OPSLAG));
    iwlz_text(p, ns, "StatusAanlevering", get(r, ZV_F_DEL_STATUS));
    return p;
}

static xmlNodePtr zzp(xmlNodePtr client, xmlNsPtr ns, const zv_record *r)
{
    xmlNodePtr c = iwlz_container(client, ns, "GeleverdeZorgzwaartepakketten", NULL);
    xmlNodePtr p = c ? xmlNewChild(c, ns, BAD_CAST "GeleverdZorgzwaartepakket", NULL) : NULL;
    if (!p) return NULL;
    const char *etm = get(r, ZV_F_DEL_ETMALEN);
    const char *beh = get(r, ZV_F_DEL_TREATMENT);
    iwlz_text(p, ns, "Besluitnummer", get(r, ZV_F_ENT_NUMBER));
    iwlz_text(p, ns, "ZzpCode", get(r, ZV_F_ENT_ZZP_CODE));
    iwlz_text(p, ns, "ToewijzingIngangsdatum", get(r, ZV_F_ENT_START));
    iwlz_text(p, ns, "Begindatum", get(r, ZV_F_DEL_START));
    iwlz_text(p, ns, "Sleuteldatum", get(r, ZV_F_DEL_SLEUTELDATUM));
    iwlz_text(p, ns, "Instelling", get(r, ZV_F_DEL_PROVIDER_AGB));
    iwlz_text(p, ns, "Etmalen", or_raw(iwlz_etmalen(etm), etm));
    iwlz_text(p, ns, "Klasse", get(r, ZV_F_DEL_KLASSE));
    iwlz_text(p, ns, "Leveringsstatus", get(r, ZV_F_DEL_LEVERINGSSTATUS));
    iwlz_text(p, ns, "Leveringsvorm", get(r, ZV_F_DEL_LEVERINGSVORM));
    iwlz_text(p, ns, "Behandeling", or_raw(iwlz_janee(beh), beh));
    iwlz_text(p, ns, "StatusAanlevering", get(r, ZV_F_DEL_STATUS));
    return p;
}

xmlNodePtr iwlz_aw35_product(xmlNodePtr client, xmlNsPtr ns, const zv_record *r)
{
    return iwlz_is_zzp(r) ? zzp(client, ns, r) : functie(client, ns, r);
}
