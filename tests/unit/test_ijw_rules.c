/* fmt_ijw rules on the testbed, each passing and failing; the
 * started-products history across restarts of the runtime; cancellation;
 * retour interpretation through the core's verdict collector. */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

#include "../fixtures/ijw/ijw_test_util.h"
#include "zvtb.h"

#define BSN "999993653"
#define NOW 1767434400 /* 2026-01-03 10:00 UTC */

/* One bed per test: each instance is a runtime built from the bed's config
 * (with these format options) on the same state folder, so closing one and
 * opening the next is a restart of the daemon. */
static zvtb *tb;
static const zv_plugin_descriptor *desc;

static void setup(void)
{
    tb = zvtb_new();
}

static void teardown(void)
{
    zvtb_free(tb);
}

typedef struct inst {
    void *st;
} inst;

static inst open_inst(const char *opts)
{
    char keys[1024];
    snprintf(keys, sizeof(keys),
             "\"organisation\": {\"agb\": \"65656055\", \"name\": \"Testorganisatie\"}, "
             "\"destinations\": [{\"name\": \"gem\", \"format\": \"ijw\", \"transport\": "
             "\"tbcap\"%s%s}]",
             opts ? ", \"format_options\": " : "", opts ? opts : "");
    zvtb_config(tb, keys);
    ck_assert_msg(zvtb_build(tb) == 0, "%s", zvtb_errors(tb));
    desc = zvtb_fmt_desc(tb);
    inst i = {zvtb_fmt_state(tb)};
    return i;
}

static void close_inst(inst *i)
{
    zvtb_stop(tb);
    i->st = NULL;
}

/* Render one record as a batch through the core; returns the output
 * (caller frees with done()). */
static zvtb_render *render1(inst *i, const char *batch, zv_record *r)
{
    (void)batch; /* the core numbers the batches */
    int msg = desc->format->classify(i->st, r);
    ck_assert_int_ge(msg, 0);
    const zv_record *recs[] = {r};
    zv_batch b = {ZV_SIZED(zv_batch), .destination = "gem", .batch_id = batch,
                  .message = msg,     .now = NOW,           .n = 1,
                  .records = recs};
    zvtb_render *out = calloc(1, sizeof(*out));
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(zvtb_render_batch(tb, &b, out), 0);
    ck_assert_uint_eq(out->np + out->nr, 1);
    return out;
}

static void done(zvtb_render *out)
{
    zvtb_render_free(out);
    free(out);
}

/* Expect a rejection with this rule (NULL: expect acceptance). */
static void expect(inst *i, const char *batch, zv_record *r, const char *rule, const char *field)
{
    zvtb_render *out = render1(i, batch, r);
    if (!rule) {
        ck_assert_msg(out->nr == 0, "unexpected %s: %s", out->nr ? out->r[0].rule : "",
                      out->nr ? out->r[0].reason : "");
    } else {
        ck_assert_msg(out->nr == 1, "expected %s, got a payload", rule);
        ck_assert_str_eq(out->r[0].rule, rule);
        ck_assert_uint_eq(out->r[0].index, 0);
        if (field) ck_assert_str_eq(out->r[0].field, field);
        ck_assert_ptr_null(strstr(out->r[0].reason, BSN));
    }
    done(out);
    zv_record_free(r);
}

static zv_record *start(const char *id, const char *nr, const char *begin)
{
    return ijwt_record(id, "jw", BSN, nr, begin, NULL, "1");
}

static zv_record *stop(const char *id, const char *nr, const char *begin, const char *end)
{
    return ijwt_record(id, "jw", BSN, nr, begin, end, "1");
}

START_TEST(status_aanlevering_1_or_3)
{
    inst i = open_inst(NULL);
    expect(&i, "b1", ijwt_record("1", "jw", BSN, "100001", "2025-12-01", NULL, "2"),
           "ZV-IJW-STATUS", "delivery.status");
    expect(&i, "b2", ijwt_record("2", "jw", BSN, "100001", "2025-12-01", NULL, "1"), NULL, NULL);
    close_inst(&i);
}
END_TEST

START_TEST(begindatum_not_in_future)
{
    inst i = open_inst(NULL);
    expect(&i, "b1", start("1", "100001", "2026-01-04"), "TR134", "delivery.start");
    expect(&i, "b2", start("2", "100001", "2026-01-03"), NULL, NULL); /* today is fine */
    close_inst(&i);
}
END_TEST

START_TEST(einddatum_not_before_begindatum)
{
    inst i = open_inst(NULL);
    expect(&i, "b1", start("1", "100001", "2025-12-10"), NULL, NULL);
    expect(&i, "b2", stop("2", "100001", "2025-12-10", "2025-12-09"), "TR018", "delivery.end");
    expect(&i, "b3", stop("3", "100001", "2025-12-10", "2026-01-05"), "TR134", "delivery.end");
    expect(&i, "b4", stop("4", "100001", "2025-12-10", "2025-12-10"), NULL, NULL);
    close_inst(&i);
}
END_TEST

START_TEST(reden_beeindiging_required_and_coded)
{
    inst i = open_inst(NULL);
    expect(&i, "b1", start("1", "100001", "2025-12-10"), NULL, NULL);
    zv_record *r = stop("2", "100001", "2025-12-10", "2025-12-20");
    zv_record_clear(r, ZV_F_DEL_END_REASON);
    expect(&i, "b2", r, "ZV-IJW-REQUIRED", "delivery.end_reason");
    r = stop("3", "100001", "2025-12-10", "2025-12-20");
    ijwt_set(r, ZV_F_DEL_END_REASON, "99");
    expect(&i, "b3", r, "ZV-IJW-REDEN", "delivery.end_reason");
    close_inst(&i);
}
END_TEST

START_TEST(variant_keys)
{
    inst i = open_inst("{\"variant\":\"outputgericht\"}");
    expect(&i, "b1", start("1", NULL, "2025-12-10"), "TR019", "entitlement.number");
    close_inst(&i);
    /* Taakgericht: no ToewijzingNummer needed, Product + Begindatum is the key. */
    inst t = open_inst("{\"variant\":\"taakgericht\"}");
    expect(&t, "b2", start("2", NULL, "2025-12-10"), NULL, NULL);
    expect(&t, "b3", start("3", NULL, "2025-12-10"), "TR326", NULL);
    expect(&t, "b4", start("4", NULL, "2025-12-11"), NULL, NULL); /* other Begindatum */
    zv_record *r = start("5", NULL, "2025-12-12");
    zv_record_clear(r, ZV_F_ENT_PRODUCT_CATEGORY);
    zv_record_clear(r, ZV_F_ENT_PRODUCT_CODE);
    expect(&t, "b5", r, "ZV-IJW-TAAK-PRODUCT", "entitlement.product_category");
    r = start("6", NULL, "2025-12-12");
    zvtb_render *out = render1(&t, "b6", r);
    ck_assert_str_eq(out->p[0].keys[0], BSN "/55:55A11@2025-12-12");
    done(out);
    zv_record_free(r);
    close_inst(&t);
}
END_TEST

START_TEST(client_checks)
{
    inst i = open_inst(NULL);
    zv_record *r = start("1", "100001", "2025-12-10");
    ijwt_set(r, ZV_F_CLIENT_SEX, "9");
    expect(&i, "b1", r, "ZV-IJW-GESLACHT", "client.sex");
    r = start("2", "100001", "2025-12-10");
    ijwt_set(r, ZV_F_CLIENT_BIRTH_DATE, "1900-01-01");
    expect(&i, "b2", r, "TR002", "client.birth_date");
    r = start("3", "100001", "2025-12-10");
    zv_record_clear(r, ZV_F_CLIENT_FAMILY_NAME);
    expect(&i, "b3", r, "ZV-IJW-REQUIRED", "client.family_name");
    r = start("4", "100001", "2025-12-10");
    ijwt_set(r, ZV_F_ENT_FUNDER, "GM0363");
    expect(&i, "b4", r, "ZV-IJW-GEMEENTE", "entitlement.funder");
    close_inst(&i);
}
END_TEST

START_TEST(double_start_survives_restart)
{
    inst i = open_inst(NULL);
    expect(&i, "b1", start("1", "100001", "2025-12-10"), NULL, NULL);
    close_inst(&i); /* restart: destroy, create against the same state dir */
    i = open_inst(NULL);
    expect(&i, "b2", start("2", "100001", "2025-12-10"), "TR326", "entitlement.number");
    expect(&i, "b3", start("3", "100002", "2025-12-10"), NULL, NULL); /* other product */
    /* Another gemeente keeps its own history. */
    zv_record *r = start("4", "100001", "2025-12-10");
    ijwt_set(r, ZV_F_ENT_FUNDER, "0599");
    expect(&i, "b4", r, NULL, NULL);
    /* After a stop, a new start of the same product is allowed. */
    expect(&i, "b5", stop("5", "100001", "2025-12-10", "2025-12-20"), NULL, NULL);
    expect(&i, "b6", stop("6", "100001", "2025-12-10", "2025-12-21"), "TR415", NULL);
    expect(&i, "b7", start("7", "100001", "2025-12-22"), NULL, NULL);
    close_inst(&i);
}
END_TEST

/* A history file made before the state check was written with OR (issue
 * 13: an IN list made SQLite build a b-tree on every insert): its table is
 * rebuilt at open, its rows kept, and the check still refuses other states. */
START_TEST(history_of_an_older_schema_is_kept)
{
    inst i = open_inst(NULL);
    expect(&i, "b1", start("1", "100001", "2025-12-10"), NULL, NULL);
    close_inst(&i);
    char path[1024];
    snprintf(path, sizeof(path), "%s/state/plugins/format/gem/ijw-state.db", zvtb_dir(tb));
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_exec(db,
                     "BEGIN; CREATE TABLE old (key TEXT PRIMARY KEY, state TEXT NOT NULL CHECK "
                     "(state IN ('started','stopped','cancelled')), reden TEXT, last_batch TEXT "
                     "NOT NULL, last_record TEXT NOT NULL, last_action TEXT NOT NULL, updated "
                     "INTEGER NOT NULL); INSERT INTO old SELECT * FROM product; DROP TABLE "
                     "product; ALTER TABLE old RENAME TO product; COMMIT;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    i = open_inst(NULL);
    expect(&i, "b2", start("2", "100001", "2025-12-10"), "TR326", "entitlement.number");
    expect(&i, "b3", stop("3", "100001", "2025-12-10", "2025-12-20"), NULL, NULL);
    close_inst(&i);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT sql, (SELECT count(*) FROM product) FROM "
                                        "sqlite_master WHERE name='product'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    const char *sql = (const char *)sqlite3_column_text(st, 0);
    ck_assert_msg(!strstr(sql, " IN ("), "%s", sql);
    ck_assert_int_eq(sqlite3_column_int(st, 1), 1);
    sqlite3_finalize(st);
    ck_assert_int_ne(sqlite3_exec(db, "UPDATE product SET state = 'begun'", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}
END_TEST

START_TEST(double_start_in_one_batch)
{
    inst i = open_inst(NULL);
    zv_record *r[2] = {start("1", "100001", "2025-12-10"), start("2", "100001", "2025-12-10")};
    zv_batch b = {ZV_SIZED(zv_batch),
                  .destination = "gem",
                  .batch_id = "b1",
                  .message = 0,
                  .now = NOW,
                  .n = 2,
                  .records = (const zv_record *const *)r};
    zvtb_render o, *out = &o;
    ck_assert_int_eq(zvtb_render_batch(tb, &b, out), 0);
    ck_assert_uint_eq(out->np, 1);
    ck_assert_uint_eq(out->p[0].n, 1);
    ck_assert_uint_eq(out->nr, 1);
    ck_assert_uint_eq(out->r[0].index, 1);
    ck_assert_str_eq(out->r[0].rule, "TR101");
    zvtb_render_free(out);
    zv_record_free(r[0]);
    zv_record_free(r[1]);
    close_inst(&i);
}
END_TEST

START_TEST(stop_needs_start_and_cancellation)
{
    inst i = open_inst(NULL);
    expect(&i, "b1", stop("1", "100009", "2025-12-10", "2025-12-20"), "TR069", "delivery.end");
    expect(&i, "b2", ijwt_record("2", "jw", BSN, "100009", "2025-12-10", NULL, "3"), "TR063",
           "delivery.status");
    expect(&i, "b3", start("3", "100009", "2025-12-10"), NULL, NULL);
    /* Cancelling the start removes it: the product can be started again. */
    expect(&i, "b4", ijwt_record("4", "jw", BSN, "100009", "2025-12-10", NULL, "3"), NULL, NULL);
    close_inst(&i);
    i = open_inst(NULL);
    expect(&i, "b5", stop("5", "100009", "2025-12-10", "2025-12-20"), "TR069", NULL);
    expect(&i, "b6", start("6", "100009", "2025-12-11"), NULL, NULL);
    expect(&i, "b7", stop("7", "100009", "2025-12-11", "2025-12-20"), NULL, NULL);
    expect(&i, "b8", ijwt_record("8", "jw", BSN, "100009", "2025-12-11", NULL, "3"), "TR071", NULL);
    /* Cancel the stop: the start is current again, so a new start is refused. */
    expect(&i, "b9", ijwt_record("9", "jw", BSN, "100009", "2025-12-11", "2025-12-20", "3"), NULL,
           NULL);
    expect(&i, "b10", start("10", "100009", "2025-12-11"), "TR326", NULL);
    close_inst(&i);
    /* Migration: stops for deliveries started before zinvol. */
    i = open_inst("{\"stop_requires_start\": false}");
    expect(&i, "b11", stop("11", "300001", "2025-11-10", "2025-12-20"), NULL, NULL);
    close_inst(&i);
}
END_TEST

static const char *retour_fmt =
    "<?xml version=\"1.0\"?>"
    "<jw306:Bericht xmlns:jw306=\"http://www.istandaarden.nl/ijw/3_2/jw306/schema\" "
    "xmlns:ijw=\"http://www.istandaarden.nl/ijw/3_2/basisschema/schema\">"
    "<jw306:Header><jw306:BerichtCode>439</jw306:BerichtCode>"
    "<jw306:Afzender>65656055</jw306:Afzender><jw306:Ontvanger>0363</jw306:Ontvanger>"
    "<jw306:RetourCodes><jw306:RetourCode>0200</jw306:RetourCode></jw306:RetourCodes>"
    "</jw306:Header><jw306:Client><jw306:Bsn>" BSN "</jw306:Bsn><jw306:StartProducten>"
    "<jw306:StartProduct><jw306:ToewijzingNummer>200001</jw306:ToewijzingNummer>"
    "<jw306:Begindatum>2025-12-10</jw306:Begindatum>"
    "<jw306:RetourCodes><jw306:RetourCode>0200</jw306:RetourCode></jw306:RetourCodes>"
    "</jw306:StartProduct>"
    "<jw306:StartProduct><jw306:ToewijzingNummer>200002</jw306:ToewijzingNummer>"
    "<jw306:Begindatum>2025-12-10</jw306:Begindatum>"
    "<jw306:RetourCodes><jw306:RetourCode>9019</jw306:RetourCode></jw306:RetourCodes>"
    "</jw306:StartProduct></jw306:StartProducten>"
    "<jw306:RetourCodes><jw306:RetourCode>0200</jw306:RetourCode></jw306:RetourCodes>"
    "</jw306:Client></jw306:Bericht>";

/* interpret() with fd 2 sent to a temporary file: what was printed there
 * comes back in buf. */
static int interpret_watching_stderr(zvtb *tb, const zv_answer *a, zv_verdict_out *v, char *buf,
                                     size_t len)
{
    FILE *cap = tmpfile();
    ck_assert_ptr_nonnull(cap);
    fflush(stderr);
    int saved = dup(2);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fileno(cap), 2), 0);
    int rc = zvtb_interpret(tb, a, v);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(cap);
    size_t n = fread(buf, 1, len - 1, cap);
    buf[n] = '\0';
    fclose(cap);
    return rc;
}

START_TEST(retour_verdicts_and_forget_rejected_start)
{
    inst i = open_inst(NULL);
    expect(&i, "b1", start("1", "200001", "2025-12-10"), NULL, NULL);
    expect(&i, "b2", start("2", "200002", "2025-12-10"), NULL, NULL);
    zv_answer a = {ZV_SIZED(zv_answer), .status = 200, .content_type = "application/xml",
                   .body = retour_fmt, .len = strlen(retour_fmt)};
    zv_verdict_out vo, *v = &vo;
    ck_assert_int_eq(zvtb_interpret(tb, &a, v), 0);
    ck_assert_uint_eq(v->n, 2);
    ck_assert_str_eq(v->v[0].record_key, BSN "/200001");
    ck_assert_int_eq(v->v[0].accepted, 1);
    ck_assert_str_eq(v->v[1].record_key, BSN "/200002");
    ck_assert_int_eq(v->v[1].accepted, 0);
    ck_assert_str_eq(v->v[1].codes, "9019");
    /* 200002 was refused, so a corrected start may go; 200001 stands. */
    expect(&i, "b3", start("3", "200002", "2025-12-10"), NULL, NULL);
    expect(&i, "b4", start("4", "200001", "2025-12-10"), "TR326", NULL);
    /* HTTP status only / not XML. */
    zv_answer empty = {ZV_SIZED(zv_answer), .status = 200};
    ck_assert_int_eq(zvtb_interpret(tb, &empty, v), 0);
    ck_assert_uint_eq(v->n, 0);
    /* The reason is in zinvol's own warning; libxml2 prints nothing to
     * stderr itself (it did: "retour.xml:1: parser error ..."). */
    zv_answer junk = {ZV_SIZED(zv_answer), .status = 200, .body = "not xml", .len = 7};
    char printed[4096];
    ck_assert_int_eq(interpret_watching_stderr(tb, &junk, v, printed, sizeof(printed)), -1);
    ck_assert_msg(strstr(printed, "parser error") == NULL, "libxml2 printed: %s", printed);
    ck_assert_ptr_nonnull(strstr(zvtb_log(tb), "answer is not XML (Start tag expected"));
    close_inst(&i);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ijw_rules");
    TCase *tc = tcase_create("rules");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, status_aanlevering_1_or_3);
    tcase_add_test(tc, begindatum_not_in_future);
    tcase_add_test(tc, einddatum_not_before_begindatum);
    tcase_add_test(tc, reden_beeindiging_required_and_coded);
    tcase_add_test(tc, variant_keys);
    tcase_add_test(tc, client_checks);
    tcase_add_test(tc, double_start_survives_restart);
    tcase_add_test(tc, history_of_an_older_schema_is_kept);
    tcase_add_test(tc, double_start_in_one_batch);
    tcase_add_test(tc, stop_needs_start_and_cancellation);
    tcase_add_test(tc, retour_verdicts_and_forget_rejected_start);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
