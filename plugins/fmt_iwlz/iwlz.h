/* iWlz format plugin: internal declarations shared by its files. */
#ifndef ZV_IWLZ_H
#define ZV_IWLZ_H

#include <zinvol/plugin.h>

#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#define IWLZ_NS_BASIS "http://www.istandaarden.nl/iwlz/2_2/basisschema/schema"
#define IWLZ_NS_AW35 "http://www.istandaarden.nl/iwlz/2_2/aw35/schema"
#define IWLZ_NS_AW36 "http://www.istandaarden.nl/iwlz/2_2/aw36/schema"
#define IWLZ_NS_AW39 "http://www.istandaarden.nl/iwlz/2_2/aw39/schema"
#define IWLZ_NS_AW310 "http://www.istandaarden.nl/iwlz/2_2/aw310/schema"

enum { IWLZ_AW35 = 0, IWLZ_AW39 = 1 };

/* One compiled message schema plus the versions its appinfo declares. */
typedef struct iwlz_schema {
    const char *file; /* "AW35.xsd" */
    xmlSchemaPtr schema;
    xmlSchemaValidCtxtPtr vctx;
    char bericht_versie[16]; /* BerichtXsdVersie */
    char basis_versie[16];   /* BasisschemaXsdVersie */
} iwlz_schema;

typedef struct iwlz_code {
    char code[8];
    char *text;
} iwlz_code;

typedef struct iwlz_state {
    zv_ctx *ctx;
    const zv_host *host;
    char *afzender;    /* option; NULL: organisation AGB */
    char *zorgkantoor; /* option; NULL: entitlement.funder per record */
    iwlz_schema aw35, aw39, aw36, aw310;
    iwlz_code *codes; /* retourcodes from basisschema.xsd, sorted */
    size_t ncodes;
} iwlz_state;

/* One schema error, with the node it is about (may be NULL). */
typedef struct iwlz_xsd_error {
    xmlNodePtr node;
    char message[400];
} iwlz_xsd_error;

#define IWLZ_MAX_XSD_ERRORS 256

typedef struct iwlz_xsd_result {
    size_t n;
    size_t dropped; /* errors beyond IWLZ_MAX_XSD_ERRORS */
    iwlz_xsd_error errors[IWLZ_MAX_XSD_ERRORS];
} iwlz_xsd_result;

/* xsd.c */
int iwlz_schema_load(iwlz_schema *s, const char *dir, const char *file, char *err, size_t errlen);
void iwlz_schema_free(iwlz_schema *s);
/* 0: valid; 1: invalid (res filled); -1: validator failure. */
int iwlz_schema_validate(iwlz_schema *s, xmlDocPtr doc, iwlz_xsd_result *res);
int iwlz_codes_load(iwlz_state *st, const char *dir, char *err, size_t errlen);
void iwlz_codes_free(iwlz_state *st);
const char *iwlz_code_text(const iwlz_state *st, const char *code);

/* rules.c: the standard's rules beyond the XSD, per record. */
typedef struct iwlz_violation {
    const char *rule;
    const char *field;
    char text[256];
} iwlz_violation;

typedef struct iwlz_rule_ctx {
    int message;          /* IWLZ_AW35 / IWLZ_AW39 */
    const char *afzender; /* header Afzender */
    int64_t dagtekening;  /* days since epoch of the header's Dagtekening */
} iwlz_rule_ctx;

/* 1 and *v filled when the record breaks a rule or lacks a required field. */
int iwlz_check_record(const iwlz_rule_ctx *rc, const zv_record *r, const char *ontvanger,
                      iwlz_violation *v);
/* 1 when the record is a ZZP delivery (else a function). */
int iwlz_is_zzp(const zv_record *r);
/* Spelling the XSD wants for Etmalen / Behandeling; NULL when unknown. */
const char *iwlz_etmalen(const char *v);
const char *iwlz_janee(const char *v);
/* AW39 Mutatiedatum: mutation date, else the end date. */
const char *iwlz_mutatiedatum(const zv_record *r);

/* render.c / render_aw35.c / render_aw39.c */
int iwlz_render(iwlz_state *st, const zv_batch *batch, zv_render_out *out);
xmlNodePtr iwlz_text(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *value);
/* The client's container element `name`, created when absent, kept in
 * front of a sibling named `next` (the XSD fixes the order). */
xmlNodePtr iwlz_container(xmlNodePtr client, xmlNsPtr ns, const char *name, const char *next);
/* Append the product element for record r to the client element. */
xmlNodePtr iwlz_aw35_product(xmlNodePtr client, xmlNsPtr ns, const zv_record *r);
xmlNodePtr iwlz_aw39_product(xmlNodePtr client, xmlNsPtr ns, const zv_record *r);

/* retour.c */
int iwlz_interpret(iwlz_state *st, const zv_answer *answer, zv_verdict_out *out);

/* strmap.c: string -> size_t map for grouping (open addressing). */
typedef struct iwlz_strmap {
    char **keys;
    size_t *vals;
    size_t cap, n;
} iwlz_strmap;

int iwlz_strmap_init(iwlz_strmap *m, size_t expected);
void iwlz_strmap_free(iwlz_strmap *m);
/* Returns the stored value, or inserts val and returns it; SIZE_MAX on OOM. */
size_t iwlz_strmap_get_or_put(iwlz_strmap *m, const char *key, size_t val, int *inserted);
/* The stored value, or SIZE_MAX when key is absent. */
size_t iwlz_strmap_get(const iwlz_strmap *m, const char *key);

#endif
