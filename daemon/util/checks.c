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

void zv_bsn_scrub(char *text)
{
    for (char *p = text; *p;) {
        if (!isdigit((unsigned char)*p)) {
            p++;
            continue;
        }
        char *start = p;
        while (isdigit((unsigned char)*p))
            p++;
        if (p - start == 9 && zv_bsn_valid(start, 9)) memset(start, '*', 5);
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
