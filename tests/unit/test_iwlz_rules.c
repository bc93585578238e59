/* iWlz plugin: each rule beyond the XSD with a passing and a failing case.
 * Passing: the record is rendered and the message validates against the
 * official XSD and passes the official rule set (run here independently).
 * Failing: the record is rejected with the rule's code and field, no BSN in
 * the text, and appears in no payload.  Every failing fixture of an
 * official code is rendered once more with own_rules off: the official rule
 * set, run in the plugin, must reject the same record with the same code.
 * Both instances run on the testbed and render through the core's flush. */
#include "iwlz_judge.h"

typedef zv_record *(*maker)(const char *bsn, const char *besluit);
typedef void (*tweak)(zv_record *r);

static zvtb *state, *state_official;

static void setup(void)
{
    state = th_bed(NULL);
    state_official = th_bed("\"own_rules\": false");
}

static void teardown(void)
{
    zvtb_free(state);
    zvtb_free(state_official);
}

static zv_record *th_copy(const zv_record *r)
{
    zv_record *c = zv_record_copy(r);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* The same two records judged by the official rule set alone. */
static void expect_official(int message, zv_record **recs, const char *rule)
{
    zv_record *copy[2] = {th_copy(recs[0]), th_copy(recs[1])};
    zvtb_render out;
    ck_assert_int_eq(th_render(state_official, message, copy, 2, &out), 0);
    int official = rule && strncmp(rule, "ZV-", 3) != 0;
    if (!official) {
        /* zinvol's own codes are stricter than the standard: the official
         * set lets the record through. */
        ck_assert_msg(out.nr == 0, "official set rejected %s: %s", out.nr ? out.r[0].rule : "",
                      out.nr ? out.r[0].reason : "");
    } else {
        ck_assert_msg(out.nr == 1,
                      "official set: %zu rejects for a %s fixture: %s %zu %s / %s %zu %s", out.nr,
                      rule, out.r[0].rule, out.r[0].index, out.r[0].reason,
                      out.nr > 1 ? out.r[1].rule : "", out.nr > 1 ? out.r[1].index : 0,
                      out.nr > 1 ? out.r[1].reason : "");
        ck_assert_int_eq(out.r[0].index, 1);
        ck_assert_msg(strcmp(out.r[0].rule, rule) == 0, "official set says %s (%s), zinvol %s",
                      out.r[0].rule, out.r[0].reason, rule);
        ck_assert_ptr_null(strstr(out.r[0].reason, "123456782"));
    }
    ck_assert_int_eq(out.np, 1);
    th_official o;
    ck_assert_msg(
        th_official_check(message == 0 ? "AW35" : "AW39", out.p[0].data, out.p[0].len, &o) == 0,
        "sent message has official errors: %s", o.codes);
    zvtb_render_free(&out);
    th_free_recs(copy, 2);
}

/* Renders [good record, record under test]; the good one must always pass. */
static void expect(int message, maker mk, tweak tw, const char *rule, const char *field)
{
    zv_record *recs[2] = {th_zzp("111222333", "100001"), mk("123456782", "200001")};
    if (message == 1) {
        th_make_end(recs[0]);
        th_make_end(recs[1]);
    }
    if (tw) tw(recs[1]);
    zvtb_render out;
    ck_assert_int_eq(th_render(state, message, recs, 2, &out), 0);
    ck_assert_int_eq(out.np, 1);
    const char *xsd = message == 0 ? "AW35.xsd" : "AW39.xsd";
    ck_assert_msg(th_validate(xsd, out.p[0].data, out.p[0].len) == 0, "%s invalid: %s\n%s", xsd,
                  th_xsd_error, out.p[0].data);
    th_official o;
    ck_assert_msg(
        th_official_check(message == 0 ? "AW35" : "AW39", out.p[0].data, out.p[0].len, &o) == 0,
        "official rules: %s (%s at %s)", o.codes, o.details, o.locatie);
    if (!rule || strcmp(rule, "XSD") != 0) expect_official(message, recs, rule);
    if (!rule) {
        ck_assert_msg(out.nr == 0, "unexpected reject %s %s: %s", out.nr ? out.r[0].rule : "",
                      out.nr ? out.r[0].field : "", out.nr ? out.r[0].reason : "");
        ck_assert_int_eq(out.p[0].n, 2);
    } else {
        ck_assert_int_eq(out.nr, 1);
        ck_assert_int_eq(out.r[0].index, 1);
        ck_assert_str_eq(out.r[0].rule, rule);
        ck_assert_str_eq(out.r[0].field, field);
        ck_assert_ptr_null(strstr(out.r[0].reason, "123456782"));
        ck_assert_int_eq(out.p[0].n, 1);
        ck_assert_int_eq(out.p[0].records[0], 0);
        ck_assert_ptr_null(strstr(out.p[0].data, "123456782"));
    }
    zvtb_render_free(&out);
    th_free_recs(recs, 2);
}

#define RULE_TEST(name, msg, mk, body, rule, field)                                                \
    static void tw_##name(zv_record *r)                                                            \
    {                                                                                              \
        body;                                                                                      \
    }                                                                                              \
    START_TEST(name)                                                                               \
    {                                                                                              \
        expect(msg, mk, tw_##name, rule, field);                                                   \
    }                                                                                              \
    END_TEST

/* CS002: BSN passes the elfproef. */
RULE_TEST(cs002_pass, 0, th_zzp, (void)r, NULL, NULL)
RULE_TEST(cs002_fail, 0, th_zzp, th_set(r, "client.bsn", "123456789"), "CS002", "client.bsn")
/* TR039 (AW35) / TR040 (AW39): at least one delivered unit per client. */
RULE_TEST(tr039_pass, 0, th_func, (void)r, NULL, NULL)
RULE_TEST(tr039_fail, 0, th_func, th_set(r, "entitlement.function_code", NULL), "TR039",
          "entitlement.zzp_code")
RULE_TEST(tr040_fail, 1, th_zzp, th_set(r, "entitlement.zzp_code", NULL), "TR040",
          "entitlement.zzp_code")
/* CS062: Leveringsstatus 4 (in zorg) in AW35. */
RULE_TEST(cs062_pass, 0, th_zzp, th_set(r, "delivery.leveringsstatus", "4"), NULL, NULL)
RULE_TEST(cs062_fail, 0, th_zzp, th_set(r, "delivery.leveringsstatus", "1"), "CS062",
          "delivery.leveringsstatus")
/* CS127: Leveringsvorm of a delivered ZZP not 2 (PGB) or 9 (VKB), AW35 and AW39. */
RULE_TEST(cs127_pass, 0, th_zzp,
          (th_set(r, "delivery.leveringsvorm", "5"), th_set(r, "delivery.sleuteldatum", NULL)),
          NULL, NULL)
RULE_TEST(cs127_fail_pgb, 0, th_zzp,
          (th_set(r, "delivery.leveringsvorm", "2"), th_set(r, "delivery.sleuteldatum", NULL),
           th_set(r, "delivery.klasse", NULL)),
          "CS127", "delivery.leveringsvorm")
RULE_TEST(cs127_fail_vkb_aw39, 1, th_zzp, th_set(r, "delivery.leveringsvorm", "9"), "CS127",
          "delivery.leveringsvorm")
RULE_TEST(cs127_pass_aw39, 1, th_zzp, th_set(r, "delivery.leveringsvorm", "5"), NULL, NULL)
/* TR064: Instelling equals the header Afzender. */
RULE_TEST(tr064_pass, 1, th_func, th_set(r, "delivery.provider_agb", "12345678"), NULL, NULL)
RULE_TEST(tr064_fail, 0, th_func, th_set(r, "delivery.provider_agb", "87654321"), "TR064",
          "delivery.provider_agb")
/* CD004: Sleuteldatum only with Leveringsvorm 4. */
RULE_TEST(cd004_pass, 0, th_zzp,
          (th_set(r, "delivery.leveringsvorm", "5"), th_set(r, "delivery.sleuteldatum", NULL)),
          NULL, NULL)
RULE_TEST(cd004_fail, 0, th_zzp, th_set(r, "delivery.leveringsvorm", "5"), "CD004",
          "delivery.sleuteldatum")
/* CD051: Klasse required for Leveringsvorm 4/5, not allowed for 2/7. */
RULE_TEST(cd051_pass_mpt, 0, th_zzp,
          (th_set(r, "delivery.leveringsvorm", "7"), th_set(r, "delivery.sleuteldatum", NULL),
           th_set(r, "delivery.klasse", NULL)),
          NULL, NULL)
RULE_TEST(cd051_fail_missing, 0, th_zzp, th_set(r, "delivery.klasse", NULL), "CD051",
          "delivery.klasse")
RULE_TEST(cd051_fail_mpt, 0, th_zzp,
          (th_set(r, "delivery.leveringsvorm", "7"), th_set(r, "delivery.sleuteldatum", NULL)),
          "CD051", "delivery.klasse")
RULE_TEST(cd051_fail_dtv, 0, th_zzp,
          (th_set(r, "delivery.leveringsvorm", "8"), th_set(r, "delivery.sleuteldatum", NULL),
           th_set(r, "delivery.etmalen", "4")),
          "CD051", "delivery.klasse")
/* CS088: Sleuteldatum before Begindatum. */
RULE_TEST(cs088_fail, 0, th_zzp, th_set(r, "delivery.sleuteldatum", "2026-10-05"), "CS088",
          "delivery.sleuteldatum")
/* TR010: Opslag only with the function's highest Klasse; TR034: never for 71. */
RULE_TEST(tr010_fail, 0, th_func, th_set(r, "delivery.klasse", "K3"), "TR010", "delivery.opslag")
RULE_TEST(tr010_pass_no_opslag, 0, th_func,
          (th_set(r, "delivery.klasse", "K3"), th_set(r, "delivery.opslag", NULL)), NULL, NULL)
RULE_TEST(tr034_fail, 0, th_func,
          (th_set(r, "entitlement.function_code", "71"), th_set(r, "delivery.klasse", "KE7")),
          "TR034", "delivery.opslag")
/* CS074: Klasse of a ZZP is KE4..KE7. */
RULE_TEST(cs074_pass, 0, th_zzp, th_set(r, "delivery.klasse", "KE7"), NULL, NULL)
RULE_TEST(cs074_fail, 0, th_zzp, th_set(r, "delivery.klasse", "K3"), "CS074", "delivery.klasse")
/* CD072: Etmalen if and only if Leveringsvorm 8 (deeltijdverblijf). */
RULE_TEST(cd072_pass, 0, th_zzp,
          (th_set(r, "delivery.leveringsvorm", "8"), th_set(r, "delivery.sleuteldatum", NULL),
           th_set(r, "delivery.klasse", NULL), th_set(r, "delivery.etmalen", "3.5")),
          NULL, NULL)
RULE_TEST(cd072_fail_extra, 0, th_zzp, th_set(r, "delivery.etmalen", "4"), "CD072",
          "delivery.etmalen")
RULE_TEST(cd072_fail_missing, 0, th_zzp,
          (th_set(r, "delivery.leveringsvorm", "8"), th_set(r, "delivery.sleuteldatum", NULL),
           th_set(r, "delivery.klasse", NULL)),
          "CD072", "delivery.etmalen")
/* CS058: StatusAanlevering 1 or 3. */
RULE_TEST(cs058_pass, 0, th_func, th_set(r, "delivery.status", "3"), NULL, NULL)
RULE_TEST(cs058_fail, 0, th_func, th_set(r, "delivery.status", "2"), "CS058", "delivery.status")
/* CS023: no date after the Dagtekening (2026-11-23). */
RULE_TEST(cs023_pass, 0, th_func, th_set(r, "delivery.start", "2026-11-23"), NULL, NULL)
RULE_TEST(cs023_fail_start, 0, th_func, th_set(r, "delivery.start", "2026-11-24"), "CS023",
          "delivery.start")
RULE_TEST(cs023_fail_birth, 0, th_func, th_set(r, "client.birth_date", "2027-01-01"), "CS023",
          "client.birth_date")
RULE_TEST(cs023_fail_mutation, 1, th_func, th_set(r, "delivery.end", "2026-12-01"), "CS023",
          "delivery.end")
/* Date order: Begindatum not before ToewijzingIngangsdatum. */
RULE_TEST(d01_pass, 0, th_zzp,
          (th_set(r, "delivery.start", "2026-10-01"), th_set(r, "delivery.sleuteldatum", NULL)),
          NULL, NULL)
RULE_TEST(d01_fail, 0, th_zzp,
          (th_set(r, "delivery.start", "2026-09-30"), th_set(r, "delivery.sleuteldatum", NULL)),
          "ZV-D01", "delivery.start")
/* Date order: Mutatiedatum / Einddatum not before Begindatum. */
RULE_TEST(d02_pass, 1, th_func, th_set(r, "delivery.mutation_date", "2026-10-05"), NULL, NULL)
RULE_TEST(d02_fail, 1, th_func, th_set(r, "delivery.mutation_date", "2026-10-04"), "TR018",
          "delivery.mutation_date")
RULE_TEST(d03_fail, 1, th_func,
          (th_set(r, "delivery.mutation_date", "2026-10-06"),
           th_set(r, "delivery.end", "2026-10-04")),
          "ZV-D03", "delivery.end")
/* Required by the XSD but absent: rejected, not rendered. */
RULE_TEST(xsd_required_fail, 1, th_func, th_set(r, "delivery.mutation_code", NULL), "XSD",
          "delivery.mutation_code")

/* AW39 mutation semantics: what each Mutatiecode demands. */
static void mutation(zv_record *r, const char *code, const char *status, const char *cls)
{
    th_set(r, "delivery.mutation_code", code);
    th_set(r, "delivery.leveringsstatus", status);
    th_set(r, "delivery.leveringsstatus_class", cls);
    if (!strcmp(code, "12") || !strcmp(code, "18") || !strcmp(code, "17") || !strcmp(code, "21")) {
        th_set(r, "delivery.end", NULL);
        th_set(r, "delivery.mutation_date", "2026-11-01");
    }
    if (!strcmp(code, "12") || !strcmp(code, "18") || !strcmp(code, "21"))
        th_set(r, "delivery.start", NULL);
}
/* TR066: Begindatum for 17/19/20, none for 12/18/21. */
RULE_TEST(tr066_pass_12, 1, th_zzp, mutation(r, "12", "3", "13"), NULL, NULL)
RULE_TEST(tr066_fail_12_start, 1, th_zzp,
          (mutation(r, "12", "5", NULL), th_set(r, "delivery.start", "2026-10-05")), "TR066",
          "delivery.start")
RULE_TEST(tr066_fail_19_no_start, 1, th_func, th_set(r, "delivery.start", NULL), "TR066",
          "delivery.start")
/* CD020: InstellingBestemming for 17/21 only. */
RULE_TEST(cd020_pass_17, 1, th_zzp,
          (mutation(r, "17", NULL, NULL), th_set(r, "delivery.destination_agb", "87654321")), NULL,
          NULL)
RULE_TEST(cd020_pass_21_func, 1, th_func,
          (mutation(r, "21", NULL, NULL), th_set(r, "delivery.destination_agb", "87654321")), NULL,
          NULL)
RULE_TEST(cd020_fail_17, 1, th_zzp, mutation(r, "17", NULL, NULL), "CD020",
          "delivery.destination_agb")
RULE_TEST(cd020_fail_19, 1, th_func, th_set(r, "delivery.destination_agb", "87654321"), "CD020",
          "delivery.destination_agb")
/* TR046: the Leveringsstatus of each Mutatiecode; 5 written for 17/19/21. */
RULE_TEST(tr046_pass_derived, 1, th_zzp, th_set(r, "delivery.leveringsstatus", NULL), NULL, NULL)
RULE_TEST(tr046_pass_18, 1, th_zzp, mutation(r, "18", "7", "10"), NULL, NULL)
RULE_TEST(tr046_pass_20, 1, th_zzp, mutation(r, "20", "6", "02"), NULL, NULL)
RULE_TEST(tr046_fail_20, 1, th_zzp, mutation(r, "20", "5", NULL), "TR046",
          "delivery.leveringsstatus")
RULE_TEST(tr046_fail_19, 1, th_zzp, mutation(r, "19", "4", NULL), "TR046",
          "delivery.leveringsstatus")
/* CS133: never 1 in AW39. */
RULE_TEST(cs133_fail, 1, th_zzp, mutation(r, "20", "1", NULL), "CS133", "delivery.leveringsstatus")
/* CD090 / CS131: a classification for 2/3/6/7, one of that status. */
RULE_TEST(cd090_fail_missing, 1, th_zzp, mutation(r, "20", "2", NULL), "CD090",
          "delivery.leveringsstatus_class")
RULE_TEST(cd090_fail_extra, 1, th_zzp, mutation(r, "19", "5", "01"), "CD090",
          "delivery.leveringsstatus_class")
RULE_TEST(cs131_fail, 1, th_zzp, mutation(r, "18", "6", "13"), "CS131",
          "delivery.leveringsstatus_class")
/* TR097: DatumGebruik agrees with the Geboortedatum. */
RULE_TEST(tr097_pass, 0, th_zzp, th_set(r, "client.birth_date_usage", "1"), NULL, NULL)
RULE_TEST(tr097_fail, 0, th_zzp, th_set(r, "client.birth_date_usage", "2"), "TR097",
          "client.birth_date_usage")

/* TR101: the same product twice for one client in one message. */
START_TEST(tr101_duplicate)
{
    zv_record *recs[3] = {th_zzp("111222333", "100001"), th_zzp("111222333", "100001"),
                          th_zzp("111222333", "100002")};
    zvtb_render out;
    ck_assert_int_eq(th_render(state, 0, recs, 3, &out), 0);
    ck_assert_int_eq(out.nr, 1);
    ck_assert_int_eq(out.r[0].index, 1);
    ck_assert_str_eq(out.r[0].rule, "TR101");
    ck_assert_int_eq(out.p[0].n, 2);
    ck_assert_int_eq(th_validate("AW35.xsd", out.p[0].data, out.p[0].len), 0);
    zvtb_render_free(&out);
    th_free_recs(recs, 3);
}
END_TEST

/* ZV-C01: all records of one BSN in a message agree on the client block. */
START_TEST(c01_client_conflict)
{
    zv_record *recs[3] = {th_zzp("111222333", "100001"), th_func("111222333", "100002"),
                          th_func("111222333", "100003")};
    /* Absent optional parts (th_func has none) are no conflict; a different
     * family name is. */
    th_set(recs[2], "client.family_name", "Jansen-Smit");
    zvtb_render out;
    ck_assert_int_eq(th_render(state, 0, recs, 3, &out), 0);
    ck_assert_int_eq(out.nr, 1);
    ck_assert_int_eq(out.r[0].index, 2);
    ck_assert_str_eq(out.r[0].rule, "ZV-C01");
    ck_assert_str_eq(out.r[0].field, "client.family_name");
    ck_assert_int_eq(out.p[0].n, 2);
    ck_assert_int_eq(th_count(out.p[0].data, "<Client>"), 1);
    ck_assert_int_eq(th_validate("AW35.xsd", out.p[0].data, out.p[0].len), 0);
    zvtb_render_free(&out);
    th_free_recs(recs, 3);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("iwlz_rules");
    TCase *tc = tcase_create("rules");
    /* A bed per test: each test's records meet an empty store, as the
     * core sends a record only when it differs from what was last sent for
     * its key (core/change.h), and a forked test must not share the
     * parent's store connection. */
    tcase_add_checked_fixture(tc, setup, teardown);
    const TTest *const tests[] = {cs002_pass,
                                  cs002_fail,
                                  tr039_pass,
                                  tr039_fail,
                                  tr040_fail,
                                  cs062_pass,
                                  cs062_fail,
                                  cs127_pass,
                                  cs127_fail_pgb,
                                  cs127_fail_vkb_aw39,
                                  cs127_pass_aw39,
                                  tr064_pass,
                                  tr064_fail,
                                  cd004_pass,
                                  cd004_fail,
                                  cd051_pass_mpt,
                                  cd051_fail_missing,
                                  cd051_fail_mpt,
                                  cd051_fail_dtv,
                                  cs088_fail,
                                  tr010_fail,
                                  tr010_pass_no_opslag,
                                  tr034_fail,
                                  cs074_pass,
                                  cs074_fail,
                                  cd072_pass,
                                  cd072_fail_extra,
                                  cd072_fail_missing,
                                  cs058_pass,
                                  cs058_fail,
                                  cs023_pass,
                                  cs023_fail_start,
                                  cs023_fail_birth,
                                  cs023_fail_mutation,
                                  d01_pass,
                                  d01_fail,
                                  d02_pass,
                                  d02_fail,
                                  d03_fail,
                                  xsd_required_fail,
                                  tr066_pass_12,
                                  tr066_fail_12_start,
                                  tr066_fail_19_no_start,
                                  cd020_pass_17,
                                  cd020_pass_21_func,
                                  cd020_fail_17,
                                  cd020_fail_19,
                                  tr046_pass_derived,
                                  tr046_pass_18,
                                  tr046_pass_20,
                                  tr046_fail_20,
                                  tr046_fail_19,
                                  cs133_fail,
                                  cd090_fail_missing,
                                  cd090_fail_extra,
                                  cs131_fail,
                                  tr097_pass,
                                  tr097_fail,
                                  tr101_duplicate,
                                  c01_client_conflict};
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
