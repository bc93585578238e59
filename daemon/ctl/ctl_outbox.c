/* zinvolctl outbox list [--destination D] [--state S] [--limit N] | show ID | retry ID | drop ID */
#include "ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *S(const zv_json *o, const char *k, const char *dflt)
{
    const char *s = zv_json_str(zv_json_get(o, k), NULL);
    return s && *s ? s : dflt;
}

static int64_t I(const zv_json *o, const char *k)
{
    int64_t v = 0;
    zv_json_int(zv_json_get(o, k), &v);
    return v;
}

static void usage(void)
{
    fprintf(stderr, "usage: zinvolctl outbox list [--destination D] [--state "
                    "pending|inflight|delivered|dead|dropped] [--limit N]\n"
                    "       zinvolctl outbox show ID | retry ID | drop ID\n");
}

static int list(zv_ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"destination", required_argument, 0, 'd'},
                                         {"state", required_argument, 0, 's'},
                                         {"limit", required_argument, 0, 'l'},
                                         {0, 0, 0, 0}};
    zv_buf q;
    zv_buf_init(&q);
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        const char *k = o == 'd' ? "destination" : o == 's' ? "state" : o == 'l' ? "limit" : NULL;
        if (!k || strpbrk(optarg, "&=%?# ")) {
            if (k) fprintf(stderr, "zinvolctl: outbox list: bad value '%s'\n", optarg);
            usage();
            zv_buf_free(&q);
            return 2;
        }
        zv_buf_printf(&q, "%s%s=%s", q.len ? "&" : "", k, optarg);
    }
    if (optind < argc) {
        fprintf(stderr, "zinvolctl: outbox list: unexpected argument '%s'\n", argv[optind]);
        usage();
        zv_buf_free(&q);
        return 2;
    }
    int st;
    zv_json_doc *d = zv_ctl_call_json(c, "GET", "/api/outbox", q.data, &st);
    zv_buf_free(&q);
    if (!d || st != 200) {
        if (d) fprintf(stderr, "zinvolctl: %s\n", zv_ctl_error_of(d));
        zv_json_free(d);
        return 1;
    }
    const zv_json *a = zv_json_root(d);
    printf("%-7s %-14s %-6s %-28s %-9s %4s  %-20s  %s\n", "ID", "DESTINATION", "MSG",
           "IDEMPOTENCY KEY", "STATE", "TRY", "QUEUED", "LAST ERROR / DELIVERED");
    for (size_t i = 0; i < zv_json_len(a); i++) {
        const zv_json *x = zv_json_at(a, i);
        const char *tail =
            S(x, "delivered_at", NULL) ? S(x, "delivered_at", "") : S(x, "last_error", "-");
        printf("%-7lld %-14s %-6s %-28s %-9s %4lld  %-20s  %s\n", (long long)I(x, "id"),
               S(x, "destination", "-"), S(x, "message", "-"), S(x, "idem_key", "-"),
               S(x, "state", "-"), (long long)I(x, "attempts"), S(x, "first_enqueued", "-"), tail);
    }
    zv_json_free(d);
    return 0;
}

int zv_ctl_outbox(zv_ctl *c, int argc, char **argv)
{
    if (argc < 1) {
        usage();
        return 2;
    }
    if (strcmp(argv[0], "list") == 0) return list(c, argc, argv);
    int show = !strcmp(argv[0], "show"), retry = !strcmp(argv[0], "retry"),
        drop = !strcmp(argv[0], "drop");
    if (!show && !retry && !drop) {
        fprintf(stderr, "zinvolctl: unknown outbox command '%s'\n", argv[0]);
        usage();
        return 2;
    }
    char *end;
    long long id = argc == 2 ? strtoll(argv[1], &end, 10) : 0;
    if (argc != 2 || *end || id <= 0) {
        usage();
        return 2;
    }
    char path[96];
    snprintf(path, sizeof(path), "/api/outbox/%lld%s%s", id, show ? "" : "/", show ? "" : argv[0]);
    zv_buf out;
    zv_buf_init(&out);
    int st = zv_ctl_call(c, show ? "GET" : "POST", path, NULL, &out);
    int rc = st == 200 ? 0 : 1;
    if (st > 0 && (show || c->json)) {
        fputs(out.data ? out.data : "", st == 200 ? stdout : stderr);
    } else if (st > 0) {
        char err[128];
        zv_json_doc *d = zv_json_parse(out.data ? out.data : "", out.len, 0, err, sizeof(err));
        const zv_json *r = d ? zv_json_root(d) : NULL;
        if (st == 200)
            printf("%lld: %s\n", id, S(r, "result", "done"));
        else
            fprintf(stderr, "zinvolctl: %s\n", S(r, "error", "failed"));
        zv_json_free(d);
    }
    zv_buf_free(&out);
    return rc;
}
