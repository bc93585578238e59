/*
 * Checking a JSON object against a zv_option table and filling the config
 * struct; see include/zinvol/optmap.h.  Every problem is reported (not just
 * the first), each naming its option.
 */
#include <zinvol/optmap.h>

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "optmap_int.h"

int zv_optspec_get(const zv_optspec *spec, size_t i, zv_option *out)
{
    if (i >= spec->count) return -1;
    size_t stride = spec->stride ? spec->stride : sizeof(zv_option);
    memset(out, 0, sizeof(*out));
    memcpy(out, (const char *)spec->options + i * stride,
           stride < sizeof(*out) ? stride : sizeof(*out));
    return 0;
}

void zv_descriptor_optspec(const zv_plugin_descriptor *d, zv_optspec *spec)
{
    memset(spec, 0, sizeof(*spec));
    spec->options = d->options;
    spec->count = d->options ? d->noptions : 0;
    spec->stride = d->option_size ? d->option_size : sizeof(zv_option);
    spec->conf_size = d->config_size;
}

typedef struct report {
    zv_opt_error_fn fn;
    void *arg;
    int n;
} report;

static void say(report *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(report *r, const char *key, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->n++;
    if (r->fn) r->fn(r->arg, key, msg);
}

static void known_list(const zv_optspec *spec, char *out, size_t len)
{
    size_t o = 0;
    zv_option d;
    out[0] = '\0';
    for (size_t i = 0; zv_optspec_get(spec, i, &d) == 0 && o + 2 < len; i++)
        if (d.name) o += (size_t)snprintf(out + o, len - o, "%s%s", o ? ", " : "", d.name);
}

static void unknown_key(const zv_optspec *spec, const char *key, report *r)
{
    char known[1024];
    if (!spec->owner) {
        say(r, key, "unknown key");
        return;
    }
    known_list(spec, known, sizeof(known));
    say(r, key, "unknown option for %s (known: %s)", spec->owner, known[0] ? known : "none");
}

/* One declaration: given value, else default, else required / unset. */
static void resolve_one(zv_optset *set, const zv_optspec *spec, zv_optval *v, const zv_json *given,
                        report *r)
{
    const zv_option *o = &v->opt;
    const zv_json *j = zv_json_get(given, o->name);
    char msg[400];
    int rc;
    if (j)
        rc = zv_optval_from_json(v, j, spec->base_dir, spec->owner, msg, sizeof(msg));
    else if (o->def)
        rc = zv_optval_from_text(v, o->def, spec->base_dir, msg, sizeof(msg));
    else {
        if (o->flags & ZV_OPT_REQUIRED) {
            if (spec->owner)
                say(r, o->name, "missing: %s requires it (%s)", spec->owner,
                    o->description ? o->description : "");
            else
                say(r, o->name, "missing (required)");
        }
        return;
    }
    if (rc == 0) rc = zv_optval_check_range(v, msg, sizeof(msg));
    if (rc < 0) {
        if (j)
            say(r, o->name, "%s", msg);
        else
            say(r, o->name, "%s has a bad default \"%s\": %s", spec->owner ? spec->owner : "zinvol",
                o->def, msg);
        return;
    }
    v->set = 1;
    v->given = j != NULL;
    if (set->conf) zv_optval_store(v, set->conf);
}

int zv_optset_resolve(zv_optset *set, const zv_optspec *spec, const zv_json *given,
                      zv_opt_error_fn err, void *arg)
{
    report r = {err, arg, 0};
    memset(set, 0, sizeof(*set));
    set->v = calloc(spec->count ? spec->count : 1, sizeof(*set->v));
    set->conf_size = spec->conf_size;
    set->conf = spec->conf_size ? calloc(1, spec->conf_size) : NULL;
    if (!set->v || (spec->conf_size && !set->conf)) {
        say(&r, "", "out of memory");
        return -1;
    }
    set->n = spec->count;
    for (size_t k = 0; k < spec->count; k++)
        zv_optspec_get(spec, k, &set->v[k].opt);
    if (zv_json_type_of(given) != ZV_JSON_OBJECT) given = NULL;
    /* Given keys in the file's order, so the errors read as the file does. */
    unsigned char *done = calloc(spec->count ? spec->count : 1, 1);
    for (size_t i = 0; done && i < zv_json_len(given); i++) {
        const char *key = zv_json_key_at(given, i);
        size_t k = 0;
        while (k < set->n && !(set->v[k].opt.name && strcmp(set->v[k].opt.name, key) == 0))
            k++;
        if (k == set->n) {
            unknown_key(spec, key, &r);
        } else if (!done[k]) {
            done[k] = 1;
            resolve_one(set, spec, &set->v[k], given, &r);
        }
    }
    for (size_t k = 0; k < set->n; k++)
        if (set->v[k].opt.name && !(done && done[k])) resolve_one(set, spec, &set->v[k], given, &r);
    free(done);
    return r.n ? -1 : 0;
}

void zv_optset_free(zv_optset *set)
{
    for (size_t k = 0; k < set->n; k++)
        free(set->v[k].str);
    free(set->v);
    free(set->conf);
    memset(set, 0, sizeof(*set));
}

const zv_optval *zv_optset_find(const zv_optset *set, const char *name)
{
    for (size_t k = 0; k < set->n; k++)
        if (set->v[k].opt.name && strcmp(set->v[k].opt.name, name) == 0)
            return set->v[k].set ? &set->v[k] : NULL;
    return NULL;
}
