/* zinvolctl source replay SOURCE FILE: the file processed again through the
 * current configuration (POST /api/replay, daemon/core/replay.c). */
#include "ctl.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    fprintf(stderr, "usage: zinvolctl source replay SOURCE FILE\n");
}

static void add_q(zv_buf *q, const char *k, const char *v)
{
    zv_buf_printf(q, "%s%s=", q->len ? "&" : "", k);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '/')
            zv_buf_append(q, p, 1);
        else
            zv_buf_printf(q, "%%%02X", *p);
}

int zv_ctl_source(zv_ctl *c, int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[0], "replay") != 0) {
        usage();
        return 2;
    }
    /* The daemon reads the file itself: it gets the absolute path. */
    char abs[PATH_MAX];
    if (!realpath(argv[2], abs)) {
        perror(argv[2]);
        return 1;
    }
    zv_buf q;
    zv_buf_init(&q);
    add_q(&q, "source", argv[1]);
    add_q(&q, "file", abs);
    int st;
    zv_json_doc *d = zv_ctl_call_json(c, "POST", "/api/replay", q.data, &st);
    zv_buf_free(&q);
    int rc = 1;
    if (d && st == 200) {
        printf("%s\n", zv_json_str(zv_json_get(zv_json_root(d), "result"), NULL));
        rc = 0;
    } else if (d) {
        fprintf(stderr, "zinvolctl: %s\n", zv_ctl_error_of(d));
        rc = st == 404 ? 2 : 1;
    }
    zv_json_free(d);
    return rc;
}
