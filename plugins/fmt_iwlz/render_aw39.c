/* AW39 (mutaties zorglevering): the MutatieFunctie and
 * MutatieZorgzwaartepakket elements, in the order AW39.xsd fixes.  AW39 has
 * no Einddatum: an end is a Mutatiecode (19/20) with its Mutatiedatum, which
 * falls back to delivery.end when delivery.mutation_date is absent.  The
 * Leveringsstatus for 17/19/21 is 5 when the record has none (TR046). */
#include "iwlz.h"

static const char *get(const zv_record *r, zv_field_id id)
{
    return zv_rec_str(r, id);
}

static void common_head(xmlNodePtr p, xmlNsPtr ns, const zv_record *r, zv_field_id code)
{
    iwlz_text(p, ns, "Besluitnummer", get(r, ZV_F_ENT_NUMBER));
    iwlz_text(p, ns, code == ZV_F_ENT_ZZP_CODE ? "ZzpCode" : "FunctieCode", get(r, code));
    iwlz_text(p, ns, "ToewijzingIngangsdatum", get(r, ZV_F_ENT_START));
    /* The catalogue keeps Begindatum out for Mutatiecode 12/18/21 (TR066). */
    iwlz_text(p, ns, "Begindatum", get(r, ZV_F_DEL_START));
    iwlz_text(p, ns, "Instelling", get(r, ZV_F_DEL_PROVIDER_AGB));
    iwlz_text(p, ns, "Mutatiecode", get(r, ZV_F_DEL_MUTATION_CODE));
    iwlz_text(p, ns, "Mutatiedatum", iwlz_mutatiedatum(r));
}

static xmlNodePtr functie(xmlNodePtr client, xmlNsPtr ns, const zv_record *r)
{
    xmlNodePtr c = iwlz_container(client, ns, "MutatieFuncties", "MutatieZorgzwaartepakketten");
    xmlNodePtr p = c ? xmlNewChild(c, ns, BAD_CAST "MutatieFunctie", NULL) : NULL;
    if (!p) return NULL;
    common_head(p, ns, r, ZV_F_ENT_FUNCTION_CODE);
    iwlz_text(p, ns, "InstellingBestemming", get(r, ZV_F_DEL_DESTINATION_AGB));
    iwlz_text(p, ns, "StatusAanlevering", get(r, ZV_F_DEL_STATUS));
    return p;
}

static xmlNodePtr zzp(xmlNodePtr client, xmlNsPtr ns, const zv_record *r)
{
    xmlNodePtr c = iwlz_container(client, ns, "MutatieZorgzwaartepakketten", NULL);
    xmlNodePtr p = c ? xmlNewChild(c, ns, BAD_CAST "MutatieZorgzwaartepakket", NULL) : NULL;
    if (!p) return NULL;
    common_head(p, ns, r, ZV_F_ENT_ZZP_CODE);
    iwlz_text(p, ns, "Leveringsstatus", iwlz_aw39_leveringsstatus(r));
    iwlz_text(p, ns, "LeveringsstatusClassificatie", get(r, ZV_F_DEL_LEVERINGSSTATUS_CLASS));
    iwlz_text(p, ns, "Leveringsvorm", get(r, ZV_F_DEL_LEVERINGSVORM));
    iwlz_text(p, ns, "InstellingBestemming", get(r, ZV_F_DEL_DESTINATION_AGB));
    iwlz_text(p, ns, "StatusAanlevering", get(r, ZV_F_DEL_STATUS));
    return p;
}

xmlNodePtr iwlz_aw39_product(xmlNodePtr client, xmlNsPtr ns, const zv_record *r)
{
    return iwlz_is_zzp(r) ? zzp(client, ns, r) : functie(client, ns, r);
}
