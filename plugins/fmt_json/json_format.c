/*
 * Generic JSON format ("json"): for receivers without an iStandaard
 * (dashboards, a regional monitor, a CBS set described by a catalogue).
 *
 * The plugin has no field list of its own: it writes exactly the fields
 * present in the minimised records it is handed, so the destination's
 * catalogue (catalogue.file in the config) alone decides what leaves.
 * The payload layout is documented in README.md and zinvol-json.schema.json.
 */
#include <zinvol/plugin.h>
#include <zinvol/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_NAME "zinvol-json"
#define FORMAT_VERSION 1

typedef struct json_fmt {
    zv_ctx *ctx;
    const zv_host *host;
    int nest;
    int pretty;
    int accept[ZV_KIND_COUNT]; /* which record kinds classify() takes */
} json_fmt;

/* The options as the core stores them (host->config()). */
typedef struct json_conf {
    const zv_json *kinds;
    int nest, pretty;
} json_conf;

static const zv_option options[] = {
    {.name = "kinds",
     .type = ZV_OPT_ARRAY,
     ZV_OPT_AT(json_conf, kinds),
     .description = "record kinds to accept: `client`, `entitlement`, `delivery`, `declaration`; "
                    "absent: all.  An unknown kind is a config error."},
    {.name = "nest",
     .type = ZV_OPT_BOOL,
     .def = "false",
     ZV_OPT_AT(json_conf, nest),
     .description = "`true`: fields as one object per group (`{\"client\": {\"bsn\": ...}}`) "
                    "instead of flat dotted names"},
    {.name = "pretty",
     .type = ZV_OPT_BOOL,
     .def = "false",
     ZV_OPT_AT(json_conf, pretty),
     .description = "indent the output"},
};

static const zv_message_decl messages[] = {
    {"JSON", NULL /* the destination names its catalogue via catalogue.file */,
     "Generic zinvol JSON document, one per batch"}};

static int read_kinds(json_fmt *f, const zv_json *kinds, char *err, size_t errlen)
{
    if (!kinds) { /* the core checked it is an array when given */
        for (int k = 0; k < ZV_KIND_COUNT; k++)
            f->accept[k] = 1;
        return 0;
    }
    for (size_t i = 0; i < zv_json_len(kinds); i++) {
        const char *name = zv_json_str(zv_json_at(kinds, i), NULL);
        int k = name ? zv_kind_by_name(name) : -1;
        if (k < 0) {
            snprintf(err, errlen,
                     "option kinds[%zu]: \"%s\" is not a record kind (client, entitlement, "
                     "delivery, declaration)",
                     i, name ? name : "(not a string)");
            return -1;
        }
        f->accept[k] = 1;
    }
    return 0;
}

static int json_create(zv_ctx *ctx, const zv_host *host, void **state, char *err, size_t errlen)
{
    json_fmt *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    f->ctx = ctx;
    f->host = host;
    const json_conf *c = host->config(ctx);
    f->nest = c->nest;
    f->pretty = c->pretty;
    if (read_kinds(f, c->kinds, err, errlen) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static void json_destroy(void *state)
{
    free(state);
}

static int json_classify(void *state, const zv_record *rec)
{
    json_fmt *f = state;
    if ((unsigned)rec->kind >= ZV_KIND_COUNT) return -1;
    return f->accept[rec->kind] ? 0 : -1;
}

/* Length of the group prefix of a canonical name ("client" in "client.bsn"). */
static size_t group_len(const char *name)
{
    const char *dot = strchr(name, '.');
    return dot ? (size_t)(dot - name) : strlen(name);
}

/* Fields this plugin knows by name: ids beyond its ZV_FIELDS are skipped,
 * since it could not name them. */
static uint32_t known_fields(const zv_record *rec)
{
    return rec->nfields < ZV_FIELD_COUNT ? rec->nfields : (uint32_t)ZV_FIELD_COUNT;
}

static void write_flat(zv_jw *w, const zv_record *rec)
{
    uint32_t n = known_fields(rec);
    for (uint32_t i = 0; i < n; i++) {
        const zv_value *v = zv_rec_get(rec, (zv_field_id)i);
        if (!v) continue;
        zv_jw_key(w, zv_field_def_of((zv_field_id)i)->name);
        zv_jw_strn(w, v->str, v->len);
    }
}

/* Nested: one object per group, groups in the order of their first field.
 * Fields of one group need not be adjacent in ZV_FIELDS (append-only). */
static void write_nested(zv_jw *w, const zv_record *rec)
{
    uint32_t n = known_fields(rec);
    for (uint32_t i = 0; i < n; i++) {
        if (!zv_rec_get(rec, (zv_field_id)i)) continue;
        const char *name = zv_field_def_of((zv_field_id)i)->name;
        size_t glen = group_len(name);
        int seen = 0;
        for (uint32_t j = 0; j < i && !seen; j++) {
            if (!zv_rec_get(rec, (zv_field_id)j)) continue;
            const char *other = zv_field_def_of((zv_field_id)j)->name;
            seen = group_len(other) == glen && strncmp(other, name, glen) == 0;
        }
        if (seen) continue;
        char group[64];
        snprintf(group, sizeof(group), "%.*s", (int)glen, name);
        zv_jw_key(w, group);
        zv_jw_obj_open(w);
        for (uint32_t j = i; j < n; j++) {
            const zv_value *v = zv_rec_get(rec, (zv_field_id)j);
            const char *other = zv_field_def_of((zv_field_id)j)->name;
            if (!v || group_len(other) != glen || strncmp(other, name, glen) != 0) continue;
            zv_jw_key(w, other[glen] == '.' ? other + glen + 1 : other);
            zv_jw_strn(w, v->str, v->len);
        }
        zv_jw_obj_close(w);
    }
}

static void write_record(json_fmt *f, zv_jw *w, const zv_record *rec)
{
    zv_jw_obj_open(w);
    zv_jw_key(w, "kind");
    zv_jw_str(w, zv_kind_name(rec->kind));
    zv_jw_key(w, "source");
    zv_jw_str(w, rec->prov.source);
    zv_jw_key(w, "record_id");
    zv_jw_str(w, rec->prov.record_id);
    zv_jw_key(w, "fields");
    zv_jw_obj_open(w);
    if (f->nest)
        write_nested(w, rec);
    else
        write_flat(w, rec);
    zv_jw_obj_close(w);
    zv_jw_obj_close(w);
}

static void write_document(json_fmt *f, zv_jw *w, const zv_batch *b)
{
    char generated[21];
    zv_time_iso(b->now, generated);
    zv_jw_obj_open(w);
    zv_jw_key(w, "format");
    zv_jw_str(w, FORMAT_NAME);
    zv_jw_key(w, "version");
    zv_jw_int(w, FORMAT_VERSION);
    zv_jw_key(w, "destination");
    zv_jw_str(w, b->destination);
    zv_jw_key(w, "batch_id");
    zv_jw_str(w, b->batch_id);
    zv_jw_key(w, "generated");
    zv_jw_str(w, generated);
    zv_jw_key(w, "records");
    zv_jw_arr_open(w);
    for (size_t i = 0; i < b->n; i++)
        write_record(f, w, b->records[i]);
    zv_jw_arr_close(w);
    zv_jw_obj_close(w);
}

/* Per-record keys "source/record_id", and the index list, for add_payload. */
static int build_keys(const zv_batch *b, size_t **idx, char ***keys)
{
    *idx = calloc(b->n, sizeof(**idx));
    *keys = calloc(b->n, sizeof(**keys));
    if (!*idx || !*keys) return -1;
    for (size_t i = 0; i < b->n; i++) {
        (*idx)[i] = i;
        if (asprintf(&(*keys)[i], "%s/%s", b->records[i]->prov.source,
                     b->records[i]->prov.record_id) < 0) {
            (*keys)[i] = NULL;
            return -1;
        }
    }
    return 0;
}

static void free_keys(size_t n, size_t *idx, char **keys)
{
    for (size_t i = 0; keys && i < n; i++)
        free(keys[i]);
    free(keys);
    free(idx);
}

/* What write_flat / write_nested wrote for rec: every field it has that
 * this plugin can name. */
static int report_fields(json_fmt *f, zv_render_out *out, size_t index, const zv_record *rec)
{
    if (!ZV_HOST_HAS(f->host, rendered_fields)) return 0;
    zv_field_id ids[ZV_FIELD_COUNT];
    size_t n = 0;
    for (uint32_t i = 0; i < known_fields(rec); i++)
        if (zv_rec_get(rec, (zv_field_id)i)) ids[n++] = (zv_field_id)i;
    return f->host->rendered_fields(out, index, ids, n);
}

static int json_render(void *state, const zv_batch *b, zv_render_out *out)
{
    json_fmt *f = state;
    if (b->n == 0) return 0;
    zv_jw *w = zv_jw_new(f->pretty);
    size_t *idx = NULL;
    char **keys = NULL;
    char *idem = NULL;
    int rc = -1;
    const char *data;
    size_t len;
    if (!w) goto done;
    write_document(f, w, b);
    if (zv_jw_result(w, &data, &len) != 0) {
        f->host->log(f->ctx, ZV_LOG_ERROR, "json: could not write batch %s", b->batch_id);
        goto done;
    }
    if (build_keys(b, &idx, &keys) != 0) goto done;
    if (asprintf(&idem, "%s/%s", b->destination, b->batch_id) < 0) {
        idem = NULL;
        goto done;
    }
    zv_payload_spec p = {ZV_SIZED(zv_payload_spec),
                         .data = data,
                         .len = len,
                         .content_type = "application/json",
                         .idem_key = idem,
                         .extension = "json",
                         .records = idx,
                         .nrecords = b->n,
                         .record_keys = (const char *const *)keys};
    rc = f->host->add_payload(out, &p) == 0 ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < b->n; i++)
        rc = report_fields(f, out, i, b->records[i]);
done:
    free(idem);
    free_keys(b->n, idx, keys);
    zv_jw_free(w);
    return rc;
}

/* Every field this plugin can name goes into the document as it is. */
static int json_field_renderable(const zv_json *options, int message, zv_field_id field)
{
    (void)options;
    return message == 0 && (int)field >= 0 && field < ZV_FIELD_COUNT;
}

static const zv_format_ops format_ops = {
    ZV_SIZED(zv_format_ops), ZV_MESSAGES(messages), .classify = json_classify,
    .render = json_render,   .interpret = NULL, /* receivers answer with an HTTP status only */
};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_FORMAT, "json"),
    .version = "1.0.0",
    .description = "Generic catalogue-driven JSON (zinvol-json v1)",
    ZV_OPTIONS(options, json_conf),
    .create = json_create,
    .destroy = json_destroy,
    .format = &format_ops,
    .field_renderable = json_field_renderable,
};
