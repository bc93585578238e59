/*
 * The daemon's configuration: one JSON file with comments.  Loading checks
 * structure, types and unknown keys; plugins, catalogues and mappings are
 * checked when the runtime is built from it (see runtime.h).
 */
#ifndef ZV_CONFIG_H
#define ZV_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <zinvol/json.h>
#include <zinvol/optmap.h>
#include <zinvol/plugin.h>
#include "errors.h"
#include "../catalogue/catalogue.h"

/* Both come from the install prefix (CMakeLists.txt); these are fallbacks. */
#ifndef ZV_DEFAULT_CONFIG
#define ZV_DEFAULT_CONFIG "/etc/zinvol/zinvol.conf"
#endif
#ifndef ZV_DEFAULT_STATE_DIR
#define ZV_DEFAULT_STATE_DIR "/var/lib/zinvol"
#endif

/* Per-destination delivery policy. */
typedef struct zv_policy {
    zv_level threshold;         /* fields weaker than this are never sent; default contract */
    int64_t batch_window_s;     /* records are collected this long into one batch; 60 */
    const char *schedule;       /* how often this destination is sent to: "event", "daily",
                                   "weekly", "monthly", "quarterly", "half-yearly", "yearly" */
    int64_t max_age_s;          /* retry until a payload is this old; 7d */
    int concurrency;            /* payloads in flight at once; 4 */
    int64_t timeout_ms;         /* per attempt; 30 s */
    int64_t backoff_initial_ms; /* first retry delay; 1 s, doubled per attempt with jitter */
    int64_t backoff_max_ms;     /* 5 min */
    int circuit_failures;       /* consecutive failures that open the circuit; 5 */
    int64_t circuit_cooldown_s; /* open circuit waits this long before one probe; 60 */
    int max_records;            /* records rendered per work unit (one commit); 5000 */
    int64_t max_bytes;          /* largest message sent; bigger ones are split; 8 MiB */
    int schedule_index;         /* schedule as an index into zv_schedules */
} zv_policy;

/* Bounds of the HTTP listener ("http": {"limits": {...}}); every one has a
 * default that is safe on a host with the usual 1,024 file descriptors. */
typedef struct zv_http_limits {
    int max_connections;        /* open connections at once; 256 (then accept waits) */
    int64_t max_header_size;    /* request line + headers, bytes; 16 KiB (then 400) */
    int64_t max_body_size;      /* bytes, refused before reading (413); 1 MiB; a route
                                   may lower it for itself (webhook max_body) */
    int64_t request_timeout_ms; /* a whole request must arrive within this; 20 s */
    int64_t idle_timeout_ms;    /* silence on a connection; 30 s */
} zv_http_limits;

typedef struct zv_source_conf {
    const char *name;
    const char *type;
    const zv_json *options; /* may be NULL */
    const zv_json *mapping;
    char path[32]; /* "sources[2]" for messages */
} zv_source_conf;

typedef struct zv_dest_conf {
    const char *name;
    const char *format;
    const char *transport;
    const zv_json *format_options;    /* may be NULL */
    const zv_json *transport_options; /* may be NULL */
    const zv_json *catalogue;         /* override object; may be NULL */
    const zv_json *match;             /* {"field": "v" | ["v",...]}; may be NULL */
    zv_policy policy;
    char path[32]; /* "destinations[0]" */
} zv_dest_conf;

/* ---- admin API, metrics and health: keys admin.*, metrics.*, health.*
 * (loaded by daemon/admin/admin_conf.c) ---- */
typedef struct zv_admin_token {
    const char *name;  /* written to the audit trail as "token NAME" */
    const char *token; /* the bearer secret */
} zv_admin_token;

typedef struct zv_admin_conf {
    char *socket;             /* absolute; default <state_dir>/admin.sock */
    int socket_mode;          /* the socket's file mode is its access control; 0660 */
    const char *socket_group; /* group of the socket; NULL: the daemon's own */
    const char *listen;       /* optional TCP host:port; only with TLS and tokens */
    char *tls_cert, *tls_key; /* absolute; required with listen */
    zv_admin_token *tokens;   /* required with listen */
    size_t ntokens;
    const char *metrics_listen; /* optional plain-HTTP listener for /metrics and /healthz */
    int64_t max_pending_age_s;  /* /healthz is degraded when a payload waits longer; 1h */
    char config_sha256[65];     /* of the file as loaded ("" when unreadable) */
} zv_admin_conf;

typedef struct zv_config {
    char *file; /* as given */
    char *dir;  /* folder of the file: relative paths resolve here */
    zv_json_doc *doc;
    char *state_dir;
    char *store_path; /* absolute, or a postgresql:// URL */
    char *plugin_dir;
    char *catalogue_dir;
    zv_log_level log_level;
    const char *org_agb;
    const char *org_name;
    const char *listen; /* "127.0.0.1:8480"; NULL: no HTTP listener */
    zv_http_limits http_limits;
    int64_t retention_s; /* delivered payloads are pruned after this; 30d */
    zv_source_conf *sources;
    size_t nsources;
    zv_dest_conf *dests;
    size_t ndests;
    zv_admin_conf admin;
    zv_optset org_opts; /* owns org_agb, org_name */
    /* A postgresql:// store (store_path is then its URL, checked, without a
     * password): the file with its password, or NULL. */
    char *store_password_file;
    int64_t store_lease_ms; /* store_lease: a claim's lease on PostgreSQL */
    char *node;             /* node: this process's name in claims, or NULL (host:pid) */
} zv_config;

/* The tables of the configuration's keys (config.c): every default, range
 * and description written once; `zinvold --describe` prints them. */
typedef struct zv_conf_table {
    const char *path; /* "", "http.limits", "destinations[].policy" */
    zv_optspec spec;
} zv_conf_table;
extern const zv_conf_table zv_conf_tables[];
extern const size_t zv_conf_ntables;
/* health.* (daemon/admin/admin_conf.c) */
extern const zv_optspec zv_health_spec;

/* Overrides from the command line or environment, applied while loading. */
typedef struct zv_config_overrides {
    const char *state_dir;
    const char *plugin_dir;
} zv_config_overrides;

zv_config *zv_config_load(const char *file, const zv_config_overrides *ov, zv_errors *errs);
void zv_config_free(zv_config *cfg);
/* Resolve a path from the config against the config's folder; malloc'd. */
char *zv_config_path(const zv_config *cfg, const char *p);
/* daemon/admin/admin_conf.c: the admin.*, metrics.* and health.* keys. */
void zv_admin_conf_load(zv_config *cfg, const zv_json *root, zv_errors *errs);
void zv_admin_conf_free(zv_admin_conf *a);

#endif
