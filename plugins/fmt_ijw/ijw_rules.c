/*
 * Rules of iJw / iWmo 3.2 for start (305) and stop (307) that can be checked
 * on one record.  Rule codes are the iStandaarden codes where known (TR...,
 * from the iJw 3.2 rule set); otherwise our own ZV-IJW-* codes.  Reasons
 * never contain a BSN.
 */
#include "ijw.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zinvol/util.h>

const char *ijw_gemeente(const ijw_fmt *f, const zv_record *r)
{
    return f->gemeente ? f->gemeente : zv_rec_str(r, ZV_F_ENT_FUNDER);
}

int ijw_product_key(ijw_variant v, const char *toewijzing, const char *cat, const char *code,
                    const char *begindatum, char *out, size_t outlen)
{
    int n;
    if (v != IJW_TAAK) {
        if (!toewijzing || !*toewijzing) return -1;
        n = snprintf(out, outlen, "%s", toewijzing);
    } else {
        if (!cat || !*cat || !begindatum) return -1;
        n = snprintf(out, outlen, "%s%s%s@%s", cat, code ? ":" : "", code ? code : "", begindatum);
    }
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

static int fail(ijw_violation *v, const char *rule, const char *field, const char *fmt,
                const char *arg)
{
    v->rule = rule;
    v->field = field;
    snprintf(v->reason, sizeof(v->reason), fmt, arg ? arg : "");
    return 1;
}

static int digits(const char *s, size_t n)
{
    if (!s || strlen(s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* Elements the XSD demands in both messages. */
static int check_required(ijw_msg m, const zv_record *r, ijw_violation *v)
{
    static const zv_field_id start_req[] = {ZV_F_CLIENT_BSN, ZV_F_CLIENT_BIRTH_DATE,
                                            ZV_F_CLIENT_SEX, ZV_F_CLIENT_FAMILY_NAME,
                                            ZV_F_DEL_START,  ZV_F_DEL_STATUS};
    static const zv_field_id stop_req[] = {ZV_F_DEL_END, ZV_F_DEL_END_REASON};
    for (size_t i = 0; i < sizeof(start_req) / sizeof(start_req[0]); i++)
        if (!zv_rec_get(r, start_req[i]))
            return fail(v, "ZV-IJW-REQUIRED", zv_field_def_of(start_req[i])->name,
                        "required by the XSD but absent after minimisation%s", NULL);
    for (size_t i = 0; m == IJW_STOP && i < sizeof(stop_req) / sizeof(stop_req[0]); i++)
        if (!zv_rec_get(r, stop_req[i]))
            return fail(v, "ZV-IJW-REQUIRED", zv_field_def_of(stop_req[i])->name,
                        "required in a stop message (307) but absent%s", NULL);
    return 0;
}

static int check_client(const zv_record *r, const char *dagtekening, ijw_violation *v)
{
    const char *bsn = zv_rec_str(r, ZV_F_CLIENT_BSN);
    if (!zv_bsn_valid(bsn, strlen(bsn)))
        return fail(v, "ZV-IJW-BSN", "client.bsn", "not 9 digits passing the elfproef%s", NULL);
    const char *sex = zv_rec_str(r, ZV_F_CLIENT_SEX);
    if (strcmp(sex, "0") && strcmp(sex, "1") && strcmp(sex, "2"))
        return fail(v, "ZV-IJW-GESLACHT", "client.sex",
                    "Geslacht '%s' is not in COD046 (0, 1, 2) of iJw/iWmo 3.2", sex);
    const char *birth = zv_rec_str(r, ZV_F_CLIENT_BIRTH_DATE);
    int64_t b, d;
    if (zv_date_days(birth, &b) != 0 || zv_date_days(dagtekening, &d) != 0)
        return fail(v, "ZV-IJW-DATE", "client.birth_date", "not a valid date%s", NULL);
    if (b > d)
        return fail(v, "TR134", "client.birth_date", "Geboortedatum after Dagtekening%s", NULL);
    if (d - b > 120 * 36525 / 100)
        return fail(v, "TR002", "client.birth_date",
                    "Geboortedatum more than 120 years before Dagtekening%s", NULL);
    return 0;
}

static int check_product(const ijw_fmt *f, const zv_record *r, ijw_violation *v)
{
    const char *g = ijw_gemeente(f, r);
    if (!digits(g, 4))
        return fail(v, "ZV-IJW-GEMEENTE", "entitlement.funder",
                    "Ontvanger must be a 4-digit gemeentecode (option gemeente or "
                    "entitlement.funder), got '%s'",
                    g ? g : "(absent)");
    const char *nr = zv_rec_str(r, ZV_F_ENT_NUMBER);
    const char *cat = zv_rec_str(r, ZV_F_ENT_PRODUCT_CATEGORY);
    if (f->variant != IJW_TAAK && !nr)
        return fail(v, "TR019", "entitlement.number",
                    "ToewijzingNummer is required in the %s variant",
                    f->variant == IJW_OUTPUT ? "outputgerichte" : "inspanningsgerichte");
    if (f->variant == IJW_TAAK && !cat)
        return fail(v, "ZV-IJW-TAAK-PRODUCT", "entitlement.product_category",
                    "the taakgerichte variant identifies a product by Product and Begindatum; "
                    "Categorie is absent%s",
                    NULL);
    if (zv_rec_get(r, ZV_F_ENT_PRODUCT_CODE) && !cat)
        return fail(v, "ZV-IJW-PRODUCT", "entitlement.product_category",
                    "Product/Code given without Product/Categorie%s", NULL);
    return 0;
}

static int check_delivery(ijw_msg m, const zv_record *r, const char *dagtekening, ijw_violation *v)
{
    const char *status = zv_rec_str(r, ZV_F_DEL_STATUS);
    if (strcmp(status, "1") != 0 && strcmp(status, "3") != 0)
        return fail(v, "ZV-IJW-STATUS", "delivery.status",
                    "StatusAanlevering must be 1 (new) or 3 (cancel) in 305/307, got '%s'", status);
    int64_t begin, end, dag;
    if (zv_date_days(zv_rec_str(r, ZV_F_DEL_START), &begin) != 0)
        return fail(v, "ZV-IJW-DATE", "delivery.start", "Begindatum is not a valid date%s", NULL);
    zv_date_days(dagtekening, &dag);
    if (begin > dag)
        return fail(v, "TR134", "delivery.start",
                    "Begindatum lies after the Dagtekening: a start is sent only once care has "
                    "begun%s",
                    NULL);
    /* Care is delivered on the gemeente's assignment: it cannot start
     * before the toegewezen product's Ingangsdatum. */
    int64_t toew;
    const char *ts = zv_rec_str(r, ZV_F_ENT_START);
    if (ts && zv_date_days(ts, &toew) == 0 && begin < toew)
        return fail(v, "ZV-IJW-BEGIN", "delivery.start",
                    "Begindatum lies before the ToewijzingIngangsdatum %s (entitlement.start): "
                    "care cannot start before the assignment",
                    ts);
    if (m == IJW_START) return 0;
    if (zv_date_days(zv_rec_str(r, ZV_F_DEL_END), &end) != 0)
        return fail(v, "ZV-IJW-DATE", "delivery.end", "Einddatum is not a valid date%s", NULL);
    if (end < begin) return fail(v, "TR018", "delivery.end", "Einddatum before Begindatum%s", NULL);
    if (end > dag)
        return fail(v, "TR134", "delivery.end", "Einddatum lies after the Dagtekening%s", NULL);
    return 0;
}

static int check_reden(const ijw_fmt *f, const zv_record *r, ijw_violation *v)
{
    const char *reden = zv_rec_str(r, ZV_F_DEL_END_REASON);
    if (!digits(reden, 2))
        return fail(v, "ZV-IJW-REDEN", "delivery.end_reason",
                    "RedenBeeindiging must be a 2-digit code, got '%s'", reden);
    if (!ijw_reden_valid(f->wmo, reden))
        return fail(v, "ZV-IJW-REDEN", "delivery.end_reason",
                    f->wmo ? "RedenBeeindiging '%s' is not in WMO588 (iWmo 3.2 basisschema)"
                           : "RedenBeeindiging '%s' is not in JZ588 (iJw 3.2 basisschema)",
                    reden);
    return 0;
}

int ijw_check_record(const ijw_fmt *f, ijw_msg m, const zv_record *r, const char *dagtekening,
                     ijw_violation *v)
{
    if (check_required(m, r, v) || check_client(r, dagtekening, v) || check_product(f, r, v) ||
        check_delivery(m, r, dagtekening, v))
        return 1;
    if (m == IJW_STOP && check_reden(f, r, v)) return 1;
    return 0;
}
