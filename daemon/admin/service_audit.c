/* The admin API's audit report (kept apart from the runtime internals: the
 * audit module has its own vocabulary). */
#include "service_int.h"
#include "audit/audit.h"
#include "audit/collect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int svc_audit_report(svc *c)
{
    char fbuf[16], pbuf[16];
    const char *format = zv_admin_query(c->req->query, "format", fbuf, sizeof(fbuf));
    const char *p = zv_admin_query(c->req->query, "period_days", pbuf, sizeof(pbuf));
    format = format ? format : "json";
    long period = p ? strtol(p, NULL, 10) : 30;
    if (period < 1 || period > 36500) return svc_error(c, 400, "period_days: 1..36500");
    if (strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "html"))
        return svc_error(c, 400, "format: json, csv or html");
    zv_errors errs;
    zv_errors_init(&errs);
    zv_audit_collected *col = NULL;
    int rc = zv_audit_collect(c->env->cfg, c->env->store, (int)period, zv_now(), &col, &errs);
    char first[512] = "";
    if (errs.n) snprintf(first, sizeof(first), "%s", errs.lines[0]);
    zv_errors_free(&errs);
    if (rc < 0) {
        zv_audit_collected_free(col);
        return svc_error(c, 500, "audit: %s", first[0] ? first : "cannot collect the input");
    }
    zv_audit_report *r = zv_audit_analyse(zv_audit_collected_input(col));
    int st = 200;
    if (!r) {
        st = svc_error(c, 500, "audit: out of memory");
    } else {
        rc = !strcmp(format, "csv")    ? zv_audit_render_csv(r, c->raw)
             : !strcmp(format, "html") ? zv_audit_render_html(r, c->raw)
                                       : zv_audit_render_json(r, c->raw);
        if (rc < 0)
            st = svc_error(c, 500, "audit: cannot render the report");
        else
            c->ctype = !strcmp(format, "csv")    ? "text/csv; charset=utf-8"
                       : !strcmp(format, "html") ? "text/html; charset=utf-8"
                                                 : "application/json";
    }
    zv_audit_report_free(r);
    zv_audit_collected_free(col);
    return st;
}
