/*
 * Config loading: structure, types, unknown keys and defaults.  Every problem
 * is collected (not just the first) so an operator fixes a file in one pass.
 */
#include "config.h"
#include "log.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

typedef struct keyspec {
    const char *name;
    zv_json_type type; /* ZV_JSON_NULL here means "string or number" (durations) */
} keyspec;

#define DURATION ZV_JSON_NULL

static const keyspec top_keys[] = {{"state_dir", ZV_JSON_STRING},
                                   {"store", ZV_JSON_STRING},
                                   {"catalogue_dir", ZV_JSON_STRING},
                                   {"plugin_dir", ZV_JSON_STRING},
                                   {"log_level", ZV_JSON_STRING},
                                   {"organisation", ZV_JSON_OBJECT},
                                   {"http", ZV_JSON_OBJECT},
                                   {"retention", DURATION},
                                   {"sources", ZV_JSON_ARRAY},
                                   {"destinations", ZV_JSON_ARRAY},
                                   /* daemon/admin/admin_conf.c checks inside these */
                                   {"admin", ZV_JSON_OBJECT},
                                   {"metrics", ZV_JSON_OBJECT},
                                   {"health", ZV_JSON_OBJECT},
                                   {NULL, 0}};
static const keyspec org_keys[] = {{"agb", ZV_JSON_STRING}, {"name", ZV_JSON_STRING}, {NULL, 0}};
static const keyspec http_keys[] = {
    {"listen", ZV_JSON_STRING}, {"limits", ZV_JSON_OBJECT}, {NULL, 0}};
static const keyspec limit_keys[] = {
    {"max_connections", ZV_JSON_NUMBER}, {"max_header_size", ZV_JSON_NUMBER},
    {"max_body_size", ZV_JSON_NUMBER},   {"request_timeout", DURATION},
    {"idle_timeout", DURATION},          {NULL, 0}};
static const keyspec source_keys[] = {{"name", ZV_JSON_STRING},
                                      {"type", ZV_JSON_STRING},
                                      {"options", ZV_JSON_OBJECT},
                                      {"mapping", ZV_JSON_OBJECT},
                                      {NULL, 0}};
static const keyspec dest_keys[] = {{"name", ZV_JSON_STRING},
                                    {"format", ZV_JSON_STRING},
                                    {"transport", ZV_JSON_STRING},
                                    {"format_options", ZV_JSON_OBJECT},
                                    {"transport_options", ZV_JSON_OBJECT},
                                    {"catalogue", ZV_JSON_OBJECT},
                                    {"match", ZV_JSON_OBJECT},
                                    {"policy", ZV_JSON_OBJECT},
                                    {NULL, 0}};
static const keyspec policy_keys[] = {{"threshold", ZV_JSON_STRING},
                                      {"batch_window", DURATION},
                                      {"schedule", ZV_JSON_STRING},
                                      {"max_age", DURATION},
                                      {"concurrency", ZV_JSON_NUMBER},
                                      {"timeout", DURATION},
                                      {"backoff_initial", DURATION},
                                      {"backoff_max", DURATION},
                                      {"circuit_failures", ZV_JSON_NUMBER},
                                      {"circuit_cooldown", DURATION},
                                      {"max_records", ZV_JSON_NUMBER},
                                      {"max_bytes", ZV_JSON_NUMBER},
                                      {NULL, 0}};

const char *const zv_schedules[] = {"event",       "daily",  "weekly",   "monthly", "quarterly",
                                    "half-yearly", "yearly", "3-yearly", NULL};

struct loader {
    const char *file;
    zv_errors *errs;
};

/* Reject unknown keys and wrong types; returns 0 when the object is clean.
 * Callers hand in whatever the file holds under a key: anything but an
 * object has no keys to check (its type was reported one level up). */
static int check_keys(struct loader *L, const zv_json *obj, const char *path, const keyspec *spec)
{
    if (zv_json_type_of(obj) != ZV_JSON_OBJECT) return 1;
    int bad = 0;
    char sub[256];
    for (size_t i = 0; i < zv_json_len(obj); i++) {
        const char *key = zv_json_key_at(obj, i);
        const zv_json *v = zv_json_at(obj, i);
        if (!key) continue;
        zv_path_key(sub, sizeof(sub), path, key);
        const keyspec *k = spec;
        while (k->name && strcmp(k->name, key) != 0)
            k++;
        if (!k->name) {
            zv_errors_add(L->errs, L->file, sub, "unknown key");
            bad = 1;
            continue;
        }
        zv_json_type t = zv_json_type_of(v);
        if (k->type == DURATION) {
            if (t != ZV_JSON_STRING && t != ZV_JSON_NUMBER) {
                zv_errors_add(L->errs, L->file, sub,
                              "expected a duration like \"30s\", \"5m\", \"7d\", got %s",
                              zv_json_type_name(t));
                bad = 1;
            }
        } else if (t != k->type) {
            zv_errors_add(L->errs, L->file, sub, "expected %s, got %s", zv_json_type_name(k->type),
                          zv_json_type_name(t));
            bad = 1;
        }
    }
    return bad;
}

static const char *get_str(const zv_json *obj, const char *key)
{
    return zv_json_str(zv_json_get(obj, key), NULL);
}

/* Durations in the config: "500ms", "30s", "5m", "2h", "7d" or seconds.
 * Returns milliseconds, -1 when malformed. */
/* Longer than any sane duration (about 292 years), and far from overflow. */
#define DURATION_MAX_S (INT64_MAX / 1000 / 1000)

static int64_t duration_ms(const zv_json *v)
{
    int64_t n;
    if (zv_json_int(v, &n) == 0) return n >= 0 && n <= DURATION_MAX_S ? n * 1000 : -1;
    const char *s = zv_json_str(v, NULL);
    if (!s) return -1;
    size_t len = strlen(s);
    if (len > 2 && strcmp(s + len - 2, "ms") == 0) {
        char *end;
        long long ms = strtoll(s, &end, 10);
        return (end == s + len - 2 && ms >= 0) ? ms : -1;
    }
    int64_t sec = zv_duration_parse(s);
    return sec < 0 || sec > DURATION_MAX_S ? -1 : sec * 1000;
}

static void get_duration(struct loader *L, const zv_json *obj, const char *path, const char *key,
                         int64_t *out_ms, int64_t min_ms)
{
    const zv_json *v = zv_json_get(obj, key);
    zv_json_type t = zv_json_type_of(v);
    /* Absent, or of the wrong type (check_keys said so already). */
    if (!v || (t != ZV_JSON_STRING && t != ZV_JSON_NUMBER)) return;
    char sub[256];
    zv_path_key(sub, sizeof(sub), path, key);
    int64_t ms = duration_ms(v);
    if (ms < 0)
        zv_errors_add(L->errs, L->file, sub,
                      "malformed duration (use e.g. \"30s\", \"5m\", \"7d\")");
    else if (ms < min_ms)
        zv_errors_add(L->errs, L->file, sub, "must be at least %lld ms", (long long)min_ms);
    else
        *out_ms = ms;
}

static void get_int(struct loader *L, const zv_json *obj, const char *path, const char *key,
                    int *out, int min, int max)
{
    const zv_json *v = zv_json_get(obj, key);
    if (!v) return;
    char sub[256];
    zv_path_key(sub, sizeof(sub), path, key);
    int64_t n;
    if (zv_json_int(v, &n) < 0 || n < min || n > max)
        zv_errors_add(L->errs, L->file, sub, "expected a whole number from %d to %d", min, max);
    else
        *out = (int)n;
}

static int valid_name(const char *s)
{
    if (!s || !*s || strlen(s) > 64) return 0;
    for (; *s; s++)
        if (!(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9') && *s != '-' && *s != '_')
            return 0;
    return 1;
}

static void policy_defaults(zv_policy *p)
{
    p->threshold = ZV_LEVEL_CONTRACT;
    p->batch_window_s = 60;
    p->schedule = "event";
    p->max_age_s = 7 * 86400;
    p->concurrency = 4;
    p->timeout_ms = 30000;
    p->backoff_initial_ms = 1000;
    p->backoff_max_ms = 300000;
    p->circuit_failures = 5;
    p->circuit_cooldown_s = 60;
    p->max_records = 5000;
    p->max_bytes = 8 << 20;
}

/* Bounds of the HTTP listener against hostile clients (see httpd.c). */
static void load_limits(struct loader *L, const zv_json *lim, zv_http_limits *l)
{
    l->max_connections = 256;
    l->max_header_size = 16 * 1024;
    l->max_body_size = 1024 * 1024;
    l->request_timeout_ms = 20000;
    l->idle_timeout_ms = 30000;
    if (zv_json_type_of(lim) != ZV_JSON_OBJECT) return;
    const char *path = "http.limits";
    check_keys(L, lim, path, limit_keys);
    get_int(L, lim, path, "max_connections", &l->max_connections, 1, 65536);
    get_int(L, lim, path, "max_header_size", &l->max_header_size, 1024, 1024 * 1024);
    get_int(L, lim, path, "max_body_size", &l->max_body_size, 1, 256 * 1024 * 1024);
    get_duration(L, lim, path, "request_timeout", &l->request_timeout_ms, 100);
    get_duration(L, lim, path, "idle_timeout", &l->idle_timeout_ms, 100);
}

static void load_policy(struct loader *L, const zv_json *pol, const char *path, zv_policy *p)
{
    policy_defaults(p);
    if (zv_json_type_of(pol) != ZV_JSON_OBJECT) return;
    check_keys(L, pol, path, policy_keys);
    char sub[256];
    const char *th = get_str(pol, "threshold");
    if (th) {
        int lvl = zv_level_by_name(th);
        zv_path_key(sub, sizeof(sub), path, "threshold");
        if (lvl < 0)
            zv_errors_add(L->errs, L->file, sub,
                          "unknown level \"%s\" (expected law, standard, regulator, contract, "
                          "sector, internal or none)",
                          th);
        else
            p->threshold = (zv_level)lvl;
    }
    const char *sch = get_str(pol, "schedule");
    if (sch) {
        int i = 0;
        while (zv_schedules[i] && strcmp(zv_schedules[i], sch) != 0)
            i++;
        zv_path_key(sub, sizeof(sub), path, "schedule");
        if (!zv_schedules[i])
            zv_errors_add(L->errs, L->file, sub,
                          "unknown schedule \"%s\" (expected event, daily, weekly, monthly, "
                          "quarterly, half-yearly, yearly or 3-yearly)",
                          sch);
        else
            p->schedule = zv_schedules[i];
    }
    int64_t ms = p->batch_window_s * 1000;
    get_duration(L, pol, path, "batch_window", &ms, 0);
    p->batch_window_s = ms / 1000;
    ms = p->max_age_s * 1000;
    get_duration(L, pol, path, "max_age", &ms, 1000);
    p->max_age_s = ms / 1000;
    ms = p->circuit_cooldown_s * 1000;
    get_duration(L, pol, path, "circuit_cooldown", &ms, 1000);
    p->circuit_cooldown_s = ms / 1000;
    get_duration(L, pol, path, "timeout", &p->timeout_ms, 100);
    get_duration(L, pol, path, "backoff_initial", &p->backoff_initial_ms, 10);
    get_duration(L, pol, path, "backoff_max", &p->backoff_max_ms, 10);
    get_int(L, pol, path, "concurrency", &p->concurrency, 1, 256);
    get_int(L, pol, path, "circuit_failures", &p->circuit_failures, 1, 1000);
    get_int(L, pol, path, "max_records", &p->max_records, 1, 1000000);
    get_int(L, pol, path, "max_bytes", &p->max_bytes, 1024, 1 << 30);
    if (p->backoff_max_ms < p->backoff_initial_ms) {
        zv_path_key(sub, sizeof(sub), path, "backoff_max");
        zv_errors_add(L->errs, L->file, sub, "must not be smaller than backoff_initial");
    }
}

static void require_str(struct loader *L, const zv_json *obj, const char *path, const char *key,
                        const char **out)
{
    char sub[256];
    zv_path_key(sub, sizeof(sub), path, key);
    const zv_json *v = zv_json_get(obj, key);
    *out = zv_json_str(v, NULL);
    if (!v)
        zv_errors_add(L->errs, L->file, sub, "missing (required)");
    else if (*out && !**out)
        zv_errors_add(L->errs, L->file, sub, "must not be empty");
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
        check_keys(L, o, s->path, source_keys);
        require_str(L, o, s->path, "name", &s->name);
        require_str(L, o, s->path, "type", &s->type);
        char sub[64];
        zv_path_key(sub, sizeof(sub), s->path, "name");
        if (s->name && *s->name && !valid_name(s->name))
            zv_errors_add(L->errs, L->file, sub,
                          "use lower-case letters, digits, '-' and '_' (at most 64)");
        check_unique(L, sub, "source", s->name, names, i);
        names[i] = s->name;
        s->options = zv_json_get(o, "options");
        s->mapping = zv_json_get(o, "mapping");
        zv_path_key(sub, sizeof(sub), s->path, "mapping");
        if (!s->mapping) zv_errors_add(L->errs, L->file, sub, "missing (required)");
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
        policy_defaults(&d->policy);
        const zv_json *o = zv_json_at(arr, i);
        if (zv_json_type_of(o) != ZV_JSON_OBJECT) {
            zv_errors_add(L->errs, L->file, d->path, "expected object, got %s",
                          zv_json_type_name(zv_json_type_of(o)));
            continue;
        }
        check_keys(L, o, d->path, dest_keys);
        require_str(L, o, d->path, "name", &d->name);
        require_str(L, o, d->path, "format", &d->format);
        require_str(L, o, d->path, "transport", &d->transport);
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

static void load_top(struct loader *L, zv_config *cfg, const zv_json *root,
                     const zv_config_overrides *ov)
{
    check_keys(L, root, "", top_keys);
    const char *sd = ov && ov->state_dir ? ov->state_dir : get_str(root, "state_dir");
    cfg->state_dir = zv_config_path(cfg, sd ? sd : ZV_DEFAULT_STATE_DIR);
    const char *store = get_str(root, "store");
    store = store ? store : "zinvol.db";
    if (store[0] == '/') {
        cfg->store_path = strdup(store);
    } else {
        size_t len = strlen(cfg->state_dir) + strlen(store) + 2;
        cfg->store_path = malloc(len);
        if (cfg->store_path) snprintf(cfg->store_path, len, "%s/%s", cfg->state_dir, store);
    }
    const char *pd = ov && ov->plugin_dir ? ov->plugin_dir : get_str(root, "plugin_dir");
    cfg->plugin_dir = zv_config_path(cfg, pd ? pd : ZV_PLUGIN_DIR);
    const char *cd = get_str(root, "catalogue_dir");
    cfg->catalogue_dir = zv_config_path(cfg, cd ? cd : "catalogue");

    cfg->log_level = ZV_LOG_INFO;
    const char *ll = get_str(root, "log_level");
    if (ll) {
        int lvl = zv_log_level_by_name(ll);
        if (lvl < 0)
            zv_errors_add(L->errs, L->file, "log_level",
                          "unknown level \"%s\" (error, warning, notice, info, debug)", ll);
        else
            cfg->log_level = (zv_log_level)lvl;
    }
    const zv_json *org = zv_json_get(root, "organisation");
    if (zv_json_type_of(org) == ZV_JSON_OBJECT) {
        check_keys(L, org, "organisation", org_keys);
        cfg->org_agb = get_str(org, "agb");
        cfg->org_name = get_str(org, "name");
        if (cfg->org_agb && !zv_agb_valid(cfg->org_agb, strlen(cfg->org_agb)))
            zv_errors_add(L->errs, L->file, "organisation.agb", "an AGB code has 8 digits");
    }
    const zv_json *http = zv_json_get(root, "http");
    check_keys(L, http, "http", http_keys);
    cfg->listen = get_str(http, "listen");
    load_limits(L, zv_json_get(http, "limits"), &cfg->http_limits);
    int64_t ms = 30LL * 86400 * 1000;
    get_duration(L, root, "", "retention", &ms, 1000);
    cfg->retention_s = ms / 1000;
}

zv_config *zv_config_load(const char *file, const zv_config_overrides *ov, zv_errors *errs)
{
    zv_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg) return NULL;
    cfg->file = strdup(file);
    cfg->dir = config_dir(file);
    struct loader L = {file, errs};
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
    free(cfg->plugin_dir);
    free(cfg->catalogue_dir);
    free(cfg->sources);
    free(cfg->dests);
    zv_admin_conf_free(&cfg->admin);
    zv_json_free(cfg->doc);
    free(cfg);
}
