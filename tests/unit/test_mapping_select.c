/* Mapping: selection by meaning, join, alternatives, initials, optional
 * fields dropped with a reason, and the quarantine keeping what is read. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

#include "mapping/mapping.h"

static zv_mapping *compile(const char *text, zv_errors *errs)
{
    char err[256];
    zv_json_doc *d = zv_json_parse(text, strlen(text), 0, err, sizeof(err));
    ck_assert_msg(d != NULL, "%s", err);
    zv_errors_init(errs);
    zv_mapping *m = zv_mapping_compile(zv_json_root(d), "fhir", "t.conf", "mapping", errs);
    zv_json_free(d);
    return m;
}

#define F(p, v)                                                                                    \
    {                                                                                              \
        p, v, sizeof(v) - 1                                                                        \
    }

static const char *SPEC =
    "{\"on_error\": \"drop\", \"records\": [{\"kind\": \"client\", \"fields\": {"
    " \"client.bsn\": {\"from\": [\"P.identifier[system=urn:oid:2.16.840.1.113883.2.4.6.3].value\","
    "                \"P.identifier[system=bsn].value\"]},"
    " \"client.family_name\": \"P.name[use=official].family\","
    " \"client.given_names\": {\"from\": \"P.name[use=official].given[q!=IN]\", \"join\": \" \"},"
    " \"client.initials\": {\"from\": [\"P.name[use=official].given[q=IN]\","
    "                      \"P.name[use=official].given[*]\"], \"join\": \" \","
    "                      \"convert\": [\"initials\"]},"
    " \"client.postcode\": {\"from\": \"P.address[use=home,type!=postal].postalCode\","
    "                     \"country\": \"P.address[use=home,type!=postal].country\"},"
    " \"client.birth_date\": {\"from\": \"P.birthDate\", \"on_error\": \"quarantine\"},"
    " \"client.sex\": {\"from\": \"P.gender\", \"map\": {\"male\": \"1\"}}}}]}";

struct drops {
    int n;
    char field[4][64];
    char reason[4][256];
};

static void on_drop(void *arg, const char *field, const char *reason)
{
    struct drops *d = arg;
    if (d->n < 4) {
        snprintf(d->field[d->n], 64, "%s", field);
        snprintf(d->reason[d->n], 256, "%s", reason);
        d->n++;
    }
}

START_TEST(selects_by_meaning)
{
    zv_errors e;
    zv_mapping *m = compile(SPEC, &e);
    ck_assert_msg(m != NULL, "%s", e.n ? e.lines[0] : "");
    zv_item_field f[] = {
        F("P.identifier.system", "x"),
        F("P.identifier.value", "1"),
        F("P.identifier[1].system", "urn:oid:2.16.840.1.113883.2.4.6.3"),
        F("P.identifier[1].value", "999900006"),
        F("P.name.use", "usual"),
        F("P.name.given", "Jo"),
        F("P.name[1].use", "official"),
        F("P.name[1].family", "Dijk"),
        F("P.name[1].given", "Anna"),
        F("P.name[1].given[1]", "IJsbrand"),
        F("P.name[1].given[2]", "A."),
        F("P.name[1].given[2].q", "IN"),
        F("P.address.use", "home"),
        F("P.address.type", "postal"),
        F("P.address.postalCode", "1000AA"),
        F("P.address[1].use", "home"),
        F("P.address[1].postalCode", "2000"),
        F("P.address[1].country", "BE"),
        F("P.gender", "female"),
        F("P.text.div", "<div>999900006</div>"),
    };
    zv_item it = {ZV_SIZED(zv_item),    "Patient", "Patient/1", f, sizeof(f) / sizeof(f[0]),
                  sizeof(zv_item_field)};
    char field[64], reason[256];
    struct drops d = {0};
    zv_record *r =
        zv_mapping_apply_ex(m, &it, 1, field, sizeof(field), reason, sizeof(reason), on_drop, &d);
    ck_assert_msg(r != NULL, "%s: %s", field, reason);
    ck_assert_str_eq(zv_rec_str(r, ZV_F_CLIENT_BSN), "999900006");
    ck_assert_str_eq(zv_rec_str(r, ZV_F_CLIENT_FAMILY_NAME), "Dijk");
    ck_assert_str_eq(zv_rec_str(r, ZV_F_CLIENT_GIVEN_NAMES), "Anna IJsbrand");
    ck_assert_str_eq(zv_rec_str(r, ZV_F_CLIENT_INITIALS), "A");
    ck_assert_ptr_null(zv_rec_str(r, ZV_F_CLIENT_POSTCODE));
    ck_assert_ptr_null(zv_rec_str(r, ZV_F_CLIENT_SEX));
    ck_assert_int_eq(d.n, 2);
    ck_assert_str_eq(d.field[0], "client.postcode");
    ck_assert_ptr_nonnull(strstr(d.reason[0], "foreign address (country 'BE')"));
    ck_assert_str_eq(d.field[1], "client.sex");
    ck_assert_ptr_nonnull(strstr(d.reason[1], "not in the code map"));
    zv_record_free(r);
    /* Without the IN part: initials derived from every given name. */
    f[11] = (zv_item_field)F("P.name[1].given[2].q", "BR");
    f[10] = (zv_item_field)F("P.name[1].given[2]", "\xc3\x89mile");
    r = zv_mapping_apply(m, &it, 1, field, sizeof(field), reason, sizeof(reason));
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(zv_rec_str(r, ZV_F_CLIENT_INITIALS), "AIJ\xc3\x89");
    zv_record_free(r);
    /* on_error quarantine on the field itself, and the BSN always. */
    zv_item_field bad[] = {F("P.identifier.system", "bsn"), F("P.identifier.value", "999900006"),
                           F("P.birthDate", "1934-04")};
    zv_item it2 = {ZV_SIZED(zv_item), "Patient", "Patient/2", bad, 3, sizeof(zv_item_field)};
    r = zv_mapping_apply(m, &it2, 1, field, sizeof(field), reason, sizeof(reason));
    ck_assert_ptr_null(r);
    ck_assert_str_eq(field, "client.birth_date");
    ck_assert_msg(strstr(reason, "partial date '1934-04'"), "%s", reason);
    bad[1] = (zv_item_field)F("P.identifier.value", "999900007");
    bad[2] = (zv_item_field)F("P.birthDate", "1934-04-28");
    r = zv_mapping_apply_ex(m, &it2, 1, field, sizeof(field), reason, sizeof(reason), on_drop, &d);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(field, "client.bsn");
    zv_mapping_free(m);
    zv_errors_free(&e);
}
END_TEST

/* "key=*" needs the field present with a value, "key!=*" absent. */
START_TEST(any_value_condition)
{
    zv_errors e;
    zv_mapping *m =
        compile("{\"records\": [{\"kind\": \"client\", \"fields\": {"
                " \"client.bsn\": \"P.bsn\","
                " \"client.family_name\": \"P.name[family=*].text\","
                " \"client.initials\": {\"from\": \"P.name[use=official,family!=*].given[*]\","
                "                      \"join\": \" \", \"convert\": [\"initials\"]}}}]}",
                &e);
    ck_assert_msg(m != NULL, "%s", e.n ? e.lines[0] : "");
    zv_item_field f[] = {
        F("P.bsn", "999900006"),          F("P.name.use", "official"),
        F("P.name.text", "no family"),    F("P.name.family", ""),
        F("P.name.given", "Hendrik"),     F("P.name[1].use", "official"),
        F("P.name[1].family", "Schemer"), F("P.name[1].text", "Hendrik Schemer"),
        F("P.name[1].given", "Willem"),   F("P.name[2].use", "official"),
        F("P.name[2].given", "J."),
    };
    zv_item it = {ZV_SIZED(zv_item),    "Patient", "Patient/1", f, sizeof(f) / sizeof(f[0]),
                  sizeof(zv_item_field)};
    char field[64], reason[256];
    zv_record *r = zv_mapping_apply(m, &it, 1, field, sizeof(field), reason, sizeof(reason));
    ck_assert_msg(r != NULL, "%s: %s", field, reason);
    /* An empty family counts as absent for both. */
    ck_assert_str_eq(zv_rec_str(r, ZV_F_CLIENT_FAMILY_NAME), "Hendrik Schemer");
    ck_assert_str_eq(zv_rec_str(r, ZV_F_CLIENT_INITIALS), "HJ");
    zv_record_free(r);
    zv_mapping_free(m);
    zv_errors_free(&e);
}
END_TEST

START_TEST(quarantine_json_keeps_what_is_read)
{
    zv_errors e;
    zv_mapping *m = compile(SPEC, &e);
    ck_assert_ptr_nonnull(m);
    zv_item_field f[] = {F("P.name.use", "official"), F("P.name.given", "Anna"),
                         F("P.name.given.q", "BR"),   F("P.contact.name.family", "Jansen"),
                         F("P.text.div", "<div/>"),   F("P.birthDate", "1950-01-01")};
    zv_item it = {ZV_SIZED(zv_item), "Patient", "Patient/3", f, 6, sizeof(zv_item_field)};
    char *j = zv_mapping_item_json(m, &it);
    ck_assert_ptr_nonnull(j);
    ck_assert_ptr_nonnull(strstr(j, "\"P.name.use\""));
    ck_assert_ptr_nonnull(strstr(j, "\"P.name.given.q\""));
    ck_assert_ptr_nonnull(strstr(j, "\"P.birthDate\""));
    ck_assert_ptr_null(strstr(j, "Jansen"));
    ck_assert_ptr_null(strstr(j, "div"));
    free(j);
    /* A record the source could not read is kept whole. */
    zv_item_field broken[] = {F(ZV_ITEM_ERROR, "bad row"), F("P.contact", "x")};
    zv_item it2 = {ZV_SIZED(zv_item), "Patient", "row 3", broken, 2, sizeof(zv_item_field)};
    j = zv_mapping_item_json(m, &it2);
    ck_assert_ptr_nonnull(strstr(j, "P.contact"));
    free(j);
    zv_mapping_free(m);
    zv_errors_free(&e);
}
END_TEST

START_TEST(bad_selectors_are_config_errors)
{
    zv_errors e;
    const char *bad =
        "{\"on_error\": \"sometimes\", \"records\": [{\"kind\": \"client\", \"fields\": {"
        " \"client.bsn\": \"P.identifier[system=bsn.value\","
        " \"client.family_name\": \"P.name[use].family\","
        " \"client.given_names\": {\"from\": [], \"join\": \" \"},"
        " \"client.sex\": {\"from\": \"P.gender\", \"country\": \"P.country\"},"
        " \"client.initials\": {\"value\": \"X\", \"join\": \",\"}}}]}";
    zv_mapping *m = compile(bad, &e);
    ck_assert_ptr_null(m);
    const char *want[] = {
        "mapping.on_error: must be \"quarantine\" or \"drop\"",
        "fields.client.bsn: bad selector in 'P.identifier[system=bsn.value': unbalanced '['",
        "fields.client.given_names.from: must be a source path or an array of 1 to 4",
        "fields.client.sex.country: only for postcode fields",
        "fields.client.initials.join: only makes sense with \"from\"",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        int found = 0;
        for (size_t k = 0; k < e.n; k++)
            found |= strstr(e.lines[k], want[i]) != NULL;
        ck_assert_msg(found, "missing error: %s (first: %s)", want[i], e.n ? e.lines[0] : "");
    }
    zv_errors_free(&e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mapping_select");
    TCase *tc = tcase_create("select");
    tcase_add_test(tc, selects_by_meaning);
    tcase_add_test(tc, any_value_condition);
    tcase_add_test(tc, quarantine_json_keeps_what_is_read);
    tcase_add_test(tc, bad_selectors_are_config_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
