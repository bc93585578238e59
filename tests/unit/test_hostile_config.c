/*
 * Hostile configs (issue 10, D15): a value of the wrong type anywhere in the
 * file — an array where an object belongs, an object where a string belongs
 * — is an error naming the key, never a crash.  Every key the loader knows
 * is tried with every JSON type.  The http.limits section (issue 10, item 5)
 * has safe defaults and bounds.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

static char tmpdir[256];

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/zv-hostile-config-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Load text; returns the config (or NULL) and leaves the errors in *e. */
static zv_config *load(const char *text, zv_errors *e, char *path, size_t pathlen)
{
    snprintf(path, pathlen, "%s/zinvol.conf", tmpdir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    zv_errors_init(e);
    return zv_config_load(path, NULL, e);
}

static int has_error(const zv_errors *e, const char *path, const char *line)
{
    char full[1024];
    snprintf(full, sizeof(full), "%s: %s", path, line);
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->lines[i], full) == 0) return 1;
    return 0;
}

START_TEST(organisation_array)
{
    char path[512];
    zv_errors e;
    zv_config *cfg = load("{\"organisation\": [1]}", &e, path, sizeof(path));
    ck_assert_ptr_null(cfg);
    ck_assert(has_error(&e, path, "organisation: expected object, got array"));
    zv_errors_free(&e);
}
END_TEST

/* A template with one placeholder @ that each wrong value replaces. */
static const char *const templates[] = {
    "{\"state_dir\": @}",
    "{\"store\": @}",
    "{\"catalogue_dir\": @}",
    "{\"plugin_dir\": @}",
    "{\"log_level\": @}",
    "{\"retention\": @}",
    "{\"organisation\": @}",
    "{\"organisation\": {\"agb\": @, \"name\": @}}",
    "{\"http\": @}",
    "{\"http\": {\"listen\": @}}",
    "{\"http\": {\"limits\": @}}",
    "{\"http\": {\"limits\": {\"max_connections\": @, \"max_header_size\": @,"
    " \"max_body_size\": @, \"request_timeout\": @, \"idle_timeout\": @}}}",
    "{\"sources\": @}",
    "{\"sources\": [@]}",
    "{\"sources\": [{\"name\": @, \"type\": @, \"options\": @, \"mapping\": @}]}",
    "{\"destinations\": @}",
    "{\"destinations\": [@]}",
    "{\"destinations\": [{\"name\": @, \"format\": @, \"transport\": @, \"format_options\": @,"
    " \"transport_options\": @, \"catalogue\": @, \"match\": @, \"policy\": @}]}",
    "{\"destinations\": [{\"name\": \"d\", \"format\": \"json\", \"transport\": \"file\","
    " \"policy\": {\"threshold\": @, \"batch_window\": @, \"schedule\": @, \"max_age\": @,"
    " \"concurrency\": @, \"timeout\": @, \"backoff_initial\": @, \"backoff_max\": @,"
    " \"circuit_failures\": @, \"circuit_cooldown\": @}}]}",
    NULL};

static const char *const values[] = {"[1]",   "[]",   "{}", "{\"x\": [1]}", "[{\"a\": 1}]", "[[]]",
                                     "null",  "true", "5",  "-1",           "1e300",        "\"\"",
                                     "\"x\"", NULL};

START_TEST(every_key_every_type)
{
    size_t tried = 0;
    for (int t = 0; templates[t]; t++)
        for (int v = 0; values[v]; v++) {
            char text[2048] = "";
            size_t n = 0;
            for (const char *p = templates[t]; *p && n + 1 < sizeof(text); p++) {
                if (*p == '@') {
                    size_t l = strlen(values[v]);
                    ck_assert_uint_lt(n + l, sizeof(text));
                    memcpy(text + n, values[v], l);
                    n += l;
                } else {
                    text[n++] = *p;
                }
            }
            text[n] = '\0';
            char path[512];
            zv_errors e;
            zv_config *cfg = load(text, &e, path, sizeof(path));
            /* Whatever comes back, it came back; wrong types are errors. */
            if (cfg) ck_assert_uint_eq(e.n, 0);
            zv_config_free(cfg);
            zv_errors_free(&e);
            tried++;
        }
    ck_assert_uint_gt(tried, 200);
}
END_TEST

START_TEST(limits_defaults_and_bounds)
{
    char path[512];
    zv_errors e;
    zv_config *cfg = load("{\"state_dir\": \"/tmp/x\"}", &e, path, sizeof(path));
    ck_assert_ptr_nonnull(cfg);
    ck_assert_int_eq(cfg->http_limits.max_connections, 256);
    ck_assert_int_eq(cfg->http_limits.max_header_size, 16384);
    ck_assert_int_eq(cfg->http_limits.max_body_size, 1048576);
    ck_assert_int_eq(cfg->http_limits.request_timeout_ms, 20000);
    ck_assert_int_eq(cfg->http_limits.idle_timeout_ms, 30000);
    zv_config_free(cfg);
    zv_errors_free(&e);

    cfg = load("{\"http\": {\"limits\": {\"max_connections\": 10, \"max_header_size\": 4096,"
               " \"max_body_size\": 65536, \"request_timeout\": \"5s\", \"idle_timeout\": "
               "\"500ms\"}}}",
               &e, path, sizeof(path));
    ck_assert_ptr_nonnull(cfg);
    ck_assert_int_eq(cfg->http_limits.max_connections, 10);
    ck_assert_int_eq(cfg->http_limits.max_header_size, 4096);
    ck_assert_int_eq(cfg->http_limits.max_body_size, 65536);
    ck_assert_int_eq(cfg->http_limits.request_timeout_ms, 5000);
    ck_assert_int_eq(cfg->http_limits.idle_timeout_ms, 500);
    zv_config_free(cfg);
    zv_errors_free(&e);

    cfg = load("{\"http\": {\"limits\": {\"max_connections\": 0, \"max_header_size\": 10,"
               " \"max_bodysize\": 1, \"request_timeout\": \"soon\"}}}",
               &e, path, sizeof(path));
    ck_assert_ptr_null(cfg);
    ck_assert(has_error(&e, path,
                        "http.limits.max_connections: expected a whole number from 1 to 65536"));
    ck_assert(has_error(&e, path, "http.limits.max_header_size: must be at least 1 KiB"));
    ck_assert(has_error(&e, path, "http.limits.max_bodysize: unknown key"));
    ck_assert(has_error(
        &e, path,
        "http.limits.request_timeout: malformed duration (use e.g. \"500ms\", \"30s\", \"5m\", "
        "\"7d\")"));
    zv_errors_free(&e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hostile_config");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, organisation_array);
    tcase_add_test(tc, every_key_every_type);
    tcase_add_test(tc, limits_defaults_and_bounds);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
