/*
 * The admin.*, metrics.* and health.* configuration keys.
 *
 * The admin API listens on a Unix socket by default; the socket's file mode
 * (and group) is its access control.  A TCP listener is refused unless it
 * has TLS and at least one bearer token, because anything reaching it can
 * retry and drop records.
 */
#include "admin.h"
#include "core/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>
#include <zinvol/util.h>

#define MIN_TOKEN_LEN 16

static const char *const admin_keys[] = {"socket",   "socket_mode", "socket_group", "listen",
                                         "tls_cert", "tls_key",     "tokens",       NULL};
static const char *const metrics_keys[] = {"listen", NULL};

typedef struct health_conf {
    int64_t max_pending_age_s;
} health_conf;
static const zv_option health_options[] = {
    {.name = "max_pending_age", .type = ZV_OPT_DURATION, .flags = ZV_OPT_SECONDS, .def = "1h",
     .min = 1000, ZV_OPT_AT(health_conf, max_pending_age_s),
     .description = "/healthz is degraded when a payload waits longer"},
};
const zv_optspec zv_health_spec = {.options = health_options,
                                   .count = sizeof(health_options) / sizeof(health_options[0]),
                                   .conf_size = sizeof(health_conf)};

struct sink {
    const zv_config *cfg;
    zv_errors *errs;
};

static void health_error(void *arg, const char *key, const char *msg)
{
    struct sink *s = arg;
    char sub[128];
    zv_path_key(sub, sizeof(sub), "health", key);
    zv_errors_add(s->errs, s->cfg->file, sub, "%s", msg);
}

static void check_keys(const zv_config *cfg, const zv_json *obj, const char *path,
                       const char *const *known, zv_errors *errs)
{
    char sub[128];
    for (size_t i = 0; i < zv_json_len(obj); i++) {
        const char *k = zv_json_key_at(obj, i);
        size_t j = 0;
        while (known[j] && strcmp(known[j], k) != 0)
            j++;
        if (known[j]) continue;
        zv_path_key(sub, sizeof(sub), path, k);
        zv_errors_add(errs, cfg->file, sub, "unknown key");
    }
}

/* A string member; an error when present with another type. */
static const char *get_str(const zv_config *cfg, const zv_json *obj, const char *path,
                           const char *key, zv_errors *errs)
{
    const zv_json *v = zv_json_get(obj, key);
    if (!v) return NULL;
    const char *s = zv_json_str(v, NULL);
    char sub[128];
    zv_path_key(sub, sizeof(sub), path, key);
    if (!s || !*s) {
        zv_errors_add(errs, cfg->file, sub, "expected a non-empty string");
        return NULL;
    }
    return s;
}

static void load_tokens(zv_config *cfg, const zv_json *t, zv_errors *errs)
{
    zv_admin_conf *a = &cfg->admin;
    if (!t) return;
    if (zv_json_type_of(t) != ZV_JSON_OBJECT) {
        zv_errors_add(errs, cfg->file, "admin.tokens",
                      "expected an object {\"name\": \"secret\", ...}");
        return;
    }
    size_t n = zv_json_len(t);
    a->tokens = calloc(n ? n : 1, sizeof(*a->tokens));
    if (!a->tokens) return;
    char sub[128];
    for (size_t i = 0; i < n; i++) {
        const char *name = zv_json_key_at(t, i);
        const char *tok = zv_json_str(zv_json_at(t, i), NULL);
        zv_path_key(sub, sizeof(sub), "admin.tokens", name);
        int ok = *name != '\0';
        for (const char *p = name; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
                ok = 0;
        if (!ok) {
            zv_errors_add(errs, cfg->file, sub,
                          "token names use lower-case letters, digits, '-' and '_'");
            continue;
        }
        if (!tok || strlen(tok) < MIN_TOKEN_LEN) {
            zv_errors_add(errs, cfg->file, sub, "a token is a string of at least %d characters",
                          MIN_TOKEN_LEN);
            continue;
        }
        a->tokens[a->ntokens].name = name;
        a->tokens[a->ntokens].token = tok;
        a->ntokens++;
    }
}

static void load_tls(zv_config *cfg, const zv_json *adm, zv_errors *errs)
{
    zv_admin_conf *a = &cfg->admin;
    const char *cert = get_str(cfg, adm, "admin", "tls_cert", errs);
    const char *key = get_str(cfg, adm, "admin", "tls_key", errs);
    a->tls_cert = zv_config_path(cfg, cert);
    a->tls_key = zv_config_path(cfg, key);
    if (!a->listen) {
        if (cert || key || a->ntokens)
            zv_errors_add(errs, cfg->file, "admin.listen",
                          "tls_cert, tls_key and tokens are for the TCP listener: set listen too");
        return;
    }
    if (!cert || !key)
        zv_errors_add(errs, cfg->file, "admin.listen",
                      "a TCP admin listener needs TLS: set admin.tls_cert and admin.tls_key");
    if (a->ntokens == 0)
        zv_errors_add(errs, cfg->file, "admin.listen",
                      "a TCP admin listener needs at least one bearer token in admin.tokens");
    if (a->tls_cert && access(a->tls_cert, R_OK) != 0)
        zv_errors_add(errs, cfg->file, "admin.tls_cert", "cannot read %s", a->tls_cert);
    if (a->tls_key && access(a->tls_key, R_OK) != 0)
        zv_errors_add(errs, cfg->file, "admin.tls_key", "cannot read %s", a->tls_key);
}

static void load_admin(zv_config *cfg, const zv_json *adm, zv_errors *errs)
{
    zv_admin_conf *a = &cfg->admin;
    check_keys(cfg, adm, "admin", admin_keys, errs);
    const char *sock = get_str(cfg, adm, "admin", "socket", errs);
    if (sock) {
        a->socket = zv_config_path(cfg, sock);
    } else if (cfg->state_dir) {
        size_t n = strlen(cfg->state_dir) + 16;
        if ((a->socket = malloc(n))) snprintf(a->socket, n, "%s/admin.sock", cfg->state_dir);
    }
    struct sockaddr_un sun;
    if (a->socket && strlen(a->socket) >= sizeof(sun.sun_path))
        zv_errors_add(errs, cfg->file, sock ? "admin.socket" : "state_dir",
                      "the admin socket path %s is longer than %zu characters", a->socket,
                      sizeof(sun.sun_path) - 1);
    const char *mode = get_str(cfg, adm, "admin", "socket_mode", errs);
    a->socket_mode = 0660;
    if (mode) {
        char *end;
        long m = strtol(mode, &end, 8);
        if (*end || m < 0 || m > 0777 || (m & 0007))
            zv_errors_add(errs, cfg->file, "admin.socket_mode",
                          "an octal file mode like \"0660\" without access for others");
        else
            a->socket_mode = (int)m;
    }
    a->socket_group = get_str(cfg, adm, "admin", "socket_group", errs);
    a->listen = get_str(cfg, adm, "admin", "listen", errs);
    load_tokens(cfg, zv_json_get(adm, "tokens"), errs);
    load_tls(cfg, adm, errs);
}

/* SHA-256 of a whole file into out[65]; "" when it cannot be read. */
void zv_admin_file_sha256(const char *path, char out[65])
{
    out[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) return;
    zv_buf b;
    zv_buf_init(&b);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        zv_buf_append(&b, chunk, n);
    if (!ferror(f) && !b.oom) zv_sha256_hex(b.data ? b.data : "", b.len, out);
    fclose(f);
    zv_buf_free(&b);
}

void zv_admin_conf_load(zv_config *cfg, const zv_json *root, zv_errors *errs)
{
    zv_admin_file_sha256(cfg->file, cfg->admin.config_sha256);
    const zv_json *adm = zv_json_get(root, "admin");
    const zv_json *met = zv_json_get(root, "metrics");
    const zv_json *hl = zv_json_get(root, "health");
    /* Types were checked with the top-level keys; skip what is not an object. */
    if (adm && zv_json_type_of(adm) != ZV_JSON_OBJECT) adm = NULL;
    if (met && zv_json_type_of(met) != ZV_JSON_OBJECT) met = NULL;
    if (hl && zv_json_type_of(hl) != ZV_JSON_OBJECT) hl = NULL;
    load_admin(cfg, adm, errs);
    if (met) {
        check_keys(cfg, met, "metrics", metrics_keys, errs);
        cfg->admin.metrics_listen = get_str(cfg, met, "metrics", "listen", errs);
    }
    zv_optset set;
    struct sink sk = {cfg, errs};
    zv_optset_resolve(&set, &zv_health_spec, hl, health_error, &sk);
    if (set.conf) cfg->admin.max_pending_age_s = ((const health_conf *)set.conf)->max_pending_age_s;
    zv_optset_free(&set);
}

void zv_admin_conf_free(zv_admin_conf *a)
{
    free(a->socket);
    free(a->tls_cert);
    free(a->tls_key);
    free(a->tokens);
    memset(a, 0, sizeof(*a));
}
