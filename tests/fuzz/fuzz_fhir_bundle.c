/* FHIR source: a searchset Bundle (or one resource) from a server is
 * flattened per entry the way the source does it; every field it yields
 * must lie in its buffer with the stated length.  The Bundle's next link
 * goes through the origin check against a fixed base. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fhir.h"

static void flatten(fh_flat *f, const zv_json *res)
{
    fh_flat_reset(f);
    const char *type = zv_json_str(zv_json_get(res, "resourceType"), NULL);
    if (fh_flatten(f, res, type ? type : "Resource") < 0 || fh_flat_finish(f) < 0) {
        fh_flat_error(f, type ? type : "Resource", zv_json_str(zv_json_get(res, "id"), NULL));
        return;
    }
    volatile size_t sum = 0;
    for (size_t i = 0; i < f->n; i++) {
        sum += strlen(f->fields[i].path);
        for (size_t j = 0; j < f->fields[i].len; j++)
            sum += (unsigned char)f->fields[i].value[j];
    }
    (void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    zv_json_doc *doc = zv_json_parse((const char *)data, size, 0, err, sizeof err);
    if (!doc)
        return 0;
    const zv_json *root = zv_json_root(doc);
    fh_flat f;
    fh_flat_init(&f);
    const zv_json *entries = zv_json_get(root, "entry");
    if (entries) {
        for (size_t i = 0; i < zv_json_len(entries); i++) {
            const zv_json *res = zv_json_get(zv_json_at(entries, i), "resource");
            if (res)
                flatten(&f, res);
        }
    } else {
        flatten(&f, root);
    }
    const zv_json *links = zv_json_get(root, "link");
    for (size_t i = 0; i < zv_json_len(links); i++) {
        const char *url = zv_json_str(zv_json_get(zv_json_at(links, i), "url"), NULL);
        char out[2048];
        if (url) {
            fh_next_url("https://fhir.example:8443/r4", url, out, sizeof out);
            fh_same_origin("http://127.0.0.1/fhir", url);
            fh_origin_len(url);
        }
    }
    fh_flat_free(&f);
    zv_json_free(doc);
    return 0;
}
