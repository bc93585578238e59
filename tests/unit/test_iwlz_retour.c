/* iWlz plugin on the testbed: AW36/AW310 retour handling with hand-made
 * instances that validate against their official XSDs; verdicts go through
 * the core's collector (zv_verdict_add), payloads come from its outbox. */
#include "iwlz_judge.h"

static zvtb *state;

static void setup(void)
{
    state = th_bed(NULL);
}

static void teardown(void)
{
    zvtb_free(state);
}

static const zv_verdict *find(const zv_verdict_out *o, const char *key)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->v[i].record_key, key) == 0) return &o->v[i];
    ck_abort_msg("no verdict for %s", key);
    return NULL;
}

static int interpret(const char *fixture, const char *payload, size_t plen, zv_verdict_out *out,
                     const char *xsd)
{
    size_t len;
    char *body = th_read_fixture(fixture, &len);
    if (xsd) ck_assert_msg(th_validate(xsd, body, len) == 0, "%s: %s", fixture, th_xsd_error);
    zv_answer a = {ZV_SIZED(zv_answer), .status = 0, .content_type = "application/xml",
                   .body = body,        .len = len,  .payload = payload,
                   .payload_len = plen};
    int rc = zvtb_interpret(state, &a, out);
    free(body);
    return rc;
}

START_TEST(aw36_accepted_and_rejected)
{
    zv_verdict_out out;
    ck_assert_int_eq(interpret("aw36-mixed.xml", NULL, 0, &out, "AW36.xsd"), 0);
    ck_assert_int_eq(out.n, 3);
    const zv_verdict *a = find(&out, "111222333/100001");
    ck_assert_int_eq(a->accepted, 1);
    ck_assert_str_eq(a->codes, "0200");
    ck_assert_str_eq(a->reason, "0200: Geen opmerking over deze berichtklasse.");
    ck_assert_int_eq(find(&out, "111222333/100002")->accepted, 1);
    const zv_verdict *r = find(&out, "123456782/200001");
    ck_assert_int_eq(r->accepted, 0);
    ck_assert_ptr_nonnull(strstr(r->codes, "0448"));
    ck_assert_ptr_nonnull(strstr(r->codes, "0233"));
    ck_assert_ptr_nonnull(strstr(r->reason, "0448: Client kan niet geidentificeerd worden."));
    ck_assert_ptr_nonnull(strstr(r->reason, "0233: Berichtklasse is niet beoordeeld."));
}
END_TEST

START_TEST(aw310_accepted_and_rejected)
{
    zv_verdict_out out;
    ck_assert_int_eq(interpret("aw310-mixed.xml", NULL, 0, &out, "AW310.xsd"), 0);
    ck_assert_int_eq(out.n, 2);
    ck_assert_int_eq(find(&out, "111222333/100001")->accepted, 1);
    const zv_verdict *r = find(&out, "999999990/300001");
    ck_assert_int_eq(r->accepted, 0);
    ck_assert_str_eq(r->codes, "0200,0699");
    ck_assert_ptr_nonnull(strstr(r->reason, "0699: STARTDATUM levering ontbreekt of is onjuist."));
}
END_TEST

/* The whole message refused in the header, no clients named: the codes
 * apply to every product of the payload the retour answers. */
START_TEST(aw36_header_rejection_uses_payload)
{
    zv_record *recs[2] = {th_zzp("111222333", "100001"), th_func("123456782", "200001")};
    zvtb_render ro;
    ck_assert_int_eq(th_render(state, 0, recs, 2, &ro), 0);
    ck_assert_int_eq(ro.np, 1);
    zv_verdict_out out;
    ck_assert_int_eq(
        interpret("aw36-header-rejected.xml", ro.p[0].data, ro.p[0].len, &out, "AW36.xsd"), 0);
    ck_assert_int_eq(out.n, 2);
    for (size_t i = 0; i < ro.p[0].n; i++) {
        const zv_verdict *v = find(&out, ro.p[0].keys[i]);
        ck_assert_int_eq(v->accepted, 0);
        ck_assert_str_eq(v->codes, "0001");
        ck_assert_str_eq(v->reason, "0001: Bericht is afgekeurd om technische redenen.");
    }
    /* Without the payload there is nothing to apply the codes to. */
    ck_assert_int_eq(interpret("aw36-header-rejected.xml", NULL, 0, &out, NULL), -1);
    zvtb_render_free(&ro);
    th_free_recs(recs, 2);
}
END_TEST

/* Clients named without (all) their products: the products of the payload
 * the retour leaves out get their client's codes. */
START_TEST(aw36_partial_uses_client_codes)
{
    zv_record *recs[3] = {th_zzp("111222333", "100001"), th_func("111222333", "100002"),
                          th_func("123456782", "200001")};
    zvtb_render ro;
    ck_assert_int_eq(th_render(state, 0, recs, 3, &ro), 0);
    zv_verdict_out out;
    ck_assert_int_eq(interpret("aw36-partial.xml", ro.p[0].data, ro.p[0].len, &out, "AW36.xsd"), 0);
    ck_assert_int_eq(out.n, 3);
    ck_assert_int_eq(find(&out, "111222333/100001")->accepted, 1);
    ck_assert_int_eq(find(&out, "111222333/100002")->accepted, 1);
    const zv_verdict *r = find(&out, "123456782/200001");
    ck_assert_int_eq(r->accepted, 0);
    ck_assert_str_eq(r->codes, "0200,0448");
    /* Without the payload only the named products get a verdict. */
    ck_assert_int_eq(interpret("aw36-partial.xml", NULL, 0, &out, NULL), 0);
    ck_assert_int_eq(out.n, 1);
    zvtb_render_free(&ro);
    th_free_recs(recs, 3);
}
END_TEST

START_TEST(invalid_answers)
{
    zv_verdict_out out;
    size_t len;
    char *body = th_read_fixture("aw36-invalid.xml", &len);
    ck_assert_int_ne(th_validate("AW36.xsd", body, len), 0);
    free(body);
    ck_assert_int_eq(interpret("aw36-invalid.xml", NULL, 0, &out, NULL), -1);
    ck_assert_ptr_nonnull(strstr(zvtb_log_last(state), "AW36.xsd"));
    ck_assert_int_eq(out.n, 0);
    zv_answer a = {ZV_SIZED(zv_answer), .status = 200, .body = "not xml", .len = 7};
    ck_assert_int_eq(zvtb_interpret(state, &a, &out), -1);
    ck_assert_ptr_nonnull(strstr(zvtb_log_last(state), "not XML"));
    /* An AW35 is not a retour. */
    zv_record *recs[1] = {th_zzp("111222333", "100001")};
    zvtb_render ro;
    ck_assert_int_eq(th_render(state, 0, recs, 1, &ro), 0);
    zv_answer b = {ZV_SIZED(zv_answer), .status = 200, .body = ro.p[0].data, .len = ro.p[0].len};
    ck_assert_int_eq(zvtb_interpret(state, &b, &out), -1);
    ck_assert_ptr_nonnull(strstr(zvtb_log_last(state), "neither an AW36 nor an AW310"));
    zvtb_render_free(&ro);
    th_free_recs(recs, 1);
}
END_TEST

/* Issue 10 D13: a delivery through the file-drop transport brings no answer
 * (status 0, 0 bytes, the payload it was about).  That is no retour and
 * nothing wrong: no verdicts, no error or warning in the log.  An empty
 * file handed to zinvolctl retour (no payload) is still refused. */
START_TEST(empty_answer_after_delivery)
{
    zv_record *recs[1] = {th_zzp("111222333", "100001")};
    zvtb_render ro;
    ck_assert_int_eq(th_render(state, 0, recs, 1, &ro), 0);
    ck_assert_int_eq(ro.np, 1);
    zv_verdict_out out;
    zvtb_log_reset(state);
    zv_answer a = {
        ZV_SIZED(zv_answer),       .status = 0, .body = "", .len = 0, .payload = ro.p[0].data,
        .payload_len = ro.p[0].len};
    ck_assert_int_eq(zvtb_interpret(state, &a, &out), 0);
    ck_assert_int_eq(out.n, 0);
    ck_assert_msg(zvtb_log_problems(state) == 0, "logged: %s", zvtb_log_worst(state));
    zv_answer http = {
        ZV_SIZED(zv_answer),       .status = 204, .body = "", .len = 0, .payload = ro.p[0].data,
        .payload_len = ro.p[0].len};
    ck_assert_int_eq(zvtb_interpret(state, &http, &out), 0);
    ck_assert_int_eq(zvtb_log_problems(state), 0);
    zv_answer cli = {ZV_SIZED(zv_answer), .status = 0, .body = "", .len = 0};
    ck_assert_int_eq(zvtb_interpret(state, &cli, &out), -1);
    zvtb_render_free(&ro);
    th_free_recs(recs, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("iwlz_retour");
    TCase *tc = tcase_create("retour");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, aw36_accepted_and_rejected);
    tcase_add_test(tc, aw310_accepted_and_rejected);
    tcase_add_test(tc, aw36_header_rejection_uses_payload);
    tcase_add_test(tc, aw36_partial_uses_client_codes);
    tcase_add_test(tc, invalid_answers);
    tcase_add_test(tc, empty_answer_after_delivery);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
