#include "abi_check.h"

#include <stdio.h>
#include <stdlib.h>

const char *zv_abi_size_problem(const char *what, size_t have, size_t need, char *why, size_t len)
{
    if (have >= need) return NULL;
    snprintf(why, len, "%s is %zu bytes, ABI 2.0 needs at least %zu (is size set?)", what, have,
             need);
    return why;
}

int zv_abi_item(const zv_item *in, zv_item *out, zv_item_field **copy, char *why, size_t len)
{
    *copy = NULL;
    if (zv_abi_size_problem("zv_item.size", in->size, ZV_ABI_MIN_SIZE(zv_item, field_size), why,
                            len))
        return -1;
    *out = *in;
    out->size = sizeof(*out);
    if (!in->nfields || in->field_size == sizeof(zv_item_field)) return 0;
    if (zv_abi_size_problem("zv_item.field_size", in->field_size,
                            ZV_ABI_MIN_SIZE(zv_item_field, len), why, len))
        return -1;
    /* Another stride (a source of a later minor with a longer field):
     * the mapping layer reads plain arrays, so it gets one. */
    zv_item_field *f = malloc(in->nfields * sizeof(*f));
    if (!f) {
        snprintf(why, len, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < in->nfields; i++)
        f[i] = *ZV_AT(zv_item_field, in->fields, in->field_size, i);
    out->fields = f;
    out->field_size = sizeof(*f);
    *copy = f;
    return 0;
}

const char *zv_abi_payload_problem(const zv_payload_spec *p, char *why, size_t len)
{
    return zv_abi_size_problem("zv_payload_spec.size", p->size,
                               ZV_ABI_MIN_SIZE(zv_payload_spec, record_keys), why, len);
}

const char *zv_abi_send_result_problem(const zv_send_result *r, char *why, size_t len)
{
    return zv_abi_size_problem("zv_send_result.size", r->size,
                               ZV_ABI_MIN_SIZE(zv_send_result, answer_type), why, len);
}

const char *zv_abi_http_request_problem(const zv_http_request *r, char *why, size_t len)
{
    const char *p = zv_abi_size_problem("zv_http_request.size", r->size,
                                        ZV_ABI_MIN_SIZE(zv_http_request, max_response), why, len);
    if (p || !r->nheaders) return p;
    return zv_abi_size_problem("zv_http_request.header_size", r->header_size,
                               ZV_ABI_MIN_SIZE(zv_http_header, value), why, len);
}
