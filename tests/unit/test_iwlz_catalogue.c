/* iWlz catalogues: both load with the real catalogue loader, and records
 * minimised with them (threshold contract) still render into messages that
 * validate against the official XSDs: the catalogue asks for what the
 * standard requires and no more than the plugin writes. */
#include "iwlz_judge.h"

#include "catalogue/catalogue.h"

static zv_catalogue *load(const char *name)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/conf/catalogue/%s", getenv("ZV_SOURCE_DIR"), name);
    zv_errors errs;
    zv_errors_init(&errs);
    zv_catalogue *c = zv_catalogue_load(path, &errs);
    ck_assert_msg(c != NULL, "%s: %s", name, errs.n ? errs.lines[0] : "?");
    zv_errors_free(&errs);
    return c;
}

static void minimise_render(const char *cat_file, int message, zv_record **recs, size_t n,
                            const char *xsd)
{
    zv_catalogue *cat = load(cat_file);
    ck_assert_str_eq(zv_catalogue_format(cat), "iwlz");
    ck_assert_str_eq(zv_catalogue_message(cat), message == 0 ? "AW35" : "AW39");
    zv_minimiser *m = zv_minimiser_new(cat, ZV_LEVEL_CONTRACT);
    zv_record *min[8];
    for (size_t i = 0; i < n; i++) {
        char field[64], reason[256];
        zv_min_result r =
            zv_minimise(m, recs[i], &min[i], field, sizeof(field), reason, sizeof(reason));
        ck_assert_msg(r == ZV_MIN_OK, "record %zu: %s %s", i, field, reason);
        /* Fields the plugin does not write are not sent. */
        ck_assert_ptr_null(zv_rec_get(min[i], ZV_F_CLIENT_NAME_USAGE));
        ck_assert_ptr_null(zv_rec_get(min[i], ZV_F_CLIENT_POSTCODE));
    }
    zvtb *tb = th_bed(NULL);
    zvtb_render out;
    ck_assert_int_eq(th_render(tb, message, min, n, &out), 0);
    ck_assert_msg(out.nr == 0, "rejected: %s %s %s", out.nr ? out.r[0].rule : "",
                  out.nr ? out.r[0].field : "", out.nr ? out.r[0].reason : "");
    ck_assert_int_eq(out.np, 1);
    ck_assert_int_eq(out.p[0].n, n);
    ck_assert_msg(th_validate(xsd, out.p[0].data, out.p[0].len) == 0, "%s", th_xsd_error);
    zvtb_render_free(&out);
    zvtb_free(tb);
    th_free_recs(min, n);
    zv_minimiser_free(m);
    zv_catalogue_free(cat);
}

START_TEST(aw35_catalogue)
{
    zv_record *recs[3] = {th_zzp("111222333", "100001"), th_func("123456782", "200001"),
                          th_zzp("999999990", "300001")};
    th_set(recs[0], "client.postcode", "1234AB"); /* in the ECD, not for the zorgkantoor */
    th_set(recs[0], "client.name_usage", "1");
    th_set(recs[2], "delivery.leveringsvorm", "8"); /* deeltijdverblijf: Etmalen, no Klasse */
    th_set(recs[2], "delivery.etmalen", "4");
    th_set(recs[2], "delivery.sleuteldatum", NULL);
    minimise_render("iwlz-aw35.json", 0, recs, 3, "AW35.xsd");
    th_free_recs(recs, 3);
}
END_TEST

START_TEST(aw39_catalogue)
{
    zv_record *recs[2] = {th_zzp("111222333", "100001"), th_func("123456782", "200001")};
    for (int i = 0; i < 2; i++)
        th_make_end(recs[i]);
    th_set(recs[1], "delivery.mutation_date", "2026-11-19");
    minimise_render("iwlz-aw39.json", 1, recs, 2, "AW39.xsd");
    th_free_recs(recs, 2);
}
END_TEST

START_TEST(derivable_and_basis)
{
    zv_catalogue *c = load("iwlz-aw35.json");
    const zv_cat_entry *bsn = zv_catalogue_find(c, ZV_F_CLIENT_BSN);
    ck_assert_int_eq(bsn->level, ZV_LEVEL_STANDARD);
    ck_assert_ptr_nonnull(strstr(bsn->citation, "unverified"));
    const zv_cat_entry *sex = zv_catalogue_find(c, ZV_F_CLIENT_SEX);
    ck_assert_int_eq(sex->nderivable, 1);
    ck_assert_ptr_nonnull(strstr(sex->derivable_from[0], "Leveringsregister"));
    const zv_cat_entry *k = zv_catalogue_find(c, ZV_F_DEL_KLASSE);
    ck_assert_ptr_nonnull(k->condition);
    zv_catalogue_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("iwlz_catalogue");
    TCase *tc = tcase_create("catalogue");
    tcase_add_test(tc, aw35_catalogue);
    tcase_add_test(tc, aw39_catalogue);
    tcase_add_test(tc, derivable_and_basis);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
