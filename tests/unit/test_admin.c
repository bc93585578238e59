/* The admin.*, metrics.*, health.* keys and the API's small parsers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin/admin.h"
#include "core/config.h"

static char tmpdir[256];

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/zv-admin-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Load {"state_dir": tmp, <extra>} and return the config or the errors. */
static zv_config *load(const char *extra, zv_errors *e)
{
    char path[512], text[4096];
    snprintf(path, sizeof(path), "%s/z.conf", tmpdir);
    snprintf(text, sizeof(text), "{\"state_dir\": \"%s\"%s%s}", tmpdir, *extra ? ", " : "", extra);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    zv_errors_init(e);
    return zv_config_load(path, NULL, e);
}

static int has(const zv_errors *e, const char *needle)
{
    for (size_t i = 0; i < e->n; i++)
        if (strstr(e->lines[i], needle)) return 1;
    return 0;
}

START_TEST(defaults)
{
    zv_errors e;
    zv_config *c = load("", &e);
    ck_assert_ptr_nonnull(c);
    char want[512];
    snprintf(want, sizeof(want), "%s/admin.sock", tmpdir);
    ck_assert_str_eq(c->admin.socket, want);
    ck_assert_int_eq(c->admin.socket_mode, 0660);
    ck_assert_ptr_null(c->admin.listen);
    ck_assert_int_eq(c->admin.max_pending_age_s, 3600);
    ck_assert_uint_eq(strlen(c->admin.config_sha256), 64);
    zv_config_free(c);
    zv_errors_free(&e);
}
END_TEST

START_TEST(tcp_needs_tls_and_tokens)
{
    zv_errors e;
    ck_assert_ptr_null(load("\"admin\": {\"listen\": \"127.0.0.1:9000\"}", &e));
    ck_assert(has(&e, "admin.listen: a TCP admin listener needs TLS"));
    ck_assert(has(&e, "admin.listen: a TCP admin listener needs at least one bearer token"));
    zv_errors_free(&e);
    ck_assert_ptr_null(load("\"admin\": {\"listen\": \"127.0.0.1:9000\", \"tls_cert\": \"c.pem\", "
                            "\"tls_key\": \"k.pem\", \"tokens\": {\"ops\": \"short\"}}",
                            &e));
    ck_assert(has(&e, "admin.tokens.ops: a token is a string of at least 16 characters"));
    ck_assert(has(&e, "admin.tls_cert: cannot read"));
    zv_errors_free(&e);
    ck_assert_ptr_null(load("\"admin\": {\"tokens\": {\"ops\": \"0123456789abcdef\"}}", &e));
    ck_assert(has(&e, "set listen too"));
    zv_errors_free(&e);
}
END_TEST

START_TEST(bad_values)
{
    zv_errors e;
    ck_assert_ptr_null(load("\"admin\": {\"socket_mode\": \"0666\", \"frob\": 1}, "
                            "\"metrics\": {\"port\": 1}, \"health\": {\"max_pending_age\": \"x\"}",
                            &e));
    ck_assert(has(&e, "admin.socket_mode: an octal file mode"));
    ck_assert(has(&e, "admin.frob: unknown key"));
    ck_assert(has(&e, "metrics.port: unknown key"));
    ck_assert(has(&e, "health.max_pending_age: malformed duration"));
    zv_errors_free(&e);
    char longpath[300];
    memset(longpath, 'a', 200);
    longpath[200] = '\0';
    char extra[400];
    snprintf(extra, sizeof(extra), "\"admin\": {\"socket\": \"/tmp/%s\"}", longpath);
    ck_assert_ptr_null(load(extra, &e));
    ck_assert(has(&e, "admin.socket: the admin socket path"));
    zv_errors_free(&e);
}
END_TEST

START_TEST(query_params)
{
    char b[64];
    ck_assert_str_eq(zv_admin_query("a=1&state=pending&x=y", "state", b, sizeof(b)), "pending");
    ck_assert_str_eq(zv_admin_query("q=client.sex%3A+X%27", "q", b, sizeof(b)), "client.sex: X'");
    ck_assert_ptr_null(zv_admin_query("states=x", "state", b, sizeof(b)));
    ck_assert_ptr_null(zv_admin_query("state=", "state", b, sizeof(b)));
    ck_assert_ptr_null(zv_admin_query(NULL, "state", b, sizeof(b)));
    /* A broken escape is kept as it is, never read past the value. */
    ck_assert_str_eq(zv_admin_query("q=%4", "q", b, sizeof(b)), "%4");
    char tiny[4];
    ck_assert_str_eq(zv_admin_query("q=abcdef", "q", tiny, sizeof(tiny)), "abc");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("admin");
    TCase *t = tcase_create("config");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, defaults);
    tcase_add_test(t, tcp_needs_tls_and_tokens);
    tcase_add_test(t, bad_values);
    tcase_add_test(t, query_params);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
