/* fmt_ijw internals: iJw / iWmo 3.2 start (305) and stop (307) of delivery,
 * declarations (323). */
#ifndef ZV_IJW_H
#define ZV_IJW_H

#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <stddef.h>
#include <zinvol/plugin.h>

typedef enum ijw_variant { IJW_INSPANNING = 0, IJW_OUTPUT, IJW_TAAK } ijw_variant;
typedef enum ijw_msg { IJW_START = 0, IJW_STOP = 1, IJW_DECL = 2, IJW_NMSG } ijw_msg;

typedef struct ijw_state ijw_state; /* durable started-products store */
typedef struct ijw_index ijw_index; /* per-batch string -> index map */

/* An official XSD, parsed once at create() and reused for every message. */
typedef struct ijw_schema {
    xmlSchemaPtr schema; /* NULL: not loaded */
    xmlSchemaValidCtxtPtr vctx;
    char file[16]; /* "JW305.xsd" */
    char bericht_versie[16], basis_versie[16];
} ijw_schema;

typedef struct ijw_fmt {
    zv_ctx *ctx;
    const zv_host *host;
    int wmo; /* 0: iJw (jw), 1: iWmo (wmo) */
    ijw_variant variant;
    const char *gemeente;                /* option; NULL: entitlement.funder per record */
    const char *afzender;                /* option agb or organisation agb */
    char code[IJW_NMSG][8];              /* BerichtCode for start, stop, declaration */
    const char *xsd_bericht, *xsd_basis; /* options; NULL: from the XSD or 1.0.0 */
    const char *schema_dir;              /* option; NULL: no XSD validation */
    ijw_schema xsd[IJW_NMSG];
    int pretty;
    int stop_requires_start;
    ijw_state *state;
} ijw_fmt;

/* Index into the plugin's messages[] for a standard and message, and back. */
int ijw_message_index(int wmo, ijw_msg m);
int ijw_message_of(int index, int *wmo, ijw_msg *m);

/* Names per standard: "jw305" / "wmo307", namespaces, prefixes. */
const char *ijw_msg_prefix(const ijw_fmt *f, ijw_msg m);
const char *ijw_base_prefix(const ijw_fmt *f);
void ijw_msg_ns(const ijw_fmt *f, ijw_msg m, char *out, size_t outlen);
void ijw_base_ns(const ijw_fmt *f, char *out, size_t outlen);

/* ---- rules (ijw_rules.c) ---- */
typedef struct ijw_violation {
    const char *rule;  /* "TR018", "ZV-IJW-STATUS", ... */
    const char *field; /* canonical field name */
    char reason[200];  /* never holds a BSN */
} ijw_violation;

/* The receiving gemeente for a record: option, else entitlement.funder. */
const char *ijw_gemeente(const ijw_fmt *f, const zv_record *r);
/* Product key: ToewijzingNummer (inspannings-/outputgericht) or
 * "<categorie>[:<code>]@<begindatum>" (taakgericht).  0 or -1. */
int ijw_product_key(ijw_variant v, const char *toewijzing, const char *cat, const char *code,
                    const char *begindatum, char *out, size_t outlen);
/* Checks that need no history.  dagtekening "YYYY-MM-DD".  0: passes. */
int ijw_check_record(const ijw_fmt *f, ijw_msg m, const zv_record *r, const char *dagtekening,
                     ijw_violation *v);
/* Every value against its basisschema datatype (ijw_types.c).  0: passes. */
int ijw_check_types(const ijw_fmt *f, ijw_msg m, const zv_record *r, ijw_violation *v);
int ijw_reden_valid(int wmo, const char *code);

/* ---- per-batch index (ijw_index.c) ---- */
ijw_index *ijw_index_new(size_t expected);
void ijw_index_free(ijw_index *x);
/* 0: added; 1: key present, *existing set to its value; -1: no memory. */
int ijw_index_put(ijw_index *x, const char *key, size_t value, size_t *existing);

/* ---- official XSDs (ijw_xsd.c) ---- */
/* Load the schemas of this standard from f->schema_dir. */
int ijw_schemas_load(ijw_fmt *f, char *err, size_t errlen);
void ijw_schemas_free(ijw_fmt *f);
/* Validate doc (an xmlDocPtr).  Calls on_error for each error with the
 * element node it concerns (may be NULL) and the message, BSNs scrubbed.
 * 0 valid, 1 invalid, -1 validator failure. */
typedef void (*ijw_xsd_error_cb)(void *arg, xmlNodePtr node, const char *message);
int ijw_schema_validate(ijw_schema *s, xmlDocPtr doc, ijw_xsd_error_cb cb, void *arg);

/* ---- durable state (ijw_state.c) ---- */
ijw_state *ijw_state_open(const char *dir, char *err, size_t errlen);
void ijw_state_close(ijw_state *s);
int ijw_state_begin(ijw_state *s);
int ijw_state_commit(ijw_state *s);
void ijw_state_rollback(ijw_state *s);
/* What the history says of a record (read only): 0 allowed (c filled, or
 * c->pending 0 when this attempt was already applied: batch/record
 * identify it, so a re-render of the same batch is idempotent), 1
 * violation (v filled), -1 store error; and the change it makes, written
 * later.  Within one batch every product
 * key comes once (TR101), so the decisions of a message do not depend on
 * each other's writes, and a message can be validated before its changes
 * are written (no savepoint per message). */
typedef struct ijw_change {
    int pending; /* 0: nothing to write (refused, or already applied) */
    char key[65];
    char record[512];
    /* state and action are literals; reden and batch point into the batch
     * being rendered (its record's value, its batch id): write before
     * render() returns. */
    const char *state, *reden, *batch, *action;
} ijw_change;
int ijw_state_decide(ijw_state *s, ijw_msg m, const char *status, const char *gemeente,
                     const char *bsn, const char *pkey, const char *reden, const char *batch,
                     const char *record, int stop_requires_start, ijw_violation *v, ijw_change *c);
int ijw_state_write(ijw_state *s, const ijw_change *c);
/* The receiver refused a start: forget it so a corrected one can be sent. */
int ijw_state_forget(ijw_state *s, const char *gemeente, const char *bsn, const char *pkey);

/* ---- rendering (ijw_render.c) and retour (ijw_retour.c) ---- */
int ijw_render(ijw_fmt *f, const zv_batch *b, zv_render_out *out);
int ijw_render_decl(ijw_fmt *f, const zv_batch *b, zv_render_out *out); /* ijw_decl.c */
/* Shared by both renderers (ijw_render.c). */
void ijw_dagtekening(int64_t now, char out[11]);
void ijw_identificatie(const ijw_fmt *f, ijw_msg m, const zv_batch *b, size_t group, char out[13]);
typedef struct ijw_xml {
    xmlDocPtr doc;
    xmlNodePtr root;
    xmlNsPtr msg, base;
} ijw_xml;
int ijw_doc_new(const ijw_fmt *f, ijw_msg m, ijw_xml *x);
xmlNodePtr ijw_el(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text);
void ijw_write_header(const ijw_fmt *f, ijw_msg m, ijw_xml *x, const char *gemeente,
                      const char *ident, const char *dag);
/* Serialise (and free) x->doc; 0 or -1. */
int ijw_doc_dump(const ijw_fmt *f, ijw_xml *x, xmlChar **mem, int *size);
int ijw_interpret(ijw_fmt *f, const zv_answer *a, zv_verdict_out *out);

/* ijw_fields.c: what each message can carry; what a finished 305/307
 * document carries per record, told to the host (rendered_fields). */
int ijw_field_renderable(const zv_json *options, int message, zv_field_id f);
int ijw_report_rendered(const ijw_fmt *f, zv_render_out *out, const zv_batch *b, xmlNodePtr root,
                        const char *ontvanger);
/* ijw_decl_fields.c: the same for a finished 323 document. */
int ijw_report_rendered_decl(const ijw_fmt *f, zv_render_out *out, const zv_batch *b,
                             xmlNodePtr root, const char *ontvanger);

#endif
