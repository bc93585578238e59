/*
 * The Leveringsregister (iWlz netwerkmodel, Leveringsregister 1 v1.0-rc1) as
 * a zinvol format: the register keeps, from the delivery records the ECD
 * mapping produces, Leveringperiode, BehandelingPeriode, Uitstelperiode and
 * Afstel with stable UUIDs and vaststellingMoment (lvr_update.c, stored in
 * SQLite in the instance's state directory, lvr_db.c); every change becomes
 * a zendNotificatie payload in the outbox; the zorgkantoor's template
 * queries are answered over two-sided TLS (lvr_serve.c, lvr_exec.c).
 * Everything the netwerkmodel fixes (templates, event types, subjects,
 * scopes, the SDL-to-table map) is data: netwerkmodel/<release>/.
 */
#ifndef ZV_LVR_H
#define ZV_LVR_H

#include <sqlite3.h>
#include <stddef.h>
#include <zinvol/json.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

typedef struct lvr_template {
    char *id;   /* "QLR-0003-ZK" */
    char *norm; /* gql_normalise() of the published document */
} lvr_template;

typedef struct lvr {
    const zv_host *host;
    zv_ctx *ctx;
    char *release_dir;
    zv_json_doc *rel; /* release.json */
    const zv_json *types, *roots, *events;
    const char *claims_header, *scope, *prefix, *mutation;
    const char *afzender_type, *ontvanger_type;
    const char *melding_scope;
    const zv_json *melding_events;
    char *melding_norm; /* normal form of the zendMelding document */
    lvr_template *tmpl;
    size_t ntmpl;
    char afzender[32];
    sqlite3 *db;
    int64_t queries, refused; /* counters, for the log */
    int assigned; /* bemiddeling "register": Leveringen refer to received specifications */
} lvr;

/* lvr_release.c: load netwerkmodel/<release>/release.json and the templates. */
int lvr_release_load(lvr *l, const char *dir, char *err, size_t errlen);
void lvr_release_free(lvr *l);
/* The template whose normal form equals norm, or NULL. */
const lvr_template *lvr_template_match(const lvr *l, const char *norm);

/* lvr_db.c: the register's tables. */
int lvr_db_open(lvr *l, const char *path, char *err, size_t errlen);
void lvr_db_close(lvr *l);
/* Open the instance's register file (state directory) unless open. */
int lvr_db_ensure(lvr *l);
/* A fresh random version 4 UUID, lower case. */
void lvr_uuid(char out[37]);

/* lvr_update.c: one change of the register, turned into a notification. */
typedef struct lvr_event {
    const char *type; /* SDL type: "Leveringperiode", ... */
    const char *kind; /* "new", "changed", "removed" */
    char id[37], levering[37], bemiddeling[37];
    char zorgkantoor[16];
} lvr_event;

typedef struct lvr_events {
    lvr_event *v;
    size_t n, cap;
} lvr_events;

/* Apply one minimised delivery record.  0 applied (events appended), 1 the
 * record fits no register object or lacks a required field (why in
 * rule/field/reason), -1 store error. */
int lvr_apply(lvr *l, const zv_record *r, const char *now_iso, lvr_events *ev, const char **rule,
              const char **field, char *reason, size_t reasonlen);

/* lvr_assign.c: the bemiddelingspecificaties the zorgkantoor assigned.
 * keep: store one received entitlement record (0, 1 unusable: field and
 * reason set, -1 store error).  match: the bemiddelingspecificatieID a
 * delivery record refers to into out (0, 1 none or ambiguous: field and
 * reason set, -1 store error). */
int lvr_assign_keep(lvr *l, const zv_record *r, const char *now_iso, const char **field,
                    char *reason, size_t reasonlen);
int lvr_assign_match(lvr *l, const zv_record *r, char out[37], const char **field, char *reason,
                     size_t reasonlen);

/* lvr_emitted.c: the notifications a record gave, kept in the register's
 * transaction so a render the outbox never saw is handed out again. */
void lvr_record_key(const zv_record *r, char *out, size_t len);
void lvr_record_digest(const zv_record *r, char out[65]);
/* 1: the record was last applied with this digest; 0 not; -1 error. */
int lvr_emitted_find(lvr *l, const char *rkey, const char *digest);
/* Forget the record's notes and remember digest as its last application. */
int lvr_emitted_forget(lvr *l, const char *rkey, const char *digest);
int lvr_emitted_add(lvr *l, const char *rkey, int n, const char *idem, const char *record_key,
                    const char *body, size_t len);
typedef int (*lvr_note_cb)(void *arg, const char *idem, const char *record_key, const char *body,
                           size_t len);
/* cb for each kept note of the record, in order: their count, or -1. */
int lvr_emitted_each(lvr *l, const char *rkey, lvr_note_cb cb, void *arg);

/* lvr_notify.c: the zendNotificatie request body for one event. */
char *lvr_notification(const lvr *l, const lvr_event *e, const char *now_iso, char id[37],
                       size_t *len, zv_buf *record_id);

/* lvr_melding.c: a zendMelding (RFC0018 IWLZFOUTMELDING) read as verdicts:
 * every subject's recordID (the notification's record key) is rejected
 * with the subject (the rule code) as code.  0, or -1 when the body is no
 * melding of a known eventType. */
int lvr_melding_verdicts(lvr *l, const char *body, size_t len, zv_verdict_out *out);

/* lvr_exec.c: run an operation of a parsed document against the register
 * for the zorgkantoor `owner`.  Writes {"data": ...} into out; collects the
 * disclosed model fields (comma list) and the BSNs of the clients whose rows
 * were answered.  0, or -1 with a GraphQL error message in err. */
typedef struct lvr_disclosed {
    char **bsns;
    size_t nbsns, cap;
    zv_buf fields; /* "client.bsn,delivery.start" */
} lvr_disclosed;
struct gql_doc;
int lvr_execute(lvr *l, const struct gql_doc *doc, const char *op_name, const zv_json *vars,
                const char *owner, zv_jw *out, lvr_disclosed *dis, char *err, size_t errlen);
void lvr_disclosed_free(lvr_disclosed *d);

/* lvr_serve.c: the HTTPS route. */
void lvr_serve(zv_http_exchange *ex, void *arg);

#endif
