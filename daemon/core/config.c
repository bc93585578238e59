/*
 * Config loading: structure, types, unknown keys and defaults.  Every problem
 * is collected (not just the first) so an operator fixes a file in one pass.
 */
#include "config.h"
#include "log.h"
#include "store/store_iface.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

#define LEVELS "law|standard|regulator|contract|sector|internal|none"
#define SCHEDULES "event|daily|weekly|monthly|quarterly|half-yearly|yearly|3-yearly"
const char *const zv_schedules[] = {"event",       "daily",  "weekly",   "monthly", "quarterly",
                                    "half-yearly", "yearly", "3-yearly", NULL};

/* The top level, read into top_conf and then into zv_config. */
typedef struct top_conf {
    const char *state_dir, *store, *plugin_dir, *catalogue_dir;
    int log_level;
    const char *store_password_file;
    int64_t retention_s;
    int64_t store_lease_ms;
    const char *node;
    const zv_json *org, *http, *sources, *dests, *admin, *metrics, *health;
} top_conf;

#define TOP(m) ZV_OPT_AT(top_conf, m)
static const zv_option top_options[] = {
    {.name = "state_dir",
     .type = ZV_OPT_PATH,
     .def = ZV_DEFAULT_STATE_DIR,
     .min = 1,
     TOP(state_dir),
     .description = "where the store and plugin state live (made 0700)"},
    {.name = "store",
     .type = ZV_OPT_STRING,
     .def = "zinvol.db",
     .min = 1,
     TOP(store),
     .description = "SQLite file, relative to state_dir, or a postgresql:// URL (no password)"},
    {.name = "store_password_file",
     .type = ZV_OPT_PATH,
     TOP(store_password_file),
     .description = "PostgreSQL store: file holding the password (else PGPASSWORD or ~/.pgpass)"},
    {.name = "store_lease",
     .type = ZV_OPT_DURATION,
     .def = "30s",
     .min = 1000,
     TOP(store_lease_ms),
     .description = "PostgreSQL store: how long a node's claim on a payload lasts unrenewed; "
                    "the payloads of a node that died go to the others after it"},
    {.name = "node",
     .type = ZV_OPT_STRING,
     .min = 1,
     TOP(node),
     .description = "PostgreSQL store: this node's name in claims (default host:pid), unique "
                    "per node; restarted under it, a node takes its own claims back at once"},
    {.name = "catalogue_dir",
     .type = ZV_OPT_PATH,
     .def = "catalogue",
     .min = 1,
     TOP(catalogue_dir),
     .description = "requirement catalogues"},
    {.name = "plugin_dir",
     .type = ZV_OPT_PATH,
     .def = ZV_PLUGIN_DIR,
     .min = 1,
     TOP(plugin_dir),
     .description = "plugin shared objects"},
    /* "warn" is another name of "warning" */
    {.name = "log_level",
     .type = ZV_OPT_ENUM,
     .def = "info",
     .choices = "error|warning|notice|info|debug|warn",
     TOP(log_level),
     .description = "the least important messages logged"},
    {.name = "organisation",
     .type = ZV_OPT_OBJECT,
     TOP(org),
     .description = "{\"agb\": \"12345678\", \"name\": \"...\"}: sender in messages"},
    {.name = "http",
     .type = ZV_OPT_OBJECT,
     TOP(http),
     .description = "{\"listen\": \"host:port\", \"limits\": {...}}"},
    {.name = "retention",
     .type = ZV_OPT_DURATION,
     .flags = ZV_OPT_SECONDS,
     .def = "30d",
     .min = 1000,
     TOP(retention_s),
     .description = "delivered payloads and their record keys are pruned after this"},
    {.name = "sources", .type = ZV_OPT_ARRAY, TOP(sources), .description = "the sources"},
    {.name = "destinations", .type = ZV_OPT_ARRAY, TOP(dests), .description = "the destinations"},
    /* daemon/admin/admin_conf.c checks inside these */
    {.name = "admin", .type = ZV_OPT_OBJECT, TOP(admin), .description = "admin API and console"},
    {.name = "metrics", .type = ZV_OPT_OBJECT, TOP(metrics), .description = "metrics listener"},
    {.name = "health", .type = ZV_OPT_OBJECT, TOP(health), .description = "/healthz thresholds"},
};

typedef struct org_conf {
    const char *agb, *name;
} org_conf;
static const zv_option org_options[] = {
    {.name = "agb",
     .type = ZV_OPT_STRING,
     ZV_OPT_AT(org_conf, agb),
     .description = "the organisation's AGB code (8 digits)"},
    {.name = "name",
     .type = ZV_OPT_STRING,
     ZV_OPT_AT(org_conf, name),
     .description = "the organisation's name"},
};

/* http: listen is read from the JSON, limits through limit_options. */
static const zv_option http_options[] = {
    {.name = "listen",
     .type = ZV_OPT_STRING,
     .min = 1,
     .description = "host:port for webhooks and /healthz; no listener when absent"},
    {.name = "limits", .type = ZV_OPT_OBJECT, .description = "bounds of the listener"},
};

#define LIM(m) ZV_OPT_AT(zv_http_limits, m)
static const zv_option limit_options[] = {
    {.name = "max_connections",
     .type = ZV_OPT_INT,
     .def = "256",
     .min = 1,
     .max = 65536,
     LIM(max_connections),
     .description = "open connections at once; beyond it new ones wait in the kernel's backlog"},
    {.name = "max_header_size",
     .type = ZV_OPT_SIZE,
     .def = "16KiB",
     .min = 1024,
     .max = 1024 * 1024,
     LIM(max_header_size),
     .description = "request line and headers; larger: 400 and the connection is closed"},
    {.name = "max_body_size",
     .type = ZV_OPT_SIZE,
     .def = "1MiB",
     .min = 1,
     .max = 256 * 1024 * 1024,
     LIM(max_body_size),
     .description = "bodies over it are refused with 413 before they are read"},
    {.name = "request_timeout",
     .type = ZV_OPT_DURATION,
     .def = "20s",
     .min = 100,
     LIM(request_timeout_ms),
     .description = "a whole request (line, headers, body) must arrive within this"},
    {.name = "idle_timeout",
     .type = ZV_OPT_DURATION,
     .def = "30s",
     .min = 100,
     LIM(idle_timeout_ms),
     .description = "silence on a connection"},
};

/* sources[] and destinations[]: checked here, read from the JSON. */
static const zv_option source_options[] = {
    {.name = "name",
     .type = ZV_OPT_STRING,
     .flags = ZV_OPT_REQUIRED,
     .min = 1,
     .description = "lower-case letters, digits, '-' and '_' (at most 64)"},
    {.name = "type",
     .type = ZV_OPT_STRING,
     .flags = ZV_OPT_REQUIRED,
     .min = 1,
     .description = "the source plugin: filedrop, webhook, fhir"},
    {.name = "options", .type = ZV_OPT_OBJECT, .description = "the plugin's options"},
    {.name = "mapping",
     .type = ZV_OPT_OBJECT,
     .flags = ZV_OPT_REQUIRED,
     .description = "ECD fields to model fields (daemon/mapping/README.md)"},
};
static const zv_option dest_options[] = {
    {.name = "name",
     .type = ZV_OPT_STRING,
     .flags = ZV_OPT_REQUIRED,
     .min = 1,
     .description = "lower-case letters, digits, '-' and '_' (at most 64)"},
    {.name = "format",
     .type = ZV_OPT_STRING,
     .flags = ZV_OPT_REQUIRED,
     .min = 1,
     .description = "the format plugin"},
    {.name = "transport",
     .type = ZV_OPT_STRING,
     .flags = ZV_OPT_REQUIRED,
     .min = 1,
     .description = "the transport plugin"},
    {.name = "format_options", .type = ZV_OPT_OBJECT, .description = "the format's options"},
    {.name = "transport_options", .type = ZV_OPT_OBJECT, .description = "the transport's options"},
    {.name = "catalogue",
     .type = ZV_OPT_OBJECT,
     .description = "{\"file\": ..., \"fields\": [...]}: catalogue override"},
    {.name = "match",
     .type = ZV_OPT_OBJECT,
     .description = "{\"model.field\": [\"value\", ...]}: routing"},
    {.name = "policy", .type = ZV_OPT_OBJECT, .description = "delivery policy"},
};

#define POL(m) ZV_OPT_AT(zv_policy, m)
static const zv_option policy_options[] = {
    {.name = "threshold",
     .type = ZV_OPT_ENUM,
     .def = "contract",
     .choices = LEVELS,
     POL(threshold),
     .description = "weakest requirement level still sent"},
    {.name = "batch_window",
     .type = ZV_OPT_DURATION,
     .flags = ZV_OPT_SECONDS,
     .def = "60s",
     POL(batch_window_s),
     .description = "records are collected this long into one message"},
    {.name = "schedule",
     .type = ZV_OPT_ENUM,
     .def = "event",
     .choices = SCHEDULES,
     POL(schedule_index),
     .description = "how often this destination is sent to"},
    {.name = "max_age",
     .type = ZV_OPT_DURATION,
     .flags = ZV_OPT_SECONDS,
     .def = "7d",
     .min = 1000,
     POL(max_age_s),
     .description = "retry until a payload is this old"},
    {.name = "concurrency",
     .type = ZV_OPT_INT,
     .def = "4",
     .min = 1,
     .max = 256,
     POL(concurrency),
     .description = "payloads in flight at once"},
    {.name = "timeout",
     .type = ZV_OPT_DURATION,
     .def = "30s",
     .min = 100,
     POL(timeout_ms),
     .description = "per delivery attempt"},
    {.name = "backoff_initial",
     .type = ZV_OPT_DURATION,
     .def = "1s",
     .min = 10,
     POL(backoff_initial_ms),
     .description = "first retry delay, doubled per attempt with jitter"},
    {.name = "backoff_max",
     .type = ZV_OPT_DURATION,
     .def = "5m",
     .min = 10,
     POL(backoff_max_ms),
     .description = "longest retry delay (not below backoff_initial)"},
    {.name = "circuit_failures",
     .type = ZV_OPT_INT,
     .def = "5",
     .min = 1,
     .max = 1000,
     POL(circuit_failures),
     .description = "consecutive failures that open the circuit"},
    {.name = "circuit_cooldown",
     .type = ZV_OPT_DURATION,
     .flags = ZV_OPT_SECONDS,
     .def = "60s",
     .min = 1000,
     POL(circuit_cooldown_s),
     .description = "an open circuit waits this long before one probe"},
    {.name = "max_records",
     .type = ZV_OPT_INT,
     .def = "5000",
     .min = 1,
     .max = 1000000,
     POL(max_records),
     .description = "records rendered per work unit (one commit)"},
    {.name = "max_bytes",
     .type = ZV_OPT_SIZE,
     .def = "8MiB",
     .min = 1024,
     .max = 1LL << 30,
     POL(max_bytes),
     .description = "largest message sent; bigger ones are split"},
};
_Static_assert(sizeof(zv_level) == sizeof(int), "threshold is stored as an int");

#define TABLE(a, conf)                                                                             \
    {                                                                                              \
        .options = (a), .count = sizeof(a) / sizeof((a)[0]), .conf_size = (conf)                   \
    }
const zv_conf_table zv_conf_tables[] = {
    {"", TABLE(top_options, sizeof(top_conf))},
    {"organisation", TABLE(org_options, sizeof(org_conf))},
    {"http", TABLE(http_options, 0)},
    {"http.limits", TABLE(limit_options, sizeof(zv_http_limits))},
    {"sources[]", TABLE(source_options, 0)},
    {"destinations[]", TABLE(dest_options, 0)},
    {"destinations[].policy", TABLE(policy_options, sizeof(zv_policy))},
};
const size_t zv_conf_ntables = sizeof(zv_conf_tables) / sizeof(zv_conf_tables[0]);
enum { T_TOP, T_ORG, T_HTTP, T_LIMITS, T_SOURCE, T_DEST, T_POLICY };

struct loader {
    const char *file;
    zv_errors *errs;
    const char *path; /* of the object being checked */
};

static void add_error(void *arg, const char *key, const char *msg)
{
    struct loader *L = arg;
    char sub[256];
    zv_path_key(sub, sizeof(sub), L->path, key);
    zv_errors_add(L->errs, L->file, sub, "%s", msg);
}

/* Check obj (at path) against table t; set filled (and kept by the caller)
 * or freed here when keep is NULL.  The filled struct is copied to out. */
static int load_table(struct loader *L, int t, const zv_json *obj, const char *path,
                      const char *base_dir, void *out, zv_optset *keep)
{
    zv_optset set;
    zv_optspec spec = zv_conf_tables[t].spec;
    spec.base_dir = base_dir;
    L->path = path;
    int rc = zv_optset_resolve(&set, &spec, obj, add_error, L);
    if (out && set.conf) memcpy(out, set.conf, spec.conf_size);
    if (keep)
        *keep = set;
    else
        zv_optset_free(&set);
    return rc;
}

static const char *get_str(const zv_json *obj, const char *key)
{
    return zv_json_str(zv_json_get(obj, key), NULL);
}

static int valid_name(const char *s)
{
    if (!s || !*s || strlen(s) > 64) return 0;
    for (; *s; s++)
        if (!(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9') && *s != '-' && *s != '_')
            return 0;
    return 1;
}

static void load_policy(struct loader *L, const zv_json *pol, const char *path, zv_policy *p)
{
    load_table(L, T_POLICY, pol, path, NULL, p, NULL);
    p->schedule = zv_schedules[p->schedule_index];
    if (p->backoff_max_ms < p->backoff_initial_ms) {
        char sub[256];
        zv_path_key(sub, sizeof(sub), path, "backoff_max");
        zv_errors_add(L->errs, L->file, sub, "must not be smaller than backoff_initial");
    }
}

static void check_unique(struct loader *L, const char *path, const char *what, const char *name,
                         const char *const *seen, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (seen[i] && name && strcmp(seen[i], name) == 0)
            zv_errors_add(L->errs, L->file, path, "duplicate %s name \"%s\"", what, name);
}

static void load_sources(struct loader *L, zv_config *cfg, const zv_json *arr)
{
    size_t n = zv_json_len(arr);
    cfg->sources = calloc(n ? n : 1, sizeof(*cfg->sources));
    const char **names = calloc(n ? n : 1, sizeof(*names));
    if (!cfg->sources || !names) {
        free(names);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        zv_source_conf *s = &cfg->sources[cfg->nsources++];
        zv_path_index(s->path, sizeof(s->path), "sources", i);
        const zv_json *o = zv_json_at(arr, i);
        if (zv_json_type_of(o) != ZV_JSON_OBJECT) {
            zv_errors_add(L->errs, L->file, s->path, "expected object, got %s",
                          zv_json_type_name(zv_json_type_of(o)));
            continue;
        }
        load_table(L, T_SOURCE, o, s->path, NULL, NULL, NULL);
        s->name = get_str(o, "name");
        s->type = get_str(o, "type");
        char sub[64];
        zv_path_key(sub, sizeof(sub), s->path, "name");
        if (s->name && *s->name && !valid_name(s->name))
            zv_errors_add(L->errs, L->file, sub,
                          "use lower-case letters, digits, '-' and '_' (at most 64)");
        check_unique(L, sub, "source", s->name, names, i);
        names[i] = s->name;
        s->options = zv_json_get(o, "options");
        s->mapping = zv_json_get(o, "mapping");
    }
    free(names);
}

static void load_dests(struct loader *L, zv_config *cfg, const zv_json *arr)
{
    size_t n = zv_json_len(arr);
    cfg->dests = calloc(n ? n : 1, sizeof(*cfg->dests));
    const char **names = calloc(n ? n : 1, sizeof(*names));
    if (!cfg->dests || !names) {
        free(names);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        zv_dest_conf *d = &cfg->dests[cfg->ndests++];
        zv_path_index(d->path, sizeof(d->path), "destinations", i);
        load_policy(L, NULL, "", &d->policy); /* the defaults */
        const zv_json *o = zv_json_at(arr, i);
        if (zv_json_type_of(o) != ZV_JSON_OBJECT) {
            zv_errors_add(L->errs, L->file, d->path, "expected object, got %s",
                          zv_json_type_name(zv_json_type_of(o)));
            continue;
        }
        load_table(L, T_DEST, o, d->path, NULL, NULL, NULL);
        d->name = get_str(o, "name");
        d->format = get_str(o, "format");
        d->transport = get_str(o, "transport");
        char sub[64];
        zv_path_key(sub, sizeof(sub), d->path, "name");
        if (d->name && *d->name && !valid_name(d->name))
            zv_errors_add(L->errs, L->file, sub,
                          "use lower-case letters, digits, '-' and '_' (at most 64)");
        check_unique(L, sub, "destination", d->name, names, i);
        names[i] = d->name;
        d->format_options = zv_json_get(o, "format_options");
        d->transport_options = zv_json_get(o, "transport_options");
        d->catalogue = zv_json_get(o, "catalogue");
        d->match = zv_json_get(o, "match");
        zv_path_key(sub, sizeof(sub), d->path, "policy");
        load_policy(L, zv_json_get(o, "policy"), sub, &d->policy);
    }
    free(names);
}

char *zv_config_path(const zv_config *cfg, const char *p)
{
    if (!p) return NULL;
    if (p[0] == '/') return strdup(p);
    size_t len = strlen(cfg->dir) + strlen(p) + 2;
    char *out = malloc(len);
    if (out) snprintf(out, len, "%s/%s", cfg->dir, p);
    return out;
}

static char *config_dir(const char *file)
{
    char *copy = strdup(file);
    if (!copy) return NULL;
    char *d = dirname(copy);
    char real[PATH_MAX];
    char *out = strdup(realpath(d, real) ? real : d);
    free(copy);
    return out;
}

static void load_org(struct loader *L, zv_config *cfg, const zv_json *org)
{
    org_conf o = {0};
    load_table(L, T_ORG, org, "organisation", NULL, &o, &cfg->org_opts);
    cfg->org_agb = o.agb;
    cfg->org_name = o.name;
    if (cfg->org_agb && !zv_agb_valid(cfg->org_agb, strlen(cfg->org_agb)))
        zv_errors_add(L->errs, L->file, "organisation.agb", "an AGB code has 8 digits");
}

static void load_top(struct loader *L, zv_config *cfg, const zv_json *root,
                     const zv_config_overrides *ov)
{
    top_conf t = {0};
    zv_optset set;
    zv_optspec spec = zv_conf_tables[T_TOP].spec;
    spec.base_dir = cfg->dir;
    L->path = "";
    zv_optset_resolve(&set, &spec, root, add_error, L);
    if (set.conf) t = *(top_conf *)set.conf;
    cfg->state_dir =
        ov && ov->state_dir ? zv_config_path(cfg, ov->state_dir) : zv_strdup0(t.state_dir);
    const char *store = t.store ? t.store : "zinvol.db";
    if (zv_store_is_url(store) || t.store_password_file) {
        char err[512];
        zv_store_target tg;
        if (zv_store_target_parse(store, cfg->state_dir, t.store_password_file, &tg, err,
                                  sizeof(err)) < 0)
            zv_errors_add(L->errs, L->file, t.store_password_file ? "store_password_file" : "store",
                          "%s", err);
        else
            zv_store_target_free(&tg);
        cfg->store_password_file = zv_strdup0(t.store_password_file);
    }
    cfg->store_lease_ms = t.store_lease_ms;
    cfg->node = zv_strdup0(t.node);
    if (zv_store_is_url(store) || store[0] == '/' || !cfg->state_dir) {
        cfg->store_path = strdup(store);
    } else {
        size_t len = strlen(cfg->state_dir) + strlen(store) + 2;
        cfg->store_path = malloc(len);
        if (cfg->store_path) snprintf(cfg->store_path, len, "%s/%s", cfg->state_dir, store);
    }
    cfg->plugin_dir =
        ov && ov->plugin_dir ? zv_config_path(cfg, ov->plugin_dir) : zv_strdup0(t.plugin_dir);
    cfg->catalogue_dir = zv_strdup0(t.catalogue_dir);
    cfg->log_level = t.log_level == 5 ? ZV_LOG_WARN : (zv_log_level)t.log_level;
    cfg->retention_s = t.retention_s;
    zv_optset_free(&set);
    if (zv_json_type_of(t.org) == ZV_JSON_OBJECT) load_org(L, cfg, t.org);
    load_table(L, T_HTTP, t.http, "http", NULL, NULL, NULL);
    cfg->listen = get_str(t.http, "listen");
    load_table(L, T_LIMITS, zv_json_get(t.http, "limits"), "http.limits", NULL, &cfg->http_limits,
               NULL);
}

zv_config *zv_config_load(const char *file, const zv_config_overrides *ov, zv_errors *errs)
{
    zv_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg) return NULL;
    cfg->file = strdup(file);
    cfg->dir = config_dir(file);
    struct loader L = {file, errs, ""};
    char err[512];
    size_t before = errs->n;
    cfg->doc = zv_json_parse_file(file, ZV_JSON_COMMENTS, err, sizeof(err));
    if (!cfg->doc) {
        zv_errors_add(errs, file, "", "%s", err);
        zv_config_free(cfg);
        return NULL;
    }
    const zv_json *root = zv_json_root(cfg->doc);
    if (zv_json_type_of(root) != ZV_JSON_OBJECT) {
        zv_errors_add(errs, file, "", "the configuration must be a JSON object");
        zv_config_free(cfg);
        return NULL;
    }
    load_top(&L, cfg, root, ov);
    load_sources(&L, cfg, zv_json_get(root, "sources"));
    load_dests(&L, cfg, zv_json_get(root, "destinations"));
    zv_admin_conf_load(cfg, root, errs);
    if (cfg->ndests == 0 && errs->n == before)
        zv_log(ZV_LOG_WARN, "config", "%s: no destinations: nothing will be sent", file);
    if (errs->n != before) {
        zv_config_free(cfg);
        return NULL;
    }
    return cfg;
}

void zv_config_free(zv_config *cfg)
{
    if (!cfg) return;
    free(cfg->file);
    free(cfg->dir);
    free(cfg->state_dir);
    free(cfg->store_path);
    free(cfg->store_password_file);
    free(cfg->node);
    free(cfg->plugin_dir);
    free(cfg->catalogue_dir);
    free(cfg->sources);
    free(cfg->dests);
    zv_admin_conf_free(&cfg->admin);
    zv_optset_free(&cfg->org_opts);
    zv_json_free(cfg->doc);
    free(cfg);
}
