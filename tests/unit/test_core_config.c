/* Config validation: each bad input gives the expected 'file: path: reason'. */
#include <check.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/plugin_loader.h"
#include "core/runtime.h"

static char tmpdir[256];

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/zv-config-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *write_conf(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Load text and assert that exactly the expected lines come out. */
static void expect_errors(const char *text, const char *const *want)
{
    const char *path = write_conf("zinvol.conf", text);
    zv_errors e;
    zv_errors_init(&e);
    zv_config *cfg = zv_config_load(path, NULL, &e);
    size_t nwant = 0;
    while (want[nwant])
        nwant++;
    for (size_t i = 0; i < e.n; i++)
        fprintf(stderr, "got: %s\n", e.lines[i]);
    ck_assert_ptr_null(cfg);
    ck_assert_uint_eq(e.n, nwant);
    for (size_t i = 0; i < nwant; i++) {
        char full[1024];
        snprintf(full, sizeof(full), "%s: %s", path, want[i]);
        ck_assert_str_eq(e.lines[i], full);
    }
    zv_errors_free(&e);
}

START_TEST(broken_json)
{
    const char *want[] = {"line 3, column 13: unallowed token at this point in JSON text", NULL};
    expect_errors("{\n  \"log_level\": \"info\",\n  \"store\": ,\n}\n", want);
}
END_TEST

START_TEST(missing_file)
{
    zv_errors e;
    zv_errors_init(&e);
    ck_assert_ptr_null(zv_config_load("/nonexistent/zinvol.conf", NULL, &e));
    ck_assert_uint_eq(e.n, 1);
    ck_assert_str_eq(e.lines[0],
                     "/nonexistent/zinvol.conf: cannot open: No such file or directory");
    zv_errors_free(&e);
}
END_TEST

START_TEST(wrong_types_and_unknown_keys)
{
    const char *want[] = {
        "state_dir: expected string, got number",
        "sourcez: unknown key",
        "retention: expected a duration like \"500ms\", \"30s\", \"5m\", \"7d\", got boolean",
        "log_level: unknown value \"loud\" (expected error, warning, notice, info, debug or "
        "warn)",
        "organisation.agb: an AGB code has 8 digits",
        NULL};
    expect_errors("{\"state_dir\": 5, \"sourcez\": [], \"retention\": true, "
                  "\"log_level\": \"loud\", \"organisation\": {\"agb\": \"123\"}}",
                  want);
}
END_TEST

START_TEST(destination_problems)
{
    const char *want[] = {
        "destinations[0].format: missing (required)",
        "destinations[0].policy.threshold: unknown value \"lawful\" (expected law, standard, "
        "regulator, contract, sector, internal or none)",
        "destinations[0].policy.schedule: unknown value \"hourly\" (expected event, daily, "
        "weekly, monthly, quarterly, half-yearly, yearly or 3-yearly)",
        "destinations[0].policy.max_age: malformed duration (use e.g. \"500ms\", \"30s\", \"5m\", "
        "\"7d\")",
        "destinations[0].policy.concurrency: expected a whole number from 1 to 256",
        "destinations[1].colour: unknown key",
        "destinations[1].name: duplicate destination name \"zk\"",
        "destinations[2]: expected object, got string",
        NULL};
    expect_errors(
        "{\"destinations\": [\n"
        " {\"name\": \"zk\", \"transport\": \"filedrop\", \"policy\": {\"threshold\": \"lawful\",\n"
        "   \"schedule\": \"hourly\", \"max_age\": \"7 days\", \"concurrency\": 0}},\n"
        " {\"name\": \"zk\", \"format\": \"json\", \"transport\": \"filedrop\", \"colour\": 1},\n"
        " \"oops\"]}",
        want);
}
END_TEST

START_TEST(source_problems)
{
    const char *want[] = {
        "sources[0].mapping: missing (required)",
        "sources[0].name: use lower-case letters, digits, '-' and '_' (at most 64)",
        "sources[1].type: missing (required)", NULL};
    expect_errors("{\"sources\": [{\"name\": \"Bad Name\", \"type\": \"filedrop\"},\n"
                  "  {\"name\": \"ok\", \"mapping\": {}}]}",
                  want);
}
END_TEST

START_TEST(comments_and_defaults)
{
    const char *path = write_conf("zinvol.conf", "{\n  // state under the test dir\n"
                                                 "  \"state_dir\": \"state\", /* relative */\n"
                                                 "  \"policy_free\": null\n}\n");
    zv_errors e;
    zv_errors_init(&e);
    zv_config *cfg = zv_config_load(path, NULL, &e);
    /* policy_free is unknown: comments are fine, unknown keys are not */
    ck_assert_ptr_null(cfg);
    ck_assert_uint_eq(e.n, 1);
    zv_errors_free(&e);
    path = write_conf("zinvol.conf", "{\n  // state under the test dir\n"
                                     "  \"state_dir\": \"state\" /* relative */\n}\n");
    zv_errors_init(&e);
    cfg = zv_config_load(path, NULL, &e);
    ck_assert_ptr_nonnull(cfg);
    char want[512];
    snprintf(want, sizeof(want), "%s/state/zinvol.db", tmpdir);
    ck_assert_str_eq(cfg->store_path, want);
    ck_assert_int_eq(cfg->retention_s, 30 * 86400);
    zv_config_free(cfg);
    zv_errors_free(&e);
}
END_TEST

/* Plugin options are checked against the plugin's own declaration. */
START_TEST(plugin_options_checked)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "mkdir -p %s/plugins && ln -sf %s/fmt_json.so %s/plugins/ && "
             "ln -sf %s/out_good_transport.so %s/plugins/",
             tmpdir, getenv("ZV_PLUGIN_DIR"), tmpdir, getenv("ZV_TEST_PLUGIN_DIR"), tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    char text[2048];
    snprintf(
        text, sizeof(text),
        "{\"plugin_dir\": \"plugins\", \"catalogue_dir\": \"%s/conf/catalogue\",\n"
        " \"destinations\": [{\"name\": \"d\", \"format\": \"json\",\n"
        "   \"transport\": \"good_transport\", \"catalogue\": {\"file\": \"json-example.json\"},\n"
        "   \"transport_options\": {\"flavour\": \"red\", \"count\": \"three\"}}]}",
        getenv("ZV_SOURCE_DIR"));
    const char *path = write_conf("zinvol.conf", text);
    zv_errors e;
    zv_errors_init(&e);
    zv_config *cfg = zv_config_load(path, NULL, &e);
    ck_assert_ptr_nonnull(cfg);
    struct event_base *base = event_base_new();
    zv_runtime *rt = zv_runtime_build(cfg, base, ZV_RT_CHECK, &e);
    for (size_t i = 0; i < e.n; i++)
        fprintf(stderr, "got: %s\n", e.lines[i]);
    ck_assert_ptr_null(rt);
    const char *want[] = {
        "destinations[0].transport_options.flavour: unknown option for plugin 'good' (known: "
        "greeting, count, strict, must, timeout, limit, colour, file)",
        "destinations[0].transport_options.count: plugin 'good' expects integer, got string",
        "destinations[0].transport_options.must: missing: plugin 'good' requires it (a required "
        "string)",
        NULL};
    ck_assert_uint_eq(e.n, 3);
    for (size_t i = 0; want[i]; i++) {
        char full[1024];
        snprintf(full, sizeof(full), "%s: %s", path, want[i]);
        ck_assert_str_eq(e.lines[i], full);
    }
    zv_errors_free(&e);
    event_base_free(base);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, broken_json);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, wrong_types_and_unknown_keys);
    tcase_add_test(tc, destination_problems);
    tcase_add_test(tc, source_problems);
    tcase_add_test(tc, comments_and_defaults);
    tcase_add_test(tc, plugin_options_checked);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    zv_plugins_unload_all();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
