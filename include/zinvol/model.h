/*
 * zinvol internal model.
 *
 * Every record that enters zinvol, whatever the ECD or file it came from, is
 * turned into one zv_record: an event of one kind (client, entitlement,
 * delivery, declaration) holding values for canonical fields.  A record
 * carries the fields of its own kind and of the kinds it refers to: a
 * delivery record also holds the client.* and entitlement.* fields of the
 * client and entitlement it belongs to, so a format plugin can render a
 * message from one record without joins.
 *
 * Field ids are stable: new fields are only ever appended to ZV_FIELDS, so a
 * plugin built against an older list still reads the ids it knows.  Renaming
 * or removing a field is an ABI major change.
 *
 * Values are kept as canonical text: dates "YYYY-MM-DD", integers in decimal,
 * amounts in euro cents, codes as the standard spells them.  Conversion from
 * the source's spelling happens once, in the mapping layer.
 */
#ifndef ZINVOL_MODEL_H
#define ZINVOL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum zv_kind {
    ZV_KIND_CLIENT = 0,
    ZV_KIND_ENTITLEMENT,
    ZV_KIND_DELIVERY,
    ZV_KIND_DECLARATION,
    ZV_KIND_COUNT
} zv_kind;

typedef enum zv_type {
    ZV_T_STRING = 0, /* free text, trimmed */
    ZV_T_DATE,       /* YYYY-MM-DD, a real calendar date */
    ZV_T_INT,        /* decimal integer */
    ZV_T_CODE,       /* value from a code list, spelled as the standard does */
    ZV_T_BSN,        /* 9 digits passing the elfproef */
    ZV_T_AGB,        /* 8 digits */
    ZV_T_POSTCODE,   /* 1234AB */
    ZV_T_AMOUNT,     /* euro cents, decimal integer */
    ZV_T_COUNT
} zv_type;

/*
 * X(ID, "canonical.name", kind, type, "description")
 * Append only.  The description is what the audit report shows.
 */
#define ZV_FIELDS(X)                                                                               \
    X(CLIENT_BSN, "client.bsn", CLIENT, BSN, "Burgerservicenummer")                                \
    X(CLIENT_ID, "client.id", CLIENT, STRING, "Client number in the ECD")                          \
    X(CLIENT_INITIALS, "client.initials", CLIENT, STRING, "Voorletters")                           \
    X(CLIENT_GIVEN_NAMES, "client.given_names", CLIENT, STRING, "Voornamen")                       \
    X(CLIENT_NAME_PREFIX, "client.name_prefix", CLIENT, STRING, "Voorvoegsel geslachtsnaam")       \
    X(CLIENT_FAMILY_NAME, "client.family_name", CLIENT, STRING, "Geslachtsnaam")                   \
    X(CLIENT_NAME_USAGE, "client.name_usage", CLIENT, CODE, "Naamgebruik (code)")                  \
    X(CLIENT_BIRTH_DATE, "client.birth_date", CLIENT, DATE, "Geboortedatum")                       \
    X(CLIENT_SEX, "client.sex", CLIENT, CODE, "Geslacht (0 onbekend, 1 man, 2 vrouw, 9 n.g.)")     \
    X(CLIENT_POSTCODE, "client.postcode", CLIENT, POSTCODE, "Postcode woonadres")                  \
    X(CLIENT_HOUSE_NUMBER, "client.house_number", CLIENT, STRING, "Huisnummer")                    \
    X(CLIENT_MUNICIPALITY, "client.municipality", CLIENT, CODE, "Woongemeente (gemeentecode)")     \
    X(CLIENT_PHONE, "client.phone", CLIENT, STRING, "Telefoonnummer")                              \
    X(CLIENT_EMAIL, "client.email", CLIENT, STRING, "E-mailadres")                                 \
    X(ENT_LAW, "entitlement.law", ENTITLEMENT, CODE, "Wet: wlz, jw of wmo")                        \
    X(ENT_NUMBER, "entitlement.number", ENTITLEMENT, STRING,                                       \
      "Besluitnummer (Wlz) of ToewijzingNummer (Jw/Wmo)")                                          \
    X(ENT_FUNDER, "entitlement.funder", ENTITLEMENT, CODE, "Zorgkantoorcode of gemeentecode")      \
    X(ENT_FUNCTION_CODE, "entitlement.function_code", ENTITLEMENT, CODE, "Wlz functiecode")        \
    X(ENT_ZZP_CODE, "entitlement.zzp_code", ENTITLEMENT, CODE, "Zorgzwaartepakket (ZZP) code")     \
    X(ENT_PRODUCT_CATEGORY, "entitlement.product_category", ENTITLEMENT, CODE,                     \
      "Productcategorie (Jw/Wmo)")                                                                 \
    X(ENT_PRODUCT_CODE, "entitlement.product_code", ENTITLEMENT, CODE, "Productcode (Jw/Wmo)")     \
    X(ENT_START, "entitlement.start", ENTITLEMENT, DATE, "Toewijzing ingangsdatum")                \
    X(ENT_END, "entitlement.end", ENTITLEMENT, DATE, "Toewijzing einddatum")                       \
    X(ENT_REFERRER, "entitlement.referrer", ENTITLEMENT, CODE, "Verwijzer (code)")                 \
    X(DEL_PROVIDER_AGB, "delivery.provider_agb", DELIVERY, AGB, "Instelling (AGB-code)")           \
    X(DEL_START, "delivery.start", DELIVERY, DATE, "Begindatum zorglevering")                      \
    X(DEL_END, "delivery.end", DELIVERY, DATE, "Einddatum zorglevering")                           \
    X(DEL_LEVERINGSVORM, "delivery.leveringsvorm", DELIVERY, CODE, "Leveringsvorm")                \
    X(DEL_LEVERINGSSTATUS, "delivery.leveringsstatus", DELIVERY, CODE, "Leveringsstatus")          \
    X(DEL_KLASSE, "delivery.klasse", DELIVERY, CODE, "Klasse")                                     \
    X(DEL_ETMALEN, "delivery.etmalen", DELIVERY, CODE,                                             \
      "Etmalen verblijf per week (3,5 / 4,0 / 4,5)")                                               \
    X(DEL_SLEUTELDATUM, "delivery.sleuteldatum", DELIVERY, DATE, "Sleuteldatum")                   \
    X(DEL_OPSLAG, "delivery.opslag", DELIVERY, CODE, "Opslag")                                     \
    X(DEL_TREATMENT, "delivery.treatment", DELIVERY, CODE, "Behandeling (J/N)")                    \
    X(DEL_STATUS, "delivery.status", DELIVERY, CODE, "StatusAanlevering (1 nieuw, 3 annulering)")  \
    X(DEL_MUTATION_CODE, "delivery.mutation_code", DELIVERY, CODE, "Mutatiecode")                  \
    X(DEL_MUTATION_DATE, "delivery.mutation_date", DELIVERY, DATE, "Mutatiedatum")                 \
    X(DEL_END_REASON, "delivery.end_reason", DELIVERY, CODE, "Reden beeindiging")                  \
    X(DEL_CARE_FORM, "delivery.care_form", DELIVERY, CODE, "Vorm van zorg / jeugdhulp")            \
    X(DEL_CRISIS, "delivery.crisis", DELIVERY, CODE, "Crisis (J/N)")                               \
    X(DEL_OUTCOME, "delivery.outcome", DELIVERY, CODE, "Resultaat / doelrealisatie (code)")        \
    X(DEL_LOCATION, "delivery.location", DELIVERY, STRING, "Locatie / afdeling")                   \
    X(DEL_NOTES, "delivery.notes", DELIVERY, STRING, "Vrije toelichting")                          \
    X(DECL_NUMBER, "declaration.number", DECLARATION, STRING, "Declaratienummer")                  \
    X(DECL_PERIOD_START, "declaration.period_start", DECLARATION, DATE, "Productperiode begin")    \
    X(DECL_PERIOD_END, "declaration.period_end", DECLARATION, DATE, "Productperiode eind")         \
    X(DECL_VOLUME, "declaration.volume", DECLARATION, INT, "Geleverd volume")                      \
    X(DECL_UNIT, "declaration.unit", DECLARATION, CODE, "Eenheid")                                 \
    X(DECL_AMOUNT, "declaration.amount", DECLARATION, AMOUNT, "Bedrag (eurocent)")                 \
    X(DECL_DEBIT_CREDIT, "declaration.debit_credit", DECLARATION, CODE, "Debet/credit (D/C)")      \
    X(CLIENT_BIRTH_DATE_USAGE, "client.birth_date_usage", CLIENT, CODE,                            \
      "Datumgebruik geboortedatum (1 dag onbekend, 2 dag en maand onbekend, 3 onbekend)")          \
    X(DECL_CLAIM_PERIOD_START, "declaration.claim_period_start", DECLARATION, DATE,                \
      "Declaratieperiode begin")                                                                   \
    X(DECL_CLAIM_PERIOD_END, "declaration.claim_period_end", DECLARATION, DATE,                    \
      "Declaratieperiode eind")                                                                    \
    X(DECL_REFERENCE, "declaration.reference", DECLARATION, STRING,                                \
      "ProductReferentie: referentienummer van de prestatie")                                      \
    X(DECL_PREVIOUS_REFERENCE, "declaration.previous_reference", DECLARATION, STRING,              \
      "Vorig referentienummer (bij creditering of correctie)")                                     \
    X(DECL_TARIFF, "declaration.tariff", DECLARATION, AMOUNT, "Producttarief (eurocent)")          \
    X(CLIENT_PARTNER_NAME, "client.partner_name", CLIENT, STRING, "Geslachtsnaam partner")         \
    X(CLIENT_PARTNER_PREFIX, "client.partner_name_prefix", CLIENT, STRING,                         \
      "Voorvoegsel geslachtsnaam partner")                                                         \
    X(CLIENT_DECEASED, "client.deceased", CLIENT, CODE, "Overleden (J/N)")                         \
    X(CLIENT_DEATH_DATE, "client.death_date", CLIENT, DATE, "Overlijdensdatum")                    \
    X(CLIENT_ACTIVE, "client.active", CLIENT, CODE,                                                \
      "Dossier in gebruik (J/N): N voor een inactief of samengevoegd dossier")                     \
    X(CLIENT_REPLACED_BY, "client.replaced_by", CLIENT, STRING,                                    \
      "Samengevoegd: verwijzing naar het dossier dat dit dossier vervangt")                        \
    X(DEL_DESTINATION_AGB, "delivery.destination_agb", DELIVERY, AGB,                              \
      "InstellingBestemming: AGB van de instelling die de zorg overneemt (Wlz overplaatsing 17, "  \
      "overdracht 21)")                                                                            \
    X(DEL_LEVERINGSSTATUS_CLASS, "delivery.leveringsstatus_class", DELIVERY, CODE,                 \
      "LeveringsstatusClassificatie: nadere reden bij Leveringsstatus 2, 3, 6 of 7 (Wlz)")         \
    X(ENT_ISSUE_DATE, "entitlement.issue_date", ENTITLEMENT, DATE,                                 \
      "Afgiftedatum van het indicatiebesluit (Wlz)")                                               \
    X(DEL_REQUEST_KIND, "delivery.request_kind", DELIVERY, CODE,                                   \
      "Aanvraag aangepaste zorgtoewijzing (Wlz AW39 Aanvraag), Soort toewijzing: 1 regulier, "     \
      "3 overbrugging, 5 administratief")                                                          \
    X(DEL_REQUEST_START, "delivery.request_start", DELIVERY, DATE,                                 \
      "Aangevraagde ToewijzingIngangsdatum (Wlz Aanvraag)")                                        \
    X(DEL_REQUEST_END, "delivery.request_end", DELIVERY, DATE,                                     \
      "Aangevraagde ToewijzingEinddatum (Wlz Aanvraag)")                                           \
    X(DEL_REQUEST_PERCENTAGE, "delivery.request_percentage", DELIVERY, INT,                        \
      "Aangevraagd ToewijzingPercentage in honderdsten: 10000 is 100% (Wlz Aanvraag)")             \
    X(DEL_ADMISSION, "delivery.admission", DELIVERY, CODE, "Opname (1 ja, 2 nee; Wlz Aanvraag)")   \
    X(DEL_DOSSIERHOUDER_AGB, "delivery.dossierhouder_agb", DELIVERY, AGB,                          \
      "Dossierhouder: voorkeuraanbieder voor verblijf of volledig pakket thuis (Wlz Aanvraag)")    \
    X(DEL_COORDINATOR_AGB, "delivery.coordinator_agb", DELIVERY, AGB,                              \
      "CoordinatorZorgThuis: aanbieder die het modulair pakket thuis coordineert (Wlz Aanvraag)")  \
    X(DEL_DOELMATIG, "delivery.doelmatig", DELIVERY, CODE,                                         \
      "Doelmatig: de aanvraag past binnen het budget (1 ja, 2 nee; Wlz Aanvraag)")                 \
    X(DEL_VERANTWOORD, "delivery.verantwoord", DELIVERY, CODE,                                     \
      "Verantwoord: de zorg thuis kan verantwoord geleverd worden (1 ja, 2 nee; Wlz Aanvraag)")    \
    X(DEL_EXTRA_COSTS_HOME, "delivery.extra_costs_home", DELIVERY, CODE,                           \
      "BijzondereSituatie ExtraKostenThuis (5; Wlz Aanvraag)")                                     \
    X(DEL_VENTILATION, "delivery.ventilation_supplement", DELIVERY, CODE,                          \
      "BijzondereSituatie ToeslagBeademing (1 non-invasief, 2 invasief; Wlz Aanvraag)")            \
    X(DEL_OTHER_SUPPLEMENT, "delivery.other_supplement", DELIVERY, CODE,                           \
      "BijzondereSituatie ToeslagOverig (code list LDT_ToeslagOverig, e.g. 2 PTZ, 3 "              \
      "meerzorg; Wlz Aanvraag)")

typedef enum zv_field_id {
#define ZV_FIELD_ENUM(id, name, kind, type, desc) ZV_F_##id,
    ZV_FIELDS(ZV_FIELD_ENUM)
#undef ZV_FIELD_ENUM
        ZV_FIELD_COUNT
} zv_field_id;

typedef struct zv_field_def {
    zv_field_id id;
    const char *name; /* canonical dotted name */
    zv_kind kind;
    zv_type type;
    const char *description;
} zv_field_def;

/* Registry lookups.  NULL / -1 for unknown names or ids. */
const zv_field_def *zv_field_def_of(zv_field_id id);
int zv_field_by_name(const char *name);
const char *zv_kind_name(zv_kind kind);
int zv_kind_by_name(const char *name);
const char *zv_type_name(zv_type type);

/* Where a value came from.  Owned by the record that points at it. */
typedef struct zv_provenance {
    const char *source;    /* source instance name from the config */
    const char *record_id; /* the record's id at the source */
    int64_t received;      /* unix time zinvol received it */
} zv_provenance;

typedef struct zv_value {
    const char *str; /* canonical text, NUL-terminated; NULL when absent */
    uint32_t len;
    const zv_provenance *prov; /* never NULL when str is set */
} zv_value;

typedef struct zv_arena zv_arena;

typedef struct zv_record {
    uint32_t nfields; /* length of values[]; ZV_FIELD_COUNT of the builder */
    zv_kind kind;
    zv_provenance prov; /* the record's own provenance */
    zv_value *values;
    zv_arena *arena; /* owns every string and the values array */
} zv_record;

/* Get a present value, or NULL.  Safe for ids the record does not know. */
static inline const zv_value *zv_rec_get(const zv_record *r, zv_field_id id)
{
    if ((uint32_t)id >= r->nfields || r->values[id].str == NULL) return NULL;
    return &r->values[id];
}

static inline const char *zv_rec_str(const zv_record *r, zv_field_id id)
{
    const zv_value *v = zv_rec_get(r, id);
    return v ? v->str : NULL;
}

/*
 * Records are created and filled by the core; plugins only read them, except
 * source plugins and tests, which may build records with these too.
 */
zv_record *zv_record_new(zv_kind kind, const char *source, const char *record_id, int64_t received);
void zv_record_free(zv_record *r);
/* Copies str into the record.  prov NULL means the record's own provenance. */
int zv_record_set(zv_record *r, zv_field_id id, const char *str, size_t len,
                  const zv_provenance *prov);
void zv_record_clear(zv_record *r, zv_field_id id);
/* Deep copy, used by the minimiser to hand a trimmed record to a format. */
zv_record *zv_record_copy(const zv_record *r);

/*
 * Compact binary form for the store.  The encoding starts with a version
 * byte; decode refuses what it does not understand rather than guessing.
 */
int zv_record_encode(const zv_record *r, unsigned char **out, size_t *outlen);
zv_record *zv_record_decode(const unsigned char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
