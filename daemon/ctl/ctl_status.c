/* zinvolctl status [--json]: the daemon, its health, sources and destinations. */
#include "ctl.h"

#include <stdio.h>
#include <string.h>

static const char *S(const zv_json *o, const char *k, const char *dflt)
{
    const char *s = zv_json_str(zv_json_get(o, k), NULL);
    return s && *s ? s : dflt;
}

static int64_t I(const zv_json *o, const char *k, int64_t dflt)
{
    int64_t v;
    return zv_json_int(zv_json_get(o, k), &v) == 0 ? v : dflt;
}

static void print_status(const zv_json *s)
{
    const zv_json *d = zv_json_get(s, "daemon"), *cf = zv_json_get(s, "config");
    const zv_json *h = zv_json_get(s, "health");
    int running = 0;
    zv_json_bool(zv_json_get(d, "running"), &running);
    if (running) {
        int64_t up = I(d, "uptime_s", 0);
        printf("zinvold %s: running (pid %lld, up %lldh%02lldm%02llds, since %s)\n",
               S(s, "version", "?"), (long long)I(d, "pid", 0), (long long)(up / 3600),
               (long long)(up / 60 % 60), (long long)(up % 60), S(d, "started", "?"));
    } else {
        printf("zinvold %s: not running (read from the store)\n", S(s, "version", "?"));
    }
    int changed = 0;
    zv_json_bool(zv_json_get(cf, "changed_on_disk"), &changed);
    printf("config: %s (sha256 %s)%s\n", S(cf, "file", "?"), S(cf, "sha256", "?"),
           changed ? " - changed on disk since it was loaded: reload to apply" : "");
    printf("store: %s\n", S(s, "store", "?"));
    const char *hs = S(h, "status", "?");
    printf("health: %s%s%s\n", hs, *S(h, "reasons", "") ? ": " : "", S(h, "reasons", ""));
    printf("quarantine: %lld entries\n", (long long)I(s, "quarantine", 0));
    printf("\n%-16s %-10s %10s  %-20s %-20s\n", "SOURCE", "TYPE", "RECORDS", "LAST ACTIVITY",
           "LAST FILE");
    const zv_json *src = zv_json_get(s, "sources");
    for (size_t i = 0; i < zv_json_len(src); i++) {
        const zv_json *x = zv_json_at(src, i);
        printf("%-16s %-10s %10lld  %-20s %-20s\n", S(x, "name", "?"), S(x, "type", "?"),
               (long long)I(x, "records_in", 0), S(x, "last_activity", "-"),
               S(x, "last_file", "-"));
    }
    printf("\n%-16s %7s %8s %6s %11s  %-9s  %-20s  %s\n", "DESTINATION", "STAGED", "BACKLOG",
           "DEAD", "OLDEST(s)", "CIRCUIT", "LAST SUCCESS", "LAST FAILURE");
    const zv_json *ds = zv_json_get(s, "destinations");
    for (size_t i = 0; i < zv_json_len(ds); i++) {
        const zv_json *x = zv_json_at(ds, i);
        char oldest[24] = "-";
        int64_t o = I(x, "oldest_pending_age_s", -1);
        if (o >= 0) snprintf(oldest, sizeof(oldest), "%lld", (long long)o);
        char fail[512] = "-";
        if (zv_json_str(zv_json_get(x, "last_failure"), NULL))
            snprintf(fail, sizeof(fail), "%s %s", S(x, "last_failure", ""), S(x, "last_error", ""));
        printf("%-16s %7lld %8lld %6lld %11s  %-9s  %-20s  %s\n", S(x, "name", "?"),
               (long long)I(x, "staged", 0), (long long)I(x, "pending", 0),
               (long long)I(x, "dead_letter", 0), oldest, S(x, "circuit", "?"),
               S(x, "last_success", "-"), fail);
    }
    /* What plugins reported an operator must act on (host->problem). */
    for (int k = 0; k < 2; k++) {
        const zv_json *a = zv_json_get(s, k ? "destinations" : "sources");
        for (size_t i = 0; i < zv_json_len(a); i++) {
            const zv_json *x = zv_json_at(a, i);
            const char *p = zv_json_str(zv_json_get(x, "problem"), NULL);
            if (p && *p)
                printf("%s %s: PROBLEM: %s\n", k ? "destination" : "source", S(x, "name", "?"), p);
        }
    }
}

int zv_ctl_status(zv_ctl *c, int argc, char **argv)
{
    int json = c->json;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
            continue;
        }
        fprintf(stderr,
                "zinvolctl: status: unknown argument '%s'\nusage: zinvolctl status "
                "[--json]\n",
                argv[i]);
        return 2;
    }
    zv_buf out;
    zv_buf_init(&out);
    int st = zv_ctl_call(c, "GET", "/api/status", NULL, &out);
    int rc = 1;
    if (st == 200 && json) {
        fputs(out.data ? out.data : "", stdout);
        rc = 0;
    } else if (st == 200) {
        char err[256];
        zv_json_doc *d = zv_json_parse(out.data ? out.data : "", out.len, 0, err, sizeof(err));
        if (d) {
            print_status(zv_json_root(d));
            const char *hs =
                zv_json_str(zv_json_get(zv_json_get(zv_json_root(d), "health"), "status"), NULL);
            rc = hs && strcmp(hs, "degraded") == 0 ? 3 : 0;
        }
        zv_json_free(d);
    } else if (st > 0) {
        fprintf(stderr, "zinvolctl: %s", out.data ? out.data : "status failed\n");
    }
    zv_buf_free(&out);
    return rc;
}
