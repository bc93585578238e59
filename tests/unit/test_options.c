/*
 * One typed option system for the core and the plugins: the same duration
 * is accepted everywhere (the policy's "timeout": "500ms" was accepted while
 * out_http refused it), ranges and enums are refused with file: path:
 * reason, defaults land in the plugin's config struct before create().
 */
#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/plugin_loader.h"
#include "core/runtime_int.h"
#include "util/optmap_int.h"

static char tmpdir[256];

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/zv-options-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "mkdir -p %s/plugins && ln -sf %s/*.so %s/plugins/ && "
             "ln -sf %s/out_good_transport.so %s/plugins/",
             tmpdir, getenv("ZV_PLUGIN_DIR"), tmpdir, getenv("ZV_TEST_PLUGIN_DIR"), tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* A config with one destination: format json, the given transport. */
static const char *write_conf(const char *transport, const char *topts, const char *policy)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/zinvol.conf", tmpdir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"plugin_dir\": \"plugins\", \"catalogue_dir\": \"%s/conf/catalogue\",\n"
            " \"state_dir\": \"state\",\n"
            " \"destinations\": [{\"name\": \"d\", \"format\": \"json\", \"transport\": \"%s\",\n"
            "   \"catalogue\": {\"file\": \"json-example.json\"},\n"
            "   \"transport_options\": %s, \"policy\": %s}]}",
            getenv("ZV_SOURCE_DIR"), transport, topts, policy);
    fclose(f);
    return path;
}

typedef struct built {
    zv_config *cfg;
    struct event_base *base;
    zv_runtime *rt;
    zv_errors e;
} built;

static void build(built *b, const char *transport, const char *topts, const char *policy)
{
    memset(b, 0, sizeof(*b));
    zv_errors_init(&b->e);
    const char *path = write_conf(transport, topts, policy);
    b->cfg = zv_config_load(path, NULL, &b->e);
    b->base = event_base_new();
    /* the runtime owns cfg from here on (also on failure) */
    if (b->cfg) b->rt = zv_runtime_build(b->cfg, b->base, ZV_RT_CHECK, &b->e);
    if (!b->rt) b->cfg = NULL;
    for (size_t i = 0; i < b->e.n; i++)
        fprintf(stderr, "got: %s\n", b->e.lines[i]);
}

static void unbuild(built *b)
{
    zv_runtime_free(b->rt);
    event_base_free(b->base);
    zv_errors_free(&b->e);
}

static int has(const built *b, const char *tail)
{
    char want[1024];
    snprintf(want, sizeof(want), "%s/zinvol.conf: %s", tmpdir, tail);
    for (size_t i = 0; i < b->e.n; i++)
        if (strcmp(b->e.lines[i], want) == 0) return 1;
    return 0;
}

/* The reported disagreement: the same "500ms" in the policy and in out_http. */
START_TEST(same_duration_in_core_and_plugin)
{
    built b;
    build(&b, "http", "{\"url\": \"http://127.0.0.1:9/\", \"timeout\": \"500ms\"}",
          "{\"timeout\": \"500ms\"}");
    ck_assert_ptr_nonnull(b.rt);
    ck_assert_int_eq(b.cfg->dests[0].policy.timeout_ms, 500);
    const zv_optval *v = zv_optset_find(&b.rt->dests[0].tr.ctx->opts, "timeout");
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(v->i, 500);
    unbuild(&b);
    /* and a number of seconds, in both */
    build(&b, "http", "{\"url\": \"http://127.0.0.1:9/\", \"timeout\": 2}", "{\"timeout\": 2}");
    ck_assert_ptr_nonnull(b.rt);
    ck_assert_int_eq(b.cfg->dests[0].policy.timeout_ms, 2000);
    ck_assert_int_eq(zv_optset_find(&b.rt->dests[0].tr.ctx->opts, "timeout")->i, 2000);
    unbuild(&b);
}
END_TEST

/* Every duration-like option of the core and of every plugin is a typed
 * duration (so none parses its own text again), and each accepts every
 * way of writing one unless its range says no. */
static void check_durations(const zv_optspec *spec, const char *where)
{
    static const char *const names[] = {"timeout",   "interval",     "backoff", "settle",
                                        "retention", "batch_window", "_age",    "cooldown"};
    static const char *const values[] = {"{\"x\": \"500ms\"}", "{\"x\": \"30s\"}",
                                         "{\"x\": \"5m\"}",    "{\"x\": \"2h\"}",
                                         "{\"x\": \"7d\"}",    "{\"x\": 90}"};
    zv_option o;
    for (size_t k = 0; zv_optspec_get(spec, k, &o) == 0; k++) {
        if (!o.name) continue;
        for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++)
            if (strstr(o.name, names[n]))
                ck_assert_msg(o.type == ZV_OPT_DURATION, "%s: %s is a %s, not a duration", where,
                              o.name, zv_opt_type_name(o.type));
        if (o.type != ZV_OPT_DURATION) continue;
        for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
            char err[512];
            zv_optval v = {.opt = o};
            zv_json_doc *d = zv_json_parse(values[i], strlen(values[i]), 0, err, sizeof(err));
            ck_assert_ptr_nonnull(d);
            int rc = zv_optval_from_json(&v, zv_json_get(zv_json_root(d), "x"), NULL, NULL, err,
                                         sizeof(err));
            ck_assert_msg(rc == 0, "%s: %s refuses %s: %s", where, o.name, values[i], err);
            if (zv_optval_check_range(&v, err, sizeof(err)) < 0)
                ck_assert_msg(strncmp(err, "must be at ", 11) == 0, "%s: %s: %s", where, o.name,
                              err);
            zv_json_free(d);
        }
    }
}

START_TEST(durations_typed_everywhere)
{
    for (size_t t = 0; t < zv_conf_ntables; t++)
        check_durations(&zv_conf_tables[t].spec, zv_conf_tables[t].path);
    check_durations(&zv_health_spec, "health");
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/plugins", tmpdir);
    DIR *dp = opendir(dir);
    ck_assert_ptr_nonnull(dp);
    struct dirent *de;
    int plugins = 0;
    while ((de = readdir(dp))) {
        const char *dot = strrchr(de->d_name, '.');
        if (!dot || strcmp(dot, ".so") || !strncmp(de->d_name, "out_good", 8)) continue;
        char path[1024], err[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        zv_plugin_kind kind = de->d_name[0] == 'i'   ? ZV_PLUGIN_SOURCE
                              : de->d_name[0] == 'f' ? ZV_PLUGIN_FORMAT
                                                     : ZV_PLUGIN_TRANSPORT;
        const zv_plugin_descriptor *d = zv_plugin_open_file(path, kind, err, sizeof(err));
        ck_assert_msg(d != NULL, "%s", err);
        zv_optspec spec;
        zv_plugin_optspec(d, &spec);
        check_durations(&spec, de->d_name);
        plugins++;
    }
    closedir(dp);
    ck_assert_int_ge(plugins, 9);
}
END_TEST

START_TEST(ranges_and_enums_refused)
{
    built b;
    build(&b, "good_transport",
          "{\"must\": \"x\", \"count\": 11, \"timeout\": \"50ms\", \"limit\": \"1KB\", "
          "\"colour\": \"purple\", \"greeting\": 5}",
          "{\"max_bytes\": \"2GiB\", \"concurrency\": 2.5, \"threshold\": \"wet\"}");
    ck_assert_ptr_null(b.rt);
    ck_assert(has(&b, "destinations[0].policy.max_bytes: must be at most 1 GiB"));
    ck_assert(has(&b, "destinations[0].policy.concurrency: expected a whole number from 1 to 256"));
    ck_assert(has(&b, "destinations[0].policy.threshold: unknown value \"wet\" (expected law, "
                      "standard, regulator, contract, sector, internal or none)"));
    unbuild(&b);
    build(&b, "good_transport",
          "{\"must\": \"x\", \"count\": 11, \"timeout\": \"50ms\", \"limit\": \"1KB\", "
          "\"colour\": \"purple\", \"greeting\": 5}",
          "{}");
    ck_assert_ptr_null(b.rt);
    const char *p = "destinations[0].transport_options.";
    char w[512];
    snprintf(w, sizeof(w), "%scount: expected a whole number from 1 to 10", p);
    ck_assert(has(&b, w));
    snprintf(w, sizeof(w), "%stimeout: must be at least 100ms", p);
    ck_assert(has(&b, w));
    snprintf(w, sizeof(w), "%slimit: must be at least 1 KiB", p);
    ck_assert(has(&b, w));
    snprintf(w, sizeof(w), "%scolour: unknown value \"purple\" (expected red, green or blue)", p);
    ck_assert(has(&b, w));
    snprintf(w, sizeof(w), "%sgreeting: plugin 'good' expects string, got number", p);
    ck_assert(has(&b, w));
    ck_assert_uint_eq(b.e.n, 5);
    unbuild(&b);
}
END_TEST

typedef struct good_conf {
    const char *greeting;
    int count;
    int strict;
    const char *must;
    int64_t timeout_ms;
    int64_t limit;
    int colour;
    const char *file;
} good_conf;

static const good_conf *last_conf(void)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/plugins/out_good_transport.so", tmpdir);
    void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    ck_assert_ptr_nonnull(h);
    const good_conf *const *p = dlsym(h, "good_last_conf");
    ck_assert_ptr_nonnull(p);
    dlclose(h);
    return *p;
}

START_TEST(defaults_and_values_reach_the_struct)
{
    built b;
    build(&b, "good_transport", "{\"must\": \"x\"}", "{}");
    ck_assert_ptr_nonnull(b.rt);
    const good_conf *c = last_conf();
    ck_assert_str_eq(c->greeting, "hello");
    ck_assert_int_eq(c->count, 3);
    ck_assert_int_eq(c->strict, 0);
    ck_assert_str_eq(c->must, "x");
    ck_assert_int_eq(c->timeout_ms, 30000);
    ck_assert_int_eq(c->limit, 1 << 20);
    ck_assert_int_eq(c->colour, 1);
    ck_assert_ptr_null(c->file);
    /* the core's defaults come from the same kind of table */
    const zv_policy *pol = &b.cfg->dests[0].policy;
    ck_assert_int_eq(pol->timeout_ms, 30000);
    ck_assert_int_eq(pol->batch_window_s, 60);
    ck_assert_int_eq(pol->max_bytes, 8 << 20);
    ck_assert_str_eq(pol->schedule, "event");
    ck_assert_int_eq(b.cfg->http_limits.max_header_size, 16 * 1024);
    ck_assert_int_eq(b.cfg->retention_s, 30 * 86400);
    unbuild(&b);

    build(&b, "good_transport",
          "{\"must\": \"x\", \"count\": 10, \"strict\": true, \"timeout\": \"1h\", "
          "\"limit\": \"2MiB\", \"colour\": \"blue\", \"file\": \"certs/a.pem\"}",
          "{\"schedule\": \"monthly\", \"max_bytes\": \"64KiB\", \"batch_window\": \"1500ms\"}");
    ck_assert_ptr_nonnull(b.rt);
    c = last_conf();
    ck_assert_int_eq(c->count, 10);
    ck_assert_int_eq(c->strict, 1);
    ck_assert_int_eq(c->timeout_ms, 3600 * 1000);
    ck_assert_int_eq(c->limit, 2 << 20);
    ck_assert_int_eq(c->colour, 2);
    char want[600];
    snprintf(want, sizeof(want), "%s/certs/a.pem", b.cfg->dir);
    ck_assert_str_eq(c->file, want);
    pol = &b.cfg->dests[0].policy;
    ck_assert_str_eq(pol->schedule, "monthly");
    ck_assert_int_eq(pol->max_bytes, 64 * 1024);
    ck_assert_int_eq(pol->batch_window_s, 1); /* whole seconds, rounded down */
    unbuild(&b);
}
END_TEST

START_TEST(value_syntax)
{
    int64_t x;
    ck_assert_int_eq(zv_opt_size_text("8MiB", &x), 0);
    ck_assert_int_eq(x, 8 << 20);
    ck_assert_int_eq(zv_opt_size_text("64kb", &x), 0);
    ck_assert_int_eq(x, 64000);
    ck_assert_int_eq(zv_opt_size_text("4G", &x), 0);
    ck_assert_int_eq(x, 4LL << 30);
    ck_assert_int_eq(zv_opt_size_text("1.5MiB", &x), -1);
    ck_assert_int_eq(zv_opt_size_text("-1", &x), -1);
    ck_assert_int_eq(zv_opt_size_text("99999999999GiB", &x), -1);
    ck_assert_int_eq(zv_opt_duration_text_ms("500ms", &x), 0);
    ck_assert_int_eq(x, 500);
    ck_assert_int_eq(zv_opt_duration_text_ms("90", &x), 0);
    ck_assert_int_eq(x, 90000);
    ck_assert_int_eq(zv_opt_duration_text_ms("7d", &x), 0);
    ck_assert_int_eq(x, 7LL * 86400 * 1000);
    ck_assert_int_eq(zv_opt_duration_text_ms("7 days", &x), -1);
    ck_assert_int_eq(zv_opt_duration_text_ms("9223372036854775807s", &x), -1);
    ck_assert_int_eq(zv_opt_duration_text_ms("", &x), -1);
    ck_assert_int_eq(zv_opt_choice("jw|wmo", "wmo"), 1);
    ck_assert_int_eq(zv_opt_choice("jw|wmo", "w"), -1);
}
END_TEST

/* A broken table is refused when the plugin is loaded, naming the option. */
START_TEST(broken_tables_refused)
{
    typedef struct c2 {
        int a, b;
    } c2;
    const zv_option overlap[] = {
        {.name = "a", .type = ZV_OPT_INT, ZV_OPT_AT(c2, a)},
        {.name = "b", .type = ZV_OPT_INT}, /* offset forgotten: also a */
    };
    zv_optspec s = {.options = overlap, .count = 2, .conf_size = sizeof(c2)};
    char err[256];
    ck_assert_int_eq(zv_optspec_check(&s, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "option 'b': its member overlaps the one of 'a' (offset missing?)");
    const zv_option baddef[] = {
        {.name = "t", .type = ZV_OPT_DURATION, .def = "soon"},
    };
    s = (zv_optspec){.options = baddef, .count = 1};
    ck_assert_int_eq(zv_optspec_check(&s, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "option 't': bad default \"soon\": malformed duration (use e.g. "
                          "\"500ms\", \"30s\", \"5m\", \"7d\")");
    const zv_option range[] = {
        {.name = "n", .type = ZV_OPT_INT, .def = "0", .min = 1},
    };
    s = (zv_optspec){.options = range, .count = 1};
    ck_assert_int_eq(zv_optspec_check(&s, err, sizeof(err)), -1);
    for (size_t t = 0; t < zv_conf_ntables; t++)
        ck_assert_msg(zv_optspec_check(&zv_conf_tables[t].spec, err, sizeof(err)) == 0, "%s: %s",
                      zv_conf_tables[t].path, err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("options");
    TCase *tc = tcase_create("options");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, same_duration_in_core_and_plugin);
    tcase_add_test(tc, durations_typed_everywhere);
    tcase_add_test(tc, ranges_and_enums_refused);
    tcase_add_test(tc, defaults_and_values_reach_the_struct);
    tcase_add_test(tc, value_syntax);
    tcase_add_test(tc, broken_tables_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    zv_plugins_unload_all();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
