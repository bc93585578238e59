/* Redundancy analysis and renderers on a small scenario
 * (tests/fixtures/catalogue/audit): every flag kind, exact json and csv. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "audit/audit.h"

static char fixdir[4096];

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

static zv_catalogue *load(const char *name, const char *override, const char *path)
{
    char file[4200];
    snprintf(file, sizeof(file), "%s/%s", fixdir, name);
    zv_errors errs;
    zv_errors_init(&errs);
    zv_catalogue *cat = zv_catalogue_load(file, &errs);
    ck_assert_msg(cat != NULL, "%s", errs.n ? errs.lines[0] : file);
    char err[256];
    zv_json_doc *d = zv_json_parse(override, strlen(override), ZV_JSON_COMMENTS, err, sizeof(err));
    ck_assert_msg(d != NULL, "%s", err);
    ck_assert_int_eq(zv_catalogue_override(cat, zv_json_root(d), "scenario.conf", path, &errs), 0);
    zv_json_free(d);
    zv_errors_free(&errs);
    return cat;
}

typedef struct scenario {
    zv_catalogue *zk, *cbs;
    zv_audit_msg zk_msgs[1], cbs_msgs[1];
    unsigned char zk_delivered[ZV_FIELD_COUNT]; /* from the trail; cbs has none */
    zv_audit_dest dests[3];
    int ons_fields[7];
    zv_audit_source sources[1];
    zv_audit_count counts[6];
    zv_audit_input in;
} scenario;

static void scenario_init(scenario *s)
{
    memset(s, 0, sizeof(*s));
    s->zk = load("zk-aw35.json",
                 "{\"fields\": [{\"field\": \"client.phone\", \"element\": \"Client/Telefoon\","
                 " \"level\": \"contract\", \"citation\": \"Contract 2026 art. 4.2\","
                 " \"message\": \"AW35\"}]}",
                 "destinations[0].catalogue");
    s->cbs = load("cbs.json",
                  "{\"file\": \"cbs.json\", \"fields\": [{\"field\": \"client.postcode\","
                  " \"element\": \"Postcode\", \"level\": \"contract\","
                  " \"citation\": \"Convenant gemeente art. 2\"}]}",
                  "destinations[1].catalogue");
    /* AW35s delivered with BSN, birth date and Klasse; the phone, selected
     * at contract, was in none.  cbs: no trail, so "sent" is not known. */
    s->zk_delivered[ZV_F_CLIENT_BSN] = s->zk_delivered[ZV_F_CLIENT_BIRTH_DATE] =
        s->zk_delivered[ZV_F_DEL_KLASSE] = 1;
    s->zk_msgs[0] = (zv_audit_msg){"AW35", s->zk, s->zk_delivered};
    s->cbs_msgs[0] = (zv_audit_msg){"JSON", s->cbs, NULL};
    s->dests[0] =
        (zv_audit_dest){"zk-5501", "iwlz", ZV_LEVEL_CONTRACT, "event", s->zk_msgs, 1, NULL, 0};
    s->dests[1] =
        (zv_audit_dest){"cbs", "json", ZV_LEVEL_CONTRACT, "monthly", s->cbs_msgs, 1, NULL, 0};
    /* The same catalogue read by a format that sends only counts. */
    s->dests[2] = (zv_audit_dest){"signalen", "signals", ZV_LEVEL_CONTRACT, "quarterly",
                                  s->cbs_msgs, 1, NULL, 1};
    int f[] = {ZV_F_CLIENT_BSN, ZV_F_CLIENT_BIRTH_DATE, ZV_F_CLIENT_SEX,     ZV_F_CLIENT_EMAIL,
               ZV_F_DEL_START,  ZV_F_DEL_CARE_FORM,     ZV_F_CLIENT_POSTCODE};
    memcpy(s->ons_fields, f, sizeof(f));
    s->sources[0] = (zv_audit_source){"ons", s->ons_fields, 7};
    s->counts[0] = (zv_audit_count){
        "zk-5501",
        ZV_F_CLIENT_BSN,
        {.kept = 12, .dropped = 0, .not_applicable = 0, .missing = 1, .delivered = 10}};
    s->counts[1] = (zv_audit_count){
        "zk-5501",
        ZV_F_CLIENT_BIRTH_DATE,
        {.kept = 12, .dropped = 0, .not_applicable = 0, .missing = 0, .delivered = 10}};
    s->counts[2] = (zv_audit_count){
        "zk-5501",
        ZV_F_CLIENT_EMAIL,
        {.kept = 0, .dropped = 7, .not_applicable = 0, .missing = 0, .delivered = 0}};
    s->counts[3] = (zv_audit_count){
        "zk-5501",
        ZV_F_DEL_KLASSE,
        {.kept = 3, .dropped = 0, .not_applicable = 9, .missing = 0, .delivered = 2}};
    s->counts[4] = (zv_audit_count){
        "cbs",
        ZV_F_CLIENT_BSN,
        {.kept = 4, .dropped = 0, .not_applicable = 0, .missing = 0, .delivered = 4}};
    s->counts[5] = (zv_audit_count){
        "cbs",
        ZV_F_CLIENT_BSN,
        {.kept = 1, .dropped = 0, .not_applicable = 0, .missing = 0, .delivered = 0}};
    s->in = (zv_audit_input){.generated = "2026-11-23T12:00:00Z",
                             .org_agb = "12345678",
                             .org_name = "Zorggroep <Test> & Co",
                             .period_days = 30,
                             .dests = s->dests,
                             .ndests = 3,
                             .sources = s->sources,
                             .nsources = 1,
                             .counts = s->counts,
                             .ncounts = 6};
}

static void scenario_free(scenario *s)
{
    zv_catalogue_free(s->zk);
    zv_catalogue_free(s->cbs);
}

static const zv_audit_row *row_of(const zv_audit_report *r, const char *dest, int field)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (r->rows[i].entry->field == field && !strcmp(r->in->dests[r->rows[i].dest].name, dest))
            return &r->rows[i];
    return NULL;
}

#define HAS(r, d, f, k) ((row_of(r, d, f)->flags & (1u << (k))) != 0)

START_TEST(each_flag_kind)
{
    scenario s;
    scenario_init(&s);
    zv_audit_report *r = zv_audit_analyse(&s.in);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->nrows, 14);
    /* no_legal_basis: contract extra (sent) and internal (not sent). */
    ck_assert(HAS(r, "zk-5501", ZV_F_CLIENT_PHONE, ZV_FLAG_NO_LEGAL_BASIS));
    ck_assert(HAS(r, "zk-5501", ZV_F_CLIENT_EMAIL, ZV_FLAG_NO_LEGAL_BASIS));
    ck_assert(!HAS(r, "zk-5501", ZV_F_CLIENT_BSN, ZV_FLAG_NO_LEGAL_BASIS));
    /* duplicate: bsn and birth date go to both. */
    ck_assert(HAS(r, "zk-5501", ZV_F_CLIENT_BSN, ZV_FLAG_DUPLICATE));
    ck_assert(HAS(r, "cbs", ZV_F_CLIENT_BIRTH_DATE, ZV_FLAG_DUPLICATE));
    ck_assert(!HAS(r, "zk-5501", ZV_F_DEL_START, ZV_FLAG_DUPLICATE));
    /* derivable only where sent and derivable_from is set. */
    ck_assert(HAS(r, "zk-5501", ZV_F_CLIENT_BIRTH_DATE, ZV_FLAG_DERIVABLE));
    ck_assert(!HAS(r, "cbs", ZV_F_CLIENT_BIRTH_DATE, ZV_FLAG_DERIVABLE));
    /* over_frequent: monthly schedule against half-yearly basis. */
    ck_assert(HAS(r, "cbs", ZV_F_DEL_CARE_FORM, ZV_FLAG_OVER_FREQUENT));
    ck_assert(!HAS(r, "zk-5501", ZV_F_DEL_START, ZV_FLAG_OVER_FREQUENT));
    /* beyond_legal_maximum: the contract extra at cbs. */
    ck_assert(HAS(r, "cbs", ZV_F_CLIENT_POSTCODE, ZV_FLAG_BEYOND_LEGAL_MAXIMUM));
    ck_assert(!HAS(r, "cbs", ZV_F_CLIENT_BSN, ZV_FLAG_BEYOND_LEGAL_MAXIMUM));
    /* collected_never_required: sex and email from ons. */
    ck_assert_uint_eq(zv_audit_flag_count(r, SIZE_MAX, ZV_FLAG_COLLECTED_NEVER_REQUIRED), 2);
    /* aggregate_would_do: cbs takes a record per client for statistics; it
     * sits on the BSN row and names the signal set.  The aggregate
     * destination reading the same catalogue sends nothing: no flag, 0
     * personal fields, its rows read and not sent, and it is no party to a
     * duplicate. */
    ck_assert(HAS(r, "cbs", ZV_F_CLIENT_BSN, ZV_FLAG_AGGREGATE_WOULD_DO));
    ck_assert(!HAS(r, "cbs", ZV_F_CLIENT_BIRTH_DATE, ZV_FLAG_AGGREGATE_WOULD_DO));
    ck_assert(!HAS(r, "zk-5501", ZV_F_CLIENT_BSN, ZV_FLAG_AGGREGATE_WOULD_DO));
    ck_assert(!HAS(r, "signalen", ZV_F_CLIENT_BSN, ZV_FLAG_AGGREGATE_WOULD_DO));
    ck_assert_uint_eq(zv_audit_flag_count(r, SIZE_MAX, ZV_FLAG_AGGREGATE_WOULD_DO), 1);
    for (size_t i = 0; i < r->nflags; i++)
        if (r->flags[i].kind == ZV_FLAG_AGGREGATE_WOULD_DO)
            ck_assert_ptr_nonnull(strstr(r->flags[i].detail, "cbs-beleidsinformatie-jeugd"));
    ck_assert_uint_eq(zv_audit_personal_fields(r, 2), 0);
    ck_assert_uint_eq(zv_audit_personal_fields(r, 1), 4);
    ck_assert(!row_of(r, "signalen", ZV_F_CLIENT_BSN)->selected);
    ck_assert(row_of(r, "signalen", ZV_F_CLIENT_BSN)->read);
    ck_assert(!HAS(r, "signalen", ZV_F_CLIENT_BSN, ZV_FLAG_DUPLICATE));
    size_t senders[4];
    ck_assert_uint_eq(zv_audit_senders(r, ZV_F_CLIENT_BSN, senders, 4), 2);
    /* Counts are summed per destination and field. */
    ck_assert_int_eq(row_of(r, "cbs", ZV_F_CLIENT_BSN)->n.kept, 5);
    ck_assert_int_eq(row_of(r, "zk-5501", ZV_F_DEL_KLASSE)->n.not_applicable, 9);
    for (int k = 0; k < ZV_FLAG_COUNT; k++)
        ck_assert_uint_gt(zv_audit_flag_count(r, SIZE_MAX, (zv_flag_kind)k), 0);
    zv_audit_report_free(r);
    scenario_free(&s);
}
END_TEST

static void check_render(int (*render)(const zv_audit_report *, zv_buf *), const char *expected)
{
    scenario s;
    scenario_init(&s);
    zv_audit_report *r = zv_audit_analyse(&s.in);
    zv_buf b;
    zv_buf_init(&b);
    ck_assert_int_eq(render(r, &b), 0);
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", fixdir, expected);
    const char *out = getenv("ZV_AUDIT_WRITE_EXPECTED");
    if (out) { /* regenerate: inspect the diff before committing */
        FILE *f = fopen(path, "wb");
        fwrite(b.data, 1, b.len, f);
        fclose(f);
    }
    char *want = slurp(path);
    ck_assert_msg(want != NULL, "missing %s", path);
    ck_assert_str_eq(b.data, want);
    free(want);
    zv_buf_free(&b);
    zv_audit_report_free(r);
    scenario_free(&s);
}

/* "sent" is what the trail says was delivered; "selected" the threshold. */
START_TEST(sent_is_what_was_delivered)
{
    scenario s;
    scenario_init(&s);
    zv_audit_report *r = zv_audit_analyse(&s.in);
    ck_assert_ptr_nonnull(r);
    const zv_audit_row *bsn = row_of(r, "zk-5501", ZV_F_CLIENT_BSN),
                       *phone = row_of(r, "zk-5501", ZV_F_CLIENT_PHONE),
                       *email = row_of(r, "zk-5501", ZV_F_CLIENT_EMAIL),
                       *cbs = row_of(r, "cbs", ZV_F_CLIENT_BSN);
    ck_assert_int_eq(bsn->selected, 1);
    ck_assert_int_eq(bsn->sent, 1);
    ck_assert_int_eq(phone->selected, 1); /* contract, at the threshold... */
    ck_assert_int_eq(phone->sent, 0);     /* ...but in no payload */
    ck_assert_int_eq(email->selected, 0);
    ck_assert_int_eq(email->sent, 0);
    ck_assert_int_eq(cbs->selected, 1);
    ck_assert_int_eq(cbs->sent, -1); /* no trail: not known */
    zv_buf b;
    zv_buf_init(&b);
    ck_assert_int_eq(zv_audit_render_json(r, &b), 0);
    ck_assert_ptr_nonnull(strstr(b.data, "\"fields_sent\": null"));
    zv_buf_free(&b);
    zv_audit_report_free(r);
    scenario_free(&s);
}
END_TEST

START_TEST(json_exact)
{
    check_render(zv_audit_render_json, "expected.json");
}
END_TEST

START_TEST(csv_exact)
{
    check_render(zv_audit_render_csv, "expected.csv");
}
END_TEST

START_TEST(html_escapes_and_labels)
{
    scenario s;
    scenario_init(&s);
    zv_audit_report *r = zv_audit_analyse(&s.in);
    zv_buf b;
    zv_buf_init(&b);
    ck_assert_int_eq(zv_audit_render_html(r, &b), 0);
    ck_assert_ptr_nonnull(strstr(b.data, "Zorggroep &lt;Test&gt; &amp; Co"));
    ck_assert_ptr_null(strstr(b.data, "<Test>"));
    ck_assert_ptr_nonnull(strstr(b.data, "own choice &lt;unverified&gt; &amp; &quot;quoted&quot;"));
    ck_assert_ptr_nonnull(strstr(b.data, "Wettelijk verplicht"));
    ck_assert_ptr_nonnull(strstr(b.data, "Eigen keuze"));
    ck_assert_ptr_nonnull(strstr(b.data, "Bestemming: zk-5501"));
    ck_assert_ptr_nonnull(strstr(b.data, "<svg"));
    /* Self-contained: nothing fetched from elsewhere. */
    ck_assert_ptr_null(strstr(b.data, "<script"));
    ck_assert_ptr_null(strstr(b.data, "http://"));
    ck_assert_ptr_null(strstr(b.data, "https://"));
    ck_assert_ptr_null(strstr(b.data, "<link"));
    for (int k = 0; k < ZV_FLAG_COUNT; k++)
        ck_assert_ptr_nonnull(strstr(b.data, zv_flag_label_nl((zv_flag_kind)k)));
    const char *html_out = getenv("ZV_AUDIT_HTML_OUT");
    if (html_out) {
        FILE *f = fopen(html_out, "wb");
        ck_assert_ptr_nonnull(f);
        fwrite(b.data, 1, b.len, f);
        fclose(f);
    }
    zv_buf_free(&b);
    zv_audit_report_free(r);
    scenario_free(&s);
}
END_TEST

START_TEST(empty_input)
{
    zv_audit_input in = {.generated = "2026-01-01T00:00:00Z", .period_days = 7};
    zv_audit_report *r = zv_audit_analyse(&in);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->nrows, 0);
    ck_assert_uint_eq(r->nflags, 0);
    zv_buf b;
    zv_buf_init(&b);
    ck_assert_int_eq(zv_audit_render_json(r, &b), 0);
    ck_assert_int_eq(zv_audit_render_csv(r, &b), 0);
    ck_assert_int_eq(zv_audit_render_html(r, &b), 0);
    zv_buf_free(&b);
    zv_audit_report_free(r);
}
END_TEST

int main(void)
{
    const char *src = getenv("ZV_SOURCE_DIR");
    snprintf(fixdir, sizeof(fixdir), "%s/tests/fixtures/catalogue/audit", src ? src : ".");
    Suite *s = suite_create("audit_report");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, each_flag_kind);
    tcase_add_test(tc, sent_is_what_was_delivered);
    tcase_add_test(tc, json_exact);
    tcase_add_test(tc, csv_exact);
    tcase_add_test(tc, html_escapes_and_labels);
    tcase_add_test(tc, empty_input);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
