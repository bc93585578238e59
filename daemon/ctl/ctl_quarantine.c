/* zinvolctl quarantine list [filters]|show ID|export --format csv|retry ID|--all|drop ID -
 * through the admin API (daemon/admin/service_quarantine.c). */
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
    const char *state = S(e, "state"), *stage = S(e, "stage");
    char st[64];
    /* What the entry is now: its stage while open, else waiting/outcome. */
    if (state && strcmp(state, "waiting") == 0)
        snprintf(st, sizeof(st), "waiting until %s", S(e, "due") ? S(e, "due") : "?");
    else if (state && strcmp(state, "closed") == 0)
        snprintf(st, sizeof(st), "%s", S(e, "outcome") ? S(e, "outcome") : "closed");
    else
        snprintf(st, sizeof(st), "%s", stage ? stage : "-");
    char line[2048];
    snprintf(line, sizeof(line), "%-6lld %s  %-9s %-14s %s/%s  %s%s%s%s%s", (long long)I(e, "id"),
             S(e, "created") ? S(e, "created") : "-", st,
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
    fprintf(stderr,
            "usage: zinvolctl quarantine list [--source S] [--stage S] [--destination D] "
            "[--reason TEXT] [--since DATE|DURATION] [--state open|waiting|closed|all|OUTCOME]\n"
            "       zinvolctl quarantine export --format csv [filters as list] [--output FILE]\n"
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

/* The filters list and export share; 0, or 2 on a usage error.  *output
 * and *format only for export. */
static int filters(int argc, char **argv, zv_buf *q, const char **output, const char **format)
{
    static const struct option opts[] = {{"source", required_argument, 0, 's'},
                                         {"stage", required_argument, 0, 't'},
                                         {"destination", required_argument, 0, 'd'},
                                         {"reason", required_argument, 0, 'r'},
                                         {"since", required_argument, 0, 'S'},
                                         {"state", required_argument, 0, 'x'},
                                         {"format", required_argument, 0, 'f'},
                                         {"output", required_argument, 0, 'o'},
                                         {0, 0, 0, 0}};
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        const char *k = o == 's'   ? "source"
                        : o == 't' ? "stage"
                        : o == 'd' ? "destination"
                        : o == 'r' ? "q"
                        : o == 'S' ? "since"
                        : o == 'x' ? "state"
                                   : NULL;
        if (k) {
            add_q(q, k, optarg);
        } else if (o == 'f' && format) {
            *format = optarg;
        } else if (o == 'o' && output) {
            *output = optarg;
        } else {
            usage();
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "zinvolctl: quarantine %s: unexpected argument '%s'\n", argv[0],
                argv[optind]);
        usage();
        return 2;
    }
    return 0;
}

static int list(zv_ctl *c, int argc, char **argv)
{
    zv_buf q;
    zv_buf_init(&q);
    if (filters(argc, argv, &q, NULL, NULL)) {
        zv_buf_free(&q);
        return 2;
    }
    int st;
    zv_json_doc *d = zv_ctl_call_json(c, "GET", "/api/quarantine", q.len ? q.data : NULL, &st);
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

/* export --format csv: the API's CSV as it is (BSNs masked there). */
static int export(zv_ctl *c, int argc, char **argv)
{
    zv_buf q;
    zv_buf_init(&q);
    const char *output = NULL, *format = NULL;
    if (filters(argc, argv, &q, &output, &format)) {
        zv_buf_free(&q);
        return 2;
    }
    if (!format || strcmp(format, "csv") != 0) {
        fprintf(stderr, "zinvolctl: quarantine export: --format csv is the one format\n");
        zv_buf_free(&q);
        return 2;
    }
    add_q(&q, "format", "csv");
    zv_buf out;
    zv_buf_init(&out);
    int st = zv_ctl_call(c, "GET", "/api/quarantine", q.data, &out);
    zv_buf_free(&q);
    int rc = 1;
    if (st == 200) {
        FILE *f = output ? fopen(output, "w") : stdout;
        if (!f) {
            perror(output);
        } else {
            rc = fwrite(out.data ? out.data : "", 1, out.len, f) == out.len ? 0 : 1;
            if (output && fclose(f) != 0) rc = 1;
        }
    } else if (st > 0) {
        fputs(out.data ? out.data : "", stderr);
    }
    zv_buf_free(&out);
    return rc;
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
        const zv_json *r = zv_json_root(d);
        const char *outcome = zv_json_str(zv_json_get(r, "outcome"), NULL);
        printf("%lld: %s: %s\n", (long long)id, outcome ? outcome : "?",
               zv_json_str(zv_json_get(r, "result"), NULL));
        /* Refused again is an answer, not a failure of the command. */
        rc = 0;
    } else if (d) {
        printf("%lld: %s\n", (long long)id, zv_ctl_error_of(d));
    }
    zv_json_free(d);
    return rc;
}

/* One request: the daemon (or the store) processes every open entry again
 * in one pass and answers per entry; one line each, then the totals. */
static int retry_all(zv_ctl *c)
{
    int st;
    zv_json_doc *d = zv_ctl_call_json(c, "POST", "/api/quarantine/retry", NULL, &st);
    if (!d || st != 200) {
        if (d) fprintf(stderr, "zinvolctl: %s\n", zv_ctl_error_of(d));
        zv_json_free(d);
        return 1;
    }
    const zv_json *r = zv_json_root(d), *a = zv_json_get(r, "entries");
    int failed = 0;
    for (size_t i = 0; i < zv_json_len(a); i++) {
        const zv_json *e = zv_json_at(a, i);
        const char *outcome = S(e, "outcome") ? S(e, "outcome") : "?", *res = S(e, "result");
        printf("%lld: %s: %s\n", (long long)I(e, "id"), outcome, res ? res : "");
        failed |= strcmp(outcome, "failed") == 0;
    }
    printf("%zu entries processed again: %lld staged, %lld refused again, %lld unrouted, "
           "%lld other; %lld messages made\n",
           zv_json_len(a), (long long)I(r, "staged"), (long long)I(r, "requarantined"),
           (long long)I(r, "unrouted"), (long long)I(r, "other"), (long long)I(r, "messages"));
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
    if (strcmp(argv[0], "export") == 0) return export(c, argc, argv);
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
