/*
 * A netwerkmodel release as data (netwerkmodel/<release>/release.json): the
 * published query templates (kept as published, matched by normal form),
 * the claims header and scope the PEP forwards, the notification event
 * table and the SDL-to-register map the executor walks.
 */
#include "lvr.h"
#include "gql.h"
#include "nmc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *need(const zv_json *o, const char *key, const char *dir, char *err,
                        size_t errlen)
{
    const char *s = zv_json_str(zv_json_pointer(o, key), NULL);
    if (!s) snprintf(err, errlen, "%s/release.json: %s: missing (a string)", dir, key);
    return s;
}

static int load_templates(lvr *l, const char *dir, char *err, size_t errlen)
{
    const zv_json *a = zv_json_get(zv_json_root(l->rel), "templates");
    size_t n = zv_json_len(a);
    l->tmpl = calloc(n ? n : 1, sizeof(*l->tmpl));
    if (!l->tmpl) return -1;
    for (size_t i = 0; i < n; i++) {
        const char *id = zv_json_str(zv_json_get(zv_json_at(a, i), "id"), NULL);
        const char *file = zv_json_str(zv_json_get(zv_json_at(a, i), "file"), NULL);
        if (!id || !file) {
            snprintf(err, errlen, "%s/release.json: templates[%zu]: id and file are needed", dir,
                     i);
            return -1;
        }
        char path[2048], perr[256];
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        size_t len = 0;
        char *text = zv_nm_slurp(path, GQL_MAX_SIZE, &len);
        int got = text != NULL;
        gql_doc *d = got ? gql_parse(text, len, perr, sizeof(perr)) : NULL;
        free(text);
        if (!d) {
            snprintf(err, errlen, "%s: %s", path, got ? perr : "cannot read");
            return -1;
        }
        l->tmpl[l->ntmpl].id = strdup(id);
        l->tmpl[l->ntmpl].norm = gql_normalise(d);
        gql_doc_free(d);
        if (!l->tmpl[l->ntmpl].id || !l->tmpl[l->ntmpl].norm) return -1;
        l->ntmpl++;
    }
    if (!l->ntmpl) {
        snprintf(err, errlen, "%s/release.json: templates: none", dir);
        return -1;
    }
    return 0;
}

/* The zendMelding document error reports arrive with (RFC0018). */
static int load_melding(lvr *l, const char *dir, char *err, size_t errlen)
{
    const zv_json *m = zv_json_get(zv_json_root(l->rel), "melding");
    const char *file = zv_json_str(zv_json_get(m, "template"), NULL);
    l->melding_scope = zv_json_str(zv_json_get(m, "scope"), NULL);
    l->melding_events = zv_json_get(m, "event_types");
    if (!file || !l->melding_scope || zv_json_type_of(l->melding_events) != ZV_JSON_ARRAY) {
        snprintf(err, errlen,
                 "%s/release.json: melding: template, scope and event_types are needed", dir);
        return -1;
    }
    char path[2048], perr[256];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    size_t len = 0;
    char *text = zv_nm_slurp(path, GQL_MAX_SIZE, &len);
    int got = text != NULL;
    gql_doc *d = got ? gql_parse(text, len, perr, sizeof(perr)) : NULL;
    free(text);
    if (!d) {
        snprintf(err, errlen, "%s: %s", path, got ? perr : "cannot read");
        return -1;
    }
    l->melding_norm = gql_normalise(d);
    gql_doc_free(d);
    return l->melding_norm ? 0 : -1;
}

int lvr_release_load(lvr *l, const char *dir, char *err, size_t errlen)
{
    char path[2048], jerr[256];
    snprintf(path, sizeof(path), "%s/release.json", dir);
    l->rel = zv_json_parse_file(path, 0, jerr, sizeof(jerr));
    if (!l->rel) {
        snprintf(err, errlen, "%s: %s", path, jerr);
        return -1;
    }
    const zv_json *root = zv_json_root(l->rel);
    if (!(l->claims_header = need(root, "/claims_header", dir, err, errlen)) ||
        !(l->scope = need(root, "/scope", dir, err, errlen)) ||
        !(l->prefix = need(root, "/raadpleger_prefix", dir, err, errlen)) ||
        !(l->mutation = need(root, "/notification/mutation", dir, err, errlen)) ||
        !(l->afzender_type = need(root, "/notification/afzender_id_type", dir, err, errlen)) ||
        !(l->ontvanger_type = need(root, "/notification/ontvanger_id_type", dir, err, errlen)))
        return -1;
    l->types = zv_json_get(root, "types");
    l->roots = zv_json_get(root, "roots");
    l->events = zv_json_pointer(root, "/notification/events");
    if (zv_json_type_of(l->types) != ZV_JSON_OBJECT ||
        zv_json_type_of(l->roots) != ZV_JSON_OBJECT ||
        zv_json_type_of(l->events) != ZV_JSON_OBJECT) {
        snprintf(err, errlen, "%s: types, roots and notification.events must be objects", path);
        return -1;
    }
    if (load_templates(l, dir, err, errlen) < 0) return -1;
    return load_melding(l, dir, err, errlen);
}

void lvr_release_free(lvr *l)
{
    for (size_t i = 0; i < l->ntmpl; i++) {
        free(l->tmpl[i].id);
        free(l->tmpl[i].norm);
    }
    free(l->tmpl);
    l->tmpl = NULL;
    free(l->melding_norm);
    l->melding_norm = NULL;
    l->ntmpl = 0;
    zv_json_free(l->rel);
    l->rel = NULL;
}

const lvr_template *lvr_template_match(const lvr *l, const char *norm)
{
    for (size_t i = 0; i < l->ntmpl; i++)
        if (!strcmp(l->tmpl[i].norm, norm)) return &l->tmpl[i];
    return NULL;
}
