/* A field below the destination's threshold never reaches the payload:
 * real catalogues (conf/catalogue), the real minimiser, the real generic
 * json format plugin (fmt_json.so), checked on the payload bytes.  On the
 * testbed the whole way is the core's: an item handed to a source goes
 * through the mapping, each destination's own minimiser (its policy's
 * threshold) and the flush into the outbox. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "catalogue/catalogue.h"
#include "zvtb.h"

/* Unique text that can only come from the below-threshold value. */
#define MARKER "ZV-MARKER-7f3a91-phone"
#define EMAIL_MARKER "zv-marker-55c2@example.invalid"

static zv_catalogue *load(const char *name)
{
    char path[4096];
    const char *src = getenv("ZV_SOURCE_DIR");
    snprintf(path, sizeof(path), "%s/conf/catalogue/%s", src ? src : ".", name);
    zv_errors errs;
    zv_errors_init(&errs);
    zv_catalogue *cat = zv_catalogue_load(path, &errs);
    ck_assert_msg(cat != NULL, "%s", errs.n ? errs.lines[0] : path);
    zv_errors_free(&errs);
    return cat;
}

/* Source "ons" maps the item below; destinations "contract" and
 * "internal" (fmt_json, json-example.json) differ only in the threshold. */
#define DEST(name, threshold)                                                                      \
    "{\"name\": \"" name "\", \"format\": \"json\", \"transport\": \"tbcap\", "                    \
    "\"catalogue\": {\"file\": \"json-example.json\"}, \"policy\": {\"threshold\": \"" threshold   \
    "\"}}"
static const char *const config =
    "\"sources\": [{\"name\": \"ons\", \"type\": \"tbcap\", \"mapping\": {\"records\": [{"
    "\"kind\": \"delivery\", \"fields\": {\"client.bsn\": \"bsn\", \"client.birth_date\": "
    "\"birth\", "
    "\"client.phone\": \"phone\", \"client.email\": \"email\", \"entitlement.law\": \"law\", "
    "\"delivery.start\": \"start\", \"delivery.care_form\": \"care_form\", "
    "\"entitlement.funder\": {\"value\": \"0363\"}}}]}}], "
    "\"destinations\": [" DEST("contract", "contract") ", " DEST("internal", "internal") "]";

/* The source record's fields, as the ECD sends them. */
static void push(zvtb *tb, const char *law)
{
    zv_item_field f[] = {{"bsn", "999993653", 9},
                         {"birth", "2012-05-06", 10},
                         {"phone", MARKER, strlen(MARKER)}, /* level internal in json-example */
                         {"email", EMAIL_MARKER, strlen(EMAIL_MARKER)}, /* not catalogued */
                         {"law", law, strlen(law)},
                         {"start", "2026-01-05", 10},
                         {"care_form", "ZV-KEPT-careform", 16}};
    zv_item it = {ZV_SIZED(zv_item), .type = "levering", .record_id = "r-1",
                  .fields = f,       .nfields = 7,       .field_size = sizeof(f[0])};
    ck_assert_int_eq(zvtb_push(tb, "ons", &it), ZV_EMIT_STAGED);
    ck_assert_int_eq(zvtb_commit(tb, "ons"), 0);
    zvtb_run_for(tb, 300); /* the store writer makes the unit durable on the loop */
    ck_assert_int_eq(zvtb_flush(tb), 0);
    zvtb_run_for(tb, 1000); /* renders run on worker threads, finished on the loop */
}

static zvtb *bed(void)
{
    zvtb *tb = zvtb_new();
    zvtb_config(tb, config);
    ck_assert_msg(zvtb_build(tb) == 0, "%s", zvtb_errors(tb));
    ck_assert_msg(zvtb_start(tb) == 0, "%s", zvtb_errors(tb));
    return tb;
}

/* The one payload of a destination (malloc'd copy). */
static char *payload(zvtb *tb, const char *dest, size_t *len)
{
    zvtb_render out;
    zvtb_outbox(tb, dest, &out);
    ck_assert_uint_eq(out.np, 1);
    char *data = strdup(out.p[0].data);
    *len = out.p[0].len;
    zvtb_render_free(&out);
    return data;
}

static int has(const char *data, size_t len, const char *needle)
{
    return memmem(data, len, needle, strlen(needle)) != NULL;
}

START_TEST(below_threshold_never_in_payload)
{
    zv_catalogue *cat = load("json-example.json");
    ck_assert_int_eq(zv_catalogue_find(cat, ZV_F_CLIENT_PHONE)->level, ZV_LEVEL_INTERNAL);
    zv_catalogue_free(cat);
    zvtb *tb = bed();
    push(tb, "jw");
    size_t len;
    char *p = payload(tb, "contract", &len);
    ck_assert(!has(p, len, MARKER));
    ck_assert(!has(p, len, EMAIL_MARKER));
    ck_assert(!has(p, len, "client.phone"));
    ck_assert(has(p, len, "ZV-KEPT-careform")); /* contract, condition law in (jw, wmo) */
    ck_assert(has(p, len, "2026-01-05"));
    free(p);

    /* And at threshold internal the catalogue lets it through. */
    p = payload(tb, "internal", &len);
    ck_assert(has(p, len, MARKER));
    ck_assert(!has(p, len, EMAIL_MARKER));
    free(p);

    /* Control: the same plugin does render the marker when it is handed
     * over unminimised (straight to the flush), so its absence above is
     * the minimiser's doing. */
    zv_record *full = zv_record_new(ZV_KIND_DELIVERY, "ons", "r-1", 1767225600);
    zv_record_set(full, ZV_F_CLIENT_BSN, "999993653", 9, NULL);
    zv_record_set(full, ZV_F_CLIENT_PHONE, MARKER, strlen(MARKER), NULL);
    zv_record_set(full, ZV_F_DEL_START, "2026-01-05", 10, NULL);
    zvtb_render out;
    zvtb_render_records(tb, 0, &full, 1, &out);
    ck_assert_uint_eq(out.np, 1);
    ck_assert(has(out.p[0].data, out.p[0].len, MARKER));
    zvtb_render_free(&out);
    zv_record_free(full);
    zvtb_free(tb);
}
END_TEST

START_TEST(false_condition_never_in_payload)
{
    zvtb *tb = bed();
    push(tb, "wlz"); /* care_form only for jw or wmo */
    size_t len;
    char *p = payload(tb, "contract", &len);
    ck_assert(!has(p, len, "ZV-KEPT-careform"));
    ck_assert(has(p, len, "2026-01-05"));
    free(p);
    zvtb_free(tb);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("catalogue_payload");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, below_threshold_never_in_payload);
    tcase_add_test(tc, false_condition_never_in_payload);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
