/*
 * Store: modes of the state directory and the store's files, set by the
 * daemon itself whatever the umask (the store holds BSNs).  Outside systemd
 * the state directory is 0700 and the files 0600.  Under a unit whose
 * StateDirectory= is this folder ($STATE_DIRECTORY), the unit's mode
 * decides group access (StateDirectoryMode=0750 lets the zinvol group read
 * reports): then the files are 0640.  Nobody else ever gets any access.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 1 when systemd manages dir for us ($STATE_DIRECTORY lists it). */
static int unit_managed(const char *dir)
{
    const char *list = getenv("STATE_DIRECTORY");
    char want[PATH_MAX], got[PATH_MAX];
    if (!list || !realpath(dir, want)) return 0;
    while (*list) {
        size_t n = strcspn(list, ":");
        char one[PATH_MAX];
        if (n < sizeof(one)) {
            memcpy(one, list, n);
            one[n] = '\0';
            if (realpath(one, got) && strcmp(got, want) == 0) return 1;
        }
        list += n + (list[n] == ':');
    }
    return 0;
}

int zv_store_state_dir(const char *dir, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create state directory %s: %s", dir, strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(dir, &st) < 0) {
        snprintf(err, errlen, "state directory %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "state directory %s: not a directory", dir);
        return -1;
    }
    mode_t have = st.st_mode & 07777;
    mode_t want = unit_managed(dir) ? (have & 0750) | 0700 : 0700;
    if (have != want && chmod(dir, want) < 0) {
        snprintf(err, errlen, "state directory %s is mode %04o, cannot make it %04o: %s", dir,
                 (unsigned)have, (unsigned)want, strerror(errno));
        return -1;
    }
    return 0;
}

/* 0600, or 0640 when the folder gives its group access (a unit's choice,
 * see above): the store's files never give more than their folder. */
static mode_t file_mode(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    struct stat st;
    if (stat(dir, &st) == 0 && (st.st_mode & 0050) == 0050 && !(st.st_mode & 0007)) return 0640;
    return 0600;
}

static int set_mode(const char *path, mode_t want, int create, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
    if (fd < 0) {
        if (!create && errno == ENOENT) return 0;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) == 0 && (st.st_mode & 07777) != want && fchmod(fd, want) < 0) {
        snprintf(err, errlen, "%s is mode %04o, cannot make it %04o: %s", path,
                 (unsigned)(st.st_mode & 07777), (unsigned)want, strerror(errno));
        rc = -1;
    }
    close(fd);
    return rc;
}

int zv_store_file_modes(const char *path, char *err, size_t errlen)
{
    mode_t want = file_mode(path);
    /* The database first: SQLite gives the -wal and -shm files it creates
     * the database file's mode; ones left by an earlier run are set here. */
    if (set_mode(path, want, 1, err, errlen) < 0) return -1;
    static const char *const side[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s%s", path, side[i]);
        if (set_mode(p, want, 0, err, errlen) < 0) return -1;
    }
    return 0;
}
