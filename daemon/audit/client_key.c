/* Pseudonymous client keys: see client_key.h. */
#include "client_key.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_secret(const char *path, unsigned char *secret, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 1;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    unsigned char buf[ZV_CLIENT_SECRET_LEN + 1];
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    if (n != ZV_CLIENT_SECRET_LEN) {
        /* A short or long file is damage, not something to repair silently:
         * a new secret would orphan every key already in the trail. */
        snprintf(err, errlen, "%s: expected %d bytes, found %zd; restore it from a backup",
                 path, ZV_CLIENT_SECRET_LEN, n);
        return -1;
    }
    memcpy(secret, buf, ZV_CLIENT_SECRET_LEN);
    return 0;
}

static int make_secret(const char *path, unsigned char *secret, char *err, size_t errlen)
{
    if (RAND_bytes(secret, ZV_CLIENT_SECRET_LEN) != 1) {
        snprintf(err, errlen, "no random bytes for the client-key secret");
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return read_secret(path, secret, err, errlen);
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int ok = fchmod(fd, 0600) == 0 &&
             write(fd, secret, ZV_CLIENT_SECRET_LEN) == ZV_CLIENT_SECRET_LEN && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (!ok) {
        unlink(path);
        snprintf(err, errlen, "%s: %s", path, strerror(saved));
        return -1;
    }
    return 0;
}

int zv_client_secret_load(const char *state_dir, int create, unsigned char *secret, char *err,
                          size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", state_dir, ZV_CLIENT_SECRET_FILE);
    int rc = read_secret(path, secret, err, errlen);
    if (rc == 1 && create) return make_secret(path, secret, err, errlen);
    if (rc == 1) snprintf(err, errlen, "%s: absent (the daemon makes it on its first start)", path);
    return rc;
}

static void hex_out(const unsigned char *mac, int bytes, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < bytes; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[2 * bytes] = '\0';
}

void zv_record_ref(const unsigned char *secret, const char *source, const char *record_id,
                   char out[ZV_RECORD_REF_HEX])
{
    size_t a = source ? strlen(source) : 0, b = record_id ? strlen(record_id) : 0;
    unsigned char buf[1024];
    size_t n = 0;
    if (a + b + 1 <= sizeof(buf)) {
        memcpy(buf, source ? source : "", a);
        buf[a] = 0;
        memcpy(buf + a + 1, record_id ? record_id : "", b);
        n = a + b + 1;
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), secret, ZV_CLIENT_SECRET_LEN, buf, n, mac, &maclen))
        memset(mac, 0, 8);
    hex_out(mac, 8, out);
}

int zv_client_key(const unsigned char *secret, const char *bsn, size_t len,
                  char out[ZV_CLIENT_KEY_HEX])
{
    char digits[10];
    size_t nd = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = bsn[i];
        if (ch >= '0' && ch <= '9') {
            if (nd == 9) return -1;
            digits[nd++] = ch;
        } else if (ch != ' ' && ch != '.' && ch != '-') {
            return -1;
        }
    }
    if (nd < 8) return -1;
    char norm[10];
    size_t pad = 9 - nd;
    memset(norm, '0', pad);
    memcpy(norm + pad, digits, nd);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), secret, ZV_CLIENT_SECRET_LEN, (const unsigned char *)norm, 9, mac,
              &maclen))
        return -1;
    hex_out(mac, 16, out);
    return 0;
}
