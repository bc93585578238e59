/* A field below the destination's threshold never reaches the payload:
 * real catalogues (conf/catalogue), the real minimiser, the real generic
 * json format plugin (fmt_json.so), checked on the payload bytes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "catalogue/catalogue.h"
#include "../fixtures/ijw/zv_test_host.h"

/* Unique text that can only come from the below-threshold value. */
#define MARKER "ZV-MARKER-7f3a91-phone"
#define EMAIL_MARKER "zv-marker-55c2@example.invalid"

static const zv_plugin_descriptor *desc;

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

static void set(zv_record *r, zv_field_id id, const char *v)
{
    ck_assert_int_eq(zv_record_set(r, id, v, strlen(v), NULL), 0);
}

static zv_record *source_record(void)
{
    zv_record *r = zv_record_new(ZV_KIND_DELIVERY, "ons", "r-1", 1767225600);
    set(r, ZV_F_CLIENT_BSN, "999993653");
    set(r, ZV_F_CLIENT_BIRTH_DATE, "2012-05-06");
    set(r, ZV_F_CLIENT_PHONE, MARKER);       /* level internal in json-example.json */
    set(r, ZV_F_CLIENT_EMAIL, EMAIL_MARKER); /* not catalogued at all */
    set(r, ZV_F_ENT_LAW, "jw");
    set(r, ZV_F_DEL_START, "2026-01-05");
    set(r, ZV_F_DEL_CARE_FORM, "ZV-KEPT-careform");
    return r;
}

/* Render one record through fmt_json; returns the payload bytes (malloc'd). */
static char *render(const zv_record *rec, size_t *len)
{
    zv_ctx *ctx = zvt_ctx_new(desc, NULL, "12345678", "/nonexistent");
    ck_assert_ptr_nonnull(ctx);
    void *st = NULL;
    char err[256] = "";
    ck_assert_msg(desc->create(ctx, zvt_host(), &st, err, sizeof(err)) == 0, "%s", err);
    const zv_record *recs[] = {rec};
    zv_batch b = {ZV_SIZED(zv_batch), .destination = "example", .batch_id = "b-1",
                  .message = 0,       .now = 1767225600,        .n = 1,
                  .records = recs};
    zv_render_out *out = zvt_out_new();
    ck_assert_int_eq(desc->format->render(st, &b, out), 0);
    ck_assert_uint_eq(out->npayloads, 1);
    char *data = malloc(out->payloads[0].len + 1);
    memcpy(data, out->payloads[0].data, out->payloads[0].len);
    data[out->payloads[0].len] = '\0';
    *len = out->payloads[0].len;
    zvt_out_free(out);
    desc->destroy(st);
    zvt_ctx_free(ctx);
    return data;
}

static int has(const char *data, size_t len, const char *needle)
{
    return memmem(data, len, needle, strlen(needle)) != NULL;
}

static void setup(void)
{
    void *handle;
    char err[512];
    desc = zvt_load("fmt_json.so", &handle, err, sizeof(err));
    ck_assert_msg(desc != NULL, "%s", err);
}

START_TEST(below_threshold_never_in_payload)
{
    zv_catalogue *cat = load("json-example.json");
    ck_assert_int_eq(zv_catalogue_find(cat, ZV_F_CLIENT_PHONE)->level, ZV_LEVEL_INTERNAL);
    zv_minimiser *m = zv_minimiser_new(cat, ZV_LEVEL_CONTRACT);
    zv_record *full = source_record(), *min = NULL;
    char field[64], reason[256];
    ck_assert_int_eq(zv_minimise(m, full, &min, field, sizeof(field), reason, sizeof(reason)),
                     ZV_MIN_OK);
    size_t len;
    char *p = render(min, &len);
    ck_assert(!has(p, len, MARKER));
    ck_assert(!has(p, len, EMAIL_MARKER));
    ck_assert(!has(p, len, "client.phone"));
    ck_assert(has(p, len, "ZV-KEPT-careform")); /* contract, condition law in (jw, wmo) */
    ck_assert(has(p, len, "2026-01-05"));
    free(p);

    /* Control: the same plugin does render the marker when it is handed
     * over, so its absence above is the minimiser's doing. */
    p = render(full, &len);
    ck_assert(has(p, len, MARKER));
    free(p);
    zv_record_free(min);
    zv_minimiser_free(m);

    /* And at threshold internal the catalogue lets it through. */
    m = zv_minimiser_new(cat, ZV_LEVEL_INTERNAL);
    ck_assert_int_eq(zv_minimise(m, full, &min, field, sizeof(field), reason, sizeof(reason)),
                     ZV_MIN_OK);
    p = render(min, &len);
    ck_assert(has(p, len, MARKER));
    ck_assert(!has(p, len, EMAIL_MARKER));
    free(p);
    zv_record_free(min);
    zv_minimiser_free(m);
    zv_record_free(full);
    zv_catalogue_free(cat);
}
END_TEST

START_TEST(false_condition_never_in_payload)
{
    zv_catalogue *cat = load("json-example.json");
    zv_minimiser *m = zv_minimiser_new(cat, ZV_LEVEL_CONTRACT);
    zv_record *full = source_record(), *min = NULL;
    set(full, ZV_F_ENT_LAW, "wlz"); /* care_form only for jw or wmo */
    ck_assert_int_eq(zv_minimise(m, full, &min, NULL, 0, NULL, 0), ZV_MIN_OK);
    size_t len;
    char *p = render(min, &len);
    ck_assert(!has(p, len, "ZV-KEPT-careform"));
    ck_assert(has(p, len, "2026-01-05"));
    free(p);
    zv_record_free(min);
    zv_record_free(full);
    zv_minimiser_free(m);
    zv_catalogue_free(cat);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("catalogue_payload");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, below_threshold_never_in_payload);
    tcase_add_test(tc, false_condition_never_in_payload);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
