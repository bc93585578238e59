/* zinvolctl audit verify: recompute the audit trail's hash chain (admin API). */
#include "ctl.h"

#include <stdio.h>
#include <string.h>

int zv_ctl_audit_verify(zv_ctl *c, int argc, char **argv)
{
    (void)argv;
    if (argc != 0) {
        fprintf(stderr, "usage: zinvolctl audit verify\n");
        return 2;
    }
    int st;
    zv_json_doc *d = zv_ctl_call_json(c, "GET", "/api/audit/verify", NULL, &st);
    if (!d || st != 200) {
        if (d) fprintf(stderr, "zinvolctl: audit verify: %s\n", zv_ctl_error_of(d));
        zv_json_free(d);
        return 1;
    }
    const zv_json *r = zv_json_root(d);
    int intact = 0;
    int64_t count = 0, bad = 0;
    zv_json_bool(zv_json_get(r, "intact"), &intact);
    zv_json_int(zv_json_get(r, "entries"), &count);
    zv_json_int(zv_json_get(r, "broken_at"), &bad);
    const char *why = zv_json_str(zv_json_get(r, "why"), NULL);
    if (!intact)
        printf("audit trail BROKEN at entry %lld: %s\n", (long long)bad, why ? why : "");
    else
        printf("audit trail intact: %lld entries\n", (long long)count);
    zv_json_free(d);
    return intact ? 0 : 1;
}
