/* Record codec: the store keeps records in this binary form, so a damaged
 * row must be refused, never read past its end.  What decodes must encode
 * to bytes that decode to the same encoding again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/model.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zv_record *r = zv_record_decode(data, size);
    if (!r)
        return 0;
    unsigned char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    if (zv_record_encode(r, &a, &alen) != 0)
        abort();
    zv_record *r2 = zv_record_decode(a, alen);
    if (!r2 || zv_record_encode(r2, &b, &blen) != 0 || alen != blen || memcmp(a, b, alen) != 0)
        abort();
    free(a);
    free(b);
    zv_record_free(r2);
    zv_record_free(r);
    return 0;
}
