/*
 * The iWlz 2.2 rules beyond the XSD that apply to one AW35/AW39 record,
 * and the XSD's required elements checked up front so that an absent value
 * quarantines the record instead of producing an invalid message.
 *
 * Rule codes and their conditions follow the published iWlz 2.2 rule set as
 * implemented in the official validation stylesheets (iStandaarden,
 * iWlz-Xslt, xslt-validatie/wlz/2_2).  Texts never contain the BSN.
 */
#include "iwlz.h"

#include <zinvol/util.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(iwlz_violation *v, const char *rule, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(iwlz_violation *v, const char *rule, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->text, sizeof(v->text), fmt, ap);
    va_end(ap);
    v->rule = rule;
    v->field = field;
    return 1;
}

static const char *get(const zv_record *r, zv_field_id id)
{
    return zv_rec_str(r, id);
}

static int in_list(const char *v, const char *const *list)
{
    for (; v && *list; list++)
        if (strcmp(v, *list) == 0) return 1;
    return 0;
}

int iwlz_is_zzp(const zv_record *r)
{
    return get(r, ZV_F_ENT_ZZP_CODE) != NULL;
}

const char *iwlz_etmalen(const char *v)
{
    static const char *const map[][2] = {{"3,5", "3,5"}, {"3.5", "3,5"}, {"4", "4,0"},
                                         {"4,0", "4,0"}, {"4.0", "4,0"}, {"4,5", "4,5"},
                                         {"4.5", "4,5"}};
    for (size_t i = 0; v && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(v, map[i][0]) == 0) return map[i][1];
    return NULL;
}

const char *iwlz_janee(const char *v)
{
    if (!v) return NULL;
    if (!strcmp(v, "1") || !strcmp(v, "J") || !strcmp(v, "j")) return "1";
    if (!strcmp(v, "2") || !strcmp(v, "N") || !strcmp(v, "n")) return "2";
    return NULL;
}

const char *iwlz_mutatiedatum(const zv_record *r)
{
    const char *m = get(r, ZV_F_DEL_MUTATION_DATE);
    return m ? m : get(r, ZV_F_DEL_END);
}

typedef struct required {
    zv_field_id id;
    const char *element;
} required;

/* An AW39 Aanvraag: what AW39.xsd demands of it.  Its conditions (CD047,
 * CD048, CD074, TR041, TR106, TR120, TR127) are left to the official rule
 * set, which runs on every message and names the record. */
static int check_aanvraag(const zv_record *r, iwlz_violation *v)
{
    static const required need[] = {
        {ZV_F_CLIENT_BSN, "Client/Bsn"},
        {ZV_F_CLIENT_BIRTH_DATE, "Client/Geboortedatum/Datum"},
        {ZV_F_CLIENT_SEX, "Client/Geslacht"},
        {ZV_F_CLIENT_FAMILY_NAME, "Client/Naam/Geslachtsnaam/Achternaam"},
        {ZV_F_ENT_NUMBER, "Aanvraag/Besluitnummer"},
        {ZV_F_ENT_ISSUE_DATE, "Aanvraag/Afgiftedatum"},
        {ZV_F_DEL_PROVIDER_AGB, "Aanvraag/Instelling"},
        {ZV_F_ENT_ZZP_CODE, "Aanvraag/ZzpCode"},
        {ZV_F_DEL_LEVERINGSVORM, "Aanvraag/Leveringsvorm"},
        {ZV_F_DEL_REQUEST_START, "AanvraagInstelling/ToewijzingIngangsdatum"},
    };
    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
        if (!get(r, need[i].id))
            return fail(v, "XSD", zv_field_def_of(need[i].id)->name, "AW39.xsd: %s is verplicht",
                        need[i].element);
    return 0;
}

/* Elements the XSD demands, in message order, per message and product. */
static int check_required(const iwlz_rule_ctx *rc, const zv_record *r, const char *ontvanger,
                          iwlz_violation *v)
{
    static const required common[] = {
        {ZV_F_CLIENT_BSN, "Client/Bsn"},
        {ZV_F_CLIENT_BIRTH_DATE, "Client/Geboortedatum/Datum"},
        {ZV_F_CLIENT_SEX, "Client/Geslacht"},
        {ZV_F_CLIENT_FAMILY_NAME, "Client/Naam/Geslachtsnaam/Achternaam"},
        {ZV_F_ENT_NUMBER, "Besluitnummer"},
        {ZV_F_ENT_START, "ToewijzingIngangsdatum"},
        {ZV_F_DEL_PROVIDER_AGB, "Instelling"},
        {ZV_F_DEL_STATUS, "StatusAanlevering"},
    };
    const char *msg = rc->message == IWLZ_AW35 ? "AW35" : "AW39";
    int zzp = iwlz_is_zzp(r);
    if (!ontvanger)
        return fail(v, "XSD", "entitlement.funder",
                    "%s.xsd: Header/Ontvanger is verplicht; geen zorgkantoorcode (option "
                    "zorgkantoor of entitlement.funder)",
                    msg);
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        if (!get(r, common[i].id))
            return fail(v, "XSD", zv_field_def_of(common[i].id)->name, "%s.xsd: %s is verplicht",
                        msg, common[i].element);
    if (rc->message == IWLZ_AW35) {
        if (!get(r, ZV_F_DEL_START))
            return fail(v, "XSD", "delivery.start", "AW35.xsd: Begindatum is verplicht");
        if (!zzp && !get(r, ZV_F_DEL_KLASSE))
            return fail(v, "XSD", "delivery.klasse",
                        "AW35.xsd: GeleverdeFunctie/Klasse is verplicht");
    } else {
        if (!get(r, ZV_F_DEL_MUTATION_CODE))
            return fail(v, "XSD", "delivery.mutation_code", "AW39.xsd: Mutatiecode is verplicht");
        if (!iwlz_mutatiedatum(r))
            return fail(v, "XSD", "delivery.mutation_date",
                        "AW39.xsd: Mutatiedatum is verplicht (mutatiedatum of einddatum)");
    }
    const char *ls =
        rc->message == IWLZ_AW39 ? iwlz_aw39_leveringsstatus(r) : get(r, ZV_F_DEL_LEVERINGSSTATUS);
    if (zzp && !ls)
        return fail(v, "XSD", "delivery.leveringsstatus", "%s.xsd: Leveringsstatus is verplicht",
                    msg);
    if (zzp && !get(r, ZV_F_DEL_LEVERINGSVORM))
        return fail(v, "XSD", "delivery.leveringsvorm", "%s.xsd: Leveringsvorm is verplicht", msg);
    return 0;
}

/* CS023: a date in the message may not lie after the Dagtekening. */
static int after_dagtekening(const iwlz_rule_ctx *rc, const char *date)
{
    int64_t d;
    return date && zv_date_days(date, &d) == 0 && d > rc->dagtekening;
}

/* 1 when both dates parse and a < b. */
static int before(const char *a, const char *b)
{
    int64_t da, db;
    return a && b && zv_date_days(a, &da) == 0 && zv_date_days(b, &db) == 0 && da < db;
}

/* 1 when both dates parse and a <= b. */
static int before_or_same(const char *a, const char *b)
{
    int64_t da, db;
    return a && b && zv_date_days(a, &da) == 0 && zv_date_days(b, &db) == 0 && da <= db;
}

static int check_dates(const iwlz_rule_ctx *rc, const zv_record *r, iwlz_violation *v)
{
    const char *birth = get(r, ZV_F_CLIENT_BIRTH_DATE);
    const char *start = get(r, ZV_F_DEL_START);
    const char *toew = get(r, ZV_F_ENT_START);
    const char *end = get(r, ZV_F_DEL_END);
    const char *mut = rc->message == IWLZ_AW39 ? iwlz_mutatiedatum(r) : NULL;
    const char *usage = get(r, ZV_F_CLIENT_BIRTH_DATE_USAGE);
    /* TR097: an unknown day, month or date is written as 01 / 01-01 / 1900-01-01. */
    if (birth && usage && strlen(birth) == 10 &&
        ((!strcmp(usage, "1") && strcmp(birth + 8, "01") != 0) ||
         (!strcmp(usage, "2") && strcmp(birth + 5, "01-01") != 0) ||
         (!strcmp(usage, "3") && strcmp(birth, "1900-01-01") != 0)))
        return fail(v, "TR097", "client.birth_date_usage",
                    "DatumGebruik %s past niet bij de Geboortedatum (1: dag 01, 2: 01-01, 3: "
                    "1900-01-01)",
                    usage);
    if (after_dagtekening(rc, birth))
        return fail(v, "CS023", "client.birth_date",
                    "Geboortedatum mag niet na de Dagtekening van het bericht liggen");
    if (after_dagtekening(rc, start))
        return fail(v, "CS023", "delivery.start",
                    "Begindatum mag niet na de Dagtekening van het bericht liggen");
    if (after_dagtekening(rc, mut))
        return fail(v, "CS023",
                    get(r, ZV_F_DEL_MUTATION_DATE) ? "delivery.mutation_date" : "delivery.end",
                    "Mutatiedatum mag niet na de Dagtekening van het bericht liggen");
    if (before(start, toew))
        return fail(v, "ZV-D01", "delivery.start",
                    "Begindatum (%s) ligt voor ToewijzingIngangsdatum (%s)", start, toew);
    if (before(mut, start))
        return fail(v, "TR018",
                    get(r, ZV_F_DEL_MUTATION_DATE) ? "delivery.mutation_date" : "delivery.end",
                    "Mutatiedatum (%s) ligt voor Begindatum (%s)", mut, start);
    if (before(end, start))
        return fail(v, "ZV-D03", "delivery.end", "Einddatum (%s) ligt voor Begindatum (%s)", end,
                    start);
    return 0;
}

/* Rules on a GeleverdZorgzwaartepakket (AW35) / MutatieZorgzwaartepakket (AW39). */
static int check_zzp(const iwlz_rule_ctx *rc, const zv_record *r, iwlz_violation *v)
{
    static const char *const lv_pgb_vkb[] = {"2", "9", NULL};
    static const char *const lv_klasse_req[] = {"4", "5", NULL};
    static const char *const klasse_ok[] = {"KE4", "KE5", "KE6", "KE7", NULL};
    const char *lv = get(r, ZV_F_DEL_LEVERINGSVORM);
    const char *ls = get(r, ZV_F_DEL_LEVERINGSSTATUS);
    const char *klasse = get(r, ZV_F_DEL_KLASSE);
    if (in_list(lv, lv_pgb_vkb))
        return fail(v, "CS127", "delivery.leveringsvorm",
                    "Leveringsvorm van een geleverd zorgzwaartepakket mag niet 2 (PGB) of 9 "
                    "(VKB) zijn (is %s)",
                    lv);
    if (rc->message != IWLZ_AW35) return 0;
    if (ls && strcmp(ls, "4") != 0)
        return fail(v, "CS062", "delivery.leveringsstatus",
                    "Leveringsstatus in AW35 moet 4 (in zorg) zijn (is %s)", ls);
    if (get(r, ZV_F_DEL_SLEUTELDATUM) && (!lv || strcmp(lv, "4") != 0))
        return fail(v, "CD004", "delivery.sleuteldatum",
                    "Sleuteldatum alleen vullen als Leveringsvorm 4 (verblijf) is (is %s)", lv);
    if (before_or_same(get(r, ZV_F_DEL_START), get(r, ZV_F_DEL_SLEUTELDATUM)))
        return fail(v, "CS088", "delivery.sleuteldatum",
                    "Sleuteldatum moet voor de Begindatum liggen");
    if (in_list(lv, lv_klasse_req) && !klasse)
        return fail(v, "CD051", "delivery.klasse",
                    "Klasse is verplicht als Leveringsvorm 4 of 5 is (is %s)", lv);
    if (!in_list(lv, lv_klasse_req) && klasse)
        return fail(v, "CD051", "delivery.klasse",
                    "Klasse alleen vullen als Leveringsvorm 4 of 5 is (is %s)", lv);
    if (klasse && !in_list(klasse, klasse_ok))
        return fail(v, "CS074", "delivery.klasse",
                    "Klasse van een zorgzwaartepakket moet KE4, KE5, KE6 of KE7 zijn (is %s)",
                    klasse);
    int dtv = lv && strcmp(lv, "8") == 0;
    const char *etm = get(r, ZV_F_DEL_ETMALEN);
    if (dtv && !etm)
        return fail(v, "CD072", "delivery.etmalen",
                    "Etmalen is verplicht als Leveringsvorm 8 (deeltijdverblijf) is");
    if (!dtv && etm)
        return fail(v, "CD072", "delivery.etmalen",
                    "Etmalen alleen vullen als Leveringsvorm 8 (deeltijdverblijf) is (is %s)", lv);
    return 0;
}

/* Rules on a GeleverdeFunctie (AW35): Opslag only with the highest Klasse of
 * the function (TR010), never for 71 verblijf tijdelijk (TR034). */
static int check_functie(const iwlz_rule_ctx *rc, const zv_record *r, iwlz_violation *v)
{
    static const char *const max_klasse[][2] = {{"21", "K8"}, {"31", "K8"},   {"81", "K8"},
                                                {"41", "K7"}, {"64", "KD09"}, {"82", "KD09"},
                                                {"71", "KE7"}};
    const char *fc = get(r, ZV_F_ENT_FUNCTION_CODE);
    const char *klasse = get(r, ZV_F_DEL_KLASSE);
    if (rc->message != IWLZ_AW35 || !get(r, ZV_F_DEL_OPSLAG)) return 0;
    if (fc && !strcmp(fc, "71"))
        return fail(v, "TR034", "delivery.opslag",
                    "Opslag niet vullen bij FunctieCode 71 (verblijf tijdelijk)");
    const char *max = NULL;
    for (size_t i = 0; fc && i < sizeof(max_klasse) / sizeof(max_klasse[0]); i++)
        if (!strcmp(fc, max_klasse[i][0])) max = max_klasse[i][1];
    if (!klasse || !strcmp(klasse, "99") || (max && strcmp(klasse, max) != 0))
        return fail(v, "TR010", "delivery.opslag",
                    "Opslag alleen vullen bij de hoogste Klasse van FunctieCode %s (%s; is %s)",
                    fc ? fc : "?", max ? max : "?", klasse ? klasse : "leeg");
    return 0;
}

int iwlz_check_record(const iwlz_rule_ctx *rc, const zv_record *r, const char *ontvanger,
                      iwlz_violation *v)
{
    static const char *const status_ok[] = {"1", "3", NULL};
    const char *bsn = get(r, ZV_F_CLIENT_BSN);
    if (rc->message == IWLZ_AW39 && iwlz_is_aanvraag(r)) {
        if (!ontvanger)
            return fail(v, "XSD", "entitlement.funder",
                        "AW39.xsd: Header/Ontvanger is verplicht; geen zorgkantoorcode (option "
                        "zorgkantoor of entitlement.funder)");
        if (check_aanvraag(r, v)) return 1;
        if (rc->own_rules && !zv_bsn_valid(bsn, strlen(bsn)))
            return fail(v, "CS002", "client.bsn", "BSN voldoet niet aan de elfproef");
        return rc->own_rules ? check_dates(rc, r, v) : 0;
    }
    /* The product kind decides which required elements apply, so TR039/TR040
     * comes first. */
    if (!iwlz_is_zzp(r) && !get(r, ZV_F_ENT_FUNCTION_CODE)) {
        if (rc->message == IWLZ_AW35)
            return fail(v, "TR039", "entitlement.zzp_code",
                        "Per client minimaal een GeleverdeFunctie of GeleverdZorgzwaartepakket: "
                        "het record heeft geen functiecode en geen ZZP-code");
        return fail(v, "TR040", "entitlement.zzp_code",
                    "Per client minimaal een MutatieFunctie, MutatieZorgzwaartepakket of Aanvraag: "
                    "het record heeft geen functiecode en geen ZZP-code");
    }
    if (check_required(rc, r, ontvanger, v)) return 1;
    if (!rc->own_rules) return 0;
    if (!zv_bsn_valid(bsn, strlen(bsn)))
        return fail(v, "CS002", "client.bsn", "BSN voldoet niet aan de elfproef");
    const char *status = get(r, ZV_F_DEL_STATUS);
    if (!in_list(status, status_ok))
        return fail(v, "CS058", "delivery.status",
                    "StatusAanlevering moet 1 (eerste aanlevering) of 3 (verwijderen) zijn (is %s)",
                    status);
    const char *inst = get(r, ZV_F_DEL_PROVIDER_AGB);
    if (rc->afzender && strcmp(inst, rc->afzender) != 0)
        return fail(v, "TR064", "delivery.provider_agb",
                    "Instelling (%s) moet gelijk zijn aan de Afzender in de header (%s)", inst,
                    rc->afzender);
    if (check_dates(rc, r, v)) return 1;
    if (rc->message == IWLZ_AW39 && iwlz_check_aw39(r, v)) return 1;
    if (iwlz_is_zzp(r) ? check_zzp(rc, r, v) : check_functie(rc, r, v)) return 1;
    return 0;
}
