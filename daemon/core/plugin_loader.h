/*
 * Loading plugin shared objects.  The descriptor's ABI numbers and size are
 * checked before any other member is read, so a plugin built for another
 * ABI is refused with a message instead of crashing the daemon.
 */
#ifndef ZV_PLUGIN_LOADER_H
#define ZV_PLUGIN_LOADER_H

#include <stddef.h>
#include <zinvol/optmap.h>
#include <zinvol/plugin.h>

/* File name of a plugin of this kind and type: "<dir>/fmt_iwlz.so". */
void zv_plugin_file(char *out, size_t outlen, const char *dir, zv_plugin_kind kind,
                    const char *type);
/* Load one file.  On failure NULL, and err says why, naming the file. */
const zv_plugin_descriptor *zv_plugin_open_file(const char *path, zv_plugin_kind expect, char *err,
                                                size_t errlen);
/* zv_plugin_file + zv_plugin_open_file. */
const zv_plugin_descriptor *zv_plugin_open(const char *dir, zv_plugin_kind kind, const char *type,
                                           char *err, size_t errlen);
const char *zv_plugin_kind_name(zv_plugin_kind kind);
/* Whether message m of a format is active with these format_options: the
 * descriptor's message_active when it has one, else 1. */
int zv_plugin_message_active(const zv_plugin_descriptor *d, const zv_json *options, int m);
/* A format's messages (ABI 2: count + element size, read with ZV_AT).
 * zv_plugin_message is NULL past the end; the declaration is the plugin's
 * static data, valid while it is loaded. */
size_t zv_plugin_nmessages(const zv_plugin_descriptor *d);
const zv_message_decl *zv_plugin_message(const zv_plugin_descriptor *d, size_t m);
/* Whether message m of a format with these format_options can carry model
 * field f: the descriptor's field_renderable (ABI 2.1) when it has one, else 1. */
int zv_plugin_field_renderable(const zv_plugin_descriptor *d, const zv_json *options, int m,
                               zv_field_id f);
/* The descriptor's option table (pointer, count, element size, config
 * struct size). */
void zv_plugin_optspec(const zv_plugin_descriptor *d, zv_optspec *spec);
/* The format's ZV_FORMAT_* flags; 0 for plugins of ABI 2.2 and older. */
uint32_t zv_plugin_format_flags(const zv_plugin_descriptor *d);
/* dlclose everything loaded; only at exit, when no instance is left. */
void zv_plugins_unload_all(void);

#endif
