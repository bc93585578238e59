/* AW39 (mutaties zorglevering): the MutatieFunctie and
 * MutatieZorgzwaartepakket elements, in the order AW39.xsd fixes.  AW39 has
 * no Einddatum: an end is a Mutatiecode (19/20) with its Mutatiedatum, which
 * falls back to delivery.end when delivery.mutation_date is absent.  The
 * Leveringsstatus for 17/19/21 is 5 when the record has none (TR046).
 * A record with delivery.request_kind is an Aanvraag (a request for an
 * adjusted zorgtoewijzing) with one AanvraagInstelling. */
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
    static const char *const later[] = {"MutatieZorgzwaartepakketten", "Aanvragen", NULL};
    xmlNodePtr c = iwlz_container_before(client, ns, "MutatieFuncties", later);
    xmlNodePtr p = c ? xmlNewChild(c, ns, BAD_CAST "MutatieFunctie", NULL) : NULL;
    if (!p) return NULL;
    common_head(p, ns, r, ZV_F_ENT_FUNCTION_CODE);
    iwlz_text(p, ns, "InstellingBestemming", get(r, ZV_F_DEL_DESTINATION_AGB));
    iwlz_text(p, ns, "StatusAanlevering", get(r, ZV_F_DEL_STATUS));
    return p;
}

static xmlNodePtr zzp(xmlNodePtr client, xmlNsPtr ns, const zv_record *r)
{
    xmlNodePtr c = iwlz_container(client, ns, "MutatieZorgzwaartepakketten", "Aanvragen");
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

/* CDT_BijzondereSituatie lives in the basisschema namespace. */
static void bijzondere_situatie(xmlNodePtr p, xmlNsPtr ns, xmlNsPtr bns, const zv_record *r)
{
    const char *ekt = get(r, ZV_F_DEL_EXTRA_COSTS_HOME), *bea = get(r, ZV_F_DEL_VENTILATION),
               *ovr = get(r, ZV_F_DEL_OTHER_SUPPLEMENT);
    if (!ekt && !bea && !ovr) return;
    xmlNodePtr b = xmlNewChild(p, ns, BAD_CAST "BijzondereSituatie", NULL);
    if (!b) return;
    iwlz_text(b, bns, "ExtraKostenThuis", ekt);
    iwlz_text(b, bns, "ToeslagBeademing", bea);
    iwlz_text(b, bns, "ToeslagOverig", ovr);
}

static xmlNodePtr aanvraag(xmlNodePtr client, xmlNsPtr ns, const zv_record *r)
{
    xmlNsPtr bns = xmlSearchNs(client->doc, client, BAD_CAST "iwlz");
    xmlNodePtr c = iwlz_container(client, ns, "Aanvragen", NULL);
    xmlNodePtr p = c ? xmlNewChild(c, ns, BAD_CAST "Aanvraag", NULL) : NULL;
    if (!p || !bns) return NULL;
    iwlz_text(p, ns, "Besluitnummer", get(r, ZV_F_ENT_NUMBER));
    iwlz_text(p, ns, "Afgiftedatum", get(r, ZV_F_ENT_ISSUE_DATE));
    iwlz_text(p, ns, "Instelling", get(r, ZV_F_DEL_PROVIDER_AGB));
    iwlz_text(p, ns, "ZzpCode", get(r, ZV_F_ENT_ZZP_CODE));
    iwlz_text(p, ns, "Etmalen", iwlz_etmalen(get(r, ZV_F_DEL_ETMALEN)));
    iwlz_text(p, ns, "Klasse", get(r, ZV_F_DEL_KLASSE));
    iwlz_text(p, ns, "Leveringsvorm", get(r, ZV_F_DEL_LEVERINGSVORM));
    iwlz_text(p, ns, "Dossierhouder", get(r, ZV_F_DEL_DOSSIERHOUDER_AGB));
    iwlz_text(p, ns, "CoordinatorZorgThuis", get(r, ZV_F_DEL_COORDINATOR_AGB));
    iwlz_text(p, ns, "Doelmatig", iwlz_janee(get(r, ZV_F_DEL_DOELMATIG)));
    bijzondere_situatie(p, ns, bns, r);
    iwlz_text(p, ns, "Verantwoord", iwlz_janee(get(r, ZV_F_DEL_VERANTWOORD)));
    xmlNodePtr is = xmlNewChild(p, ns, BAD_CAST "AanvraagInstellingen", NULL);
    xmlNodePtr i = is ? xmlNewChild(is, ns, BAD_CAST "AanvraagInstelling", NULL) : NULL;
    if (!i) return NULL;
    iwlz_text(i, ns, "Instelling", get(r, ZV_F_DEL_PROVIDER_AGB));
    iwlz_text(i, ns, "Soort", get(r, ZV_F_DEL_REQUEST_KIND));
    iwlz_text(i, ns, "ToewijzingIngangsdatum", get(r, ZV_F_DEL_REQUEST_START));
    iwlz_text(i, ns, "ToewijzingEinddatum", get(r, ZV_F_DEL_REQUEST_END));
    iwlz_text(i, ns, "ToewijzingPercentage", get(r, ZV_F_DEL_REQUEST_PERCENTAGE));
    iwlz_text(i, ns, "Opname", iwlz_janee(get(r, ZV_F_DEL_ADMISSION)));
    return p;
}

int iwlz_is_aanvraag(const zv_record *r)
{
    return get(r, ZV_F_DEL_REQUEST_KIND) != NULL;
}

xmlNodePtr iwlz_aw39_product(xmlNodePtr client, xmlNsPtr ns, const zv_record *r)
{
    if (iwlz_is_aanvraag(r)) return aanvraag(client, ns, r);
    return iwlz_is_zzp(r) ? zzp(client, ns, r) : functie(client, ns, r);
}
