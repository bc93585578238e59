/*
 * AW39 mutation semantics: what each Mutatiecode demands of Begindatum
 * (TR066), Leveringsstatus (TR046, CS133), LeveringsstatusClassificatie
 * (CD090, CS131) and InstellingBestemming (CD020), after the official
 * iWlz 2.2 rule set.  The official set runs on every message anyway; these
 * give the record-level reason before rendering, with the field named.
 */
#include "iwlz.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *get(const zv_record *r, zv_field_id id)
{
    return zv_rec_str(r, id);
}

static int in_csv(const char *v, const char *csv)
{
    size_t n = v ? strlen(v) : 0;
    for (const char *p = csv; n && *p;) {
        size_t l = strcspn(p, ",");
        if (l == n && strncmp(p, v, n) == 0) return 1;
        p += l + (p[l] == ',');
    }
    return 0;
}

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

/* TR046: the Leveringsstatus each Mutatiecode allows. */
static const struct {
    const char *code, *allowed;
} tr046[] = {{"12", "3,5"}, {"17", "5"},       {"18", "2,6,7"},
             {"19", "5"},   {"20", "2,3,6,7"}, {"21", "5"}};

/* CS131: the classifications each waiting status allows. */
static const struct {
    const char *status, *allowed;
} cs131[] = {{"6", "01,02,03,04,05,06,07,08"},
             {"7", "09,10,11,12"},
             {"2", "13,14,15,16,17,18,19"},
             {"3", "13,14,15,17,18,19"}};

int iwlz_aw39_begindatum_required(const char *code)
{
    return in_csv(code, "17,19,20") ? 1 : in_csv(code, "12,18,21") ? 0 : -1;
}

const char *iwlz_aw39_leveringsstatus(const zv_record *r)
{
    const char *ls = get(r, ZV_F_DEL_LEVERINGSSTATUS);
    /* Overplaatsing, einde zorg met sluiten, overdracht: the standard allows
     * only 5 (einde zorgvraag), so the catalogue does not ask the ECD for it. */
    if (!ls && in_csv(get(r, ZV_F_DEL_MUTATION_CODE), "17,19,21")) return "5";
    return ls;
}

int iwlz_check_aw39(const zv_record *r, iwlz_violation *v)
{
    const char *code = get(r, ZV_F_DEL_MUTATION_CODE);
    const char *start = get(r, ZV_F_DEL_START);
    const char *dest = get(r, ZV_F_DEL_DESTINATION_AGB);
    int need_start = iwlz_aw39_begindatum_required(code);
    if (need_start == 1 && !start)
        return fail(v, "TR066", "delivery.start",
                    "Begindatum is verplicht bij Mutatiecode %s (17, 19, 20)", code);
    if (need_start == 0 && start)
        return fail(v, "TR066", "delivery.start",
                    "Begindatum leeg laten bij Mutatiecode %s (12, 18, 21)", code);
    int transfer = in_csv(code, "17,21");
    if (transfer && !dest)
        return fail(v, "CD020", "delivery.destination_agb",
                    "InstellingBestemming is verplicht bij Mutatiecode %s (overplaatsing, "
                    "overdracht)",
                    code);
    if (!transfer && dest)
        return fail(v, "CD020", "delivery.destination_agb",
                    "InstellingBestemming alleen vullen bij Mutatiecode 17 of 21 (is %s)", code);
    if (!iwlz_is_zzp(r)) return 0;
    const char *ls = iwlz_aw39_leveringsstatus(r);
    const char *cls = get(r, ZV_F_DEL_LEVERINGSSTATUS_CLASS);
    if (ls && !strcmp(ls, "1"))
        return fail(v, "CS133", "delivery.leveringsstatus",
                    "Leveringsstatus 1 (actief wachtend) is in AW39 niet toegestaan");
    for (size_t i = 0; i < sizeof(tr046) / sizeof(tr046[0]); i++)
        if (code && !strcmp(code, tr046[i].code) && ls && !in_csv(ls, tr046[i].allowed))
            return fail(v, "TR046", "delivery.leveringsstatus",
                        "Leveringsstatus %s past niet bij Mutatiecode %s (toegestaan: %s)", ls,
                        code, tr046[i].allowed);
    int waiting = in_csv(ls, "2,3,6,7");
    if (waiting && !cls)
        return fail(v, "CD090", "delivery.leveringsstatus_class",
                    "LeveringsstatusClassificatie is verplicht bij Leveringsstatus %s", ls);
    if (!waiting && cls)
        return fail(v, "CD090", "delivery.leveringsstatus_class",
                    "LeveringsstatusClassificatie alleen vullen bij Leveringsstatus 2, 3, 6 of 7 "
                    "(is %s)",
                    ls ? ls : "leeg");
    for (size_t i = 0; waiting && i < sizeof(cs131) / sizeof(cs131[0]); i++)
        if (!strcmp(ls, cs131[i].status) && !in_csv(cls, cs131[i].allowed))
            return fail(v, "CS131", "delivery.leveringsstatus_class",
                        "LeveringsstatusClassificatie %s hoort niet bij Leveringsstatus %s "
                        "(toegestaan: %s)",
                        cls, ls, cs131[i].allowed);
    return 0;
}
