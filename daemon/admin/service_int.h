/* Internals of the admin API (service*.c). */
#ifndef ZV_ADMIN_SERVICE_INT_H
#define ZV_ADMIN_SERVICE_INT_H

#include <zinvol/json.h>
#include "admin.h"

/* Handlers write JSON into w and return the HTTP status; on failure they
 * call svc_error (which resets w). */
typedef struct svc {
    const zv_admin_env *env;
    const zv_admin_req *req;
    zv_jw *w;
    zv_buf *raw; /* for non-JSON answers (audit report as CSV/HTML) */
    const char *ctype;
    zv_store *writer; /* env's own store: env->store is its reader for a GET */
    int wrote;        /* the handler wrote through writer: settle it after */
} svc;

int svc_error(svc *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Strings that may hold a BSN (record keys, reasons, kept items) are
 * written masked. */
void svc_str_scrubbed(zv_jw *w, const char *s);
void svc_time(zv_jw *w, int64_t t); /* ISO 8601, null for 0 */
/* A JSON text (from the store) copied in as a value, BSNs masked. */
void svc_json_text(zv_jw *w, const char *text);

int svc_status(svc *c);
int svc_outbox_list(svc *c);
int svc_outbox_show(svc *c, int64_t id);
int svc_dlq_list(svc *c);
int svc_dlq_show(svc *c, int64_t id);
int svc_quarantine_list(svc *c);
int svc_quarantine_show(svc *c, int64_t id);

int svc_outbox_action(svc *c, int64_t id, const char *action);
int svc_dlq_action(svc *c, int64_t id, const char *action);
int svc_quarantine_action(svc *c, int64_t id, const char *action);
int svc_quarantine_retry_all(svc *c); /* POST /api/quarantine/retry */
int svc_reload(svc *c);
int svc_audit_report(svc *c);
int svc_audit_verify(svc *c);
int svc_disclose(svc *c);
int svc_replay(svc *c); /* service_quarantine.c */

#endif
