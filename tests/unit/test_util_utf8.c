/* Unit tests for the strict UTF-8 validator every entrance uses. */
#include <check.h>
#include <stdint.h>
#include <string.h>
#include <zinvol/utf8.h>

static zv_utf8_err chk(const char *s, size_t *bad)
{
    return zv_utf8_check(s, strlen(s), bad);
}

START_TEST(accepts_boundaries)
{
    /* U+007F, U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF */
    const char *ok[] = {"\x7f",
                        "\xc2\x80",
                        "\xdf\xbf",
                        "\xe0\xa0\x80",
                        "\xed\x9f\xbf",
                        "\xee\x80\x80",
                        "\xef\xbf\xbf",
                        "\xf0\x90\x80\x80",
                        "\xf4\x8f\xbf\xbf",
                        "Bakker-Jans\xc3\xa9n \xe2\x82\xac \xf0\x9f\x98\x80"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        size_t bad = 99;
        ck_assert_msg(chk(ok[i], &bad) == ZV_UTF8_OK, "case %zu", i);
        ck_assert_uint_eq(bad, 99); /* untouched when valid */
    }
    /* U+0000 is UTF-8; refusing it is a caller's decision. */
    ck_assert_int_eq(zv_utf8_valid("a\0b", 3, NULL), 1);
    ck_assert_int_eq(zv_utf8_valid("", 0, NULL), 1);
}
END_TEST

START_TEST(refuses_with_reason_and_offset)
{
    struct {
        const char *s;
        zv_utf8_err e;
        size_t at;
    } bad[] = {
        {"ab\xed\xa0\x80", ZV_UTF8_SURROGATE, 2},  /* U+D800 */
        {"\xed\xbf\xbf", ZV_UTF8_SURROGATE, 0},    /* U+DFFF */
        {"x\xc0\x80", ZV_UTF8_OVERLONG, 1},        /* overlong NUL */
        {"\xc1\xbf", ZV_UTF8_OVERLONG, 0},         /* overlong U+007F */
        {"\xe0\x80\x80", ZV_UTF8_OVERLONG, 0},     /* overlong U+0000 */
        {"\xe0\x9f\xbf", ZV_UTF8_OVERLONG, 0},     /* overlong U+07FF */
        {"\xf0\x8f\xbf\xbf", ZV_UTF8_OVERLONG, 0}, /* overlong U+FFFF */
        {"\xf4\x90\x80\x80", ZV_UTF8_TOO_BIG, 0},  /* U+110000 */
        {"\xf5\x80\x80\x80", ZV_UTF8_TOO_BIG, 0},  /* lead beyond F4 */
        {"\xff", ZV_UTF8_TOO_BIG, 0},
        {"abc\x80", ZV_UTF8_BAD_BYTE, 3},   /* stray continuation */
        {"\xe2\x82", ZV_UTF8_TRUNCATED, 0}, /* euro sign cut at the end */
        {"\xe2\x82"
         "A",
         ZV_UTF8_TRUNCATED, 0}, /* cut in the middle */
        {"ok\xf0\x9f\x98", ZV_UTF8_TRUNCATED, 2},
        {"\xc3", ZV_UTF8_TRUNCATED, 0},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t at = 99;
        zv_utf8_err e = chk(bad[i].s, &at);
        ck_assert_msg(e == bad[i].e, "case %zu: got %d want %d", i, e, bad[i].e);
        ck_assert_msg(at == bad[i].at, "case %zu: offset %zu want %zu", i, at, bad[i].at);
        ck_assert_int_eq(zv_utf8_valid(bad[i].s, strlen(bad[i].s), NULL), 0);
        ck_assert_str_ne(zv_utf8_strerror(e), zv_utf8_strerror(ZV_UTF8_OK));
    }
    /* A length shorter than the buffer counts: the cut is truncation. */
    ck_assert_int_eq(zv_utf8_check("\xc3\xa9", 1, NULL), ZV_UTF8_TRUNCATED);
}
END_TEST

/* An independent reference: decode by arithmetic, then apply the rules. */
static int ref_valid(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t want = c < 0x80             ? 1
                  : (c & 0xE0) == 0xC0 ? 2
                  : (c & 0xF0) == 0xE0 ? 3
                  : (c & 0xF8) == 0xF0 ? 4
                                       : 0;
    if (!want || want != n) return 0;
    uint32_t cp = want == 1 ? c : want == 2 ? (c & 0x1F) : want == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[k] & 0x3F);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    return cp >= min[n] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
}

START_TEST(agrees_with_reference_exhaustively)
{
    unsigned char b[4];
    size_t wrong = 0;
    uint32_t first = 0;
    /* Every 1-, 2- and 3-byte string. */
    for (uint32_t v = 0; v < 0x1000000u; v++) {
        size_t n = v < 0x100 ? 1 : v < 0x10000 ? 2 : 3;
        for (size_t k = 0; k < n; k++)
            b[k] = (unsigned char)(v >> (8 * (n - 1 - k)));
        if (n > 1 && b[0] == 0) continue; /* covered by the shorter length */
        int want = ref_valid(b, n);
        /* A string of one complete character is valid exactly when the
         * reference decodes it; anything else must be refused. */
        int got = zv_utf8_valid((const char *)b, n, NULL);
        if (n > 1 && !want) {
            /* e.g. "A" "B" as two ASCII characters is valid, not one char */
            int pieces = 1;
            size_t i = 0;
            while (i < n && pieces) {
                size_t m = 0;
                for (size_t l = 1; l <= n - i && !m; l++)
                    if (ref_valid(b + i, l)) m = l;
                if (!m) pieces = 0;
                i += m;
            }
            want = pieces;
        }
        /* ck_assert per string would cost a pipe write each: count, report the first. */
        if (got != want && !wrong++) first = v;
    }
    ck_assert_msg(!wrong, "%zu strings disagree, first %06x", wrong, first);
    /* 4-byte leads F0..FF with every second byte, fixed valid tails. */
    for (unsigned l = 0xF0; l <= 0xFF; l++)
        for (unsigned s2 = 0x80; s2 <= 0xBF; s2++) {
            b[0] = (unsigned char)l, b[1] = (unsigned char)s2, b[2] = 0x80, b[3] = 0xBF;
            ck_assert_int_eq(zv_utf8_valid((const char *)b, 4, NULL), ref_valid(b, 4));
        }
}
END_TEST

START_TEST(cut_never_splits_a_character)
{
    const char *s = "ab\xe2\x82\xac"
                    "cd\xf0\x9f\x98\x80";
    size_t n = strlen(s);
    ck_assert_uint_eq(zv_utf8_cut(s, n, 100), n);
    ck_assert_uint_eq(zv_utf8_cut(s, n, 2), 2);
    ck_assert_uint_eq(zv_utf8_cut(s, n, 3), 2);
    ck_assert_uint_eq(zv_utf8_cut(s, n, 4), 2);
    ck_assert_uint_eq(zv_utf8_cut(s, n, 5), 5);
    for (size_t max = 0; max <= n; max++) {
        size_t c = zv_utf8_cut(s, n, max);
        ck_assert_uint_le(c, max);
        ck_assert_int_eq(zv_utf8_valid(s, c, NULL), 1);
        ck_assert_uint_ge(c + 3, max); /* never more than one character lost */
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, accepts_boundaries);
    tcase_add_test(tc, refuses_with_reason_and_offset);
    tcase_add_test(tc, agrees_with_reference_exhaustively);
    tcase_add_test(tc, cut_never_splits_a_character);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
