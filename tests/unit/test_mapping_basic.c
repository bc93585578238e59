/* Mapping layer: config validation, converters, type checks, quarantine JSON. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

#include "mapping/mapping.h"
#include "mapping/mapping_int.h"

static const char *SPEC =
    "{\"record_id\": \"/id\", \"records\": ["
    " {\"when\": {\"type\": \"Patient\"}, \"kind\": \"client\", \"fields\": {"
    "   \"client.bsn\": {\"from\": \"/bsn\", \"convert\": [\"trim\"]},"
    "   \"client.sex\": {\"from\": \"geslacht\", \"convert\": [\"trim\", \"upper\"],"
    "                  \"map\": {\"M\": \"1\", \"V\": \"2\", \"O\": \"0\"}},"
    "   \"client.birth_date\": {\"from\": \"geboortedatum\", \"date_format\": \"%d-%m-%Y\"},"
    "   \"client.postcode\": \"postcode\","
    "   \"client.family_name\": {\"from\": \"naam\", \"convert\": [\"collapse\"]}}},"
    " {\"kind\": \"delivery\", \"required\": [\"delivery.provider_agb\"], \"fields\": {"
    "   \"client.bsn\": \"/bsn\", \"entitlement.law\": {\"value\": \"wlz\"},"
    "   \"entitlement.funder\": {\"from\": \"/zk\", \"default\": \"5501\"},"
    "   \"delivery.start\": {\"from\": \"/start\", \"date_format\": [\"%d-%m-%Y\", \"%Y%m%d\"]},"
    "   \"delivery.provider_agb\": \"/agb\","
    "   \"declaration.volume\": \"/volume\","
    "   \"declaration.amount\": {\"from\": \"/bedrag\", \"convert\": [\"euro\"]}}}]}";

static zv_mapping *compile(const char *text, zv_errors *errs)
{
    char err[256];
    zv_json_doc *d = zv_json_parse(text, strlen(text), 0, err, sizeof(err));
    ck_assert_msg(d != NULL, "%s", err);
    zv_errors_init(errs);
    zv_mapping *m =
        zv_mapping_compile(zv_json_root(d), "ons", "test.conf", "sources[0].mapping", errs);
    zv_json_free(d);
    return m;
}

#define F(p, v)                                                                                    \
    {                                                                                              \
        p, v, sizeof(v) - 1                                                                        \
    }

START_TEST(maps_client)
{
    zv_errors e;
    zv_mapping *m = compile(SPEC, &e);
    ck_assert_msg(m != NULL, "%s", e.n ? e.lines[0] : "");
    zv_item_field f[] = {F("/id", "c1"),           F("/bsn", " 999900006 "),
                         F("geslacht", " v"),      F("geboortedatum", "3-7-1941"),
                         F("postcode", "1234 ab"), F("naam", "  van   Dam "),
                         F("ignored", "x")};
    zv_item it = {ZV_SIZED(zv_item), "Patient", NULL, f, 7, sizeof(zv_item_field)};
    char field[64], reason[256];
    zv_record *r = zv_mapping_apply(m, &it, 100, field, sizeof(field), reason, sizeof(reason));
    ck_assert_msg(r != NULL, "%s: %s", field, reason);
    ck_assert_int_eq(r->kind, ZV_KIND_CLIENT);
    ck_assert_str_eq(r->prov.record_id, "c1");
    ck_assert_str_eq(r->prov.source, "ons");
    ck_assert_str_eq(zv_rec_str(r, ZV_F_CLIENT_BSN), "999900006");
    ck_assert_str_eq(zv_rec_str(r, ZV_F_CLIENT_SEX), "2");
    ck_assert_str_eq(zv_rec_str(r, ZV_F_CLIENT_BIRTH_DATE), "1941-07-03");
    ck_assert_str_eq(zv_rec_str(r, ZV_F_CLIENT_POSTCODE), "1234AB");
    ck_assert_str_eq(zv_rec_str(r, ZV_F_CLIENT_FAMILY_NAME), "van Dam");
    zv_record_free(r);
    int ids[ZV_FIELD_COUNT];
    size_t n = zv_mapping_fields(m, ids, ZV_FIELD_COUNT);
    ck_assert_uint_eq(n, 11);
    zv_mapping_free(m);
    zv_errors_free(&e);
}
END_TEST

static void expect_fail(zv_mapping *m, zv_item *it, const char *want_field, const char *want_in)
{
    char field[64], reason[256];
    zv_record *r = zv_mapping_apply(m, it, 1, field, sizeof(field), reason, sizeof(reason));
    ck_assert_ptr_null(r);
    ck_assert_str_eq(field, want_field);
    ck_assert_msg(strstr(reason, want_in) != NULL, "reason '%s' lacks '%s'", reason, want_in);
    /* Never a BSN in clear. */
    ck_assert_ptr_null(strstr(reason, "999900006"));
    ck_assert_ptr_null(strstr(reason, "999900018"));
}

START_TEST(failures_name_the_field)
{
    zv_errors e;
    zv_mapping *m = compile(SPEC, &e);
    ck_assert_ptr_nonnull(m);
    zv_item_field bad_bsn[] = {F("/bsn", "999900007")};
    zv_item it = {ZV_SIZED(zv_item), "Patient", "x", bad_bsn, 1, sizeof(zv_item_field)};
    expect_fail(m, &it, "client.bsn", "elfproef");
    zv_item_field bad_date[] = {F("/bsn", "999900006"), F("geboortedatum", "31-02-1950")};
    it = (zv_item){ZV_SIZED(zv_item), "Patient", "x", bad_date, 2, sizeof(zv_item_field)};
    expect_fail(m, &it, "client.birth_date", "not a real date");
    zv_item_field future[] = {F("/bsn", "999900006"), F("geboortedatum", "01-01-2999")};
    it = (zv_item){ZV_SIZED(zv_item), "Patient", "x", future, 2, sizeof(zv_item_field)};
    expect_fail(m, &it, "client.birth_date", "future");
    zv_item_field sex[] = {F("/bsn", "999900006"), F("geslacht", "X")};
    it = (zv_item){ZV_SIZED(zv_item), "Patient", "x", sex, 2, sizeof(zv_item_field)};
    expect_fail(m, &it, "client.sex", "not in the code map");
    zv_item_field pc[] = {F("/bsn", "999900006"), F("postcode", "0123AB")};
    it = (zv_item){ZV_SIZED(zv_item), "Patient", "x", pc, 2, sizeof(zv_item_field)};
    expect_fail(m, &it, "client.postcode", "postcode");
    zv_item_field nobsn[] = {F("naam", "999900018")}; /* a BSN in the wrong column */
    it = (zv_item){ZV_SIZED(zv_item), "Patient", "x", nobsn, 1, sizeof(zv_item_field)};
    expect_fail(m, &it, "client.bsn", "required");
    /* delivery rule: AGB required, future start allowed, formats tried in order */
    zv_item_field del[] = {F("/bsn", "999900006"), F("/start", "20990101"), F("/agb", "1234567")};
    it = (zv_item){ZV_SIZED(zv_item), "Delivery", "d1", del, 3, sizeof(zv_item_field)};
    expect_fail(m, &it, "delivery.provider_agb", "AGB");
    zv_item_field del2[] = {F("/bsn", "999900006"), F("/start", "2024-01-01")};
    it = (zv_item){ZV_SIZED(zv_item), "Delivery", "d1", del2, 2, sizeof(zv_item_field)};
    expect_fail(m, &it, "delivery.start", "%d-%m-%Y");
    zv_item_field del3[] = {F("/bsn", "999900006"), F("/start", "01-01-2024"),
                            F("/agb", "12345678"), F("/volume", "1x")};
    it = (zv_item){ZV_SIZED(zv_item), "Delivery", "d1", del3, 4, sizeof(zv_item_field)};
    expect_fail(m, &it, "declaration.volume", "whole number");
    zv_mapping_free(m);
    zv_errors_free(&e);
}
END_TEST

START_TEST(delivery_defaults_and_amounts)
{
    zv_errors e;
    zv_mapping *m = compile(SPEC, &e);
    zv_item_field del[] = {F("/bsn", "99990006"), F("/start", "20990101"), F("/agb", "12345678"),
                           F("/volume", "007"), F("/bedrag", "1.234,5")};
    zv_item it = {ZV_SIZED(zv_item), "Delivery", "d1", del, 5, sizeof(zv_item_field)};
    char field[64], reason[256];
    zv_record *r = zv_mapping_apply(m, &it, 1, field, sizeof(field), reason, sizeof(reason));
    /* 8 digits: a BSN that lost its leading zero; 099990006 fails the elfproef. */
    ck_assert_ptr_null(r);
    ck_assert_str_eq(field, "client.bsn");
    del[0] = (zv_item_field)F("/bsn", "999900006");
    r = zv_mapping_apply(m, &it, 1, field, sizeof(field), reason, sizeof(reason));
    ck_assert_msg(r != NULL, "%s: %s", field, reason);
    ck_assert_int_eq(r->kind, ZV_KIND_DELIVERY);
    ck_assert_str_eq(zv_rec_str(r, ZV_F_ENT_LAW), "wlz");
    ck_assert_str_eq(zv_rec_str(r, ZV_F_ENT_FUNDER), "5501");
    ck_assert_str_eq(zv_rec_str(r, ZV_F_DEL_START), "2099-01-01");
    ck_assert_str_eq(zv_rec_str(r, ZV_F_DECL_VOLUME), "7");
    ck_assert_str_eq(zv_rec_str(r, ZV_F_DECL_AMOUNT), "123450");
    ck_assert_str_eq(r->prov.record_id, "d1"); /* "/id" absent: the item's own id */
    zv_record_free(r);
    zv_mapping_free(m);
    zv_errors_free(&e);
}
END_TEST

START_TEST(config_errors_are_all_reported)
{
    zv_errors e;
    const char *bad =
        "{\"records\": [ {\"kind\": \"klant\", \"fields\": {\"client.bsn\": 5}},"
        " {\"kind\": \"client\", \"fields\": {\"client.nope\": \"x\","
        "   \"client.sex\": {\"from\": \"s\", \"convert\": [\"shout\"], \"colour\": 1},"
        "   \"client.family_name\": {\"from\": \"n\", \"date_format\": \"%d\"}}},"
        " {\"kind\": \"delivery\", \"fields\": {\"client.bsn\": \"b\","
        "   \"delivery.start\": {\"from\": \"s\", \"value\": \"x\", \"date_format\": \"%d/%m\"}}}],"
        " \"extra\": 1}";
    zv_mapping *m = compile(bad, &e);
    ck_assert_ptr_null(m);
    const char *want[] = {
        "test.conf: sources[0].mapping.extra: unknown key 'extra'",
        "test.conf: sources[0].mapping.records[0].kind: unknown kind 'klant'",
        "test.conf: sources[0].mapping.records[0].fields.client.bsn: must be a source path",
        "test.conf: sources[0].mapping.records[1].fields.client.nope: unknown model field",
        "records[1].fields.client.sex.convert[0]: unknown converter 'shout'",
        "records[1].fields.client.sex.colour: unknown key 'colour'",
        "records[1].fields.client.family_name.date_format: only for date fields",
        "records[1].fields: required field client.bsn has no mapping",
        "records[2].fields.delivery.start: needs exactly one of",
        "records[2].fields.delivery.start.date_format: date format '%d/%m' must contain",
        "records[2].fields: required field entitlement.law has no mapping",
        "records[2].fields: required field entitlement.funder has no mapping",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        int found = 0;
        for (size_t k = 0; k < e.n; k++)
            found |= strstr(e.lines[k], want[i]) != NULL;
        ck_assert_msg(found, "missing error: %s (got %zu errors, first: %s)", want[i], e.n,
                      e.n ? e.lines[0] : "");
    }
    zv_errors_free(&e);
}
END_TEST

START_TEST(no_rule_matches)
{
    zv_errors e;
    const char *spec = "{\"records\": [{\"when\": {\"field\": \"/soort\", \"in\": [\"a\", \"b\"]},"
                       " \"kind\": \"client\", \"fields\": {\"client.bsn\": \"/bsn\"}}]}";
    zv_mapping *m = compile(spec, &e);
    ck_assert_ptr_nonnull(m);
    zv_item_field f[] = {F("/bsn", "999900006"), F("/soort", "c")};
    zv_item it = {ZV_SIZED(zv_item), NULL, NULL, f, 2, sizeof(zv_item_field)};
    expect_fail(m, &it, "record", "no mapping rule");
    f[1] = (zv_item_field)F("/soort", "b");
    char field[64], reason[256];
    zv_record *r = zv_mapping_apply(m, &it, 1, field, sizeof(field), reason, sizeof(reason));
    ck_assert_ptr_nonnull(r);
    /* No id anywhere: a content hash, stable for the same item. */
    ck_assert_int_eq(strncmp(r->prov.record_id, "h:", 2), 0);
    zv_record *r2 = zv_mapping_apply(m, &it, 1, field, sizeof(field), reason, sizeof(reason));
    ck_assert_str_eq(r->prov.record_id, r2->prov.record_id);
    zv_record_free(r);
    zv_record_free(r2);
    zv_mapping_free(m);
    zv_errors_free(&e);
}
END_TEST

START_TEST(item_json_round_trip)
{
    zv_item_field f[] = {F("/a", "1"), F("name", "\"quoted\"\nline"), F("/a", "2")};
    zv_item it = {ZV_SIZED(zv_item), "Patient", "p/1", f, 3, sizeof(zv_item_field)};
    char *j = zv_item_to_json(&it);
    ck_assert_ptr_nonnull(j);
    zv_item *back = zv_item_from_json(j, strlen(j));
    ck_assert_ptr_nonnull(back);
    ck_assert_str_eq(back->type, "Patient");
    ck_assert_str_eq(back->record_id, "p/1");
    ck_assert_uint_eq(back->nfields, 3);
    ck_assert_str_eq(back->fields[1].value, "\"quoted\"\nline");
    ck_assert_str_eq(back->fields[2].path, "/a");
    char *j2 = zv_item_to_json(back);
    ck_assert_str_eq(j, j2);
    free(j);
    free(j2);
    zv_item_free_parsed(back);
    ck_assert_ptr_null(zv_item_from_json("{\"fields\": [[\"a\"]]}", 19));
    ck_assert_ptr_null(zv_item_from_json("nope", 4));
}
END_TEST

START_TEST(date_formats)
{
    char out[11];
    ck_assert_int_eq(zv_map_parse_date("2024-02-29", 10, NULL, out), 0);
    ck_assert_int_eq(zv_map_parse_date("2023-02-29", 10, NULL, out), -1);
    ck_assert_int_eq(zv_map_parse_date("2024-02-29T10:00:00Z", 20, NULL, out), 0);
    ck_assert_int_eq(zv_map_parse_date("20240229", 8, "%Y%m%d", out), 0);
    ck_assert_str_eq(out, "2024-02-29");
    ck_assert_int_eq(zv_map_parse_date("1/2/2024 10:11", 14, "%d/%m/%Y %H:%M", out), 0);
    ck_assert_str_eq(out, "2024-02-01");
    ck_assert_int_eq(zv_map_parse_date("1/2/2024x", 9, "%d/%m/%Y", out), -1);
    ck_assert_int_eq(zv_map_parse_date("13/13/2024", 10, "%d/%m/%Y", out), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mapping");
    TCase *tc = tcase_create("basic");
    tcase_add_test(tc, maps_client);
    tcase_add_test(tc, failures_name_the_field);
    tcase_add_test(tc, delivery_defaults_and_amounts);
    tcase_add_test(tc, config_errors_are_all_reported);
    tcase_add_test(tc, no_rule_matches);
    tcase_add_test(tc, item_json_round_trip);
    tcase_add_test(tc, date_formats);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
