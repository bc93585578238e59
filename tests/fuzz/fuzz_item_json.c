/* Quarantined items are stored as JSON and read back for a retry: what
 * reads back must write to JSON that reads back to the same item. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mapping/mapping.h"

static int same(const zv_item *a, const zv_item *b)
{
    if (a->nfields != b->nfields)
        return 0;
    for (size_t i = 0; i < a->nfields; i++) {
        if (strcmp(a->fields[i].path, b->fields[i].path) != 0 ||
            a->fields[i].len != b->fields[i].len ||
            memcmp(a->fields[i].value, b->fields[i].value, a->fields[i].len) != 0)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zv_item *item = zv_item_from_json((const char *)data, size);
    if (!item)
        return 0;
    char *json = zv_item_to_json(item);
    if (json) {
        zv_item *again = zv_item_from_json(json, strlen(json));
        if (!again || !same(item, again))
            abort();
        zv_item_free_parsed(again);
        free(json);
    }
    zv_item_free_parsed(item);
    return 0;
}
