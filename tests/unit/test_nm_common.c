/* The netwerkmodel plugins' shared helper (plugins/netwerkmodel_common):
 * the PEP's claims header as JSON or base64url (decoded by libcrypto),
 * scopes, the GraphQL error body, UUIDs, B3 ids. */
#include "nmc.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const char *sub(zv_json_doc *d)
{
    return d ? zv_json_str(zv_json_get(zv_json_root(d), "sub"), NULL) : NULL;
}

START_TEST(claims_json_and_base64url)
{
    zv_json_doc *d = zv_nm_claims("  {\"sub\": \"uzovi:5501\"}");
    ck_assert_str_eq(sub(d), "uzovi:5501");
    zv_json_free(d);
    /* {"sub":"uzovi:5501","n":"?" "?" "?>>>"}: '-' and '_', no padding (a JWT's) */
    d = zv_nm_claims("eyJzdWIiOiJ1em92aTo1NTAxIiwibiI6Ij8_Pz4-PiJ9");
    ck_assert_str_eq(sub(d), "uzovi:5501");
    ck_assert_str_eq(zv_json_str(zv_json_get(zv_json_root(d), "n"), NULL), "\?\?\?>>>");
    zv_json_free(d);
    /* the same in plain base64 */
    d = zv_nm_claims("eyJzdWIiOiJ1em92aTo1NTAxIiwibiI6Ij8/Pz4+PiJ9");
    ck_assert_str_eq(sub(d), "uzovi:5501");
    zv_json_free(d);
    /* one and two padding characters, with and without them */
    const char *pads[] = {"eyJzdWIiOiJ1em92aTo1NTAxIiwibiI6In5-fj8-In0=",
                          "eyJzdWIiOiJ1em92aTo1NTAxIiwibiI6In5-fj8-In0",
                          "eyJzdWIiOiJ1em92aTo1NTAxIiwibiI6IsO7w78_Pn4ifQ==",
                          "eyJzdWIiOiJ1em92aTo1NTAxIiwibiI6IsO7w78_Pn4ifQ", NULL};
    for (int i = 0; pads[i]; i++) {
        d = zv_nm_claims(pads[i]);
        ck_assert_msg(sub(d) && !strcmp(sub(d), "uzovi:5501"), "%s", pads[i]);
        zv_json_free(d);
    }
    d = zv_nm_claims("eyJzdWIiOiJ1em92aTo1NTAxIiwibiI6IsO7w78_Pn4ifQ");
    ck_assert_str_eq(zv_json_str(zv_json_get(zv_json_root(d), "n"), NULL), "\xc3\xbb\xc3\xbf\?>~");
    zv_json_free(d);
}
END_TEST

START_TEST(claims_refused)
{
    ck_assert_ptr_null(zv_nm_claims(NULL));
    ck_assert_ptr_null(zv_nm_claims(""));
    /* a whole JWT (header.payload.signature) is not the claims */
    ck_assert_ptr_null(zv_nm_claims("eyJhbGciOiJub25lIn0.eyJhIjoxfQ.x"));
    ck_assert_ptr_null(zv_nm_claims("eyJhIjoxfQ*")); /* outside the alphabet */
    ck_assert_ptr_null(zv_nm_claims("eyJhI joxfQ")); /* white space inside */
    ck_assert_ptr_null(zv_nm_claims("eyJhIjoxf"));   /* a length no encoding has */
    ck_assert_ptr_null(zv_nm_claims("bm90IGpzb24")); /* "not json" */
    zv_json_doc *d = zv_nm_claims("eyJhIjoxfQ");     /* {"a":1} */
    ck_assert_ptr_nonnull(d);
    zv_json_free(d);
}
END_TEST

START_TEST(scopes_body_ids)
{
    zv_json_doc *d = zv_nm_claims("{\"scopes\": [\"a:read\"], \"scope\": \"b:read c:create\"}");
    const zv_json *c = zv_json_root(d);
    ck_assert(zv_nm_has_scope(c, "a:read"));
    ck_assert(zv_nm_has_scope(c, "b:read"));
    ck_assert(zv_nm_has_scope(c, "c:create"));
    ck_assert(!zv_nm_has_scope(c, "c:creat"));
    ck_assert(!zv_nm_has_scope(c, "b:read c"));
    zv_json_free(d);
    size_t len = 0;
    char *b = zv_nm_error_body("no \"claims\"", &len);
    ck_assert_str_eq(b, "{\"errors\":[{\"message\":\"no \\\"claims\\\"\"}]}");
    ck_assert_uint_eq(len, strlen(b));
    free(b);
    ck_assert(zv_nm_is_uuid("3fa85f64-5717-4562-B3FC-2c963f66afa6"));
    ck_assert(!zv_nm_is_uuid("3fa85f64-5717-4562-b3fc-2c963f66afa"));
    ck_assert(!zv_nm_is_uuid("3fa85f64x5717-4562-b3fc-2c963f66afa6"));
    ck_assert(!zv_nm_is_uuid("B-2026-0001"));
    char t[33], s[33];
    zv_nm_random_hex(t, 16);
    zv_nm_random_hex(s, 16);
    ck_assert_uint_eq(strlen(t), 32);
    ck_assert_str_ne(t, s);
    ck_assert_uint_eq(strspn(t, "0123456789abcdef"), 32);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nm_common");
    TCase *tc = tcase_create("nm_common");
    tcase_add_test(tc, claims_json_and_base64url);
    tcase_add_test(tc, claims_refused);
    tcase_add_test(tc, scopes_body_ids);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
