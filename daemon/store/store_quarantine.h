/*
 * The record lifecycle in the store: quarantine entries that can be redone,
 * records that wait for their date, and the source items in flight.
 *
 * An entry is open (a record that needs a fix) or waiting (valid, but not
 * due before its day).  It leaves only through zv_store_quarantine_close,
 * which moves it to the closed list with its outcome and writes an audit
 * entry (kind "quarantine") in the same transaction: nothing disappears
 * without a trace.  Closed entries keep their reasons and outcome, not the
 * item (there is nothing left to redo).
 *
 * Items: the raw source item of each mapped record is kept (as the mapping
 * reads it) while a staged row names it, so an entry made at the minimiser,
 * at a format rule or at the XSD keeps the raw item too and a retry runs
 * through the current mapping, not through the old mapped values.
 *
 * Included by store.h; same conventions (0 ok, -1 error, zv_store_errmsg).
 */
#ifndef ZV_STORE_QUARANTINE_H
#define ZV_STORE_QUARANTINE_H

#include <stdint.h>

/* What becomes of an entry. */
#define ZV_Q_STAGED "staged"               /* processed again: staged or queued */
#define ZV_Q_REQUARANTINED "requarantined" /* processed again: refused again, new entry */
#define ZV_Q_SUPERSEDED "superseded"       /* a corrected version of the record arrived */
#define ZV_Q_DROPPED "dropped"             /* an operator dropped it */
#define ZV_Q_UNROUTED "unrouted"           /* processed again: no destination takes it now */

typedef struct zv_quarantine_filter {
    const char *state;       /* "open" (NULL too), "waiting", "closed", "all" */
    const char *source;      /* NULL: any */
    const char *stage;       /* NULL: any */
    const char *destination; /* NULL: any */
    const char *text;        /* in a reason, field, rule or record id; NULL: any */
    int64_t since;           /* created at or after (unix seconds); 0: any */
} zv_quarantine_filter;

/* Entries the filter takes, oldest first (open and waiting ones, then the
 * closed ones when asked for). */
int zv_store_quarantine_query(zv_store *s, const zv_quarantine_filter *f, zv_quarantine_cb cb,
                              void *arg);
/* One more reason for an open entry (a format that finds several). */
int zv_store_quarantine_add_reason(zv_store *s, int64_t id, const char *field, const char *rule,
                                   const char *reason);
/* The entry leaves quarantine with its outcome (ZV_Q_*) and detail (no BSN
 * in clear; "by WHO" belongs in it), audited, in one transaction (its own
 * unless one is open).  1 when the entry is not open or waiting. */
int zv_store_quarantine_close(zv_store *s, int64_t id, const char *outcome, const char *detail,
                              int64_t now);
/* Open or waiting entries of one record (source and the mapping's record id). */
int zv_store_quarantine_of_record(zv_store *s, const char *source, const char *record_id,
                                  zv_quarantine_cb cb, void *arg);
/* 1 when an open entry (other than except) says exactly this already. */
int zv_store_quarantine_like(zv_store *s, const zv_quarantine_entry *e, int64_t except);
/* Waiting entries due on or before today (YYYY-MM-DD), oldest first. */
int zv_store_quarantine_due(zv_store *s, const char *today, zv_quarantine_cb cb, void *arg);
int64_t zv_store_quarantine_waiting(zv_store *s);

/* ---- source items in flight ---- */
int zv_store_item_put(zv_store *s, const char *source, const char *record_id, const char *item_json,
                      const char *mapping_version, int64_t *id);
/* The newest kept item of a record: 0 and malloc'd copies (caller frees),
 * 1 none. */
int zv_store_item_get(zv_store *s, const char *source, const char *record_id, char **item_json,
                      char **mapping_version);
/* Forget an item no staged row names (a record no destination took). */
int zv_store_item_release(zv_store *s, int64_t id);

#endif
