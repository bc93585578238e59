/*
 * Every value a 305/307/323 message carries, checked against its datatype
 * in the iJw / iWmo 3.2 basisschema, so that a value the XSD would refuse
 * is quarantined with its field and value named even where the user has
 * no XSDs configured (schema_dir).  The facets and code lists below are
 * transcribed from the basisschema.xsd copies in ../shared/schemas
 * (ijw-3.2, iwmo-3.2); tests/unit/test_ijw_types.c reads those files and
 * proves that the lists here accept exactly what the XSD enumerates, and
 * that every value refused here is refused by the XSD too.
 */
#include "ijw.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zinvol/util.h>

typedef enum ldt {
    LDT_NUMMER,       /* xs:integer 0..999999999 */
    LDT_DATUM,        /* xs:date, no time zone */
    LDT_GESLACHT,     /* 0, 1, 2 */
    LDT_DATUMGEBRUIK, /* 1, 2, 3 */
    LDT_STATUS,       /* LDT_StatusAanlevering: 1, 2, 3, 9 */
    LDT_REDEN,        /* LDT_RedenBeeindiging: JZ588 / WMO588 */
    LDT_PRODCAT,      /* LDT_ProductCategorie: per standard */
    LDT_PRODCODE,     /* 1..5 characters, not only white space */
    LDT_NAAM,         /* 1..200 characters, not only white space */
    LDT_VOORVOEGSEL,  /* 1..10 characters, not only white space */
    LDT_VOORLETTERS,  /* ([a-zA-ZÀ-ỳ])+, 1..6 characters */
    LDT_IDDECL,       /* LDT_IdentificatieDeclaratie 1..12, JW323 pattern [a-zA-Z0-9]+ */
    LDT_REFNR,        /* LDT_ReferentieNummer 1..20 characters */
    LDT_VOLUME,       /* xs:integer 0..99999999 */
    LDT_EENHEID,      /* 01, 04, 14, 16, 82, 83, 84 */
    LDT_BEDRAG,       /* xs:integer 0..99999999 (eurocent) */
    LDT_DC,           /* C, D */
} ldt;

static const char *const ldt_name[] = {
    "LDT_Nummer (a non-negative integer of at most 9 digits)",
    "LDT_Datum (a date YYYY-MM-DD)",
    "LDT_Geslacht (0, 1 or 2)",
    "LDT_DatumGebruik (1, 2 or 3)",
    "LDT_StatusAanlevering (1, 2, 3 or 9)",
    "LDT_RedenBeeindiging",
    "LDT_ProductCategorie",
    "LDT_ProductCode (1 to 5 characters)",
    "LDT_Naam (1 to 200 characters)",
    "LDT_Voorvoegsel (1 to 10 characters)",
    "LDT_Voorletters (1 to 6 letters, no dots or spaces)",
    "LDT_IdentificatieDeclaratie (1 to 12 letters or digits)",
    "LDT_ReferentieNummer (1 to 20 characters)",
    "LDT_Volume (an integer 0..99999999)",
    "LDT_Eenheid (01, 04, 14, 16, 82, 83 or 84)",
    "LDT_Bedrag (an integer 0..99999999, eurocent)",
    "LDT_DebetCredit (D or C)",
};

/* Code lists per standard: [0] iJw 3.2, [1] iWmo 3.2. */
static const char *const reden[2][12] = {
    {"02", "20", "31", "32", "33", "34", "35", "36", "37", "38", "39", NULL},
    {"02", "19", "20", "21", "22", "23", "31", "36", "37", "38", "39", NULL}};
static const char *const prodcat[2][25] = {
    {"31", "32", "33", "34", "35", "36", "37", "38", "40", "41", "42", "43", "44",
     "45", "46", "47", "48", "49", "50", "51", "52", "53", "54", "55", NULL},
    {"01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16",
     "17", "18", NULL}};
static const char *const geslacht[] = {"0", "1", "2", NULL};
static const char *const datumgebruik[] = {"1", "2", "3", NULL};
static const char *const status[] = {"1", "2", "3", "9", NULL};
static const char *const eenheid[] = {"01", "04", "14", "16", "82", "83", "84", NULL};
static const char *const dc[] = {"C", "D", NULL};

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0) return 1;
    return 0;
}

/* xs:integer within [0, max]: optional '+', digits (leading zeros allowed). */
static int integer_in(const char *s, uint64_t max)
{
    if (*s == '+') s++;
    if (!*s) return 0;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 0;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > max) return 0;
    }
    return 1;
}

/* Next UTF-8 code point; -1 on a malformed sequence. */
static long next_cp(const unsigned char **p)
{
    const unsigned char *s = *p;
    long cp;
    int n;
    if (s[0] < 0x80)
        cp = s[0], n = 1;
    else if ((s[0] & 0xE0) == 0xC0)
        cp = s[0] & 0x1F, n = 2;
    else if ((s[0] & 0xF0) == 0xE0)
        cp = s[0] & 0x0F, n = 3;
    else if ((s[0] & 0xF8) == 0xF0)
        cp = s[0] & 0x07, n = 4;
    else
        return -1;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return -1;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    *p = s + n;
    return cp;
}

static int is_xml_space(long cp)
{
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r';
}

/* xs:string with minLength 1, maxLength max (in characters) and the
 * basisschema's pattern ".*[^\s].*": not only white space, and no line
 * break anywhere, as '.' of an XSD pattern matches neither \n nor \r. */
static int text_in(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    int visible = 0;
    while (*p) {
        long cp = next_cp(&p);
        if (cp < 0 || cp == '\n' || cp == '\r') return 0;
        if (!is_xml_space(cp)) visible = 1;
        n++;
    }
    return n >= 1 && n <= max && visible;
}

/* ([a-zA-ZÀ-ỳ])+ : ASCII letters or U+00C0..U+1EF3, 1..6 of them. */
static int voorletters(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (*p) {
        long cp = next_cp(&p);
        int ok =
            (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= 0xC0 && cp <= 0x1EF3);
        if (!ok) return 0;
        n++;
    }
    return n >= 1 && n <= 6;
}

/* xs:string of 1..max characters, no pattern. */
static int length_in(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (*p) {
        if (next_cp(&p) < 0) return 0;
        n++;
    }
    return n >= 1 && n <= max;
}

static int alnum_in(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n < 1 || n > max) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= 'A' && s[i] <= 'Z')))
            return 0;
    return 1;
}

static int valid(int wmo, ldt t, const char *s)
{
    switch (t) {
    case LDT_NUMMER:
        return integer_in(s, 999999999ull);
    case LDT_DATUM:
        return zv_date_valid(s, strlen(s));
    case LDT_GESLACHT:
        return in_list(s, geslacht);
    case LDT_DATUMGEBRUIK:
        return in_list(s, datumgebruik);
    case LDT_STATUS:
        return in_list(s, status);
    case LDT_REDEN:
        return in_list(s, reden[wmo]);
    case LDT_PRODCAT:
        return in_list(s, prodcat[wmo]);
    case LDT_PRODCODE:
        return text_in(s, 5);
    case LDT_NAAM:
        return text_in(s, 200);
    case LDT_VOORVOEGSEL:
        return text_in(s, 10);
    case LDT_VOORLETTERS:
        return voorletters(s);
    case LDT_IDDECL:
        return alnum_in(s, 12);
    case LDT_REFNR:
        return length_in(s, 20);
    case LDT_VOLUME:
        return integer_in(s, 99999999ull);
    case LDT_EENHEID:
        return in_list(s, eenheid);
    case LDT_BEDRAG:
        return integer_in(s, 99999999ull);
    case LDT_DC:
        return in_list(s, dc);
    }
    return 0;
}

typedef struct typed {
    zv_field_id field;
    const char *element;
    ldt type;
    unsigned messages; /* bit per ijw_msg */
} typed;

#define M_305 (1u << IJW_START)
#define M_307 (1u << IJW_STOP)
#define M_323 (1u << IJW_DECL)
#define M_ALL (M_305 | M_307 | M_323)

/* Elements that carry a model value, with the basisschema type of each.
 * The BSN is checked apart (elfproef, never echoed). */
static const typed typed_elements[] = {
    {ZV_F_CLIENT_BIRTH_DATE, "Geboortedatum/Datum", LDT_DATUM, M_305 | M_307},
    {ZV_F_CLIENT_BIRTH_DATE_USAGE, "Geboortedatum/DatumGebruik", LDT_DATUMGEBRUIK, M_305 | M_307},
    {ZV_F_CLIENT_SEX, "Geslacht", LDT_GESLACHT, M_305 | M_307},
    {ZV_F_CLIENT_FAMILY_NAME, "Geslachtsnaam/Achternaam", LDT_NAAM, M_305 | M_307},
    {ZV_F_CLIENT_NAME_PREFIX, "Geslachtsnaam/Voorvoegsel", LDT_VOORVOEGSEL, M_305 | M_307},
    {ZV_F_CLIENT_GIVEN_NAMES, "Naam/Voornamen", LDT_NAAM, M_305 | M_307},
    {ZV_F_CLIENT_INITIALS, "Naam/Voorletters", LDT_VOORLETTERS, M_305 | M_307},
    {ZV_F_ENT_NUMBER, "ToewijzingNummer", LDT_NUMMER, M_ALL},
    {ZV_F_ENT_PRODUCT_CATEGORY, "Product/Categorie", LDT_PRODCAT, M_ALL},
    {ZV_F_ENT_PRODUCT_CODE, "Product/Code", LDT_PRODCODE, M_ALL},
    {ZV_F_ENT_START, "ToewijzingIngangsdatum", LDT_DATUM, M_305 | M_307},
    {ZV_F_DEL_START, "Begindatum", LDT_DATUM, M_305 | M_307},
    {ZV_F_DEL_END, "Einddatum", LDT_DATUM, M_307},
    {ZV_F_DEL_END_REASON, "RedenBeeindiging", LDT_REDEN, M_307},
    {ZV_F_DEL_STATUS, "StatusAanlevering", LDT_STATUS, M_305 | M_307},
    {ZV_F_DECL_NUMBER, "DeclaratieNummer", LDT_IDDECL, M_323},
    {ZV_F_DECL_CLAIM_PERIOD_START, "DeclaratiePeriode/Begindatum", LDT_DATUM, M_323},
    {ZV_F_DECL_CLAIM_PERIOD_END, "DeclaratiePeriode/Einddatum", LDT_DATUM, M_323},
    {ZV_F_DECL_REFERENCE, "ProductReferentie/ReferentieNummer", LDT_REFNR, M_323},
    {ZV_F_DECL_PREVIOUS_REFERENCE, "ProductReferentie/VorigReferentieNummer", LDT_REFNR, M_323},
    {ZV_F_DECL_PERIOD_START, "ProductPeriode/Begindatum", LDT_DATUM, M_323},
    {ZV_F_DECL_PERIOD_END, "ProductPeriode/Einddatum", LDT_DATUM, M_323},
    {ZV_F_DECL_VOLUME, "GeleverdVolume", LDT_VOLUME, M_323},
    {ZV_F_DECL_UNIT, "Eenheid", LDT_EENHEID, M_323},
    {ZV_F_DECL_TARIFF, "ProductTarief", LDT_BEDRAG, M_323},
    {ZV_F_DECL_AMOUNT, "IngediendBedrag/Bedrag", LDT_BEDRAG, M_323},
    {ZV_F_DECL_DEBIT_CREDIT, "IngediendBedrag/DebetCredit", LDT_DC, M_323},
};

int ijw_check_types(const ijw_fmt *f, ijw_msg m, const zv_record *r, ijw_violation *v)
{
    for (size_t i = 0; i < sizeof(typed_elements) / sizeof(typed_elements[0]); i++) {
        const typed *t = &typed_elements[i];
        const char *s = (t->messages & (1u << m)) ? zv_rec_str(r, t->field) : NULL;
        if (!s || valid(f->wmo, t->type, s)) continue;
        v->rule = "ZV-IJW-TYPE";
        v->field = zv_field_def_of(t->field)->name;
        snprintf(v->reason, sizeof(v->reason), "%s '%.40s%s' is not a valid %s of %s 3.2",
                 t->element, s, strlen(s) > 40 ? "..." : "", ldt_name[t->type],
                 f->wmo ? "iWmo" : "iJw");
        zv_bsn_scrub(v->reason);
        return 1;
    }
    return 0;
}

int ijw_reden_valid(int wmo, const char *code)
{
    return in_list(code, reden[wmo != 0]);
}
