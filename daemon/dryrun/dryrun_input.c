/*
 * The dry run reads its input with the file-drop source's own reader
 * (plugins/in_filedrop/filedrop_read.c, compiled into zinvold), so a sample
 * export gives exactly the items the running source would emit.
 */
#include "dryrun_int.h"
#include "filedrop.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The file-drop source's options as its create() reads them (bounds
 * included); other source types get the file-drop defaults. */
static int source_options(dry_run *dr, fd_src *s, char *why, size_t whylen)
{
    if (strcmp(dr->src->conf->type, "filedrop") == 0) return fd_read_options(s, why, whylen);
    fd_default_options(s);
    return 0;
}

int zv_dry_read_input(dry_run *dr, const char *input, char *why, size_t whylen)
{
    const char *ext = strrchr(input, '/') ? strrchr(strrchr(input, '/'), '.') : strrchr(input, '.');
    if (!ext || (strcmp(ext, ".csv") && strcmp(ext, ".json") && strcmp(ext, ".jsonl"))) {
        snprintf(why, whylen, "the file-drop source reads .csv, .json and .jsonl files only");
        return -1;
    }
    fd_src s = {.ctx = dr->src->inst.ctx, .host = &dr->host, .inotify_fd = -1, .dirfd = -1};
    char *dcopy = strdup(input), *bcopy = strdup(input);
    int rc = -1;
    if (!dcopy || !bcopy) goto done;
    s.dir = dirname(dcopy);
    if (source_options(dr, &s, why, whylen) < 0) goto done;
    /* The reader opens its file relative to the folder, as the source does. */
    if ((s.dirfd = open(s.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(why, whylen, "cannot open %s: %s", s.dir, strerror(errno));
        goto done;
    }
    fd_reader *r = fd_reader_open(&s, basename(bcopy), "dry-run", 0, 0, why, whylen);
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
