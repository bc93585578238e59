/* The audit collector on a real config, the real format plugins (their
 * declared messages and catalogues in conf/catalogue), a real mapping and a
 * real SQLite store with counters and a delivered payload. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "audit/audit.h"
#include "audit/collect.h"

static char tmpdir[256], conf[512];

static void write_config(const char *dests)
{
    const char *src = getenv("ZV_SOURCE_DIR"), *plug = getenv("ZV_PLUGIN_DIR");
    snprintf(conf, sizeof(conf), "%s/zinvol.conf", tmpdir);
    FILE *f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"state_dir\": \"%s\", \"store\": \"zinvol.db\","
            " \"catalogue_dir\": \"%s/conf/catalogue\", \"plugin_dir\": \"%s\","
            " \"organisation\": {\"agb\": \"12345678\", \"name\": \"Test\"},"
            " \"sources\": [{\"name\": \"ons\", \"type\": \"filedrop\","
            "   \"options\": {\"directory\": \"%s/in\"},"
            "   \"mapping\": {\"record_id\": \"id\", \"records\": [{\"kind\": \"delivery\","
            "     \"fields\": {\"client.bsn\": \"bsn\", \"client.birth_date\": \"gebdat\","
            "       \"client.email\": \"mail\", \"delivery.start\": \"start\","
            "       \"entitlement.law\": \"wet\", \"entitlement.funder\": \"fin\"}}]}}],"
            " \"destinations\": [%s]}",
            tmpdir, src, plug, tmpdir, dests);
    fclose(f);
}

static const char *DESTS =
    "{\"name\": \"gem-0363\", \"format\": \"ijw\", \"transport\": \"filedrop\","
    " \"catalogue\": {\"fields\": [{\"field\": \"client.phone\", \"element\": \"Telefoon\","
    "   \"level\": \"contract\", \"citation\": \"Contract art. 9\", \"message\": \"JW305\"}]},"
    " \"policy\": {\"threshold\": \"contract\", \"schedule\": \"event\"}},"
    "{\"name\": \"cbs\", \"format\": \"json\", \"transport\": \"filedrop\","
    " \"catalogue\": {\"file\": \"cbs-jeugd.json\"},"
    " \"policy\": {\"threshold\": \"contract\", \"schedule\": \"monthly\"}}";

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/zv-audit-collect-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static zv_config *load_config(void)
{
    zv_errors errs;
    zv_errors_init(&errs);
    zv_config *cfg = zv_config_load(conf, NULL, &errs);
    ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.lines[0] : "?");
    zv_errors_free(&errs);
    return cfg;
}

static const zv_audit_row *row_of(const zv_audit_report *r, const char *dest, const char *msg,
                                  int field)
{
    for (size_t i = 0; i < r->nrows; i++) {
        const zv_audit_dest *d = &r->in->dests[r->rows[i].dest];
        if (r->rows[i].entry->field == field && !strcmp(d->name, dest) &&
            !strcmp(d->msgs[r->rows[i].msg].message, msg))
            return &r->rows[i];
    }
    return NULL;
}

START_TEST(collect_from_config_and_store)
{
    write_config(DESTS);
    zv_config *cfg = load_config();
    char err[256];
    zv_store *st = zv_store_open(cfg->store_path, err, sizeof(err));
    ck_assert_msg(st != NULL, "%s", err);
    ck_assert_int_eq(zv_store_count_add(st, "cbs", "client.bsn", "kept", 5), 0);
    ck_assert_int_eq(zv_store_count_add(st, "cbs", "client.bsn", "missing", 2), 0);
    ck_assert_int_eq(zv_store_count_add(st, "gone", "client.bsn", "kept", 9), 0);
    zv_outbox_new o = {.destination = "cbs",
                       .message = "JSON",
                       .idem_key = "b1",
                       .payload = "{}",
                       .len = 2,
                       .content_type = "application/json",
                       .extension = "json",
                       .fields_json = "[{\"field\":\"client.bsn\",\"level\":\"law\"},"
                                      "{\"field\":\"delivery.start\",\"level\":\"law\"}]",
                       .records_json = "[]"};
    ck_assert_int_eq(zv_store_enqueue(st, &o), 0);
    int64_t id;
    ck_assert_int_eq(zv_store_outbox_find(st, "cbs", "b1", &id), 0);
    ck_assert_int_eq(zv_store_outbox_delivered(st, id, zv_now()), 0);

    zv_errors errs;
    zv_errors_init(&errs);
    zv_audit_collected *col = NULL;
    int rc = zv_audit_collect(cfg, st, 30, zv_now(), &col, &errs);
    ck_assert_msg(rc == 0, "%s", errs.n ? errs.lines[0] : "?");
    const zv_audit_input *in = zv_audit_collected_input(col);
    ck_assert_uint_eq(in->ndests, 2);
    /* A Jeugdwet-only ijw destination (standard jw by default): only the
     * messages it really receives (message_active). */
    ck_assert_uint_eq(in->dests[0].nmsgs, 3);
    ck_assert_str_eq(in->dests[0].msgs[0].message, "JW305");
    ck_assert_str_eq(in->dests[0].msgs[1].message, "JW307");
    ck_assert_str_eq(in->dests[0].msgs[2].message, "JW323");
    ck_assert_uint_eq(in->dests[1].nmsgs, 1);
    ck_assert_str_eq(zv_catalogue_id(in->dests[1].msgs[0].cat), "cbs-jeugd");
    ck_assert_uint_eq(in->sources[0].nfields, 6);
    zv_audit_report *r = zv_audit_analyse(in);
    ck_assert_ptr_nonnull(r);
    const zv_audit_row *row = row_of(r, "cbs", "JSON", ZV_F_CLIENT_BSN);
    ck_assert_ptr_nonnull(row);
    ck_assert_int_eq(row->n.kept, 5);
    ck_assert_int_eq(row->n.missing, 2);
    ck_assert_int_eq(row->n.delivered, 1);
    /* The override reached JW305 only. */
    row = row_of(r, "gem-0363", "JW305", ZV_F_CLIENT_PHONE);
    ck_assert_ptr_nonnull(row);
    ck_assert(row->flags & (1u << ZV_FLAG_NO_LEGAL_BASIS));
    ck_assert_ptr_null(row_of(r, "gem-0363", "JW307", ZV_F_CLIENT_PHONE));
    /* cbs sends half-yearly data monthly. */
    ck_assert(row_of(r, "cbs", "JSON", ZV_F_CLIENT_BSN)->flags & (1u << ZV_FLAG_OVER_FREQUENT));
    /* client.email is mapped and nobody needs it. */
    int email = 0;
    for (size_t i = 0; i < r->nflags; i++)
        email |= r->flags[i].kind == ZV_FLAG_COLLECTED_NEVER_REQUIRED &&
                 r->flags[i].field == ZV_F_CLIENT_EMAIL;
    ck_assert(email);
    zv_audit_report_free(r);
    zv_audit_collected_free(col);
    zv_errors_free(&errs);
    zv_store_close(st);
    zv_config_free(cfg);
}
END_TEST

START_TEST(collect_reports_bad_override)
{
    write_config("{\"name\": \"cbs\", \"format\": \"json\", \"transport\": \"filedrop\","
                 " \"catalogue\": {\"file\": \"cbs-jeugd.json\", \"fields\": [{\"field\":"
                 " \"client.phone\", \"element\": \"x\", \"level\": \"contractual\","
                 " \"citation\": \"c\"}]}}");
    zv_config *cfg = load_config();
    zv_errors errs;
    zv_errors_init(&errs);
    zv_audit_collected *col = NULL;
    ck_assert_int_eq(zv_audit_collect(cfg, NULL, 30, zv_now(), &col, &errs), -1);
    ck_assert_ptr_null(col);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_ptr_nonnull(strstr(errs.lines[0],
                                 "destinations[0].catalogue.fields[0].level: unknown level "
                                 "\"contractual\""));
    zv_errors_free(&errs);
    zv_config_free(cfg);
}
END_TEST

/* A destination of the signals format (ZV_FORMAT_AGGREGATE) beside the
 * record-level CBS one, whose catalogue says statistics: the real plugins
 * decide which is which, the analysis shows the signals one with 0
 * personal fields and flags the CBS one with the signal set to use. */
START_TEST(collect_aggregate_destination)
{
    write_config("{\"name\": \"cbs\", \"format\": \"json\", \"transport\": \"filedrop\","
                 " \"catalogue\": {\"file\": \"cbs-jeugd.json\"}},"
                 "{\"name\": \"regio-signalen\", \"format\": \"signals\", \"transport\": \"filedrop\","
                 " \"catalogue\": {\"file\": \"signalen-jeugd.json\"},"
                 " \"policy\": {\"schedule\": \"quarterly\"}}");
    zv_config *cfg = load_config();
    zv_errors errs;
    zv_errors_init(&errs);
    zv_audit_collected *col = NULL;
    int rc = zv_audit_collect(cfg, NULL, 30, zv_now(), &col, &errs);
    ck_assert_msg(rc == 0, "%s", errs.n ? errs.lines[0] : "?");
    const zv_audit_input *in = zv_audit_collected_input(col);
    ck_assert_int_eq(in->dests[0].aggregate, 0);
    ck_assert_int_eq(in->dests[1].aggregate, 1);
    zv_audit_report *r = zv_audit_analyse(in);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_gt(zv_audit_personal_fields(r, 0), 5);
    ck_assert_uint_eq(zv_audit_personal_fields(r, 1), 0);
    ck_assert_uint_eq(zv_audit_flag_count(r, 0, ZV_FLAG_AGGREGATE_WOULD_DO), 1);
    ck_assert_uint_eq(zv_audit_flag_count(r, 1, ZV_FLAG_AGGREGATE_WOULD_DO), 0);
    const zv_audit_row *row = row_of(r, "regio-signalen", "SIGNALS", ZV_F_CLIENT_BSN);
    ck_assert_ptr_nonnull(row);
    ck_assert(row->read && !row->selected);
    /* entitlement.law is mapped, read only by the signals destination: used, not "never required". */
    for (size_t i = 0; i < r->nflags; i++)
        ck_assert(!(r->flags[i].kind == ZV_FLAG_COLLECTED_NEVER_REQUIRED &&
                    r->flags[i].field == ZV_F_ENT_LAW));
    zv_buf b;
    zv_buf_init(&b);
    ck_assert_int_eq(zv_audit_render_json(r, &b), 0);
    ck_assert_ptr_nonnull(strstr(b.data, "\"personal_fields\": 0"));
    ck_assert_ptr_nonnull(strstr(b.data, "signal set cbs-beleidsinformatie-jeugd"));
    zv_buf_reset(&b);
    ck_assert_int_eq(zv_audit_render_html(r, &b), 0);
    ck_assert_ptr_nonnull(strstr(b.data, "0 persoonsgegevens"));
    ck_assert_ptr_nonnull(strstr(b.data, "Tellingen volstaan"));
    zv_buf_free(&b);
    zv_audit_report_free(r);
    zv_audit_collected_free(col);
    zv_errors_free(&errs);
    zv_config_free(cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("audit_collect");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, collect_from_config_and_store);
    tcase_add_test(tc, collect_reports_bad_override);
    tcase_add_test(tc, collect_aggregate_destination);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
