/* The legal chain behind catalogue levels: see chain.h. */
#include "chain.h"

#include <stdlib.h>
#include <string.h>

static const char *const VERIFIED[] = {"verified", "partly", "unverified"};

const char *zv_verified_name(zv_verified v)
{
    return (unsigned)v <= ZV_UNVERIFIED ? VERIFIED[v] : "unverified";
}

void zv_chain_clear(zv_chain *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->links[i].instrument);
        free(c->links[i].source);
    }
    free(c->links);
    c->links = NULL;
    c->n = 0;
}

int zv_chain_copy(const zv_chain *from, zv_chain *to)
{
    to->links = calloc(from->n ? from->n : 1, sizeof(zv_link));
    to->n = 0;
    if (!to->links) return -1;
    for (size_t i = 0; i < from->n; i++) {
        const zv_link *l = &from->links[i];
        to->links[i] = (zv_link){strdup(l->instrument), l->verified,
                                 l->source ? strdup(l->source) : NULL};
        to->n++;
    }
    return 0;
}

static int parse_link(const zv_json *o, const char *file, const char *p, zv_link *l,
                      zv_errors *errs)
{
    char q[512];
    if (zv_json_type_of(o) != ZV_JSON_OBJECT) {
        zv_errors_add(errs, file, p, "expected an object {\"instrument\", \"verified\"}");
        return -1;
    }
    for (size_t i = 0; i < zv_json_len(o); i++) {
        const char *k = zv_json_key_at(o, i);
        if (strcmp(k, "instrument") && strcmp(k, "verified") && strcmp(k, "source")) {
            zv_path_key(q, sizeof(q), p, k);
            zv_errors_add(errs, file, q, "unknown key (expected instrument, verified, source)");
            return -1;
        }
    }
    const char *ins = zv_json_str(zv_json_get(o, "instrument"), NULL);
    const char *ver = zv_json_str(zv_json_get(o, "verified"), NULL);
    const char *src = zv_json_str(zv_json_get(o, "source"), NULL);
    if (!ins || !*ins) {
        zv_path_key(q, sizeof(q), p, "instrument");
        zv_errors_add(errs, file, q, "missing (required): the article or instrument");
        return -1;
    }
    int v = -1;
    for (int i = 0; ver && i <= ZV_UNVERIFIED; i++)
        if (strcmp(ver, VERIFIED[i]) == 0) v = i;
    if (v < 0) {
        zv_path_key(q, sizeof(q), p, "verified");
        zv_errors_add(errs, file, q, "expected \"verified\", \"partly\" or \"unverified\"");
        return -1;
    }
    *l = (zv_link){strdup(ins), (zv_verified)v, src ? strdup(src) : NULL};
    return l->instrument ? 0 : -1;
}

int zv_chain_parse(const zv_json *v, const char *file, const char *path, zv_chain *out,
                   zv_errors *errs)
{
    memset(out, 0, sizeof(*out));
    if (zv_json_type_of(v) != ZV_JSON_ARRAY || zv_json_len(v) == 0) {
        zv_errors_add(errs, file, path, "expected a non-empty array of links");
        return -1;
    }
    out->links = calloc(zv_json_len(v), sizeof(zv_link));
    if (!out->links) return -1;
    for (size_t i = 0; i < zv_json_len(v); i++) {
        char p[512];
        zv_path_index(p, sizeof(p), path, i);
        if (parse_link(zv_json_at(v, i), file, p, &out->links[i], errs) < 0) {
            zv_chain_clear(out);
            return -1;
        }
        out->n++;
    }
    return 0;
}

void zv_prescribed_clear(zv_prescribed *p)
{
    zv_chain_clear(&p->by);
    free(p->option);
    for (size_t i = 0; i < p->nvalues; i++)
        free(p->values[i]);
    free(p->values);
    free(p->fallback);
    free(p->note);
    memset(p, 0, sizeof(*p));
}

static int parse_when(const zv_json *w, const char *file, zv_prescribed *out, zv_errors *errs)
{
    const char *opt = zv_json_str(zv_json_get(w, "option"), NULL);
    const zv_json *in = zv_json_get(w, "in");
    const char *def = zv_json_str(zv_json_get(w, "default"), NULL);
    if (!opt || zv_json_type_of(in) != ZV_JSON_ARRAY || zv_json_len(in) == 0) {
        zv_errors_add(errs, file, "prescribed.when",
                      "expected {\"option\": name, \"in\": [values], \"default\": value}");
        return -1;
    }
    out->option = strdup(opt);
    out->fallback = def ? strdup(def) : NULL;
    out->values = calloc(zv_json_len(in), sizeof(char *));
    if (!out->option || !out->values) return -1;
    for (size_t i = 0; i < zv_json_len(in); i++) {
        const char *s = zv_json_str(zv_json_at(in, i), NULL);
        if (!s) {
            zv_errors_add(errs, file, "prescribed.when.in", "expected strings");
            return -1;
        }
        if (!(out->values[out->nvalues++] = strdup(s))) return -1;
    }
    return 0;
}

int zv_prescribed_parse(const zv_json *v, const char *file, zv_prescribed *out, zv_errors *errs)
{
    memset(out, 0, sizeof(*out));
    if (zv_json_type_of(v) != ZV_JSON_OBJECT) {
        zv_errors_add(errs, file, "prescribed", "expected an object {\"by\", \"when\", \"note\"}");
        return -1;
    }
    out->present = 1;
    int rc = 0;
    for (size_t i = 0; i < zv_json_len(v); i++) {
        const char *k = zv_json_key_at(v, i);
        char p[256];
        zv_path_key(p, sizeof(p), "prescribed", k);
        if (!strcmp(k, "by")) {
            const zv_json *by = zv_json_get(v, "by");
            if (zv_json_type_of(by) == ZV_JSON_ARRAY && zv_json_len(by) == 0) continue;
            rc |= zv_chain_parse(by, file, p, &out->by, errs);
        } else if (!strcmp(k, "when")) {
            rc |= parse_when(zv_json_get(v, k), file, out, errs);
        } else if (!strcmp(k, "note")) {
            const char *s = zv_json_str(zv_json_get(v, k), NULL);
            if (!s) {
                zv_errors_add(errs, file, p, "expected a string");
                rc = -1;
            } else if (!(out->note = strdup(s))) {
                rc = -1;
            }
        } else {
            zv_errors_add(errs, file, p, "unknown key (expected by, when, note)");
            rc = -1;
        }
    }
    if (rc == 0 && out->by.n == 0 && !out->note) {
        zv_errors_add(errs, file, "prescribed",
                      "an empty \"by\" needs a \"note\" saying why the standard is not prescribed");
        rc = -1;
    }
    if (rc < 0) zv_prescribed_clear(out);
    return rc;
}

int zv_prescribed_applies(const zv_prescribed *p, const zv_json *format_options)
{
    if (!p || !p->present || p->by.n == 0) return 0;
    if (!p->option) return 1;
    const char *val = zv_json_str(zv_json_get(format_options, p->option), NULL);
    if (!val) val = p->fallback;
    for (size_t i = 0; val && i < p->nvalues; i++)
        if (strcmp(p->values[i], val) == 0) return 1;
    return 0;
}
