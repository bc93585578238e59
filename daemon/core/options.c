/*
 * Plugin options: each plugin declares its options (zv_option: name, type,
 * default, range, description, member); the core checks the user's section
 * against that table with the same engine as its own keys (zinvol/optmap.h),
 * so wrong keys, types and values are reported with the plugin's name, and
 * fills the plugin's config struct before create().
 */
#include "plugin_loader.h"
#include "runtime_int.h"

#include <stdio.h>
#include <string.h>

struct sink {
    zv_errors *errs;
    const char *file, *path;
};

static void add_error(void *arg, const char *key, const char *msg)
{
    struct sink *s = arg;
    char sub[256];
    zv_path_key(sub, sizeof(sub), s->path, key);
    zv_errors_add(s->errs, s->file, sub, "%s", msg);
}

int zv_options_resolve(zv_ctx *ctx, const zv_plugin_descriptor *d, const zv_json *given,
                       const char *path, zv_errors *errs)
{
    char owner[96];
    snprintf(owner, sizeof(owner), "plugin '%s'", d->name);
    zv_optspec spec;
    zv_plugin_optspec(d, &spec);
    spec.owner = owner;
    spec.base_dir = ctx->rt->cfg->dir;
    struct sink s = {errs, ctx->rt->cfg->file, path};
    return zv_optset_resolve(&ctx->opts, &spec, given, add_error, &s);
}

void zv_options_free(zv_ctx *ctx)
{
    zv_optset_free(&ctx->opts);
}
