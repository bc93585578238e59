/* The ijw catalogues load with the core's loader, name the plugin's
 * messages, and together with the real minimiser yield messages without the
 * fields nobody requires (Voornamen, Voorletters, free text), rendered on
 * the testbed (the core's build and flush). */
#include <check.h>
#include <stddef.h>
#include "core/plugin_loader.h"
#include <stdlib.h>
#include <string.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

#include "catalogue/catalogue.h"
#include "../fixtures/ijw/ijw_test_util.h"
#include "zvtb.h"

#define NOW 1767434400

static zv_catalogue *load(const char *file)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/conf/catalogue/%s", getenv("ZV_SOURCE_DIR"), file);
    zv_errors errs;
    zv_errors_init(&errs);
    zv_catalogue *cat = zv_catalogue_load(path, &errs);
    ck_assert_msg(cat != NULL, "%s: %s", file, errs.n ? errs.lines[0] : "?");
    zv_errors_free(&errs);
    return cat;
}

START_TEST(catalogues_match_messages_and_minimise)
{
    const char *opts[] = {"{\"standard\":\"jw\"}", "{\"standard\":\"wmo\"}"};
    for (int std = 0; std < 2; std++) {
        zvtb *tb = zvtb_format_ex(
            "ijw", opts[std], NULL,
            "\"organisation\": {\"agb\": \"65656055\", \"name\": \"Testorganisatie\"}");
        const zv_plugin_descriptor *d = zvtb_fmt_desc(tb);
        void *st = zvtb_fmt_state(tb);
        for (int m = 0; m < 2; m++) {
            const zv_message_decl *decl = &d->format->messages[std * 2 + m];
            zv_catalogue *cat = load(decl->catalogue);
            ck_assert_str_eq(zv_catalogue_message(cat), decl->name);
            zv_minimiser *min = zv_minimiser_new(cat, ZV_LEVEL_CONTRACT);
            zv_record *full = ijwt_record("1", std ? "wmo" : "jw", "999993653", "1", "2025-12-01",
                                          m ? "2025-12-20" : NULL, "1");
            ijwt_set(full, ZV_F_CLIENT_GIVEN_NAMES, "Tomas Hendrik");
            ijwt_set(full, ZV_F_DEL_NOTES, "ZVMARKER-notes");
            ijwt_set(full, ZV_F_CLIENT_PHONE, "0612345678");
            ck_assert_int_eq(d->format->classify(st, full), std * 2 + m);
            zv_record *trimmed = NULL;
            char field[128], reason[256];
            ck_assert_int_eq(
                zv_minimise(min, full, &trimmed, field, sizeof(field), reason, sizeof(reason)),
                ZV_MIN_OK);
            const zv_record *recs[] = {trimmed};
            zv_batch b = {ZV_SIZED(zv_batch),     .destination = "gem", .batch_id = m ? "c2" : "c1",
                          .message = std * 2 + m, .now = NOW,           .n = 1,
                          .records = recs};
            zvtb_render o, *out = &o;
            /* m == 1: the stop refers to the start rendered in the m == 0 round. */
            ck_assert_int_eq(zvtb_render_batch(tb, &b, out), 0);
            ck_assert_msg(out->nr == 0, "%s: %s", decl->name, out->nr ? out->r[0].reason : "");
            ck_assert_uint_eq(out->np, 1);
            zvtb_payload *p = &out->p[0];
            ck_assert_ptr_null(memmem(p->data, p->len, "Tomas", 5));
            ck_assert_ptr_null(memmem(p->data, p->len, "Voornamen", 9));
            ck_assert_ptr_null(memmem(p->data, p->len, "Voorletters", 11));
            ck_assert_ptr_null(memmem(p->data, p->len, "ZVMARKER", 8));
            ck_assert_ptr_null(memmem(p->data, p->len, "0612345678", 10));
            ck_assert_ptr_nonnull(memmem(p->data, p->len, "<ijw:Achternaam>Wit", 19)
                                      ? (void *)1
                                      : memmem(p->data, p->len, "<iwmo:Achternaam>Wit", 20));
            /* Without BSN the minimiser quarantines: never half a message. */
            zv_record_clear(full, ZV_F_CLIENT_BSN);
            zv_record *none = NULL;
            ck_assert_int_eq(
                zv_minimise(min, full, &none, field, sizeof(field), reason, sizeof(reason)),
                ZV_MIN_MISSING);
            ck_assert_str_eq(field, "client.bsn");
            zvtb_render_free(out);
            zv_record_free(trimmed);
            zv_record_free(full);
            zv_minimiser_free(min);
            zv_catalogue_free(cat);
        }
        zvtb_free(tb);
    }
}
END_TEST

/* message_active: an instance sends its own standard's messages only. */
START_TEST(active_messages_follow_the_standard)
{
    char err[512];
    /* The descriptor as the core's loader opened it for a bed. */
    zvtb *tb =
        zvtb_format_ex("ijw", NULL, NULL,
                       "\"organisation\": {\"agb\": \"65656055\", \"name\": \"Testorganisatie\"}");
    const zv_plugin_descriptor *d = zvtb_fmt_desc(tb);
    ck_assert_uint_eq(d->abi_major, ZV_ABI_MAJOR);
    const char *opts[] = {NULL, "{\"standard\": \"jw\"}", "{\"standard\": \"wmo\"}"};
    const char *want[] = {"JW305,JW307,JW323", "JW305,JW307,JW323", "WMO305,WMO307,WMO323"};
    for (int k = 0; k < 3; k++) {
        zv_json_doc *doc =
            opts[k] ? zv_json_parse(opts[k], strlen(opts[k]), 0, err, sizeof(err)) : NULL;
        char got[128] = "";
        for (int m = 0; (size_t)m < d->format->nmessages; m++)
            if (zv_plugin_message_active(d, doc ? zv_json_root(doc) : NULL, m)) {
                size_t l = strlen(got);
                snprintf(got + l, sizeof(got) - l, "%s%s", l ? "," : "",
                         d->format->messages[m].name);
            }
        ck_assert_str_eq(got, want[k]);
        zv_json_free(doc);
    }
    /* Without message_active every message counts. */
    zv_plugin_descriptor all = *d;
    all.message_active = NULL;
    ck_assert_int_eq(zv_plugin_message_active(&all, NULL, 2), 1);
    zvtb_free(tb);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ijw_catalogue");
    TCase *tc = tcase_create("catalogue");
    tcase_add_test(tc, catalogues_match_messages_and_minimise);
    tcase_add_test(tc, active_messages_follow_the_standard);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
