/*
 * Converting and validating one value: converters, code maps, date formats
 * and the checks that belong to each model type.
 */
#include "mapping_int.h"
#include "mapping_value.h"

#include <stdio.h>
#include <string.h>
#include <zinvol/util.h>

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static void trim(char **s, size_t *len)
{
    while (*len && is_ws(**s))
        (*s)++, (*len)--;
    while (*len && is_ws((*s)[*len - 1]))
        (*len)--;
}

/* Euro text -> cents: "12", "12,5", "12.50", "1.234,56", "-3,00". */
static int euro_to_cents(char *s, size_t *len)
{
    char tmp[40];
    size_t n = 0, i = 0, frac = 0;
    int neg = 0, seen_sep = 0;
    if (*len && (s[0] == '-' || s[0] == '+')) neg = s[i++] == '-';
    /* The last '.' or ',' followed by 1-2 digits is the decimal mark; any
     * other separator is a thousands mark. */
    size_t dec = *len;
    for (size_t k = i; k < *len; k++)
        if (s[k] == '.' || s[k] == ',') dec = k;
    if (dec < *len && (*len - dec - 1 == 0 || *len - dec - 1 > 2)) dec = *len;
    if (neg) tmp[n++] = '-';
    size_t start = n;
    for (; i < *len; i++) {
        if (i == dec) {
            seen_sep = 1;
            continue;
        }
        if (s[i] == '.' || s[i] == ',') {
            if (seen_sep) return -1;
            continue;
        }
        if (s[i] < '0' || s[i] > '9' || n >= 30) return -1;
        if (seen_sep) frac++;
        tmp[n++] = s[i];
    }
    if (n == start) return -1;
    while (frac < 2)
        tmp[n++] = '0', frac++;
    /* Drop leading zeros but keep one digit. */
    size_t z = start;
    while (z + 1 < n && tmp[z] == '0')
        z++;
    memmove(tmp + start, tmp + z, n - z);
    n -= z - start;
    memcpy(s, tmp, n);
    *len = n;
    return 0;
}

int zv_map_convert(const zv_field_rule *fr, char **s, size_t *len)
{
    for (int i = 0; i < fr->nconv; i++) {
        char *p = *s;
        size_t n = *len, o = 0;
        switch (fr->conv[i]) {
        case ZV_CONV_TRIM:
            trim(s, len);
            break;
        case ZV_CONV_UPPER:
            for (size_t k = 0; k < n; k++)
                if (p[k] >= 'a' && p[k] <= 'z') p[k] = (char)(p[k] - 32);
            break;
        case ZV_CONV_LOWER:
            for (size_t k = 0; k < n; k++)
                if (p[k] >= 'A' && p[k] <= 'Z') p[k] = (char)(p[k] + 32);
            break;
        case ZV_CONV_DIGITS:
            for (size_t k = 0; k < n; k++)
                if (p[k] >= '0' && p[k] <= '9') p[o++] = p[k];
            *len = o;
            break;
        case ZV_CONV_LETTERS:
            /* Bytes >= 0x80 belong to UTF-8 letters (accents) and are kept. */
            for (size_t k = 0; k < n; k++)
                if ((unsigned char)p[k] >= 0x80 || (p[k] >= 'a' && p[k] <= 'z') ||
                    (p[k] >= 'A' && p[k] <= 'Z'))
                    p[o++] = p[k];
            *len = o;
            break;
        case ZV_CONV_INITIALS: {
            /* The first letter of every part; parts end at white space,
             * '.' or '-'.  A UTF-8 letter is kept whole, and the Dutch
             * digraph IJ counts as one letter ("IJsbrand" -> "IJ"). */
            int start = 1;
            for (size_t k = 0; k < n; k++) {
                unsigned char ch = (unsigned char)p[k];
                if (is_ws(p[k]) || p[k] == '.' || p[k] == '-') {
                    start = 1;
                    continue;
                }
                if (!start) continue;
                start = 0;
                size_t cl = ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : ch >= 0xC0 ? 2 : 1;
                if (k + cl > n) cl = n - k;
                if (cl == 1 && !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))) continue;
                for (size_t b = 0; b < cl; b++)
                    p[o++] = (cl == 1 && ch >= 'a') ? (char)(ch - 32) : p[k + b];
                if (ch == 'I' && k + 1 < n && p[k + 1] == 'J') p[o++] = 'J';
                k += cl - 1;
            }
            *len = o;
            break;
        }
        case ZV_CONV_NOSPACE:
            for (size_t k = 0; k < n; k++)
                if (!is_ws(p[k])) p[o++] = p[k];
            *len = o;
            break;
        case ZV_CONV_COLLAPSE:
            trim(s, len);
            p = *s;
            n = *len;
            for (size_t k = 0; k < n; k++)
                if (!is_ws(p[k]) || (o && p[o - 1] != ' ')) p[o++] = is_ws(p[k]) ? ' ' : p[k];
            *len = o;
            break;
        case ZV_CONV_EURO:
            trim(s, len);
            if (*len && euro_to_cents(*s, len) < 0) return -1;
            break;
        }
    }
    return 0;
}

static int digits(const char **s, const char *end, int min, int max, int *out)
{
    int v = 0, n = 0;
    while (*s < end && n < max && **s >= '0' && **s <= '9')
        v = v * 10 + (*(*s)++ - '0'), n++;
    if (n < min) return -1;
    *out = v;
    return 0;
}

int zv_map_parse_date(const char *s, size_t len, const char *fmt, char out[11])
{
    const char *end = s + len;
    int d = -1, m = -1, y = -1, ignored;
    if (!fmt) {
        /* ISO: YYYY-MM-DD, optionally followed by a time part. */
        if (len < 10 || (len > 10 && s[10] != 'T' && s[10] != ' ')) return -1;
        memcpy(out, s, 10);
        out[10] = '\0';
        return zv_date_valid(out, 10) ? 0 : -1;
    }
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            if (s >= end || *s != *f) return -1;
            s++;
            continue;
        }
        f++;
        /* Two digits exactly when another directive follows directly. */
        int fixed = f[1] == '%' ? 2 : 1;
        switch (*f) {
        case 'd':
            if (digits(&s, end, fixed, 2, &d)) return -1;
            break;
        case 'm':
            if (digits(&s, end, fixed, 2, &m)) return -1;
            break;
        case 'Y':
            if (digits(&s, end, 4, 4, &y)) return -1;
            break;
        case 'H':
        case 'M':
        case 'S':
            if (digits(&s, end, fixed, 2, &ignored)) return -1;
            break;
        case '%':
            if (s >= end || *s++ != '%') return -1;
            break;
        default:
            return -1;
        }
    }
    if (s != end || d < 0 || m < 0 || y < 0) return -1;
    out[0] = (char)('0' + y / 1000), out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10), out[3] = (char)('0' + y % 10), out[4] = '-';
    out[5] = (char)('0' + m / 10), out[6] = (char)('0' + m % 10), out[7] = '-';
    out[8] = (char)('0' + d / 10), out[9] = (char)('0' + d % 10), out[10] = '\0';
    return zv_date_valid(out, 10) ? 0 : -1;
}

/* Show a value in a reason: shortened, and never a BSN. */
static const char *shown(const zv_field_def *def, const char *s, size_t len, char *buf,
                         size_t buflen)
{
    if (def->type == ZV_T_BSN) {
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%.*s", (int)(len > 20 ? 20 : len), s);
        return zv_bsn_mask(tmp, buf, buflen);
    }
    snprintf(buf, buflen, "'%.*s%s'", (int)(len > 40 ? 40 : len), s, len > 40 ? "..." : "");
    return buf;
}

static const char *const allowed_law[] = {"wlz", "jw", "wmo", NULL};
static const char *const allowed_sex[] = {"0", "1", "2", "9", NULL};
static const char *const allowed_jn[] = {"J", "N", NULL};
static const char *const allowed_status[] = {"1", "2", "3", NULL};
static const char *const allowed_dc[] = {"D", "C", NULL};

static const char *const *allowed_codes(int field)
{
    switch (field) {
    case ZV_F_ENT_LAW:
        return allowed_law;
    case ZV_F_CLIENT_SEX:
        return allowed_sex;
    case ZV_F_DEL_TREATMENT:
    case ZV_F_DEL_CRISIS:
    case ZV_F_CLIENT_DECEASED:
    case ZV_F_CLIENT_ACTIVE:
        return allowed_jn;
    case ZV_F_DEL_STATUS:
        return allowed_status;
    case ZV_F_DECL_DEBIT_CREDIT:
        return allowed_dc;
    default:
        return NULL;
    }
}

int zv_map_check(const zv_field_rule *fr, const zv_map_ctx *cx, char **s, size_t *len, char *reason,
                 size_t reasonlen)
{
    const zv_field_def *def = zv_field_def_of(fr->field);
    char show[64];
    char *p = *s;
    size_t n = *len;
    switch (def->type) {
    case ZV_T_STRING:
        /* U+0000 included: model values are NUL-terminated text, so a value
         * holding one is refused here rather than cut later. */
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)p[i] < 0x20 && !is_ws(p[i])) {
                snprintf(reason, reasonlen, "contains a control character (0x%02X at byte %zu)",
                         (unsigned char)p[i], i);
                return -1;
            }
        return 0;
    case ZV_T_BSN:
        /* Exports that store the BSN as a number lose its leading zero. */
        if (n == 8 && p > cx->buf_start) {
            (*s)--, (*len)++, p--, n++;
            p[0] = '0';
        }
        if (!zv_bsn_valid(p, n)) {
            snprintf(reason, reasonlen, "not a valid BSN (9 digits passing the elfproef): %s",
                     shown(def, p, n, show, sizeof(show)));
            return -1;
        }
        return 0;
    case ZV_T_DATE: {
        char out[11];
        int ok = -1;
        if (fr->nformats == 0) ok = zv_map_parse_date(p, n, NULL, out);
        for (int i = 0; i < fr->nformats && ok < 0; i++)
            ok = zv_map_parse_date(p, n, fr->formats[i], out);
        /* FHIR dates may be partial: "1934" or "1934-04". */
        if (ok < 0 && (n == 4 || (n == 7 && p[4] == '-'))) {
            int digits_only = 1;
            for (size_t i = 0; i < n; i++)
                if (i != 4 && (p[i] < '0' || p[i] > '9')) digits_only = 0;
            if (digits_only) {
                snprintf(reason, reasonlen, "partial date %s (only the %s is known; a full date "
                         "is needed)", shown(def, p, n, show, sizeof(show)),
                         n == 4 ? "year" : "year and month");
                return -1;
            }
        }
        if (ok < 0) {
            snprintf(reason, reasonlen, "not a real date in the expected format (%s): %s",
                     fr->nformats ? fr->formats[0] : "YYYY-MM-DD",
                     shown(def, p, n, show, sizeof(show)));
            return -1;
        }
        if (strcmp(out, "1900-01-01") < 0) {
            snprintf(reason, reasonlen, "date %s is before 1900", out);
            return -1;
        }
        if (fr->not_future && strcmp(out, cx->today) > 0) {
            snprintf(reason, reasonlen, "date %s lies in the future", out);
            return -1;
        }
        memcpy(p, out, 11);
        *len = 10;
        return 0;
    }
    case ZV_T_INT:
    case ZV_T_AMOUNT: {
        size_t i = (n && p[0] == '-') ? 1 : 0;
        if (i == n) goto bad_int;
        for (size_t k = i; k < n; k++)
            if (p[k] < '0' || p[k] > '9' || k - i > 15) goto bad_int;
        size_t z = i;
        while (z + 1 < n && p[z] == '0')
            z++;
        if (z > i) {
            memmove(p + i, p + z, n - z);
            *len = n - (z - i);
        }
        if (*len == 2 && p[0] == '-' && p[1] == '0') (*s)++, (*len)--;
        return 0;
    bad_int:
        snprintf(reason, reasonlen, "%s %s",
                 def->type == ZV_T_INT ? "not a whole number:"
                                       : "not an amount in euro cents (use convert \"euro\" for "
                                         "euros):",
                 shown(def, p, n, show, sizeof(show)));
        return -1;
    }
    case ZV_T_AGB:
        if (!zv_agb_valid(p, n)) {
            snprintf(reason, reasonlen, "not an AGB code (8 digits): %s",
                     shown(def, p, n, show, sizeof(show)));
            return -1;
        }
        return 0;
    case ZV_T_POSTCODE: {
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            if (is_ws(p[i])) continue;
            p[o++] = (p[i] >= 'a' && p[i] <= 'z') ? (char)(p[i] - 32) : p[i];
        }
        if (!zv_postcode_valid(p, o)) {
            snprintf(reason, reasonlen, "not a Dutch postcode (1234AB): %s",
                     shown(def, *s, n, show, sizeof(show)));
            return -1;
        }
        *len = o;
        return 0;
    }
    case ZV_T_CODE: {
        const char *const *allowed = allowed_codes(fr->field);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)p[i] <= 0x20) {
                snprintf(reason, reasonlen, "a code may not contain spaces: %s",
                         shown(def, p, n, show, sizeof(show)));
                return -1;
            }
        if (n > 64) {
            snprintf(reason, reasonlen, "code longer than 64 characters");
            return -1;
        }
        if (!allowed) return 0;
        for (int i = 0; allowed[i]; i++)
            if (strlen(allowed[i]) == n && memcmp(allowed[i], p, n) == 0) return 0;
        snprintf(reason, reasonlen, "code %s is not one of the standard's values for %s",
                 shown(def, p, n, show, sizeof(show)), def->name);
        return -1;
    }
    default:
        return 0;
    }
}

int zv_map_lookup(const zv_field_rule *fr, const char *s, size_t len, const char **out,
                  size_t *outlen)
{
    /* By length: a value may hold U+0000 and must not match a shorter code. */
    for (size_t i = 0; i < fr->nmap; i++)
        if (strlen(fr->map[i].from) == len && memcmp(fr->map[i].from, s, len) == 0) {
            *out = fr->map[i].to;
            *outlen = strlen(*out);
            return 0;
        }
    if (!fr->map_other) return -1;
    *out = fr->map_other;
    *outlen = strlen(*out);
    return 0;
}
