/* HMAC-SHA512 signatures of webhook bodies. */
#include "webhook.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Header value -> 64 raw bytes: "sha512=<hex>", "<hex>" or base64. */
static int decode(const char *v, unsigned char out[64])
{
    while (*v == ' ')
        v++;
    if (strncasecmp(v, "sha512=", 7) == 0) v += 7;
    size_t n = strlen(v);
    while (n && v[n - 1] == ' ')
        n--;
    if (n == 128) {
        for (size_t i = 0; i < 64; i++) {
            int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
            if (hi < 0 || lo < 0) return -1;
            out[i] = (unsigned char)(hi << 4 | lo);
        }
        return 0;
    }
    if (n == 88) {
        unsigned char tmp[67];
        int len = EVP_DecodeBlock(tmp, (const unsigned char *)v, (int)n);
        /* 88 base64 characters with "==" padding decode to 66 bytes, 64 real */
        if (len != 66 || v[86] != '=' || v[87] != '=') return -1;
        memcpy(out, tmp, 64);
        return 0;
    }
    return -1;
}

int wh_signature_ok(const char *secret, const void *body, size_t len, const char *header)
{
    unsigned char want[64], got[64];
    unsigned int wlen = 0;
    if (!header || decode(header, got) < 0) return 0;
    if (!HMAC(EVP_sha512(), secret, (int)strlen(secret), body, len, want, &wlen) || wlen != 64)
        return 0;
    return CRYPTO_memcmp(want, got, 64) == 0;
}
