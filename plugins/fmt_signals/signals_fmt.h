/* Internal to fmt_signals: the format instance and what its files share. */
#ifndef ZV_SIGNALS_FMT_H
#define ZV_SIGNALS_FMT_H

#include <zinvol/json.h>
#include <zinvol/plugin.h>

#include "signals.h"

#define SIG_MAX_PERIODS 64

typedef struct sig_fmt {
    zv_ctx *ctx;
    const zv_host *host;
    sig_set *set;
    sig_state *state;
    int64_t k;
    int pretty;
    int report;            /* the destination's schedule is the set's period: period reports */
    int pdf;               /* the report also as PDF */
    const char *narrative; /* option: file or folder; borrowed from the host */
    int narrative_field;   /* model field with the team's story; -1: none */
    /* The organisation's name, copied in create(): render() runs on a
     * worker thread, where no host function but add_payload, rendered_fields,
     * reject_record and log may be called. Owned; NULL when not configured. */
    char *org;
    int *mnum; /* the state's number of each measure of the set; owned */
    /* An older core (ABI before 2.4) wants every record in some payload, and
     * lists them in the trail and disclosures; a 2.4 core takes payloads that
     * name no records from an aggregate format (zv_host.not_counted). */
    int name_records;
} sig_fmt;

typedef struct sig_period_ref {
    char label[16], start[11], end[11];
} sig_period_ref;

typedef struct sig_touched {
    sig_period_ref p[SIG_MAX_PERIODS];
    size_t n;
} sig_touched;

/* Index of the period in t, added when new; -1 when t is full. */
int sig_touch(sig_touched *t, const char *label, const char *start, const char *end);

/* The measure's table for a period, finished (margins, suppression). */
int sig_measure_table(sig_fmt *f, const sig_measure *m, const char *label, sig_table *t);

/* Extra members of a period report's JSON document. */
typedef struct sig_doc_extra {
    int final;
    int64_t revision;
    const char *narrative;
} sig_doc_extra;

/* The period's JSON document from finished tables (one per measure). */
void sig_write_document(sig_fmt *f, zv_jw *w, const zv_batch *b, const sig_period_ref *p,
                        const sig_table *tables, const sig_doc_extra *extra);

/* Period reports due after this batch: periods of the set that have ended
 * (before the batch's day) and have no report yet, or that the batch
 * changed.  Each is added as JSON, HTML and (option pdf) PDF, carrying
 * touched[] records of that period, or all of the batch when none. */
int sig_emit_reports(sig_fmt *f, const zv_batch *b, zv_render_out *out, const sig_touched *t,
                     const int *first);

#endif
