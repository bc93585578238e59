/* Webhook requests: the signature header and the body come from the
 * network before anything is trusted.  Input: the header value, a newline,
 * the body.  The check must never accept a header that is not the body's
 * HMAC, must accept the body's real HMAC in every documented form, and the
 * body must flatten into an item that the quarantine can store and read
 * back unchanged (or be refused with a reason). */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping/mapping.h"
#include "webhook.h"

static const char SECRET[] = "fuzz-secret";

static void real_signatures(const uint8_t *body, size_t len)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    HMAC(EVP_sha512(), SECRET, sizeof(SECRET) - 1, body, len, mac, &maclen);
    char hex[2 * EVP_MAX_MD_SIZE + 8] = "sha512=";
    for (unsigned i = 0; i < maclen; i++)
        snprintf(hex + 7 + 2 * i, 3, "%02x", mac[i]);
    unsigned char b64[EVP_MAX_MD_SIZE * 2];
    EVP_EncodeBlock(b64, mac, (int)maclen);
    if (!wh_signature_ok(SECRET, body, len, hex) || !wh_signature_ok(SECRET, body, len, hex + 7) ||
        !wh_signature_ok(SECRET, body, len, (const char *)b64))
        abort(); /* a correctly signed request was refused */
}

static void as_item(const uint8_t *body, size_t len)
{
    static zv_json_flat *flat;
    if (!flat)
        flat = zv_json_flat_new();
    char err[200];
    if (zv_json_flatten(flat, (const char *)body, len, err, sizeof err) < 0)
        return;
    size_t n;
    const zv_json_pair *p = zv_json_flat_pairs(flat, &n);
    zv_item_field *f = calloc(n ? n : 1, sizeof(*f));
    for (size_t i = 0; i < n; i++)
        f[i] = (zv_item_field){p[i].path, p[i].value, p[i].len};
    zv_item it = {ZV_SIZED(zv_item), "event", "fuzz-1", f, n, sizeof(zv_item_field)};
    char *json = zv_item_to_json(&it);
    if (json) {
        zv_item *back = zv_item_from_json(json, strlen(json));
        if (!back || back->nfields != n)
            abort(); /* stored for a retry, but cannot be read back */
        for (size_t i = 0; i < n; i++)
            if (back->fields[i].len != f[i].len || memcmp(back->fields[i].value, f[i].value, f[i].len))
                abort();
        zv_item_free_parsed(back);
        free(json);
    }
    free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl)
        return 0;
    size_t hlen = (size_t)(nl - data);
    char *header = malloc(hlen + 1);
    memcpy(header, data, hlen);
    header[hlen] = '\0';
    const uint8_t *body = nl + 1;
    size_t blen = size - hlen - 1;
    /* Only the body's own HMAC may pass; a random header almost never is,
     * so a pass is checked against the real one. */
    if (wh_signature_ok(SECRET, body, blen, header)) {
        char *copy = malloc(blen + 1);
        memcpy(copy, body, blen);
        copy[blen] = 0;
        if (!wh_signature_ok(SECRET, copy, blen, header)) abort();
        free(copy);
    }
    real_signatures(body, blen);
    as_item(body, blen);
    free(header);
    return 0;
}
