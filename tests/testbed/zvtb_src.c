/* Source tests on the testbed; see zvtb_src.h. */
#include "zvtb_src.h"
#include "zvtb_int.h"

#include <zinvol/json.h>
#include "store/store_admin.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Everything handed out stays until zvs_free: results are re-read on each
 * call, and what earlier calls returned is kept, not overwritten. */
typedef struct keep {
    void **v;
    size_t n;
} keep;

struct zvs_host {
    zvtb *tb;
    char *opts, *map;
    int port;
    char state_dir[512];
    zv_store *reader; /* a second connection: sees committed data only */
    zvs_rec *recs;
    size_t nrecs;
    zvs_quar *quar;
    size_t nquar;
    keep kept;
    zv_record **all; /* every record decoded, freed at zvs_free */
    size_t nall;
};

static void *kept(zvs_host *h, void *p)
{
    void **v = realloc(h->kept.v, (h->kept.n + 1) * sizeof(*v));
    if (!v) zvtb_fail("out of memory");
    h->kept.v = v;
    v[h->kept.n++] = p;
    return p;
}

static char *kstr(zvs_host *h, const char *s)
{
    return s ? kept(h, zvtb_strdup(s)) : NULL;
}

void zvtb_src_forget(zvtb *tb)
{
    zvs_host *h = (zvs_host *)tb->src;
    if (h && h->reader) {
        zv_store_close(h->reader);
        h->reader = NULL;
    }
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) < 0)
        zvtb_fail("no free port");
    close(fd);
    return ntohs(a.sin_port);
}

zvs_host *zvs_new(const char *options_json, const char *mapping_json, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    zvs_host *h = calloc(1, sizeof(*h));
    if (!h) zvtb_fail("out of memory");
    h->tb = zvtb_new();
    h->tb->src = (struct zvtb_src *)h;
    h->opts = zvtb_strdup(options_json ? options_json : "{}");
    h->map = zvtb_strdup(mapping_json ? mapping_json : "{}");
    h->port = free_port();
    snprintf(h->state_dir, sizeof(h->state_dir), "%s/state/plugins/source/ecd", zvtb_dir(h->tb));
    return h;
}

/* A catalogue of every model field, optional, at level law. */
static void write_catalogue(zvs_host *h, char *path, size_t len)
{
    snprintf(path, len, "%s/tbcap.json", zvtb_dir(h->tb));
    FILE *f = fopen(path, "w");
    if (!f) zvtb_fail("%s", path);
    fprintf(f, "{\"catalogue\": \"tbcap\", \"format\": \"tbcap\", \"message\": \"RECORDS\", "
               "\"frequency\": \"event\", \"fields\": [");
    for (int i = 0; i < ZV_FIELD_COUNT; i++) {
        const char *n = zv_field_def_of((zv_field_id)i)->name;
        fprintf(
            f,
            "%s{\"field\": \"%s\", \"element\": \"%s\", \"level\": \"law\", \"optional\": true, "
            "\"citation\": \"testbed: every field\"}",
            i ? ", " : "", n, n);
    }
    fprintf(f, "]}\n");
    fclose(f);
}

int zvs_start(zvs_host *h, const char *file, char *err, size_t errlen)
{
    char type[64];
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    if (strncmp(base, "in_", 3) != 0) zvtb_fail("%s: not a source plugin file", file);
    snprintf(type, sizeof(type), "%s", base + 3);
    char *dot = strstr(type, ".so");
    if (dot) *dot = '\0';
    char cat[600];
    write_catalogue(h, cat, sizeof(cat));
    zv_buf c;
    zv_buf_init(&c);
    zv_buf_printf(&c,
                  "\"http\": {\"listen\": \"127.0.0.1:%d\"}, "
                  "\"sources\": [{\"name\": \"ecd\", \"type\": \"%s\", \"options\": %s, "
                  "\"mapping\": %s}], "
                  "\"destinations\": [{\"name\": \"capture\", \"format\": \"tbcap\", "
                  "\"transport\": \"tbcap\", \"catalogue\": {\"file\": \"%s\"}, "
                  "\"policy\": {\"threshold\": \"none\", \"batch_window\": \"100d\"}}]",
                  h->port, type, h->opts, h->map, cat);
    zv_buf_append(&c, "", 1);
    zvtb_config(h->tb, c.data);
    zv_buf_free(&c);
    if (zvtb_build(h->tb) < 0 || zvtb_start(h->tb) < 0) {
        snprintf(err, errlen, "%s", zvtb_errors(h->tb));
        if (h->tb->rt) zvtb_crash(h->tb);
        return -1;
    }
    return 0;
}

void zvs_stop(zvs_host *h)
{
    zvtb_src_forget(h->tb);
    zvtb_stop(h->tb);
}

void zvs_crash(zvs_host *h)
{
    zvtb_crash(h->tb);
}

static zv_source_rt *source(zvs_host *h)
{
    if (!h->tb->rt || !h->tb->rt->nsources) zvtb_fail("no source running");
    return &h->tb->rt->sources[0];
}

static int is_drained(zvtb *tb, void *arg)
{
    (void)tb;
    return ((zv_source_rt *)arg)->drained;
}

int zvs_drain(zvs_host *h, int max_ms)
{
    zv_source_rt *s = source(h);
    s->drained = 0;
    if (s->inst.desc->source->drain(s->inst.state) != 0) return -1;
    return zvtb_run_until(h->tb, is_drained, s, max_ms) ? 0 : -1;
}

struct pred {
    zvs_host *h;
    int (*fn)(zvs_host *, void *);
    void *arg;
};

static int call_pred(zvtb *tb, void *arg)
{
    (void)tb;
    struct pred *p = arg;
    return p->fn(p->h, p->arg);
}

int zvs_run_until(zvs_host *h, int (*pred)(zvs_host *, void *), void *arg, int max_ms)
{
    struct pred p = {h, pred, arg};
    return zvtb_run_until(h->tb, call_pred, &p, max_ms);
}

void zvs_run_for(zvs_host *h, int ms)
{
    zvtb_run_for(h->tb, ms);
}

int zvs_http_port(const zvs_host *h)
{
    return h->port;
}

const char *zvs_state_dir(const zvs_host *h)
{
    return h->state_dir;
}

zvtb *zvs_bed(zvs_host *h)
{
    return h->tb;
}

void zvs_free(zvs_host *h)
{
    if (!h) return;
    zvtb_src_forget(h->tb);
    h->tb->src = NULL;
    zvtb_free(h->tb);
    for (size_t i = 0; i < h->kept.n; i++)
        free(h->kept.v[i]);
    free(h->kept.v);
    for (size_t i = 0; i < h->nall; i++)
        zv_record_free(h->all[i]);
    free(h->all);
    free(h->recs);
    free(h->quar);
    free(h->opts);
    free(h->map);
    free(h);
}

/* ---- results, from the second connection ---- */

static zv_store *reader(zvs_host *h)
{
    if (!h->reader) {
        char path[600], err[256];
        snprintf(path, sizeof(path), "%s/state/zinvol.db", zvtb_dir(h->tb));
        h->reader = zv_store_open(path, err, sizeof(err));
        if (!h->reader) zvtb_fail("reader: %s", err);
    }
    return h->reader;
}

/* ---- the capture destination's window, closed when results are read ---- */

/* Nothing waits to be committed: no group open on the loop and none being
 * committed by the writer thread.  The reader's connection sees a unit only
 * then; "no group open" alone is true while the writer still commits it. */
static int group_done(zvtb *tb, void *arg)
{
    (void)arg;
    return zv_store_wait_gen(tb->rt->store) == 0;
}

/* Before the reader looks: run the loop until what the core committed is
 * on disk for every connection. */
static void settle(zvs_host *h)
{
    zvtb *tb = h->tb;
    if (!tb->rt || !tb->rt->started || tb->rt->stopping || !tb->rt->store) return;
    if (!zvtb_run_until(tb, group_done, NULL, 10000)) zvtb_fail("the group commit did not end");
}

static int settled(zvtb *tb, void *arg)
{
    zv_dest_rt *d = arg;
    return !d->rendering && group_done(tb, NULL) &&
           zv_store_staged_count(tb->rt->store, d->conf->name) == 0;
}

/* What the daemon does when capture's batch window closes: everything
 * staged is rendered (on a worker thread, through change detection, which
 * sends a key's newest content once and nothing that equals what was last
 * sent) and put in the outbox.  The bed's window never closes by itself,
 * so results are what the core sent up to the read, and nothing depends on
 * when the loop ran. */
static void close_window(zvs_host *h)
{
    zvtb *tb = h->tb;
    if (!tb->rt || !tb->rt->started || tb->rt->stopping) return;
    zv_dest_rt *d = &tb->rt->dests[0];
    /* Units committed into the group that has not been written yet first:
     * the render reads the staged rows with their own transaction. */
    settle(h);
    if (zv_store_staged_count(tb->rt->store, d->conf->name) == 0 && !d->rendering) return;
    int r = zv_pipeline_flush(tb->rt, d);
    if (r < 0 || !zvtb_run_until(tb, settled, d, 30000))
        zvtb_fail("capture's render did not end with nothing staged (%d): %s", r,
                  zvtb_log_worst(tb));
}

struct recs {
    zvs_host *h;
    zvs_rec *v;
    size_t n;
};

static void add_rec(struct recs *r, zv_record *rec)
{
    zvs_rec *v = realloc(r->v, (r->n + 1) * sizeof(*v));
    zv_record **all = realloc(r->h->all, (r->h->nall + 1) * sizeof(*all));
    if (!v || !all) zvtb_fail("out of memory");
    r->v = v;
    r->h->all = all;
    all[r->h->nall++] = rec;
    v[r->n++] = (zvs_rec){kstr(r->h, rec->prov.record_id), NULL, rec};
}

static int take_staged(const zv_staged *st, void *arg)
{
    zv_record *rec = zv_record_decode(st->rec, st->len);
    if (!rec) zvtb_fail("staged row %lld cannot be decoded", (long long)st->id);
    add_rec(arg, rec);
    return 0;
}

static int unhex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static zv_record *decode_hex(const char *hex, size_t len)
{
    if (len % 2) return NULL;
    unsigned char *buf = malloc(len / 2 + 1);
    if (!buf) zvtb_fail("out of memory");
    for (size_t i = 0; i < len / 2; i++) {
        int a = unhex(hex[2 * i]), b = unhex(hex[2 * i + 1]);
        if (a < 0 || b < 0) {
            free(buf);
            return NULL;
        }
        buf[i] = (unsigned char)(a << 4 | b);
    }
    zv_record *rec = zv_record_decode(buf, len / 2);
    free(buf);
    return rec;
}

/* One capture payload (fmt_tbcap): its records, in batch order. */
static void take_records(struct recs *r, int64_t id, const char *data, size_t dlen)
{
    char err[128];
    zv_json_doc *doc = zv_json_parse(data, dlen, 0, err, sizeof(err));
    if (!doc) zvtb_fail("capture payload %lld: %s", (long long)id, err);
    const zv_json *a = zv_json_root(doc);
    for (size_t i = 0; i < zv_json_len(a); i++) {
        size_t len = 0;
        const char *hex = zv_json_str(zv_json_get(zv_json_at(a, i), "encoded"), &len);
        zv_record *rec = hex ? decode_hex(hex, len) : NULL;
        if (!rec) zvtb_fail("capture payload %lld: record %zu cannot be decoded", (long long)id, i);
        add_rec(r, rec);
    }
    zv_json_free(doc);
}

typedef struct row {
    int64_t id;
    char *data;
    size_t len;
} row;

struct rows {
    row *v;
    size_t n;
};

static int take_row(const zv_outbox_row *o, void *arg)
{
    struct rows *r = arg;
    if (!o->payload) zvtb_fail("capture payload %lld was pruned", (long long)o->id);
    row *v = realloc(r->v, (r->n + 1) * sizeof(*v));
    char *data = malloc(o->len ? o->len : 1);
    if (!v || !data) zvtb_fail("out of memory");
    memcpy(data, o->payload, o->len);
    r->v = v;
    v[r->n++] = (row){o->id, data, o->len};
    return 0;
}

static int by_id(const void *a, const void *b)
{
    int64_t x = ((const row *)a)->id, y = ((const row *)b)->id;
    return x < y ? -1 : x > y;
}

static void read_records(zvs_host *h)
{
    close_window(h);
    struct recs r = {h, NULL, 0};
    struct rows rows = {NULL, 0};
    zv_store *s = reader(h);
    if (zv_store_outbox_list(s, "capture", NULL, 1000000, take_row, &rows) < 0)
        zvtb_fail("reader: %s", zv_store_errmsg(s));
    /* Oldest payload first, whatever order the listing has. */
    if (rows.n) qsort(rows.v, rows.n, sizeof(*rows.v), by_id);
    for (size_t i = 0; i < rows.n; i++) {
        take_records(&r, rows.v[i].id, rows.v[i].data, rows.v[i].len);
        free(rows.v[i].data);
    }
    free(rows.v);
    /* Then what waits for the window: after a crash (or before a start) no
     * runtime closes it, and what the core committed is still there. */
    if (zv_store_staged_each(s, "capture", 0, take_staged, &r) < 0)
        zvtb_fail("reader: %s", zv_store_errmsg(s));
    /* Earlier arrays stay valid, as their records do, until zvs_free. */
    if (h->recs) kept(h, h->recs);
    h->recs = r.v;
    h->nrecs = r.n;
}

size_t zvs_nrecords(zvs_host *h)
{
    read_records(h);
    return h->nrecs;
}

const zvs_rec *zvs_record(zvs_host *h, size_t i)
{
    if (!h->recs) read_records(h);
    return i < h->nrecs ? &h->recs[i] : NULL;
}

const zvs_rec *zvs_find(zvs_host *h, const char *record_id)
{
    read_records(h);
    for (size_t i = 0; i < h->nrecs; i++)
        if (h->recs[i].record_id && strcmp(h->recs[i].record_id, record_id) == 0)
            return &h->recs[i];
    return NULL;
}

struct quars {
    zvs_host *h;
    zvs_quar *v;
    size_t n;
};

static int take_quar(const zv_quarantine_entry *e, void *arg)
{
    struct quars *q = arg;
    zvs_quar *v = realloc(q->v, (q->n + 1) * sizeof(*v));
    if (!v) zvtb_fail("out of memory");
    q->v = v;
    v[q->n++] = (zvs_quar){kstr(q->h, e->record_id), kstr(q->h, e->field), kstr(q->h, e->reason),
                           kstr(q->h, e->item_json)};
    return 0;
}

static void read_quarantine(zvs_host *h)
{
    settle(h);
    struct quars q = {h, NULL, 0};
    if (zv_store_quarantine_each(reader(h), take_quar, &q) < 0)
        zvtb_fail("reader: %s", zv_store_errmsg(h->reader));
    if (h->quar) kept(h, h->quar);
    h->quar = q.v;
    h->nquar = q.n;
}

size_t zvs_nquarantine(zvs_host *h)
{
    read_quarantine(h);
    return h->nquar;
}

const zvs_quar *zvs_quarantine(zvs_host *h, size_t i)
{
    if (!h->quar) read_quarantine(h);
    return i < h->nquar ? &h->quar[i] : NULL;
}

const char *zvs_watermark(zvs_host *h, const char *key)
{
    char buf[4096];
    settle(h);
    int r = zv_store_watermark_get(reader(h), "ecd", key, buf, sizeof(buf));
    if (r < 0) zvtb_fail("reader: %s", zv_store_errmsg(h->reader));
    return r == 0 ? kstr(h, buf) : NULL;
}

const char *zvs_dropped(zvs_host *h, const char *record_id, const char *field)
{
    char needle[512];
    snprintf(needle, sizeof(needle), "record %s: optional field %s left out: ", record_id, field);
    const char *log = zvtb_log(h->tb), *at = NULL;
    for (const char *p = log; (p = strstr(p, needle)); p++)
        at = p;
    if (!at) return NULL;
    at += strlen(needle);
    const char *end = strchr(at, '\n');
    char *why = strndup(at, end ? (size_t)(end - at) : strlen(at));
    if (!why) zvtb_fail("out of memory");
    return kept(h, why);
}

struct count {
    const char *name;
    int64_t n;
};

static int take_count(const char *dest, const char *field, const char *what, int64_t n, void *arg)
{
    struct count *c = arg;
    if (strcmp(dest, "ecd") == 0 && strcmp(field, "-") == 0 && strcmp(what, c->name) == 0)
        c->n += n;
    return 0;
}

int64_t zvs_counter(zvs_host *h, const char *name)
{
    /* count() outside a unit waits in memory for the next unit; between
     * callbacks nothing is open, so write them now, as that unit would. */
    if (h->tb->rt && h->tb->rt->store) {
        zv_unit_flush_counts(h->tb->rt);
        /* Counts inside a unit were released into the group: the reader
         * sees them once that group is committed (by the writer, later). */
        if (zv_store_group_pending(h->tb->rt->store) &&
            zv_store_group_commit_sync(h->tb->rt->store) < 0)
            zvtb_fail("store: %s", zv_store_errmsg(h->tb->rt->store));
    }
    settle(h);
    struct count c = {name, 0};
    if (zv_store_count_each(reader(h), take_count, &c) < 0)
        zvtb_fail("reader: %s", zv_store_errmsg(h->reader));
    return c.n;
}

size_t zvs_nemits(const zvs_host *h)
{
    return h->tb->nemits;
}

size_t zvs_ncommits(const zvs_host *h)
{
    return h->tb->ncommits;
}

void zvs_fail_emits(zvs_host *h, int after, int count)
{
    h->tb->fail_after = after;
    h->tb->fail_count = count;
}

const char *zvs_last_warning(const zvs_host *h)
{
    return h->tb->plugin_warning;
}
