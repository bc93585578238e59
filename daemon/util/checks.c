/* Identifier checks and BSN masking. */
#include <zinvol/util.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int zv_bsn_valid(const char *s, size_t len)
{
    if (len != 9) return 0;
    int sum = 0;
    for (size_t i = 0; i < 9; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        int d = s[i] - '0';
        sum += (i == 8) ? -d : d * (int)(9 - i);
    }
    /* 000000000 passes the arithmetic but is never issued. */
    return sum % 11 == 0 && strncmp(s, "000000000", 9) != 0;
}

const char *zv_bsn_mask(const char *s, char *out, size_t outlen)
{
    if (!out || outlen < 16) return "*********";
    size_t len = s ? strlen(s) : 0;
    /* Keep the last four digits at most, and none of a short value, so a
     * masked value can be matched by a person but never reconstructed. */
    size_t keep = len >= 9 ? 4 : 0;
    snprintf(out, outlen, "*****%.*s", (int)keep, s ? s + len - keep : "");
    if (keep == 0) snprintf(out, outlen, "*********");
    return out;
}

static int alnum(char c)
{
    return isalnum((unsigned char)c);
}

/* Number of digits at p. */
static size_t digit_run(const char *p)
{
    size_t n = 0;
    while (isdigit((unsigned char)p[n]))
        n++;
    return n;
}

/* An 8-digit number is a BSN whose leading zero an export lost (the mapping
 * accepts it so, see mapping_value.c). */
static int bsn8_valid(const char *s)
{
    char nine[9] = {'0'};
    memcpy(nine + 1, s, 8);
    return zv_bsn_valid(nine, 9);
}

/* Mask the first `count` digits from p on, skipping separators. */
static void mask_digits(char *p, int count)
{
    for (; count > 0 && *p; p++)
        if (isdigit((unsigned char)*p)) *p = '*', count--;
}

/* A BSN written in groups, "9999.00.006" or "999 996 708": groups of 4-2-3
 * or 3-3-3 digits with one separator ('.', ' ' or '-') used throughout.
 * Returns the length of the written form at p, 0 when there is none. */
static size_t grouped_bsn(const char *p)
{
    static const int layouts[][3] = {{4, 2, 3}, {3, 3, 3}};
    for (size_t l = 0; l < sizeof(layouts) / sizeof(layouts[0]); l++) {
        char digits[9];
        size_t at = 0, nd = 0;
        char sep = 0;
        int ok = 1;
        for (int g = 0; g < 3 && ok; g++) {
            if (g > 0) {
                if (g == 1) sep = p[at];
                if ((sep != '.' && sep != ' ' && sep != '-') || p[at] != sep) ok = 0;
                at++;
            }
            size_t n = ok ? digit_run(p + at) : 0;
            if (!ok || (int)n != layouts[l][g])
                ok = 0;
            else
                memcpy(digits + nd, p + at, n), nd += n, at += n;
        }
        /* Not part of a longer number such as "123.456.789.1" or "1234.56.7890". */
        if (!ok || alnum(p[at]) || (p[at] == sep && isdigit((unsigned char)p[at + 1]))) continue;
        if (zv_bsn_valid(digits, 9)) return at;
    }
    return 0;
}

/* Whole tokens only: a token is a maximal run of letters and digits, so the
 * nine digits inside a hex hash or a longer id are not a BSN and stay as
 * they are (ids in logs must match the store).  Masked: a 9-digit token
 * passing the elfproef, an 8-digit one that does with its leading zero
 * back, and the grouped written forms. */
void zv_bsn_scrub(char *text)
{
    for (char *p = text; *p;) {
        if (!alnum(*p)) {
            p++;
            continue;
        }
        char *start = p;
        while (alnum(*p))
            p++;
        size_t n = (size_t)(p - start);
        if (digit_run(start) != n) continue; /* letters in it: not a number */
        /* Digits that continue a number before them ("1.234 567 890"). */
        int continues = start - text >= 2 &&
                        (start[-1] == '.' || start[-1] == ' ' || start[-1] == '-') &&
                        isdigit((unsigned char)start[-2]);
        if (n == 9 && zv_bsn_valid(start, 9))
            mask_digits(start, 5);
        else if (n == 8 && bsn8_valid(start))
            mask_digits(start, 4);
        else if ((n == 3 || n == 4) && !continues) {
            size_t len = grouped_bsn(start);
            if (len) {
                mask_digits(start, 5);
                p = start + len;
            }
        }
    }
}

int zv_agb_valid(const char *s, size_t len)
{
    if (len != 8) return 0;
    for (size_t i = 0; i < 8; i++)
        if (!isdigit((unsigned char)s[i])) return 0;
    return 1;
}

int zv_postcode_valid(const char *s, size_t len)
{
    if (len != 6 || s[0] == '0') return 0;
    for (int i = 0; i < 4; i++)
        if (!isdigit((unsigned char)s[i])) return 0;
    return isupper((unsigned char)s[4]) && isupper((unsigned char)s[5]);
}
