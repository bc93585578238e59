/* zinvolctl dlq list|show ID|retry ID|--all|drop ID - through the admin API. */
#include "ctl.h"

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
    zv_buf b;
    zv_buf_init(&b);
    zv_buf_printf(
        &b, "%-6lld %s  %-14s %-6s %-28s", (long long)I(e, "id"),
        S(e, "created") ? S(e, "created") : "-", S(e, "destination") ? S(e, "destination") : "-",
        S(e, "message") ? S(e, "message") : "-", S(e, "idem_key") ? S(e, "idem_key") : "-");
    if (S(e, "record_key")) zv_buf_printf(&b, " record %s", S(e, "record_key"));
    if (S(e, "record_ref")) zv_buf_printf(&b, " (%s)", S(e, "record_ref"));
    if (I(e, "http_status")) zv_buf_printf(&b, " HTTP %lld", (long long)I(e, "http_status"));
    if (S(e, "codes")) zv_buf_printf(&b, " codes %s", S(e, "codes"));
    zv_buf_printf(&b, " attempts=%lld  %s", (long long)I(e, "attempts"),
                  S(e, "reason") ? S(e, "reason") : "");
    if (b.data) {
        char safe[4096];
        zv_escape_ctrl(b.data, b.len, safe, sizeof(safe)); /* keys from outside: one line */
        zv_bsn_scrub(safe); /* record keys may hold a BSN */
        printf("%s\n", safe);
    }
    zv_buf_free(&b);
}

static int parse_id(const char *s, int64_t *id)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v <= 0) return -1;
    *id = v;
    return 0;
}

static zv_json_doc *list_doc(zv_ctl *c)
{
    int st;
    zv_json_doc *d = zv_ctl_call_json(c, "GET", "/api/dlq", NULL, &st);
    if (d && st == 200) return d;
    if (d) fprintf(stderr, "zinvolctl: %s\n", zv_ctl_error_of(d));
    zv_json_free(d);
    return NULL;
}

static int act(zv_ctl *c, int64_t id, const char *action)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/dlq/%lld/%s", (long long)id, action);
    int st;
    zv_json_doc *d = zv_ctl_call_json(c, "POST", path, NULL, &st);
    int rc = 1;
    if (d && st == 200) {
        printf("%lld: %s\n", (long long)id,
               zv_json_str(zv_json_get(zv_json_root(d), "result"), NULL));
        rc = 0;
    } else if (d) {
        if (strcmp(action, "retry") == 0)
            fprintf(stderr, "%lld: %s\n", (long long)id, zv_ctl_error_of(d));
        else
            fprintf(stderr, "zinvolctl: %s\n", zv_ctl_error_of(d));
    }
    zv_json_free(d);
    return rc;
}

static int retry(zv_ctl *c, const char *arg)
{
    int64_t one = 0;
    if (strcmp(arg, "--all") != 0) {
        if (parse_id(arg, &one) < 0) {
            fprintf(stderr, "zinvolctl: '%s' is not a dead letter id\n", arg);
            return 2;
        }
        return act(c, one, "retry");
    }
    zv_json_doc *d = list_doc(c);
    if (!d) return 1;
    const zv_json *a = zv_json_root(d);
    int rc = 0, skipped = 0;
    for (size_t i = 0; i < zv_json_len(a); i++) {
        const zv_json *e = zv_json_at(a, i);
        int retryable = 1;
        zv_json_bool(zv_json_get(e, "retryable"), &retryable);
        if (!retryable) {
            skipped++;
            continue;
        }
        rc |= act(c, I(e, "id"), "retry");
    }
    if (skipped)
        printf("%d per-record rejections left alone: correct those records at their source, "
               "then drop the entries\n",
               skipped);
    zv_json_free(d);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: zinvolctl dlq list | show ID | retry ID|--all | drop ID\n");
}

int zv_ctl_dlq(zv_ctl *c, int argc, char **argv)
{
    if (argc < 1) {
        usage();
        return 2;
    }
    int list = !strcmp(argv[0], "list"), is_show = !strcmp(argv[0], "show");
    int is_retry = !strcmp(argv[0], "retry"), is_drop = !strcmp(argv[0], "drop");
    if (!list && !is_retry && !is_drop && !is_show) {
        fprintf(stderr, "zinvolctl: unknown dlq command '%s'\n", argv[0]);
        usage();
        return 2;
    }
    if ((list && argc != 1) || (!list && argc != 2)) {
        usage();
        return 2;
    }
    if (list) {
        zv_json_doc *d = list_doc(c);
        if (!d) return 1;
        printf("%-6s %-20s  %-14s %-6s %-28s %s\n", "ID", "WHEN", "DESTINATION", "MSG",
               "IDEMPOTENCY KEY", "DETAIL");
        const zv_json *a = zv_json_root(d);
        for (size_t i = 0; i < zv_json_len(a); i++)
            print_entry(zv_json_at(a, i));
        zv_json_free(d);
        return 0;
    }
    if (is_retry) return retry(c, argv[1]);
    int64_t id;
    if (parse_id(argv[1], &id) < 0) {
        fprintf(stderr, "zinvolctl: '%s' is not a dead letter id\n", argv[1]);
        return 2;
    }
    if (is_drop) return act(c, id, "drop");
    char path[64];
    snprintf(path, sizeof(path), "/api/dlq/%lld", (long long)id);
    zv_buf out;
    zv_buf_init(&out);
    int st = zv_ctl_call(c, "GET", path, NULL, &out);
    if (st > 0) fputs(out.data ? out.data : "", st == 200 ? stdout : stderr);
    zv_buf_free(&out);
    return st == 200 ? 0 : 1;
}
