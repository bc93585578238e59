/* Disclosure for one client (AVG art. 15): the messages zv_store_disclose
 * finds, with levels and citations from the current catalogues, rendered
 * for the client in plain Dutch.  Used by zinvolctl and the admin API. */
#ifndef ZV_AUDIT_DISCLOSE_H
#define ZV_AUDIT_DISCLOSE_H

#include <stdint.h>

#include "../core/config.h"
#include "../store/store.h"
#include "audit.h"

typedef struct zv_disclose_opts {
    const char *bsn;
    int64_t from, to; /* unix seconds; 0: open */
    const char *format;
    const char *output; /* NULL: stdout */
} zv_disclose_opts;

typedef struct zv_disclosure zv_disclosure;

/* in may be NULL (no catalogues: no citations). cfg, in and o outlive it. */
zv_disclosure *zv_disclose_new(const zv_config *cfg, const zv_audit_input *in,
                               const zv_disclose_opts *o);
int zv_disclose_add(zv_disclosure *d, const zv_disclosed *m); /* copies m */
/* Renders in o->format ("text", "json", "html"; "pdf" renders the HTML that
 * is then printed) into out; -1 out of memory. */
int zv_disclose_render(const zv_disclosure *d, zv_buf *out);
/* Collect and render in one go: the client key from the installation's
 * secret in cfg->state_dir, the catalogues (in may be NULL), the store's
 * messages.  -1 with why in err (no secret, not a BSN, store error). */
int zv_disclose_build(const zv_config *cfg, const zv_audit_input *in, zv_store *store,
                      const zv_disclose_opts *o, zv_buf *out, char *err, size_t errlen);
void zv_disclose_free(zv_disclosure *d);
/* A --from/--to bound: the first second of the calendar date s (YYYY-MM-DD),
 * or with end_of_day its last second, in UTC.  -1 when s is not a real date
 * (2026-02-30 is refused, not rolled over into March). */
int zv_disclose_date_bound(const char *s, int end_of_day, int64_t *out);

#endif
