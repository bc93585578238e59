/* The store's writer thread (store_writer.c, store_txn.c): group commits
 * run on it and are visible to another connection only once it has ended
 * them; plain transactions of the loop are units of the group; a file
 * locked by another connection makes begin fail at once (the loop never
 * waits) while the writer waits, and the loop is told when it is free.
 * Real SQLite files, two handles, a real event loop; no time is asserted. */
#include <check.h>
#include <event2/event.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

#include "admin/admin.h"
#include "core/config.h"
#include "store/store.h"
#include "store/store_admin.h"
#include "store/store_int.h"

static char dir[256], path[300];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/zv-writer-XXXXXX");
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

struct seen {
    int groups, ok, readies;
    int64_t units;
};

static void on_group(void *arg, int ok, int64_t units)
{
    struct seen *g = arg;
    g->groups++;
    g->ok = ok;
    g->units = units;
}

static void on_ready(void *arg)
{
    ((struct seen *)arg)->readies++;
}

static zv_store *writer_store(struct event_base *base, struct seen *g)
{
    zv_store *s = open_store();
    char err[256];
    zv_store_on_group(s, on_group, g);
    ck_assert_int_eq(zv_store_writer_start(s, base, on_ready, g, err, sizeof(err)), 0);
    return s;
}

static const unsigned char rec[] = "r";

/* Turns of the loop until the writer has told it count times. */
static void until_ready(struct event_base *base, struct seen *g, int count)
{
    while (g->readies < count)
        ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE), 0);
}

/* Units released into a group become durable together when the writer has
 * committed it: not before (the other connection sees nothing), and the
 * on_group hook says so on the loop, with the number of units. */
START_TEST(group_committed_on_the_writer)
{
    struct event_base *base = event_base_new();
    struct seen g = {0};
    zv_store *a = writer_store(base, &g), *b = open_store();
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(zv_store_unit_begin(a, "source/ons"), 0);
        ck_assert_int_eq(zv_store_stage(a, "grp", 0, rec, sizeof(rec)), 0);
        ck_assert_int_eq(zv_store_unit_commit(a, 0), 0);
    }
    int64_t gen = zv_store_wait_gen(a);
    ck_assert_int_gt(gen, zv_store_done_gen(a));
    ck_assert_int_eq(zv_store_staged_count(b, "grp"), 0);
    ck_assert_int_eq(zv_store_group_commit(a), 0); /* posted */
    ck_assert_int_eq(zv_store_ready(a), 0);        /* until the loop takes its end */
    until_ready(base, &g, 1);
    ck_assert_int_eq(g.groups, 1);
    ck_assert_int_eq(g.ok, 1);
    ck_assert_int_eq(g.units, 3);
    ck_assert_int_ge(zv_store_done_gen(a), gen);
    ck_assert_int_eq(zv_store_staged_count(b, "grp"), 3);
    /* A sync commit (a source's commit()): durable when it returns. */
    ck_assert_int_eq(zv_store_unit_begin(a, "source/ons"), 0);
    ck_assert_int_eq(zv_store_stage(a, "grp", 0, rec, sizeof(rec)), 0);
    ck_assert_int_eq(zv_store_unit_commit(a, 1), 0);
    ck_assert_int_eq(zv_store_staged_count(b, "grp"), 4);
    zv_store_close(b);
    zv_store_close(a);
    event_base_free(base);
}
END_TEST

/* With a writer, begin_as()/commit() (the delivery engine's outcomes, a
 * render unit) is a unit of the group: it reads its own and the earlier
 * units' rows, its commit releases it into the group (durable with it),
 * and its rollback undoes only it. */
START_TEST(plain_transactions_join_the_group)
{
    struct event_base *base = event_base_new();
    struct seen g = {0};
    zv_store *a = writer_store(base, &g), *b = open_store();
    ck_assert_int_eq(zv_store_unit_begin(a, "source/ons"), 0);
    ck_assert_int_eq(zv_store_stage(a, "grp", 0, rec, sizeof(rec)), 0);
    ck_assert_int_eq(zv_store_unit_commit(a, 0), 0);
    ck_assert_int_eq(zv_store_begin_as(a, "delivery"), 0);
    ck_assert_int_eq(zv_store_staged_count(a, "grp"), 1); /* sees the unit before it */
    ck_assert_int_eq(zv_store_begin_as(a, "render"), -1); /* still no nesting */
    ck_assert_ptr_nonnull(strstr(zv_store_errmsg(a), "opened by delivery"));
    ck_assert_int_eq(zv_store_stage(a, "grp", 0, rec, sizeof(rec)), 0);
    ck_assert_int_eq(zv_store_commit(a), 0);
    ck_assert_int_eq(zv_store_staged_count(b, "grp"), 0); /* not durable yet */
    ck_assert_int_eq(zv_store_begin_as(a, "render"), 0);
    ck_assert_int_eq(zv_store_stage(a, "grp", 0, rec, sizeof(rec)), 0);
    zv_store_rollback(a); /* only this one */
    ck_assert_ptr_null(zv_store_txn_owner(a));
    ck_assert_int_eq(zv_store_group_commit_sync(a), 0);
    ck_assert_int_eq(g.units, 2);
    ck_assert_int_eq(zv_store_staged_count(b, "grp"), 2);
    zv_store_close(b);
    zv_store_close(a);
    event_base_free(base);
}
END_TEST

/* Another connection holds the write lock (zinvolctl): begin on the loop
 * fails at once instead of waiting SQLite's busy timeout, callers that can
 * wait are told to (group_prepare 0), the writer waits, and once the lock is
 * let go the loop is told (on_ready) and the unit goes through. */
START_TEST(locked_file_waited_for_on_the_writer)
{
    struct event_base *base = event_base_new();
    struct seen g = {0};
    zv_store *a = writer_store(base, &g);
    sqlite3 *other;
    ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(zv_store_unit_begin(a, "source/ons"), -1);
    ck_assert_int_eq(zv_store_ready(a), 0);
    ck_assert_int_eq(zv_store_group_prepare(a), 0);
    ck_assert_int_eq(zv_store_unit_begin(a, "source/ons"), -1);
    ck_assert_ptr_nonnull(strstr(zv_store_errmsg(a), "locked by another process"));
    char why[256];
    ck_assert_int_eq(zv_store_writer_health(a, -1, why, sizeof(why)), -1);
    ck_assert_ptr_nonnull(strstr(why, "locked by another process"));
    /* Reads go on meanwhile (WAL). */
    ck_assert_int_eq(zv_store_staged_count(a, "grp"), 0);
    ck_assert_int_eq(g.readies, 0);
    ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    until_ready(base, &g, 1);
    ck_assert_int_eq(zv_store_ready(a), 1);
    ck_assert_int_eq(zv_store_writer_health(a, 1000, why, sizeof(why)), 0);
    ck_assert_int_eq(zv_store_group_prepare(a), 1);
    ck_assert_int_eq(zv_store_unit_begin(a, "source/ons"), 0);
    ck_assert_int_eq(zv_store_stage(a, "grp", 0, rec, sizeof(rec)), 0);
    ck_assert_int_eq(zv_store_unit_commit(a, 1), 0);
    ck_assert_int_eq(zv_store_staged_count(a, "grp"), 1);
    sqlite3_close(other);
    zv_store_close(a);
    event_base_free(base);
}
END_TEST

/* A group nobody put a unit into (a request that wrote nothing, a unit
 * rolled back) ends at once: it would hold the write lock for good. */
START_TEST(empty_group_lets_go_of_the_lock)
{
    struct event_base *base = event_base_new();
    struct seen g = {0};
    zv_store *a = writer_store(base, &g);
    sqlite3 *other;
    ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
    ck_assert_int_eq(zv_store_group_prepare(a), 1);
    zv_store_group_end_empty(a);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE; ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(zv_store_unit_begin(a, "source/ons"), 0);
    ck_assert_int_eq(zv_store_stage(a, "grp", 0, rec, sizeof(rec)), 0);
    zv_store_unit_rollback(a);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE; ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    zv_store_close(a);
    event_base_free(base);
}
END_TEST

static int claimed(const zv_outbox_row *r, void *arg)
{
    (void)r;
    ++*(int *)arg;
    return 0;
}

static int64_t pragma_synchronous(zv_store *s)
{
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(s->db, "PRAGMA synchronous", -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The delivery engine's claim once made its own transaction cheap
 * (synchronous=NORMAL, set back after it); as a unit of the group it must
 * not: the pragma cannot be set back inside the group, and every later
 * group commit would go without its fsync. */
START_TEST(claims_keep_the_group_full)
{
    struct event_base *base = event_base_new();
    struct seen g = {0};
    zv_store *a = writer_store(base, &g);
    ck_assert_int_eq(pragma_synchronous(a), 2); /* FULL */
    zv_outbox_new o = {.destination = "d",
                       .message = "m",
                       .idem_key = "k1",
                       .payload = "p",
                       .len = 1,
                       .content_type = "text/plain",
                       .extension = "txt"};
    ck_assert_int_eq(zv_store_begin_as(a, "render"), 0);
    ck_assert_int_eq(zv_store_enqueue(a, &o), 0);
    ck_assert_int_eq(zv_store_commit(a), 0);
    ck_assert_int_eq(zv_store_group_commit_sync(a), 0);
    int n = 0;
    ck_assert_int_eq(zv_store_outbox_claim(a, "d", INT64_MAX / 2, 10, claimed, &n), 1);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(pragma_synchronous(a), 2);
    ck_assert_int_eq(zv_store_group_commit_sync(a), 0);
    ck_assert_int_eq(pragma_synchronous(a), 2);
    zv_store_close(a);
    event_base_free(base);
}
END_TEST

/* A commit the writer thread is inside of: the commit hook (it runs on the
 * writer thread, inside COMMIT, with the writer's connection held) waits
 * until the test lets it go.  A watchdog lets it go after a long while so a
 * reader that waits for the commit fails the test instead of hanging it. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int block, inside, release, by_watchdog;
} hold = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0};

static int commit_hook(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&hold.mu);
    if (hold.block) {
        hold.inside = 1;
        pthread_cond_broadcast(&hold.cv);
        while (!hold.release)
            pthread_cond_wait(&hold.cv, &hold.mu);
    }
    pthread_mutex_unlock(&hold.mu);
    return 0;
}

static void *watchdog(void *arg)
{
    (void)arg;
    sleep(60);
    pthread_mutex_lock(&hold.mu);
    if (!hold.release) hold.by_watchdog = 1;
    hold.release = 1;
    pthread_cond_broadcast(&hold.cv);
    pthread_mutex_unlock(&hold.mu);
    return NULL;
}

static void fired_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ++*(int *)arg;
}

static int admin_get(const zv_admin_env *env, const char *p, zv_buf *out)
{
    zv_admin_req req = {.method = "GET", .path = p, .who = "test"};
    const char *ctype;
    zv_buf_init(out);
    return zv_admin_call(env, &req, out, &ctype);
}

/* Issue 9: reads on the loop (the admin API's GETs, /healthz's outbox
 * query, audit verify's own read transaction) go to the store's reader, a
 * connection of their own: while the writer is inside a COMMIT they are
 * answered from what is committed, without one wait for the writer and
 * without "cannot start a transaction within a transaction"; a callback
 * that would write is held back (zv_store_when_ready) and runs once the
 * commit has ended, the loop never waiting for it. */
START_TEST(reader_never_waits_for_the_writer)
{
    struct event_base *base = event_base_new();
    struct seen g = {0};
    zv_store *a = writer_store(base, &g);
    zv_store *r = zv_store_reader(a);
    ck_assert_ptr_ne(r, a);
    ck_assert_ptr_ne(r->db, a->db);
    ck_assert_int_eq(zv_store_unit_begin(a, "source/ons"), 0);
    ck_assert_int_eq(zv_store_stage(a, "grp", 0, rec, sizeof(rec)), 0);
    ck_assert_int_eq(zv_store_unit_commit(a, 1), 0);
    ck_assert_int_eq(zv_store_begin_as(a, "audit"), 0);
    ck_assert_int_eq(zv_store_audit_append_locked(a, 1, "sent", "d", "k", "m", "[]", NULL, NULL),
                     0);
    ck_assert_int_eq(zv_store_commit(a), 0);
    ck_assert_int_eq(zv_store_group_commit_sync(a), 0);

    sqlite3_commit_hook(a->db, commit_hook, NULL);
    hold.block = 1;
    pthread_t dog;
    ck_assert_int_eq(pthread_create(&dog, NULL, watchdog, NULL), 0);
    ck_assert_int_eq(zv_store_unit_begin(a, "source/ons"), 0);
    ck_assert_int_eq(zv_store_stage(a, "grp", 0, rec, sizeof(rec)), 0);
    ck_assert_int_eq(zv_store_unit_commit(a, 0), 0);
    ck_assert_int_eq(zv_store_staged_count(r, "grp"), 1); /* the open group is not seen */
    ck_assert_int_eq(zv_store_group_commit(a), 0);        /* posted */
    pthread_mutex_lock(&hold.mu);
    while (!hold.inside)
        pthread_cond_wait(&hold.cv, &hold.mu);
    pthread_mutex_unlock(&hold.mu);

    /* The writer is inside COMMIT, holding the writer's connection. */
    int64_t waits = zv_store_loop_waits(a);
    ck_assert_int_eq(zv_store_staged_count(r, "grp"), 1);
    int64_t count = 0, bad = 0;
    char why[256] = "";
    ck_assert_int_eq(zv_store_audit_verify(r, &count, &bad, why, sizeof(why)), 0);
    ck_assert_int_eq(count, 1);
    char conf[400];
    snprintf(conf, sizeof(conf), "%s/z.conf", dir);
    FILE *f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"state_dir\": \"%s\"}", dir);
    fclose(f);
    zv_errors e;
    zv_errors_init(&e);
    zv_config *cfg = zv_config_load(conf, NULL, &e);
    ck_assert_msg(cfg != NULL, "%s", e.n ? e.lines[0] : "?");
    zv_admin_env env = {.store = a, .cfg = cfg};
    zv_buf out;
    ck_assert_int_eq(admin_get(&env, "/api/audit/verify", &out), 200);
    ck_assert_ptr_nonnull(strstr(out.data, "\"entries\":1"));
    zv_buf_free(&out);
    ck_assert_int_eq(admin_get(&env, "/api/status", &out), 200);
    zv_buf_free(&out);
    ck_assert_int_ge(zv_store_outbox_oldest_pending(r, "d", &count), 0);
    /* A callback that would write now is held back instead of waiting. */
    int fired = 0;
    struct event *ev = event_new(base, -1, 0, fired_cb, &fired);
    int64_t held = zv_store_loop_deferrals(a);
    ck_assert_int_eq(zv_store_when_ready(a, ev), 1);
    ck_assert_int_eq(zv_store_loop_deferrals(a), held + 1);
    ck_assert_int_eq(zv_store_loop_waits(a), waits);
    pthread_mutex_lock(&hold.mu);
    ck_assert_int_eq(hold.by_watchdog, 0); /* answered while the commit was held */
    hold.release = 1;
    pthread_cond_broadcast(&hold.cv);
    pthread_mutex_unlock(&hold.mu);
    until_ready(base, &g, 3);
    ck_assert_int_eq(g.ok, 1);
    while (!fired) /* made active when the commit ended */
        ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE), 0);
    ck_assert_int_eq(zv_store_when_ready(a, ev), 0); /* nothing under way: go on */
    event_free(ev);
    ck_assert_int_eq(zv_store_staged_count(r, "grp"), 2);
    pthread_cancel(dog);
    pthread_join(dog, NULL);
    hold.block = 0;
    sqlite3_commit_hook(a->db, NULL, NULL);
    zv_config_free(cfg);
    zv_errors_free(&e);
    zv_store_close(a);
    event_base_free(base);
}
END_TEST

/* A unit lent to the writer (zv_store_lend_unit, a render unit's writes):
 * its body runs on the writer thread while the loop goes on (ready 0, a
 * writing callback held back, no wait, nothing open for the turn check to
 * roll back); kept, it joins the group and is durable with it; failed, it
 * leaves nothing; its done() runs on the loop in a callback of its own; a
 * begin elsewhere meanwhile waits for it and comes after it. */
struct lent {
    pthread_t thread;
    int rows, fail, hold, done, rc;
    zv_store *s;
};

static int lent_body(void *arg)
{
    struct lent *l = arg;
    l->thread = pthread_self();
    for (int i = 0; i < l->rows; i++)
        if (zv_store_stage(l->s, "lent", 0, rec, sizeof(rec)) < 0) return -1;
    pthread_mutex_lock(&hold.mu);
    if (l->hold) {
        hold.inside = 1;
        pthread_cond_broadcast(&hold.cv);
        while (!hold.release)
            pthread_cond_wait(&hold.cv, &hold.mu);
    }
    pthread_mutex_unlock(&hold.mu);
    return l->fail ? -1 : 0;
}

static void lent_done(void *arg, int rc)
{
    struct lent *l = arg;
    l->done++;
    l->rc = rc;
}

START_TEST(lent_unit_written_off_the_loop)
{
    struct event_base *base = event_base_new();
    struct seen g = {0};
    zv_store *a = writer_store(base, &g);
    zv_store *r = zv_store_reader(a);
    hold.inside = hold.release = hold.by_watchdog = 0;
    pthread_t dog;
    ck_assert_int_eq(pthread_create(&dog, NULL, watchdog, NULL), 0);

    struct lent l = {.rows = 3, .hold = 1, .s = a};
    ck_assert_int_eq(zv_store_lend_unit(a, "render/x", lent_body, lent_done, &l), 0);
    pthread_mutex_lock(&hold.mu);
    while (!hold.inside)
        pthread_cond_wait(&hold.cv, &hold.mu);
    pthread_mutex_unlock(&hold.mu);
    /* The body is held inside its unit on the writer thread. */
    ck_assert(!pthread_equal(l.thread, pthread_self()));
    int64_t waits = zv_store_loop_waits(a);
    ck_assert_int_eq(zv_store_ready(a), 0);
    ck_assert_ptr_null(zv_store_txn_owner(a)); /* the turn check leaves it alone */
    ck_assert_int_eq(zv_store_lend_unit(a, "render/y", lent_body, lent_done, &l), 1);
    ck_assert_int_eq(zv_store_group_commit(a), 0); /* at once: the group follows the unit */
    ck_assert_int_eq(zv_store_staged_count(r, "lent"), 0);
    int fired = 0;
    struct event *ev = event_new(base, -1, 0, fired_cb, &fired);
    ck_assert_int_eq(zv_store_when_ready(a, ev), 1);
    for (int i = 0; i < 5; i++)
        ck_assert_int_ge(event_base_loop(base, EVLOOP_NONBLOCK), 0);
    ck_assert_int_eq(l.done, 0);
    ck_assert_int_eq(zv_store_loop_waits(a), waits);
    pthread_mutex_lock(&hold.mu);
    ck_assert_int_eq(hold.by_watchdog, 0);
    hold.release = 1;
    pthread_cond_broadcast(&hold.cv);
    pthread_mutex_unlock(&hold.mu);
    while (!l.done || !fired)
        ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE), 0);
    ck_assert_int_eq(l.done, 1);
    ck_assert_int_eq(l.rc, 0);
    ck_assert_int_eq(zv_store_ready(a), 1);
    ck_assert_int_eq(zv_store_staged_count(r, "lent"), 0); /* in the group, not durable yet */
    ck_assert_int_eq(zv_store_group_commit_sync(a), 0);
    ck_assert_int_eq(zv_store_staged_count(r, "lent"), 3);

    /* A body that fails: nothing of it is kept, the group goes on. */
    struct lent f = {.rows = 2, .fail = 1, .s = a};
    ck_assert_int_eq(zv_store_unit_begin(a, "source/ons"), 0);
    ck_assert_int_eq(zv_store_stage(a, "other", 0, rec, sizeof(rec)), 0);
    ck_assert_int_eq(zv_store_unit_commit(a, 0), 0);
    ck_assert_int_eq(zv_store_lend_unit(a, "render/x", lent_body, lent_done, &f), 0);
    while (!f.done)
        ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE), 0);
    ck_assert_int_eq(f.rc, -1);
    ck_assert_int_eq(zv_store_group_commit_sync(a), 0);
    ck_assert_int_eq(zv_store_staged_count(r, "lent"), 3);
    ck_assert_int_eq(zv_store_staged_count(r, "other"), 1);

    /* A begin while a unit is lent comes after it, in the same group. */
    struct lent k = {.rows = 1, .s = a};
    ck_assert_int_eq(zv_store_lend_unit(a, "render/x", lent_body, lent_done, &k), 0);
    ck_assert_int_eq(zv_store_begin_as(a, "delivery"), 0);
    ck_assert_int_eq(zv_store_staged_count(a, "lent"), 4); /* the lent unit's row, before it */
    ck_assert_int_eq(zv_store_stage(a, "lent", 0, rec, sizeof(rec)), 0);
    ck_assert_int_eq(zv_store_commit(a), 0);
    ck_assert_int_eq(k.done, 0); /* in a callback of its own */
    while (!k.done)
        ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE), 0);
    ck_assert_int_eq(k.rc, 0);
    ck_assert_int_eq(zv_store_group_commit_sync(a), 0);
    ck_assert_int_eq(zv_store_staged_count(r, "lent"), 5);

    /* Finished by the owner before it goes: done() runs there. */
    struct lent e = {.rows = 1, .s = a};
    ck_assert_int_eq(zv_store_lend_unit(a, "render/x", lent_body, lent_done, &e), 0);
    zv_store_lent_finish(a);
    ck_assert_int_eq(e.done, 1);
    ck_assert_int_eq(e.rc, 0);
    ck_assert_int_eq(zv_store_group_commit_sync(a), 0);
    ck_assert_int_eq(zv_store_staged_count(r, "lent"), 6);

    event_free(ev);
    pthread_cancel(dog);
    pthread_join(dog, NULL);
    zv_store_close(a);
    event_base_free(base);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_writer");
    TCase *tc = tcase_create("writer");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, group_committed_on_the_writer);
    tcase_add_test(tc, plain_transactions_join_the_group);
    tcase_add_test(tc, locked_file_waited_for_on_the_writer);
    tcase_add_test(tc, empty_group_lets_go_of_the_lock);
    tcase_add_test(tc, claims_keep_the_group_full);
    tcase_add_test(tc, reader_never_waits_for_the_writer);
    tcase_add_test(tc, lent_unit_written_off_the_loop);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
