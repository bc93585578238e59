/* Checking an option table itself, and describing it (--describe, READMEs). */
#include "optmap_int.h"

#include <stdlib.h>
#include <string.h>

static int bad(char *err, size_t errlen, const char *name, const char *why)
{
    snprintf(err, errlen, "option '%s': %s", name ? name : "(no name)", why);
    return -1;
}

static int check_default(const zv_option *o, char *err, size_t errlen)
{
    if (!o->def) return 0;
    if (o->flags & ZV_OPT_REQUIRED) return bad(err, errlen, o->name, "required but has a default");
    if (o->type == ZV_OPT_OBJECT || o->type == ZV_OPT_ARRAY)
        return bad(err, errlen, o->name, "objects and arrays take no default");
    zv_optval v = {.opt = *o};
    char msg[300], why[400];
    int rc = zv_optval_from_text(&v, o->def, NULL, msg, sizeof(msg));
    if (rc == 0) rc = zv_optval_check_range(&v, msg, sizeof(msg));
    free(v.str);
    if (rc == 0) return 0;
    snprintf(why, sizeof(why), "bad default \"%s\": %s", o->def, msg);
    return bad(err, errlen, o->name, why);
}

/* Members inside the struct and not overlapping another option's. */
static int check_slots(const zv_optspec *spec, size_t k, const zv_option *o, char *err,
                       size_t errlen)
{
    size_t end = o->offset + zv_opt_slot_size(o->type);
    if (end > spec->conf_size) return bad(err, errlen, o->name, "member outside the config struct");
    zv_option p;
    for (size_t i = 0; i < k && zv_optspec_get(spec, i, &p) == 0; i++) {
        if (!p.name) continue;
        size_t pend = p.offset + zv_opt_slot_size(p.type);
        if (o->offset < pend && p.offset < end) {
            char why[200];
            snprintf(why, sizeof(why), "its member overlaps the one of '%s' (offset missing?)",
                     p.name);
            return bad(err, errlen, o->name, why);
        }
    }
    return 0;
}

int zv_optspec_check(const zv_optspec *spec, char *err, size_t errlen)
{
    zv_option o, p;
    for (size_t k = 0; zv_optspec_get(spec, k, &o) == 0; k++) {
        if (!o.name) continue;
        if (o.type < ZV_OPT_STRING || o.type > ZV_OPT_PATH)
            return bad(err, errlen, o.name, "unknown type");
        for (size_t i = 0; i < k && zv_optspec_get(spec, i, &p) == 0; i++)
            if (p.name && strcmp(p.name, o.name) == 0)
                return bad(err, errlen, o.name, "declared twice");
        if (o.type == ZV_OPT_ENUM && (!o.choices || !*o.choices))
            return bad(err, errlen, o.name, "an enum needs choices");
        if (o.max && o.max < o.min) return bad(err, errlen, o.name, "max is below min");
        if (check_default(&o, err, errlen) < 0) return -1;
        if (spec->conf_size && check_slots(spec, k, &o, err, errlen) < 0) return -1;
    }
    return 0;
}

/* "integer, 1 to 256", "duration, at least 100ms", "one of: jw, wmo". */
static void type_text(const zv_option *o, char *out, size_t len)
{
    int64_t min, max;
    char lo[32] = "", hi[32] = "";
    const char *name = zv_opt_type_name(o->type);
    if (o->type == ZV_OPT_ENUM) {
        size_t n = (size_t)snprintf(out, len, "one of: ");
        for (const char *c = o->choices; *c && n + 2 < len; c++)
            n += (size_t)snprintf(out + n, len - n, *c == '|' ? ", " : "%c", *c);
        return;
    }
    int ranged = o->type == ZV_OPT_INT || o->type == ZV_OPT_SIZE || o->type == ZV_OPT_DURATION;
    if (!ranged || (!o->min && !o->max)) {
        snprintf(out, len, "%s", name);
        return;
    }
    zv_opt_int_range(o, &min, &max);
    if (o->type == ZV_OPT_DURATION) {
        zv_opt_fmt_duration(min, lo, sizeof(lo));
        zv_opt_fmt_duration(max, hi, sizeof(hi));
    } else if (o->type == ZV_OPT_SIZE) {
        zv_opt_fmt_size(min, lo, sizeof(lo));
        zv_opt_fmt_size(max, hi, sizeof(hi));
    } else {
        snprintf(lo, sizeof(lo), "%lld", (long long)min);
        snprintf(hi, sizeof(hi), "%lld", (long long)max);
    }
    if (o->max)
        snprintf(out, len, "%s, %s to %s", name, lo, hi);
    else
        snprintf(out, len, "%s, at least %s", name, lo);
}

static const char *default_text(const zv_option *o)
{
    if (o->flags & ZV_OPT_REQUIRED) return "required";
    return o->def ? o->def : "-";
}

/* The description with '|' escaped for a markdown cell. */
static void md_cell(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|') fputc('\\', out);
        fputc(*s == '\n' ? ' ' : *s, out);
    }
}

void zv_optspec_describe(FILE *out, const zv_optspec *spec, int markdown)
{
    zv_option o;
    char type[256];
    if (markdown) fprintf(out, "| option | type | default | description |\n|---|---|---|---|\n");
    for (size_t k = 0; zv_optspec_get(spec, k, &o) == 0; k++) {
        if (!o.name) continue;
        type_text(&o, type, sizeof(type));
        const char *def = o.def && !*o.def ? "\"\"" : default_text(&o);
        const char *secret = (o.flags & ZV_OPT_SECRET) ? " (secret: never logged)" : "";
        if (!markdown) {
            fprintf(out, "  %-22s %-34s %-20s %s%s\n", o.name, type, def,
                    o.description ? o.description : "", secret);
            continue;
        }
        fprintf(out, "| `%s` | ", o.name);
        md_cell(out, type);
        if (o.def && !*o.def)
            fprintf(out, " | `\"\"` | ");
        else if (o.def && !(o.flags & ZV_OPT_REQUIRED))
            fprintf(out, " | `%s` | ", def);
        else
            fprintf(out, " | %s | ", def);
        md_cell(out, o.description);
        fprintf(out, "%s |\n", secret);
    }
}
