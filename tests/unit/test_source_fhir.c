/* fhir source plugin against a real FHIR fixture on 127.0.0.1 serving paged
 * Bundles of nl-core-shaped resources generated here. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

#include "fixture.h"
#include "zvtb_src.h"

static const char *MAPPING =
    "{\"records\": ["
    " {\"when\": {\"type\": \"Patient\"}, \"kind\": \"client\", \"fields\": {"
    "  \"client.bsn\": \"Patient.identifier[bsn].value\","
    "  \"client.family_name\": \"Patient.name.family.extension[humanname-own-name].value\","
    "  \"client.name_prefix\": \"Patient.name.family.extension[humanname-own-prefix].value\","
    "  \"client.given_names\": \"Patient.name.given\","
    "  \"client.birth_date\": \"Patient.birthDate\","
    "  \"client.sex\": {\"from\": \"Patient.gender\", \"map\": {\"male\": \"1\", \"female\": \"2\","
    "                 \"other\": \"0\", \"unknown\": \"0\"}}}},"
    " {\"when\": {\"type\": \"EpisodeOfCare\"}, \"kind\": \"delivery\", \"fields\": {"
    "  \"client.bsn\": \"Patient.identifier[bsn].value\","
    "  \"entitlement.law\": {\"value\": \"wlz\"}, \"entitlement.funder\": {\"value\": \"5501\"},"
    "  \"delivery.start\": \"EpisodeOfCare.period.start\","
    "  \"delivery.end\": \"EpisodeOfCare.period.end\"}}]}";

static const char *BSNS[] = {"999900006", "999900018", "999900031", "999900043", "999900055",
                             "999900067", "999900079", "999900080", "999900092"};

static zvf_server fhir;
static char base[128];

static void setup(void)
{
    char script[512];
    snprintf(script, sizeof(script), "%s/fhir_server.py", getenv("ZV_ECD_FIXTURE"));
    const char *args[] = {"--token", "fhir-token", NULL};
    ck_assert_int_eq(zvf_start(&fhir, script, args), 0);
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", fhir.port);
}

static void teardown(void)
{
    zvf_stop(&fhir);
}

static void admin(const char *what, const char *json)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/admin/%s", base, what);
    ck_assert_int_eq(zvf_http("POST", url, json, NULL, NULL), 200);
}

static void patient(zv_buf *b, int i, const char *updated, const char *family)
{
    static const char *gender[] = {"male", "female", "other", "unknown"};
    zv_buf_printf(
        b,
        "%s{\"resourceType\": \"Patient\", \"id\": \"p%d\","
        " \"meta\": {\"lastUpdated\": \"%s\", \"profile\": "
        "[\"http://nictiz.nl/fhir/StructureDefinition/nl-core-Patient\"]},"
        " \"identifier\": [{\"system\": \"http://example.org/mrn\", \"value\": \"MRN%d\"},"
        "   {\"system\": \"http://fhir.nl/fhir/NamingSystem/bsn\", \"value\": \"%s\"}],"
        " \"name\": [{\"use\": \"official\", \"family\": \"van %s\","
        "   \"_family\": {\"extension\": ["
        "     {\"url\": \"http://hl7.org/fhir/StructureDefinition/humanname-own-prefix\","
        "      \"valueString\": \"van\"},"
        "     {\"url\": \"http://hl7.org/fhir/StructureDefinition/humanname-own-name\","
        "      \"valueString\": \"%s\"}]},"
        "   \"given\": [\"Anna\", \"Maria\"]}],"
        " \"gender\": \"%s\", \"birthDate\": \"19%02d-0%d-1%d\"}",
        b->len > 1 ? ", " : "", i, updated, i, BSNS[i % 9], family, family, gender[i % 4], 30 + i,
        1 + i % 9, i % 10);
}

static void episode(zv_buf *b, int i, int pat, const char *updated)
{
    zv_buf_printf(b,
                  "%s{\"resourceType\": \"EpisodeOfCare\", \"id\": \"e%d\","
                  " \"meta\": {\"lastUpdated\": \"%s\"}, \"status\": \"active\","
                  " \"patient\": {\"reference\": \"Patient/p%d\"},"
                  " \"period\": {\"start\": \"2025-0%d-01\"}}",
                  b->len > 1 ? ", " : "", i, updated, pat, 1 + i);
}

/* 7 patients and 3 episodes, lastUpdated 10:00:0i */
static void load(int npat)
{
    zv_buf b;
    zv_buf_init(&b);
    zv_buf_puts(&b, "[");
    for (int i = 0; i < npat; i++) {
        char ts[40];
        snprintf(ts, sizeof(ts), "2026-01-01T10:00:%02dZ", i);
        patient(&b, i, ts, "Dijk");
    }
    for (int i = 0; i < 3; i++)
        episode(&b, i, i * 2, "2026-01-01T11:00:00Z");
    zv_buf_puts(&b, "]");
    admin("load", b.data);
    zv_buf_free(&b);
}

static char *stats(void)
{
    char url[256], *body = NULL;
    snprintf(url, sizeof(url), "%s/admin/stats", base);
    ck_assert_int_eq(zvf_http("GET", url, NULL, NULL, &body), 200);
    return body;
}

static int count_str(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static zvs_host *host(void)
{
    char opts[1024], err[256];
    snprintf(opts, sizeof(opts),
             "{\"base_url\": \"%s/fhir\", \"bearer_token\": \"fhir-token\", \"page_size\": 3,"
             " \"backoff_initial\": \"0s\", \"max_retries\": 3}",
             base);
    zvs_host *h = zvs_new(opts, MAPPING, err, sizeof(err));
    ck_assert_msg(h != NULL, "%s", err);
    ck_assert_msg(zvs_start(h, "in_fhir.so", err, sizeof(err)) == 0, "%s", err);
    return h;
}

START_TEST(pages_patients_and_episodes)
{
    load(7);
    zvs_host *h = host();
    ck_assert_int_eq(zvs_drain(h, 20000), 0);
    ck_assert_msg(zvs_nrecords(h) == 10, "%zu records, %zu quarantined (%s)", zvs_nrecords(h),
                  zvs_nquarantine(h),
                  zvs_nquarantine(h) ? zvs_quarantine(h, 0)->reason : zvs_last_warning(h));
    const zvs_rec *p = zvs_find(h, "Patient/p1");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(zv_rec_str(p->rec, ZV_F_CLIENT_BSN), "999900018");
    ck_assert_str_eq(zv_rec_str(p->rec, ZV_F_CLIENT_FAMILY_NAME), "Dijk");
    ck_assert_str_eq(zv_rec_str(p->rec, ZV_F_CLIENT_NAME_PREFIX), "van");
    ck_assert_str_eq(zv_rec_str(p->rec, ZV_F_CLIENT_GIVEN_NAMES), "Anna");
    ck_assert_str_eq(zv_rec_str(p->rec, ZV_F_CLIENT_SEX), "2");
    ck_assert_str_eq(zv_rec_str(zvs_find(h, "Patient/p2")->rec, ZV_F_CLIENT_SEX), "0");
    const zvs_rec *e = zvs_find(h, "EpisodeOfCare/e1");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->rec->kind, ZV_KIND_DELIVERY);
    ck_assert_str_eq(zv_rec_str(e->rec, ZV_F_CLIENT_BSN), "999900031"); /* patient p2 */
    ck_assert_str_eq(zv_rec_str(e->rec, ZV_F_DEL_START), "2025-02-01");
    ck_assert_str_eq(zvs_watermark(h, "Patient.lastUpdated"), "2026-01-01T10:00:06Z");
    ck_assert_str_eq(zvs_watermark(h, "EpisodeOfCare.lastUpdated"), "2026-01-01T11:00:00Z");
    char *st = stats();
    ck_assert_int_eq(count_str(st, "/fhir/Patient?"), 3); /* 7 in pages of 3 */
    ck_assert_ptr_nonnull(strstr(st, "\"last_auth\": \"Bearer fhir-token\""));
    free(st);
    /* Incremental: one new patient, one changed. */
    zv_buf b;
    zv_buf_init(&b);
    zv_buf_puts(&b, "[");
    for (int i = 0; i < 8; i++)
        patient(&b, i, i < 6 ? "2026-01-01T10:00:00Z" : "2026-01-02T09:00:00Z",
                i == 6 ? "Berg" : "Dijk");
    zv_buf_puts(&b, "]");
    admin("load", b.data);
    zv_buf_free(&b);
    ck_assert_int_eq(zvs_drain(h, 20000), 0);
    ck_assert_uint_eq(zvs_nrecords(h), 12);
    st = stats();
    ck_assert_ptr_nonnull(strstr(st, "_lastUpdated=gt2026-01-01T10%3A00%3A06Z"));
    free(st);
    zvs_free(h);
}
END_TEST

START_TEST(operation_outcome_and_backoff)
{
    load(4);
    zvs_host *h = host();
    admin("outcome", "{\"count\": 1}");
    ck_assert_int_eq(zvs_drain(h, 20000), 0);
    ck_assert_int_eq(zvs_counter(h, "fhir_errors"), 1);
    /* The episodes still came; e2's patient p4 does not exist, so it has no
     * BSN and is quarantined naming the field. */
    ck_assert_uint_eq(zvs_nrecords(h), 2);
    ck_assert_uint_eq(zvs_nquarantine(h), 1);
    ck_assert_str_eq(zvs_quarantine(h, 0)->field, "client.bsn");
    ck_assert_str_eq(zvs_quarantine(h, 0)->record_id, "EpisodeOfCare/e2");
    ck_assert_ptr_null(zvs_watermark(h, "Patient.lastUpdated"));
    /* 429 with Retry-After and a 503: retried, then everything arrives. */
    admin("fail", "{\"status\": 429, \"count\": 1, \"retry_after\": 1}");
    ck_assert_int_eq(zvs_drain(h, 20000), 0);
    ck_assert_uint_eq(zvs_nrecords(h), 6);
    ck_assert_int_eq(zvs_counter(h, "fhir_retries"), 1);
    admin("fail", "{\"status\": 503, \"count\": 5}");
    ck_assert_int_eq(zvs_drain(h, 20000), 0); /* gives up after max_retries */
    ck_assert_int_eq(zvs_counter(h, "fhir_errors"), 2);
    zvs_free(h);
}
END_TEST

START_TEST(broken_next_link)
{
    load(7);
    zvs_host *h = host();
    admin("broken_next", "{\"mode\": \"gone\", \"from_page\": 1}");
    ck_assert_int_eq(zvs_drain(h, 20000), 0);
    ck_assert_int_eq(zvs_counter(h, "paging_restarted"), 1);
    ck_assert_uint_eq(zvs_nrecords(h), 3 + 3); /* first Patient page, the episodes */
    ck_assert_msg(strstr(zvs_last_warning(h), "paging context expired"), "%s", zvs_last_warning(h));
    ck_assert_ptr_null(zvs_watermark(h, "Patient.lastUpdated"));
    /* A next link to another server is never followed. */
    admin("broken_next", "{\"mode\": \"foreign\", \"from_page\": 1}");
    ck_assert_int_eq(zvs_drain(h, 20000), 0);
    ck_assert_msg(strstr(zvs_last_warning(h), "another server"), "%s", zvs_last_warning(h));
    /* Fixed: the search starts over, the first page's records are duplicates. */
    admin("broken_next", "{\"mode\": \"\"}");
    ck_assert_int_eq(zvs_drain(h, 20000), 0);
    ck_assert_uint_eq(zvs_nrecords(h), 10);
    ck_assert_str_eq(zvs_watermark(h, "Patient.lastUpdated"), "2026-01-01T10:00:06Z");
    zvs_free(h);
}
END_TEST

static int emitted_at_least(zvs_host *h, void *arg)
{
    return zvs_nemits(h) >= *(size_t *)arg;
}

START_TEST(restart_mid_paging)
{
    load(7);
    zvs_host *h = host();
    /* Page 1 (p0-p2) is committed; the store fails inside page 2. */
    zvs_fail_emits(h, 4, 1000);
    size_t want = 5;
    ck_assert(zvs_run_until(h, emitted_at_least, &want, 20000));
    zvs_crash(h);
    ck_assert_uint_eq(zvs_nrecords(h), 3);
    ck_assert_ptr_nonnull(strstr(zvs_watermark(h, "Patient.next"), "_page=1"));
    zvs_fail_emits(h, 0, 0);
    char err[256];
    ck_assert_int_eq(zvs_start(h, "in_fhir.so", err, sizeof(err)), 0);
    ck_assert_int_eq(zvs_drain(h, 20000), 0);
    ck_assert_uint_eq(zvs_nrecords(h), 10);
    for (int i = 0; i < 7; i++) {
        char id[32];
        snprintf(id, sizeof(id), "Patient/p%d", i);
        int n = 0;
        for (size_t k = 0; k < zvs_nrecords(h); k++)
            n += strcmp(zvs_record(h, k)->record_id, id) == 0;
        ck_assert_int_eq(n, 1);
    }
    zvs_free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("source_fhir");
    TCase *tc = tcase_create("fhir");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, pages_patients_and_episodes);
    tcase_add_test(tc, operation_outcome_and_backoff);
    tcase_add_test(tc, broken_next_link);
    tcase_add_test(tc, restart_mid_paging);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
