/* The PEP's claims header (plugins/netwerkmodel_common zv_nm_claims): JSON or
 * a base64url JWT payload decoded by libcrypto.  Whatever the header, no
 * crash or leak; a decoded payload is JSON that the JSON parser takes; and a
 * header that is base64url of some bytes decodes to exactly those bytes'
 * JSON. */
#include "nmc.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *h = malloc(size + 1);
    if (!h) return 0;
    memcpy(h, data, size);
    h[size] = '\0';
    zv_json_doc *d = zv_nm_claims(h);
    zv_json_free(d);
    /* The input's bytes as base64url without padding: must decode to them. */
    unsigned char *enc = malloc(4 * ((size + 2) / 3) + 1);
    if (enc) {
        int n = EVP_EncodeBlock(enc, data, (int)size);
        while (n > 0 && enc[n - 1] == '=')
            n--;
        enc[n] = '\0';
        for (int i = 0; i < n; i++)
            enc[i] = enc[i] == '+' ? '-' : enc[i] == '/' ? '_' : enc[i];
        char err[128];
        zv_json_doc *direct = zv_json_parse(h, strlen(h), 0, err, sizeof err);
        zv_json_doc *via = n && enc[0] != '{' ? zv_nm_claims((const char *)enc) : NULL;
        /* strlen(h) == size: no NUL inside; then both parse alike */
        if (n && enc[0] != '{' && strlen(h) == size && !!direct != !!via) abort();
        zv_json_free(direct);
        zv_json_free(via);
        free(enc);
    }
    free(h);
    return 0;
}
