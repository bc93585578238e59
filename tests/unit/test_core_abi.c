/* ABI 2 sizes and strides: the core refuses a struct smaller than ABI 2.0
 * defined it, and reads arrays by the sender's element size, so a plugin
 * of a later minor (a longer element) is read right. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/abi_check.h"
#include "core/http_client.h"
#include "core/plugin_loader.h"

/* An item field as a later minor might have it: one member appended. */
typedef struct {
    zv_item_field f;
    int64_t appended;
} field_2_9;

START_TEST(item_with_longer_fields_is_read_by_stride)
{
    field_2_9 f[3] = {{{"/a", "1", 1}, 7}, {{"/b", "22", 2}, 8}, {{"/c", "333", 3}, 9}};
    zv_item in = {ZV_SIZED(zv_item), "T", "r1", &f[0].f, 3, sizeof(f[0])};
    zv_item out;
    zv_item_field *copy;
    char why[160];
    ck_assert_int_eq(zv_abi_item(&in, &out, &copy, why, sizeof(why)), 0);
    ck_assert_ptr_nonnull(copy);
    ck_assert_uint_eq(out.field_size, sizeof(zv_item_field));
    ck_assert_str_eq(out.fields[2].path, "/c");
    ck_assert_uint_eq(out.fields[2].len, 3);
    ck_assert_str_eq(out.fields[1].value, "22");
    free(copy);
    /* this header's stride: no copy */
    zv_item_field g[1] = {{"/a", "1", 1}};
    zv_item same = {ZV_SIZED(zv_item), NULL, NULL, g, 1, sizeof(g[0])};
    ck_assert_int_eq(zv_abi_item(&same, &out, &copy, why, sizeof(why)), 0);
    ck_assert_ptr_null(copy);
    ck_assert_ptr_eq(out.fields, g);
}
END_TEST

START_TEST(too_small_structs_are_refused_with_a_reason)
{
    zv_item_field g[1] = {{"/a", "1", 1}};
    zv_item nosize = {.fields = g, .nfields = 1, .field_size = sizeof(g[0])};
    zv_item out;
    zv_item_field *copy;
    char why[160];
    ck_assert_int_eq(zv_abi_item(&nosize, &out, &copy, why, sizeof(why)), -1);
    ck_assert_msg(strstr(why, "zv_item.size is 0 bytes, ABI 2.0 needs at least"), "%s", why);
    zv_item nostride = {ZV_SIZED(zv_item), .fields = g, .nfields = 1};
    ck_assert_int_eq(zv_abi_item(&nostride, &out, &copy, why, sizeof(why)), -1);
    ck_assert_msg(strstr(why, "zv_item.field_size is 0 bytes"), "%s", why);

    zv_payload_spec p = {.data = "x", .len = 1};
    ck_assert_ptr_nonnull(zv_abi_payload_problem(&p, why, sizeof(why)));
    ck_assert_msg(strstr(why, "zv_payload_spec.size is 0"), "%s", why);
    p.size = sizeof(p);
    ck_assert_ptr_null(zv_abi_payload_problem(&p, why, sizeof(why)));

    zv_send_result r = {.status = ZV_SEND_OK};
    ck_assert_ptr_nonnull(zv_abi_send_result_problem(&r, why, sizeof(why)));
    r.size = sizeof(r);
    ck_assert_ptr_null(zv_abi_send_result_problem(&r, why, sizeof(why)));

    zv_http_header h[1] = {{"X-A", "1"}};
    zv_http_request q = {ZV_SIZED(zv_http_request), .url = "http://127.0.0.1:1/", .headers = h,
                         .nheaders = 1};
    ck_assert_ptr_nonnull(zv_abi_http_request_problem(&q, why, sizeof(why)));
    ck_assert_msg(strstr(why, "zv_http_request.header_size is 0"), "%s", why);
    q.header_size = sizeof(h[0]);
    ck_assert_ptr_null(zv_abi_http_request_problem(&q, why, sizeof(why)));
    q.size = 8;
    ck_assert_ptr_nonnull(zv_abi_http_request_problem(&q, why, sizeof(why)));
}
END_TEST

/* A format of a later minor whose message declarations grew a member. */
typedef struct {
    zv_message_decl d;
    const char *appended;
} decl_2_9;
static const decl_2_9 long_decls[] = {{{"M1", "c1.json", "one"}, "x"}, {{"M2", NULL, "two"}, "y"}};
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
static const zv_format_ops long_ops = {
    ZV_SIZED(zv_format_ops), .messages = &long_decls[0].d,
    .nmessages = 2,          .message_size = sizeof(long_decls[0]),
    .classify = classify,    .render = render};

START_TEST(messages_are_read_by_stride)
{
    zv_plugin_descriptor d = {ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_FORMAT, "long"), .format = &long_ops};
    ck_assert_uint_eq(zv_plugin_nmessages(&d), 2);
    ck_assert_str_eq(zv_plugin_message(&d, 1)->name, "M2");
    ck_assert_str_eq(zv_plugin_message(&d, 0)->catalogue, "c1.json");
    ck_assert_ptr_null(zv_plugin_message(&d, 2));
}
END_TEST

static void never(const zv_http_response *r, void *arg)
{
    (void)r;
    ++*(int *)arg;
}

START_TEST(http_request_without_size_is_refused)
{
    struct event_base *base = event_base_new();
    zv_http_client *c = zv_http_client_new(base);
    int calls = 0;
    zv_http_request q = {.url = "http://127.0.0.1:1/"};
    ck_assert_ptr_null(zv_http_client_request(c, &q, never, &calls));
    zv_http_client_free(c);
    event_base_free(base);
    ck_assert_int_eq(calls, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core_abi");
    TCase *tc = tcase_create("abi");
    tcase_add_test(tc, item_with_longer_fields_is_read_by_stride);
    tcase_add_test(tc, too_small_structs_are_refused_with_a_reason);
    tcase_add_test(tc, messages_are_read_by_stride);
    tcase_add_test(tc, http_request_without_size_is_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
