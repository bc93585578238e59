/* fmt_ijw internals: iJw / iWmo 3.2 start (305) and stop (307) of delivery. */
#ifndef ZV_IJW_H
#define ZV_IJW_H

#include <stddef.h>
#include <zinvol/plugin.h>

typedef enum ijw_variant { IJW_INSPANNING = 0, IJW_OUTPUT, IJW_TAAK } ijw_variant;
typedef enum ijw_msg { IJW_START = 0, IJW_STOP = 1 } ijw_msg;

typedef struct ijw_state ijw_state; /* durable started-products store */

typedef struct ijw_fmt {
    zv_ctx *ctx;
    const zv_host *host;
    int wmo; /* 0: iJw (jw), 1: iWmo (wmo) */
    ijw_variant variant;
    const char *gemeente; /* option; NULL: entitlement.funder per record */
    const char *afzender; /* option agb or organisation agb */
    char code[2][8];      /* BerichtCode for start, stop */
    const char *xsd_bericht, *xsd_basis;
    int pretty;
    int stop_requires_start;
    ijw_state *state;
} ijw_fmt;

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

/* ---- durable state (ijw_state.c) ---- */
ijw_state *ijw_state_open(const char *dir, char *err, size_t errlen);
void ijw_state_close(ijw_state *s);
int ijw_state_begin(ijw_state *s);
int ijw_state_commit(ijw_state *s);
void ijw_state_rollback(ijw_state *s);
/* Apply one record to the history, or say which rule forbids it.
 * batch/record identify the attempt so a re-render of the same batch is
 * idempotent.  Returns 0 applied, 1 violation (v filled), -1 store error. */
int ijw_state_apply(ijw_state *s, ijw_msg m, const char *status, const char *gemeente,
                    const char *bsn, const char *pkey, const char *reden, const char *batch,
                    const char *record, int stop_requires_start, ijw_violation *v);
/* The receiver refused a start: forget it so a corrected one can be sent. */
int ijw_state_forget(ijw_state *s, const char *gemeente, const char *bsn, const char *pkey);

/* ---- rendering (ijw_render.c) and retour (ijw_retour.c) ---- */
int ijw_render(ijw_fmt *f, const zv_batch *b, zv_render_out *out);
int ijw_interpret(ijw_fmt *f, const zv_answer *a, zv_verdict_out *out);

#endif
