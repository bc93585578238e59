/* Unit tests for the util library: JSON, BSN, dates, records. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>
#include <zinvol/model.h>
#include <zinvol/util.h>

START_TEST(json_parse_basic)
{
    char err[256];
    const char *t = "{\"a\": [1, 2, {\"b\": \"x~/y\"}], \"c\": true, \"d\": null, \"e\": -12}";
    zv_json_doc *d = zv_json_parse(t, strlen(t), 0, err, sizeof(err));
    ck_assert_ptr_nonnull(d);
    const zv_json *r = zv_json_root(d);
    ck_assert_int_eq(zv_json_type_of(r), ZV_JSON_OBJECT);
    ck_assert_uint_eq(zv_json_len(r), 4);
    ck_assert_uint_eq(zv_json_len(zv_json_get(r, "a")), 3);
    ck_assert_str_eq(zv_json_str(zv_json_pointer(r, "/a/2/b"), NULL), "x~/y");
    int64_t e;
    ck_assert_int_eq(zv_json_int(zv_json_get(r, "e"), &e), 0);
    ck_assert_int_eq(e, -12);
    int b;
    ck_assert_int_eq(zv_json_bool(zv_json_get(r, "c"), &b), 0);
    ck_assert_int_eq(b, 1);
    ck_assert_int_eq(zv_json_type_of(zv_json_get(r, "d")), ZV_JSON_NULL);
    ck_assert_ptr_null(zv_json_pointer(r, "/a/7"));
    zv_json_free(d);
}
END_TEST

START_TEST(json_comments_only_when_allowed)
{
    char err[256];
    const char *t = "{\n  // comment\n  \"a\": 1 /* block */\n}";
    zv_json_doc *d = zv_json_parse(t, strlen(t), 0, err, sizeof(err));
    ck_assert_ptr_null(d);
    d = zv_json_parse(t, strlen(t), ZV_JSON_COMMENTS, err, sizeof(err));
    ck_assert_ptr_nonnull(d);
    zv_json_free(d);
}
END_TEST

START_TEST(json_error_has_position)
{
    char err[256];
    const char *t = "{\n  \"a\": 1,\n  \"b\": }\n";
    zv_json_doc *d = zv_json_parse(t, strlen(t), 0, err, sizeof(err));
    ck_assert_ptr_null(d);
    ck_assert_msg(strncmp(err, "line 3,", 7) == 0, "got: %s", err);
}
END_TEST

START_TEST(json_write_roundtrip)
{
    zv_jw *w = zv_jw_new(0);
    zv_jw_obj_open(w);
    zv_jw_key(w, "s");
    zv_jw_str(w, "q\"uote");
    zv_jw_key(w, "n");
    zv_jw_int(w, 42);
    zv_jw_key(w, "l");
    zv_jw_arr_open(w);
    zv_jw_bool(w, 0);
    zv_jw_null(w);
    zv_jw_arr_close(w);
    zv_jw_obj_close(w);
    const char *out;
    size_t len;
    ck_assert_int_eq(zv_jw_result(w, &out, &len), 0);
    ck_assert_str_eq(out, "{\"s\":\"q\\\"uote\",\"n\":42,\"l\":[false,null]}");
    zv_jw_free(w);
}
END_TEST

START_TEST(bsn_elfproef)
{
    ck_assert_int_eq(zv_bsn_valid("999996708", 9), 1); /* test range, valid */
    ck_assert_int_eq(zv_bsn_valid("111222333", 9), 1);
    ck_assert_int_eq(zv_bsn_valid("123456789", 9), 0);
    ck_assert_int_eq(zv_bsn_valid("99999670", 8), 0);
    ck_assert_int_eq(zv_bsn_valid("99999670x", 9), 0);
    ck_assert_int_eq(zv_bsn_valid("000000000", 9), 0);
}
END_TEST

START_TEST(bsn_masking)
{
    char out[16];
    ck_assert_str_eq(zv_bsn_mask("999996708", out, sizeof(out)), "*****6708");
    ck_assert_str_eq(zv_bsn_mask("12", out, sizeof(out)), "*********");
    ck_assert_str_eq(zv_bsn_mask(NULL, out, sizeof(out)), "*********");
    char line[] = "client 999996708 rejected, ref 123456789 and 1999996708";
    zv_bsn_scrub(line);
    /* valid BSN masked; invalid 9-digit and 10-digit runs untouched */
    ck_assert_str_eq(line, "client *****6708 rejected, ref 123456789 and 1999996708");
}
END_TEST

START_TEST(dates)
{
    ck_assert_int_eq(zv_date_valid("2024-02-29", 10), 1);
    ck_assert_int_eq(zv_date_valid("2023-02-29", 10), 0);
    ck_assert_int_eq(zv_date_valid("2023-13-01", 10), 0);
    ck_assert_int_eq(zv_date_valid("2023-1-01", 9), 0);
    int64_t d;
    ck_assert_int_eq(zv_date_days("1970-01-02", &d), 0);
    ck_assert_int_eq(d, 1);
    ck_assert_int_eq(zv_duration_parse("7d"), 7 * 86400);
    ck_assert_int_eq(zv_duration_parse("90"), 90);
    ck_assert_int_eq(zv_duration_parse("5x"), -1);
    ck_assert_int_eq(zv_postcode_valid("1234AB", 6), 1);
    ck_assert_int_eq(zv_postcode_valid("0234AB", 6), 0);
    ck_assert_int_eq(zv_agb_valid("01234567", 8), 1);
}
END_TEST

START_TEST(model_registry)
{
    ck_assert_int_eq(zv_field_by_name("client.birth_date"), ZV_F_CLIENT_BIRTH_DATE);
    ck_assert_int_eq(zv_field_by_name("client.nope"), -1);
    const zv_field_def *f = zv_field_def_of(ZV_F_CLIENT_BSN);
    ck_assert_str_eq(f->name, "client.bsn");
    ck_assert_int_eq(f->type, ZV_T_BSN);
    ck_assert_int_eq(f->kind, ZV_KIND_CLIENT);
    ck_assert_ptr_null(zv_field_def_of(ZV_FIELD_COUNT));
    /* every name is unique and dotted with its kind as prefix */
    for (int i = 0; i < ZV_FIELD_COUNT; i++) {
        const zv_field_def *a = zv_field_def_of(i);
        ck_assert_int_eq(zv_field_by_name(a->name), i);
        const char *k = zv_kind_name(a->kind);
        ck_assert_msg(strncmp(a->name, k, strlen(k)) == 0 && a->name[strlen(k)] == '.',
                      "%s", a->name);
    }
}
END_TEST

START_TEST(record_encode_roundtrip)
{
    zv_record *r = zv_record_new(ZV_KIND_DELIVERY, "ons", "rec-1", 1700000000);
    ck_assert_int_eq(zv_record_set(r, ZV_F_CLIENT_BSN, "999996708", 9, NULL), 0);
    zv_provenance other = {"fhir", "Patient/7", 1700000100};
    ck_assert_int_eq(zv_record_set(r, ZV_F_CLIENT_BIRTH_DATE, "1950-01-01", 10, &other), 0);
    unsigned char *buf;
    size_t len;
    ck_assert_int_eq(zv_record_encode(r, &buf, &len), 0);
    zv_record *d = zv_record_decode(buf, len);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(d->kind, ZV_KIND_DELIVERY);
    ck_assert_str_eq(zv_rec_str(d, ZV_F_CLIENT_BSN), "999996708");
    ck_assert_str_eq(zv_rec_get(d, ZV_F_CLIENT_BSN)->prov->source, "ons");
    ck_assert_str_eq(zv_rec_get(d, ZV_F_CLIENT_BIRTH_DATE)->prov->record_id, "Patient/7");
    ck_assert_ptr_null(zv_rec_get(d, ZV_F_CLIENT_SEX));
    /* truncated or corrupted input is refused, never half-decoded */
    for (size_t cut = 0; cut < len; cut++) ck_assert_ptr_null(zv_record_decode(buf, cut));
    buf[0] = 99;
    ck_assert_ptr_null(zv_record_decode(buf, len));
    free(buf);
    zv_record *c = zv_record_copy(d);
    ck_assert_str_eq(zv_rec_str(c, ZV_F_CLIENT_BIRTH_DATE), "1950-01-01");
    zv_record_free(c);
    zv_record_free(d);
    zv_record_free(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("util");
    tcase_add_test(tc, json_parse_basic);
    tcase_add_test(tc, json_comments_only_when_allowed);
    tcase_add_test(tc, json_error_has_position);
    tcase_add_test(tc, json_write_roundtrip);
    tcase_add_test(tc, bsn_elfproef);
    tcase_add_test(tc, bsn_masking);
    tcase_add_test(tc, dates);
    tcase_add_test(tc, model_registry);
    tcase_add_test(tc, record_encode_roundtrip);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
