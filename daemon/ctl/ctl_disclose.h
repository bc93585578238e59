/* Disclosure for one client: collected messages and their renderings. */
#ifndef ZV_CTL_DISCLOSE_H
#define ZV_CTL_DISCLOSE_H

#include <stdint.h>

#include "audit/audit.h"
#include "core/config.h"
#include "store/store.h"

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
/* Renders in o->format to o->output or stdout; -1 with the reason on stderr. */
int zv_disclose_write(zv_disclosure *d, const char *prog);
void zv_disclose_free(zv_disclosure *d);

#endif
