/* Streaming JSON flattener (zv_json_flatten) used by JSON-lines sources. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>

static const char *val(const zv_json_pair *p, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].path, path) == 0) return p[i].value;
    return NULL;
}

START_TEST(flattens_to_pointers)
{
    zv_json_flat *f = zv_json_flat_new();
    char err[128];
    const char *t = "{\"a\": {\"b\": [1, \"x\", null, {\"c\": true}]}, \"k/~\": \"\\u00e9\","
                    " \"n\": null, \"e\": {}, \"z\": -1.5e3}";
    ck_assert_int_eq(zv_json_flatten(f, t, strlen(t), err, sizeof(err)), 5);
    size_t n;
    const zv_json_pair *p = zv_json_flat_pairs(f, &n);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(p[0].path, "/a/b/0");
    ck_assert_str_eq(p[0].value, "1");
    ck_assert_str_eq(val(p, n, "/a/b/1"), "x");
    ck_assert_str_eq(val(p, n, "/a/b/3/c"), "true"); /* null kept its index */
    ck_assert_str_eq(val(p, n, "/k~1~0"), "\xc3\xa9");
    ck_assert_str_eq(val(p, n, "/z"), "-1.5e3");
    ck_assert_ptr_null(val(p, n, "/n"));
    /* The same object reused for the next document. */
    const char *t2 = "{\"x\": \"1\"}";
    ck_assert_int_eq(zv_json_flatten(f, t2, strlen(t2), err, sizeof(err)), 1);
    p = zv_json_flat_pairs(f, &n);
    ck_assert_str_eq(p[0].path, "/x");
    zv_json_flat_free(f);
}
END_TEST

START_TEST(errors_have_offsets)
{
    zv_json_flat *f = zv_json_flat_new();
    char err[128];
    ck_assert_int_eq(zv_json_flatten(f, "{\"a\": ", 6, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "offset"));
    ck_assert_int_eq(zv_json_flatten(f, "{} {}", 5, err, sizeof(err)), -1);
    ck_assert_int_eq(zv_json_flatten(f, "{\"a\": \"\xff\"}", 9, err, sizeof(err)), -1);
    /* Deeper than the limit is refused, not overflowed. */
    char deep[201];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = '\0';
    ck_assert_int_eq(zv_json_flatten(f, deep, strlen(deep), err, sizeof(err)), -1);
    deep[30] = '1'; /* 30 deep, with a value: fine */
    memmove(deep + 31, deep + 170, 30);
    deep[61] = '\0';
    ck_assert_int_eq(zv_json_flatten(f, deep, strlen(deep), err, sizeof(err)), 1);
    zv_json_flat_free(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json_flat");
    TCase *tc = tcase_create("flat");
    tcase_add_test(tc, flattens_to_pointers);
    tcase_add_test(tc, errors_have_offsets);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
