/* One option value: read from JSON or a default's text, range-checked, stored. */
#include "optmap_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "a, b or c" from "a|b|c". */
static void choice_list(const char *choices, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (const char *p = choices; p && *p && o + 1 < len;) {
        const char *bar = strchr(p, '|');
        int n = bar ? (int)(bar - p) : (int)strlen(p);
        const char *sep = o == 0 ? "" : bar ? ", " : " or ";
        o += (size_t)snprintf(out + o, len - o, "%s%.*s", sep, n, p);
        p = bar ? bar + 1 : NULL;
    }
}

static void expectation(const zv_option *o, char *out, size_t len)
{
    char list[256];
    switch (o->type) {
    case ZV_OPT_DURATION:
        snprintf(out, len, "a duration like \"500ms\", \"30s\", \"5m\", \"7d\"");
        break;
    case ZV_OPT_SIZE:
        snprintf(out, len, "a size like 65536, \"64KiB\", \"8MiB\"");
        break;
    case ZV_OPT_ENUM:
        choice_list(o->choices, list, sizeof(list));
        snprintf(out, len, "one of %s", list);
        break;
    case ZV_OPT_PATH:
        snprintf(out, len, "string");
        break;
    default:
        snprintf(out, len, "%s", zv_opt_type_name(o->type));
    }
}

static int set_text(zv_optval *v, const char *s, const char *base_dir, char *msg, size_t msglen)
{
    const zv_option *o = &v->opt;
    char *end;
    char list[256];
    switch (o->type) {
    case ZV_OPT_STRING:
        v->str = strdup(s);
        return v->str ? 0 : -1;
    case ZV_OPT_PATH:
        if (base_dir && s[0] != '/' && s[0]) {
            size_t n = strlen(base_dir) + strlen(s) + 2;
            if ((v->str = malloc(n))) snprintf(v->str, n, "%s/%s", base_dir, s);
        } else {
            v->str = strdup(s);
        }
        return v->str ? 0 : -1;
    case ZV_OPT_ENUM:
        v->i = zv_opt_choice(o->choices, s);
        if (v->i >= 0) return (v->str = strdup(s)) ? 0 : -1; /* for cfg_str() */
        choice_list(o->choices, list, sizeof(list));
        snprintf(msg, msglen, "unknown value \"%s\" (expected %s)", s, list);
        return -1;
    case ZV_OPT_DURATION:
        if (zv_opt_duration_text_ms(s, &v->i) == 0) return 0;
        snprintf(msg, msglen, "malformed duration (use e.g. \"500ms\", \"30s\", \"5m\", \"7d\")");
        return -1;
    case ZV_OPT_SIZE:
        if (zv_opt_size_text(s, &v->i) == 0) return 0;
        snprintf(msg, msglen, "malformed size (use e.g. 65536, \"64KiB\", \"8MiB\")");
        return -1;
    case ZV_OPT_INT:
        v->i = strtoll(s, &end, 10);
        if (*s && !*end) return 0;
        break;
    case ZV_OPT_BOOL:
        v->i = strcmp(s, "true") == 0;
        if (v->i || strcmp(s, "false") == 0) return 0;
        break;
    case ZV_OPT_NUMBER:
        v->d = strtod(s, &end);
        if (*s && !*end) return 0;
        break;
    case ZV_OPT_OBJECT:
    case ZV_OPT_ARRAY:
        break;
    }
    snprintf(msg, msglen, "not a valid %s", zv_opt_type_name(o->type));
    return -1;
}

int zv_optval_from_text(zv_optval *v, const char *text, const char *base_dir, char *msg,
                        size_t msglen)
{
    return set_text(v, text, base_dir, msg, msglen);
}

int zv_optval_from_json(zv_optval *v, const zv_json *j, const char *base_dir, const char *owner,
                        char *msg, size_t msglen)
{
    const zv_option *o = &v->opt;
    zv_json_type t = zv_json_type_of(j);
    int ok_type;
    switch (o->type) {
    case ZV_OPT_DURATION:
    case ZV_OPT_SIZE:
        ok_type = t == ZV_JSON_STRING || t == ZV_JSON_NUMBER;
        break;
    case ZV_OPT_INT:
    case ZV_OPT_NUMBER:
        ok_type = t == ZV_JSON_NUMBER;
        break;
    case ZV_OPT_BOOL:
        ok_type = t == ZV_JSON_BOOL;
        break;
    case ZV_OPT_OBJECT:
        ok_type = t == ZV_JSON_OBJECT;
        break;
    case ZV_OPT_ARRAY:
        ok_type = t == ZV_JSON_ARRAY;
        break;
    default:
        ok_type = t == ZV_JSON_STRING;
    }
    if (!ok_type) {
        char want[320];
        expectation(o, want, sizeof(want));
        if (owner)
            snprintf(msg, msglen, "%s expects %s, got %s", owner, want, zv_json_type_name(t));
        else
            snprintf(msg, msglen, "expected %s, got %s", want, zv_json_type_name(t));
        return -1;
    }
    int b;
    switch (o->type) {
    case ZV_OPT_DURATION:
        if (t == ZV_JSON_STRING) break;
        if (zv_opt_duration_ms(j, &v->i) == 0) return 0;
        snprintf(msg, msglen, "malformed duration (use e.g. \"500ms\", \"30s\", \"5m\", \"7d\")");
        return -1;
    case ZV_OPT_SIZE:
        if (t == ZV_JSON_STRING) break;
        if (zv_opt_size(j, &v->i) == 0) return 0;
        snprintf(msg, msglen, "malformed size (use e.g. 65536, \"64KiB\", \"8MiB\")");
        return -1;
    case ZV_OPT_INT:
        if (zv_json_int(j, &v->i) == 0) return 0;
        /* 1.5, 1e30: report it as the range does */
        v->i = INT64_MIN;
        return zv_optval_check_range(v, msg, msglen);
    case ZV_OPT_BOOL:
        zv_json_bool(j, &b);
        v->i = b;
        return 0;
    case ZV_OPT_NUMBER:
        return zv_json_number(j, &v->d);
    case ZV_OPT_OBJECT:
    case ZV_OPT_ARRAY:
        v->json = j;
        return 0;
    default:
        break;
    }
    return set_text(v, zv_json_str(j, NULL), base_dir, msg, msglen);
}

void zv_opt_int_range(const zv_option *o, int64_t *min, int64_t *max)
{
    *min = o->min;
    *max = o->max ? o->max : o->type == ZV_OPT_INT ? INT_MAX : INT64_MAX;
    if (o->type == ZV_OPT_INT && *min < INT_MIN) *min = INT_MIN;
    if (o->type == ZV_OPT_INT && *max > INT_MAX) *max = INT_MAX;
}

void zv_opt_fmt_duration(int64_t ms, char *out, size_t len)
{
    static const struct {
        int64_t ms;
        const char *unit;
    } u[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    for (size_t i = 0; ms && i < sizeof(u) / sizeof(u[0]); i++)
        if (ms % u[i].ms == 0) {
            snprintf(out, len, "%lld%s", (long long)(ms / u[i].ms), u[i].unit);
            return;
        }
    snprintf(out, len, ms ? "%lldms" : "0s", (long long)ms);
}

void zv_opt_fmt_size(int64_t b, char *out, size_t len)
{
    static const struct {
        int64_t mult;
        const char *unit;
    } u[] = {{1LL << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}};
    for (size_t i = 0; b && i < sizeof(u) / sizeof(u[0]); i++)
        if (b % u[i].mult == 0) {
            snprintf(out, len, "%lld %s", (long long)(b / u[i].mult), u[i].unit);
            return;
        }
    snprintf(out, len, b == 1 ? "%lld byte" : "%lld bytes", (long long)b);
}

static int range_msg(const zv_option *o, int64_t x, char *msg, size_t msglen)
{
    int64_t min, max;
    zv_opt_int_range(o, &min, &max);
    if (x >= min && x <= max) return 0;
    char lo[32], hi[32];
    int below = x < min;
    if (o->type == ZV_OPT_DURATION) {
        zv_opt_fmt_duration(min, lo, sizeof(lo));
        zv_opt_fmt_duration(max, hi, sizeof(hi));
    } else if (o->type == ZV_OPT_SIZE) {
        zv_opt_fmt_size(min, lo, sizeof(lo));
        zv_opt_fmt_size(max, hi, sizeof(hi));
    } else if (o->type == ZV_OPT_INT) {
        if (o->max)
            snprintf(msg, msglen, "expected a whole number from %lld to %lld", (long long)min,
                     (long long)max);
        else
            snprintf(msg, msglen, "expected a whole number of at least %lld", (long long)min);
        return -1;
    } else {
        snprintf(lo, sizeof(lo), "%lld characters", (long long)min);
        snprintf(hi, sizeof(hi), "%lld characters", (long long)max);
        if (below && min == 1) {
            snprintf(msg, msglen, "must not be empty");
            return -1;
        }
    }
    snprintf(msg, msglen, "must be at %s %s", below ? "least" : "most", below ? lo : hi);
    return -1;
}

int zv_optval_check_range(const zv_optval *v, char *msg, size_t msglen)
{
    const zv_option *o = &v->opt;
    switch (o->type) {
    case ZV_OPT_INT:
    case ZV_OPT_SIZE:
    case ZV_OPT_DURATION:
        return range_msg(o, v->i, msg, msglen);
    case ZV_OPT_STRING:
    case ZV_OPT_PATH:
        return range_msg(o, (int64_t)strlen(v->str), msg, msglen);
    case ZV_OPT_NUMBER:
        if ((o->min || o->max) && (v->d < (double)o->min || (o->max && v->d > (double)o->max))) {
            snprintf(msg, msglen, "expected a number from %lld to %lld", (long long)o->min,
                     (long long)o->max);
            return -1;
        }
        return 0;
    default:
        return 0;
    }
}

size_t zv_opt_slot_size(zv_opt_type t)
{
    switch (t) {
    case ZV_OPT_STRING:
    case ZV_OPT_PATH:
        return sizeof(const char *);
    case ZV_OPT_OBJECT:
    case ZV_OPT_ARRAY:
        return sizeof(const zv_json *);
    case ZV_OPT_NUMBER:
        return sizeof(double);
    case ZV_OPT_DURATION:
    case ZV_OPT_SIZE:
        return sizeof(int64_t);
    default:
        return sizeof(int);
    }
}

void zv_optval_store(const zv_optval *v, void *conf)
{
    char *at = (char *)conf + v->opt.offset;
    const char *s = v->str;
    int n = (int)v->i;
    int64_t x = v->i;
    switch (v->opt.type) {
    case ZV_OPT_STRING:
    case ZV_OPT_PATH:
        memcpy(at, &s, sizeof(s));
        break;
    case ZV_OPT_OBJECT:
    case ZV_OPT_ARRAY:
        memcpy(at, &v->json, sizeof(v->json));
        break;
    case ZV_OPT_NUMBER:
        memcpy(at, &v->d, sizeof(v->d));
        break;
    case ZV_OPT_DURATION:
        if (v->opt.flags & ZV_OPT_SECONDS) x /= 1000;
        memcpy(at, &x, sizeof(x));
        break;
    case ZV_OPT_SIZE:
        memcpy(at, &x, sizeof(x));
        break;
    default:
        memcpy(at, &n, sizeof(n));
    }
}
