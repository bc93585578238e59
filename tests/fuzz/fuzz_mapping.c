/* Mapping config and application: the input is a mapping spec, a NUL byte,
 * and a raw item as the quarantine keeps it ({"type","record_id","fields"}).
 * Compiling must refuse bad specs with messages; applying must either give a
 * record or a reason, and never read outside the item's values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mapping/mapping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t speclen = nul ? (size_t)(nul - data) : size;
    char err[256];
    zv_json_doc *doc = zv_json_parse((const char *)data, speclen, ZV_JSON_COMMENTS, err, sizeof err);
    if (!doc)
        return 0;
    zv_errors errs;
    zv_errors_init(&errs);
    zv_mapping *m = zv_mapping_compile(zv_json_root(doc), "fuzz", "fuzz.conf", "sources[0].mapping",
                                       &errs);
    if (m && nul) {
        zv_item *item = zv_item_from_json((const char *)nul + 1, size - speclen - 1);
        if (item) {
            char field[128], reason[512], id[512];
            zv_record *r = zv_mapping_apply(m, item, 1700000000, field, sizeof field, reason,
                                            sizeof reason);
            zv_record_free(r);
            zv_mapping_record_id(m, item, id, sizeof id);
            char *json = zv_item_to_json(item);
            free(json);
            zv_item_free_parsed(item);
        }
    }
    zv_mapping_free(m);
    zv_errors_free(&errs);
    zv_json_free(doc);
    return 0;
}
