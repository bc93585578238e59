/* iWlz format plugin: internal declarations shared by its files. */
#ifndef ZV_IWLZ_H
#define ZV_IWLZ_H

#include <zinvol/plugin.h>

#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

/* Messages of a release; AW35/AW39 are also the plugin's message indexes. */
enum { IWLZ_AW35 = 0, IWLZ_AW39 = 1, IWLZ_AW36 = 2, IWLZ_AW310 = 3, IWLZ_NMSG = 4 };

#define IWLZ_PATH_MAX 4096

/* release.c: one release directory, as its release.json describes it. */
typedef struct iwlz_release_msg {
    char name[8];      /* "AW35" */
    char ns[160];      /* target namespace */
    char code[8];      /* BerichtCode */
    char versie[8];    /* BerichtVersie */
    char subversie[8]; /* BerichtSubversie */
    char xsd[IWLZ_PATH_MAX];
    char xslt[IWLZ_PATH_MAX]; /* AW35/AW39 only: the official rule set */
} iwlz_release_msg;

typedef struct iwlz_release {
    char dir[IWLZ_PATH_MAX];
    char name[32]; /* "2.2" */
    char basis_ns[160];
    char basis_xsd[IWLZ_PATH_MAX];
    char code_lists[IWLZ_PATH_MAX];
    iwlz_release_msg msg[IWLZ_NMSG];
} iwlz_release;

/* 0, or -1 with err naming the release directory and what is wrong.
 * xsd_dir (legacy option schema_dir, may be NULL): take the message XSDs
 * of the same names from there. */
int iwlz_release_load(iwlz_release *rel, const char *dir, const char *xsd_dir, char *err,
                      size_t errlen);

/* xslt.c: the official rule set, compiled once per process. */
typedef struct iwlz_rules iwlz_rules;

#define IWLZ_MAX_RULE_ERRORS 256
#define IWLZ_MAX_LOCATIES 4

typedef struct iwlz_rule_error {
    char code[16];     /* r:Code, e.g. "TR046" */
    char details[400]; /* r:Details */
    char locatie[512]; /* the first r:Locatie */
    size_t nloc;
    xmlNodePtr nodes[IWLZ_MAX_LOCATIES]; /* each r:Locatie resolved in the message (or NULL) */
} iwlz_rule_error;

typedef struct iwlz_rule_result {
    size_t n, dropped;
    iwlz_rule_error errors[IWLZ_MAX_RULE_ERRORS];
} iwlz_rule_result;

/* rules_prune.c: the namespaces a message valid against a schema can use. */
#define IWLZ_MAX_NS 8
typedef struct iwlz_ns_set {
    size_t n;
    char uri[IWLZ_MAX_NS][160];
    /* the schema they came from ("" when unknown): with it, rules_rewrite.c
     * also gives nameless patterns the element names that XSD allows */
    char xsd[1024];
} iwlz_ns_set;

/* The target namespaces of xsd_path and of the schemas it imports or
 * includes: 0; -1 (and an empty set) when they are not closed, i.e. one has
 * xs:any or a schema cannot be read. */
int iwlz_closed_namespaces(const char *xsd_path, iwlz_ns_set *out);
/* Removes from one stylesheet document (not its includes) the unnamed
 * templates whose every match alternative is *[p:Name] with p outside s;
 * returns how many.  An empty s removes nothing. */
size_t iwlz_prune_stylesheet(xmlDocPtr sheet, const iwlz_ns_set *s);

/* xsd_graph.c: the element names a message valid against an XSD can use,
 * and which can contain which. */
#define IWLZ_MAX_QNAMES 64
typedef struct iwlz_qname {
    char ns[160], local[80];
} iwlz_qname;
typedef struct iwlz_qname_set {
    size_t n;
    iwlz_qname q[IWLZ_MAX_QNAMES];
} iwlz_qname_set;
typedef struct iwlz_xsd_graph iwlz_xsd_graph;
/* NULL when the schema uses a construct the walk does not follow (xs:any,
 * ref, groups, type derivation, include) or cannot be read. */
iwlz_xsd_graph *iwlz_xsd_graph_load(const char *xsd_path);
void iwlz_xsd_graph_free(iwlz_xsd_graph *g);
/* Adds to out the elements that can have a child {ns}local; -1 when out is
 * full (then it is not the whole answer). */
int iwlz_xsd_parents(const iwlz_xsd_graph *g, const char *ns, const char *local,
                     iwlz_qname_set *out);
/* Every element name the schema declares, i from 0 to the count. */
size_t iwlz_xsd_count(const iwlz_xsd_graph *g);
const iwlz_qname *iwlz_xsd_name(const iwlz_xsd_graph *g, size_t i);
/* Adds to out every element with that local name, in any namespace. */
int iwlz_xsd_named(const iwlz_xsd_graph *g, const char *local, iwlz_qname_set *out);

/* rules_rewrite.c: for the stylesheet at xsl_path and its includes and
 * imports, as pruned for only, the nameless match patterns to rewrite into
 * named ones (only where no template choice can change); NULL when there is
 * nothing to do or only->xsd is empty or not understood. */
typedef struct iwlz_rewrite iwlz_rewrite;
iwlz_rewrite *iwlz_rewrite_plan(const char *xsl_path, const iwlz_ns_set *only, size_t *nalts);
/* Applies the plan to one stylesheet document as libxslt loaded it (after
 * iwlz_prune_stylesheet); returns how many templates it changed. */
size_t iwlz_rewrite_apply(const iwlz_rewrite *p, xmlDocPtr sheet);
void iwlz_rewrite_free(iwlz_rewrite *p);

/* rules_imports.c: one compiled copy of a stylesheet imported many times. */
#define IWLZ_MAX_IMPORTS 32
typedef struct iwlz_uri_set {
    size_t n;
    char uri[IWLZ_MAX_IMPORTS][1024];
} iwlz_uri_set;
/* 1 when every import level of the stylesheet at xsl_path (a file with what
 * it includes) imports one URI only, however often. */
int iwlz_imports_are_a_chain(const char *xsl_path);
/* Removes from one stylesheet document the xsl:imports of URIs already in
 * seen (adding the others to it); returns how many.  Only for a chain. */
size_t iwlz_drop_repeated_imports(xmlDocPtr sheet, iwlz_uri_set *seen);

/* Shared compiled stylesheet for path; NULL with err when it does not
 * compile.  *compiled: 1 when this call compiled it, 0 when it was shared.
 * only (may be NULL or empty): the namespaces of the messages it will
 * judge, which must all have passed the XSD these came from
 * (iwlz_closed_namespaces); the templates that cannot match there are left
 * out of the compiled copy (rules_prune.c), *pruned says how many. */
iwlz_rules *iwlz_rules_acquire(const char *path, const iwlz_ns_set *only, int *compiled,
                               size_t *pruned, char *err, size_t errlen);
void iwlz_rules_release(iwlz_rules *r);
/* How many templates of the compiled copy rules_rewrite.c changed. */
size_t iwlz_rules_rewritten(const iwlz_rules *r);
/* The compiled stylesheet (a struct _xsltStylesheet *), read-only. */
void *iwlz_rules_sheet(iwlz_rules *r);
/* 0: no r:Fout; 1: errors in res; -1: the transformation failed. */
int iwlz_rules_apply(iwlz_rules *r, xmlDocPtr doc, iwlz_rule_result *res);
xmlNodePtr iwlz_locate(xmlDocPtr doc, const char *path);

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
    int own_rules;     /* option own_rules (default 1) */
    iwlz_release rel;
    iwlz_schema aw35, aw39, aw36, aw310;
    iwlz_rules *rules[2]; /* AW35, AW39: the release's official rule set */
    iwlz_code *codes;     /* retourcodes from basisschema.xsd, sorted */
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
/* path: the XSD; file: its short name for messages ("AW35.xsd"). */
int iwlz_schema_load(iwlz_schema *s, const char *path, const char *file, char *err, size_t errlen);
void iwlz_schema_free(iwlz_schema *s);
/* 0: valid; 1: invalid (res filled); -1: validator failure. */
int iwlz_schema_validate(iwlz_schema *s, xmlDocPtr doc, iwlz_xsd_result *res);
int iwlz_codes_load(iwlz_state *st, const char *basisschema, char *err, size_t errlen);
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
    int own_rules;        /* 0: only what rendering needs; the official set judges */
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

/* rules_aw39.c: what each Mutatiecode demands. */
/* 1: Begindatum required (17, 19, 20); 0: must be empty (12, 18, 21); -1: unknown code. */
int iwlz_aw39_begindatum_required(const char *mutatiecode);
/* The Leveringsstatus to send: the record's, or 5 for Mutatiecode 17/19/21
 * when the record has none (the only value TR046 allows there). */
const char *iwlz_aw39_leveringsstatus(const zv_record *r);
/* TR066, CD020, CS133, TR046, CD090, CS131 on an AW39 record. */
int iwlz_check_aw39(const zv_record *r, iwlz_violation *v);

/* render.c / render_aw35.c / render_aw39.c */
int iwlz_render(iwlz_state *st, const zv_batch *batch, zv_render_out *out);
xmlNodePtr iwlz_text(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *value);
/* The client's container element `name`, created when absent, kept in
 * front of a sibling named `next` (the XSD fixes the order). */
xmlNodePtr iwlz_container(xmlNodePtr client, xmlNsPtr ns, const char *name, const char *next);
/* The same, kept in front of the first sibling named in later[] (NULL-ended). */
xmlNodePtr iwlz_container_before(xmlNodePtr client, xmlNsPtr ns, const char *name,
                                 const char *const later[]);
/* 1 when the record is an AW39 Aanvraag (delivery.request_kind is set). */
int iwlz_is_aanvraag(const zv_record *r);
/* fields.c: what AW35/AW39 can carry; what a rendered product element
 * carries for its record, told to the host (rendered_fields). */
int iwlz_field_renderable(const zv_json *options, int message, zv_field_id f);
int iwlz_report_rendered(const iwlz_state *st, zv_render_out *out, const zv_batch *b,
                         xmlNodePtr product, const char *ontvanger);
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
