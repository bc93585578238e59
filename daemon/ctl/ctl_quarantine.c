/* zinvolctl quarantine list [filters]|show ID|retry ID|--all|drop ID - through the admin API. */
#include "ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *S(const zv_json *o, const char *k)
{
    return zv_json_str(zv_json_get(o, k), NULL);
}

static int64_t I(const zv_json *o, const char *k)
{
    int64_t v = 0;
    zv_json_int(zv_json_get(o, k), &v);
    return v;
}

static void print_entry(const zv_json *e)
{
    const char *rule = S(e, "rule"), *field = S(e, "field"), *reason = S(e, "reason");
    char line[2048];
    snprintf(line, sizeof(line), "%-6lld %s  %-9s %-14s %s/%s  %s%s%s%s%s", (long long)I(e, "id"),
             S(e, "created") ? S(e, "created") : "-", S(e, "stage") ? S(e, "stage") : "-",
             S(e, "destination") ? S(e, "destination") : "-", S(e, "source") ? S(e, "source") : "",
             S(e, "record_id") ? S(e, "record_id") : "", rule ? rule : "", rule ? " " : "",
             field ? field : "", field ? ": " : "", reason ? reason : "");
    char safe[4096];
    zv_escape_ctrl(line, strlen(line), safe, sizeof(safe)); /* ids from outside: one line */
    zv_bsn_scrub(safe);
    printf("%s\n", safe);
}

static void usage(void)
{
    fprintf(stderr, "usage: zinvolctl quarantine list [--source S] [--stage S] [--destination D] "
                    "[--reason TEXT]\n"
                    "       zinvolctl quarantine show ID | retry ID|--all | drop ID\n");
}

static void add_q(zv_buf *q, const char *k, const char *v)
{
    zv_buf_printf(q, "%s%s=", q->len ? "&" : "", k);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.')
            zv_buf_append(q, p, 1);
        else
            zv_buf_printf(q, "%%%02X", *p);
}

static int list(zv_ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"source", required_argument, 0, 's'},
                                         {"stage", required_argument, 0, 't'},
                                         {"destination", required_argument, 0, 'd'},
                                         {"reason", required_argument, 0, 'r'},
                                         {0, 0, 0, 0}};
    static const char *const keys[] = {"source", "stage", "destination", "q"};
    zv_buf q;
    zv_buf_init(&q);
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        const char *k = o == 's'   ? keys[0]
                        : o == 't' ? keys[1]
                        : o == 'd' ? keys[2]
                        : o == 'r' ? keys[3]
                                   : NULL;
        if (!k) {
            usage();
            zv_buf_free(&q);
            return 2;
        }
        add_q(&q, k, optarg);
    }
    if (optind < argc) {
        fprintf(stderr, "zinvolctl: quarantine list: unexpected argument '%s'\n", argv[optind]);
        usage();
        zv_buf_free(&q);
        return 2;
    }
    int st;
    zv_json_doc *d = zv_ctl_call_json(c, "GET", "/api/quarantine", q.data, &st);
    zv_buf_free(&q);
    if (!d || st != 200) {
        if (d) fprintf(stderr, "zinvolctl: %s\n", zv_ctl_error_of(d));
        zv_json_free(d);
        return 1;
    }
    const zv_json *a = zv_json_root(d);
    printf("%-6s %-20s  %-9s %-14s %s  %s\n", "ID", "WHEN", "STAGE", "DESTINATION", "SOURCE/RECORD",
           "REASON");
    for (size_t i = 0; i < zv_json_len(a); i++)
        print_entry(zv_json_at(a, i));
    zv_json_free(d);
    return 0;
}

static int parse_id(const char *s, int64_t *id)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v <= 0) return -1;
    *id = v;
    return 0;
}

static int act(zv_ctl *c, int64_t id, const char *action)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/quarantine/%lld/%s", (long long)id, action);
    int st;
    zv_json_doc *d = zv_ctl_call_json(c, "POST", path, NULL, &st);
    int rc = 1;
    if (d && st == 200) {
        printf("%lld: %s\n", (long long)id,
               zv_json_str(zv_json_get(zv_json_root(d), "result"), NULL));
        rc = 0;
    } else if (d) {
        printf("%lld: %s\n", (long long)id, zv_ctl_error_of(d));
    }
    zv_json_free(d);
    return rc;
}

static int retry_all(zv_ctl *c)
{
    int st;
    zv_json_doc *d = zv_ctl_call_json(c, "GET", "/api/quarantine", NULL, &st);
    if (!d || st != 200) {
        if (d) fprintf(stderr, "zinvolctl: %s\n", zv_ctl_error_of(d));
        zv_json_free(d);
        return 1;
    }
    const zv_json *a = zv_json_root(d);
    int failed = 0;
    for (size_t i = 0; i < zv_json_len(a); i++)
        failed |= act(c, I(zv_json_at(a, i), "id"), "retry");
    zv_json_free(d);
    return failed;
}

static int show(zv_ctl *c, int64_t id)
{
    char path[64];
    snprintf(path, sizeof(path), "/api/quarantine/%lld", (long long)id);
    zv_buf out;
    zv_buf_init(&out);
    int st = zv_ctl_call(c, "GET", path, NULL, &out);
    if (st > 0) fputs(out.data ? out.data : "", st == 200 ? stdout : stderr);
    zv_buf_free(&out);
    return st == 200 ? 0 : 1;
}

int zv_ctl_quarantine(zv_ctl *c, int argc, char **argv)
{
    if (argc < 1) {
        usage();
        return 2;
    }
    if (strcmp(argv[0], "list") == 0) return list(c, argc, argv);
    int64_t id = 0;
    int is_retry = !strcmp(argv[0], "retry"), is_drop = !strcmp(argv[0], "drop"),
        is_show = !strcmp(argv[0], "show");
    if (!is_retry && !is_drop && !is_show) {
        fprintf(stderr, "zinvolctl: unknown quarantine command '%s'\n", argv[0]);
        usage();
        return 2;
    }
    if (argc != 2) {
        usage();
        return 2;
    }
    if (is_retry && strcmp(argv[1], "--all") == 0) return retry_all(c);
    if (parse_id(argv[1], &id) < 0) {
        fprintf(stderr, "zinvolctl: '%s' is not an entry id\n", argv[1]);
        return 2;
    }
    if (is_show) return show(c, id);
    return act(c, id, is_retry ? "retry" : "drop");
}
