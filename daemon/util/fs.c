/* Filesystem helpers shared by the core and plugins. */
#include <zinvol/util.h>

#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int zv_mkdir_p(const char *path, unsigned mode)
{
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(buf)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    /* Create each missing level from the top; existing ones are fine. */
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, (mode_t)mode) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, (mode_t)mode) < 0 && errno != EEXIST) return -1;
    struct stat st;
    if (stat(buf, &st) < 0) return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int zv_dir_usable(const char *path, char *why, size_t whylen)
{
    char buf[4096];
    size_t len = path ? strlen(path) : 0;
    if (len == 0 || len >= sizeof(buf)) {
        snprintf(why, whylen, "no usable path");
        return -1;
    }
    memcpy(buf, path, len + 1);
    struct stat st;
    int missing = 0;
    /* The nearest level that exists decides: it must be a folder we can write in. */
    while (stat(buf, &st) != 0) {
        /* ENOTDIR: a level above is a file; going up finds and names it. */
        if (errno != ENOENT && errno != ENOTDIR) {
            snprintf(why, whylen, "%s: %s", buf, strerror(errno));
            return -1;
        }
        missing = 1;
        char *slash = strrchr(buf, '/');
        if (!slash) {
            snprintf(buf, sizeof(buf), ".");
        } else if (slash == buf) {
            buf[1] = '\0';
        } else {
            *slash = '\0';
        }
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, whylen, "%s is not a folder", buf);
        return -1;
    }
    if (access(buf, W_OK | X_OK) != 0) {
        snprintf(why, whylen, missing ? "%s does not exist and cannot be made: %s is not writable"
                                      : "%s%s is not writable for this user",
                 path, missing ? buf : "");
        return -1;
    }
    if (missing) snprintf(why, whylen, "%s does not exist yet", path);
    return missing;
}
