/*
 * Retention (issue 10, D10): once the retention period has passed, no
 * column keeps a "<bsn>/<besluitnummer>" record key — not the payload's
 * records_json, not the verdicts, not the dead letters — while the audit
 * trail stays whole.  A real SQLite file, inspected with plain SQL.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zinvol/util.h>

#include "store/store.h"

static char dir[256], path[300];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/zv-retention-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/zinvol.db", dir);
}

static void teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Rows anywhere in the tables that hold record keys mentioning the BSN. */
static int64_t mentions(const char *bsn)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT (SELECT count(*) FROM outbox WHERE instr(coalesce(records_json, ''), '%s') "
             "OR instr(coalesce(last_error, ''), '%s')) + (SELECT count(*) FROM verdict WHERE "
             "instr(record_key, '%s')) + (SELECT count(*) FROM dead_letter WHERE "
             "instr(coalesce(record_key, ''), '%s'))",
             bsn, bsn, bsn, bsn);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void exec(const char *sql)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static int64_t enqueue_delivered(zv_store *s, const char *idem, const char *bsn, int64_t at)
{
    char rj[256];
    snprintf(rj, sizeof(rj), "[{\"source\":\"ons\",\"record_id\":\"r1\",\"key\":\"%s/B1\"}]", bsn);
    zv_outbox_new o = {.destination = "zk",
                       .message = "AW35",
                       .idem_key = idem,
                       .payload = "<a/>",
                       .len = 4,
                       .content_type = "text/xml",
                       .extension = "xml",
                       .fields_json = "[]",
                       .records_json = rj};
    ck_assert_int_eq(zv_store_enqueue(s, &o), 0);
    int64_t id = 0;
    ck_assert_int_eq(zv_store_outbox_find(s, "zk", idem, &id), 0);
    ck_assert_int_eq(zv_store_outbox_delivered(s, id, at), 0);
    return id;
}

START_TEST(keys_go_with_the_payload)
{
    char err[256];
    zv_store *s = zv_store_open(path, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    int64_t now = zv_now();
    int64_t id = enqueue_delivered(s, "A", "999996708", now - 100);
    zv_dead_info ok = {.reason = "accepted", .record_key = "999996708/B1"};
    ck_assert_int_eq(zv_store_record_verdict(s, id, 1, &ok, NULL), 0);
    zv_dead_info bad = {.reason = "Besluitnummer onbekend",
                        .codes = "0233",
                        .record_key = "999996708/B2",
                        .record_ref = "ref-abc"};
    int64_t dlq = 0;
    ck_assert_int_eq(zv_store_record_verdict(s, id, 0, &bad, &dlq), 0);
    /* A payload pruned by an older version: payload gone, keys kept. */
    enqueue_delivered(s, "B", "999900006", now - 100);
    exec("UPDATE outbox SET payload = NULL, last_error = 'receiver said 999900006/B1' "
         "WHERE idem_key = 'B'");
    /* The record kept beside a sent digest for a later withdrawal. */
    ck_assert_int_eq(zv_store_sent_put(s, "zk", "ons\x1fr1", "d1", "AW35",
                                       (const unsigned char *)"999996708", 9),
                     0);
    int64_t audit_before = 0;
    char why[256];
    ck_assert_int_eq(zv_store_audit_verify(s, &audit_before, NULL, why, sizeof(why)), 0);

    /* Within retention: everything stays. */
    ck_assert_int_eq(zv_store_prune(s, now - 200, 500), 0);
    ck_assert_int_eq(mentions("999996708"), 4); /* records_json, 2 verdicts, dead letter */
    {
        char msg[16];
        unsigned char *rec = NULL;
        size_t len = 0;
        ck_assert_int_eq(zv_store_sent_get(s, "zk", "ons\x1fr1", msg, sizeof(msg), &rec, &len), 1);
        ck_assert_uint_eq(len, 9);
        ck_assert_str_eq(msg, "AW35");
        free(rec);
    }
    ck_assert_int_eq(mentions("999900006"), 1);

    /* Past it: no key left anywhere, one payload pruned. */
    ck_assert_int_eq(zv_store_prune(s, now + 10, 500), 1);
    ck_assert_int_eq(mentions("999996708"), 0);
    /* The digest stays (change detection), the record as sent goes. */
    char msg[16];
    unsigned char *rec = (unsigned char *)"x";
    size_t len = 1;
    ck_assert_int_eq(zv_store_sent_get(s, "zk", "ons\x1fr1", msg, sizeof(msg), &rec, &len), 1);
    ck_assert_ptr_null(rec);
    ck_assert_int_eq(zv_store_sent_same(s, "zk", "ons\x1fr1", "d1"), 1);
    ck_assert_int_eq(mentions("999900006"), 0);
    /* The dead letter is still there and says what happened. */
    ck_assert_int_eq(zv_store_dlq_count(s, "zk"), 1);
    /* Still a per-record entry: not retryable as a whole payload. */
    ck_assert_int_eq(zv_store_dlq_retry(s, dlq, now), 1);
    /* The audit trail is whole and unchanged. */
    int64_t audit_after = 0;
    ck_assert_int_eq(zv_store_audit_verify(s, &audit_after, NULL, why, sizeof(why)), 0);
    ck_assert_int_eq(audit_after, audit_before);
    /* The idempotency key stays: the same payload is not sent again. */
    zv_outbox_new again = {.destination = "zk",
                           .message = "AW35",
                           .idem_key = "A",
                           .payload = "<a/>",
                           .len = 4,
                           .content_type = "text/xml",
                           .extension = "xml",
                           .fields_json = "[]",
                           .records_json = "[]"};
    ck_assert_int_eq(zv_store_enqueue(s, &again), 1);
    /* And a second run finds nothing more to do. */
    ck_assert_int_eq(zv_store_prune(s, now + 10, 500), 0);
    zv_store_close(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hostile_retention");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, keys_go_with_the_payload);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
