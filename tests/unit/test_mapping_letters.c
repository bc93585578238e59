/* The "letters" converter: ECD initials with dots become iStandaarden
 * Voorletters (letters only), accents kept. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mapping/mapping.h"

static zv_record *map_initials(const char *value)
{
    const char *spec = "{\"records\": [{\"kind\": \"client\", \"fields\": {"
                       "\"client.bsn\": \"bsn\","
                       "\"client.initials\": {\"from\": \"vl\", \"convert\": [\"letters\"]}}}]}";
    char err[256];
    zv_json_doc *doc = zv_json_parse(spec, strlen(spec), 0, err, sizeof(err));
    ck_assert_ptr_nonnull(doc);
    zv_errors e;
    zv_errors_init(&e);
    zv_mapping *m = zv_mapping_compile(zv_json_root(doc), "t", "t.conf", "mapping", &e);
    ck_assert_msg(m != NULL, "%s", e.n ? e.lines[0] : "?");
    zv_item_field f[] = {{"bsn", "999996708", 9}, {"vl", value, strlen(value)}};
    zv_item item = {ZV_SIZED(zv_item), NULL, "r1", f, 2, sizeof(zv_item_field)};
    char field[64], reason[256];
    zv_record *r = zv_mapping_apply(m, &item, 0, field, sizeof(field), reason, sizeof(reason));
    zv_mapping_free(m);
    zv_errors_free(&e);
    zv_json_free(doc);
    return r;
}

START_TEST(initials_lose_dots_and_spaces)
{
    zv_record *r = map_initials("J.P. ");
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(zv_rec_str(r, ZV_F_CLIENT_INITIALS), "JP");
    zv_record_free(r);
    r = map_initials("\xc3\x89.M."); /* É.M. */
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(zv_rec_str(r, ZV_F_CLIENT_INITIALS), "\xc3\x89M");
    zv_record_free(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mapping-letters");
    TCase *tc = tcase_create("letters");
    tcase_add_test(tc, initials_lose_dots_and_spaces);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
