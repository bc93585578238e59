/* Worker threads (daemon/core/workers.h) and the render that runs on them
 * (daemon/core/render.c): work() on another thread, done() on the loop,
 * exactly once; a render that waits for the loop can finish, so the loop
 * runs while a destination renders. */
#include <check.h>
#include <event2/event.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/errors.h"
#include "core/runtime.h"
#include "core/workers.h"

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/zv-workers-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

typedef struct job {
    pthread_t worker;
    int worked, done;
    int *left;
    struct event_base *base;
} job;

static pthread_t loop_thread;

static void work(void *arg)
{
    job *j = arg;
    j->worker = pthread_self();
    j->worked++;
}

static void done(void *arg)
{
    job *j = arg;
    ck_assert(pthread_equal(pthread_self(), loop_thread));
    ck_assert_int_eq(j->worked, 1); /* work() is over before done() */
    j->done++;
    if (--*j->left == 0 && j->base) event_base_loopbreak(j->base);
}

START_TEST(work_on_threads_done_on_the_loop)
{
    loop_thread = pthread_self();
    struct event_base *base = event_base_new();
    zv_workers *w = zv_workers_new(base, 2);
    ck_assert_ptr_nonnull(w);
    enum { N = 64 };
    static job jobs[N];
    int left = N;
    memset(jobs, 0, sizeof(jobs));
    for (int i = 0; i < N; i++) {
        jobs[i].left = &left;
        jobs[i].base = base;
        ck_assert_int_eq(zv_workers_queue(w, work, done, &jobs[i]), 0);
        ck_assert_int_eq(jobs[i].done, 0); /* never inside queue() */
    }
    while (left > 0)
        ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE), 0);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(jobs[i].done, 1);
        ck_assert(!pthread_equal(jobs[i].worker, loop_thread));
    }
    ck_assert_int_eq(zv_workers_pending(w), 0);
    /* Freeing the pool finishes queued work and still calls every done(). */
    left = N;
    memset(jobs, 0, sizeof(jobs));
    for (int i = 0; i < N; i++) {
        jobs[i].left = &left;
        ck_assert_int_eq(zv_workers_queue(w, work, done, &jobs[i]), 0);
    }
    zv_workers_free(w);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(jobs[i].done, 1);
    event_base_free(base);
}
END_TEST

struct watch {
    char release[400], started[420], db[400];
    struct event *ev;
    struct event_base *base;
    int released;
};

/* On the loop: release the render once it has started, stop once the
 * payload is in the outbox. */
static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct watch *w = arg;
    if (!w->released && access(w->started, F_OK) == 0) {
        FILE *f = fopen(w->release, "w");
        ck_assert_ptr_nonnull(f);
        fclose(f);
        w->released = 1;
    }
    sqlite3 *db;
    int n = 0;
    if (w->released && sqlite3_open_v2(w->db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM outbox", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    if (n > 0) {
        event_base_loopbreak(w->base);
        return;
    }
    struct timeval tv = {0, 20000};
    evtimer_add(w->ev, &tv);
}

START_TEST(render_runs_off_the_loop)
{
    char conf[512], text[4096];
    struct watch w = {0};
    snprintf(w.release, sizeof(w.release), "%s/release", dir);
    snprintf(w.started, sizeof(w.started), "%s.rendering", w.release);
    snprintf(w.db, sizeof(w.db), "%s/state/zinvol.db", dir);
    snprintf(conf, sizeof(conf), "%s/zinvol.conf", dir);
    snprintf(text, sizeof(text),
             "{\"state_dir\": \"%s/state\", \"plugin_dir\": \"%s\",\n"
             " \"catalogue_dir\": \"%s/conf/catalogue\",\n"
             " \"sources\": [{\"name\": \"leaky\", \"type\": \"leaky\",\n"
             "   \"mapping\": {\"records\": [{\"kind\": \"delivery\", \"fields\": {\n"
             "     \"client.bsn\": \"bsn\", \"entitlement.law\": {\"value\": \"wlz\"},\n"
             "     \"entitlement.funder\": {\"value\": \"5501\"},\n"
             "     \"delivery.start\": {\"value\": \"2026-01-05\"}}}]}}],\n"
             " \"destinations\": [{\"name\": \"d\", \"format\": \"blocking\",\n"
             "   \"format_options\": {\"release\": \"%s\"},\n"
             "   \"transport\": \"good_transport\", \"transport_options\": {\"must\": \"x\"},\n"
             "   \"catalogue\": {\"file\": \"json-example.json\"}}]}\n",
             dir, getenv("ZV_TEST_PLUGIN_DIR"), getenv("ZV_SOURCE_DIR"), w.release);
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
    char err[512];
    ck_assert_int_eq(zv_runtime_start(rt, err, sizeof(err)), 0);
    zv_runtime_on_finished(rt, NULL, NULL);
    w.base = base;
    w.ev = evtimer_new(base, tick, &w);
    struct timeval tv = {0, 0};
    evtimer_add(w.ev, &tv);
    event_base_dispatch(base);
    event_free(w.ev);
    zv_runtime_free(rt);
    event_base_free(base);
    ck_assert_int_eq(w.released, 1);
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(w.db, &db), SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT CAST(payload AS TEXT), (SELECT count(*) FROM "
                                        "staged) FROM outbox",
                                        -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "worker");
    ck_assert_int_eq(sqlite3_column_int(st, 1), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core_workers");
    TCase *tc = tcase_create("workers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, work_on_threads_done_on_the_loop);
    tcase_add_test(tc, render_runs_off_the_loop);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
