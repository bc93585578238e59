/* webhook source plugin against a real ECD REST fixture on 127.0.0.1. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "zvtb.h"
#include "zvtb_src.h"

#define SECRET "a-shared-secret-of-some-length"

static const char *MAPPING =
    "{\"records\": [{\"kind\": \"client\", \"fields\": {"
    " \"client.id\": \"/clientnummer\", \"client.bsn\": \"/bsn\","
    " \"client.family_name\": \"/naam/achternaam\","
    " \"client.birth_date\": {\"from\": \"/geboortedatum\", \"date_format\": \"%d-%m-%Y\"}}}]}";

static zvf_server ecd;
static char base[128];

static void setup(void)
{
    char script[512];
    snprintf(script, sizeof(script), "%s/ecd_server.py", getenv("ZV_ECD_FIXTURE"));
    const char *args[] = {"--token", "ecd-token", NULL};
    ck_assert_int_eq(zvf_start(&ecd, script, args), 0);
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", ecd.port);
}

static void teardown(void)
{
    zvf_stop(&ecd);
}

static void put_record(const char *id, const char *json)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/admin/records/%s", base, id);
    ck_assert_int_eq(zvf_http("PUT", url, json, NULL, NULL), 200);
}

static int ecd_gets(void)
{
    char url[256], *body = NULL;
    snprintf(url, sizeof(url), "%s/admin/stats", base);
    ck_assert_int_eq(zvf_http("GET", url, NULL, NULL, &body), 200);
    int n = atoi(strstr(body, "\"gets\": ") + 8);
    free(body);
    return n;
}

static zvs_host *host(int fetch)
{
    char opts[1024], err[256];
    snprintf(opts, sizeof(opts),
             "{\"path\": \"/webhook/ecd\", \"secret\": \"" SECRET "\", \"max_body\": 2048%s%s%s}",
             fetch ? ", \"bearer_token\": \"ecd-token\", \"fetch_url\": \"" : "", fetch ? base : "",
             fetch ? "/api/clients/{id}\"" : "");
    zvs_host *h = zvs_new(opts, MAPPING, err, sizeof(err));
    ck_assert_msg(h != NULL, "%s", err);
    ck_assert_msg(zvs_start(h, "in_webhook.so", err, sizeof(err)) == 0, "%s", err);
    return h;
}

static int post(zvs_host *h, const char *body, const char *secret)
{
    char sig[129], hdr[200];
    const char *headers[] = {hdr, NULL};
    if (secret) {
        zvf_sign(secret, body, strlen(body), sig);
        snprintf(hdr, sizeof(hdr), "X-Signature-SHA512: sha512=%s", sig);
    } else {
        snprintf(hdr, sizeof(hdr), "X-Other: 1");
    }
    return zvf_post_via_host(h, "/webhook/ecd", body, strlen(body), headers);
}

static const char *REC1 =
    "{\"clientnummer\": \"C1\", \"bsn\": \"999900006\", "
    "\"naam\": {\"achternaam\": \"Jansen\"}, \"geboortedatum\": \"01-02-1940\"}";

START_TEST(id_only_event_is_fetched_and_replay_ignored)
{
    put_record("C1", REC1);
    zvs_host *h = host(1);
    const char *ev = "{\"event_id\": \"ev-1\", \"type\": \"client.updated\", \"id\": \"C1\"}";
    ck_assert_int_eq(post(h, ev, SECRET), 202);
    ck_assert_uint_eq(zvs_nrecords(h), 1);
    const zvs_rec *r = zvs_find(h, "C1");
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(zv_rec_str(r->rec, ZV_F_CLIENT_FAMILY_NAME), "Jansen");
    ck_assert_str_eq(zv_rec_str(r->rec, ZV_F_CLIENT_BIRTH_DATE), "1940-02-01");
    ck_assert_int_eq(ecd_gets(), 1);
    /* The same event again: acknowledged, not fetched or processed twice. */
    ck_assert_int_eq(post(h, ev, SECRET), 202);
    ck_assert_int_eq(ecd_gets(), 1);
    ck_assert_uint_eq(zvs_nrecords(h), 1);
    ck_assert_int_eq(zvs_counter(h, "replayed"), 1);
    /* ... also after a restart: the event id was committed with the record. */
    zvs_crash(h);
    char err[256];
    ck_assert_int_eq(zvs_start(h, "in_webhook.so", err, sizeof(err)), 0);
    ck_assert_int_eq(post(h, ev, SECRET), 202);
    ck_assert_int_eq(ecd_gets(), 1);
    ck_assert_uint_eq(zvs_nrecords(h), 1);
    /* A new event for an unchanged record: fetched, recognised as duplicate. */
    ck_assert_int_eq(post(h, "{\"event_id\": \"ev-2\", \"id\": \"C1\"}", SECRET), 202);
    ck_assert_int_eq(ecd_gets(), 2);
    ck_assert_uint_eq(zvs_nrecords(h), 1);
    ck_assert_int_eq(zvs_counter(h, "duplicates"), 1);
    zvs_free(h);
}
END_TEST

START_TEST(bad_signatures_are_rejected)
{
    put_record("C1", REC1);
    zvs_host *h = host(1);
    const char *ev = "{\"event_id\": \"ev-9\", \"id\": \"C1\"}";
    ck_assert_int_eq(post(h, ev, NULL), 401);
    ck_assert_int_eq(post(h, ev, "the-wrong-secret-entirely"), 401);
    char sig[129], hdr[200];
    zvf_sign(SECRET, ev, strlen(ev), sig);
    sig[5] = sig[5] == 'a' ? 'b' : 'a';
    snprintf(hdr, sizeof(hdr), "X-Signature-SHA512: %s", sig);
    const char *headers[] = {hdr, NULL};
    ck_assert_int_eq(zvf_post_via_host(h, "/webhook/ecd", ev, strlen(ev), headers), 401);
    ck_assert_int_eq(zvs_counter(h, "rejected_signature"), 3);
    ck_assert_uint_eq(zvs_nemits(h), 0);
    ck_assert_int_eq(ecd_gets(), 0);
    zvs_free(h);
}
END_TEST

START_TEST(too_large_and_broken_json)
{
    zvs_host *h = host(1);
    char big[4096];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    /* The core's listener refuses it from Content-Length before the body is
     * read (the route limit the plugin sets from max_body): the plugin
     * never sees it, so its own rejected_too_large is not counted. */
    ck_assert_int_eq(post(h, big, SECRET), 413);
    ck_assert_uint_eq(zvs_nemits(h), 0);
    ck_assert_int_eq(zvs_counter(h, "rejected_too_large"), 0);
    /* Signed but broken: answered 400 and kept in quarantine. */
    ck_assert_int_eq(post(h, "{\"event_id\": \"ev-3\", \"id\": ", SECRET), 400);
    ck_assert_uint_eq(zvs_nquarantine(h), 1);
    ck_assert_msg(strstr(zvs_quarantine(h, 0)->reason, "not a JSON object"), "%s",
                  zvs_quarantine(h, 0)->reason);
    ck_assert_ptr_nonnull(strstr(zvs_quarantine(h, 0)->item_json, "ev-3"));
    /* An id the ECD does not know: quarantined, acknowledged. */
    ck_assert_int_eq(post(h, "{\"event_id\": \"ev-4\", \"id\": \"C404\"}", SECRET), 202);
    ck_assert_uint_eq(zvs_nquarantine(h), 2);
    ck_assert_msg(strstr(zvs_quarantine(h, 1)->reason, "answered 404"), "%s",
                  zvs_quarantine(h, 1)->reason);
    /* The ECD returns something that is not JSON. */
    put_record("CX", "<html>oops</html>");
    ck_assert_int_eq(post(h, "{\"event_id\": \"ev-5\", \"id\": \"CX\"}", SECRET), 202);
    ck_assert_uint_eq(zvs_nquarantine(h), 3);
    ck_assert_str_eq(zvs_quarantine(h, 2)->record_id, "CX");
    /* A record id that cannot go into a URL. */
    ck_assert_int_eq(post(h, "{\"event_id\": \"ev-6\", \"id\": \"../etc\"}", SECRET), 400);
    ck_assert_uint_eq(zvs_nquarantine(h), 4);
    zvs_free(h);
}
END_TEST

START_TEST(ecd_or_store_down_means_retry)
{
    put_record("C1", REC1);
    zvs_host *h = host(1);
    char url[256];
    snprintf(url, sizeof(url), "%s/admin/fail", base);
    ck_assert_int_eq(zvf_http("POST", url, "{\"status\": 503, \"count\": 1}", NULL, NULL), 200);
    const char *ev = "{\"event_id\": \"ev-7\", \"id\": \"C1\"}";
    ck_assert_int_eq(post(h, ev, SECRET), 503);
    ck_assert_uint_eq(zvs_nemits(h), 0);
    /* The store fails: 503, nothing remembered, so the retry is processed. */
    zvs_fail_emits(h, 0, 1);
    ck_assert_int_eq(post(h, ev, SECRET), 503);
    ck_assert_uint_eq(zvs_nrecords(h), 0);
    ck_assert_int_eq(post(h, ev, SECRET), 202);
    ck_assert_uint_eq(zvs_nrecords(h), 1);
    ck_assert_int_eq(zvs_counter(h, "replayed"), 0);
    zvs_free(h);
}
END_TEST

START_TEST(full_record_events)
{
    zvs_host *h = host(0);
    char ev[512];
    snprintf(ev, sizeof(ev), "{\"event_id\": \"e1\", \"id\": \"C1\", %s", REC1 + 1);
    ck_assert_int_eq(post(h, ev, SECRET), 202);
    ck_assert_uint_eq(zvs_nrecords(h), 1);
    ck_assert_str_eq(zvs_record(h, 0)->record_id, "C1");
    /* Same content under a new event id: the core's de-duplication. */
    snprintf(ev, sizeof(ev), "{\"event_id\": \"e2\", \"id\": \"C1\", %s", REC1 + 1);
    ck_assert_int_eq(post(h, ev, SECRET), 202);
    ck_assert_uint_eq(zvs_nrecords(h), 1);
    ck_assert_int_eq(zvs_counter(h, "duplicates"), 1);
    /* Changed, but only in a column no destination receives ("x" is not
     * mapped): mapped again, nothing new sent (the core's change detection,
     * core/change.h), a duplicate to the source. */
    snprintf(ev, sizeof(ev), "{\"event_id\": \"e3\", \"id\": \"C1\", \"x\": 1, %s", REC1 + 1);
    ck_assert_int_eq(post(h, ev, SECRET), 202);
    ck_assert_uint_eq(zvs_nrecords(h), 1);
    ck_assert_int_eq(zvs_counter(h, "duplicates"), 2);
    /* Changed content the destination receives: processed and sent again. */
    ck_assert_int_eq(post(h,
                          "{\"event_id\": \"e4\", \"id\": \"C1\", \"clientnummer\": \"C1\", "
                          "\"bsn\": \"999900006\", \"naam\": {\"achternaam\": \"Jansen-Smit\"}, "
                          "\"geboortedatum\": \"01-02-1940\"}",
                          SECRET),
                     202);
    ck_assert_uint_eq(zvs_nrecords(h), 2);
    ck_assert_str_eq(zvs_record(h, 1)->record_id, "C1");
    ck_assert_str_eq(zv_rec_str(zvs_record(h, 1)->rec, ZV_F_CLIENT_FAMILY_NAME), "Jansen-Smit");
    ck_assert_int_eq(zvs_counter(h, "duplicates"), 2);
    zvs_free(h);
}
END_TEST

/* The replay window, one watermark per remembered event ("events.<slot>" =
 * "<n> <id>", slot n modulo replay_window): each event writes only its
 * own; the last replay_window ids are replays, also after a restart; an
 * older one is not; the whole-window watermark of older versions ("events")
 * is read when no slot is, and emptied with the next event. */
static int post_event(zvs_host *h, const char *event_id)
{
    char body[400];
    snprintf(body, sizeof(body),
             "{\"event_id\": \"%s\", \"id\": \"C1\", \"clientnummer\": \"C1\", \"bsn\": "
             "\"999900006\", \"naam\": {\"achternaam\": \"Jansen\"}, \"geboortedatum\": "
             "\"01-02-1940\"}",
             event_id);
    return post(h, body, SECRET);
}

static void sql(zvs_host *h, const char *q)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "sqlite3 '%s/state/zinvol.db' \"%s\"", zvtb_dir(zvs_bed(h)), q);
    ck_assert_int_eq(system(cmd), 0);
}

/* Every event id is in the store (event_once), not in watermarks: a replay
 * is answered as such beyond the in-memory window and after a restart, and
 * ids that older versions kept in watermarks still count. */
START_TEST(replays_known_from_the_store)
{
    char err[256];
    zvs_host *h =
        zvs_new("{\"path\": \"/webhook/ecd\", \"secret\": \"" SECRET "\", \"replay_window\": 3}",
                MAPPING, err, sizeof(err));
    ck_assert_msg(h != NULL, "%s", err);
    ck_assert_msg(zvs_start(h, "in_webhook.so", err, sizeof(err)) == 0, "%s", err);
    const char *ids[] = {"w1", "w2", "w3", "w4", "w5"};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(post_event(h, ids[i]), 202);
    /* No watermark per event (it cost a row each, and nodes overwrote them). */
    ck_assert_ptr_null(zvs_watermark(h, "events.0"));
    ck_assert_ptr_null(zvs_watermark(h, "events"));
    ck_assert_int_eq(post_event(h, "w5"), 202); /* in the window */
    ck_assert_int_eq(zvs_counter(h, "replayed"), 1);
    ck_assert_int_eq(post_event(h, "w1"), 202); /* beyond it: the store knows */
    ck_assert_int_eq(zvs_counter(h, "replayed"), 2);
    zvs_crash(h);
    ck_assert_int_eq(zvs_start(h, "in_webhook.so", err, sizeof(err)), 0);
    ck_assert_int_eq(post_event(h, "w3"), 202);
    ck_assert_int_eq(zvs_counter(h, "replayed"), 3);
    /* Stores older versions wrote: ids only in watermarks, not in the table. */
    zvs_crash(h);
    sql(h, "INSERT INTO watermark(source, key, value) SELECT DISTINCT source, 'events', "
           "'old1 old2' FROM seen; INSERT INTO watermark(source, key, value) SELECT DISTINCT "
           "source, 'events.1', '7 mid1' FROM seen;");
    ck_assert_int_eq(zvs_start(h, "in_webhook.so", err, sizeof(err)), 0);
    ck_assert_int_eq(post_event(h, "mid1"), 202);
    ck_assert_int_eq(zvs_counter(h, "replayed"), 4);
    sql(h, "DELETE FROM watermark WHERE key LIKE 'events.%';");
    zvs_crash(h);
    ck_assert_int_eq(zvs_start(h, "in_webhook.so", err, sizeof(err)), 0);
    ck_assert_int_eq(post_event(h, "old2"), 202);
    ck_assert_int_eq(zvs_counter(h, "replayed"), 5);
    ck_assert_int_eq(post_event(h, "w9"), 202); /* new */
    ck_assert_int_eq(zvs_counter(h, "replayed"), 5);
    zvs_stop(h);
    zvs_free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("source_webhook");
    TCase *tc = tcase_create("webhook");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, id_only_event_is_fetched_and_replay_ignored);
    tcase_add_test(tc, replays_known_from_the_store);
    tcase_add_test(tc, bad_signatures_are_rejected);
    tcase_add_test(tc, too_large_and_broken_json);
    tcase_add_test(tc, ecd_or_store_down_means_retry);
    tcase_add_test(tc, full_record_events);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
