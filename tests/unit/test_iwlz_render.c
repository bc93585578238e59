/* iWlz plugin: AW35/AW39 rendering, validated against the official XSDs. */
#include "test_iwlz_host.h"

START_TEST(test_classify)
{
    struct zv_ctx ctx = th_ctx_default();
    void *st = th_create(&ctx);
    const zv_format_ops *f = th_load()->format;
    zv_record *r = th_zzp("111222333", "100001");
    ck_assert_int_eq(f->classify(st, r), 0);
    th_set(r, "delivery.end", "2026-11-20");
    ck_assert_int_eq(f->classify(st, r), 1);
    th_set(r, "delivery.end", NULL);
    th_set(r, "delivery.mutation_code", "17");
    ck_assert_int_eq(f->classify(st, r), 1);
    th_set(r, "entitlement.law", "jw");
    ck_assert_int_eq(f->classify(st, r), -1);
    zv_record *c = zv_record_new(ZV_KIND_CLIENT, "t", "c", 0);
    zv_record_set(c, ZV_F_ENT_LAW, "wlz", 3, NULL);
    ck_assert_int_eq(f->classify(st, c), -1);
    ck_assert_str_eq(f->messages[0].name, "AW35");
    ck_assert_str_eq(f->messages[0].catalogue, "iwlz-aw35.json");
    ck_assert_str_eq(f->messages[1].name, "AW39");
    ck_assert_uint_eq(f->nmessages, 2);
    zv_record_free(r);
    zv_record_free(c);
    th_load()->destroy(st);
}
END_TEST

START_TEST(test_aw35_render)
{
    struct zv_ctx ctx = th_ctx_default();
    void *st = th_create(&ctx);
    zv_record *recs[4] = {th_zzp("111222333", "100001"), th_func("123456782", "200001"),
                          th_func("111222333", "100002"), th_zzp("999999990", "300001")};
    /* A minimised record: no optional name parts, no Behandeling. */
    th_set(recs[3], "client.given_names", NULL);
    th_set(recs[3], "client.initials", NULL);
    th_set(recs[3], "client.name_prefix", NULL);
    th_set(recs[3], "delivery.treatment", NULL);
    zv_render_out out;
    ck_assert_int_eq(th_render(st, 0, "b-0001", recs, 4, &out), 0);
    ck_assert_int_eq(out.nr, 0);
    ck_assert_int_eq(out.np, 1);
    th_payload *p = &out.p[0];
    ck_assert_msg(th_validate("AW35.xsd", p->data, p->len) == 0, "AW35 invalid: %s\n%s",
                  th_xsd_error, p->data);
    ck_assert_str_eq(p->type, "application/xml");
    ck_assert_str_eq(p->ext, "xml");
    ck_assert_str_eq(p->idem, "b-0001");
    ck_assert_ptr_nonnull(strstr(p->data, "<BerichtCode>354</BerichtCode>"));
    ck_assert_ptr_nonnull(strstr(p->data, "<BerichtVersie>5</BerichtVersie>"));
    ck_assert_ptr_nonnull(strstr(p->data, "<BerichtSubversie>2</BerichtSubversie>"));
    ck_assert_ptr_nonnull(strstr(p->data, "<Afzender>12345678</Afzender>"));
    ck_assert_ptr_nonnull(strstr(p->data, "<Ontvanger>5501</Ontvanger>"));
    ck_assert_ptr_nonnull(strstr(p->data, "<iwlz:Identificatie>b-0001</iwlz:Identificatie>"));
    ck_assert_ptr_nonnull(strstr(p->data, "<iwlz:Dagtekening>2026-11-23</iwlz:Dagtekening>"));
    ck_assert_ptr_nonnull(strstr(p->data, "<iwlz:BerichtXsdVersie>1.0.0</iwlz:BerichtXsdVersie>"));
    /* One Client per BSN; client 111222333 carries both products, the
     * function container in front of the ZZP container. */
    ck_assert_int_eq(th_count(p->data, "<Client>"), 3);
    ck_assert_int_eq(th_count(p->data, "<GeleverdeFunctie>"), 2);
    ck_assert_int_eq(th_count(p->data, "<GeleverdZorgzwaartepakket>"), 2);
    ck_assert_ptr_nonnull(strstr(p->data, "<Behandeling>1</Behandeling>"));
    ck_assert_int_eq(th_count(p->data, "<iwlz:Voornamen>"), 1); /* only 111222333 has them */
    ck_assert_int_eq(p->n, 4);
    int seen = 0;
    for (size_t i = 0; i < p->n; i++) {
        const zv_record *r = recs[p->records[i]];
        char key[40];
        snprintf(key, sizeof(key), "%s/%s", zv_rec_str(r, ZV_F_CLIENT_BSN),
                 zv_rec_str(r, ZV_F_ENT_NUMBER));
        ck_assert_str_eq(p->keys[i], key);
        seen |= 1 << p->records[i];
    }
    ck_assert_int_eq(seen, 0xf);
    /* A retry of the same batch yields the same message identification. */
    zv_render_out again;
    ck_assert_int_eq(th_render(st, 0, "b-0001", recs, 4, &again), 0);
    ck_assert_str_eq(again.p[0].idem, "b-0001");
    ck_assert_str_eq(again.p[0].data, p->data);
    th_out_free(&again);
    th_out_free(&out);
    th_free_recs(recs, 4);
    th_load()->destroy(st);
}
END_TEST

START_TEST(test_aw39_render)
{
    struct zv_ctx ctx = th_ctx_default();
    void *st = th_create(&ctx);
    zv_record *recs[3] = {th_zzp("111222333", "100001"), th_func("123456782", "200001"),
                          th_zzp("999999990", "300001")};
    for (int i = 0; i < 3; i++)
        th_make_end(recs[i]);
    th_set(recs[2], "delivery.mutation_date", "2026-11-21"); /* wins over the end date */
    zv_render_out out;
    ck_assert_int_eq(th_render(st, 1, "b-0002", recs, 3, &out), 0);
    ck_assert_int_eq(out.nr, 0);
    ck_assert_int_eq(out.np, 1);
    th_payload *p = &out.p[0];
    ck_assert_msg(th_validate("AW39.xsd", p->data, p->len) == 0, "AW39 invalid: %s\n%s",
                  th_xsd_error, p->data);
    ck_assert_ptr_nonnull(strstr(p->data, "<BerichtCode>358</BerichtCode>"));
    ck_assert_int_eq(th_count(p->data, "<MutatieZorgzwaartepakket>"), 2);
    ck_assert_int_eq(th_count(p->data, "<MutatieFunctie>"), 1);
    ck_assert_int_eq(th_count(p->data, "<Mutatiecode>19</Mutatiecode>"), 3);
    ck_assert_int_eq(th_count(p->data, "<Mutatiedatum>2026-11-20</Mutatiedatum>"), 2);
    ck_assert_int_eq(th_count(p->data, "<Mutatiedatum>2026-11-21</Mutatiedatum>"), 1);
    ck_assert_int_eq(p->n, 3);
    th_out_free(&out);
    th_free_recs(recs, 3);
    th_load()->destroy(st);
}
END_TEST

/* A value no rule checks but the XSD refuses (Geslacht 9 is not in the
 * iWlz code list): that record is rejected with the schema's text, the
 * others are still rendered into a valid message. */
START_TEST(test_xsd_failure_rejects_only_affected)
{
    struct zv_ctx ctx = th_ctx_default();
    void *st = th_create(&ctx);
    zv_record *recs[3] = {th_zzp("111222333", "100001"), th_zzp("123456782", "200001"),
                          th_func("999999990", "300001")};
    th_set(recs[1], "client.sex", "9");
    th_set(recs[2], "entitlement.function_code", "99");
    zv_render_out out;
    ck_assert_int_eq(th_render(st, 0, "b-0003", recs, 3, &out), 0);
    ck_assert_int_eq(out.nr, 2);
    for (size_t i = 0; i < out.nr; i++) {
        ck_assert_str_eq(out.r[i].rule, "XSD");
        ck_assert_ptr_nonnull(strstr(out.r[i].reason, "AW35.xsd"));
        ck_assert_ptr_null(strstr(out.r[i].reason, "123456782"));
        ck_assert_ptr_null(strstr(out.r[i].reason, "999999990"));
        if (out.r[i].index == 1) {
            ck_assert_str_eq(out.r[i].field, "client.sex");
            ck_assert_ptr_nonnull(strstr(out.r[i].reason, "Geslacht"));
        } else {
            ck_assert_int_eq(out.r[i].index, 2);
            ck_assert_str_eq(out.r[i].field, "entitlement.function_code");
        }
    }
    ck_assert_int_eq(out.np, 1);
    ck_assert_int_eq(out.p[0].n, 1);
    ck_assert_int_eq(out.p[0].records[0], 0);
    ck_assert_ptr_null(strstr(out.p[0].data, "123456782"));
    ck_assert_int_eq(th_validate("AW35.xsd", out.p[0].data, out.p[0].len), 0);
    th_out_free(&out);
    th_free_recs(recs, 3);
    th_load()->destroy(st);
}
END_TEST

START_TEST(test_missing_required_rejected)
{
    struct zv_ctx ctx = th_ctx_default();
    void *st = th_create(&ctx);
    zv_record *recs[2] = {th_zzp("111222333", "100001"), th_zzp("123456782", "200001")};
    th_set(recs[1], "client.birth_date", NULL); /* e.g. removed by a minimiser */
    zv_render_out out;
    ck_assert_int_eq(th_render(st, 0, "b-0004", recs, 2, &out), 0);
    ck_assert_int_eq(out.nr, 1);
    ck_assert_int_eq(out.r[0].index, 1);
    ck_assert_str_eq(out.r[0].rule, "XSD");
    ck_assert_str_eq(out.r[0].field, "client.birth_date");
    ck_assert_int_eq(out.np, 1);
    ck_assert_int_eq(out.p[0].n, 1);
    th_out_free(&out);
    th_free_recs(recs, 2);
    th_load()->destroy(st);
}
END_TEST

/* Records for two zorgkantoren: two messages, each with a stable, distinct
 * identification derived from the batch id. */
START_TEST(test_one_message_per_zorgkantoor)
{
    struct zv_ctx ctx = th_ctx_default();
    void *st = th_create(&ctx);
    zv_record *recs[3] = {th_zzp("111222333", "100001"), th_zzp("123456782", "200001"),
                          th_zzp("999999990", "300001")};
    th_set(recs[1], "entitlement.funder", "5502");
    zv_render_out out, again;
    ck_assert_int_eq(th_render(st, 0, "batch-42", recs, 3, &out), 0);
    ck_assert_int_eq(out.np, 2);
    ck_assert_str_ne(out.p[0].idem, out.p[1].idem);
    ck_assert_int_eq(strlen(out.p[0].idem), 12);
    ck_assert_int_eq(out.p[0].n + out.p[1].n, 3);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(th_validate("AW35.xsd", out.p[i].data, out.p[i].len), 0);
    ck_assert_int_eq(th_render(st, 0, "batch-42", recs, 3, &again), 0);
    ck_assert_str_eq(again.p[0].idem, out.p[0].idem);
    ck_assert_str_eq(again.p[1].idem, out.p[1].idem);
    th_out_free(&again);
    th_out_free(&out);
    /* With the zorgkantoor option every record goes to that one. */
    struct zv_ctx fixed = th_ctx_default();
    fixed.zorgkantoor = "5503";
    void *st2 = th_create(&fixed);
    ck_assert_int_eq(th_render(st2, 0, "batch-42", recs, 3, &out), 0);
    ck_assert_int_eq(out.np, 1);
    ck_assert_ptr_nonnull(strstr(out.p[0].data, "<Ontvanger>5503</Ontvanger>"));
    th_out_free(&out);
    th_free_recs(recs, 3);
    th_load()->destroy(st2);
    th_load()->destroy(st);
}
END_TEST

/* A header value the XSD refuses (Ontvanger not a zorgkantoor code) spoils
 * that message only: its records are rejected with the schema's text. */
START_TEST(test_header_error_rejects_message)
{
    struct zv_ctx ctx = th_ctx_default();
    void *st = th_create(&ctx);
    zv_record *recs[3] = {th_zzp("111222333", "100001"), th_zzp("123456782", "200001"),
                          th_func("123456782", "200002")};
    th_set(recs[1], "entitlement.funder", "9999");
    th_set(recs[2], "entitlement.funder", "9999");
    zv_render_out out;
    ck_assert_int_eq(th_render(st, 0, "b-0006", recs, 3, &out), 0);
    ck_assert_int_eq(out.nr, 2);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_ne(out.r[i].index, 0);
        ck_assert_str_eq(out.r[i].rule, "XSD");
        ck_assert_str_eq(out.r[i].field, "entitlement.funder");
        ck_assert_ptr_nonnull(strstr(out.r[i].reason, "Ontvanger"));
    }
    ck_assert_int_eq(out.np, 1);
    ck_assert_int_eq(out.p[0].n, 1);
    ck_assert_int_eq(th_validate("AW35.xsd", out.p[0].data, out.p[0].len), 0);
    th_out_free(&out);
    th_free_recs(recs, 3);
    th_load()->destroy(st);
}
END_TEST

START_TEST(test_create_errors)
{
    struct zv_ctx ctx = th_ctx_default();
    char err[512];
    void *state = NULL;
    ctx.schema_dir = "/nonexistent";
    ck_assert_int_eq(th_load()->create(&ctx, &th_host, &state, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent"));
    ctx = th_ctx_default();
    ctx.afzender = "1234";
    ck_assert_int_eq(th_load()->create(&ctx, &th_host, &state, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "afzender"));
}
END_TEST

/* The official rule set is compiled once per process: a second instance
 * shares the first one's stylesheets. */
START_TEST(test_rules_compiled_once)
{
    struct zv_ctx ctx = th_ctx_default();
    th_log_count_reset("compiled");
    void *a = th_create(&ctx);
    ck_assert_int_eq(th_log_count, 2); /* AW35.xsl, AW39.xsl */
    th_log_count_reset("compiled");
    void *b = th_create(&ctx);
    ck_assert_int_eq(th_log_count, 0);
    th_load()->destroy(b);
    th_load()->destroy(a);
    th_log_count_reset("compiled");
    void *c = th_create(&ctx); /* the last instance gone: compiled again */
    ck_assert_int_eq(th_log_count, 2);
    th_load()->destroy(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("iwlz_render");
    TCase *tc = tcase_create("render");
    tcase_add_test(tc, test_classify);
    tcase_add_test(tc, test_aw35_render);
    tcase_add_test(tc, test_aw39_render);
    tcase_add_test(tc, test_xsd_failure_rejects_only_affected);
    tcase_add_test(tc, test_missing_required_rejected);
    tcase_add_test(tc, test_one_message_per_zorgkantoor);
    tcase_add_test(tc, test_header_error_rejects_message);
    tcase_add_test(tc, test_create_errors);
    tcase_add_test(tc, test_rules_compiled_once);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
