/* HMAC-SHA512 signatures of webhook bodies. */
#include "webhook.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <stdlib.h>
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

/* HMAC() looks the algorithm up and hashes the key's pads on every call;
 * a keyed context made once and copied per request does neither. */
struct wh_mac {
    EVP_MAC_CTX *keyed;
};

wh_mac *wh_mac_new(const char *secret)
{
    wh_mac *m = calloc(1, sizeof(*m));
    EVP_MAC *mac = m ? EVP_MAC_fetch(NULL, "HMAC", NULL) : NULL;
    if (mac) m->keyed = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac); /* the context keeps its own reference */
    OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA512", 0),
                      OSSL_PARAM_construct_end()};
    if (!m || !m->keyed ||
        !EVP_MAC_init(m->keyed, (const unsigned char *)secret, strlen(secret), p)) {
        wh_mac_free(m);
        return NULL;
    }
    return m;
}

int wh_mac_ok(const wh_mac *m, const void *body, size_t len, const char *header)
{
    unsigned char want[64], got[64];
    size_t wlen = 0;
    if (!header || decode(header, got) < 0) return 0;
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(m->keyed);
    int ok = c && EVP_MAC_update(c, body, len) && EVP_MAC_final(c, want, &wlen, sizeof(want)) &&
             wlen == 64;
    EVP_MAC_CTX_free(c);
    return ok && CRYPTO_memcmp(want, got, 64) == 0;
}

void wh_mac_free(wh_mac *m)
{
    if (!m) return;
    EVP_MAC_CTX_free(m->keyed);
    free(m);
}
