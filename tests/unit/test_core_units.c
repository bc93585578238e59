/* Units of work (daemon/core/unit.c, store.h): no nested transactions, and a
 * unit a plugin leaves open is rolled back and logged naming the plugin. */
#include <check.h>
#include <event2/event.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/errors.h"
#include "core/runtime.h"
#include "store/store.h"

static char dir[256], path[300];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/zv-units-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/zinvol.db", dir);
}

static void teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static zv_store *open_store(const char *p)
{
    char err[256];
    zv_store *s = zv_store_open(p, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    return s;
}

/* What another connection (zinvolctl, a restarted daemon) sees. */
static int64_t count_other(zv_store *other, const char *dest)
{
    return zv_store_staged_count(other, dest);
}

/* The lost commit, as it was: a source left its transaction open, the
 * delivery engine's begin nested into it and its commit returned 0, yet the
 * other connection saw nothing (the rows went with the next rollback).  Now
 * the second begin is refused, naming the owner, and every commit that
 * returns 0 is visible on the other connection at once. */
START_TEST(no_lost_commit_with_two_handles)
{
    zv_store *a = open_store(path), *b = open_store(path);
    const unsigned char rec[] = "r";
    ck_assert_int_eq(zv_store_begin_as(a, "source/ons"), 0);
    ck_assert_int_eq(zv_store_stage(a, "leaked", 0, rec, sizeof(rec)), 0);
    /* The engine's outcomes: refused instead of silently joined. */
    ck_assert_int_eq(zv_store_begin_as(a, "delivery"), -1);
    ck_assert_ptr_nonnull(strstr(zv_store_errmsg(a), "opened by source/ons"));
    ck_assert_str_eq(zv_store_txn_owner(a), "source/ons");
    /* The host rolls the leaked unit back. */
    zv_store_rollback(a);
    ck_assert_ptr_null(zv_store_txn_owner(a));
    ck_assert_int_eq(count_other(b, "leaked"), 0);
    /* Now the engine's unit is its own, and its commit is real. */
    ck_assert_int_eq(zv_store_begin_as(a, "delivery"), 0);
    ck_assert_int_eq(zv_store_stage(a, "outcome", 0, rec, sizeof(rec)), 0);
    ck_assert_int_eq(zv_store_commit(a), 0);
    ck_assert_int_eq(count_other(b, "outcome"), 1);
    /* Many units in a row: each commit that says 0 is on disk for b. */
    for (int i = 1; i <= 20; i++) {
        ck_assert_int_eq(zv_store_begin_as(a, "source/ons"), 0);
        ck_assert_int_eq(zv_store_stage(a, "many", 0, rec, sizeof(rec)), 0);
        ck_assert_int_eq(zv_store_begin(a), -1);
        ck_assert_int_eq(zv_store_commit(a), 0);
        ck_assert_int_eq(count_other(b, "many"), i);
    }
    ck_assert_int_eq(zv_store_commit(a), -1); /* nothing open */
    zv_store_close(b);
    zv_store_close(a);
}
END_TEST

/* A store operation of several rows (a delivery with its audit entry) is
 * part of the caller's unit when one is open, not a transaction of its own:
 * rolled back with it. */
START_TEST(store_operations_join_the_open_unit)
{
    zv_store *a = open_store(path), *b = open_store(path);
    zv_outbox_new o = {.destination = "d",
                       .message = "AW35",
                       .idem_key = "k1",
                       .payload = "<x/>",
                       .len = 4,
                       .content_type = "text/xml",
                       .extension = "xml",
                       .fields_json = "[]",
                       .records_json = "[]"};
    ck_assert_int_eq(zv_store_enqueue(a, &o), 0); /* autocommit */
    int64_t id = 0;
    ck_assert_int_eq(zv_store_outbox_find(a, "d", "k1", &id), 0);
    ck_assert_int_eq(zv_store_begin_as(a, "delivery"), 0);
    ck_assert_int_eq(zv_store_outbox_delivered(a, id, 1000), 0);
    ck_assert_str_eq(zv_store_txn_owner(a), "delivery"); /* still ours */
    zv_store_rollback(a);
    ck_assert_int_eq(zv_store_outbox_count(b, "d", "pending"), 1);
    ck_assert_int_eq(zv_store_outbox_delivered(a, id, 1000), 0); /* its own */
    ck_assert_int_eq(zv_store_outbox_count(b, "d", "delivered"), 1);
    zv_store_close(b);
    zv_store_close(a);
}
END_TEST

struct group_seen {
    int calls, ok;
    int64_t units;
};

static void on_group(void *arg, int ok, int64_t units)
{
    struct group_seen *g = arg;
    g->calls++;
    g->ok = ok;
    g->units = units;
}

/* Group commit: units released into a group are durable together, with one
 * commit, and only then (the other connection sees nothing before); a unit
 * that fails is rolled back alone; units never nest; a plain transaction
 * commits a waiting group first. */
START_TEST(group_commit_of_units)
{
    zv_store *a = open_store(path), *b = open_store(path);
    struct group_seen g = {0};
    zv_store_on_group(a, on_group, &g);
    const unsigned char rec[] = "r";
    ck_assert_int_eq(zv_store_unit_begin(a, "source/one"), 0);
    ck_assert_int_eq(zv_store_stage(a, "grp", 0, rec, sizeof(rec)), 0);
    ck_assert_int_eq(zv_store_unit_begin(a, "source/two"), -1); /* no nesting */
    ck_assert_int_eq(zv_store_unit_commit(a, 0), 0);
    ck_assert_int_eq(zv_store_group_pending(a), 1);
    ck_assert_int_eq(count_other(b, "grp"), 0); /* not durable yet: not visible */
    ck_assert_ptr_null(zv_store_txn_owner(a));  /* a waiting group is no one's */
    /* A unit whose step fails is rolled back alone. */
    ck_assert_int_eq(zv_store_unit_begin(a, "source/two"), 0);
    ck_assert_int_eq(zv_store_stage(a, "grp", 0, rec, sizeof(rec)), 0);
    ck_assert_int_eq(zv_store_stage(a, NULL, 0, rec, sizeof(rec)), -1); /* NOT NULL */
    ck_assert_int_eq(zv_store_unit_commit(a, 0), -1);
    ck_assert_int_eq(zv_store_unit_begin(a, "source/three"), 0);
    ck_assert_int_eq(zv_store_stage(a, "grp", 0, rec, sizeof(rec)), 0);
    ck_assert_int_eq(zv_store_unit_commit(a, 0), 0);
    ck_assert_int_eq(g.calls, 0);
    ck_assert_int_eq(zv_store_group_commit(a), 0);
    ck_assert_int_eq(g.calls, 1); /* one commit for both units */
    ck_assert_int_eq(g.ok, 1);
    ck_assert_int_eq(g.units, 2);
    ck_assert_int_eq(count_other(b, "grp"), 2);
    /* The delivery engine's transaction comes after a waiting group. */
    ck_assert_int_eq(zv_store_unit_begin(a, "source/one"), 0);
    ck_assert_int_eq(zv_store_stage(a, "grp", 0, rec, sizeof(rec)), 0);
    ck_assert_int_eq(zv_store_unit_commit(a, 0), 0);
    ck_assert_int_eq(zv_store_begin_as(a, "delivery"), 0);
    ck_assert_int_eq(g.calls, 2);
    ck_assert_int_eq(count_other(b, "grp"), 3);
    ck_assert_int_eq(zv_store_commit(a), 0);
    /* commit() of a source: the unit and the group, durable at return. */
    ck_assert_int_eq(zv_store_unit_begin(a, "source/one"), 0);
    ck_assert_int_eq(zv_store_stage(a, "grp", 0, rec, sizeof(rec)), 0);
    ck_assert_int_eq(zv_store_unit_commit(a, 1), 0);
    ck_assert_int_eq(count_other(b, "grp"), 4);
    zv_store_close(b);
    zv_store_close(a);
}
END_TEST

static void finished(void *arg, int status)
{
    (void)status;
    event_base_loopbreak(arg);
}

static char *slurp(const char *p)
{
    FILE *f = fopen(p, "r");
    ck_assert_ptr_nonnull(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* A real runtime with a source that returns from a callback with its unit
 * open: the host rolls it back and logs it naming the plugin; the next
 * unit, committed, is kept. */
START_TEST(open_unit_rolled_back_and_logged)
{
    char conf[512], text[2048], logp[512];
    snprintf(conf, sizeof(conf), "%s/zinvol.conf", dir);
    snprintf(text, sizeof(text),
             "{\"state_dir\": \"%s/state\", \"plugin_dir\": \"%s\",\n"
             " \"sources\": [{\"name\": \"leaky\", \"type\": \"leaky\",\n"
             "   \"mapping\": {\"records\": [{\"kind\": \"client\",\n"
             "                \"fields\": {\"client.bsn\": \"bsn\"}}]}}]}\n",
             dir, getenv("ZV_TEST_PLUGIN_DIR"));
    FILE *f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    zv_errors e;
    zv_errors_init(&e);
    zv_config *cfg = zv_config_load(conf, NULL, &e);
    ck_assert_msg(cfg != NULL, "%s", e.n ? e.lines[0] : "?");
    struct event_base *base = event_base_new();
    zv_runtime *rt = zv_runtime_build(cfg, base, ZV_RT_ONCE, &e);
    ck_assert_msg(rt != NULL, "%s", e.n ? e.lines[0] : "?");
    /* The log goes to stderr: catch it in a file. */
    snprintf(logp, sizeof(logp), "%s/log", dir);
    fflush(stderr);
    int saved = dup(2), fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    dup2(fd, 2);
    close(fd);
    char err[512];
    ck_assert_int_eq(zv_runtime_start(rt, err, sizeof(err)), 0);
    zv_runtime_on_finished(rt, finished, base);
    while (!event_base_got_break(base)) {
        ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
        ck_assert_int_eq(zv_runtime_turn_check(rt), 0); /* nothing open between turns */
    }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    zv_runtime_free(rt);
    event_base_free(base);
    const char *log = slurp(logp);
    ck_assert_msg(strstr(log, "[source/leaky] left a unit of work open (2 items emitted) when "
                              "its callback returned; rolled back") != NULL,
                  "log: %s", log);
    char db[512];
    snprintf(db, sizeof(db), "%s/state/zinvol.db", dir);
    sqlite3 *other;
    ck_assert_int_eq(sqlite3_open(db, &other), SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(other,
                                        "SELECT (SELECT group_concat(record_id) FROM seen WHERE "
                                        "source = 'leaky'), (SELECT value FROM watermark WHERE "
                                        "source = 'leaky' AND key = 'pos')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "kept-1");
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 1), "kept");
    sqlite3_finalize(st);
    sqlite3_close(other);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core_units");
    TCase *tc = tcase_create("units");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, no_lost_commit_with_two_handles);
    tcase_add_test(tc, store_operations_join_the_open_unit);
    tcase_add_test(tc, group_commit_of_units);
    tcase_add_test(tc, open_unit_rolled_back_and_logged);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
