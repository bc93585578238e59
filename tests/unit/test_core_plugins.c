/* Plugin loading: a good plugin, a wrong ABI, an ABI-1 plugin, no descriptor, a short
 * descriptor, a file that is not a shared object, a missing file. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/plugin_loader.h"

static const char *dir(void)
{
    const char *d = getenv("ZV_TEST_PLUGIN_DIR");
    ck_assert_msg(d != NULL, "ZV_TEST_PLUGIN_DIR not set (run through ctest)");
    return d;
}

START_TEST(good_plugin_loads)
{
    char err[1024] = "";
    const zv_plugin_descriptor *d =
        zv_plugin_open(dir(), ZV_PLUGIN_TRANSPORT, "good_transport", err, sizeof(err));
    ck_assert_msg(d != NULL, "%s", err);
    ck_assert_str_eq(d->name, "good");
    ck_assert_int_eq(d->abi_major, ZV_ABI_MAJOR);
    /* asking for it as another kind is refused, with both kinds named */
    ck_assert_ptr_null(zv_plugin_open(dir(), ZV_PLUGIN_SOURCE, "good_transport", err, sizeof(err)));
    ck_assert_msg(strstr(err, "in_good_transport.so") && strstr(err, "not found"), "%s", err);
}
END_TEST

START_TEST(wrong_abi_refused)
{
    char err[1024] = "";
    ck_assert_ptr_null(zv_plugin_open(dir(), ZV_PLUGIN_TRANSPORT, "wrong_abi", err, sizeof(err)));
    char want[128];
    snprintf(want, sizeof(want),
             "plugin ABI %d.0 is not supported: this zinvold provides ABI %d.%d", ZV_ABI_MAJOR + 1,
             ZV_ABI_MAJOR, ZV_ABI_MINOR);
    ck_assert_msg(strstr(err, "out_wrong_abi.so: ") && strstr(err, want), "%s", err);
}
END_TEST

/* A plugin built for ABI 1 (fixture abi1_plugin.c carries a 1.2
 * descriptor) is refused, and the message says it is ABI 1 and what to do. */
START_TEST(abi1_plugin_refused)
{
    char err[1024] = "";
    ck_assert_ptr_null(zv_plugin_open(dir(), ZV_PLUGIN_TRANSPORT, "abi1_plugin", err, sizeof(err)));
    char want[160];
    snprintf(want, sizeof(want),
             "plugin built for zinvol plugin ABI 1 (1.2), which this zinvold no longer loads: "
             "it provides ABI %d.%d",
             ZV_ABI_MAJOR, ZV_ABI_MINOR);
    ck_assert_msg(strstr(err, "out_abi1_plugin.so: ") && strstr(err, want), "%s", err);
    ck_assert_msg(strstr(err, "rebuild the plugin against this version's headers"), "%s", err);
}
END_TEST

START_TEST(missing_descriptor_refused)
{
    char err[1024] = "";
    ck_assert_ptr_null(
        zv_plugin_open(dir(), ZV_PLUGIN_TRANSPORT, "no_descriptor", err, sizeof(err)));
    ck_assert_msg(strstr(err, "out_no_descriptor.so: exports no 'zv_plugin' descriptor"), "%s",
                  err);
}
END_TEST

START_TEST(short_descriptor_refused)
{
    char err[1024] = "";
    ck_assert_ptr_null(
        zv_plugin_open(dir(), ZV_PLUGIN_TRANSPORT, "short_descriptor", err, sizeof(err)));
    ck_assert_msg(strstr(err, "descriptor is 12 bytes") && strstr(err, "broken plugin"), "%s", err);
}
END_TEST

START_TEST(not_a_shared_object_refused)
{
    char err[1024] = "";
    ck_assert_ptr_null(zv_plugin_open(dir(), ZV_PLUGIN_TRANSPORT, "notelf", err, sizeof(err)));
    ck_assert_msg(strstr(err, "out_notelf.so: cannot load as a shared object"), "%s", err);
}
END_TEST

START_TEST(missing_file_and_bad_names)
{
    char err[1024] = "";
    ck_assert_ptr_null(zv_plugin_open(dir(), ZV_PLUGIN_FORMAT, "nope", err, sizeof(err)));
    ck_assert_msg(strstr(err, "fmt_nope.so: plugin not found"), "%s", err);
    ck_assert_ptr_null(zv_plugin_open(dir(), ZV_PLUGIN_FORMAT, "../etc/x", err, sizeof(err)));
    ck_assert_msg(strstr(err, "plain name"), "%s", err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugins");
    TCase *tc = tcase_create("loader");
    tcase_add_test(tc, good_plugin_loads);
    tcase_add_test(tc, wrong_abi_refused);
    tcase_add_test(tc, abi1_plugin_refused);
    tcase_add_test(tc, missing_descriptor_refused);
    tcase_add_test(tc, short_descriptor_refused);
    tcase_add_test(tc, not_a_shared_object_refused);
    tcase_add_test(tc, missing_file_and_bad_names);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    zv_plugins_unload_all();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
