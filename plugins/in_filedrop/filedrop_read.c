/*
 * Readers for the filedrop source: CSV (libcsv), JSON lines, JSON.
 *
 * The line between a rejected FILE and a quarantined RECORD:
 *  - file level (moved to rejected/ with a .reason, nothing emitted): the
 *    file cannot be opened or read, is empty, is not valid UTF-8 (CSV with
 *    encoding utf-8), has a missing, empty or duplicate CSV header, has a
 *    quote that never closes, or (.json) does not parse as a whole or is
 *    not an array of objects / an object.  CSV files are checked completely
 *    before the first row is emitted, so a rejected file was never half
 *    processed.
 *  - record level (emitted with ZV_ITEM_ERROR, so it is quarantined with
 *    its raw content): a CSV row with more or fewer columns than the header,
 *    a JSON line that does not parse or is not an object, a .json array
 *    element that is not an object.  Bad values (dates, BSNs, codes) are
 *    found by the mapping and quarantined the same way.
 */
#include "filedrop.h"

#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zinvol/utf8.h>

struct fd_reader {
    char *name, *sig;
    fd_fmt fmt;
    FILE *f;
    off_t pos;    /* file position after the last line read */
    off_t offset; /* start of the next record (committed unit) */
    int64_t row;  /* number of the last record consumed (CSV: header is row 1) */
    char *line;
    size_t linecap;
    struct csv_parser csv;
    int cp1252;
    char **hdr;
    size_t nhdr;
    zv_buf vals; /* current row's values, NUL-separated */
    size_t *voff;
    size_t nvals, capvals;
    int row_done;
    char *conv; /* cp1252 conversion scratch */
    size_t convcap;
    zv_json_flat *flat;
    zv_json_doc *doc;
    const zv_json *arr;
    size_t nelem;
    zv_item_field *fields;
    size_t capfields;
    zv_buf paths; /* .json: flattened paths and values */
    char type[128];
};

const char *fd_reader_name(const fd_reader *r)
{
    return r->name;
}
const char *fd_reader_sig(const fd_reader *r)
{
    return r->sig;
}
void fd_reader_pos(const fd_reader *r, off_t *offset, int64_t *row)
{
    *offset = r->offset;
    *row = r->row;
}

/* ---- CSV ---- */

static void csv_field(void *s, size_t len, void *arg)
{
    fd_reader *r = arg;
    if (r->nvals == r->capvals) {
        r->capvals = r->capvals ? r->capvals * 2 : 32;
        size_t *v = realloc(r->voff, r->capvals * sizeof(*v));
        if (!v) {
            r->vals.oom = 1;
            return;
        }
        r->voff = v;
    }
    r->voff[r->nvals++] = r->vals.len;
    if (r->cp1252) {
        if (r->convcap < 3 * len + 1) {
            char *c = realloc(r->conv, 3 * len + 1);
            if (!c) {
                r->vals.oom = 1;
                return;
            }
            r->conv = c;
            r->convcap = 3 * len + 1;
        }
        len = fd_cp1252_to_utf8(s, len, r->conv);
        s = r->conv;
    }
    zv_buf_append(&r->vals, s ? s : "", len);
    zv_buf_append(&r->vals, "", 1);
}

static void csv_row(int c, void *arg)
{
    (void)c;
    fd_reader *r = arg;
    r->row_done = 1;
}

static void row_reset(fd_reader *r)
{
    zv_buf_reset(&r->vals);
    r->nvals = 0;
    r->row_done = 0;
}

static int read_header(fd_src *s, fd_reader *r, char *why, size_t whylen)
{
    ssize_t n;
    while (!r->row_done && (n = getline(&r->line, &r->linecap, r->f)) > 0) {
        char *p = r->line;
        if (r->pos == 0 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3, n -= 3;
        r->pos += (p - r->line) + n;
        if (csv_parse(&r->csv, p, (size_t)n, csv_field, csv_row, r) != (size_t)n) break;
    }
    if (!r->row_done && csv_fini(&r->csv, csv_field, csv_row, r) != 0) {
        snprintf(why, whylen, "CSV header: %s", csv_strerror(csv_error(&r->csv)));
        return -1;
    }
    if (!r->row_done || r->nvals == 0) {
        snprintf(why, whylen, "empty file: no CSV header row");
        return -1;
    }
    r->hdr = calloc(r->nvals, sizeof(char *));
    for (size_t i = 0; r->hdr && i < r->nvals; i++) {
        const char *h = r->vals.data + r->voff[i];
        while (*h == ' ')
            h++;
        size_t len = strlen(h);
        while (len && h[len - 1] == ' ')
            len--;
        if (!len) {
            snprintf(why, whylen, "CSV header: column %zu has no name", i + 1);
            return -1;
        }
        r->hdr[i] = strndup(h, len);
        r->nhdr++;
        for (size_t k = 0; k < i; k++)
            if (strcmp(r->hdr[k], r->hdr[i]) == 0) {
                snprintf(why, whylen, "CSV header: column name '%s' appears twice", r->hdr[i]);
                return -1;
            }
    }
    (void)s;
    row_reset(r);
    return r->hdr ? 0 : -1;
}

static void counting_row(int c, void *arg)
{
    (void)c;
    (*(int64_t *)arg)++;
}

/* Whole-file check before the first row: encoding and quoting. */
static int csv_precheck(fd_src *s, const char *path, char *why, size_t whylen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct csv_parser p;
    csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
    csv_set_delim(&p, (unsigned char)s->delim);
    char *line = NULL;
    size_t cap = 0, bad;
    ssize_t n;
    int64_t rows = 0, lineno = 0;
    off_t off = 0;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
        lineno++;
        zv_utf8_err ue = s->cp1252 ? ZV_UTF8_OK : zv_utf8_check(line, (size_t)n, &bad);
        if (ue != ZV_UTF8_OK) {
            snprintf(why, whylen,
                     "not valid UTF-8 at byte %lld (line %lld: %s); set the source's "
                     "\"encoding\" to \"windows-1252\" if the ECD exports that",
                     (long long)(off + (off_t)bad), (long long)lineno, zv_utf8_strerror(ue));
            rc = -1;
        } else if (csv_parse(&p, line, (size_t)n, NULL, counting_row, &rows) != (size_t)n) {
            snprintf(why, whylen, "line %lld: %s", (long long)lineno, csv_strerror(csv_error(&p)));
            rc = -1;
        }
        off += n;
    }
    if (rc == 0 && ferror(f)) {
        snprintf(why, whylen, "read error: %s", strerror(errno));
        rc = -1;
    }
    if (rc == 0 && csv_fini(&p, NULL, counting_row, &rows) != 0) {
        snprintf(why, whylen, "a quoted field is never closed (%s)", csv_strerror(csv_error(&p)));
        rc = -1;
    }
    free(line);
    csv_free(&p);
    fclose(f);
    return rc;
}

static int ensure_fields(fd_reader *r, size_t n)
{
    if (n <= r->capfields) return 0;
    zv_item_field *f = realloc(r->fields, n * sizeof(*f));
    if (!f) return -1;
    r->fields = f;
    r->capfields = n;
    return 0;
}

static int emit(fd_src *s, fd_reader *r, zv_item_field *fields, size_t n, const char *id_kind)
{
    char rid[300];
    snprintf(rid, sizeof(rid), "%s:%s%lld", r->name, id_kind, (long long)r->row);
    zv_item it = {r->type, rid, fields, n};
    return s->host->emit(s->ctx, &it);
}

static int csv_emit_row(fd_src *s, fd_reader *r)
{
    char err[160] = "";
    size_t n = r->nvals;
    /* One empty field: a blank line, skipped. */
    if (n == 1 && r->vals.data[r->voff[0]] == '\0') return 0;
    r->row++;
    if (ensure_fields(r, n + 1) < 0) return -2;
    for (size_t i = 0; i < n; i++) {
        /* Columns beyond the header keep their values for the quarantine. */
        const char *path = i < r->nhdr ? r->hdr[i] : "!extra";
        r->fields[i].path = path;
        r->fields[i].value = r->vals.data + r->voff[i];
        r->fields[i].len = strlen(r->fields[i].value);
    }
    if (n != r->nhdr) {
        snprintf(err, sizeof(err), "row %lld: %zu columns where the header has %zu",
                 (long long)r->row, n, r->nhdr);
        r->fields[n++] = (zv_item_field){ZV_ITEM_ERROR, err, strlen(err)};
    }
    int rc = emit(s, r, r->fields, n, "");
    return rc < 0 ? -2 : 1;
}

static int csv_step(fd_src *s, fd_reader *r, char *why, size_t whylen)
{
    int64_t emitted = 0;
    ssize_t n;
    while (emitted < s->batch) {
        n = getline(&r->line, &r->linecap, r->f);
        if (n <= 0) {
            if (ferror(r->f)) {
                snprintf(why, whylen, "read error: %s", strerror(errno));
                return -1;
            }
            csv_fini(&r->csv, csv_field, csv_row, r);
            if (r->row_done) {
                int rc = csv_emit_row(s, r);
                if (rc == -2) return -2;
                r->offset = r->pos;
                row_reset(r);
            }
            return 0;
        }
        r->pos += n;
        if (csv_parse(&r->csv, r->line, (size_t)n, csv_field, csv_row, r) != (size_t)n) {
            snprintf(why, whylen, "byte %lld: %s", (long long)r->pos,
                     csv_strerror(csv_error(&r->csv)));
            return -1;
        }
        if (!r->row_done) continue; /* a quoted field goes on on the next line */
        if (r->vals.oom) return -2;
        int rc = csv_emit_row(s, r);
        if (rc == -2) return -2;
        emitted += rc;
        r->offset = r->pos;
        row_reset(r);
    }
    return 1;
}

/* ---- JSON lines ---- */

static int jsonl_step(fd_src *s, fd_reader *r)
{
    int64_t emitted = 0;
    ssize_t n;
    char err[200], why[300];
    while (emitted < s->batch && (n = getline(&r->line, &r->linecap, r->f)) > 0) {
        r->pos += n;
        r->row++;
        size_t len = (size_t)n;
        while (len && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r'))
            len--;
        size_t k = 0;
        while (k < len && (r->line[k] == ' ' || r->line[k] == '\t'))
            k++;
        if (k == len) {
            r->offset = r->pos;
            continue;
        }
        int np = r->line[k] == '{' ? zv_json_flatten(r->flat, r->line, len, err, sizeof(err)) : -1;
        int rc;
        if (np < 0) {
            snprintf(why, sizeof(why), "line %lld: %s", (long long)r->row,
                     r->line[k] == '{' ? err : "not a JSON object");
            zv_item_field f[2] = {{ZV_ITEM_ERROR, why, strlen(why)},
                                  {"!raw", r->line, len > 4096 ? 4096 : len}};
            rc = emit(s, r, f, 2, "line");
        } else {
            size_t cnt;
            const zv_json_pair *p = zv_json_flat_pairs(r->flat, &cnt);
            if (ensure_fields(r, cnt + 1) < 0) return -2;
            for (size_t i = 0; i < cnt; i++)
                r->fields[i] = (zv_item_field){p[i].path, p[i].value, p[i].len};
            rc = emit(s, r, r->fields, cnt, "line");
        }
        if (rc < 0) return -2;
        r->offset = r->pos;
        emitted++;
    }
    return emitted < s->batch ? 0 : 1;
}

/* ---- JSON (one document) ---- */

static void flatten_tree(zv_buf *b, const zv_json *v, char *path, size_t plen, size_t cap)
{
    zv_json_type t = zv_json_type_of(v);
    if (t == ZV_JSON_OBJECT || t == ZV_JSON_ARRAY) {
        for (size_t i = 0; i < zv_json_len(v); i++) {
            char seg[64];
            const char *key = t == ZV_JSON_OBJECT ? zv_json_key_at(v, i) : seg;
            if (t == ZV_JSON_ARRAY) snprintf(seg, sizeof(seg), "%zu", i);
            size_t o = plen;
            if (o + 1 < cap) path[o++] = '/';
            for (const char *k = key; *k && o + 3 < cap; k++) {
                if (*k == '~' || *k == '/') {
                    path[o++] = '~';
                    path[o++] = *k == '~' ? '0' : '1';
                } else {
                    path[o++] = *k;
                }
            }
            path[o] = '\0';
            flatten_tree(b, zv_json_at(v, i), path, o, cap);
        }
        path[plen] = '\0';
        return;
    }
    const char *s = NULL;
    size_t len = 0;
    if (t == ZV_JSON_STRING) s = zv_json_str(v, &len);
    if (t == ZV_JSON_NUMBER) s = zv_json_number_text(v), len = strlen(s);
    if (t == ZV_JSON_BOOL) {
        int x = 0;
        zv_json_bool(v, &x);
        s = x ? "true" : "false";
        len = strlen(s);
    }
    if (!s) return;
    /* path \0 value \0, read back by json_step */
    zv_buf_append(b, path, plen + 1);
    zv_buf_append(b, s, len);
    zv_buf_append(b, "", 1);
}

static int json_step(fd_src *s, fd_reader *r)
{
    int64_t emitted = 0;
    char path[1024], why[200];
    while (emitted < s->batch && (size_t)r->offset < r->nelem) {
        const zv_json *e = zv_json_type_of(r->arr) == ZV_JSON_ARRAY
                               ? zv_json_at(r->arr, (size_t)r->offset)
                               : r->arr;
        r->row = r->offset + 1;
        int rc;
        if (zv_json_type_of(e) != ZV_JSON_OBJECT) {
            snprintf(why, sizeof(why), "element %lld is %s, not an object", (long long)r->offset,
                     zv_json_type_name(zv_json_type_of(e)));
            zv_item_field f = {ZV_ITEM_ERROR, why, strlen(why)};
            rc = emit(s, r, &f, 1, "#");
        } else {
            zv_buf_reset(&r->paths);
            path[0] = '\0';
            flatten_tree(&r->paths, e, path, 0, sizeof(path));
            if (r->paths.oom) return -2;
            size_t n = 0;
            for (size_t o = 0; o < r->paths.len; n++) {
                if (ensure_fields(r, n + 1) < 0) return -2;
                const char *p = r->paths.data + o;
                o += strlen(p) + 1;
                const char *v = r->paths.data + o;
                o += strlen(v) + 1;
                r->fields[n] = (zv_item_field){p, v, strlen(v)};
            }
            rc = emit(s, r, r->fields, n, "#");
        }
        if (rc < 0) return -2;
        r->offset++;
        emitted++;
    }
    return (size_t)r->offset < r->nelem ? 1 : 0;
}

/* ---- open / step / close ---- */

static void derive_type(fd_src *s, fd_reader *r)
{
    if (s->item_type) {
        snprintf(r->type, sizeof(r->type), "%s", s->item_type);
        return;
    }
    /* "clients_2026-11-23.csv" -> "clients" */
    size_t n = strcspn(r->name, "_-.");
    snprintf(r->type, sizeof(r->type), "%.*s", (int)n, r->name);
}

fd_reader *fd_reader_open(fd_src *s, const char *name, const char *sig, off_t offset, int64_t row,
                          char *why, size_t whylen)
{
    fd_reader *r = calloc(1, sizeof(*r));
    if (!r) return NULL;
    r->name = strdup(name);
    r->sig = strdup(sig);
    r->cp1252 = s->cp1252;
    zv_buf_init(&r->vals);
    zv_buf_init(&r->paths);
    const char *ext = strrchr(name, '.');
    r->fmt = strcmp(ext, ".csv") == 0 ? FD_CSV : strcmp(ext, ".json") == 0 ? FD_JSON : FD_JSONL;
    derive_type(s, r);
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", s->dir, name);
    if (r->fmt == FD_CSV) {
        if (offset == 0 && csv_precheck(s, path, why, whylen) < 0) goto fail;
        csv_init(&r->csv, CSV_APPEND_NULL);
        csv_set_delim(&r->csv, (unsigned char)s->delim);
    }
    if (r->fmt == FD_JSON) {
        struct stat st;
        if (stat(path, &st) == 0 && st.st_size > s->max_json) {
            snprintf(why, whylen,
                     "%lld bytes is more than max_json_size; export JSON lines instead",
                     (long long)st.st_size);
            goto fail;
        }
        char err[200];
        r->doc = zv_json_parse_file(path, 0, err, sizeof(err));
        if (!r->doc) {
            snprintf(why, whylen, "not valid JSON: %s", err);
            goto fail;
        }
        r->arr = zv_json_root(r->doc);
        if (zv_json_type_of(r->arr) == ZV_JSON_ARRAY)
            r->nelem = zv_json_len(r->arr);
        else if (zv_json_type_of(r->arr) == ZV_JSON_OBJECT)
            r->nelem = 1;
        else {
            snprintf(why, whylen, "top level must be an array of objects or one object, not %s",
                     zv_json_type_name(zv_json_type_of(r->arr)));
            goto fail;
        }
        r->offset = offset;
        r->row = row;
        return r;
    }
    if (!(r->f = fopen(path, "rb"))) {
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        goto fail;
    }
    if (r->fmt == FD_JSONL) r->flat = zv_json_flat_new();
    if (r->fmt == FD_CSV && read_header(s, r, why, whylen) < 0) goto fail;
    if (offset > 0) {
        if (fseeko(r->f, offset, SEEK_SET) != 0) {
            snprintf(why, whylen, "cannot seek to %lld: %s", (long long)offset, strerror(errno));
            goto fail;
        }
        r->pos = offset;
        r->row = row;
    } else if (r->fmt == FD_CSV) {
        r->row = 1; /* the header */
    }
    r->offset = r->pos;
    return r;
fail:
    fd_reader_close(r);
    return NULL;
}

int fd_reader_step(fd_src *s, fd_reader *r, char *why, size_t whylen)
{
    switch (r->fmt) {
    case FD_CSV:
        return csv_step(s, r, why, whylen);
    case FD_JSONL:
        return jsonl_step(s, r);
    case FD_JSON:
        return json_step(s, r);
    }
    return -1;
}

void fd_reader_close(fd_reader *r)
{
    if (!r) return;
    if (r->f) fclose(r->f);
    if (r->fmt == FD_CSV) csv_free(&r->csv);
    for (size_t i = 0; i < r->nhdr; i++)
        free(r->hdr[i]);
    free(r->hdr);
    zv_buf_free(&r->vals);
    zv_buf_free(&r->paths);
    free(r->voff);
    free(r->conv);
    free(r->line);
    free(r->fields);
    zv_json_flat_free(r->flat);
    zv_json_free(r->doc);
    free(r->name);
    free(r->sig);
    free(r);
}
