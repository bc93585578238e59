/* Strict UTF-8 validation (RFC 3629, table 3-7 of the Unicode standard). */
#include <zinvol/utf8.h>

/* Length of the sequence a lead byte starts, 0 for a byte that cannot lead. */
static size_t seq_len(unsigned c)
{
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0; /* continuation byte, or C0/C1 (always overlong) */
    if (c < 0xE0) return 2;
    if (c < 0xF0) return 3;
    if (c < 0xF5) return 4;
    return 0;
}

/* The second byte's range depends on the lead: that is where overlong
 * forms, surrogates and values above U+10FFFF are told apart. */
static zv_utf8_err second_byte(unsigned lead, unsigned c)
{
    if ((c & 0xC0) != 0x80) return ZV_UTF8_TRUNCATED;
    if (lead == 0xE0 && c < 0xA0) return ZV_UTF8_OVERLONG;
    if (lead == 0xED && c > 0x9F) return ZV_UTF8_SURROGATE;
    if (lead == 0xF0 && c < 0x90) return ZV_UTF8_OVERLONG;
    if (lead == 0xF4 && c > 0x8F) return ZV_UTF8_TOO_BIG;
    return ZV_UTF8_OK;
}

static zv_utf8_err lead_error(unsigned c)
{
    if (c == 0xC0 || c == 0xC1) return ZV_UTF8_OVERLONG;
    if (c >= 0xF5) return ZV_UTF8_TOO_BIG;
    return ZV_UTF8_BAD_BYTE;
}

zv_utf8_err zv_utf8_check(const char *s, size_t len, size_t *bad)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        if (c < 0x80) { /* the common case first */
            i++;
            continue;
        }
        size_t n = seq_len(c);
        zv_utf8_err e = n ? ZV_UTF8_OK : lead_error(c);
        if (!e && i + 1 >= len) e = ZV_UTF8_TRUNCATED;
        if (!e) e = second_byte(c, p[i + 1]);
        for (size_t k = 2; !e && k < n; k++)
            if (i + k >= len || (p[i + k] & 0xC0) != 0x80) e = ZV_UTF8_TRUNCATED;
        if (e) {
            if (bad) *bad = i;
            return e;
        }
        i += n;
    }
    return ZV_UTF8_OK;
}

int zv_utf8_valid(const char *s, size_t len, size_t *bad)
{
    return zv_utf8_check(s, len, bad) == ZV_UTF8_OK;
}

const char *zv_utf8_strerror(zv_utf8_err e)
{
    switch (e) {
    case ZV_UTF8_OK:
        return "valid UTF-8";
    case ZV_UTF8_BAD_BYTE:
        return "byte that cannot start a UTF-8 character";
    case ZV_UTF8_TRUNCATED:
        return "UTF-8 sequence cut short";
    case ZV_UTF8_OVERLONG:
        return "overlong UTF-8 form";
    case ZV_UTF8_SURROGATE:
        return "UTF-16 surrogate encoded in UTF-8";
    case ZV_UTF8_TOO_BIG:
        return "code point above U+10FFFF";
    }
    return "invalid UTF-8";
}

size_t zv_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max) return len;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = max;
    /* Step back over continuation bytes to the start of the character that
     * straddles max; at most 3 steps in valid UTF-8. */
    while (i > 0 && max - i < 4 && (p[i] & 0xC0) == 0x80)
        i--;
    return i;
}
