/*
 * The Bemiddelingsregister release as data (netwerkmodel/<release>/
 * release.json): the zendNotificatie documents accepted (by normal form),
 * the event table, the query template sent as published with its
 * variables, and where in the answer the objects and their ids are.
 */
#include "bmr.h"
#include "../fmt_leveringsregister/gql.h"
#include "nmc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A template file of the release, parsed: its text (kept) and normal form. */
static int load_doc(const char *dir, const char *file, char **text, char **norm, char *err,
                    size_t errlen)
{
    char path[2048], perr[256];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    char *t = zv_nm_slurp(path, GQL_MAX_SIZE, NULL);
    gql_doc *d = t ? gql_parse(t, strlen(t), perr, sizeof(perr)) : NULL;
    if (!d) {
        snprintf(err, errlen, "%s: %s", path, t ? perr : "cannot read");
        free(t);
        return -1;
    }
    *norm = gql_normalise(d);
    gql_doc_free(d);
    if (text)
        *text = t;
    else
        free(t);
    return *norm ? 0 : -1;
}

static const char *need(bmr *b, const char *ptr, const char *dir, char *err, size_t errlen)
{
    const char *s = zv_json_str(zv_json_pointer(zv_json_root(b->rel), ptr), NULL);
    if (!s) snprintf(err, errlen, "%s/release.json: %s: missing (a string)", dir, ptr);
    return s;
}

int bmr_release_load(bmr *b, const char *dir, char *err, size_t errlen)
{
    char path[2048], jerr[256];
    snprintf(path, sizeof(path), "%s/release.json", dir);
    if (!(b->rel = zv_json_parse_file(path, 0, jerr, sizeof(jerr)))) {
        snprintf(err, errlen, "%s: %s", path, jerr);
        return -1;
    }
    const zv_json *root = zv_json_root(b->rel);
    const char *qfile;
    if (!(b->claims_header = need(b, "/claims_header", dir, err, errlen)) ||
        !(b->prefix = need(b, "/sender_prefix", dir, err, errlen)) ||
        !(b->scope_in = need(b, "/notification/scope", dir, err, errlen)) ||
        !(b->record_pattern = need(b, "/notification/record", dir, err, errlen)) ||
        !(qfile = need(b, "/query/template", dir, err, errlen)) ||
        !(b->answer_root = need(b, "/query/answer", dir, err, errlen)) ||
        !(b->record_ptr = need(b, "/query/record_id", dir, err, errlen)) ||
        !(b->item_type = need(b, "/query/item_type", dir, err, errlen)) ||
        !(b->tok.scope = need(b, "/query/scope", dir, err, errlen)))
        return -1;
    b->events = zv_json_pointer(root, "/notification/events");
    b->vars = zv_json_pointer(root, "/query/variables");
    b->ontvanger_types = zv_json_pointer(root, "/notification/ontvanger_id_types");
    if (zv_json_type_of(b->events) != ZV_JSON_OBJECT ||
        zv_json_type_of(b->vars) != ZV_JSON_OBJECT || !strstr(b->record_pattern, "{id}")) {
        snprintf(err, errlen,
                 "%s: notification.events, query.variables (objects) and "
                 "notification.record (with {id}) are needed",
                 path);
        return -1;
    }
    char *norm = NULL;
    if (load_doc(dir, qfile, &b->query, &norm, err, errlen) < 0) return -1;
    free(norm);
    const zv_json *t = zv_json_pointer(root, "/notification/templates");
    b->norms = calloc(zv_json_len(t) + 1, sizeof(char *));
    if (!b->norms) return -1;
    for (size_t i = 0; i < zv_json_len(t); i++) {
        const char *f = zv_json_str(zv_json_at(t, i), NULL);
        if (!f || load_doc(dir, f, NULL, &b->norms[b->nnorms], err, errlen) < 0) {
            if (!f) snprintf(err, errlen, "%s: notification.templates[%zu]: a file name", path, i);
            return -1;
        }
        b->nnorms++;
    }
    if (!b->nnorms) {
        snprintf(err, errlen, "%s: notification.templates: none", path);
        return -1;
    }
    return 0;
}

void bmr_release_free(bmr *b)
{
    for (size_t i = 0; i < b->nnorms; i++)
        free(b->norms[i]);
    free(b->norms);
    free(b->query);
    zv_json_free(b->rel);
}
