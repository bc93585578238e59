/* zinvolctl audit verify: recompute the audit trail's hash chain. */
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
    if (zv_ctl_need_store(c) < 0) return 1;
    int64_t count = 0, bad = 0;
    char why[512];
    int r = zv_store_audit_verify(c->store, &count, &bad, why, sizeof(why));
    if (r < 0) {
        fprintf(stderr, "zinvolctl: audit verify: %s\n", zv_store_errmsg(c->store));
        return 1;
    }
    if (r == 1) {
        printf("audit trail BROKEN at entry %lld: %s\n", (long long)bad, why);
        return 1;
    }
    printf("audit trail intact: %lld entries\n", (long long)count);
    return 0;
}
