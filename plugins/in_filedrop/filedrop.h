/* filedrop source: shared between the directory logic and the readers. */
#ifndef ZV_IN_FILEDROP_H
#define ZV_IN_FILEDROP_H

#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

typedef enum fd_fmt { FD_CSV = 1, FD_JSONL, FD_JSON } fd_fmt;

typedef struct fd_reader fd_reader;

/* What happened to the records of the file being processed (since it was
 * opened: after a restart, since the resume point). */
typedef struct fd_tally {
    int64_t rows, fresh, unchanged, quarantined;
    int64_t staged_base; /* host staged_total() when the file was opened; -1: host too old */
} fd_tally;

typedef struct fd_src {
    zv_ctx *ctx;
    const zv_host *host;
    char *dir;
    int dirfd; /* the drop folder; every file is opened relative to it */
    char delim;
    int cp1252;
    int64_t settle_s;
    int64_t settle_wait_s; /* --once: how long to wait for files still settling */
    int64_t batch;
    int64_t step_ns; /* step_time: a step ends after the record that passes it */
    /* Resource bounds (options, see README.md). */
    int64_t max_json;       /* max_json_size: largest .json read as one document */
    int64_t max_json_depth; /* containers nested deeper fail the record */
    int64_t max_file;       /* max_file_size */
    int64_t max_line;       /* max_line_length: a CSV row or a JSON line */
    int64_t max_columns;    /* columns in a CSV header */
    int64_t retention_s;    /* done/ files older than this are removed; 0: never */
    char *item_type;
    int inotify_fd;
    zv_watch *watch;
    zv_timer *tick; /* rescan */
    zv_timer *work; /* next batch of the current file */
    int draining;
    int64_t drain_started;
    int wait_logged;
    int64_t pruned_at; /* last look at done/ for files past retention */
    int stopped;
    fd_reader *cur; /* the file being processed, NULL when idle */
    int opening;    /* a file is being checked/parsed on a worker thread */
    int committing; /* the last step's unit waits to be durable (commit_async) */
    int step_rc;    /* that step's fd_reader_step result */
    char step_why[512];
} fd_src;

/* Options (filedrop_opts.c): the table, reading it into s (s->host and
 * s->ctx set), and the defaults for a reader without a configuration. */
typedef struct fd_conf {
    const char *directory, *delimiter, *item_type;
    int encoding; /* index into the option's choices */
    int64_t settle_s, settle_wait_s, done_retention_s, step_time_ms;
    int batch_rows, max_json_depth, max_columns;
    int64_t max_file_size, max_json_size, max_line_length;
} fd_conf;
#define FD_NOPTIONS 14
extern const zv_option fd_options[FD_NOPTIONS];
int fd_read_options(fd_src *s, char *err, size_t errlen);
void fd_default_options(fd_src *s);

/* Open name (in s->dir, never through a symbolic link) for reading from the
 * committed offset.  NULL with a reason when the file must be rejected. */
fd_reader *fd_reader_open(fd_src *s, const char *name, const char *sig, off_t offset, int64_t row,
                          char *why, size_t whylen);
/* fd_reader_open in two halves: new() on the loop (it asks the host), then
 * load() - the whole-file CSV check, the parse of a .json file, the header -
 * which touches only r, the file and s's options, so it may run on a worker
 * thread (host->queue_work).  load() -1: reject the file with why. */
fd_reader *fd_reader_new(fd_src *s, const char *name, const char *sig);
int fd_reader_load(fd_src *s, fd_reader *r, off_t offset, int64_t row, char *why, size_t whylen);
/* 1 when a step begun at t0 (fd_step_clock) has run for step_time. */
int64_t fd_step_clock(void);
int fd_step_over(const fd_src *s, int64_t t0);
/* Emit up to s->batch records, fewer when step_time has passed.  1 more to come, 0 at end of file,
 * -1 when the file must be rejected (why), -2 store failure (retry later). */
int fd_reader_step(fd_src *s, fd_reader *r, char *why, size_t whylen);
/* Where the next record starts: byte offset (or element index for .json)
 * and row number, as committed in the watermark. */
void fd_reader_pos(const fd_reader *r, off_t *offset, int64_t *row);
const char *fd_reader_name(const fd_reader *r);
const char *fd_reader_sig(const fd_reader *r);
const fd_tally *fd_reader_tally(const fd_reader *r);
void fd_reader_close(fd_reader *r);

/* Files in the drop folder (filedrop_fs.c). */
/* Open a directory entry for reading: relative to s->dirfd, O_NOFOLLOW,
 * only a regular file with one link and at most max_file_size bytes.  The
 * descriptor, or -1 with the reason in why. */
int fd_open_entry(fd_src *s, const char *name, struct stat *st, char *why, size_t whylen);
/* Why an entry (lstat'ed) is not a file we read, or NULL when it is one. */
const char *fd_not_regular(const struct stat *st);
/* Move name into sub/ (done, rejected), adding .1, .2 ... rather than
 * overwrite.  The final name into dest.  0 or -1 with errno. */
int fd_move_to(fd_src *s, const char *name, const char *sub, char *dest, size_t destlen);
/* Write sub/<file>.reason next to a moved file. */
void fd_write_reason(fd_src *s, const char *sub, const char *file, const char *why);
/* Remove regular files in done/ older than retention; how many. */
int fd_prune_done(fd_src *s, int64_t now);

/* Text helpers (filedrop_text.c). */
/* Windows-1252 -> UTF-8 into out (3 * len + 1 bytes). */
size_t fd_cp1252_to_utf8(const char *in, size_t len, char *out);

/* One line (with its '\n') of at most max bytes into *buf (grown as needed,
 * NUL-terminated for convenience; the line may hold NUL bytes itself).
 * Returns the bytes consumed from f, 0 at end of file, -1 on a read error.
 * A longer line is consumed to its end but only max bytes are kept: then
 * *kept < the return value. */
ssize_t fd_getline(FILE *f, char **buf, size_t *cap, size_t max, size_t *kept);

#endif
