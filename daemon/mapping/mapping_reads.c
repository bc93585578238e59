/* What a mapping reads from an item: the quarantine keeps only that. */
#include "mapping_int.h"

#include <stdlib.h>
#include <string.h>

static void mark_refs(const zv_mapping *m, const zv_src_ref *refs, int n, const zv_sel_item *ix,
                      unsigned char *mark)
{
    zv_buf scratch;
    zv_buf_init(&scratch);
    for (int i = 0; i < n; i++) {
        if (refs[i].sel < 0) continue; /* literal paths are marked through the hash */
        zv_buf_reset(&scratch);
        zv_sel_eval(&m->sels[refs[i].sel], ix, "", &scratch, mark);
    }
    zv_buf_free(&scratch);
}

char *zv_mapping_item_json(const zv_mapping *m, const zv_item *item)
{
    for (size_t i = 0; i < item->nfields; i++)
        if (item->fields[i].path && strcmp(item->fields[i].path, ZV_ITEM_ERROR) == 0)
            return zv_item_to_json(item);
    unsigned char *mark = calloc(item->nfields + 1, 1);
    zv_item_field *kept = calloc(item->nfields + 1, sizeof(*kept));
    zv_sel_item ix = {0};
    char *out = NULL;
    if (!mark || !kept || (m->nsels && zv_sel_item_init(&ix, item) < 0)) goto done;
    for (size_t i = 0; i < item->nfields; i++) {
        const char *p = item->fields[i].path;
        if (p && zv_map_path_find(m, p, strlen(p)) >= 0) mark[i] = 1;
    }
    for (size_t r = 0; m->nsels && r < m->nrules; r++)
        for (size_t f = 0; f < m->rules[r].nfields; f++) {
            const zv_field_rule *fr = &m->rules[r].fields[f];
            mark_refs(m, fr->alts, fr->nalts, &ix, mark);
            mark_refs(m, fr->country, fr->ncountry, &ix, mark);
        }
    size_t n = 0;
    for (size_t i = 0; i < item->nfields; i++)
        if (mark[i]) kept[n++] = item->fields[i];
    zv_item pruned = {ZV_SIZED(zv_item),    item->type, item->record_id, kept, n,
                      sizeof(zv_item_field)};
    out = zv_item_to_json(&pruned);
done:
    zv_sel_item_free(&ix);
    free(mark);
    free(kept);
    return out;
}
