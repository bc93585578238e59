/* Filling the audit input from a config and a store (zinvolctl audit). */
#ifndef ZV_AUDIT_COLLECT_H
#define ZV_AUDIT_COLLECT_H

#include "audit.h"
#include "../core/config.h"
#include "../store/store.h"

typedef struct zv_audit_collected zv_audit_collected;

/* Load every destination's catalogues (format plugin's declared messages,
 * catalogue.file or the message's own catalogue in catalogue_dir, then the
 * destination's override), compile every source mapping, read the
 * minimiser counters and the deliveries of the last period_days from the
 * store (store may be NULL: no counts).  Problems go to errs as
 * "file: path: reason"; -1 then. */
int zv_audit_collect(const zv_config *cfg, zv_store *store, int period_days, int64_t now,
                     zv_audit_collected **out, zv_errors *errs);
const zv_audit_input *zv_audit_collected_input(const zv_audit_collected *c);
void zv_audit_collected_free(zv_audit_collected *c);

#endif
