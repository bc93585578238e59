/* What the netwerkmodel plugins share: see nmc.h. */
#include "nmc.h"

#include <dlfcn.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

#ifndef ZV_NM_RELEASES_DIR
#define ZV_NM_RELEASES_DIR "/usr/share/zinvol/netwerkmodel"
#endif
/* From the installed plugin folder (lib/zinvol/plugins) to share/. */
#define NM_FROM_PLUGIN "../../../share/zinvol/netwerkmodel"

/* base64url (RFC 4648 section 5) into base64 with its padding, decoded by
 * libcrypto.  NULL for characters outside the alphabet or a length no
 * encoding has. */
static char *b64url_decode(const char *h, size_t n, size_t *outlen)
{
    while (n && h[n - 1] == '=')
        n--;
    if (n % 4 == 1) return NULL;
    size_t padded = (n + 3) / 4 * 4;
    char *in = malloc(padded + 1);
    unsigned char *out = malloc(padded / 4 * 3 + 1);
    if (!in || !out) goto fail;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        /* EVP_DecodeBlock skips white space around the text: none inside. */
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') goto fail;
        in[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    memset(in + n, '=', padded - n);
    in[padded] = '\0';
    int len = padded ? EVP_DecodeBlock(out, (const unsigned char *)in, (int)padded) : 0;
    if (len < 0) goto fail;
    /* It counts the padding's bytes as decoded zeros. */
    *outlen = (size_t)len - (padded - n);
    free(in);
    return (char *)out;
fail:
    free(in);
    free(out);
    return NULL;
}

zv_json_doc *zv_nm_claims(const char *h)
{
    char err[128];
    if (!h) return NULL;
    while (*h == ' ')
        h++;
    if (*h == '{') return zv_json_parse(h, strlen(h), 0, err, sizeof(err));
    size_t n = strlen(h);
    while (n && h[n - 1] == ' ')
        n--;
    size_t o = 0;
    char *out = b64url_decode(h, n, &o);
    zv_json_doc *d = out ? zv_json_parse(out, o, 0, err, sizeof(err)) : NULL;
    free(out);
    return d;
}

int zv_nm_has_scope(const zv_json *c, const char *scope)
{
    const zv_json *a = zv_json_get(c, "scopes");
    for (size_t i = 0; i < zv_json_len(a); i++) {
        const char *s = zv_json_str(zv_json_at(a, i), NULL);
        if (s && !strcmp(s, scope)) return 1;
    }
    const char *sp = zv_json_str(zv_json_get(c, "scope"), NULL);
    size_t n = strlen(scope);
    for (const char *p = sp; p && *p;) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !memcmp(p, scope, n)) return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

char *zv_nm_error_body(const char *msg, size_t *len)
{
    zv_jw *w = zv_jw_new(0);
    if (!w) return NULL;
    zv_jw_obj_open(w);
    zv_jw_key(w, "errors");
    zv_jw_arr_open(w);
    zv_jw_obj_open(w);
    zv_jw_key(w, "message");
    zv_jw_str(w, msg);
    zv_jw_obj_close(w);
    zv_jw_arr_close(w);
    zv_jw_obj_close(w);
    const char *body;
    char *copy = NULL;
    if (zv_jw_result(w, &body, len) == 0) copy = strndup(body, *len);
    zv_jw_free(w);
    return copy;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int zv_nm_find_release(const char *name, char *dir, size_t len, char *err, size_t errlen)
{
    if (!name || strchr(name, '/') || !strcmp(name, "..")) {
        snprintf(err, errlen, "option release: '%s' is a name, not a path", name ? name : "");
        return -1;
    }
    /* This library is linked into the plugin: dladdr names its .so. */
    Dl_info info;
    if (dladdr((void *)zv_nm_find_release, &info) && info.dli_fname) {
        char so[2048];
        snprintf(so, sizeof(so), "%s", info.dli_fname);
        char *sodir = dirname(so);
        snprintf(dir, len, "%s/netwerkmodel/%s", sodir, name);
        if (is_dir(dir)) return 0;
        snprintf(dir, len, "%s/%s/%s", sodir, NM_FROM_PLUGIN, name);
        if (is_dir(dir)) return 0;
    }
    snprintf(dir, len, "%s/%s", ZV_NM_RELEASES_DIR, name);
    if (is_dir(dir)) return 0;
    snprintf(err, errlen, "option release: no bundled release '%s' (looked in %s)", name,
             ZV_NM_RELEASES_DIR);
    return -1;
}

int zv_nm_release_dir(const zv_host *host, zv_ctx *ctx, char *dir, size_t len, char *err,
                      size_t errlen)
{
    const char *rd = host->cfg_str(ctx, "release_dir");
    if (!rd) return zv_nm_find_release(host->cfg_str(ctx, "release"), dir, len, err, errlen);
    snprintf(dir, len, "%s", rd);
    return 0;
}

char *zv_nm_slurp(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    zv_buf b;
    zv_buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < max)
        zv_buf_append(&b, chunk, n);
    fclose(f);
    size_t l;
    char *s = zv_buf_steal(&b, &l);
    if (len) *len = l;
    return s;
}

int zv_nm_is_uuid(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (!s || strlen(s) != 36) return 0;
    for (size_t i = 0; i < 36; i++)
        if (shape[i] == '-' ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
            return 0;
    return 1;
}

void zv_nm_random_hex(char *out, size_t nbytes)
{
    unsigned char r[16];
    if (nbytes > sizeof(r)) nbytes = sizeof(r);
    if (RAND_bytes(r, (int)nbytes) != 1) abort(); /* never a guessable id */
    for (size_t i = 0; i < nbytes; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

void zv_nm_b3(char trace[33], char span[17])
{
    zv_nm_random_hex(trace, 16);
    zv_nm_random_hex(span, 8);
}
