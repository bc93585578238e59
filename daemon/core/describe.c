/*
 * zinvold --describe [PLUGIN]: the option tables themselves (type, default,
 * range, description), so the documentation cannot drift from the code;
 * the plugin READMEs' tables are this output (tests/scripts/option-tables.sh).
 */
#include "describe.h"
#include "config.h"
#include "plugin_loader.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static const char *const prefixes[] = {"in_", "fmt_", "out_"};
static const zv_plugin_kind kinds[] = {ZV_PLUGIN_SOURCE, ZV_PLUGIN_FORMAT, ZV_PLUGIN_TRANSPORT};

/* markdown 1: the table alone (a README's); 2: with a heading (several plugins). */
static void describe_one(FILE *out, const zv_plugin_descriptor *d, const char *file, int markdown)
{
    zv_optspec spec;
    zv_plugin_optspec(d, &spec);
    if (markdown == 2)
        fprintf(out, "### %s `%s` (%s)\n\n", zv_plugin_kind_name(d->kind), d->name, file);
    if (!markdown)
        fprintf(out, "%s %s (%s, version %s): %s\n", zv_plugin_kind_name(d->kind), d->name, file,
                d->version ? d->version : "?", d->description ? d->description : "");
    zv_optspec_describe(out, &spec, markdown);
    if (markdown != 1) fputc('\n', out);
}

/* base: "out_http"; describes it when it is a plugin file of a known kind. */
static int try_file(FILE *out, const char *dir, const char *base, int markdown)
{
    for (size_t k = 0; k < 3; k++) {
        if (strncmp(base, prefixes[k], strlen(prefixes[k])) != 0) continue;
        char path[4096], err[1024];
        snprintf(path, sizeof(path), "%s/%s.so", dir, base);
        const zv_plugin_descriptor *d = zv_plugin_open_file(path, kinds[k], err, sizeof(err));
        if (!d) {
            fprintf(stderr, "zinvold: %s\n", err);
            return -1;
        }
        describe_one(out, d, base, markdown);
        return 1;
    }
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every plugin file in dir, in name order. */
static int all_plugins(FILE *out, const char *dir, int markdown)
{
    DIR *dp = opendir(dir);
    if (!dp) {
        fprintf(stderr, "zinvold: cannot read plugin_dir %s\n", dir);
        return -1;
    }
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dp)) && n < 256) {
        size_t len = strlen(de->d_name);
        if (len > 3 && strcmp(de->d_name + len - 3, ".so") == 0)
            names[n++] = strndup(de->d_name, len - 3);
    }
    closedir(dp);
    qsort(names, n, sizeof(names[0]), cmp);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (names[i] && try_file(out, dir, names[i], markdown ? 2 : 0) < 0) rc = -1;
        free(names[i]);
    }
    return rc;
}

static void describe_core(FILE *out, int markdown)
{
    for (size_t t = 0; t < zv_conf_ntables; t++) {
        const char *p = zv_conf_tables[t].path;
        fprintf(out, markdown ? "### `%s`\n\n" : "zinvol.conf %s\n", *p ? p : "(top level)");
        zv_optspec_describe(out, &zv_conf_tables[t].spec, markdown);
        fputc('\n', out);
    }
    fprintf(out, markdown ? "### `health`\n\n" : "zinvol.conf health\n");
    zv_optspec_describe(out, &zv_health_spec, markdown);
    fputc('\n', out);
}

int zv_describe(FILE *out, const char *plugin_dir, const char *plugin, int markdown)
{
    if (!plugin) {
        describe_core(out, markdown);
        return all_plugins(out, plugin_dir, markdown);
    }
    if (strchr(plugin, '/') || strchr(plugin, '.')) {
        fprintf(stderr, "zinvold: \"%s\": a plugin is a plain name\n", plugin);
        return -1;
    }
    int rc = try_file(out, plugin_dir, plugin, markdown);
    if (rc != 0) return rc < 0 ? -1 : 0;
    int found = 0;
    for (size_t k = 0; k < 3; k++) {
        char base[256], path[4096];
        snprintf(base, sizeof(base), "%s%s", prefixes[k], plugin);
        snprintf(path, sizeof(path), "%s/%s.so", plugin_dir, base);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        fclose(f);
        if (try_file(out, plugin_dir, base, markdown ? 2 : 0) < 0) return -1;
        found = 1;
    }
    if (!found) fprintf(stderr, "zinvold: no plugin \"%s\" in %s\n", plugin, plugin_dir);
    return found ? 0 : -1;
}
