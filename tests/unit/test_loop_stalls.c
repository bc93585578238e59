/*
 * The daemon's loop does not stop for work it can hand off (issue 9): no
 * timing is asserted, only what the loop did.
 *  - filedrop commits each step with commit_async: the loop never waits for
 *    the store writer's fsync (zv_store_loop_waits counts such waits), and
 *    no step emits more than batch_rows records, and a step ends at
 *    step_time;
 *  - a render unit's reads and writes (the staged rows read and deleted,
 *    the payloads put in the outbox) run on the store's writer thread, not
 *    on the loop;
 *  - /healthz asks the store for the oldest payload not yet delivered per
 *    destination: that query uses an index, never a scan of the outbox.
 * On the testbed: the real core, its store writer thread, a real SQLite file.
 */
#include <check.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/runtime_int.h"
#include "store/store.h"
#include "store/store_int.h"
#include "zvtb.h"
#include "zvtb_src.h"

static const char *MAPPING =
    "{\"record_id\": [\"id\"], \"records\": [{\"kind\": \"client\", \"fields\": {"
    " \"client.id\": \"id\", \"client.bsn\": \"bsn\", \"client.family_name\": \"naam\"}}]}";

/* Test-range BSNs (elfproef): 9-digit numbers whose weighted sum is 0 mod 11. */
static void make_bsn(int i, char out[10])
{
    for (int n = 100000000 + i * 7;; n++) {
        snprintf(out, 10, "%09d", n);
        int sum = 0;
        for (int k = 0; k < 8; k++)
            sum += (out[k] - '0') * (9 - k);
        sum -= out[8] - '0';
        if (sum % 11 == 0) return;
    }
}

/* rows CSV rows into dir/name, dated a minute back (settled). */
static void write_csv(const char *dir, const char *name, int rows)
{
    char path[600], tmp[620];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s/.%s.part", dir, name);
    FILE *f = fopen(tmp, "w");
    ck_assert_ptr_nonnull(f);
    fputs("id,bsn,naam\n", f);
    for (int i = 0; i < rows; i++) {
        char bsn[10];
        make_bsn(i, bsn);
        fprintf(f, "c%d,%s,Naam%d\n", i, bsn, i);
    }
    ck_assert_int_eq(fclose(f), 0);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= 60;
    tv[1] = tv[0];
    ck_assert_int_eq(utimes(tmp, tv), 0);
    ck_assert_int_eq(rename(tmp, path), 0);
}

static int64_t staged_count(zvtb *tb)
{
    return zv_store_staged_count(zvtb_runtime(tb)->store, "capture");
}

START_TEST(filedrop_never_waits_for_the_writer)
{
    char dir[] = "/tmp/zv-loopstall-XXXXXX", opts[400], err[512] = "";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(opts, sizeof(opts), "{\"directory\": \"%s\", \"settle\": \"0s\", \"batch_rows\": 50}",
             dir);
    zvs_host *h = zvs_new(opts, MAPPING, err, sizeof(err));
    ck_assert_msg(h != NULL, "%s", err);
    ck_assert_msg(zvs_start(h, "in_filedrop.so", err, sizeof(err)) == 0, "%s", err);
    zvtb *tb = zvs_bed(h);
    zv_runtime *rt = zvtb_runtime(tb);
    ck_assert_msg(rt->store && zv_store_writer_health(rt->store, 1000000, err, sizeof(err)) != 1,
                  "the bed runs without the store's writer thread");
    const int rows = 1000;
    write_csv(dir, "clients.csv", rows);
    int64_t waits0 = zv_store_loop_waits(rt->store);
    int64_t groups0 = zv_store_done_gen(rt->store);
    ck_assert_int_eq(zvs_drain(h, 120000), 0);
    /* Every row staged, committed (read through the store). */
    ck_assert_int_eq(staged_count(tb), rows);
    /* The loop never stopped for an fsync: each step's unit went to the
     * writer and the next step came once it was durable. */
    ck_assert_int_eq(zv_store_loop_waits(rt->store) - waits0, 0);
    /* At most batch_rows records per unit: at least rows / 50 groups. */
    ck_assert_int_ge(zv_store_done_gen(rt->store) - groups0, rows / 50);
    char done[600];
    snprintf(done, sizeof(done), "%s/done/clients.csv", dir);
    struct stat st;
    ck_assert_int_eq(stat(done, &st), 0);
    ck_assert_str_eq(zvs_watermark(h, "file"), "");
    zvs_stop(h);
    zvs_free(h);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A step ends at step_time even before batch_rows: with 0 every step is one
 * record, so a file of rows rows takes at least rows groups (one unit per
 * step), and every row is still staged once. */
START_TEST(filedrop_step_ends_at_step_time)
{
    char dir[] = "/tmp/zv-loopstall-XXXXXX", opts[400], err[512] = "";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(opts, sizeof(opts),
             "{\"directory\": \"%s\", \"settle\": \"0s\", \"batch_rows\": 50, "
             "\"step_time\": \"0s\"}",
             dir);
    zvs_host *h = zvs_new(opts, MAPPING, err, sizeof(err));
    ck_assert_msg(h != NULL, "%s", err);
    ck_assert_msg(zvs_start(h, "in_filedrop.so", err, sizeof(err)) == 0, "%s", err);
    zvtb *tb = zvs_bed(h);
    zv_runtime *rt = zvtb_runtime(tb);
    const int rows = 60;
    write_csv(dir, "clients.csv", rows);
    int64_t groups0 = zv_store_done_gen(rt->store);
    ck_assert_int_eq(zvs_drain(h, 120000), 0);
    ck_assert_int_eq(staged_count(tb), rows);
    ck_assert_int_ge(zv_store_done_gen(rt->store) - groups0, rows);
    zvs_stop(h);
    zvs_free(h);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Which thread put payloads in the outbox and deleted staged rows
 * (sqlite3's update hook runs on the thread that steps the statement). */
static struct {
    pthread_mutex_t mu;
    pthread_t loop;
    int on_loop, off_loop;
} writes = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void update_hook(void *arg, int op, const char *db, const char *table, sqlite3_int64 row)
{
    (void)arg;
    (void)db;
    (void)row;
    /* The render's: payloads in, staged rows out (the delivery engine's
     * claims and outcomes update the outbox on the loop). */
    if (!(op == SQLITE_INSERT && strcmp(table, "outbox") == 0) &&
        !(op == SQLITE_DELETE && strcmp(table, "staged") == 0))
        return;
    pthread_mutex_lock(&writes.mu);
    if (pthread_equal(pthread_self(), writes.loop))
        writes.on_loop++;
    else
        writes.off_loop++;
    pthread_mutex_unlock(&writes.mu);
}

/* Issue 9: a render unit of thousands of records held the loop for up to
 * half a second writing its payloads, disclosures, change marks and staged
 * deletes; now the loop only begins and releases the unit. */
START_TEST(render_unit_written_off_the_loop)
{
    char dir[] = "/tmp/zv-loopstall-XXXXXX", opts[400], err[512] = "";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(opts, sizeof(opts), "{\"directory\": \"%s\", \"settle\": \"0s\"}", dir);
    zvs_host *h = zvs_new(opts, MAPPING, err, sizeof(err));
    ck_assert_msg(h != NULL, "%s", err);
    ck_assert_msg(zvs_start(h, "in_filedrop.so", err, sizeof(err)) == 0, "%s", err);
    zvtb *tb = zvs_bed(h);
    zv_runtime *rt = zvtb_runtime(tb);
    const int rows = 300;
    write_csv(dir, "clients.csv", rows);
    ck_assert_int_eq(zvs_drain(h, 120000), 0);
    ck_assert_int_eq(staged_count(tb), rows);
    writes.loop = pthread_self();
    writes.on_loop = writes.off_loop = 0;
    sqlite3_update_hook(rt->store->db, update_hook, NULL);
    /* Reading the records closes capture's window: the render runs. */
    ck_assert_int_eq((int)zvs_nrecords(h), rows);
    sqlite3_update_hook(rt->store->db, NULL, NULL);
    ck_assert_int_eq(staged_count(tb), 0);
    ck_assert_int_gt(writes.off_loop, rows); /* each staged row deleted, and the payloads */
    ck_assert_int_eq(writes.on_loop, 0);
    ck_assert_int_eq(zvtb_log_problems(tb), 0);
    zvs_stop(h);
    zvs_free(h);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The plan SQLite chooses for the /healthz query (store_admin.c's text). */
START_TEST(healthz_outbox_query_uses_an_index)
{
    char dir[] = "/tmp/zv-loopstall-XXXXXX", opts[400], err[512] = "";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(opts, sizeof(opts), "{\"directory\": \"%s\"}", dir);
    zvs_host *h = zvs_new(opts, MAPPING, err, sizeof(err));
    ck_assert_msg(h != NULL, "%s", err);
    ck_assert_msg(zvs_start(h, "in_filedrop.so", err, sizeof(err)) == 0, "%s", err);
    zvtb *tb = zvs_bed(h);
    char path[600];
    snprintf(path, sizeof(path), "%s/state/zinvol.db", zvtb_dir(tb));
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "EXPLAIN QUERY PLAN SELECT min(first_enqueued) FROM outbox "
                                        "WHERE destination = ? AND state IN ('pending', "
                                        "'inflight')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    char plan[1000] = "";
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t n = strlen(plan);
        snprintf(plan + n, sizeof(plan) - n, "%s; ", (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    ck_assert_msg(strstr(plan, "USING INDEX outbox_live") != NULL, "plan: %s", plan);
    ck_assert_msg(strstr(plan, "SCAN") == NULL, "plan: %s", plan);
    zvs_stop(h);
    zvs_free(h);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loop_stalls");
    TCase *tc = tcase_create("loop");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, filedrop_never_waits_for_the_writer);
    tcase_add_test(tc, filedrop_step_ends_at_step_time);
    tcase_add_test(tc, render_unit_written_off_the_loop);
    tcase_add_test(tc, healthz_outbox_query_uses_an_index);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
