/*
 * Change detection on what would be sent (issue 12 item 3).
 *
 * Per destination, a record makes a new message only when the content the
 * format would render from it differs from what was last sent for the same
 * record key (its source and record id).  The content is the minimised
 * record's fields that the format can render for the message, with the
 * message's name: a change in a column no destination receives leaves it
 * equal, and so does the same export dropped again.  "Sent" means put in
 * the outbox (from there on delivery is the outbox's business).
 *
 * It is checked twice: when a record is routed (so it is not staged at all)
 * and again when a work unit is rendered (a record staged twice before its
 * batch window closed, or sent meanwhile, goes out once: the newest
 * content per key).
 */
#ifndef ZV_CHANGE_H
#define ZV_CHANGE_H

#include <stddef.h>
#include <stdint.h>
#include <zinvol/model.h>

#include "runtime_int.h"

#define ZV_CHANGE_DIGEST_HEX 65

/* The record key: "<source>\x1f<record id>" in buf; -1 when it does not fit. */
int zv_change_key(const zv_record *r, char *buf, size_t len);
/* Digest of what destination d's format renders from min as message m. */
int zv_change_digest(const zv_dest_rt *d, int m, const zv_record *min,
                     char digest[ZV_CHANGE_DIGEST_HEX]);
/* 1 when min is what was last sent to d as message m for its key, 0 when it
 * is new or changed, -1 on a store error. */
int zv_change_unchanged(zv_runtime *rt, const zv_dest_rt *d, int m, const zv_record *min);
/* Remember min (message m) as sent to d (the record too where d's
 * catalogue for m withdraws on a change). */
int zv_change_sent(zv_runtime *rt, const zv_dest_rt *d, int m, const zv_record *min);
/* zv_change_sent in two halves, so that a render unit computes its digests
 * on a worker thread and only writes them on the loop: mark_make() touches only
 * d's configuration and min (no store), put() writes what it computed.
 * The mark owns rec; free it with zv_change_mark_free. */
typedef struct zv_change_mark {
    int keyed; /* 0: the record has no key that fits; put() writes nothing */
    char key[512];
    char digest[ZV_CHANGE_DIGEST_HEX];
    unsigned char *rec; /* the encoded record, where d's catalogue for m withdraws */
    size_t len;
} zv_change_mark;
int zv_change_mark_make(const zv_dest_rt *d, int m, const zv_record *min, zv_change_mark *out);
int zv_change_mark_put(zv_runtime *rt, const zv_dest_rt *d, int m, const zv_change_mark *mk);
void zv_change_mark_free(zv_change_mark *mk);
/* A changed record whose standard has no "changed" delivery (the
 * catalogue's "correction": {"by": "withdraw"}, e.g. iWlz CS058): when min
 * is a first delivery (delivery.status 1) and d was last sent a first
 * delivery of the same key as the same message m, *out is that record as
 * sent with delivery.status 3 - its withdrawal, to go out before min (the
 * caller frees it).  1 with *out, 0 none needed, -1 store error. */
int zv_change_withdrawal(zv_runtime *rt, const zv_dest_rt *d, int m, const zv_record *min,
                         zv_record **out);

/* One staged record of a work unit. */
typedef struct zv_change_item {
    int64_t staged_id;
    int message;
    const zv_record *rec;
    int drop; /* set by zv_change_filter: unchanged, or superseded in the unit */
} zv_change_item;

/* Mark (drop = 1) and unstage the records of a unit that would send
 * nothing new: equal to what was last sent, or followed in the same unit by
 * a newer staging of the same key.  *unchanged counts them.  -1: store error. */
int zv_change_filter(zv_runtime *rt, zv_dest_rt *d, zv_change_item *v, size_t n, size_t *unchanged);

#endif
