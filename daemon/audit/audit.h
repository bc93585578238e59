/*
 * Redundancy analysis and the auditor's report (zinvolctl audit).
 *
 * The analysis works on a plain input struct - destinations with their
 * catalogues after overrides, sources with the model fields their mappings
 * fill, and counts from the store - so it can be tested without a daemon.
 * audit_collect.c fills that struct from a real config and store.
 */
#ifndef ZV_AUDIT_H
#define ZV_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <zinvol/util.h>
#include "../catalogue/catalogue.h"

/* Flag kinds; the ids are part of the json report's stable schema. */
typedef enum zv_flag_kind {
    ZV_FLAG_NO_LEGAL_BASIS = 0,       /* requested at contract, sector, internal or none */
    ZV_FLAG_DUPLICATE,                /* the same field is sent to two or more destinations */
    ZV_FLAG_COLLECTED_NEVER_REQUIRED, /* mapped from a source, sent to no destination */
    ZV_FLAG_DERIVABLE,                /* sent although the recipient can derive it */
    ZV_FLAG_OVER_FREQUENT,            /* schedule more frequent than the basis requires */
    ZV_FLAG_BEYOND_LEGAL_MAXIMUM,     /* requested beyond the catalogue's legal maximum */
    ZV_FLAG_AGGREGATE_WOULD_DO,       /* records for statistics or monitoring: counts would do */
    ZV_FLAG_COUNT
} zv_flag_kind;

const char *zv_flag_id(zv_flag_kind k);       /* "no_legal_basis" */
const char *zv_flag_label_nl(zv_flag_kind k); /* "Geen wettelijke grondslag" */
const char *zv_level_label_nl(zv_level l);    /* "Wettelijk verplicht" */

/* Names of the store counters (zv_store_count_add's `what`). The minimiser's
 * decisions use the first four; "delivered" comes from the audit trail. */
#define ZV_COUNT_KEPT "kept"
#define ZV_COUNT_DROPPED "dropped"
#define ZV_COUNT_NOT_APPLICABLE "not_applicable"
#define ZV_COUNT_MISSING "missing"

/* ---- input ---- */
typedef struct zv_audit_msg {
    const char *message;     /* "AW35" */
    const zv_catalogue *cat; /* after the destination's override; not owned */
    /* ZV_FIELD_COUNT flags: the field was in a payload of this message the
     * destination was delivered in the period, as the audit trail has it
     * (the fields the format rendered); NULL: no trail (no store). */
    const unsigned char *delivered;
} zv_audit_msg;

typedef struct zv_audit_dest {
    const char *name;
    const char *format;
    zv_level threshold;
    const char *schedule; /* policy schedule; NULL: "event" */
    const zv_audit_msg *msgs;
    size_t nmsgs;
    const zv_json *format_options; /* may be NULL; decides e.g. whether iJw is prescribed */
    /* The format sends only counts (ZV_FORMAT_AGGREGATE): its catalogue
     * lists what it reads, and no field leaves as a personal field. */
    int aggregate;
} zv_audit_dest;

typedef struct zv_audit_source {
    const char *name;
    const int *fields; /* model field ids the mapping fills */
    size_t nfields;
} zv_audit_source;

typedef struct zv_audit_counts {
    int64_t kept, dropped, not_applicable, missing, delivered;
    /* Measured on the flows of the period (audit trail, per client): */
    int64_t clients;        /* distinct clients whose value of the field went here */
    int64_t sends;          /* client-messages with the field */
    int64_t max_per_client; /* the most messages with the field about one client */
    int64_t dup_clients;    /* of clients: whose value also went to another destination */
} zv_audit_counts;

/* Messages delivered and records quarantined in one week of the period. */
typedef struct zv_audit_week {
    int64_t start; /* unix seconds */
    int64_t sends;
    int64_t quarantined; /* entries still in quarantine, by the week they arrived */
} zv_audit_week;

/* Clients whose value of field went to both destination and other. */
typedef struct zv_audit_pair {
    const char *destination;
    const char *other;
    int field;
    int64_t clients;
} zv_audit_pair;

typedef struct zv_audit_count {
    const char *destination;
    int field;
    zv_audit_counts n;
} zv_audit_count;

/* Sent versus asked (sent_asked.c): per party (the funder's code, e.g.
 * zorgkantoor "5501") and field, what delivered messages carried to it and
 * what a register answered it when it asked (audit entries of kind
 * "queried"), counted in distinct clients from the trail. */
typedef struct zv_audit_sva_field {
    int field;
    int64_t sent_clients, sent_messages; /* clients; messages with the field */
    int64_t asked_clients, answers;      /* clients; answers with the field */
    int64_t sent_not_asked;              /* clients whose field was sent, never asked */
    int64_t asked_not_sent;              /* clients whose field was asked, never sent */
} zv_audit_sva_field;

typedef struct zv_audit_sva_party {
    char *party;          /* "5501", or "destination NAME" when a destination names none */
    const char **sent_by; /* destinations whose messages carried fields to it */
    size_t nsent_by;
    int64_t sent_messages, answers; /* messages with fields; answers with fields */
    int64_t sent_clients, asked_clients;
    zv_audit_sva_field *fields; /* registry order */
    size_t nfields;
} zv_audit_sva_party;

/* A destination that answered queries: a register. */
typedef struct zv_audit_sva_register {
    const char *destination;
    int64_t notifications;             /* delivered payloads */
    int64_t notifications_with_fields; /* of them: carrying a field (data left unasked) */
    int64_t answers;                   /* queries it answered */
} zv_audit_sva_register;

typedef struct zv_audit_sva {
    zv_audit_sva_party *parties;
    size_t nparties;
    zv_audit_sva_register *registers;
    size_t nregisters;
} zv_audit_sva;

struct zv_store;
struct zv_config;
/* From the trail since `since`; *out NULL when no register answered. */
int zv_audit_sva_collect(const struct zv_config *cfg, struct zv_store *store, int64_t since,
                         zv_audit_sva **out);
void zv_audit_sva_free(zv_audit_sva *s);

typedef struct zv_audit_input {
    const char *generated; /* ISO 8601 time the report stands for */
    const char *org_agb;   /* may be NULL */
    const char *org_name;  /* may be NULL */
    int period_days;       /* for "delivered" */
    const zv_audit_dest *dests;
    size_t ndests;
    const zv_audit_source *sources;
    size_t nsources;
    const zv_audit_count *counts;
    size_t ncounts;
    /* Flows from the trail: when have_flows is 0 (no store, or a trail from
     * before client keys) duplicates and frequency are judged from the
     * catalogues and schedules alone, and the report says so. */
    int have_flows;
    const zv_audit_pair *pairs;
    size_t npairs;
    const zv_audit_week *weeks; /* oldest first; may be empty */
    size_t nweeks;
    const zv_audit_sva *sva; /* sent versus asked; NULL: no register answered a query */
} zv_audit_input;

/* ---- result ---- */
typedef struct zv_audit_row {
    size_t dest;               /* index into in->dests */
    size_t msg;                /* index into that destination's msgs */
    const zv_cat_entry *entry; /* the catalogue entry */
    int selected;              /* level at or above the destination's threshold */
    int sent; /* in a delivered payload of the period (trail): 1, 0, -1 unknown (no trail) */
    int read; /* aggregate destination: read to count, never sent */
    zv_audit_counts n;         /* per destination and field (all its messages) */
    unsigned flags;            /* 1u << zv_flag_kind */
} zv_audit_row;

typedef struct zv_audit_flag {
    zv_flag_kind kind;
    size_t row;    /* index into rows; SIZE_MAX for collected_never_required */
    size_t source; /* collected_never_required: index into in->sources */
    int field;
    char *detail; /* one English sentence, no values */
} zv_audit_flag;

typedef struct zv_audit_report {
    const zv_audit_input *in;
    zv_audit_row *rows;
    size_t nrows;
    zv_audit_flag *flags;
    size_t nflags;
} zv_audit_report;

/* NULL only when out of memory. */
zv_audit_report *zv_audit_analyse(const zv_audit_input *in);
void zv_audit_report_free(zv_audit_report *r);

/* Destinations (indexes) that send field, in config order; returns count. */
size_t zv_audit_senders(const zv_audit_report *r, int field, size_t *out, size_t max);
/* Personal fields a destination receives: distinct fields it is sent, 0
 * for an aggregate destination. */
size_t zv_audit_personal_fields(const zv_audit_report *r, size_t d);
/* Number of flags of a kind for destination d (SIZE_MAX: all). */
size_t zv_audit_flag_count(const zv_audit_report *r, size_t d, zv_flag_kind k);

/* ---- legally required or not (legal.c) ---- */
typedef enum zv_route {
    ZV_ROUTE_LISTED_IN_LAW = 0,     /* level law: an instrument lists the field */
    ZV_ROUTE_PRESCRIBED_STANDARD,   /* the standard demands it and a regulation prescribes it */
    ZV_ROUTE_STANDARD_BY_AGREEMENT, /* the standard demands it; its use is agreed, not prescribed */
    ZV_ROUTE_STANDARD_UNKNOWN,      /* the catalogue does not say whether it is prescribed */
    ZV_ROUTE_REGULATOR,
    ZV_ROUTE_CONTRACT,
    ZV_ROUTE_SECTOR,
    ZV_ROUTE_INTERNAL,
    ZV_ROUTE_NONE
} zv_route;

#define ZV_AUDIT_MAX_LINKS 8
typedef struct zv_audit_legal {
    int required;   /* legally required (routes listed_in_law, standard_prescribed) */
    zv_route route;
    const zv_link *links[ZV_AUDIT_MAX_LINKS]; /* borrowed from the catalogue */
    size_t nlinks;
    int unverified; /* a link of the chain is not verified, or there is no chain */
    const char *note; /* the catalogue's note on (not) being prescribed; may be NULL */
} zv_audit_legal;

void zv_audit_legal_of(const zv_audit_report *r, size_t row, zv_audit_legal *out);
const char *zv_route_id(zv_route r);
const char *zv_route_label_nl(zv_route r);

/* Renderers append to out; 0 or -1 (out of memory). */
int zv_audit_render_json(const zv_audit_report *r, zv_buf *out);
int zv_audit_render_csv(const zv_audit_report *r, zv_buf *out);
int zv_audit_render_html(const zv_audit_report *r, zv_buf *out);

#endif
