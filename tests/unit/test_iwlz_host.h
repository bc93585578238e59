/*
 * Test harness for the iWlz format plugin: loads the built fmt_iwlz.so
 * through its descriptor, offers a minimal zv_host (log, org, cfg_*,
 * add_payload, reject_record, verdict) and judges payloads independently of
 * the plugin's code: against the official XSDs and the official XSLT rule
 * set of the bundled release (plugins/fmt_iwlz/releases/2.2, whose files
 * test iwlz/release_unchanged holds to their checksums), run here with
 * libxml2/libxslt directly.  Needs nothing outside the source tree.
 * Header-only so that each test program stays one file.
 */
#ifndef TEST_IWLZ_HOST_H
#define TEST_IWLZ_HOST_H

#include <zinvol/plugin.h>
#include <zinvol/util.h>

#include "../fixtures/host_options.h"

#include <check.h>
#include <dlfcn.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxslt/transform.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/xsltutils.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Not every test program uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"

struct zv_ctx {
    const char *release_dir, *release, *schema_dir, *afzender, *zorgkantoor, *agb;
    int own_rules_off; /* option own_rules = false */
};

typedef struct th_payload {
    char *data;
    size_t len;
    char idem[32];
    char type[32], ext[8];
    size_t n;
    size_t records[64];
    char keys[64][40];
} th_payload;

typedef struct th_reject {
    size_t index;
    char rule[16], field[48], reason[600];
} th_reject;

struct zv_render_out {
    th_payload p[8];
    size_t np;
    th_reject r[64];
    size_t nr;
    size_t total_records; /* over all payloads, for large batches */
};

typedef struct th_verdict {
    char key[48];
    int accepted;
    char codes[64], reason[1024];
} th_verdict;

struct zv_verdict_out {
    th_verdict v[32];
    size_t nv;
};

static char th_log_last[1024];
static char th_log_worst[1024]; /* last line at WARN or worse */
static int th_log_problems;     /* lines at WARN or worse */
static char th_log_needle[64];  /* lines containing it are counted */
static int th_log_count;

static void th_log_count_reset(const char *needle)
{
    snprintf(th_log_needle, sizeof(th_log_needle), "%s", needle);
    th_log_count = 0;
}

static void th_log(zv_ctx *ctx, zv_log_level level, const char *fmt, ...)
{
    (void)ctx;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(th_log_last, sizeof(th_log_last), fmt, ap);
    va_end(ap);
    if (th_log_needle[0] && strstr(th_log_last, th_log_needle)) th_log_count++;
    if (level <= ZV_LOG_WARN) {
        th_log_problems++;
        snprintf(th_log_worst, sizeof(th_log_worst), "%s", th_log_last);
    }
    if (getenv("TH_VERBOSE")) fprintf(stderr, "[%d] %s\n", (int)level, th_log_last);
}

static const char *th_cfg_str(zv_ctx *ctx, const char *name)
{
    if (!strcmp(name, "release_dir")) return ctx->release_dir;
    if (!strcmp(name, "release")) return ctx->release;
    if (!strcmp(name, "schema_dir")) return ctx->schema_dir;
    if (!strcmp(name, "afzender")) return ctx->afzender;
    if (!strcmp(name, "zorgkantoor")) return ctx->zorgkantoor;
    return NULL;
}

static int th_cfg_bool(zv_ctx *ctx, const char *name)
{
    return !strcmp(name, "own_rules") ? !ctx->own_rules_off : 0;
}

/* The plugin's config struct, filled by the daemon's option engine from the
 * ctx fields as JSON.  One at a time: the previous one is freed (the plugin
 * copies what it keeps during create()). */
static zv_optset th_oset;
static zv_json_doc *th_odoc;

static void th_config_free(void)
{
    zv_optset_free(&th_oset);
    zv_json_free(th_odoc);
    th_odoc = NULL;
}

static const zv_plugin_descriptor *th_load(void);

static const void *th_config(zv_ctx *ctx)
{
    static int registered;
    if (!registered) registered = atexit(th_config_free) == 0;
    th_config_free();
    zv_buf b;
    zv_buf_init(&b);
    zv_buf_printf(&b, "{\"own_rules\": %s", ctx->own_rules_off ? "false" : "true");
    const char *names[] = {"release_dir", "release", "schema_dir", "afzender", "zorgkantoor"};
    const char *vals[] = {ctx->release_dir, ctx->release, ctx->schema_dir, ctx->afzender,
                          ctx->zorgkantoor};
    for (size_t i = 0; i < 5; i++)
        if (vals[i]) zv_buf_printf(&b, ", \"%s\": \"%s\"", names[i], vals[i]);
    zv_buf_printf(&b, "}");
    char err[512];
    th_odoc = zv_json_parse(b.data, b.len, 0, err, sizeof(err));
    zv_buf_free(&b);
    ck_assert_msg(th_odoc != NULL, "%s", err);
    ck_assert_msg(th_opts_resolve(&th_oset, th_load(), zv_json_root(th_odoc), err, sizeof(err)) ==
                      0,
                  "options: %s", err);
    return th_oset.conf;
}

static const char *th_org(zv_ctx *ctx, const char *key)
{
    return !strcmp(key, "agb") ? ctx->agb : !strcmp(key, "name") ? "Zorggroep Test" : NULL;
}

static int th_add_payload(zv_render_out *out, const zv_payload_spec *s)
{
    out->total_records += s->nrecords;
    if (out->np >= 8) return 0;
    th_payload *p = &out->p[out->np++];
    p->data = malloc(s->len + 1);
    memcpy(p->data, s->data, s->len);
    p->data[s->len] = 0;
    p->len = s->len;
    snprintf(p->idem, sizeof(p->idem), "%s", s->idem_key);
    snprintf(p->type, sizeof(p->type), "%s", s->content_type);
    snprintf(p->ext, sizeof(p->ext), "%s", s->extension);
    p->n = s->nrecords;
    for (size_t i = 0; i < s->nrecords && i < 64; i++) {
        p->records[i] = s->records[i];
        snprintf(p->keys[i], sizeof(p->keys[i]), "%s", s->record_keys[i]);
    }
    return 0;
}

static int th_reject_record(zv_render_out *out, size_t index, const char *rule, const char *field,
                            const char *reason)
{
    if (out->nr >= 64) return 0;
    th_reject *r = &out->r[out->nr++];
    r->index = index;
    snprintf(r->rule, sizeof(r->rule), "%s", rule);
    snprintf(r->field, sizeof(r->field), "%s", field ? field : "");
    snprintf(r->reason, sizeof(r->reason), "%s", reason);
    return 0;
}

static int th_verdict_cb(zv_verdict_out *out, const char *key, int accepted, const char *codes,
                         const char *reason)
{
    if (out->nv >= 32) return 0;
    th_verdict *v = &out->v[out->nv++];
    snprintf(v->key, sizeof(v->key), "%s", key);
    v->accepted = accepted;
    snprintf(v->codes, sizeof(v->codes), "%s", codes);
    snprintf(v->reason, sizeof(v->reason), "%s", reason);
    return 0;
}

static const zv_host th_host = {
    .size = sizeof(zv_host),
    .abi_major = ZV_ABI_MAJOR,
    .abi_minor = ZV_ABI_MINOR,
    .log = th_log,
    .cfg_str = th_cfg_str,
    .cfg_bool = th_cfg_bool,
    .config = th_config,
    .org = th_org,
    .add_payload = th_add_payload,
    .reject_record = th_reject_record,
    .verdict = th_verdict_cb,
};

static void th_out_free(zv_render_out *out)
{
    for (size_t i = 0; i < out->np; i++)
        free(out->p[i].data);
    memset(out, 0, sizeof(*out));
}

/* ---- the plugin ---- */

static void *th_dl;
static const zv_plugin_descriptor *th_desc;
static char th_release[1024], th_schemas[1100];

static const zv_plugin_descriptor *th_load(void)
{
    if (th_desc) return th_desc;
    const char *pd = getenv("ZV_PLUGIN_DIR");
    const char *src = getenv("ZV_SOURCE_DIR");
    ck_assert_msg(pd && src, "ZV_PLUGIN_DIR and ZV_SOURCE_DIR must be set");
    char path[1024];
    snprintf(path, sizeof(path), "%s/fmt_iwlz.so", pd);
    th_dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(th_dl != NULL, "dlopen %s: %s", path, dlerror());
    th_desc = dlsym(th_dl, ZV_PLUGIN_SYMBOL);
    ck_assert_ptr_nonnull(th_desc);
    snprintf(th_release, sizeof(th_release), "%s/plugins/fmt_iwlz/releases/2.2", src);
    snprintf(th_schemas, sizeof(th_schemas), "%s/xsd", th_release);
    return th_desc;
}

static struct zv_ctx th_ctx_default(void)
{
    th_load();
    struct zv_ctx c = {.release_dir = th_release, .agb = "12345678"};
    return c;
}

static void *th_create(struct zv_ctx *ctx)
{
    void *state = NULL;
    char err[512] = "";
    int rc = th_load()->create(ctx, &th_host, &state, err, sizeof(err));
    ck_assert_msg(rc == 0, "create: %s", err);
    return state;
}

/* ---- records ---- */

static zv_record *th_rec(const char *const *kv)
{
    zv_record *r = zv_record_new(ZV_KIND_DELIVERY, "test", "r", 0);
    ck_assert_ptr_nonnull(r);
    for (; kv[0]; kv += 2) {
        int id = zv_field_by_name(kv[0]);
        ck_assert_msg(id >= 0, "unknown field %s", kv[0]);
        if (kv[1])
            zv_record_set(r, (zv_field_id)id, kv[1], strlen(kv[1]), NULL);
        else
            zv_record_clear(r, (zv_field_id)id);
    }
    return r;
}

static void th_set(zv_record *r, const char *field, const char *value)
{
    int id = zv_field_by_name(field);
    ck_assert_int_ge(id, 0);
    if (value)
        zv_record_set(r, (zv_field_id)id, value, strlen(value), NULL);
    else
        zv_record_clear(r, (zv_field_id)id);
}

/* A valid AW35 ZZP record (verblijf) for bsn/besluit. */
static zv_record *th_zzp(const char *bsn, const char *besluit)
{
    const char *kv[] = {"client.bsn",
                        bsn,
                        "client.birth_date",
                        "1940-05-01",
                        "client.sex",
                        "2",
                        "client.family_name",
                        "Jansen",
                        "client.name_prefix",
                        "de",
                        "client.given_names",
                        "Maria Anna",
                        "client.initials",
                        "MA",
                        "entitlement.law",
                        "wlz",
                        "entitlement.number",
                        besluit,
                        "entitlement.funder",
                        "5501",
                        "entitlement.zzp_code",
                        "756",
                        "entitlement.start",
                        "2026-10-01",
                        "delivery.provider_agb",
                        "12345678",
                        "delivery.start",
                        "2026-10-05",
                        "delivery.sleuteldatum",
                        "2026-10-01",
                        "delivery.leveringsvorm",
                        "4",
                        "delivery.leveringsstatus",
                        "4",
                        "delivery.klasse",
                        "KE5",
                        "delivery.treatment",
                        "J",
                        "delivery.status",
                        "1",
                        NULL};
    return th_rec(kv);
}

/* A valid AW35 function record (persoonlijke verzorging). */
static zv_record *th_func(const char *bsn, const char *besluit)
{
    const char *kv[] = {"client.bsn",
                        bsn,
                        "client.birth_date",
                        "1940-05-01",
                        "client.sex",
                        "2",
                        "client.family_name",
                        "Jansen",
                        "entitlement.law",
                        "wlz",
                        "entitlement.number",
                        besluit,
                        "entitlement.funder",
                        "5501",
                        "entitlement.function_code",
                        "31",
                        "entitlement.start",
                        "2026-10-01",
                        "delivery.provider_agb",
                        "12345678",
                        "delivery.start",
                        "2026-10-05",
                        "delivery.klasse",
                        "K8", /* Opslag only with the highest Klasse (TR010) */
                        "delivery.opslag",
                        "1",
                        "delivery.status",
                        "1",
                        NULL};
    return th_rec(kv);
}

/* Turns a start record into an AW39 end-of-delivery record. */
static void th_make_end(zv_record *r)
{
    th_set(r, "delivery.end", "2026-11-20");
    th_set(r, "delivery.mutation_code", "19");
    th_set(r, "delivery.leveringsstatus", "5");
}

static int64_t th_now(void)
{
    struct tm tm = {.tm_year = 2026 - 1900, .tm_mon = 10, .tm_mday = 23, .tm_hour = 12};
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm);
}

static int th_render(void *state, int message, const char *batch_id, zv_record **recs, size_t n,
                     zv_render_out *out)
{
    memset(out, 0, sizeof(*out));
    zv_batch b = {ZV_SIZED(zv_batch),
                  .destination = "zk-5501",
                  .batch_id = batch_id,
                  .message = message,
                  .now = th_now(),
                  .n = n,
                  .records = (const zv_record *const *)recs};
    return th_load()->format->render(state, &b, out);
}

static void th_free_recs(zv_record **recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        zv_record_free(recs[i]);
}

/* ---- independent validation against the official XSDs ---- */

static char th_xsd_error[1024];

static void th_xsd_err(void *arg, xmlErrorPtr e)
{
    (void)arg;
    if (!th_xsd_error[0]) snprintf(th_xsd_error, sizeof(th_xsd_error), "%s", e->message);
}

/* 0 when data validates against the bundled release's <xsd>. */
static int th_validate(const char *xsd, const char *data, size_t len)
{
    th_load();
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", th_schemas, xsd);
    th_xsd_error[0] = 0;
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);
    xmlSchemaPtr s = xmlSchemaParse(pc);
    xmlSchemaFreeParserCtxt(pc);
    ck_assert_msg(s != NULL, "cannot load %s", path);
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(s);
    xmlSchemaSetValidStructuredErrors(vc, th_xsd_err, NULL);
    xmlDocPtr doc = xmlReadMemory(data, (int)len, "payload.xml", NULL, XML_PARSE_NONET);
    int rc = doc ? xmlSchemaValidateDoc(vc, doc) : -1;
    xmlFreeDoc(doc);
    xmlSchemaFreeValidCtxt(vc);
    xmlSchemaFree(s);
    return rc;
}

/* ---- independent judgement by the official rule set (XSLT) ---- */

typedef struct th_official {
    int n;              /* r:Fout elements */
    char codes[512];    /* their r:Code, comma separated */
    char details[1024]; /* the first r:Details */
    char locatie[512];  /* the first r:Locatie */
} th_official;

static xsltStylesheetPtr th_sheets[2];

/* Runs data through the bundled rule set for msg ("AW35"/"AW39") with
 * libxslt, as xsltproc would; fills o.  Returns o->n. */
static int th_official_check(const char *msg, const char *data, size_t len, th_official *o)
{
    th_load();
    int k = strcmp(msg, "AW35") == 0 ? 0 : 1;
    if (!th_sheets[k]) {
        char path[1200];
        snprintf(path, sizeof(path), "%s/xslt/wlz/2_2/%s.xsl", th_release, msg);
        th_sheets[k] = xsltParseStylesheetFile(BAD_CAST path);
        ck_assert_msg(th_sheets[k] != NULL, "cannot compile %s", path);
    }
    memset(o, 0, sizeof(*o));
    xmlDocPtr doc = xmlReadMemory(data, (int)len, "payload.xml", NULL, XML_PARSE_NONET);
    ck_assert_ptr_nonnull(doc);
    xmlDocPtr out = xsltApplyStylesheet(th_sheets[k], doc, NULL);
    ck_assert_ptr_nonnull(out);
    xmlNodePtr root = xmlDocGetRootElement(out);
    for (xmlNodePtr f = root ? root->children : NULL; f; f = f->next)
        for (xmlNodePtr e = f->children; e; e = e->next) {
            if (e->type != XML_ELEMENT_NODE || !xmlStrEqual(e->name, BAD_CAST "Fout")) continue;
            o->n++;
            for (xmlNodePtr c = e->children; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE) continue;
                xmlChar *t = xmlNodeGetContent(c);
                char buf[512];
                snprintf(buf, sizeof(buf), "%s", t ? (char *)t : "");
                xmlFree(t);
                char *p = buf;
                while (*p == ' ' || *p == '\n' || *p == '\t')
                    p++;
                size_t l = strlen(p);
                while (l && (p[l - 1] == ' ' || p[l - 1] == '\n' || p[l - 1] == '\t'))
                    p[--l] = 0;
                if (xmlStrEqual(c->name, BAD_CAST "Code")) {
                    size_t cl = strlen(o->codes);
                    snprintf(o->codes + cl, sizeof(o->codes) - cl, "%s%s", cl ? "," : "", p);
                } else if (xmlStrEqual(c->name, BAD_CAST "Details") && !o->details[0])
                    snprintf(o->details, sizeof(o->details), "%s", p);
                else if (xmlStrEqual(c->name, BAD_CAST "Locatie") && !o->locatie[0])
                    snprintf(o->locatie, sizeof(o->locatie), "%s", p);
            }
        }
    xmlFreeDoc(out);
    xmlFreeDoc(doc);
    return o->n;
}

static char *th_read_fixture(const char *name, size_t *len)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/tests/fixtures/iwlz/%s", getenv("ZV_SOURCE_DIR"), name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int th_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

#endif
