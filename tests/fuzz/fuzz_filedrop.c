/* File-drop readers (CSV with its delimiters and Windows-1252, JSON lines,
 * one .json document): an ECD export is outside input.  The first input
 * byte picks the reader and its options, the rest is the file, which is
 * written into a drop folder (in /dev/shm) and read through the plugin's own
 * fd_reader with its default bounds.  Every item handed to emit() must have
 * fields that lie wholly in their buffers; a refusal must come with a
 * reason. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filedrop.h"

static int emit(zv_ctx *ctx, const zv_item *it)
{
    (void)ctx;
    volatile size_t sum = 0;
    for (size_t i = 0; i < it->nfields; i++) {
        if (!it->fields[i].path) abort();
        sum += strlen(it->fields[i].path);
        for (size_t j = 0; j < it->fields[i].len; j++)
            sum += (unsigned char)it->fields[i].value[j];
    }
    (void)sum;
    return 0;
}

static char dir[64];
static int dirfd = -1;

/* The scratch folder goes with the process: left behind, one per run
 * accumulated in /dev/shm on a developer's machine. */
static void remove_dir(void)
{
    if (dirfd < 0) return;
    static const char *const names[] = {"in.csv", "in.jsonl", "in.json"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        unlinkat(dirfd, names[i], 0);
    close(dirfd);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (dirfd < 0) {
        snprintf(dir, sizeof dir, "/dev/shm/zv-fuzz-drop-%d", (int)getpid());
        mkdir(dir, 0700);
        dirfd = open(dir, O_RDONLY | O_DIRECTORY);
        if (dirfd < 0) abort();
        atexit(remove_dir);
    }
    static const char *const ext[] = {"csv", "jsonl", "json"};
    static const char delim[] = {',', ';', '\t'};
    unsigned sel = data[0];
    char name[32];
    snprintf(name, sizeof name, "in.%s", ext[sel % 3]);
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) abort();
    close(fd);
    static zv_host host;
    host.size = sizeof(host);
    host.emit = emit;
    fd_src s = {.host = &host, .dir = dir, .dirfd = dirfd, .inotify_fd = -1};
    fd_default_options(&s);
    s.delim = delim[(sel / 3) % 3];
    s.cp1252 = (sel / 9) % 2;
    s.batch = 64;
    char why[512] = "";
    fd_reader *r = fd_reader_open(&s, name, "sig", 0, 0, why, sizeof why);
    if (!r) {
        if (!why[0]) abort(); /* refused without a reason */
        return 0;
    }
    int rc, steps = 0;
    while ((rc = fd_reader_step(&s, r, why, sizeof why)) == 1 && steps++ < 100000) {
    }
    if (rc == -1 && !why[0]) abort();
    fd_reader_close(r);
    unlinkat(dirfd, name, 0);
    return 0;
}
