/* GraphQL documents (plugins/fmt_leveringsregister/gql.c): what parses must normalise to
 * text that parses again to the same normal form (the printer is judged by
 * the parser), and the lookups must hold on whatever parsed. */
#include "gql.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    gql_doc *d = gql_parse((const char *)data, size, err, sizeof err);
    if (!d) {
        if (!err[0]) abort(); /* every refusal says why */
        return 0;
    }
    char *n1 = gql_normalise(d);
    if (!n1) abort();
    gql_doc *again = gql_parse(n1, strlen(n1), err, sizeof err);
    if (!again) abort(); /* the printer wrote what the parser refuses */
    char *n2 = gql_normalise(again);
    if (!n2 || strcmp(n1, n2) != 0) abort();
    gql_doc_op(d, NULL);
    for (size_t i = 0; i < d->nops; i++)
        if (d->ops[i].name && gql_doc_op(d, d->ops[i].name) == NULL) abort();
    free(n1);
    free(n2);
    gql_doc_free(again);
    gql_doc_free(d);
    return 0;
}
