/* Pseudonymous client keys: see client_key.h. */
#include "client_key.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
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
        snprintf(err, errlen, "%s: expected %d bytes, found %zd; restore it from a backup", path,
                 ZV_CLIENT_SECRET_LEN, n);
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

/* source, NUL, record id into buf (nothing when it does not fit). */
static size_t ref_input(const char *source, const char *record_id, unsigned char buf[1024])
{
    size_t a = source ? strlen(source) : 0, b = record_id ? strlen(record_id) : 0;
    if (a + b + 1 > 1024) return 0;
    memcpy(buf, source ? source : "", a);
    buf[a] = 0;
    memcpy(buf + a + 1, record_id ? record_id : "", b);
    return a + b + 1;
}

/* A BSN as written: nine digits, left-padded; -1 when it holds none. */
static int bsn_norm(const char *bsn, size_t len, char norm[9])
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
    size_t pad = 9 - nd;
    memset(norm, '0', pad);
    memcpy(norm + pad, digits, nd);
    return 0;
}

void zv_record_ref(const unsigned char *secret, const char *source, const char *record_id,
                   char out[ZV_RECORD_REF_HEX])
{
    unsigned char buf[1024];
    size_t n = ref_input(source, record_id, buf);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), secret, ZV_CLIENT_SECRET_LEN, buf, n, mac, &maclen)) memset(mac, 0, 8);
    hex_out(mac, 8, out);
}

int zv_client_key(const unsigned char *secret, const char *bsn, size_t len,
                  char out[ZV_CLIENT_KEY_HEX])
{
    char norm[9];
    if (bsn_norm(bsn, len, norm) != 0) return -1;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), secret, ZV_CLIENT_SECRET_LEN, (const unsigned char *)norm, 9, mac,
              &maclen))
        return -1;
    hex_out(mac, 16, out);
    return 0;
}

struct zv_client_keyer {
    EVP_MD_CTX *inner, *outer, *work; /* inner/outer: the padded key absorbed */
};

void zv_client_keyer_free(zv_client_keyer *k)
{
    if (!k) return;
    EVP_MD_CTX_free(k->inner); /* cleanses */
    EVP_MD_CTX_free(k->outer);
    EVP_MD_CTX_free(k->work);
    free(k);
}

zv_client_keyer *zv_client_keyer_new(const unsigned char *secret)
{
    zv_client_keyer *k = calloc(1, sizeof(*k));
    if (!k) return NULL;
    unsigned char ipad[64], opad[64]; /* the secret is shorter than a block */
    memset(ipad, 0x36, sizeof(ipad));
    memset(opad, 0x5c, sizeof(opad));
    for (int i = 0; i < ZV_CLIENT_SECRET_LEN; i++) {
        ipad[i] ^= secret[i];
        opad[i] ^= secret[i];
    }
    int ok = (k->inner = EVP_MD_CTX_new()) && (k->outer = EVP_MD_CTX_new()) &&
             (k->work = EVP_MD_CTX_new()) && EVP_DigestInit_ex(k->inner, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(k->inner, ipad, sizeof(ipad)) &&
             EVP_DigestInit_ex(k->outer, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(k->outer, opad, sizeof(opad));
    OPENSSL_cleanse(ipad, sizeof(ipad));
    OPENSSL_cleanse(opad, sizeof(opad));
    if (!ok) {
        zv_client_keyer_free(k);
        return NULL;
    }
    return k;
}

/* HMAC-SHA256(secret, data) from the absorbed key blocks. */
static int keyer_mac(zv_client_keyer *k, const void *data, size_t n, unsigned char mac[32])
{
    unsigned char ih[32];
    unsigned int l = 0;
    int ok = EVP_MD_CTX_copy_ex(k->work, k->inner) && EVP_DigestUpdate(k->work, data, n) &&
             EVP_DigestFinal_ex(k->work, ih, &l) && EVP_MD_CTX_copy_ex(k->work, k->outer) &&
             EVP_DigestUpdate(k->work, ih, sizeof(ih)) && EVP_DigestFinal_ex(k->work, mac, &l);
    OPENSSL_cleanse(ih, sizeof(ih));
    return ok ? 0 : -1;
}

int zv_keyer_client_key(zv_client_keyer *k, const char *bsn, size_t len,
                        char out[ZV_CLIENT_KEY_HEX])
{
    char norm[9];
    unsigned char mac[32];
    if (bsn_norm(bsn, len, norm) != 0 || keyer_mac(k, norm, 9, mac) != 0) return -1;
    hex_out(mac, 16, out);
    return 0;
}

void zv_keyer_record_ref(zv_client_keyer *k, const char *source, const char *record_id,
                         char out[ZV_RECORD_REF_HEX])
{
    unsigned char buf[1024], mac[32];
    size_t n = ref_input(source, record_id, buf);
    if (keyer_mac(k, buf, n, mac) != 0) memset(mac, 0, 8);
    hex_out(mac, 8, out);
}
