/* Which fields a destination's format can carry: see format_fields.h. */
#include "format_fields.h"

#include <string.h>

#include "errors.h"
#include "plugin_loader.h"

int zv_dest_renders(const zv_dest_rt *d, int m, zv_field_id f)
{
    return zv_plugin_field_renderable(d->fmt.desc, d->conf->format_options, m, f);
}

/* The index in the destination's catalogue.fields of the override entry
 * for field name (for message msg or all messages), or -1. */
static long override_index(const zv_json *catalogue, const char *name, const char *msg)
{
    const zv_json *fields = zv_json_get(catalogue, "fields");
    for (size_t i = 0; i < zv_json_len(fields); i++) {
        const zv_json *j = zv_json_at(fields, i);
        const char *f = zv_json_str(zv_json_get(j, "field"), NULL);
        const char *m = zv_json_str(zv_json_get(j, "message"), NULL);
        if (f && strcmp(f, name) == 0 && (!m || strcmp(m, msg) == 0)) return (long)i;
    }
    return -1;
}

void zv_dest_check_fields(const zv_runtime *rt, const zv_dest_rt *d, int m, zv_errors *errs)
{
    const zv_catalogue *cat = d->cats[m];
    const char *msg = zv_plugin_message(d->fmt.desc, (size_t)m)->name; /* by stride */
    for (size_t i = 0; cat && i < zv_catalogue_count(cat); i++) {
        const zv_cat_entry *e = zv_catalogue_entry(cat, i);
        if (zv_dest_renders(d, m, (zv_field_id)e->field)) continue;
        const char *name = zv_field_def_of((zv_field_id)e->field)->name;
        char path[256], base[128];
        long k = e->overridden ? override_index(d->conf->catalogue, name, msg) : -1;
        if (k >= 0) {
            zv_path_key(base, sizeof(base), d->conf->path, "catalogue.fields");
            zv_path_index(path, sizeof(path), base, (size_t)k);
            zv_path_key(base, sizeof(base), path, "field");
            zv_errors_add(errs, rt->cfg->file, base,
                          "format '%s' cannot carry %s in %s: no element of the message holds "
                          "it, so it would be reported as sent and never be in the payload",
                          d->conf->format, name, msg);
        } else {
            zv_path_index(path, sizeof(path), "fields", i);
            zv_path_key(base, sizeof(base), path, "field");
            zv_errors_add(errs, zv_catalogue_file(cat), base,
                          "format '%s' (destination '%s') cannot carry %s in %s",
                          d->conf->format, d->conf->name, name, msg);
        }
    }
}
