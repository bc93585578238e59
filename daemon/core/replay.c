/*
 * zinvolctl source replay SOURCE FILE (POST /api/replay): a file processed
 * again through the current configuration.  It is read by the file-drop
 * source's own reader with the source's options (as the dry run does), and
 * every item goes through the mapping again whatever was seen before;
 * quarantine entries of its records are superseded, and what goes out is
 * decided past the mapping (the destinations' change detection).
 */
#include "lifecycle.h"
#include "filedrop.h"
#include "log.h"
#include "store/store_admin.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_file(zv_source_rt *src, const zv_host *host, const char *path, char *why,
                     size_t whylen)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *ext = strrchr(base, '.');
    if (!ext || (strcmp(ext, ".csv") && strcmp(ext, ".json") && strcmp(ext, ".jsonl"))) {
        snprintf(why, whylen, "the file-drop reader takes .csv, .json and .jsonl files only");
        return -1;
    }
    fd_src s = {.ctx = src->inst.ctx, .host = host, .inotify_fd = -1, .dirfd = -1};
    char *dcopy = strdup(path), *bcopy = strdup(path);
    int rc = -1;
    if (!dcopy || !bcopy) goto done;
    s.dir = dirname(dcopy);
    /* Another kind of source: its items are read as a file drop's would be. */
    if (strcmp(src->conf->type, "filedrop") == 0) {
        if (fd_read_options(&s, why, whylen) < 0) goto done;
    } else {
        fd_default_options(&s);
    }
    if ((s.dirfd = open(s.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(why, whylen, "cannot open %s: %s", s.dir, strerror(errno));
        goto done;
    }
    fd_reader *r = fd_reader_open(&s, basename(bcopy), "replay", 0, 0, why, whylen);
    if (!r) goto done;
    int step;
    while ((step = fd_reader_step(&s, r, why, whylen)) == 1) {
    }
    fd_reader_close(r);
    if (step == -2) snprintf(why, whylen, "out of memory");
    rc = step == 0 ? 0 : -1;
done:
    if (s.dirfd >= 0) close(s.dirfd);
    free(s.item_type);
    free(dcopy);
    free(bcopy);
    return rc;
}

int zv_lifecycle_replay(zv_runtime *rt, const char *source, const char *path, const char *who,
                        char *result, size_t len)
{
    zv_source_rt *src = NULL;
    for (size_t i = 0; source && i < rt->nsources; i++)
        if (strcmp(rt->sources[i].conf->name, source) == 0) src = &rt->sources[i];
    if (!src || !src->inst.ctx) {
        snprintf(result, len, "no source '%s' in the configuration", source ? source : "");
        return 1;
    }
    int64_t items = src->items, staged = src->staged, quar = src->quarantined,
            same = src->unchanged;
    int64_t payloads = 0, dq = 0;
    for (size_t i = 0; i < rt->ndests; i++) {
        payloads -= rt->dests[i].payloads;
        dq -= rt->dests[i].quarantined + rt->dests[i].rejected - rt->dests[i].waiting;
    }
    char why[512] = "";
    rt->replaying = 1;
    int rc = read_file(src, rt->host ? rt->host : &zv_core_host, path, why, sizeof(why));
    rt->replaying = 0;
    /* What was read is kept (or nothing, when the commit fails). */
    if (zv_pipeline_commit(src->inst.ctx) < 0) {
        snprintf(result, len, "store: %s", zv_store_errmsg(rt->store));
        return -1;
    }
    if (rc < 0) {
        snprintf(result, len, "%s: %s", path, why);
        return 2;
    }
    if (zv_pipeline_flush_all(rt) < 0) {
        snprintf(result, len, "render: %s", zv_store_errmsg(rt->store));
        return -1;
    }
    for (size_t i = 0; i < rt->ndests; i++) {
        payloads += rt->dests[i].payloads;
        dq += rt->dests[i].quarantined + rt->dests[i].rejected - rt->dests[i].waiting;
    }
    snprintf(result, len,
             "%s replayed through source %s: %lld records in, %lld new or changed, %lld "
             "unchanged, %lld quarantined at the mapping, %lld refused by a destination; %lld "
             "messages made",
             path, source, (long long)(src->items - items), (long long)(src->staged - staged),
             (long long)(src->unchanged - same), (long long)(src->quarantined - quar),
             (long long)dq, (long long)payloads);
    char note[1200];
    snprintf(note, sizeof(note), "%s by %s", result, who ? who : "?");
    if (zv_store_audit_note(rt->store, zv_now(), NULL, NULL, NULL, note) < 0)
        zv_log(ZV_LOG_ERROR, "pipeline", "audit trail: %s", zv_store_errmsg(rt->store));
    zv_log(ZV_LOG_NOTICE, "pipeline", "%s", note);
    return 0;
}
