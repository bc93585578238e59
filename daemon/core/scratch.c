/*
 * zinvold --check-config changes nothing on disk: a plugin that asks for
 * its state folder (a format's state database) gets one in a scratch folder
 * of this process, removed with the runtime, instead of the state directory.
 */
#include "runtime_int.h"
#include "log.h"

#define _XOPEN_SOURCE_EXTENDED 1
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *zv_scratch_state_dir(zv_ctx *ctx)
{
    zv_runtime *rt = ctx->rt;
    if (!rt->scratch_dir) {
        const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        char tmpl[256];
        snprintf(tmpl, sizeof(tmpl), "%s/zinvol-check-XXXXXX", tmp);
        if (!mkdtemp(tmpl)) {
            zv_log(ZV_LOG_ERROR, ctx->component, "no scratch folder for the check: %s",
                   strerror(errno));
            return NULL;
        }
        rt->scratch_dir = strdup(tmpl);
        if (!rt->scratch_dir) return NULL;
    }
    /* component is "kind/name": one folder per instance. */
    size_t len = strlen(rt->scratch_dir) + strlen(ctx->component) + 2;
    char *p = malloc(len);
    if (!p) return NULL;
    snprintf(p, len, "%s/%s", rt->scratch_dir, ctx->component);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    mkdir(p, 0700);
    *slash = '/';
    if (mkdir(p, 0700) < 0 && errno != EEXIST) {
        free(p);
        return NULL;
    }
    ctx->state_dir = p;
    return p;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 ? 0 : 0;
}

void zv_scratch_free(zv_runtime *rt)
{
    if (!rt->scratch_dir) return;
    nftw(rt->scratch_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(rt->scratch_dir);
    rt->scratch_dir = NULL;
}
