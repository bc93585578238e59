/* zinvolctl audit verify: recompute the audit trail's hash chain (admin API). */
#include "ctl.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/store_iface.h"

/* A PostgreSQL store is verified here, through the store interface: the
 * daemons on it serve no admin API in this version. */
static int verify_shared(zv_ctl *c)
{
    char err[512];
    zv_store_target t;
    if (zv_store_target_parse(c->cfg->store_path, NULL, c->cfg->store_password_file, &t, err,
                              sizeof(err)) < 0) {
        fprintf(stderr, "zinvolctl: audit verify: store: %s\n", err);
        return 1;
    }
    zv_sb *b = zv_sb_open(&t, NULL, err, sizeof(err));
    zv_store_target_free(&t);
    if (!b) {
        fprintf(stderr, "zinvolctl: audit verify: store: %s\n", err);
        return 1;
    }
    int64_t count = 0, bad = 0;
    char why[512] = "";
    int v = zv_sb_audit_verify(b, &count, &bad, why, sizeof(why));
    if (v < 0)
        fprintf(stderr, "zinvolctl: audit verify: %s\n", zv_sb_errmsg(b));
    else if (v > 0)
        printf("audit trail BROKEN at entry %" PRId64 ": %s\n", bad, why);
    else
        printf("audit trail intact: %" PRId64 " entries\n", count);
    zv_sb_close(b);
    return v == 0 ? 0 : 1;
}

int zv_ctl_audit_verify(zv_ctl *c, int argc, char **argv)
{
    (void)argv;
    if (argc != 0) {
        fprintf(stderr, "usage: zinvolctl audit verify\n");
        return 2;
    }
    if (zv_ctl_need_config(c) == 0 && zv_store_is_url(c->cfg->store_path)) return verify_shared(c);
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
