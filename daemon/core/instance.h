/* A loaded plugin instance: descriptor, plugin state and the core's context. */
#ifndef ZV_INSTANCE_H
#define ZV_INSTANCE_H

#include <zinvol/plugin.h>

typedef struct zv_instance {
    const zv_plugin_descriptor *desc;
    void *state;
    zv_ctx *ctx;
} zv_instance;

#endif
