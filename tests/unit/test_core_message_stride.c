/* Change detection and the field check read a format's messages by the
 * descriptor's message_size (ABI 2): a plugin of a later minor, whose
 * message declarations grew a member, names its second message right in
 * the change digest and in --check-config's errors. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

#include "catalogue/catalogue.h"
#include "core/change.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/format_fields.h"
#include "core/runtime_int.h"

typedef struct {
    zv_message_decl d;
    const char *appended; /* what a later minor might add */
} decl_2_9;
static const decl_2_9 decls[] = {{{"M1", NULL, "one"}, "first-extra"},
                                 {{"M2", NULL, "two"}, "second-extra"}};
static int classify(void *s, const zv_record *r)
{
    (void)s, (void)r;
    return 0;
}
static int render(void *s, const zv_batch *b, zv_render_out *o)
{
    (void)s, (void)b, (void)o;
    return 0;
}
static const zv_format_ops ops = {ZV_SIZED(zv_format_ops), .messages = &decls[0].d,
                                  .nmessages = 2,          .message_size = sizeof(decls[0]),
                                  .classify = classify,    .render = render};
/* Carries everything but the postcode. */
static int renderable(const zv_json *o, int m, zv_field_id f)
{
    (void)o, (void)m;
    return f != ZV_F_CLIENT_POSTCODE;
}
static const zv_plugin_descriptor desc = {ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_FORMAT, "long"),
                                          .format = &ops, .field_renderable = renderable};

START_TEST(change_digest_names_the_message_by_stride)
{
    zv_dest_conf conf = {.name = "d", .format = "long"};
    zv_dest_rt d = {.conf = &conf, .nmsg = 2};
    d.fmt.desc = &desc;
    zv_record *r = zv_record_new(ZV_KIND_DELIVERY, "s", "r1", 0);
    ck_assert_int_eq(zv_record_set(r, ZV_F_CLIENT_POSTCODE, "1234AB", 6, NULL), 0);
    char got[ZV_CHANGE_DIGEST_HEX], want[ZV_CHANGE_DIGEST_HEX];
    ck_assert_int_eq(zv_change_digest(&d, 1, r, got), 0);
    /* The message's name only: the postcode is not carried. */
    zv_sha256_hex("2:M2", 4, want);
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(zv_change_digest(&d, 0, r, got), 0);
    zv_sha256_hex("2:M1", 4, want);
    ck_assert_str_eq(got, want);
    /* Carried fields by id, each as "|<id>:<length>:<value>" (the digests in
     * a store stay valid: the same bytes as the printf form before). */
    ck_assert_int_eq(zv_record_set(r, ZV_F_CLIENT_BSN, "999993653", 9, NULL), 0);
    ck_assert_int_eq(zv_record_set(r, ZV_F_DEL_NOTES, "a|b:c", 5, NULL), 0);
    char text[128];
    snprintf(text, sizeof(text), "2:M1|%d:9:999993653|%d:5:a|b:c", (int)ZV_F_CLIENT_BSN,
             (int)ZV_F_DEL_NOTES);
    zv_sha256_hex(text, strlen(text), want);
    ck_assert_int_eq(zv_change_digest(&d, 0, r, got), 0);
    ck_assert_str_eq(got, want);
    zv_record_free(r);
}
END_TEST

START_TEST(field_check_names_the_message_by_stride)
{
    static const char *cat =
        "{\"catalogue\": \"c\", \"format\": \"long\", \"message\": \"M2\","
        " \"frequency\": \"event\", \"fields\": [{\"field\": "
        "\"client.postcode\", \"element\": \"P\", \"level\": \"contract\", \"citation\": \"x\"}]}";
    char err[256];
    zv_json_doc *doc = zv_json_parse(cat, strlen(cat), 0, err, sizeof(err));
    ck_assert_msg(doc != NULL, "%s", err);
    zv_errors errs;
    zv_errors_init(&errs);
    zv_catalogue *c = zv_catalogue_from_json(zv_json_root(doc), "c.json", &errs);
    ck_assert_msg(c != NULL, "%s", errs.n ? errs.lines[0] : "?");
    zv_catalogue *cats[2] = {NULL, c};
    zv_dest_conf conf = {.name = "d", .format = "long"};
    zv_dest_rt d = {.conf = &conf, .nmsg = 2, .cats = cats};
    d.fmt.desc = &desc;
    zv_config cfg = {0};
    zv_runtime rt = {.cfg = &cfg};
    zv_dest_check_fields(&rt, &d, 1, &errs);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_msg(strstr(errs.lines[0], "cannot carry client.postcode in M2"), "%s", errs.lines[0]);
    zv_errors_free(&errs);
    zv_catalogue_free(c);
    zv_json_free(doc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core_message_stride");
    TCase *tc = tcase_create("stride");
    tcase_add_test(tc, change_digest_names_the_message_by_stride);
    tcase_add_test(tc, field_check_names_the_message_by_stride);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
