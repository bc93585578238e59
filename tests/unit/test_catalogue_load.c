/* Catalogue loading: every validation error in tests/fixtures/catalogue/bad
 * gives exactly the line in its .err file; the shipped catalogues load. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "catalogue/catalogue.h"

static const char *srcdir(void)
{
    const char *s = getenv("ZV_SOURCE_DIR");
    return s ? s : ".";
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
    b[n] = 0;
    fclose(f);
    return b;
}

static const char *const BAD[] = {"condition-empty-in",
                                  "correction-unknown-by",
                                  "condition-nested-unknown-key",
                                  "condition-not-object",
                                  "condition-number-values",
                                  "condition-present-type",
                                  "condition-two-tests",
                                  "condition-unknown-field",
                                  "duplicate-field",
                                  "empty-citation",
                                  "id-mismatch",
                                  "maximum-missing-citation",
                                  "maximum-unknown-field",
                                  "missing-citation",
                                  "missing-element",
                                  "missing-field",
                                  "missing-frequency",
                                  "missing-message",
                                  "not-json",
                                  "unknown-entry-key",
                                  "unknown-field",
                                  "unknown-frequency",
                                  "unknown-level",
                                  "unknown-purpose",
                                  "unknown-top-key",
                                  "wrong-type-derivable",
                                  "wrong-type-fields",
                                  "wrong-type-optional"};

/* Each bad fixture fails with exactly the lines of its .err file. */
START_TEST(bad_catalogue_errors)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/tests/fixtures/catalogue/bad", srcdir());
    ck_assert_int_eq(chdir(dir), 0);
    const char *name = BAD[_i];
    char file[256], errfile[256];
    snprintf(file, sizeof(file), "%s.json", name);
    snprintf(errfile, sizeof(errfile), "%s.err", name);
    char *want = slurp(errfile);
    ck_assert_msg(want != NULL, "missing %s", errfile);
    zv_errors errs;
    zv_errors_init(&errs);
    zv_catalogue *cat = zv_catalogue_load(file, &errs);
    ck_assert_ptr_null(cat);
    char got[8192] = "";
    for (size_t i = 0; i < errs.n; i++) {
        strncat(got, errs.lines[i], sizeof(got) - strlen(got) - 2);
        strcat(got, "\n");
    }
    ck_assert_str_eq(got, want);
    zv_errors_free(&errs);
    free(want);
}
END_TEST

/* Every .json in the bad folder has a case above, so none is forgotten. */
START_TEST(bad_fixtures_all_listed)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/tests/fixtures/catalogue/bad", srcdir());
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    size_t njson = 0;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json")) continue;
        njson++;
        int found = 0;
        for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++)
            found |= strlen(BAD[i]) == n - 5 && !strncmp(BAD[i], de->d_name, n - 5);
        ck_assert_msg(found, "%s not tested", de->d_name);
    }
    closedir(d);
    ck_assert_uint_eq(njson, sizeof(BAD) / sizeof(BAD[0]));
}
END_TEST

/* Catalogues shipped in conf/catalogue load without error. */
START_TEST(shipped_catalogues_load)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/conf/catalogue", srcdir());
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    size_t loaded = 0;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json")) continue;
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        zv_errors errs;
        zv_errors_init(&errs);
        zv_catalogue *cat = zv_catalogue_load(path, &errs);
        ck_assert_msg(cat != NULL, "%s", errs.n ? errs.lines[0] : path);
        ck_assert_uint_gt(zv_catalogue_count(cat), 0);
        /* iWlz has no "changed" AW35/AW39 (CS058): a change withdraws first. */
        if (strncmp(de->d_name, "iwlz-", 5) == 0) {
            ck_assert_msg(zv_catalogue_withdraws(cat), "%s", de->d_name);
            ck_assert_ptr_nonnull(strstr(zv_catalogue_correction_citation(cat), "CS058"));
        }
        zv_catalogue_free(cat);
        zv_errors_free(&errs);
        loaded++;
    }
    closedir(d);
    ck_assert_uint_ge(loaded, 2);
}
END_TEST

static const char *GOOD =
    "{\"catalogue\": \"t\", \"format\": \"json\", \"message\": \"M\","
    " \"frequency\": \"half-yearly\", \"purpose\": \"statistics\", \"signal_set\": \"s1\","
    " \"maximum\": {\"citation\": \"Regeling Jeugdwet art. 6a.3\","
    "   \"fields\": [\"client.bsn\", \"client.birth_date\"]},"
    " \"fields\": ["
    "  {\"field\": \"client.bsn\", \"element\": \"bsn\", \"level\": \"law\","
    "   \"citation\": \"art. 1\", \"derivable_from\": []},"
    "  {\"field\": \"client.birth_date\", \"element\": \"dob\","
    "   \"level\": \"standard\", \"citation\": \"XSD\", \"frequency\": \"event\","
    "   \"derivable_from\": [\"BRP\"]},"
    "  {\"field\": \"client.phone\", \"element\": \"tel\", \"level\": \"internal\","
    "   \"citation\": \"unverified: own choice\"}]}";

static zv_catalogue *good(void)
{
    char err[256];
    zv_json_doc *d = zv_json_parse(GOOD, strlen(GOOD), 0, err, sizeof(err));
    ck_assert_ptr_nonnull(d);
    zv_errors errs;
    zv_errors_init(&errs);
    zv_catalogue *cat = zv_catalogue_from_json(zv_json_root(d), "dir/t.json", &errs);
    ck_assert_msg(cat != NULL, "%s", errs.n ? errs.lines[0] : "?");
    zv_errors_free(&errs);
    zv_json_free(d);
    return cat;
}

START_TEST(good_catalogue_reads_back)
{
    zv_catalogue *cat = good();
    ck_assert_int_eq(zv_catalogue_withdraws(cat), 0); /* no "correction": resend */
    ck_assert_str_eq(zv_catalogue_id(cat), "t");
    ck_assert_str_eq(zv_catalogue_message(cat), "M");
    ck_assert_uint_eq(zv_catalogue_count(cat), 3);
    const zv_cat_entry *e = zv_catalogue_find(cat, ZV_F_CLIENT_BIRTH_DATE);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->level, ZV_LEVEL_STANDARD);
    ck_assert_str_eq(e->frequency, "event");
    ck_assert_uint_eq(e->nderivable, 1);
    ck_assert_str_eq(e->derivable_from[0], "BRP");
    /* The catalogue's default frequency fills entries without one. */
    ck_assert_str_eq(zv_catalogue_find(cat, ZV_F_CLIENT_BSN)->frequency, "half-yearly");
    ck_assert_str_eq(zv_catalogue_max_citation(cat), "Regeling Jeugdwet art. 6a.3");
    ck_assert_int_eq(zv_catalogue_max_allows(cat, ZV_F_CLIENT_BSN), 1);
    ck_assert_int_eq(zv_catalogue_max_allows(cat, ZV_F_CLIENT_PHONE), 0);
    ck_assert_ptr_null(zv_catalogue_find(cat, ZV_F_CLIENT_EMAIL));
    ck_assert_str_eq(zv_catalogue_purpose(cat), "statistics");
    ck_assert_str_eq(zv_catalogue_signal_set(cat), "s1");
    zv_catalogue_free(cat);
}
END_TEST

static int apply_override(zv_catalogue *cat, const char *text, zv_errors *errs)
{
    char err[256];
    zv_json_doc *d = zv_json_parse(text, strlen(text), ZV_JSON_COMMENTS, err, sizeof(err));
    ck_assert_msg(d != NULL, "%s", err);
    int rc = zv_catalogue_override(cat, zv_json_root(d), "zinvol.conf", "destinations[1].catalogue",
                                   errs);
    zv_json_free(d);
    return rc;
}

START_TEST(override_adds_and_replaces)
{
    zv_catalogue *cat = good();
    zv_errors errs;
    zv_errors_init(&errs);
    int rc = apply_override(
        cat,
        "{\"fields\": ["
        " {\"field\": \"client.phone\", \"element\": \"tel\", \"level\": \"contract\","
        "  \"citation\": \"Contract 2026 art. 4.2\"},"
        " {\"field\": \"client.email\", \"element\": \"mail\", \"level\": \"contract\","
        "  \"citation\": \"Contract 2026 art. 4.3\", \"message\": \"M\"},"
        " {\"field\": \"client.postcode\", \"element\": \"pc\", \"level\": \"contract\","
        "  \"citation\": \"other message\", \"message\": \"OTHER\"}]}",
        &errs);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(errs.n, 0);
    ck_assert_uint_eq(zv_catalogue_count(cat), 4);
    const zv_cat_entry *e = zv_catalogue_find(cat, ZV_F_CLIENT_PHONE);
    ck_assert_int_eq(e->level, ZV_LEVEL_CONTRACT);
    ck_assert_str_eq(e->citation, "Contract 2026 art. 4.2");
    ck_assert_int_eq(e->overridden, 1);
    ck_assert_ptr_nonnull(zv_catalogue_find(cat, ZV_F_CLIENT_EMAIL));
    ck_assert_ptr_null(zv_catalogue_find(cat, ZV_F_CLIENT_POSTCODE));
    zv_catalogue_free(cat);
    zv_errors_free(&errs);
}
END_TEST

START_TEST(override_errors_name_config_path)
{
    zv_catalogue *cat = good();
    zv_errors errs;
    zv_errors_init(&errs);
    int rc =
        apply_override(cat,
                       "{\"feilds\": [], \"fields\": [{\"field\": \"client.phone\","
                       " \"element\": \"tel\", \"level\": \"contrcat\", \"citation\": \"x\"}]}",
                       &errs);
    ck_assert_int_eq(rc, -1);
    ck_assert_uint_eq(errs.n, 2);
    ck_assert_str_eq(errs.lines[0], "zinvol.conf: destinations[1].catalogue.feilds: unknown key "
                                    "(expected file, fields, maximum)");
    ck_assert_str_eq(errs.lines[1],
                     "zinvol.conf: destinations[1].catalogue.fields[0].level: unknown level "
                     "\"contrcat\" (expected law, standard, regulator, contract, sector, "
                     "internal, none)");
    zv_catalogue_free(cat);
    zv_errors_free(&errs);
}
END_TEST

START_TEST(levels_and_frequencies)
{
    ck_assert_int_eq(zv_level_by_name("law"), ZV_LEVEL_LAW);
    ck_assert_int_eq(zv_level_by_name("none"), ZV_LEVEL_NONE);
    ck_assert_int_eq(zv_level_by_name("lawful"), -1);
    ck_assert_str_eq(zv_level_name(ZV_LEVEL_SECTOR), "sector");
    ck_assert_int_lt(zv_frequency_rank("event"), zv_frequency_rank("daily"));
    ck_assert_int_lt(zv_frequency_rank("half-yearly"), zv_frequency_rank("yearly"));
    ck_assert_int_lt(zv_frequency_rank("yearly"), zv_frequency_rank("3-yearly"));
    ck_assert_int_eq(zv_frequency_rank("biweekly"), -1);
    ck_assert_str_eq(zv_frequency_name(zv_frequency_rank("quarterly")), "quarterly");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("catalogue_load");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, bad_catalogue_errors, 0, (int)(sizeof(BAD) / sizeof(BAD[0])));
    tcase_add_test(tc, bad_fixtures_all_listed);
    tcase_add_test(tc, shipped_catalogues_load);
    tcase_add_test(tc, good_catalogue_reads_back);
    tcase_add_test(tc, override_adds_and_replaces);
    tcase_add_test(tc, override_errors_name_config_path);
    tcase_add_test(tc, levels_and_frequencies);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
