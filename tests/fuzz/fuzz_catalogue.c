/* Catalogue loader: catalogues are data users write (contract clauses,
 * overrides); every mistake is a validation message, never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include "catalogue/catalogue.h"
#include "core/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    zv_json_doc *doc = zv_json_parse((const char *)data, size, ZV_JSON_COMMENTS, err, sizeof err);
    if (!doc)
        return 0;
    zv_errors errs;
    zv_errors_init(&errs);
    zv_catalogue *cat = zv_catalogue_from_json(zv_json_root(doc), "fuzz.json", &errs);
    if (cat) {
        /* the same document as an override of itself exercises the merge */
        zv_catalogue_override(cat, zv_json_root(doc), "fuzz.conf", "catalogue", &errs);
        zv_catalogue_free(cat);
    }
    zv_errors_free(&errs);
    zv_json_free(doc);
    return 0;
}
