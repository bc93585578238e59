/* Formats on the testbed: render through the core's flush, interpret
 * through its verdict collector; see zvtb.h. */
#include "zvtb_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zinvol/json.h>

#include "store/store_admin.h"

zvtb *zvtb_format_ex(const char *format, const char *options_json, const char *dest_keys,
                     const char *top_keys)
{
    zvtb *tb = zvtb_new();
    zv_buf c;
    zv_buf_init(&c);
    zv_buf_printf(&c,
                  "\"destinations\": [{\"name\": \"dest\", \"format\": \"%s\", "
                  "\"transport\": \"tbcap\"%s%s%s%s}]",
                  format, options_json ? ", \"format_options\": " : "",
                  options_json ? options_json : "", dest_keys ? ", " : "",
                  dest_keys ? dest_keys : "");
    if (top_keys) zv_buf_printf(&c, ", %s", top_keys);
    zv_buf_append(&c, "", 1);
    zvtb_config(tb, c.data);
    zv_buf_free(&c);
    if (zvtb_build(tb) < 0)
        zvtb_fail("the core refused the %s config:\n%s", format, zvtb_errors(tb));
    return tb;
}

zvtb *zvtb_format(const char *format, const char *options_json)
{
    return zvtb_format_ex(format, options_json, NULL, NULL);
}

static zv_dest_rt *dest(zvtb *tb)
{
    if (!tb->rt || !tb->rt->ndests) zvtb_fail("no destination built");
    return &tb->rt->dests[0];
}

void zvtb_set_now(zvtb *tb, int64_t now)
{
    if (!tb->rt) zvtb_fail("no runtime built");
    tb->rt->batch_now = now;
}

const zv_plugin_descriptor *zvtb_fmt_desc(zvtb *tb)
{
    return dest(tb)->fmt.desc;
}

void *zvtb_fmt_state(zvtb *tb)
{
    return dest(tb)->fmt.state;
}

/* ---- reading back what the flush left in the store ---- */

struct ids {
    int64_t max;
};

static int max_outbox(const zv_outbox_row *r, void *arg)
{
    struct ids *m = arg;
    if (r->id > m->max) m->max = r->id;
    return 0;
}

static int max_quar(const zv_quarantine_entry *e, void *arg)
{
    struct ids *m = arg;
    if (e->id > m->max) m->max = e->id;
    return 0;
}

struct collect {
    zvtb_render *out;
    int64_t after;
    zv_record **copies;
    size_t n;
    size_t *by_id; /* indexes into copies, in record id order (ids are unique there) */
};

static zv_record **sort_base; /* qsort has no argument: set around the one call */

static int by_record_id(const void *a, const void *b)
{
    return strcmp(sort_base[*(const size_t *)a]->prov.record_id,
                  sort_base[*(const size_t *)b]->prov.record_id);
}

/* Indexes of recs[0..n) in record id order (a batch of thousands is looked
 * up per payload record: a scan each made large benches quadratic). */
static size_t *sorted_ids(zv_record **recs, size_t n)
{
    size_t *v = calloc(n ? n : 1, sizeof(*v));
    if (!v) zvtb_fail("out of memory");
    for (size_t i = 0; i < n; i++)
        v[i] = i;
    sort_base = recs;
    qsort(v, n, sizeof(*v), by_record_id);
    sort_base = NULL;
    return v;
}

static size_t index_of(const struct collect *c, const char *record_id)
{
    size_t lo = 0, hi = c->n;
    while (record_id && lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(c->copies[c->by_id[mid]]->prov.record_id, record_id);
        if (cmp == 0) return c->by_id[mid];
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    zvtb_fail("record id %s is none of the batch's", record_id ? record_id : "(null)");
}

static void read_records(const struct collect *c, zvtb_payload *p, const char *records_json)
{
    char err[128];
    zv_json_doc *doc = zv_json_parse(records_json, strlen(records_json), 0, err, sizeof(err));
    if (!doc) zvtb_fail("records_json: %s", err);
    const zv_json *a = zv_json_root(doc);
    p->n = zv_json_len(a);
    p->records = calloc(p->n ? p->n : 1, sizeof(size_t));
    p->keys = calloc(p->n ? p->n : 1, sizeof(char *));
    if (!p->records || !p->keys) zvtb_fail("out of memory");
    for (size_t i = 0; i < p->n; i++) {
        const zv_json *r = zv_json_at(a, i);
        p->records[i] = index_of(c, zv_json_str(zv_json_get(r, "record_id"), NULL));
        p->keys[i] = zvtb_strdup(zv_json_str(zv_json_get(r, "key"), NULL));
    }
    zv_json_free(doc);
}

/* ZVTB_DUMP_DIR set: a copy of every payload read back, for checks outside
 * the test program (JSON Schema, xmllint). */
static void dump(const zvtb_payload *p)
{
    static unsigned counter;
    const char *dir = getenv("ZVTB_DUMP_DIR");
    if (!dir || !*dir) return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/payload-%d-%04u.%s", dir, (int)getpid(), counter++,
             p->ext ? p->ext : "bin");
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p->data, 1, p->len, f) != p->len || fclose(f) != 0)
        zvtb_fail("dump to %s", path);
}

static int take_payload(const zv_outbox_row *r, void *arg)
{
    struct collect *c = arg;
    if (r->id <= c->after) return 0;
    zvtb_render *o = c->out;
    zvtb_payload *np = realloc(o->p, (o->np + 1) * sizeof(*np));
    if (!np) zvtb_fail("out of memory");
    o->p = np;
    zvtb_payload *p = &np[o->np++];
    memset(p, 0, sizeof(*p));
    p->outbox_id = r->id;
    p->message = zvtb_strdup(r->message);
    p->data = malloc(r->len + 1);
    if (!p->data) zvtb_fail("out of memory");
    if (r->len) memcpy(p->data, r->payload, r->len);
    p->data[r->len] = '\0';
    p->len = r->len;
    p->content_type = zvtb_strdup(r->content_type);
    p->idem = zvtb_strdup(r->idem_key);
    p->ext = zvtb_strdup(r->extension);
    read_records(c, p, r->records_json ? r->records_json : "[]");
    o->total_records += p->n;
    dump(p);
    return 0;
}

static int take_reject(const zv_quarantine_entry *e, void *arg)
{
    struct collect *c = arg;
    if (e->id <= c->after) return 0;
    zvtb_render *o = c->out;
    zvtb_reject *nr = realloc(o->r, (o->nr + 1) * sizeof(*nr));
    if (!nr) zvtb_fail("out of memory");
    o->r = nr;
    nr[o->nr++] = (zvtb_reject){.index = index_of(c, e->record_id),
                                .stage = zvtb_strdup(e->stage),
                                .rule = zvtb_strdup(e->rule),
                                .field = zvtb_strdup(e->field),
                                .reason = zvtb_strdup(e->reason)};
    return 0;
}

static int by_id(const void *a, const void *b)
{
    const zvtb_payload *x = a, *y = b;
    return x->outbox_id < y->outbox_id ? -1 : x->outbox_id > y->outbox_id;
}

struct staged_ids {
    int64_t *v;
    size_t n;
};

static int take_staged(const zv_staged *st, void *arg)
{
    struct staged_ids *s = arg;
    int64_t *v = realloc(s->v, (s->n + 1) * sizeof(*v));
    if (!v) zvtb_fail("out of memory");
    s->v = v;
    s->v[s->n++] = st->id;
    return 0;
}

/* A copy of each record; ids made unique where they repeat. */
static zv_record **copy_records(zv_record *const *recs, size_t n)
{
    zv_record **c = calloc(n ? n : 1, sizeof(*c));
    char *repeats = calloc(n ? n : 1, 1);
    if (!c || !repeats) zvtb_fail("out of memory");
    for (size_t i = 0; i < n; i++)
        if (!recs[i]->prov.record_id) zvtb_fail("record %zu has no record id", i);
    /* Repeated ids: neighbours in id order. */
    size_t *order = sorted_ids((zv_record **)recs, n);
    for (size_t k = 1; k < n; k++)
        if (strcmp(recs[order[k - 1]]->prov.record_id, recs[order[k]]->prov.record_id) == 0)
            repeats[order[k - 1]] = repeats[order[k]] = 1;
    free(order);
    for (size_t i = 0; i < n; i++) {
        const char *id = recs[i]->prov.record_id;
        int repeated = repeats[i];
        char rid[256];
        snprintf(rid, sizeof(rid), repeated ? "%s.%zu" : "%s", id, i);
        c[i] = zv_record_new(recs[i]->kind, recs[i]->prov.source ? recs[i]->prov.source : "tb", rid,
                             recs[i]->prov.received);
        if (!c[i]) zvtb_fail("out of memory");
        for (uint32_t f = 0; f < recs[i]->nfields && f < ZV_FIELD_COUNT; f++) {
            const zv_value *v = &recs[i]->values[f];
            if (v->str && zv_record_set(c[i], (zv_field_id)f, v->str, strlen(v->str), NULL) < 0)
                zvtb_fail("copy of field %u", f);
        }
    }
    free(repeats);
    return c;
}

static int nothing_staged(zvtb *tb, void *arg)
{
    zv_dest_rt *d = arg;
    return zv_store_staged_count(tb->rt->store, d->conf->name) == 0;
}

void zvtb_render_records(zvtb *tb, int message, zv_record *const *recs, size_t n, zvtb_render *out)
{
    memset(out, 0, sizeof(*out));
    zv_dest_rt *d = dest(tb);
    zv_store *s = tb->rt->store;
    struct ids ob = {0}, qb = {0};
    if (zv_store_outbox_list(s, NULL, NULL, 1, max_outbox, &ob) < 0 ||
        zv_store_quarantine_each(s, max_quar, &qb) < 0)
        zvtb_fail("store: %s", zv_store_errmsg(s));
    zv_record **copies = copy_records(recs, n);
    if (zv_store_begin(s) < 0) zvtb_fail("store: %s", zv_store_errmsg(s));
    for (size_t i = 0; i < n; i++) {
        unsigned char *enc;
        size_t len;
        if (zv_record_encode(copies[i], &enc, &len) < 0 ||
            zv_store_stage(s, d->conf->name, message, enc, len) < 0)
            zvtb_fail("staging record %zu", i);
        free(enc);
    }
    if (zv_store_commit(s) < 0) zvtb_fail("store: %s", zv_store_errmsg(s));
    int64_t counted0 = d->counted, uncounted0 = d->not_counted;
    out->rc = zv_pipeline_flush(tb->rt, d);
    /* Renders may finish on the loop (worker threads): until nothing is staged. */
    zvtb_run_until(tb, nothing_staged, d, 10000);
    out->counted = d->counted - counted0;
    out->not_counted = d->not_counted - uncounted0;
    struct collect c = {out, ob.max, copies, n, sorted_ids(copies, n)};
    if (zv_store_outbox_list(s, d->conf->name, NULL, 1000000, take_payload, &c) < 0)
        zvtb_fail("store: %s", zv_store_errmsg(s));
    if (out->np) qsort(out->p, out->np, sizeof(*out->p), by_id);
    c.after = qb.max;
    if (zv_store_quarantine_each(s, take_reject, &c) < 0)
        zvtb_fail("store: %s", zv_store_errmsg(s));
    struct staged_ids left = {0};
    if (zv_store_staged_each(s, d->conf->name, 0, take_staged, &left) < 0)
        zvtb_fail("store: %s", zv_store_errmsg(s));
    out->left_staged = left.n;
    if (left.n) {
        zv_store_begin(s);
        for (size_t i = 0; i < left.n; i++)
            zv_store_staged_delete(s, left.v[i]);
        if (zv_store_commit(s) < 0) zvtb_fail("store: %s", zv_store_errmsg(s));
    }
    free(left.v);
    free(c.by_id);
    for (size_t i = 0; i < n; i++)
        zv_record_free(copies[i]);
    free(copies);
}

void zvtb_skip_batches(zvtb *tb, int n)
{
    zv_dest_rt *d = dest(tb);
    for (int i = 0; i < n; i++) {
        int64_t seq;
        if (zv_store_next_batch(tb->rt->store, d->conf->name, &seq) < 0)
            zvtb_fail("store: %s", zv_store_errmsg(tb->rt->store));
    }
}

int zvtb_render_batch(zvtb *tb, const zv_batch *b, zvtb_render *out)
{
    int64_t keep = tb->rt->batch_now;
    tb->rt->batch_now = b->now;
    zvtb_render_records(tb, b->message, (zv_record *const *)b->records, b->n, out);
    tb->rt->batch_now = keep;
    return out->rc;
}

void zvtb_render_free(zvtb_render *o)
{
    for (size_t i = 0; i < o->np; i++) {
        zvtb_payload *p = &o->p[i];
        for (size_t k = 0; k < p->n; k++)
            free(p->keys[k]);
        free(p->keys);
        free(p->records);
        free(p->message);
        free(p->data);
        free(p->content_type);
        free(p->idem);
        free(p->ext);
    }
    for (size_t i = 0; i < o->nr; i++) {
        free(o->r[i].stage);
        free(o->r[i].rule);
        free(o->r[i].field);
        free(o->r[i].reason);
    }
    free(o->p);
    free(o->r);
    memset(o, 0, sizeof(*o));
}

int zvtb_interpret(zvtb *tb, const zv_answer *answer, zv_verdict_out *out)
{
    zv_dest_rt *d = dest(tb);
    if (!d->fmt.desc->format->interpret) zvtb_fail("format has no interpret()");
    zv_verdict_out_free(&tb->verdicts);
    int rc = d->fmt.desc->format->interpret(d->fmt.state, answer, &tb->verdicts);
    *out = tb->verdicts;
    return rc;
}

/* ---- sources ---- */

zv_ctx *zvtb_source_ctx(zvtb *tb, const char *source)
{
    for (size_t i = 0; tb->rt && i < tb->rt->nsources; i++)
        if (strcmp(tb->rt->sources[i].conf->name, source) == 0) return tb->rt->sources[i].inst.ctx;
    return NULL;
}

int zvtb_push(zvtb *tb, const char *source, const zv_item *item)
{
    zv_ctx *ctx = zvtb_source_ctx(tb, source);
    if (!ctx) zvtb_fail("no source %s", source);
    if (!tb->rt->started) zvtb_fail("zvtb_push before zvtb_start: emits need a running core");
    return tb->rt->host->emit(ctx, item);
}

int zvtb_commit(zvtb *tb, const char *source)
{
    zv_ctx *ctx = zvtb_source_ctx(tb, source);
    if (!ctx) zvtb_fail("no source %s", source);
    return tb->rt->host->commit(ctx);
}

int zvtb_flush(zvtb *tb)
{
    int rc = 0;
    for (size_t i = 0; i < tb->rt->ndests; i++)
        if (zv_pipeline_flush(tb->rt, &tb->rt->dests[i]) < 0) rc = -1;
    return rc;
}

static int take_any(const zv_outbox_row *r, void *arg)
{
    struct collect *c = arg;
    zvtb_render *o = c->out;
    zvtb_payload *np = realloc(o->p, (o->np + 1) * sizeof(*np));
    if (!np) zvtb_fail("out of memory");
    o->p = np;
    zvtb_payload *p = &np[o->np++];
    memset(p, 0, sizeof(*p));
    p->outbox_id = r->id;
    p->message = zvtb_strdup(r->message);
    p->data = malloc(r->len + 1);
    if (!p->data) zvtb_fail("out of memory");
    if (r->len) memcpy(p->data, r->payload, r->len);
    p->data[r->len] = '\0';
    p->len = r->len;
    p->content_type = zvtb_strdup(r->content_type);
    p->idem = zvtb_strdup(r->idem_key);
    p->ext = zvtb_strdup(r->extension);
    return 0;
}

void zvtb_outbox(zvtb *tb, const char *dest, zvtb_render *out)
{
    memset(out, 0, sizeof(*out));
    struct collect c = {out, 0, NULL, 0, NULL};
    if (zv_store_outbox_list(tb->rt->store, dest, NULL, 1000000, take_any, &c) < 0)
        zvtb_fail("store: %s", zv_store_errmsg(tb->rt->store));
    if (out->np) qsort(out->p, out->np, sizeof(*out->p), by_id);
}

/* ---- transports ---- */

zv_instance *zvtb_transport(zvtb *tb, const char *dest)
{
    for (size_t i = 0; tb->rt && i < tb->rt->ndests; i++)
        if (strcmp(tb->rt->dests[i].conf->name, dest) == 0) {
            if (!tb->rt->started) zvtb_fail("zvtb_transport before zvtb_start");
            return &tb->rt->dests[i].tr;
        }
    zvtb_fail("no destination %s", dest);
}

struct counter_arg {
    const char *dest, *field, *what;
    int64_t n;
};

static int counter_cb(const char *destination, const char *field, const char *what, int64_t n,
                      void *arg)
{
    struct counter_arg *c = arg;
    if (!strcmp(destination, c->dest) && !strcmp(field, c->field) && !strcmp(what, c->what))
        c->n += n;
    return 0;
}

int64_t zvtb_counter(zvtb *tb, const char *field, const char *what)
{
    struct counter_arg c = {dest(tb)->conf->name, field, what, 0};
    if (zv_store_count_each(tb->rt->store, counter_cb, &c) < 0)
        zvtb_fail("store: %s", zv_store_errmsg(tb->rt->store));
    return c.n;
}
