/*
 * Source "bemiddelingsregister" (iWlz netwerkmodel, notifications in): a
 * zorgkantoor's zendNotificatie that a bemiddelingspecificatie for this
 * provider is new or changed arrives through the PEP on a listener of our
 * own (two-sided TLS, the PEP's claims); it is kept (a watermark, committed
 * before the 200), then the provider asks the Bemiddelingsregister with the
 * published QBR-0001-ZA (an nID token, as the notifications out use) and
 * hands each answered Bemiddelingspecificatie to the mapping as an item
 * (JSON pointers of the answer), e.g. an entitlement record.  What the
 * netwerkmodel fixes (event types, templates, variables, scopes, where the
 * id is) is data: netwerkmodel/<release>/release.json.
 */
#ifndef ZV_BMR_H
#define ZV_BMR_H

#include <zinvol/json.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

#include "../out_netwerkmodel/nm.h"

/* Notifications waiting for their query at most (they are kept in one
 * watermark, 64 KiB); more are answered 503 so the sender keeps them. */
#define BMR_MAX_PENDING 250

typedef struct bmr_pending {
    char id[40];    /* the bemiddelingspecificatieID */
    char event[96]; /* eventType */
    char from[40];  /* afzenderID */
    int inflight, attempts;
    int64_t due_ms; /* monotonic: next try */
} bmr_pending;

typedef struct bmr_call bmr_call; /* a query on its way (bmr_queue.c) */

typedef struct bmr {
    zv_ctx *ctx;
    const zv_host *host;
    nm tok; /* the access token (out_netwerkmodel/nm_token.c) */
    zv_json_doc *rel;
    const zv_json *events, *vars;
    const char *claims_header, *prefix, *scope_in, *record_pattern;
    const zv_json *ontvanger_types;
    const char *answer_root, *record_ptr, *item_type;
    char **norms; /* normal forms of the accepted zendNotificatie documents */
    size_t nnorms;
    char *query; /* QBR-0001-ZA as published */
    char instelling[16];
    const char *url;
    int64_t retry_ms;
    bmr_pending *pend;
    size_t npend, cap;
    zv_timer *timer;
    zv_json_flat *flat;
    bmr_call *calls; /* owned: every query waiting for its token or answer */
    int started, draining;
    char last_error[256];
} bmr;

/* bmr_release.c */
int bmr_release_load(bmr *b, const char *dir, char *err, size_t errlen);
void bmr_release_free(bmr *b);

/* bmr_queue.c: the notifications waiting for their query, kept in the
 * watermark "pending" (JSON) so a restart resumes them. */
int bmr_pending_load(bmr *b);
/* Add (or renew) one; written as watermark, committed by the caller. */
int bmr_pending_add(bmr *b, const char *id, const char *event, const char *from);
void bmr_pending_remove(bmr *b, size_t i);
int bmr_pending_save(bmr *b);
/* Start the queries that are due; arm the timer for the next. */
void bmr_kick(bmr *b);
/* destroy(): cancel every query under way and free it. */
void bmr_calls_cancel(bmr *b);

/* bmr_serve.c: the listener's route. */
void bmr_serve(zv_http_exchange *ex, void *arg);

/* bmr_emit.c: one answered object, or why there is none, as an item. */
int bmr_emit_answer(bmr *b, const zv_json *obj, char *why, size_t whylen);
int bmr_emit_problem(bmr *b, const char *id, const char *type, const char *reason);
int bmr_emit_fields(bmr *b, const char *type, const char *id, const zv_item_field *f, size_t n);

#endif
