/* Delivery engine against a real loopback receiver and a real store file:
 * rejections to the dead letter without blocking the rest, receiver down
 * then up, the circuit, a dead destination beside a live one, max_age,
 * per-record verdicts from interpret(), once-mode settling. */
#include "delivery_fixture.h"

#include "core/runtime_int.h" /* zv_core_host: the host table plugins get */

#include <sqlite3.h>

static char dir[256], dbpath[300];
static th_receiver rcv;
static zv_store *store;

static void setup(void)
{
    th_init();
    th_mkdtemp(dir, sizeof(dir), "engine");
    snprintf(dbpath, sizeof(dbpath), "%s/zinvol.db", dir);
    char err[256];
    store = zv_store_open(dbpath, err, sizeof(err));
    ck_assert_msg(store != NULL, "%s", err);
    memset(&rcv, 0, sizeof(rcv));
}

static void teardown(void)
{
    th_receiver_stop(&rcv);
    zv_store_close(store);
    th_done();
    th_rmrf(dir);
}

static zv_policy policy(void)
{
    zv_policy p = {.max_age_s = 3600,
                   .concurrency = 4,
                   .timeout_ms = 10000,
                   .backoff_initial_ms = 50,
                   .backoff_max_ms = 400,
                   .circuit_failures = 1000,
                   .circuit_cooldown_s = 1};
    return p;
}

static void enqueue_n(const char *dest, const char *prefix, int n, int bad_every)
{
    ck_assert_int_eq(zv_store_begin(store), 0);
    for (int i = 0; i < n; i++) {
        char key[64], body[128], recs[256];
        snprintf(key, sizeof(key), "%s-%04d", prefix, i);
        int bad = bad_every && i % bad_every == 0;
        snprintf(body, sizeof(body), "<bericht id=\"%s\">%s</bericht>", key, bad ? "BAD" : "ok");
        snprintf(recs, sizeof(recs),
                 "[{\"source\":\"ons\",\"record_id\":\"r%d\",\"key\":\"%s/1\"}]", i, key);
        zv_outbox_new o = {.destination = dest,
                           .message = "AW35",
                           .idem_key = key,
                           .payload = body,
                           .len = strlen(body),
                           .content_type = "text/xml",
                           .extension = "xml",
                           .fields_json = "[{\"field\":\"client.bsn\",\"level\":\"standard\"}]",
                           .records_json = recs};
        ck_assert_int_eq(zv_store_enqueue(store, &o), 0);
    }
    ck_assert_int_eq(zv_store_commit(store), 0);
}

static void http_instance(zv_instance *tr, int port)
{
    char opts[256], err[256];
    snprintf(opts, sizeof(opts), "{\"url\": \"http://127.0.0.1:%d/in\", \"timeout\": \"5s\"}",
             port);
    ck_assert_msg(th_instance(tr, "out_http", ZV_PLUGIN_TRANSPORT, opts, err, sizeof(err)) == 0,
                  "%s", err);
}

/* A port nobody listens on: bind, note, close. */
static int dead_port(void)
{
    const char *args[] = {NULL};
    th_receiver tmp = {0};
    char sub[300];
    snprintf(sub, sizeof(sub), "%s/probe", dir);
    mkdir(sub, 0700);
    th_receiver_start(&tmp, sub, 0, args);
    int port = tmp.port;
    th_receiver_stop(&tmp);
    return port;
}

struct until {
    zv_delivery_engine *e;
    const char *dest;
    int64_t delivered, dead;
};

static int settled_counts(void *arg)
{
    struct until *u = arg;
    return zv_delivery_busy(u->e) == 0 &&
           zv_store_outbox_count(store, u->dest, "delivered") >= u->delivered &&
           zv_store_outbox_count(store, u->dest, "dead") >= u->dead;
}

START_TEST(rejections_go_to_dead_letter_and_do_not_block)
{
    const char *args[] = {"--reject", "BAD", NULL};
    th_receiver_start(&rcv, dir, 0, args);
    zv_instance tr;
    http_instance(&tr, rcv.port);
    enqueue_n("zk", "M", 60, 10); /* 6 bad ones */
    zv_delivery_engine *e = zv_delivery_new(th_base, store, th_http, 0);
    zv_policy p = policy();
    ck_assert_int_eq(zv_delivery_add(e, "zk", &p, &tr, NULL), 0);
    zv_delivery_start(e);
    struct until u = {e, "zk", 54, 6};
    ck_assert_int_eq(th_run_until(settled_counts, &u, 120), 1);
    ck_assert_int_eq(zv_store_outbox_count(store, "zk", "pending"), 0);
    ck_assert_int_eq(zv_store_dlq_count(store, "zk"), 6);
    ck_assert_int_eq(th_received(&rcv, 200), 54);
    ck_assert_int_eq(th_received(&rcv, 400), 6); /* rejected once, not retried */
    zv_delivery_metrics m;
    ck_assert_int_eq(zv_delivery_metrics_get(e, "zk", &m), 0);
    ck_assert_int_eq(m.delivered, 54);
    ck_assert_int_eq(m.rejected, 6);
    int64_t count = 0;
    char why[256];
    ck_assert_int_eq(zv_store_audit_verify(store, &count, NULL, why, sizeof(why)), 0);
    ck_assert_int_eq(count, 54);
    /* The reason names the status and the receiver's words. */
    sqlite3 *db;
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT reason, http_status FROM dead_letter LIMIT 1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_ptr_nonnull(
        strstr((const char *)sqlite3_column_text(st, 0), "invalid Besluitnummer"));
    ck_assert_int_eq(sqlite3_column_int(st, 1), 400);
    sqlite3_finalize(st);
    sqlite3_close(db);
    zv_delivery_stop(e);
    zv_delivery_free(e);
    th_instance_free(&tr);
}
END_TEST

static int payload_present(const zv_outbox_row *r, void *arg)
{
    *(int *)arg = r->payload != NULL;
    return 0;
}

static int retried_some(void *arg)
{
    struct until *u = arg;
    zv_delivery_metrics m;
    zv_delivery_metrics_get(u->e, u->dest, &m);
    return m.retried >= 8;
}

START_TEST(receiver_down_then_up_drains_backlog)
{
    int port = dead_port();
    zv_instance tr;
    http_instance(&tr, port);
    enqueue_n("zk", "D", 40, 0);
    zv_delivery_engine *e = zv_delivery_new(th_base, store, th_http, 0);
    zv_policy p = policy();
    p.circuit_failures = 4;
    p.circuit_cooldown_s = 1;
    ck_assert_int_eq(zv_delivery_add(e, "zk", &p, &tr, NULL), 0);
    zv_delivery_start(e);
    struct until u = {e, "zk", 40, 0};
    ck_assert_int_eq(th_run_until(retried_some, &u, 120), 1);
    ck_assert_int_eq(zv_store_outbox_count(store, "zk", "delivered"), 0);
    ck_assert_int_eq(zv_store_outbox_count(store, "zk", "dead"), 0);
    /* Now the receiver comes up on that port. */
    const char *args[] = {NULL};
    th_receiver_start(&rcv, dir, port, args);
    ck_assert_int_eq(th_run_until(settled_counts, &u, 120), 1);
    zv_delivery_metrics m;
    zv_delivery_metrics_get(e, "zk", &m);
    ck_assert_int_ge(m.retried, 8);
    ck_assert_int_ge(m.circuit_opened, 1);
    ck_assert_int_eq(m.circuit_open, 0);
    for (int i = 0; i < 40; i++) {
        char want[64];
        snprintf(want, sizeof(want), "\"key\": \"D-%04d\"", i);
        ck_assert_int_ge(th_received_grep(&rcv, want), 1);
    }
    zv_delivery_free(e);
    th_instance_free(&tr);
}
END_TEST

static int opened(void *arg)
{
    struct until *u = arg;
    zv_delivery_metrics m;
    zv_delivery_metrics_get(u->e, u->dest, &m);
    return m.circuit_open == 1 && m.inflight == 0;
}

START_TEST(circuit_stops_hammering)
{
    const char *args[] = {"--fail-first", "1000000", NULL}; /* always 503 */
    th_receiver_start(&rcv, dir, 0, args);
    zv_instance tr;
    http_instance(&tr, rcv.port);
    enqueue_n("zk", "C", 20, 0);
    zv_delivery_engine *e = zv_delivery_new(th_base, store, th_http, 0);
    zv_policy p = policy();
    p.concurrency = 1;
    p.circuit_failures = 3;
    p.circuit_cooldown_s = 3600; /* far beyond this test */
    ck_assert_int_eq(zv_delivery_add(e, "zk", &p, &tr, NULL), 0);
    zv_delivery_start(e);
    struct until u = {e, "zk", 0, 0};
    ck_assert_int_eq(th_run_until(opened, &u, 120), 1);
    /* Keep the loop running for a while: nothing more is sent. */
    struct until never = {e, "zk", 1000, 0};
    th_run_until(settled_counts, &never, 2);
    ck_assert_int_eq(th_received(&rcv, 0), 3);
    zv_delivery_metrics m;
    zv_delivery_metrics_get(e, "zk", &m);
    ck_assert_int_eq(m.sent, 3);
    ck_assert_int_eq(m.circuit_opened, 1);
    ck_assert_int_eq(zv_store_outbox_count(store, "zk", "pending"), 20);
    zv_delivery_free(e);
    th_instance_free(&tr);
}
END_TEST

static int live_delivered(void *arg)
{
    (void)arg;
    return zv_store_outbox_count(store, "live", "delivered") == 50;
}

START_TEST(dead_destination_does_not_delay_another)
{
    const char *args[] = {NULL};
    th_receiver_start(&rcv, dir, 0, args);
    zv_instance live, dead;
    http_instance(&live, rcv.port);
    http_instance(&dead, dead_port());
    enqueue_n("dead", "X", 50, 0);
    enqueue_n("live", "L", 50, 0);
    zv_delivery_engine *e = zv_delivery_new(th_base, store, th_http, 0);
    zv_policy p = policy();
    ck_assert_int_eq(zv_delivery_add(e, "dead", &p, &dead, NULL), 0);
    ck_assert_int_eq(zv_delivery_add(e, "live", &p, &live, NULL), 0);
    zv_delivery_start(e);
    ck_assert_int_eq(th_run_until(live_delivered, NULL, 120), 1);
    ck_assert_int_eq(zv_store_outbox_count(store, "live", "delivered"), 50);
    ck_assert_int_eq(zv_store_outbox_count(store, "dead", "delivered"), 0);
    zv_delivery_metrics m;
    zv_delivery_metrics_get(e, "dead", &m);
    ck_assert_int_ge(m.retried, 1);
    zv_delivery_stop(e);
    struct until idle = {e, "none", 0, 0};
    th_run_until(settled_counts, &idle, 30);
    zv_delivery_free(e);
    th_instance_free(&live);
    th_instance_free(&dead);
}
END_TEST

START_TEST(max_age_moves_to_dead_letter)
{
    zv_instance tr;
    http_instance(&tr, dead_port());
    enqueue_n("zk", "A", 5, 0);
    zv_delivery_engine *e = zv_delivery_new(th_base, store, th_http, 0);
    zv_policy p = policy();
    p.max_age_s = 1;
    ck_assert_int_eq(zv_delivery_add(e, "zk", &p, &tr, NULL), 0);
    zv_delivery_start(e);
    struct until u = {e, "zk", 0, 5};
    ck_assert_int_eq(th_run_until(settled_counts, &u, 120), 1);
    ck_assert_int_eq(zv_store_dlq_count(store, "zk"), 5);
    ck_assert_int_eq(zv_store_outbox_count(store, "zk", "pending"), 0);
    zv_delivery_free(e);
    th_instance_free(&tr);
}
END_TEST

/* A small format (through the core's host table) whose interpret() reads the receiver's
 * {"rejected":[..]}. */
static int t_interpret(void *state, const zv_answer *a, zv_verdict_out *out)
{
    (void)state;
    char err[128];
    zv_json_doc *d = zv_json_parse(a->body, a->len, 0, err, sizeof(err));
    if (!d) return -1;
    const zv_json *rej = zv_json_get(zv_json_root(d), "rejected");
    for (size_t i = 0; i < zv_json_len(rej); i++) {
        char key[128];
        snprintf(key, sizeof(key), "%s/1", zv_json_str(zv_json_at(rej, i), NULL));
        zv_core_host.verdict(out, key, 0, "0233", "Besluitnummer onbekend");
    }
    const zv_json *acc = zv_json_get(zv_json_root(d), "accepted");
    for (size_t i = 0; i < zv_json_len(acc); i++) {
        char key[128];
        snprintf(key, sizeof(key), "%s/1", zv_json_str(zv_json_at(acc, i), NULL));
        zv_core_host.verdict(out, key, 1, NULL, NULL);
    }
    zv_json_free(d);
    return 0;
}

static const zv_message_decl t_msgs[] = {{"T", NULL, "test"}};
static const zv_format_ops t_fmt_ops = {ZV_SIZED(zv_format_ops), ZV_MESSAGES(t_msgs),
                                        .interpret = t_interpret};
static const zv_plugin_descriptor t_fmt_desc = {ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_FORMAT, "t"),
                                                .format = &t_fmt_ops};

START_TEST(interpret_verdicts_to_dead_letter)
{
    const char *args[] = {"--retour", NULL};
    th_receiver_start(&rcv, dir, 0, args);
    zv_instance tr, fmt = {.desc = &t_fmt_desc};
    http_instance(&tr, rcv.port);
    /* Payload bodies carry REJECT:<key> markers the receiver answers with. */
    ck_assert_int_eq(zv_store_begin(store), 0);
    const char *keys[] = {"R-1", "R-2"};
    for (int i = 0; i < 2; i++) {
        char body[128], recs[128];
        snprintf(body, sizeof(body), "<b>%s</b>", i == 1 ? "REJECT:R-2" : "fine");
        snprintf(recs, sizeof(recs),
                 "[{\"source\":\"ons\",\"record_id\":\"r%d\",\"key\":\"%s/1\"}]", i, keys[i]);
        zv_outbox_new o = {.destination = "zk",
                           .message = "AW35",
                           .idem_key = keys[i],
                           .payload = body,
                           .len = strlen(body),
                           .records_json = recs};
        ck_assert_int_eq(zv_store_enqueue(store, &o), 0);
    }
    ck_assert_int_eq(zv_store_commit(store), 0);
    zv_delivery_engine *e = zv_delivery_new(th_base, store, th_http, 0);
    zv_policy p = policy();
    ck_assert_int_eq(zv_delivery_add(e, "zk", &p, &tr, &fmt), 0);
    zv_delivery_start(e);
    struct until u = {e, "zk", 2, 0};
    ck_assert_int_eq(th_run_until(settled_counts, &u, 120), 1);
    ck_assert_int_eq(zv_store_dlq_count(store, "zk"), 1);
    sqlite3 *db;
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT record_key, record_ref, codes, reason FROM "
                                        "dead_letter",
                                        -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "R-2/1");
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 1), "ons/r1");
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 2), "0233");
    sqlite3_finalize(st);
    sqlite3_close(db);
    zv_delivery_metrics m;
    zv_delivery_metrics_get(e, "zk", &m);
    ck_assert_int_eq(m.records_rejected, 1);
    zv_delivery_free(e);
    th_instance_free(&tr);
}
END_TEST

static void on_settled(void *arg)
{
    *(int *)arg = 1;
}

static int flag_set(void *arg)
{
    return *(int *)arg;
}

START_TEST(retour_file_verdicts)
{
    zv_instance fmt = {.desc = &t_fmt_desc};
    enqueue_n("zk", "V", 3, 0);
    for (int i = 0; i < 3; i++) {
        char key[32];
        int64_t id;
        snprintf(key, sizeof(key), "V-%04d", i);
        ck_assert_int_eq(zv_store_outbox_find(store, "zk", key, &id), 0);
        ck_assert_int_eq(zv_store_outbox_delivered(store, id, zv_now()), 0);
    }
    const char *retour = "{\"accepted\": [\"V-0000\", \"V-0002\"], \"rejected\": [\"V-0001\"]}";
    char err[256], *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    ck_assert_int_eq(
        zv_delivery_retour(store, "zk", &fmt, retour, strlen(retour), f, err, sizeof(err)), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(out, "V-0001/1: REJECTED"));
    ck_assert_ptr_nonnull(strstr(out, "V-0000/1: accepted"));
    free(out);
    ck_assert_int_eq(zv_store_dlq_count(store, "zk"), 1);
    /* A record no payload carried: named, and the call says so. */
    const char *stray = "{\"rejected\": [\"NOPE\"]}";
    f = open_memstream(&out, &outlen);
    ck_assert_int_eq(
        zv_delivery_retour(store, "zk", &fmt, stray, strlen(stray), f, err, sizeof(err)), 1);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(out, "NOPE/1: no payload"));
    free(out);
    /* Unreadable retour: an error, nothing recorded. */
    f = open_memstream(&out, &outlen);
    ck_assert_int_eq(zv_delivery_retour(store, "zk", &fmt, "<xml", 4, f, err, sizeof(err)), -1);
    fclose(f);
    free(out);
    ck_assert_int_eq(zv_store_dlq_count(store, "zk"), 1);
}
END_TEST

static int pruned(void *arg)
{
    int present = 1;
    zv_store_outbox_get(store, *(int64_t *)arg, payload_present, &present);
    return !present;
}

START_TEST(retention_prunes_delivered_payloads)
{
    const char *args[] = {NULL};
    th_receiver_start(&rcv, dir, 0, args);
    zv_instance tr;
    http_instance(&tr, rcv.port);
    enqueue_n("zk", "T", 3, 0);
    zv_delivery_engine *e = zv_delivery_new(th_base, store, th_http, 1);
    zv_policy p = policy();
    ck_assert_int_eq(zv_delivery_add(e, "zk", &p, &tr, NULL), 0);
    zv_delivery_start(e);
    int64_t id;
    ck_assert_int_eq(zv_store_outbox_find(store, "zk", "T-0002", &id), 0);
    ck_assert_int_eq(th_run_until(pruned, &id, 60), 1);
    ck_assert_int_eq(zv_store_outbox_count(store, "zk", "delivered"), 3);
    int64_t n = 0;
    char why[256];
    ck_assert_int_eq(zv_store_audit_verify(store, &n, NULL, why, sizeof(why)), 0);
    ck_assert_int_eq(n, 3); /* the trail stays */
    zv_delivery_free(e);
    th_instance_free(&tr);
}
END_TEST

static int hung_retried(void *arg)
{
    struct until *u = arg;
    zv_delivery_metrics m;
    zv_delivery_metrics_get(u->e, u->dest, &m);
    return m.retried >= 1 && zv_store_outbox_count(store, "zk", "delivered") == 2;
}

START_TEST(policy_timeout_guards_against_silence)
{
    const char *args[] = {"--hang", "HANG", NULL};
    th_receiver_start(&rcv, dir, 0, args);
    zv_instance tr;
    char opts[256], err[256];
    /* The transport would wait 60 s; the policy allows 1 s per attempt. */
    snprintf(opts, sizeof(opts), "{\"url\": \"http://127.0.0.1:%d/in\", \"timeout\": \"60s\"}",
             rcv.port);
    ck_assert_int_eq(th_instance(&tr, "out_http", ZV_PLUGIN_TRANSPORT, opts, err, sizeof(err)), 0);
    ck_assert_int_eq(zv_store_begin(store), 0);
    const char *bodies[] = {"<a/>", "<HANG/>", "<b/>"};
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof(key), "H-%d", i);
        zv_outbox_new o = {
            .destination = "zk", .idem_key = key, .payload = bodies[i], .len = strlen(bodies[i])};
        ck_assert_int_eq(zv_store_enqueue(store, &o), 0);
    }
    ck_assert_int_eq(zv_store_commit(store), 0);
    zv_delivery_engine *e = zv_delivery_new(th_base, store, th_http, 0);
    zv_policy p = policy();
    p.timeout_ms = 1000;
    p.backoff_initial_ms = 60000;
    p.backoff_max_ms = 60000;
    ck_assert_int_eq(zv_delivery_add(e, "zk", &p, &tr, NULL), 0);
    zv_delivery_start(e);
    struct until u = {e, "zk", 0, 0};
    ck_assert_int_eq(th_run_until(hung_retried, &u, 120), 1);
    int64_t id;
    ck_assert_int_eq(zv_store_outbox_find(store, "zk", "H-1", &id), 0);
    ck_assert_int_eq(zv_store_outbox_count(store, "zk", "pending"), 1);
    /* The transport still holds the silent request: the engine goes first,
     * then the client cancels it (the late answer must find nothing freed). */
    ck_assert_int_eq(zv_delivery_busy(e), 1);
    zv_delivery_free(e);
    zv_http_client_free(th_http);
    th_http = zv_http_client_new(th_base);
    th_instance_free(&tr);
}
END_TEST

START_TEST(once_mode_settles)
{
    const char *args[] = {NULL};
    th_receiver_start(&rcv, dir, 0, args);
    zv_instance live, dead;
    http_instance(&live, rcv.port);
    http_instance(&dead, dead_port());
    enqueue_n("live", "S", 30, 0);
    enqueue_n("dead", "Z", 3, 0);
    zv_delivery_engine *e = zv_delivery_new(th_base, store, th_http, 0);
    zv_policy p = policy();
    p.backoff_initial_ms = 120000; /* the dead one's retry lies beyond the patience */
    p.backoff_max_ms = 120000;
    ck_assert_int_eq(zv_delivery_add(e, "live", &p, &live, NULL), 0);
    ck_assert_int_eq(zv_delivery_add(e, "dead", &p, &dead, NULL), 0);
    zv_delivery_start(e);
    int settled = 0;
    zv_delivery_when_settled(e, 10, on_settled, &settled);
    ck_assert_int_eq(settled, 0);
    ck_assert_int_eq(th_run_until(flag_set, &settled, 120), 1);
    ck_assert_int_eq(zv_delivery_busy(e), 0);
    ck_assert_int_eq(zv_store_outbox_count(store, "live", "delivered"), 30);
    ck_assert_int_eq(zv_store_outbox_count(store, "dead", "pending"), 3); /* kept for later */
    zv_delivery_free(e);
    th_instance_free(&live);
    th_instance_free(&dead);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("delivery_engine");
    TCase *tc = tcase_create("engine");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, rejections_go_to_dead_letter_and_do_not_block);
    tcase_add_test(tc, receiver_down_then_up_drains_backlog);
    tcase_add_test(tc, circuit_stops_hammering);
    tcase_add_test(tc, dead_destination_does_not_delay_another);
    tcase_add_test(tc, max_age_moves_to_dead_letter);
    tcase_add_test(tc, interpret_verdicts_to_dead_letter);
    tcase_add_test(tc, retour_file_verdicts);
    tcase_add_test(tc, retention_prunes_delivered_payloads);
    tcase_add_test(tc, policy_timeout_guards_against_silence);
    tcase_add_test(tc, once_mode_settles);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
