/*
 * Plugin options: each plugin declares its options (name, type, default,
 * description); the core checks the user's section against that table so
 * that wrong keys and types are reported with the plugin's name.
 */
#include "runtime_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *opt_type_name(zv_opt_type t)
{
    switch (t) {
    case ZV_OPT_STRING:
        return "string";
    case ZV_OPT_INT:
        return "integer";
    case ZV_OPT_BOOL:
        return "boolean";
    case ZV_OPT_NUMBER:
        return "number";
    case ZV_OPT_OBJECT:
        return "object";
    case ZV_OPT_ARRAY:
        return "array";
    }
    return "?";
}

static void known_list(const zv_option *decl, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (const zv_option *d = decl; d && d->name && o + 2 < len; d++)
        o += (size_t)snprintf(out + o, len - o, "%s%s", o ? ", " : "", d->name);
}

/* Fill v from JSON value j (given) or text def (default).  -1 on type error. */
static int set_value(zv_ctx *ctx, zv_optval *v, const zv_json *j, const char *def)
{
    const zv_option *o = v->opt;
    char *end;
    switch (o->type) {
    case ZV_OPT_STRING: {
        const char *s = j ? zv_json_str(j, NULL) : def;
        if (!s) return -1;
        v->str = (o->flags & ZV_OPT_PATH) ? zv_config_path(ctx->rt->cfg, s) : strdup(s);
        break;
    }
    case ZV_OPT_INT:
        if (j) {
            if (zv_json_int(j, &v->i) < 0) return -1;
        } else {
            v->i = strtoll(def, &end, 10);
            if (*end) return -1;
        }
        break;
    case ZV_OPT_BOOL:
        if (j) {
            int b;
            if (zv_json_bool(j, &b) < 0) return -1;
            v->i = b;
        } else {
            v->i = strcmp(def, "true") == 0;
        }
        break;
    case ZV_OPT_NUMBER:
        if (j) {
            if (zv_json_number(j, &v->d) < 0) return -1;
        } else {
            v->d = strtod(def, &end);
        }
        break;
    case ZV_OPT_OBJECT:
    case ZV_OPT_ARRAY:
        if (!j) return 0; /* defaults for structured options live in the plugin */
        if (zv_json_type_of(j) != (o->type == ZV_OPT_OBJECT ? ZV_JSON_OBJECT : ZV_JSON_ARRAY))
            return -1;
        v->json = j;
        break;
    }
    v->set = 1;
    return 0;
}

int zv_options_resolve(zv_ctx *ctx, const zv_option *decl, const zv_json *given,
                       const char *pluginname, const char *path, zv_errors *errs)
{
    const char *file = ctx->rt->cfg->file;
    size_t n = 0, before = errs->n;
    while (decl && decl[n].name)
        n++;
    ctx->opts = calloc(n ? n : 1, sizeof(*ctx->opts));
    if (!ctx->opts) return -1;
    ctx->nopts = n;
    char sub[256], known[512];
    for (size_t i = 0; i < zv_json_len(given); i++) {
        const char *key = zv_json_key_at(given, i);
        size_t k = 0;
        while (k < n && strcmp(decl[k].name, key) != 0)
            k++;
        if (k == n) {
            zv_path_key(sub, sizeof(sub), path, key);
            known_list(decl, known, sizeof(known));
            zv_errors_add(errs, file, sub, "unknown option for plugin '%s' (known: %s)", pluginname,
                          n ? known : "none");
        }
    }
    for (size_t k = 0; k < n; k++) {
        zv_optval *v = &ctx->opts[k];
        v->opt = &decl[k];
        const zv_json *j = zv_json_get(given, decl[k].name);
        zv_path_key(sub, sizeof(sub), path, decl[k].name);
        if (!j && !decl[k].def) {
            if (decl[k].flags & ZV_OPT_REQUIRED)
                zv_errors_add(errs, file, sub, "missing: plugin '%s' requires it (%s)", pluginname,
                              decl[k].description ? decl[k].description : "");
            continue;
        }
        if (set_value(ctx, v, j, decl[k].def) < 0) {
            if (j)
                zv_errors_add(errs, file, sub, "plugin '%s' expects %s, got %s", pluginname,
                              opt_type_name(decl[k].type), zv_json_type_name(zv_json_type_of(j)));
            else
                zv_errors_add(errs, file, sub, "plugin '%s' has a bad default \"%s\"", pluginname,
                              decl[k].def);
        }
    }
    return errs->n == before ? 0 : -1;
}

void zv_options_free(zv_ctx *ctx)
{
    for (size_t k = 0; k < ctx->nopts; k++)
        free(ctx->opts[k].str);
    free(ctx->opts);
    ctx->opts = NULL;
    ctx->nopts = 0;
}
