#include "plugin_loader.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The descriptor as ABI 2.0 defined it: the least a 2.x plugin provides.
 * Members appended in later minors are read only when size covers them. */
#define DESCRIPTOR_SIZE_2_0 (offsetof(zv_plugin_descriptor, message_active) + sizeof(void *))

struct loaded {
    char *path;
    void *handle;
    const zv_plugin_descriptor *desc;
};

static struct loaded *loaded;
static size_t nloaded, caploaded;

const char *zv_plugin_kind_name(zv_plugin_kind kind)
{
    switch (kind) {
    case ZV_PLUGIN_SOURCE:
        return "source";
    case ZV_PLUGIN_FORMAT:
        return "format";
    case ZV_PLUGIN_TRANSPORT:
        return "transport";
    }
    return "unknown";
}

static const char *kind_prefix(zv_plugin_kind kind)
{
    switch (kind) {
    case ZV_PLUGIN_SOURCE:
        return "in_";
    case ZV_PLUGIN_FORMAT:
        return "fmt_";
    case ZV_PLUGIN_TRANSPORT:
        return "out_";
    }
    return "";
}

void zv_plugin_file(char *out, size_t outlen, const char *dir, zv_plugin_kind kind,
                    const char *type)
{
    snprintf(out, outlen, "%s/%s%s.so", dir, kind_prefix(kind), type);
}

static int remember(const char *path, void *handle, const zv_plugin_descriptor *d)
{
    if (nloaded == caploaded) {
        size_t cap = caploaded ? caploaded * 2 : 8;
        struct loaded *l = realloc(loaded, cap * sizeof(*l));
        if (!l) return -1;
        loaded = l;
        caploaded = cap;
    }
    loaded[nloaded].path = strdup(path);
    loaded[nloaded].handle = handle;
    loaded[nloaded].desc = d;
    nloaded++;
    return 0;
}

int zv_plugin_message_active(const zv_plugin_descriptor *d, const zv_json *options, int m)
{
    if (!d->message_active) return 1;
    return d->message_active(options, m) != 0;
}

void zv_plugin_optspec(const zv_plugin_descriptor *d, zv_optspec *spec)
{
    zv_descriptor_optspec(d, spec);
}

static const char *check_options(const zv_plugin_descriptor *d, char *why, size_t len)
{
    zv_optspec spec;
    zv_plugin_optspec(d, &spec);
    if (spec.count && spec.stride < ZV_OPTION_SIZE_2_0) {
        snprintf(why, len, "option_size %zu is smaller than a zv_option of ABI 2.0", spec.stride);
        return why;
    }
    char err[400];
    if (zv_optspec_check(&spec, err, sizeof(err)) == 0) return NULL;
    snprintf(why, len, "its option table is broken: %s", err);
    return why;
}

/* The least each ops table and array element of ABI 2.0 provides. */
#define MIN_SIZE(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))
#define SOURCE_OPS_2_0 MIN_SIZE(zv_source_ops, stop)
#define FORMAT_OPS_2_0 MIN_SIZE(zv_format_ops, interpret)
#define TRANSPORT_OPS_2_0 MIN_SIZE(zv_transport_ops, send)
#define MESSAGE_DECL_2_0 MIN_SIZE(zv_message_decl, description)

size_t zv_plugin_nmessages(const zv_plugin_descriptor *d)
{
    return d && d->format ? d->format->nmessages : 0;
}

const zv_message_decl *zv_plugin_message(const zv_plugin_descriptor *d, size_t m)
{
    if (m >= zv_plugin_nmessages(d)) return NULL;
    return ZV_AT(zv_message_decl, d->format->messages, d->format->message_size, m);
}

static const char *check_format(const zv_format_ops *f, char *why, size_t len)
{
    if (f->size < FORMAT_OPS_2_0) {
        snprintf(why, len, "format ops are %zu bytes, ABI 2.0 needs at least %zu: broken plugin",
                 f->size, (size_t)FORMAT_OPS_2_0);
        return why;
    }
    if (!f->messages || !f->classify || !f->render)
        return "format plugin lacks messages, classify() or render()";
    if (!f->nmessages) return "format plugin declares no message";
    if (f->message_size < MESSAGE_DECL_2_0) {
        snprintf(why, len, "format declares messages of %zu bytes, ABI 2.0 needs at least %zu",
                 f->message_size, (size_t)MESSAGE_DECL_2_0);
        return why;
    }
    for (size_t m = 0; m < f->nmessages; m++)
        if (!ZV_AT(zv_message_decl, f->messages, f->message_size, m)->name) {
            snprintf(why, len, "format's message %zu has no name", m);
            return why;
        }
    return NULL;
}

int zv_plugin_field_renderable(const zv_plugin_descriptor *d, const zv_json *options, int m,
                               zv_field_id f)
{
    if (d->abi_minor < 1 || d->size < offsetof(zv_plugin_descriptor, field_renderable) + sizeof(void *) ||
        !d->field_renderable)
        return 1;
    return d->field_renderable(options, m, f) != 0;
}

uint32_t zv_plugin_format_flags(const zv_plugin_descriptor *d)
{
    if (d->abi_minor < 3 ||
        d->size < offsetof(zv_plugin_descriptor, format_flags) + sizeof(d->format_flags))
        return 0;
    return d->format_flags;
}

static const char *check_ops(const zv_plugin_descriptor *d, char *why, size_t len)
{
    if (!d->name || !*d->name) return "descriptor has no name";
    if (!d->create || !d->destroy) return "descriptor lacks create() or destroy()";
    switch (d->kind) {
    case ZV_PLUGIN_SOURCE:
        if (!d->source) return "source plugin lacks source ops";
        if (d->source->size < SOURCE_OPS_2_0)
            return "source ops too small for ABI 2.0: broken plugin";
        if (!d->source->start || !d->source->drain || !d->source->stop)
            return "source plugin lacks start(), drain() or stop()";
        break;
    case ZV_PLUGIN_FORMAT:
        if (!d->format) return "format plugin lacks format ops";
        return check_format(d->format, why, len);
    case ZV_PLUGIN_TRANSPORT:
        if (!d->transport) return "transport plugin lacks transport ops";
        if (d->transport->size < TRANSPORT_OPS_2_0)
            return "transport ops too small for ABI 2.0: broken plugin";
        if (!d->transport->send) return "transport plugin lacks send()";
        break;
    default:
        return "descriptor has an unknown plugin kind";
    }
    return NULL;
}

/* Only the three frozen members (abi_major, abi_minor, size) are read
 * before the major is known to match: the rest of a 1.x descriptor has
 * another layout. */
static const char *check_abi(const zv_plugin_descriptor *d, char *why, size_t len)
{
    if (d->abi_major == 1) {
        snprintf(why, len,
                 "plugin built for zinvol plugin ABI 1 (%u.%u), which this zinvold no longer "
                 "loads: it provides ABI %d.%d, where structs carry their size and arrays "
                 "their element size; rebuild the plugin against this version's headers "
                 "(see plugin.h and README \"Plugins\")",
                 d->abi_major, d->abi_minor, ZV_ABI_MAJOR, ZV_ABI_MINOR);
        return why;
    }
    if (d->abi_major != ZV_ABI_MAJOR || d->abi_minor > ZV_ABI_MINOR) {
        snprintf(why, len,
                 "plugin ABI %u.%u is not supported: this zinvold provides ABI %d.%d "
                 "(plugins need major %d, minor 0..%d); rebuild the plugin against this "
                 "version's headers",
                 d->abi_major, d->abi_minor, ZV_ABI_MAJOR, ZV_ABI_MINOR, ZV_ABI_MAJOR,
                 ZV_ABI_MINOR);
        return why;
    }
    if (d->size < DESCRIPTOR_SIZE_2_0) {
        snprintf(why, len, "descriptor is %u bytes, ABI %u.%u needs at least %zu: broken plugin",
                 d->size, d->abi_major, d->abi_minor, (size_t)DESCRIPTOR_SIZE_2_0);
        return why;
    }
    return NULL;
}

const zv_plugin_descriptor *zv_plugin_open_file(const char *path, zv_plugin_kind expect, char *err,
                                                size_t errlen)
{
    for (size_t i = 0; i < nloaded; i++)
        if (strcmp(loaded[i].path, path) == 0) {
            if (loaded[i].desc->kind == expect) return loaded[i].desc;
            snprintf(err, errlen, "%s: is a %s plugin, expected a %s plugin", path,
                     zv_plugin_kind_name(loaded[i].desc->kind), zv_plugin_kind_name(expect));
            return NULL;
        }
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: plugin not found (is plugin_dir right?)", path);
        return NULL;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(err, errlen, "%s: cannot load as a shared object: %s", path, e ? e : "?");
        return NULL;
    }
    const zv_plugin_descriptor *d = dlsym(h, ZV_PLUGIN_SYMBOL);
    char why[512];
    const char *problem = NULL;
    if (!d)
        problem = "exports no '" ZV_PLUGIN_SYMBOL "' descriptor: not a zinvol plugin";
    else if (!(problem = check_abi(d, why, sizeof(why))))
        problem = check_ops(d, why, sizeof(why));
    if (!problem) problem = check_options(d, why, sizeof(why));
    if (!problem && d->kind != expect) {
        snprintf(why, sizeof(why), "is a %s plugin, expected a %s plugin",
                 zv_plugin_kind_name(d->kind), zv_plugin_kind_name(expect));
        problem = why;
    }
    if (problem) {
        snprintf(err, errlen, "%s: %s", path, problem);
        dlclose(h);
        return NULL;
    }
    if (remember(path, h, d) < 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        dlclose(h);
        return NULL;
    }
    return d;
}

const zv_plugin_descriptor *zv_plugin_open(const char *dir, zv_plugin_kind kind, const char *type,
                                           char *err, size_t errlen)
{
    char path[4096];
    for (const char *c = type; *c; c++)
        if (*c == '/' || *c == '.') {
            snprintf(err, errlen, "\"%s\": a plugin type is a plain name, not a path", type);
            return NULL;
        }
    zv_plugin_file(path, sizeof(path), dir, kind, type);
    return zv_plugin_open_file(path, kind, err, errlen);
}

void zv_plugins_unload_all(void)
{
    for (size_t i = 0; i < nloaded; i++) {
        /* Under ASan keep plugins mapped so leak reports can still name
         * their frames; dlclose is only about tidiness at exit. */
#if !defined(__SANITIZE_ADDRESS__)
        dlclose(loaded[i].handle);
#endif
        free(loaded[i].path);
    }
    free(loaded);
    loaded = NULL;
    nloaded = caploaded = 0;
}
