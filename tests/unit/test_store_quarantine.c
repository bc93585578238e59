/* The quarantine's lifecycle in the store (store_quarantine.h) on a real
 * SQLite file: entries leave only with an audited outcome, ids are never
 * reused, every reason is kept, filters, waiting entries, kept items. */
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
    snprintf(dir, sizeof(dir), "/tmp/zv-storeq-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/zinvol.db", dir);
}

static void teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static zv_store *open_store(void)
{
    char err[256];
    zv_store *s = zv_store_open(path, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    return s;
}

static int64_t add(zv_store *s, const char *rid, const char *stage, const char *state,
                   const char *due, int64_t created)
{
    zv_quarantine_entry q = {.created = created,
                             .source = "ons",
                             .record_id = rid,
                             .stage = stage,
                             .destination = strcmp(stage, "mapping") ? "zk" : NULL,
                             .field = "client.bsn",
                             .rule = "CS127",
                             .reason = "invalid BSN 999911120",
                             .item_json = "{\"fields\":{\"bsn\":\"999911120\"}}",
                             .mapping_version = "abc",
                             .state = state,
                             .due = due};
    int64_t id = 0;
    ck_assert_int_eq(zv_store_quarantine_add(s, &q, &id), 0);
    return id;
}

struct seen {
    int n;
    int64_t ids[16];
    char states[16][32], detail[16][512], reasons[16][512];
};

static int gather(const zv_quarantine_entry *e, void *arg)
{
    struct seen *v = arg;
    v->ids[v->n] = e->id;
    snprintf(v->states[v->n], sizeof(v->states[0]), "%s", e->state ? e->state : "");
    snprintf(v->detail[v->n], sizeof(v->detail[0]), "%s",
             e->outcome_detail ? e->outcome_detail : "");
    snprintf(v->reasons[v->n], sizeof(v->reasons[0]), "%s", e->reasons_json ? e->reasons_json : "");
    v->n++;
    return 0;
}

static int64_t audit_rows(const char *kind)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM audit WHERE kind = ?", -1, &st, NULL);
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

START_TEST(close_is_audited_and_ids_stay_unique)
{
    zv_store *s = open_store();
    int64_t a = add(s, "r1", "mapping", NULL, NULL, 100), b = add(s, "r2", "rule", NULL, NULL, 200);
    ck_assert_int_eq(zv_store_quarantine_count(s), 2);
    ck_assert_int_eq(zv_store_quarantine_close(s, b, ZV_Q_DROPPED, "by uid 0 (BSN 999911120)", 300),
                     0);
    /* The newest id is closed; the next entry does not take it again. */
    int64_t c = add(s, "r3", "mapping", NULL, NULL, 400);
    ck_assert_int_gt(c, b);
    ck_assert_int_eq(zv_store_quarantine_count(s), 2);
    ck_assert_int_eq(audit_rows("quarantine"), 1);
    int64_t n = 0, bad = 0;
    char why[128];
    ck_assert_int_eq(zv_store_audit_verify(s, &n, &bad, why, sizeof(why)), 0);
    /* Closed once: a second close has nothing to close. */
    ck_assert_int_eq(zv_store_quarantine_close(s, b, ZV_Q_DROPPED, "again", 301), 1);
    struct seen v = {0};
    ck_assert_int_eq(zv_store_quarantine_get(s, b, gather, &v), 0);
    ck_assert_int_eq(v.n, 1);
    ck_assert_str_eq(v.states[0], "dropped");
    ck_assert_ptr_null(strstr(v.detail[0], "999911120"));
    ck_assert_ptr_nonnull(strstr(v.detail[0], "by uid 0"));
    /* Default list: open only; closed ones on request. */
    memset(&v, 0, sizeof(v));
    ck_assert_int_eq(zv_store_quarantine_each(s, gather, &v), 0);
    ck_assert_int_eq(v.n, 2);
    ck_assert_int_eq(v.ids[0], a);
    ck_assert_int_eq(v.ids[1], c);
    memset(&v, 0, sizeof(v));
    zv_quarantine_filter f = {.state = "all"};
    ck_assert_int_eq(zv_store_quarantine_query(s, &f, gather, &v), 0);
    ck_assert_int_eq(v.n, 3);
    ck_assert_int_eq(v.ids[1], b);
    memset(&v, 0, sizeof(v));
    f = (zv_quarantine_filter){.state = "dropped"};
    ck_assert_int_eq(zv_store_quarantine_query(s, &f, gather, &v), 0);
    ck_assert_int_eq(v.n, 1);
    zv_store_close(s);
}
END_TEST

START_TEST(filters_reasons_and_waiting)
{
    zv_store *s = open_store();
    int64_t a = add(s, "r1", "mapping", NULL, NULL, 100);
    add(s, "r2", "rule", NULL, NULL, 200);
    int64_t w = add(s, "r3", "rule", "waiting", "2030-01-01", 300);
    ck_assert_int_eq(zv_store_quarantine_add_reason(s, a, "client.sex", "CD002", "not in COD046"),
                     0);
    struct seen v = {0};
    zv_quarantine_filter f = {.text = "cod046"};
    ck_assert_int_eq(zv_store_quarantine_query(s, &f, gather, &v), 0);
    ck_assert_int_eq(v.n, 1);
    ck_assert_int_eq(v.ids[0], a);
    ck_assert_ptr_nonnull(strstr(v.reasons[0], "invalid BSN"));
    ck_assert_ptr_nonnull(strstr(v.reasons[0], "CD002"));
    memset(&v, 0, sizeof(v));
    f = (zv_quarantine_filter){.stage = "rule"};
    ck_assert_int_eq(zv_store_quarantine_query(s, &f, gather, &v), 0);
    ck_assert_int_eq(v.n, 1); /* the waiting one is not open */
    memset(&v, 0, sizeof(v));
    f = (zv_quarantine_filter){.since = 150};
    ck_assert_int_eq(zv_store_quarantine_query(s, &f, gather, &v), 0);
    ck_assert_int_eq(v.n, 1);
    memset(&v, 0, sizeof(v));
    f = (zv_quarantine_filter){.source = "other"};
    ck_assert_int_eq(zv_store_quarantine_query(s, &f, gather, &v), 0);
    ck_assert_int_eq(v.n, 0);
    ck_assert_int_eq(zv_store_quarantine_waiting(s), 1);
    ck_assert_int_eq(zv_store_quarantine_count(s), 2);
    memset(&v, 0, sizeof(v));
    ck_assert_int_eq(zv_store_quarantine_due(s, "2029-12-31", gather, &v), 0);
    ck_assert_int_eq(v.n, 0);
    ck_assert_int_eq(zv_store_quarantine_due(s, "2030-01-01", gather, &v), 0);
    ck_assert_int_eq(v.n, 1);
    ck_assert_int_eq(v.ids[0], w);
    memset(&v, 0, sizeof(v));
    ck_assert_int_eq(zv_store_quarantine_of_record(s, "ons", "r3", gather, &v), 0);
    ck_assert_int_eq(v.n, 1);
    zv_store_close(s);
}
END_TEST

START_TEST(items_live_while_staged)
{
    zv_store *s = open_store();
    int64_t id = 0, id2 = 0;
    ck_assert_int_eq(zv_store_begin(s), 0);
    ck_assert_int_eq(zv_store_item_put(s, "ons", "r1", "{\"v\":1}", "m1", &id), 0);
    ck_assert_int_eq(zv_store_stage_item(s, "zk", 0, (const unsigned char *)"a", 1, id), 0);
    ck_assert_int_eq(zv_store_stage_item(s, "cak", 0, (const unsigned char *)"b", 1, id), 0);
    ck_assert_int_eq(zv_store_item_put(s, "ons", "r2", "{\"v\":2}", "m1", &id2), 0);
    ck_assert_int_eq(zv_store_item_release(s, id2), 0); /* nobody staged it */
    ck_assert_int_eq(zv_store_commit(s), 0);
    char *item, *ver;
    ck_assert_int_eq(zv_store_item_get(s, "ons", "r2", &item, &ver), 1);
    ck_assert_int_eq(zv_store_item_get(s, "ons", "r1", &item, &ver), 0);
    ck_assert_str_eq(item, "{\"v\":1}");
    ck_assert_str_eq(ver, "m1");
    free(item);
    free(ver);
    /* Released (no-op) while staged; gone with the last staged row. */
    ck_assert_int_eq(zv_store_item_release(s, id), 0);
    ck_assert_int_eq(zv_store_item_get(s, "ons", "r1", &item, &ver), 0);
    free(item);
    free(ver);
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM staged WHERE destination = 'zk'", 0, 0, 0), 0);
    sqlite3_close(db);
    ck_assert_int_eq(zv_store_item_get(s, "ons", "r1", &item, &ver), 0);
    free(item);
    free(ver);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM staged WHERE destination = 'cak'", 0, 0, 0), 0);
    sqlite3_close(db);
    ck_assert_int_eq(zv_store_item_get(s, "ons", "r1", &item, &ver), 1);
    zv_store_close(s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("store_quarantine");
    TCase *tc = tcase_create("lifecycle");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, close_is_audited_and_ids_stay_unique);
    tcase_add_test(tc, filters_reasons_and_waiting);
    tcase_add_test(tc, items_live_while_staged);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
