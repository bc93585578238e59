/* JSON module: parse with and without comments; what parses must write
 * back and parse again to the same text (the writer is the reader's judge). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>

static void roundtrip(const zv_json_doc *doc)
{
    zv_jw *w = zv_jw_new(0);
    zv_jw_value(w, zv_json_root(doc));
    const char *out;
    size_t len;
    if (zv_jw_result(w, &out, &len) == 0) {
        char err[128];
        zv_json_doc *again = zv_json_parse(out, len, 0, err, sizeof err);
        if (!again)
            abort(); /* the writer produced text its own reader refuses */
        zv_jw *w2 = zv_jw_new(0);
        zv_jw_value(w2, zv_json_root(again));
        const char *out2;
        size_t len2;
        if (zv_jw_result(w2, &out2, &len2) != 0 || len2 != len || memcmp(out, out2, len) != 0)
            abort();
        zv_jw_free(w2);
        zv_json_free(again);
    }
    zv_jw_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    for (unsigned flags = 0; flags <= ZV_JSON_COMMENTS; flags += ZV_JSON_COMMENTS) {
        zv_json_doc *doc = zv_json_parse((const char *)data, size, flags, err, sizeof err);
        if (doc) {
            roundtrip(doc);
            zv_json_pointer(zv_json_root(doc), "/a/0/b");
            zv_json_free(doc);
        }
    }
    return 0;
}
