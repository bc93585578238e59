/* Store: outbox, dead letter, retention and crash recovery on a real SQLite file. */
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
    snprintf(dir, sizeof(dir), "/tmp/zv-store-XXXXXX");
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

static int enqueue(zv_store *s, const char *dest, const char *key, const char *body)
{
    zv_outbox_new o = {.destination = dest,
                       .message = "AW35",
                       .idem_key = key,
                       .payload = body,
                       .len = strlen(body),
                       .content_type = "text/xml",
                       .extension = "xml",
                       .fields_json = "[{\"field\":\"client.bsn\",\"level\":\"standard\"},"
                                      "{\"field\":\"delivery.start\",\"level\":\"standard\"}]",
                       .records_json =
                           "[{\"source\":\"ons\",\"record_id\":\"r1\",\"key\":\"k1\"}]"};
    return zv_store_enqueue(s, &o);
}

struct claimed {
    int n;
    int64_t ids[16];
    char keys[16][64];
    int attempts[16];
};

static int on_claim(const zv_outbox_row *r, void *arg)
{
    struct claimed *c = arg;
    c->ids[c->n] = r->id;
    c->attempts[c->n] = r->attempts;
    snprintf(c->keys[c->n], 64, "%s", r->idem_key);
    c->n++;
    return 0;
}

START_TEST(enqueue_group_commit_and_duplicates)
{
    zv_store *s = open_store();
    ck_assert_int_eq(zv_store_begin(s), 0);
    for (int i = 0; i < 100; i++) {
        char key[32];
        snprintf(key, sizeof(key), "K%03d", i);
        ck_assert_int_eq(enqueue(s, "zk", key, "<x/>"), 0);
    }
    ck_assert_int_eq(enqueue(s, "zk", "K007", "<other/>"), 1); /* same key: kept once */
    ck_assert_int_eq(enqueue(s, "gem", "K007", "<x/>"), 0);    /* unique per destination */
    ck_assert_int_eq(zv_store_commit(s), 0);
    ck_assert_int_eq(zv_store_outbox_count(s, "zk", "pending"), 100);
    ck_assert_int_eq(zv_store_outbox_count(s, NULL, NULL), 101);
    zv_store_close(s);
    /* Durable: visible after reopening. */
    s = open_store();
    ck_assert_int_eq(zv_store_outbox_count(s, "zk", NULL), 100);
    /* A rolled back transaction leaves nothing. */
    ck_assert_int_eq(zv_store_begin(s), 0);
    ck_assert_int_eq(enqueue(s, "zk", "R1", "<x/>"), 0);
    zv_store_rollback(s);
    ck_assert_int_eq(zv_store_outbox_count(s, "zk", NULL), 100);
    zv_store_close(s);
}
END_TEST

START_TEST(claim_retry_and_crash_recovery)
{
    zv_store *s = open_store();
    ck_assert_int_eq(enqueue(s, "zk", "A", "<a/>"), 0);
    ck_assert_int_eq(enqueue(s, "zk", "B", "<b/>"), 0);
    int64_t now = zv_now() * 1000;
    struct claimed c = {0};
    ck_assert_int_eq(zv_store_outbox_claim(s, "zk", now + 1000, 1, on_claim, &c), 1);
    ck_assert_int_eq(zv_store_outbox_count(s, "zk", "inflight"), 1);
    /* Retry later: not due now, due after its time. */
    ck_assert_int_eq(zv_store_outbox_retry(s, c.ids[0], now + 60000, "HTTP 503"), 0);
    struct claimed c2 = {0};
    ck_assert_int_eq(zv_store_outbox_claim(s, "zk", now + 1000, 10, on_claim, &c2), 1);
    ck_assert_str_ne(c2.keys[0], c.keys[0]);
    int64_t due = 0;
    ck_assert_int_eq(zv_store_outbox_next_due(s, "zk", &due), 0);
    ck_assert_int_eq(due, now + 60000);
    /* Another process (zinvolctl) opening the file leaves it in flight. */
    zv_store *other = open_store();
    ck_assert_int_eq(zv_store_outbox_count(other, "zk", "inflight"), 1);
    zv_store_close(other);
    /* The process dies with c2 in flight: the next engine recovers it. */
    zv_store_close(s);
    s = open_store();
    ck_assert_int_eq(zv_store_outbox_count(s, "zk", "inflight"), 1);
    ck_assert_int_eq(zv_store_outbox_recover(s), 1);
    ck_assert_int_eq(zv_store_recovered(s), 1);
    ck_assert_int_eq(zv_store_outbox_count(s, "zk", "inflight"), 0);
    struct claimed c3 = {0};
    ck_assert_int_eq(zv_store_outbox_claim(s, "zk", now + 120000, 10, on_claim, &c3), 2);
    /* Earliest due first; the retried one carries its attempt count and key. */
    ck_assert_str_eq(c3.keys[0], c2.keys[0]);
    ck_assert_str_eq(c3.keys[1], c.keys[0]);
    ck_assert_int_eq(c3.attempts[1], 1);
    ck_assert_int_eq(zv_store_outbox_next_due(s, "zk", &due), 1);
    zv_store_close(s);
}
END_TEST

static int count_dlq(const zv_dlq_entry *e, void *arg)
{
    int *n = arg;
    ck_assert_ptr_nonnull(e->reason);
    (*n)++;
    return 0;
}

struct dlq_seen {
    char reason[128];
    int status;
    char key[64];
};

static int get_dlq(const zv_dlq_entry *e, void *arg)
{
    struct dlq_seen *d = arg;
    snprintf(d->reason, sizeof(d->reason), "%s", e->reason);
    snprintf(d->key, sizeof(d->key), "%s", e->idem_key);
    d->status = e->http_status;
    return 0;
}

START_TEST(dead_letter_retry_same_key_and_drop_audited)
{
    zv_store *s = open_store();
    ck_assert_int_eq(enqueue(s, "zk", "A", "<a/>"), 0);
    ck_assert_int_eq(enqueue(s, "zk", "B", "<b/>"), 0);
    struct claimed c = {0};
    ck_assert_int_eq(zv_store_outbox_claim(s, "zk", zv_now() * 1000 + 1, 2, on_claim, &c), 2);
    zv_dead_info d = {.reason = "HTTP 400: bad Besluitnummer", .http_status = 400};
    int64_t dlq_a = 0, dlq_b = 0;
    ck_assert_int_eq(zv_store_outbox_dead(s, c.ids[0], &d, &dlq_a), 0);
    ck_assert_int_eq(zv_store_outbox_dead(s, c.ids[1], &d, &dlq_b), 0);
    int n = 0;
    ck_assert_int_eq(zv_store_dlq_each(s, count_dlq, &n), 0);
    ck_assert_int_eq(n, 2);
    struct dlq_seen seen = {0};
    ck_assert_int_eq(zv_store_dlq_get(s, dlq_a, get_dlq, &seen), 0);
    ck_assert_str_eq(seen.reason, "HTTP 400: bad Besluitnummer");
    ck_assert_int_eq(seen.status, 400);
    ck_assert_str_eq(seen.key, c.keys[0]);

    /* Retry: same row, same key, pending and due now. */
    ck_assert_int_eq(zv_store_dlq_retry(s, dlq_a, zv_now()), 0);
    ck_assert_int_eq(zv_store_dlq_retry(s, dlq_a, zv_now()), 1); /* gone */
    struct claimed c2 = {0};
    ck_assert_int_eq(zv_store_outbox_claim(s, "zk", zv_now() * 1000 + 1, 5, on_claim, &c2), 1);
    ck_assert_int_eq(c2.ids[0], c.ids[0]);
    ck_assert_str_eq(c2.keys[0], c.keys[0]);
    ck_assert_int_eq(c2.attempts[0], 0);

    /* Drop: entry gone, payload discarded, the drop is in the audit trail. */
    ck_assert_int_eq(zv_store_dlq_drop(s, dlq_b, zv_now(), "operator"), 0);
    ck_assert_int_eq(zv_store_dlq_count(s, NULL), 0);
    ck_assert_int_eq(zv_store_outbox_count(s, "zk", "dropped"), 1);
    int64_t count = 0, bad = 0;
    char why[256];
    ck_assert_int_eq(zv_store_audit_verify(s, &count, &bad, why, sizeof(why)), 0);
    ck_assert_int_eq(count, 1);
    zv_store_close(s);
}
END_TEST

static int last_detail(const zv_audit_entry *e, void *arg)
{
    snprintf(arg, 512, "%s", e->detail ? e->detail : "");
    return 0;
}

START_TEST(record_verdicts_and_not_retryable)
{
    zv_store *s = open_store();
    ck_assert_int_eq(enqueue(s, "zk", "A", "<a/>"), 0);
    int64_t id = 0;
    ck_assert_int_eq(zv_store_outbox_find(s, "zk", "A", &id), 0);
    ck_assert_int_eq(zv_store_outbox_delivered(s, id, zv_now()), 0);
    zv_dead_info ok = {.reason = "accepted", .record_key = "k0"};
    ck_assert_int_eq(zv_store_record_verdict(s, id, 1, &ok, NULL), 0);
    zv_dead_info bad = {.reason = "Besluitnummer onbekend",
                        .codes = "0233",
                        .record_key = "k1",
                        .record_ref = "ons/r1"};
    int64_t dlq = 0;
    ck_assert_int_eq(zv_store_record_verdict(s, id, 0, &bad, &dlq), 0);
    ck_assert_int_eq(zv_store_dlq_count(s, "zk"), 1);
    ck_assert_int_eq(zv_store_dlq_retry(s, dlq, zv_now()), 1);
    ck_assert_ptr_nonnull(strstr(zv_store_errmsg(s), "source"));
    ck_assert_int_eq(zv_store_outbox_count(s, "zk", "delivered"), 1);
    /* Dropping a rejection whose key holds a BSN: audited, without the BSN. */
    zv_dead_info bsn = {.reason = "rejected", .record_key = "123456782/B1"};
    ck_assert_int_eq(zv_store_record_verdict(s, id, 0, &bsn, &dlq), 0);
    ck_assert_int_eq(zv_store_dlq_drop(s, dlq, zv_now(), NULL), 0);
    char detail[512] = "";
    ck_assert_int_eq(zv_store_audit_each(s, last_detail, detail), 0);
    ck_assert_ptr_nonnull(strstr(detail, "dropped"));
    ck_assert_ptr_null(strstr(detail, "123456782"));
    zv_store_close(s);
}
END_TEST

static int payload_present(const zv_outbox_row *r, void *arg)
{
    *(int *)arg = r->payload != NULL;
    return 0;
}

START_TEST(retention_prunes_in_batches_and_keeps_keys)
{
    zv_store *s = open_store();
    ck_assert_int_eq(zv_store_begin(s), 0);
    for (int i = 0; i < 1200; i++) {
        char key[32];
        snprintf(key, sizeof(key), "P%04d", i);
        ck_assert_int_eq(enqueue(s, "zk", key, "<payload/>"), 0);
        int64_t id;
        ck_assert_int_eq(zv_store_outbox_find(s, "zk", key, &id), 0);
        ck_assert_int_eq(zv_store_outbox_delivered(s, id, 1000 + i), 0);
    }
    ck_assert_int_eq(enqueue(s, "zk", "pending-one", "<p/>"), 0);
    ck_assert_int_eq(zv_store_commit(s), 0);
    ck_assert_int_eq(zv_store_prune(s, 1000 + 1100, 500), 500);
    ck_assert_int_eq(zv_store_prune(s, 1000 + 1100, 500), 500);
    ck_assert_int_eq(zv_store_prune(s, 1000 + 1100, 500), 100);
    ck_assert_int_eq(zv_store_prune(s, 1000 + 1100, 500), 0);
    int64_t id;
    int present = -1;
    ck_assert_int_eq(zv_store_outbox_find(s, "zk", "P0000", &id), 0);
    ck_assert_int_eq(zv_store_outbox_get(s, id, payload_present, &present), 0);
    ck_assert_int_eq(present, 0);
    ck_assert_int_eq(zv_store_outbox_find(s, "zk", "P1150", &id), 0);
    ck_assert_int_eq(zv_store_outbox_get(s, id, payload_present, &present), 0);
    ck_assert_int_eq(present, 1);
    /* The key stays: the same payload is not accepted (and sent) again. */
    ck_assert_int_eq(enqueue(s, "zk", "P0000", "<payload/>"), 1);
    ck_assert_int_eq(zv_store_outbox_count(s, "zk", "pending"), 1);
    int64_t count = 0;
    char why[256];
    ck_assert_int_eq(zv_store_audit_verify(s, &count, NULL, why, sizeof(why)), 0);
    ck_assert_int_eq(count, 1200);
    zv_store_close(s);
}
END_TEST

START_TEST(sources_staging_counters)
{
    zv_store *s = open_store();
    char buf[64];
    ck_assert_int_eq(zv_store_watermark_get(s, "ons", "since", buf, sizeof(buf)), 1);
    ck_assert_int_eq(zv_store_watermark_set(s, "ons", "since", "2026-01-01"), 0);
    ck_assert_int_eq(zv_store_watermark_get(s, "ons", "since", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "2026-01-01");
    ck_assert_int_eq(zv_store_seen(s, "ons", "r1", "h1"), 0);
    ck_assert_int_eq(zv_store_seen(s, "ons", "r1", "h1"), 1);
    ck_assert_int_eq(zv_store_seen(s, "ons", "r1", "h2"), 0);
    ck_assert_int_eq(zv_store_stage(s, "zk", 0, (const unsigned char *)"abc", 3), 0);
    ck_assert_int_eq(zv_store_stage(s, "zk", 1, (const unsigned char *)"def", 3), 0);
    ck_assert_int_eq(zv_store_staged_count(s, "zk"), 2);
    int64_t seq = 0;
    ck_assert_int_eq(zv_store_next_batch(s, "zk", &seq), 0);
    ck_assert_int_eq(seq, 1);
    ck_assert_int_eq(zv_store_next_batch(s, "zk", &seq), 0);
    ck_assert_int_eq(seq, 2);
    ck_assert_int_eq(zv_store_count_add(s, "zk", "client.bsn", "sent", 2), 0);
    ck_assert_int_eq(zv_store_count_add(s, "zk", "client.bsn", "sent", 3), 0);
    zv_quarantine_entry q = {.source = "ons",
                             .record_id = "r9",
                             .stage = "mapping",
                             .field = "client.bsn",
                             .reason = "invalid BSN"};
    int64_t qid = 0;
    ck_assert_int_eq(zv_store_quarantine_add(s, &q, &qid), 0);
    ck_assert_int_eq(zv_store_quarantine_count(s), 1);
    /* An entry leaves only with an outcome (test_store_quarantine). */
    ck_assert_int_eq(zv_store_quarantine_close(s, qid, ZV_Q_DROPPED, "by test", 1000), 0);
    ck_assert_int_eq(zv_store_quarantine_count(s), 0);
    zv_store_close(s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("store_outbox");
    TCase *tc = tcase_create("outbox");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, enqueue_group_commit_and_duplicates);
    tcase_add_test(tc, claim_retry_and_crash_recovery);
    tcase_add_test(tc, dead_letter_retry_same_key_and_drop_audited);
    tcase_add_test(tc, record_verdicts_and_not_retryable);
    tcase_add_test(tc, retention_prunes_in_batches_and_keeps_keys);
    tcase_add_test(tc, sources_staging_counters);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
