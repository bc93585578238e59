/*
 * The drop folder as a hostile place: whoever may write into it (an SFTP
 * account, a portal upload) must not be able to make zinvol read anything
 * else.  Every entry is opened relative to the folder's descriptor with
 * O_NOFOLLOW, only regular files with a single link are read, and done/ and
 * rejected/ are used only when they are real directories.
 */
#include "filedrop.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *fd_not_regular(const struct stat *st)
{
    switch (st->st_mode & S_IFMT) {
    case S_IFREG:
        return st->st_nlink > 1 ? "a file with more than one hard link (possibly a link to a file "
                                  "outside the drop folder); never read"
                                : NULL;
    case S_IFLNK:
        return "a symbolic link; links are never followed";
    case S_IFDIR:
        return "a directory, not a file";
    case S_IFIFO:
        return "a named pipe, not a regular file";
    case S_IFSOCK:
        return "a socket, not a regular file";
    case S_IFCHR:
    case S_IFBLK:
        return "a device, not a regular file";
    default:
        return "not a regular file";
    }
}

int fd_open_entry(fd_src *s, const char *name, struct stat *st, char *why, size_t whylen)
{
    /* O_NONBLOCK: a FIFO swapped in after the scan must not hang the loop
     * on open(); it is refused by the fstat below. */
    int fd = openat(s->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ELOOP)
            snprintf(why, whylen, "a symbolic link; links are never followed");
        else
            snprintf(why, whylen, "cannot open: %s", strerror(errno));
        return -1;
    }
    const char *bad = fstat(fd, st) != 0 ? strerror(errno) : fd_not_regular(st);
    if (bad) {
        snprintf(why, whylen, "%s", bad);
        close(fd);
        return -1;
    }
    if (st->st_size > s->max_file) {
        snprintf(why, whylen, "%lld bytes is more than max_file_size (%lld)",
                 (long long)st->st_size, (long long)s->max_file);
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

/* sub/ of the drop folder, created when missing; refused when it is a link
 * or anything but a directory (it could point the moves elsewhere). */
static int open_sub(fd_src *s, const char *sub)
{
    if (mkdirat(s->dirfd, sub, 0750) != 0 && errno != EEXIST) return -1;
    return openat(s->dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int fd_move_to(fd_src *s, const char *name, const char *sub, char *dest, size_t destlen)
{
    int subfd = open_sub(s, sub);
    if (subfd < 0) return -1;
    int rc = -1;
    for (int i = 0; i < 1000; i++) {
        char file[1100];
        if (i == 0)
            snprintf(file, sizeof(file), "%s", name);
        else
            snprintf(file, sizeof(file), "%s.%d", name, i);
        /* RENAME_NOREPLACE: never overwrite an earlier file of that name. */
        rc = renameat2(s->dirfd, name, subfd, file, RENAME_NOREPLACE);
        if (rc != 0 && errno == EINVAL) { /* file system without it */
            struct stat st;
            if (fstatat(subfd, file, &st, AT_SYMLINK_NOFOLLOW) == 0) continue;
            rc = renameat(s->dirfd, name, subfd, file);
        }
        if (rc == 0) {
            snprintf(dest, destlen, "%s/%s", sub, file);
            /* Retention counts from here, not from the export's own mtime. */
            if (strcmp(sub, "done") == 0) utimensat(subfd, file, NULL, AT_SYMLINK_NOFOLLOW);
            break;
        }
        if (errno != EEXIST) break;
    }
    int e = errno;
    close(subfd);
    errno = e;
    return rc;
}

void fd_write_reason(fd_src *s, const char *sub, const char *file, const char *why)
{
    int subfd = open_sub(s, sub);
    if (subfd < 0) return;
    char name[1200];
    snprintf(name, sizeof(name), "%s.reason", file);
    int fd = openat(subfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd >= 0) {
        FILE *f = fdopen(fd, "w");
        if (f) {
            fprintf(f, "%s\n", why);
            fclose(f);
        } else {
            close(fd);
        }
    }
    close(subfd);
}

int fd_prune_done(fd_src *s, int64_t now)
{
    if (s->retention_s <= 0) return 0;
    int subfd = openat(s->dirfd, "done", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (subfd < 0) return 0;
    DIR *d = fdopendir(subfd);
    if (!d) {
        close(subfd);
        return 0;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st;
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        if (fstatat(subfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if ((int64_t)st.st_mtim.tv_sec + s->retention_s > now) continue;
        if (unlinkat(subfd, e->d_name, 0) == 0) n++;
    }
    closedir(d); /* closes subfd */
    return n;
}
