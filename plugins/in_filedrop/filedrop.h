/* filedrop source: shared between the directory logic and the readers. */
#ifndef ZV_IN_FILEDROP_H
#define ZV_IN_FILEDROP_H

#include <stdio.h>
#include <sys/types.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

typedef enum fd_fmt { FD_CSV = 1, FD_JSONL, FD_JSON } fd_fmt;

typedef struct fd_reader fd_reader;

typedef struct fd_src {
    zv_ctx *ctx;
    const zv_host *host;
    char *dir;
    char delim;
    int cp1252;
    int64_t settle_s;
    int64_t batch;
    int64_t max_json;
    char *item_type;
    int inotify_fd;
    zv_watch *watch;
    zv_timer *tick; /* rescan */
    zv_timer *work; /* next batch of the current file */
    int draining;
    int stopped;
    fd_reader *cur; /* the file being processed, NULL when idle */
} fd_src;

/* Open name (in s->dir) for reading from the committed offset.  NULL with a
 * reason when the file must be rejected. */
fd_reader *fd_reader_open(fd_src *s, const char *name, const char *sig, off_t offset, int64_t row,
                          char *why, size_t whylen);
/* Emit up to s->batch records.  1 more to come, 0 at end of file, -1 when
 * the file must be rejected (why), -2 store failure (retry later). */
int fd_reader_step(fd_src *s, fd_reader *r, char *why, size_t whylen);
/* Where the next record starts: byte offset (or element index for .json)
 * and row number, as committed in the watermark. */
void fd_reader_pos(const fd_reader *r, off_t *offset, int64_t *row);
const char *fd_reader_name(const fd_reader *r);
const char *fd_reader_sig(const fd_reader *r);
void fd_reader_close(fd_reader *r);

/* Text helpers. */
/* Windows-1252 -> UTF-8 into out (3 * len + 1 bytes). */
size_t fd_cp1252_to_utf8(const char *in, size_t len, char *out);

#endif
