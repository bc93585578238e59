/*
 * The dry run reads its input with the file-drop source's own reader
 * (plugins/in_filedrop/filedrop_read.c, compiled into zinvold), so a sample
 * export gives exactly the items the running source would emit.
 */
#include "dryrun_int.h"
#include "filedrop.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The file-drop source's options as its create() reads them; other source
 * types get the file-drop defaults. */
static int source_options(dry_run *dr, fd_src *s, char *why, size_t whylen)
{
    zv_ctx *ctx = dr->src->inst.ctx;
    int filedrop = strcmp(dr->src->conf->type, "filedrop") == 0;
    const char *d = filedrop ? dr->host.cfg_str(ctx, "delimiter") : ",";
    const char *enc = filedrop ? dr->host.cfg_str(ctx, "encoding") : "utf-8";
    s->batch = filedrop ? dr->host.cfg_int(ctx, "batch_rows") : 500;
    s->max_json = filedrop ? dr->host.cfg_int(ctx, "max_json_size") : 268435456;
    s->item_type = filedrop ? zv_strdup0(dr->host.cfg_str(ctx, "item_type")) : NULL;
    if (d && strcmp(d, "tab") == 0) d = "\t";
    if (!d || strlen(d) != 1) {
        snprintf(why, whylen, "delimiter: one character or \"tab\"");
        return -1;
    }
    s->delim = d[0];
    s->cp1252 = enc && (strcasecmp(enc, "windows-1252") == 0 || strcasecmp(enc, "cp1252") == 0);
    if (s->batch < 1) s->batch = 500;
    return 0;
}

int zv_dry_read_input(dry_run *dr, const char *input, char *why, size_t whylen)
{
    const char *ext = strrchr(input, '/') ? strrchr(strrchr(input, '/'), '.') : strrchr(input, '.');
    if (!ext || (strcmp(ext, ".csv") && strcmp(ext, ".json") && strcmp(ext, ".jsonl"))) {
        snprintf(why, whylen, "the file-drop source reads .csv, .json and .jsonl files only");
        return -1;
    }
    fd_src s = {.ctx = dr->src->inst.ctx, .host = &dr->host, .inotify_fd = -1};
    char *dcopy = strdup(input), *bcopy = strdup(input);
    int rc = -1;
    if (!dcopy || !bcopy) goto done;
    s.dir = dirname(dcopy);
    if (source_options(dr, &s, why, whylen) < 0) goto done;
    fd_reader *r = fd_reader_open(&s, basename(bcopy), "dry-run", 0, 0, why, whylen);
    if (!r) goto done;
    int step;
    while ((step = fd_reader_step(&s, r, why, whylen)) == 1) {
    }
    fd_reader_close(r);
    if (step == -2) snprintf(why, whylen, "out of memory");
    rc = step == 0 ? 0 : -1;
done:
    free(s.item_type);
    free(dcopy);
    free(bcopy);
    return rc;
}
