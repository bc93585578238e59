/* Streaming JSON flattener (JSON-lines exports, webhook bodies): every pair
 * it returns must lie inside its own buffers, with the length it states. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static zv_json_flat *f;
    if (!f)
        f = zv_json_flat_new();
    char err[256];
    if (zv_json_flatten(f, (const char *)data, size, err, sizeof err) != 0)
        return 0;
    size_t n;
    const zv_json_pair *p = zv_json_flat_pairs(f, &n);
    volatile size_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += strlen(p[i].path);
        for (size_t j = 0; j < p[i].len; j++)
            sum += (unsigned char)p[i].value[j];
    }
    (void)sum;
    return 0;
}
