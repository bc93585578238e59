/* iWlz plugin on the testbed: AW35/AW39 rendering through the core's flush,
 * validated against the official XSDs. */
#include "iwlz_judge.h"

START_TEST(test_classify)
{
    zvtb *tb = th_bed(NULL);
    void *st = zvtb_fmt_state(tb);
    const zv_format_ops *f = th_fmt(tb);
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
    zvtb_free(tb);
}
END_TEST

START_TEST(test_aw35_render)
{
    zvtb *tb = th_bed(NULL);
    zv_record *recs[4] = {th_zzp("111222333", "100001"), th_func("123456782", "200001"),
                          th_func("111222333", "100002"), th_zzp("999999990", "300001")};
    /* A minimised record: no optional name parts, no Behandeling. */
    th_set(recs[3], "client.given_names", NULL);
    th_set(recs[3], "client.initials", NULL);
    th_set(recs[3], "client.name_prefix", NULL);
    th_set(recs[3], "delivery.treatment", NULL);
    zvtb_render out;
    ck_assert_int_eq(th_render(tb, 0, recs, 4, &out), 0);
    ck_assert_int_eq(out.nr, 0);
    ck_assert_int_eq(out.np, 1);
    zvtb_payload *p = &out.p[0];
    ck_assert_msg(th_validate("AW35.xsd", p->data, p->len) == 0, "AW35 invalid: %s\n%s",
                  th_xsd_error, p->data);
    ck_assert_str_eq(p->content_type, "application/xml");
    ck_assert_str_eq(p->ext, "xml");
    ck_assert_str_eq(p->idem, "1"); /* the store's first batch of the destination */
    ck_assert_ptr_nonnull(strstr(p->data, "<BerichtCode>354</BerichtCode>"));
    ck_assert_ptr_nonnull(strstr(p->data, "<BerichtVersie>5</BerichtVersie>"));
    ck_assert_ptr_nonnull(strstr(p->data, "<BerichtSubversie>2</BerichtSubversie>"));
    ck_assert_ptr_nonnull(strstr(p->data, "<Afzender>12345678</Afzender>"));
    ck_assert_ptr_nonnull(strstr(p->data, "<Ontvanger>5501</Ontvanger>"));
    ck_assert_ptr_nonnull(strstr(p->data, "<iwlz:Identificatie>1</iwlz:Identificatie>"));
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
    /* A retry of the same batch (a unit rolled back and rendered again gets
     * the same batch id: here a fresh store's first) yields the same
     * message identification and the same message. */
    zvtb *retry = th_bed(NULL);
    zvtb_render again;
    ck_assert_int_eq(th_render(retry, 0, recs, 4, &again), 0);
    ck_assert_str_eq(again.p[0].idem, "1");
    ck_assert_str_eq(again.p[0].data, p->data);
    zvtb_render_free(&again);
    zvtb_free(retry);
    zvtb_render_free(&out);
    th_free_recs(recs, 4);
    zvtb_free(tb);
}
END_TEST

START_TEST(test_aw39_render)
{
    zvtb *tb = th_bed(NULL);
    zv_record *recs[3] = {th_zzp("111222333", "100001"), th_func("123456782", "200001"),
                          th_zzp("999999990", "300001")};
    for (int i = 0; i < 3; i++)
        th_make_end(recs[i]);
    th_set(recs[2], "delivery.mutation_date", "2026-11-21"); /* wins over the end date */
    zvtb_render out;
    ck_assert_int_eq(th_render(tb, 1, recs, 3, &out), 0);
    ck_assert_int_eq(out.nr, 0);
    ck_assert_int_eq(out.np, 1);
    zvtb_payload *p = &out.p[0];
    ck_assert_msg(th_validate("AW39.xsd", p->data, p->len) == 0, "AW39 invalid: %s\n%s",
                  th_xsd_error, p->data);
    ck_assert_ptr_nonnull(strstr(p->data, "<BerichtCode>358</BerichtCode>"));
    ck_assert_int_eq(th_count(p->data, "<MutatieZorgzwaartepakket>"), 2);
    ck_assert_int_eq(th_count(p->data, "<MutatieFunctie>"), 1);
    ck_assert_int_eq(th_count(p->data, "<Mutatiecode>19</Mutatiecode>"), 3);
    ck_assert_int_eq(th_count(p->data, "<Mutatiedatum>2026-11-20</Mutatiedatum>"), 2);
    ck_assert_int_eq(th_count(p->data, "<Mutatiedatum>2026-11-21</Mutatiedatum>"), 1);
    ck_assert_int_eq(p->n, 3);
    zvtb_render_free(&out);
    th_free_recs(recs, 3);
    zvtb_free(tb);
}
END_TEST

/* A value no rule checks but the XSD refuses (Geslacht 9 is not in the
 * iWlz code list): that record is rejected with the schema's text, the
 * others are still rendered into a valid message. */
START_TEST(test_xsd_failure_rejects_only_affected)
{
    zvtb *tb = th_bed(NULL);
    zv_record *recs[3] = {th_zzp("111222333", "100001"), th_zzp("123456782", "200001"),
                          th_func("999999990", "300001")};
    th_set(recs[1], "client.sex", "9");
    th_set(recs[2], "entitlement.function_code", "99");
    zvtb_render out;
    ck_assert_int_eq(th_render(tb, 0, recs, 3, &out), 0);
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
    zvtb_render_free(&out);
    th_free_recs(recs, 3);
    zvtb_free(tb);
}
END_TEST

START_TEST(test_missing_required_rejected)
{
    zvtb *tb = th_bed(NULL);
    zv_record *recs[2] = {th_zzp("111222333", "100001"), th_zzp("123456782", "200001")};
    th_set(recs[1], "client.birth_date", NULL); /* e.g. removed by a minimiser */
    zvtb_render out;
    ck_assert_int_eq(th_render(tb, 0, recs, 2, &out), 0);
    ck_assert_int_eq(out.nr, 1);
    ck_assert_int_eq(out.r[0].index, 1);
    ck_assert_str_eq(out.r[0].rule, "XSD");
    ck_assert_str_eq(out.r[0].field, "client.birth_date");
    ck_assert_int_eq(out.np, 1);
    ck_assert_int_eq(out.p[0].n, 1);
    zvtb_render_free(&out);
    th_free_recs(recs, 2);
    zvtb_free(tb);
}
END_TEST

/* Records for two zorgkantoren: two messages, each with a stable, distinct
 * identification derived from the batch id. */
START_TEST(test_one_message_per_zorgkantoor)
{
    zvtb *tb = th_bed(NULL);
    zv_record *recs[3] = {th_zzp("111222333", "100001"), th_zzp("123456782", "200001"),
                          th_zzp("999999990", "300001")};
    th_set(recs[1], "entitlement.funder", "5502");
    zvtb_render out, again;
    ck_assert_int_eq(th_render(tb, 0, recs, 3, &out), 0);
    ck_assert_int_eq(out.np, 2);
    ck_assert_str_ne(out.p[0].idem, out.p[1].idem);
    ck_assert_int_eq(strlen(out.p[0].idem), 12);
    ck_assert_int_eq(out.p[0].n + out.p[1].n, 3);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(th_validate("AW35.xsd", out.p[i].data, out.p[i].len), 0);
    zvtb *retry = th_bed(NULL); /* the same batch id again: a fresh store's first */
    ck_assert_int_eq(th_render(retry, 0, recs, 3, &again), 0);
    ck_assert_str_eq(again.p[0].idem, out.p[0].idem);
    ck_assert_str_eq(again.p[1].idem, out.p[1].idem);
    zvtb_render_free(&again);
    zvtb_free(retry);
    /* The same records once more in the same store: the core sends nothing
     * new (core/change.h: equal to what was last sent for their keys), so
     * no payload, no reject, nothing left staged. */
    ck_assert_int_eq(th_render(tb, 0, recs, 3, &again), 0);
    ck_assert_int_eq(again.np, 0);
    ck_assert_int_eq(again.nr, 0);
    ck_assert_int_eq(again.left_staged, 0);
    zvtb_render_free(&again);
    /* Changed records (other besluiten, the same keys) in the same store:
     * per zorgkantoor the AW35 as sent is withdrawn first (StatusAanlevering
     * 3, its own message), then the changed one goes (1); all with other
     * identifications (catalogue "correction": withdraw, CS058/TR074). */
    zv_record *next[3] = {th_zzp("111222333", "100011"), th_zzp("123456782", "200011"),
                          th_zzp("999999990", "300011")};
    th_set(next[1], "entitlement.funder", "5502");
    ck_assert_int_eq(th_render(tb, 0, next, 3, &again), 0);
    ck_assert_int_eq(again.np, 4);
    int withdrawn = 0, anew = 0, records = 0;
    for (size_t i = 0; i < again.np; i++) {
        const char *x = again.p[i].data;
        ck_assert_int_eq(th_validate("AW35.xsd", x, again.p[i].len), 0);
        ck_assert_str_ne(again.p[i].idem, out.p[0].idem);
        ck_assert_str_ne(again.p[i].idem, out.p[1].idem);
        records += again.p[i].n;
        int is3 = strstr(x, "StatusAanlevering>3<") != NULL;
        int is1 = strstr(x, "StatusAanlevering>1<") != NULL;
        ck_assert_int_eq(is3 + is1, 1); /* a withdrawal travels alone */
        if (is3) {
            withdrawn++;
            continue;
        }
        anew++;
        /* its withdrawal went before it, to the same zorgkantoor */
        const char *to = strstr(x, "Ontvanger>");
        ck_assert_ptr_nonnull(to);
        int before = 0;
        for (size_t j = 0; j < i; j++) {
            const char *w = strstr(again.p[j].data, "Ontvanger>");
            if (strstr(again.p[j].data, "StatusAanlevering>3<") && w && strncmp(w, to, 14) == 0)
                before = 1;
        }
        ck_assert_int_eq(before, 1);
    }
    ck_assert_int_eq(withdrawn, 2);
    ck_assert_int_eq(anew, 2);
    ck_assert_int_eq(records, 6);
    zvtb_render_free(&again);
    th_free_recs(next, 3);
    zvtb_render_free(&out);
    /* With the zorgkantoor option every record goes to that one. */
    zvtb *fixed = th_bed("\"zorgkantoor\": \"5503\"");
    ck_assert_int_eq(th_render(fixed, 0, recs, 3, &out), 0);
    ck_assert_int_eq(out.np, 1);
    ck_assert_ptr_nonnull(strstr(out.p[0].data, "<Ontvanger>5503</Ontvanger>"));
    zvtb_render_free(&out);
    th_free_recs(recs, 3);
    zvtb_free(fixed);
    zvtb_free(tb);
}
END_TEST

/* A header value the XSD refuses (Ontvanger not a zorgkantoor code) spoils
 * that message only: its records are rejected with the schema's text. */
START_TEST(test_header_error_rejects_message)
{
    zvtb *tb = th_bed(NULL);
    zv_record *recs[3] = {th_zzp("111222333", "100001"), th_zzp("123456782", "200001"),
                          th_func("123456782", "200002")};
    th_set(recs[1], "entitlement.funder", "9999");
    th_set(recs[2], "entitlement.funder", "9999");
    zvtb_render out;
    ck_assert_int_eq(th_render(tb, 0, recs, 3, &out), 0);
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
    zvtb_render_free(&out);
    th_free_recs(recs, 3);
    zvtb_free(tb);
}
END_TEST

/* Options the plugin refuses: the core's build fails, naming the plugin
 * and the plugin's reason, for the destination's format_options. */
static void expect_refused(const char *opts, const char *needle)
{
    zvtb *tb = zvtb_new();
    char keys[2048];
    snprintf(keys, sizeof(keys),
             "\"destinations\": [{\"name\": \"dest\", \"format\": \"iwlz\", "
             "\"transport\": \"tbcap\", \"format_options\": %s}]",
             opts);
    zvtb_config(tb, keys);
    ck_assert_int_eq(zvtb_build(tb), -1);
    const char *e = zvtb_errors(tb);
    ck_assert_msg(strstr(e, needle) != NULL, "no '%s' in: %s", needle, e);
    ck_assert_msg(strstr(e, "plugin 'iwlz'") != NULL, "plugin not named: %s", e);
    ck_assert_msg(strstr(e, "destinations[0].format_options") != NULL, "no path: %s", e);
    zvtb_free(tb);
}

START_TEST(test_create_errors)
{
    th_paths();
    char opts[2048];
    snprintf(opts, sizeof(opts), "{\"release_dir\": \"%s\", \"schema_dir\": \"/nonexistent\"}",
             th_release);
    expect_refused(opts, "/nonexistent");
    snprintf(opts, sizeof(opts), "{\"release_dir\": \"%s\", \"afzender\": \"1234\"}", th_release);
    expect_refused(opts, "afzender");
}
END_TEST

/* The official rule set is compiled once per process: a second instance
 * shares the first one's stylesheets. */
START_TEST(test_rules_compiled_once)
{
    zvtb *a = th_bed(NULL);
    ck_assert_int_eq(zvtb_log_count(a, "compiled"), 2); /* AW35.xsl, AW39.xsl */
    zvtb *b = th_bed(NULL);
    ck_assert_int_eq(zvtb_log_count(b, "compiled"), 0);
    zvtb_free(b);
    zvtb_free(a);
    zvtb *c = th_bed(NULL); /* the last instance gone: compiled again */
    ck_assert_int_eq(zvtb_log_count(c, "compiled"), 2);
    zvtb_free(c);
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
