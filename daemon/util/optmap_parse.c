/* Option values as the user writes them: durations, sizes, enum choices. */
#include <zinvol/optmap.h>

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Whole decimal number at s; *end past it.  -1 when none or too large. */
static int read_count(const char *s, const char **end, int64_t *out)
{
    int64_t v = 0;
    const char *p = s;
    if (!isdigit((unsigned char)*p)) return -1;
    for (; isdigit((unsigned char)*p); p++) {
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *end = p;
    *out = v;
    return 0;
}

static int scaled(int64_t v, int64_t mult, int64_t *out)
{
    if (v > INT64_MAX / mult) return -1;
    *out = v * mult;
    return 0;
}

int zv_opt_duration_text_ms(const char *s, int64_t *ms)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    const char *end;
    int64_t v;
    if (!s || read_count(s, &end, &v) < 0) return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(end, units[i].unit) == 0) return scaled(v, units[i].ms, ms);
    return -1;
}

int zv_opt_duration_ms(const zv_json *v, int64_t *ms)
{
    int64_t n;
    if (zv_json_type_of(v) == ZV_JSON_NUMBER)
        return zv_json_int(v, &n) == 0 && n >= 0 ? scaled(n, 1000, ms) : -1;
    return zv_opt_duration_text_ms(zv_json_str(v, NULL), ms);
}

int zv_opt_size_text(const char *s, int64_t *bytes)
{
    static const struct {
        const char *unit;
        int64_t mult;
    } units[] = {{"", 1},
                 {"B", 1},
                 {"K", 1024},
                 {"KiB", 1024},
                 {"KB", 1000},
                 {"M", 1024 * 1024},
                 {"MiB", 1024 * 1024},
                 {"MB", 1000 * 1000},
                 {"G", 1024LL * 1024 * 1024},
                 {"GiB", 1024LL * 1024 * 1024},
                 {"GB", 1000LL * 1000 * 1000}};
    const char *end;
    int64_t v;
    if (!s || read_count(s, &end, &v) < 0) return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcasecmp(end, units[i].unit) == 0) return scaled(v, units[i].mult, bytes);
    return -1;
}

int zv_opt_size(const zv_json *v, int64_t *bytes)
{
    if (zv_json_type_of(v) == ZV_JSON_NUMBER)
        return zv_json_int(v, bytes) == 0 && *bytes >= 0 ? 0 : -1;
    return zv_opt_size_text(zv_json_str(v, NULL), bytes);
}

int zv_opt_choice(const char *choices, const char *s)
{
    if (!choices || !s) return -1;
    size_t len = strlen(s);
    int i = 0;
    for (const char *p = choices;; i++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && strncmp(p, s, n) == 0) return i;
        if (!bar) return -1;
        p = bar + 1;
    }
}

const char *zv_opt_type_name(zv_opt_type t)
{
    switch (t) {
    case ZV_OPT_STRING:
        return "string";
    case ZV_OPT_INT:
        return "integer";
    case ZV_OPT_BOOL:
        return "boolean";
    case ZV_OPT_NUMBER:
        return "number";
    case ZV_OPT_OBJECT:
        return "object";
    case ZV_OPT_ARRAY:
        return "array";
    case ZV_OPT_DURATION:
        return "duration";
    case ZV_OPT_SIZE:
        return "size";
    case ZV_OPT_ENUM:
        return "enum";
    case ZV_OPT_PATH:
        return "path";
    }
    return "?";
}
