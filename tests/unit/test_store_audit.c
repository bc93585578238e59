/* Audit trail: hash chain over a real SQLite file; edits, insertions and
 * deletions made with plain SQL (as an intruder would) are detected. */
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
    snprintf(dir, sizeof(dir), "/tmp/zv-audit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/zinvol.db", dir);
    char err[256];
    zv_store *s = zv_store_open(path, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    for (int i = 0; i < 5; i++) {
        char key[16], body[32];
        snprintf(key, sizeof(key), "MSG%d", i);
        snprintf(body, sizeof(body), "<bericht n=\"%d\"/>", i);
        zv_outbox_new o = {.destination = "zk-5501",
                           .message = "AW35",
                           .idem_key = key,
                           .payload = body,
                           .len = strlen(body),
                           .fields_json = "[{\"field\":\"client.bsn\",\"level\":\"standard\"},"
                                          "{\"field\":\"client.birth_date\",\"level\":\"law\"}]"};
        ck_assert_int_eq(zv_store_enqueue(s, &o), 0);
        int64_t id;
        ck_assert_int_eq(zv_store_outbox_find(s, "zk-5501", key, &id), 0);
        ck_assert_int_eq(zv_store_outbox_delivered(s, id, 1700000000 + i), 0);
    }
    zv_store_close(s);
}

static void teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void raw_sql(const char *sql)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    ck_assert_msg(rc == SQLITE_OK, "%s", msg ? msg : "?");
    ck_assert_int_eq(sqlite3_changes(db) >= 1, 1);
    sqlite3_close(db);
}

static int verify(int64_t *bad, char *why, size_t whylen)
{
    char err[256];
    zv_store *s = zv_store_open(path, err, sizeof(err));
    ck_assert_ptr_nonnull(s);
    int64_t count = 0;
    int rc = zv_store_audit_verify(s, &count, bad, why, whylen);
    zv_store_close(s);
    return rc;
}

struct entries {
    int n;
    char sha[5][65];
    char fields[128];
};

static int collect(const zv_audit_entry *e, void *arg)
{
    struct entries *x = arg;
    snprintf(x->sha[x->n], 65, "%s", e->payload_sha256);
    snprintf(x->fields, sizeof(x->fields), "%s", e->fields);
    x->n++;
    return 0;
}

START_TEST(intact_trail_verifies_and_holds_no_values)
{
    int64_t bad = 0;
    char why[256];
    ck_assert_int_eq(verify(&bad, why, sizeof(why)), 0);
    char err[256];
    zv_store *s = zv_store_open(path, err, sizeof(err));
    struct entries x = {0};
    ck_assert_int_eq(zv_store_audit_each(s, collect, &x), 0);
    zv_store_close(s);
    ck_assert_int_eq(x.n, 5);
    char sha[65];
    zv_sha256_hex("<bericht n=\"2\"/>", strlen("<bericht n=\"2\"/>"), sha);
    ck_assert_str_eq(x.sha[2], sha);
    ck_assert_str_eq(x.fields, "client.bsn=standard,client.birth_date=law");
}
END_TEST

START_TEST(edited_entry_detected)
{
    raw_sql("UPDATE audit SET fields = 'client.bsn=standard' WHERE seq = 3");
    int64_t bad = 0;
    char why[256];
    ck_assert_int_eq(verify(&bad, why, sizeof(why)), 1);
    ck_assert_int_eq(bad, 3);
    ck_assert_ptr_nonnull(strstr(why, "entry 3"));
}
END_TEST

START_TEST(edited_entry_with_rehash_detected_downstream)
{
    /* Editing the row and its own hash still breaks the next link. */
    raw_sql("UPDATE audit SET idem_key = 'FORGED', hash = "
            "'1111111111111111111111111111111111111111111111111111111111111111' WHERE seq = 2");
    int64_t bad = 0;
    char why[256];
    ck_assert_int_eq(verify(&bad, why, sizeof(why)), 1);
    ck_assert_int_eq(bad, 2);
}
END_TEST

START_TEST(deleted_middle_entry_detected)
{
    raw_sql("DELETE FROM audit WHERE seq = 4");
    int64_t bad = 0;
    char why[256];
    ck_assert_int_eq(verify(&bad, why, sizeof(why)), 1);
    ck_assert_int_eq(bad, 4);
}
END_TEST

START_TEST(deleted_last_entry_detected)
{
    raw_sql("DELETE FROM audit WHERE seq = 5");
    int64_t bad = 0;
    char why[256];
    ck_assert_int_eq(verify(&bad, why, sizeof(why)), 1);
    ck_assert_int_eq(bad, 5);
    ck_assert_ptr_nonnull(strstr(why, "removed"));
}
END_TEST

START_TEST(inserted_entry_detected)
{
    raw_sql("INSERT INTO audit(seq, at, kind, destination, idem_key, message, fields, "
            "payload_sha256, detail, hash) SELECT 6, at, kind, destination, 'EXTRA', message, "
            "fields, payload_sha256, detail, hash FROM audit WHERE seq = 5");
    int64_t bad = 0;
    char why[256];
    ck_assert_int_eq(verify(&bad, why, sizeof(why)), 1);
    ck_assert_int_eq(bad, 6);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("store_audit");
    TCase *tc = tcase_create("audit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, intact_trail_verifies_and_holds_no_values);
    tcase_add_test(tc, edited_entry_detected);
    tcase_add_test(tc, edited_entry_with_rehash_detected_downstream);
    tcase_add_test(tc, deleted_middle_entry_detected);
    tcase_add_test(tc, deleted_last_entry_detected);
    tcase_add_test(tc, inserted_entry_detected);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
