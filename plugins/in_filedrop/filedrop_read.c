/*
 * Readers for the filedrop source: CSV (libcsv), JSON lines, JSON.
 *
 * The line between a rejected FILE and a quarantined RECORD:
 *  - file level (moved to rejected/ with a .reason, nothing emitted): the
 *    file cannot be opened or read, is not a regular file, is larger than
 *    max_file_size, is empty, is not valid UTF-8 (CSV with encoding utf-8),
 *    has a missing, empty or duplicate CSV column name or more columns than
 *    max_columns, has a CSV row longer than max_line_length, has a quote
 *    that never closes, or (.json) does not parse as a whole, is larger
 *    than max_json_size or is not an array of objects / an object.  CSV
 *    files are checked completely before the first row is emitted, so a
 *    rejected file was never half processed.
 *  - record level (emitted with ZV_ITEM_ERROR, so it is quarantined with
 *    its raw content): a CSV row with more or fewer columns than the header,
 *    a JSON line that does not parse, is not an object, is longer than
 *    max_line_length or nested deeper than max_json_depth, a .json array
 *    element that is not an object or is nested too deep.  Bad values
 *    (dates, BSNs, codes, text that is not UTF-8) are found by the mapping
 *    and the pipeline and quarantined the same way.
 *
 * Values carry their length from the file to the mapping: a NUL byte in a
 * CSV field or a \u0000 in a JSON string stays part of its value (and is
 * refused by the mapping's type check) instead of cutting it short or
 * shifting the values after it.
 */
#include "filedrop.h"

#include <csv.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zinvol/utf8.h>

/* A raw value quoted in quarantine is cut to this, on a character boundary. */
#define RAW_KEEP 4096

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
    zv_buf vals; /* current row's values, each followed by a NUL (not a separator: values
                    may hold NUL bytes themselves; voff/vlen delimit them) */
    size_t *voff, *vlen;
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
    size_t *poff; /* .json: each field's path as an offset into paths */
    size_t cappoff;
    zv_buf paths; /* .json: flattened paths */
    fd_tally tally;
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
const fd_tally *fd_reader_tally(const fd_reader *r)
{
    return &r->tally;
}

/* ---- CSV ---- */

static void csv_field(void *s, size_t len, void *arg)
{
    fd_reader *r = arg;
    if (r->vals.oom) return;
    if (r->nvals == r->capvals) {
        size_t cap = r->capvals ? r->capvals * 2 : 32;
        size_t *v = realloc(r->voff, cap * sizeof(*v));
        if (v) r->voff = v;
        size_t *l = v ? realloc(r->vlen, cap * sizeof(*l)) : NULL;
        if (!l) {
            r->vals.oom = 1;
            return;
        }
        r->vlen = l;
        r->capvals = cap;
    }
    r->voff[r->nvals] = r->vals.len;
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
    r->vlen[r->nvals++] = len;
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

/* Duplicate column names in one pass: an open-addressing set of header
 * indexes (a header of 200,000 columns compared pairwise blocked the loop
 * for a minute). */
static int find_duplicate(char **hdr, size_t n, size_t *dup)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    size_t *set = calloc(cap, sizeof(*set)); /* index + 1, 0 empty */
    if (!set) return -1;
    int found = 0;
    for (size_t i = 0; i < n && !found; i++) {
        uint32_t h = 2166136261u; /* FNV-1a */
        for (const char *p = hdr[i]; *p; p++)
            h = (h ^ (unsigned char)*p) * 16777619u;
        size_t k = h & (cap - 1);
        while (set[k] && strcmp(hdr[set[k] - 1], hdr[i]) != 0)
            k = (k + 1) & (cap - 1);
        if (set[k]) {
            *dup = i;
            found = 1;
        }
        set[k] = i + 1;
    }
    free(set);
    return found;
}

static int read_header(fd_src *s, fd_reader *r, char *why, size_t whylen)
{
    ssize_t n;
    size_t kept;
    while (!r->row_done &&
           (n = fd_getline(r->f, &r->line, &r->linecap, (size_t)s->max_line, &kept)) > 0) {
        if (kept < (size_t)n) {
            snprintf(why, whylen, "CSV header: longer than max_line_length (%lld bytes)",
                     (long long)s->max_line);
            return -1;
        }
        char *p = r->line;
        if (r->pos == 0 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3, n -= 3;
        r->pos += (p - r->line) + n;
        if (csv_parse(&r->csv, p, (size_t)n, csv_field, csv_row, r) != (size_t)n) break;
        if ((int64_t)r->nvals > s->max_columns) break;
    }
    if (r->vals.oom) {
        snprintf(why, whylen, "out of memory reading the CSV header");
        return -1;
    }
    if ((int64_t)r->nvals > s->max_columns) {
        snprintf(why, whylen, "CSV header: more than max_columns (%lld) columns",
                 (long long)s->max_columns);
        return -1;
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
        size_t len = r->vlen[i];
        if (memchr(h, 0, len)) {
            snprintf(why, whylen, "CSV header: the name of column %zu contains a NUL byte", i + 1);
            return -1;
        }
        while (len && *h == ' ')
            h++, len--;
        while (len && h[len - 1] == ' ')
            len--;
        if (!len) {
            snprintf(why, whylen, "CSV header: column %zu has no name", i + 1);
            return -1;
        }
        if (!(r->hdr[i] = strndup(h, len))) break;
        r->nhdr++;
    }
    size_t dup = 0;
    int d = r->hdr && r->nhdr == r->nvals ? find_duplicate(r->hdr, r->nhdr, &dup) : -1;
    if (d < 0) {
        snprintf(why, whylen, "out of memory reading the CSV header");
        return -1;
    }
    if (d) {
        snprintf(why, whylen, "CSV header: column name '%.200s' appears twice", r->hdr[dup]);
        return -1;
    }
    row_reset(r);
    return 0;
}

struct row_count {
    int64_t rows;
    off_t row_start; /* where the current row began */
    off_t at;        /* end of the line being parsed */
};

static void counting_row(int c, void *arg)
{
    (void)c;
    struct row_count *rc = arg;
    rc->rows++;
    rc->row_start = rc->at;
}

/* Whole-file check before the first row: encoding, quoting, row length.
 * Reads f from its start and leaves it there again. */
static int csv_precheck(fd_src *s, FILE *f, char *why, size_t whylen)
{
    struct csv_parser p;
    csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
    csv_set_delim(&p, (unsigned char)s->delim);
    char *line = NULL;
    size_t cap = 0, bad, kept;
    ssize_t n;
    int64_t lineno = 0;
    struct row_count rows = {0, 0, 0};
    off_t off = 0;
    int rc = 0;
    while (rc == 0 && (n = fd_getline(f, &line, &cap, (size_t)s->max_line, &kept)) > 0) {
        lineno++;
        zv_utf8_err ue = s->cp1252 ? ZV_UTF8_OK : zv_utf8_check(line, kept, &bad);
        rows.at = off + n;
        if (kept < (size_t)n || rows.at - rows.row_start > s->max_line) {
            snprintf(why, whylen, "line %lld: a CSV row longer than max_line_length (%lld bytes)",
                     (long long)lineno, (long long)s->max_line);
            rc = -1;
        } else if (ue != ZV_UTF8_OK) {
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
    if (rc == 0 && n < 0) {
        snprintf(why, whylen, "read error: %s", strerror(errno));
        rc = -1;
    }
    if (rc == 0 && csv_fini(&p, NULL, counting_row, &rows) != 0) {
        snprintf(why, whylen, "a quoted field is never closed (%s)", csv_strerror(csv_error(&p)));
        rc = -1;
    }
    free(line);
    csv_free(&p);
    if (rc == 0 && fseeko(f, 0, SEEK_SET) != 0) {
        snprintf(why, whylen, "cannot seek: %s", strerror(errno));
        rc = -1;
    }
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
    zv_item it = {ZV_SIZED(zv_item), r->type, rid, fields, n, sizeof(zv_item_field)};
    int rc = s->host->emit(s->ctx, &it);
    r->tally.rows++;
    if (rc == ZV_EMIT_STAGED) r->tally.fresh++;
    if (rc == ZV_EMIT_DUPLICATE) r->tally.unchanged++;
    if (rc == ZV_EMIT_QUARANTINED) r->tally.quarantined++;
    return rc;
}

static int csv_emit_row(fd_src *s, fd_reader *r)
{
    char err[160] = "";
    size_t n = r->nvals;
    /* One empty field: a blank line, skipped. */
    if (n == 1 && r->vlen[0] == 0) return 0;
    r->row++;
    if (ensure_fields(r, n + 1) < 0) return -2;
    for (size_t i = 0; i < n; i++) {
        /* Columns beyond the header keep their values for the quarantine. */
        const char *path = i < r->nhdr ? r->hdr[i] : "!extra";
        r->fields[i].path = path;
        r->fields[i].value = r->vals.data + r->voff[i];
        r->fields[i].len = r->vlen[i];
    }
    if (n != r->nhdr) {
        snprintf(err, sizeof(err), "row %lld: %zu columns where the header has %zu",
                 (long long)r->row, n, r->nhdr);
        r->fields[n++] = (zv_item_field){ZV_ITEM_ERROR, err, strlen(err)};
    }
    int rc = emit(s, r, r->fields, n, "");
    return rc < 0 ? -2 : 1;
}

int64_t fd_step_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int fd_step_over(const fd_src *s, int64_t t0)
{
    return fd_step_clock() - t0 >= s->step_ns;
}

static int csv_step(fd_src *s, fd_reader *r, char *why, size_t whylen)
{
    int64_t emitted = 0, t0 = fd_step_clock();
    ssize_t n;
    size_t kept;
    while (emitted < s->batch) {
        n = fd_getline(r->f, &r->line, &r->linecap, (size_t)s->max_line, &kept);
        if (n > 0 && (kept < (size_t)n || (int64_t)r->vals.len > s->max_line)) {
            /* The whole file was checked before; it changed since. */
            snprintf(why, whylen, "byte %lld: a CSV row longer than max_line_length",
                     (long long)r->pos);
            return -1;
        }
        if (n <= 0) {
            if (n < 0) {
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
        if (emitted && fd_step_over(s, t0)) break;
    }
    return 1;
}

/* ---- JSON lines ---- */

static int jsonl_step(fd_src *s, fd_reader *r, char *fwhy, size_t fwhylen)
{
    int64_t emitted = 0, t0 = fd_step_clock();
    ssize_t n = 0;
    size_t len;
    char err[200], why[300];
    while (emitted < s->batch &&
           (n = fd_getline(r->f, &r->line, &r->linecap, (size_t)s->max_line, &len)) > 0) {
        r->pos += n;
        r->row++;
        int whole = len == (size_t)n;
        while (whole && len && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r'))
            len--;
        size_t k = 0;
        while (k < len && (r->line[k] == ' ' || r->line[k] == '\t'))
            k++;
        if (k == len && whole) {
            r->offset = r->pos;
            continue;
        }
        int np = -1;
        if (!whole)
            snprintf(err, sizeof(err), "longer than max_line_length (%lld bytes)",
                     (long long)s->max_line);
        else if (r->line[k] != '{')
            snprintf(err, sizeof(err), "not a JSON object");
        else
            np = zv_json_flatten(r->flat, r->line, len, err, sizeof(err));
        int rc;
        if (np < 0) {
            snprintf(why, sizeof(why), "line %lld: %s", (long long)r->row, err);
            /* The start of the line, cut where a character ends; text that
             * is not UTF-8 is spelled out by the pipeline. */
            zv_item_field f[2] = {{ZV_ITEM_ERROR, why, strlen(why)},
                                  {"!raw", r->line, zv_utf8_cut(r->line, len, RAW_KEEP)}};
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
        if (fd_step_over(s, t0)) return 1; /* the rest in the next step */
    }
    if (n < 0) {
        snprintf(fwhy, fwhylen, "read error: %s", strerror(errno));
        return -1;
    }
    return emitted < s->batch ? 0 : 1;
}

/* ---- JSON (one document) ---- */

enum { FLAT_OK = 0, FLAT_OOM, FLAT_DEEP, FLAT_LONG };

/* One field: its path is copied into r->paths (and pointed at once the
 * element is done, since the buffer moves while it grows); its value stays
 * in the document, with its length. */
static int add_field(fd_reader *r, size_t n, const char *path, size_t plen, const char *v,
                     size_t len)
{
    if (n + 1 > r->cappoff) {
        size_t cap = r->cappoff ? r->cappoff * 2 : 64;
        size_t *o = realloc(r->poff, cap * sizeof(*o));
        if (!o) return -1;
        r->poff = o;
        if (ensure_fields(r, cap) < 0) return -1;
        r->cappoff = cap;
    }
    r->poff[n] = r->paths.len;
    zv_buf_append(&r->paths, path, plen + 1);
    r->fields[n] = (zv_item_field){NULL, v, len};
    return r->paths.oom ? -1 : 0;
}

/* Flatten one element into (JSON pointer, value) fields, as the JSON-lines
 * reader does.  A path longer than the buffer is an error, never cut: two
 * long keys cut to the same prefix would stand in for each other. */
static int flatten_tree(fd_reader *r, size_t *n, const zv_json *v, char *path, size_t plen,
                        size_t cap, int64_t depth_left)
{
    zv_json_type t = zv_json_type_of(v);
    if (t == ZV_JSON_OBJECT || t == ZV_JSON_ARRAY) {
        if (depth_left <= 0) return FLAT_DEEP;
        for (size_t i = 0; i < zv_json_len(v); i++) {
            char seg[32];
            const char *key = t == ZV_JSON_OBJECT ? zv_json_key_at(v, i) : seg;
            if (t == ZV_JSON_ARRAY) snprintf(seg, sizeof(seg), "%zu", i);
            size_t o = plen;
            if (o + 2 >= cap) return FLAT_LONG;
            path[o++] = '/';
            for (const char *k = key; *k; k++) {
                if (o + 3 >= cap) return FLAT_LONG;
                if (*k == '~' || *k == '/') {
                    path[o++] = '~';
                    path[o++] = *k == '~' ? '0' : '1';
                } else {
                    path[o++] = *k;
                }
            }
            path[o] = '\0';
            int rc = flatten_tree(r, n, zv_json_at(v, i), path, o, cap, depth_left - 1);
            if (rc) return rc;
        }
        path[plen] = '\0';
        return FLAT_OK;
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
    if (!s) return FLAT_OK;
    if (add_field(r, *n, path, plen, s, len) < 0) return FLAT_OOM;
    (*n)++;
    return FLAT_OK;
}

static int json_step(fd_src *s, fd_reader *r)
{
    int64_t emitted = 0, t0 = fd_step_clock();
    char path[1024], why[200];
    while (emitted < s->batch && (size_t)r->offset < r->nelem) {
        const zv_json *e = zv_json_type_of(r->arr) == ZV_JSON_ARRAY
                               ? zv_json_at(r->arr, (size_t)r->offset)
                               : r->arr;
        r->row = r->offset + 1;
        int rc = FLAT_OK;
        size_t n = 0;
        why[0] = '\0';
        if (zv_json_type_of(e) != ZV_JSON_OBJECT) {
            snprintf(why, sizeof(why), "element %lld is %s, not an object", (long long)r->offset,
                     zv_json_type_name(zv_json_type_of(e)));
        } else {
            zv_buf_reset(&r->paths);
            path[0] = '\0';
            rc = flatten_tree(r, &n, e, path, 0, sizeof(path), s->max_json_depth);
            if (rc == FLAT_OOM) return -2;
            if (rc == FLAT_DEEP)
                snprintf(why, sizeof(why), "element %lld is nested deeper than %lld levels",
                         (long long)r->offset, (long long)s->max_json_depth);
            if (rc == FLAT_LONG)
                snprintf(why, sizeof(why), "element %lld has a member path longer than %zu bytes",
                         (long long)r->offset, sizeof(path) - 1);
        }
        if (why[0]) {
            zv_item_field f = {ZV_ITEM_ERROR, why, strlen(why)};
            rc = emit(s, r, &f, 1, "#");
        } else {
            for (size_t i = 0; i < n; i++)
                r->fields[i].path = r->paths.data + r->poff[i];
            rc = emit(s, r, r->fields, n, "#");
        }
        if (rc < 0) return -2;
        r->offset++;
        emitted++;
        if (fd_step_over(s, t0)) break;
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

/* The whole of a .json file (at most max_json_size bytes) from f. */
static char *read_all(fd_src *s, FILE *f, off_t size, size_t *len, char *why, size_t whylen)
{
    if (size > s->max_json) {
        snprintf(why, whylen,
                 "%lld bytes is more than max_json_size (%lld); export JSON lines instead",
                 (long long)size, (long long)s->max_json);
        return NULL;
    }
    char *text = malloc((size_t)size + 1);
    if (!text) {
        snprintf(why, whylen, "out of memory for %lld bytes", (long long)size);
        return NULL;
    }
    *len = fread(text, 1, (size_t)size + 1, f);
    if (ferror(f) || *len > (size_t)size) {
        snprintf(why, whylen, ferror(f) ? "read error" : "the file grew while it was read");
        free(text);
        return NULL;
    }
    return text;
}

fd_reader *fd_reader_new(fd_src *s, const char *name, const char *sig)
{
    fd_reader *r = calloc(1, sizeof(*r));
    if (!r) return NULL;
    r->name = strdup(name);
    r->sig = strdup(sig);
    r->cp1252 = s->cp1252;
    r->tally.staged_base = ZV_HOST_HAS(s->host, staged_total) ? s->host->staged_total(s->ctx) : -1;
    zv_buf_init(&r->vals);
    zv_buf_init(&r->paths);
    const char *ext = strrchr(name, '.');
    r->fmt = strcmp(ext, ".csv") == 0 ? FD_CSV : strcmp(ext, ".json") == 0 ? FD_JSON : FD_JSONL;
    derive_type(s, r);
    if (!r->name || !r->sig) {
        fd_reader_close(r);
        return NULL;
    }
    return r;
}

int fd_reader_load(fd_src *s, fd_reader *r, off_t offset, int64_t row, char *why, size_t whylen)
{
    struct stat st;
    int fd = fd_open_entry(s, r->name, &st, why, whylen);
    if (fd < 0) return -1;
    if (!(r->f = fdopen(fd, "rb"))) {
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (r->fmt == FD_CSV) {
        csv_init(&r->csv, CSV_APPEND_NULL);
        csv_set_delim(&r->csv, (unsigned char)s->delim);
        if (offset == 0 && csv_precheck(s, r->f, why, whylen) < 0) return -1;
    }
    if (r->fmt == FD_JSON) {
        char err[200];
        size_t len = 0;
        char *text = read_all(s, r->f, st.st_size, &len, why, whylen);
        if (!text) return -1;
        r->doc = zv_json_parse(text, len, 0, err, sizeof(err));
        free(text);
        if (!r->doc) {
            snprintf(why, whylen, "not valid JSON: %s", err);
            return -1;
        }
        r->arr = zv_json_root(r->doc);
        if (zv_json_type_of(r->arr) == ZV_JSON_ARRAY)
            r->nelem = zv_json_len(r->arr);
        else if (zv_json_type_of(r->arr) == ZV_JSON_OBJECT)
            r->nelem = 1;
        else {
            snprintf(why, whylen, "top level must be an array of objects or one object, not %s",
                     zv_json_type_name(zv_json_type_of(r->arr)));
            return -1;
        }
        r->offset = offset;
        r->row = row;
        return 0;
    }
    if (r->fmt == FD_JSONL) {
        r->flat = zv_json_flat_new();
        if (!r->flat) return -1;
        zv_json_flat_max_depth(r->flat, (size_t)s->max_json_depth);
    }
    if (r->fmt == FD_CSV && read_header(s, r, why, whylen) < 0) return -1;
    if (offset > 0) {
        if (fseeko(r->f, offset, SEEK_SET) != 0) {
            snprintf(why, whylen, "cannot seek to %lld: %s", (long long)offset, strerror(errno));
            return -1;
        }
        r->pos = offset;
        r->row = row;
    } else if (r->fmt == FD_CSV) {
        r->row = 1; /* the header */
    }
    r->offset = r->pos;
    return 0;
}

fd_reader *fd_reader_open(fd_src *s, const char *name, const char *sig, off_t offset, int64_t row,
                          char *why, size_t whylen)
{
    fd_reader *r = fd_reader_new(s, name, sig);
    if (!r) return NULL;
    if (fd_reader_load(s, r, offset, row, why, whylen) < 0) {
        fd_reader_close(r);
        return NULL;
    }
    return r;
}

int fd_reader_step(fd_src *s, fd_reader *r, char *why, size_t whylen)
{
    switch (r->fmt) {
    case FD_CSV:
        return csv_step(s, r, why, whylen);
    case FD_JSONL:
        return jsonl_step(s, r, why, whylen);
    case FD_JSON:
        return json_step(s, r);
    }
    return -1;
}

void fd_reader_close(fd_reader *r)
{
    if (!r) return;
    if (r->f) fclose(r->f);
    if (r->fmt == FD_CSV) csv_free(&r->csv); /* also safe on the zeroed parser */
    for (size_t i = 0; i < r->nhdr; i++)
        free(r->hdr[i]);
    free(r->hdr);
    zv_buf_free(&r->vals);
    zv_buf_free(&r->paths);
    free(r->voff);
    free(r->vlen);
    free(r->poff);
    free(r->conv);
    free(r->line);
    free(r->fields);
    zv_json_flat_free(r->flat);
    zv_json_free(r->doc);
    free(r->name);
    free(r->sig);
    free(r);
}
