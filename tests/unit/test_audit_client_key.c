/* Pseudonymous client keys: one key per BSN however it is written, a
 * different key per installation secret, and a secret file that is made
 * once, 0600, and refused when damaged rather than silently replaced. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/client_key.h"

static unsigned char S1[ZV_CLIENT_SECRET_LEN], S2[ZV_CLIENT_SECRET_LEN];

static void setup(void)
{
    memset(S1, 1, sizeof(S1));
    memset(S2, 2, sizeof(S2));
}

START_TEST(same_bsn_same_key)
{
    char a[ZV_CLIENT_KEY_HEX], b[ZV_CLIENT_KEY_HEX], c[ZV_CLIENT_KEY_HEX], d[ZV_CLIENT_KEY_HEX];
    ck_assert_int_eq(zv_client_key(S1, "999900006", 9, a), 0);
    ck_assert_int_eq(zv_client_key(S1, "9999.00.006", 11, b), 0);
    ck_assert_int_eq(zv_client_key(S1, " 9999 00 006", 12, c), 0);
    ck_assert_str_eq(a, b);
    ck_assert_str_eq(a, c);
    ck_assert_int_eq((int)strlen(a), 32);
    /* an 8-digit BSN is the 9-digit one with its leading zero dropped */
    ck_assert_int_eq(zv_client_key(S1, "12345672", 8, c), 0);
    ck_assert_int_eq(zv_client_key(S1, "012345672", 9, d), 0);
    ck_assert_str_eq(c, d);
    ck_assert_str_ne(a, c);
}
END_TEST

START_TEST(secret_matters_and_garbage_refused)
{
    char a[ZV_CLIENT_KEY_HEX], b[ZV_CLIENT_KEY_HEX];
    ck_assert_int_eq(zv_client_key(S1, "999900006", 9, a), 0);
    ck_assert_int_eq(zv_client_key(S2, "999900006", 9, b), 0);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(zv_client_key(S1, "", 0, a), -1);
    ck_assert_int_eq(zv_client_key(S1, "1234", 4, a), -1);
    ck_assert_int_eq(zv_client_key(S1, "9999000061", 10, a), -1);
    ck_assert_int_eq(zv_client_key(S1, "99990000x", 9, a), -1);
}
END_TEST

/* The keyer (a payload's many keys, the key blocks absorbed once) gives
 * byte for byte the one-shot HMAC's keys and references: a known answer
 * (Python's hmac over the same bytes) and the one-shot functions over many
 * secrets, spellings, refusals and record ids (one too long to fit). */
START_TEST(keyer_gives_the_same_keys)
{
    char a[ZV_CLIENT_KEY_HEX], b[ZV_CLIENT_KEY_HEX], r1[ZV_RECORD_REF_HEX], r2[ZV_RECORD_REF_HEX];
    zv_client_keyer *k = zv_client_keyer_new(S1);
    ck_assert_ptr_nonnull(k);
    ck_assert_int_eq(zv_keyer_client_key(k, "999900006", 9, a), 0);
    ck_assert_str_eq(a, "6a072dc6b41e754f919d48ea131311e1");
    zv_keyer_record_ref(k, "ons", "r1", r1);
    ck_assert_str_eq(r1, "c0521862ff83da1c");
    zv_client_keyer_free(k);
    static const char *const bsns[] = {
        "999900006", "9999.00.006", "12345672",  "012345672",       "",
        "1234",      "9999000061",  "99990000x", " 1 2 3 4 5 6 7 2"};
    static char longid[1100];
    memset(longid, 'x', sizeof(longid) - 1);
    static const char *const ids[] = {"r1", "", "R-000123", longid};
    for (int s = 0; s < 8; s++) {
        unsigned char secret[ZV_CLIENT_SECRET_LEN];
        for (int i = 0; i < ZV_CLIENT_SECRET_LEN; i++)
            secret[i] = (unsigned char)(s * 37 + i * 11);
        k = zv_client_keyer_new(secret);
        ck_assert_ptr_nonnull(k);
        for (size_t i = 0; i < sizeof(bsns) / sizeof(bsns[0]); i++) {
            int x = zv_client_key(secret, bsns[i], strlen(bsns[i]), a);
            ck_assert_int_eq(zv_keyer_client_key(k, bsns[i], strlen(bsns[i]), b), x);
            if (x == 0) ck_assert_str_eq(a, b);
        }
        for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
            zv_record_ref(secret, "ecd", ids[i], r1);
            zv_keyer_record_ref(k, "ecd", ids[i], r2);
            ck_assert_str_eq(r1, r2);
        }
        zv_client_keyer_free(k);
    }
}
END_TEST

START_TEST(secret_file)
{
    char dir[] = "/tmp/zv-ck-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    unsigned char a[ZV_CLIENT_SECRET_LEN], b[ZV_CLIENT_SECRET_LEN];
    char err[256], path[128];
    ck_assert_int_eq(zv_client_secret_load(dir, 0, a, err, sizeof(err)), 1);
    mode_t old = umask(0);
    ck_assert_int_eq(zv_client_secret_load(dir, 1, a, err, sizeof(err)), 0);
    umask(old);
    snprintf(path, sizeof(path), "%s/%s", dir, ZV_CLIENT_SECRET_FILE);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(zv_client_secret_load(dir, 1, b, err, sizeof(err)), 0);
    ck_assert_mem_eq(a, b, sizeof(a));
    FILE *f = fopen(path, "w");
    fputs("short", f);
    fclose(f);
    ck_assert_int_eq(zv_client_secret_load(dir, 1, b, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "restore it from a backup"));
    unlink(path);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("client_key");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, same_bsn_same_key);
    tcase_add_test(tc, secret_matters_and_garbage_refused);
    tcase_add_test(tc, keyer_gives_the_same_keys);
    tcase_add_test(tc, secret_file);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
