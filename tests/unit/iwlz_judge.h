/*
 * iWlz format tests: the plugin runs on the testbed (tests/testbed/zvtb.h:
 * the real core creates it from a config, renders through its flush into
 * the outbox and quarantine, reads answers through its verdict collector),
 * and payloads are judged independently of the plugin's code: against the
 * official XSDs and the official XSLT rule set of the bundled release
 * (plugins/fmt_iwlz/releases/2.2, whose files test iwlz/release_unchanged
 * holds to their checksums), run here with libxml2/libxslt directly.
 * Needs nothing outside the source tree.  Header-only so that each test
 * program stays one file.
 */
#ifndef IWLZ_JUDGE_H
#define IWLZ_JUDGE_H

#include <zinvol/plugin.h>
#include <zinvol/util.h>

#include <check.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxslt/transform.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/xsltutils.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zvtb.h"

/* Not every test program uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"

static char th_release[1024], th_schemas[1100];

static void th_paths(void)
{
    if (th_release[0]) return;
    const char *src = getenv("ZV_SOURCE_DIR");
    ck_assert_msg(src != NULL, "ZV_SOURCE_DIR must be set");
    snprintf(th_release, sizeof(th_release), "%s/plugins/fmt_iwlz/releases/2.2", src);
    snprintf(th_schemas, sizeof(th_schemas), "%s/xsd", th_release);
}

/* The batches' date: 23 November 2026, 12:00 local time. */
static int64_t th_now(void)
{
    struct tm tm = {.tm_year = 2026 - 1900, .tm_mon = 10, .tm_mday = 23, .tm_hour = 12};
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm);
}

/* A bed with the iwlz format on the bundled release; extra: more options
 * ("\"own_rules\": false"), NULL: none.  Batches are dated th_now(). */
static zvtb *th_bed(const char *extra)
{
    th_paths();
    char opts[2048];
    snprintf(opts, sizeof(opts), "{\"release_dir\": \"%s\"%s%s}", th_release, extra ? ", " : "",
             extra ? extra : "");
    zvtb *tb = zvtb_format("iwlz", opts);
    zvtb_set_now(tb, th_now());
    return tb;
}

static const zv_format_ops *th_fmt(zvtb *tb)
{
    return zvtb_fmt_desc(tb)->format;
}

/* The core's render path (see zvtb_render_records); returns its result. */
static int th_render(zvtb *tb, int message, zv_record **recs, size_t n, zvtb_render *out)
{
    zvtb_render_records(tb, message, recs, n, out);
    return out->rc;
}

static void th_free_recs(zv_record **recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        zv_record_free(recs[i]);
}

static int th_count(const char *hay, const char *needle)
{
    return zvtb_count(hay, needle);
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
    th_paths();
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
    th_paths();
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

#endif
