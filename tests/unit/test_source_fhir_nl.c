/* fhir source + the bundled nl-core mapping (conf/fhir-nl-core.conf) against
 * the official Nictiz zib2020 examples (tests/fixtures/fhir/nictiz, CC0),
 * served as paged searchset Bundles by the loopback FHIR fixture; and one
 * variant per case of issue 19 that the old flattener/mapping got wrong. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>
#include <zinvol/util.h>

#include "fixture.h"
#include "zvtb_src.h"

static zvf_server fhir;
static char base[128];
static char *mapping; /* sources[0].mapping of conf/fhir-nl-core.conf */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    zv_buf b;
    zv_buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        zv_buf_append(&b, chunk, n);
    fclose(f);
    zv_buf_append(&b, "", 1);
    return b.data;
}

static char *conf_mapping(void)
{
    char path[512], err[256];
    snprintf(path, sizeof(path), "%s/conf/fhir-nl-core.conf", getenv("ZV_SOURCE_DIR"));
    zv_json_doc *d = zv_json_parse_file(path, ZV_JSON_COMMENTS, err, sizeof(err));
    ck_assert_msg(d != NULL, "%s", err);
    const zv_json *m = zv_json_pointer(zv_json_root(d), "/sources/0/mapping");
    ck_assert_ptr_nonnull(m);
    zv_jw *w = zv_jw_new(0);
    zv_jw_value(w, m);
    const char *buf;
    size_t len;
    ck_assert_int_eq(zv_jw_result(w, &buf, &len), 0);
    char *out = strndup(buf, len);
    zv_jw_free(w);
    zv_json_free(d);
    return out;
}

static void setup(void)
{
    char script[512];
    snprintf(script, sizeof(script), "%s/fhir_server.py", getenv("ZV_ECD_FIXTURE"));
    const char *args[] = {NULL};
    ck_assert_int_eq(zvf_start(&fhir, script, args), 0);
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", fhir.port);
    mapping = conf_mapping();
}

static void teardown(void)
{
    zvf_stop(&fhir);
    free(mapping);
}

static void admin(const char *what, const char *json)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/admin/%s", base, what);
    ck_assert_int_eq(zvf_http("POST", url, json, NULL, NULL), 200);
}

static zvs_host *host_with(const char *map, int page_size)
{
    char opts[512], err[256];
    snprintf(opts, sizeof(opts),
             "{\"base_url\": \"%s/fhir\", \"page_size\": %d, \"backoff_initial\": \"0s\","
             " \"max_retries\": 2}",
             base, page_size);
    zvs_host *h = zvs_new(opts, map, err, sizeof(err));
    ck_assert_msg(h != NULL, "%s", err);
    ck_assert_msg(zvs_start(h, "in_fhir.so", err, sizeof(err)) == 0, "%s", err);
    return h;
}

/* An example as published, with a test BSN added where it has none. */
static void add_example(zv_buf *b, const char *file, const char *bsn)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/tests/fixtures/fhir/nictiz/%s.json", getenv("ZV_SOURCE_DIR"),
             file);
    char *text = slurp(path);
    zv_buf_puts(b, b->len > 1 ? ", " : "");
    const char *id = strstr(text, "\"id\": \"");
    const char *eol = id ? strchr(id, '\n') : NULL;
    if (bsn && eol) {
        zv_buf_append(b, text, (size_t)(eol - text));
        zv_buf_printf(b,
                      " \"identifier\": [{\"system\": \"http://fhir.nl/fhir/NamingSystem/bsn\","
                      " \"value\": \"%s\"}],",
                      bsn);
        zv_buf_puts(b, eol);
    } else {
        zv_buf_puts(b, text);
    }
    free(text);
}

static const char *str(const zvs_rec *r, zv_field_id id)
{
    return r ? zv_rec_str(r->rec, id) : NULL;
}

#define EXPECT(rec, id, want)                                                                      \
    do {                                                                                           \
        const char *got_ = str(rec, id), *want_ = (want);                                          \
        if (want_)                                                                                 \
            ck_assert_msg(got_ &&strcmp(got_, want_) == 0, "%s %s: '%s', expected '%s'",           \
                          (rec)->record_id, zv_field_def_of(id)->name, got_ ? got_ : "(none)",     \
                          want_);                                                                  \
        else                                                                                       \
            ck_assert_msg(!got_, "%s %s: '%s', expected none", (rec)->record_id,                   \
                          zv_field_def_of(id)->name, got_);                                        \
    } while (0)

typedef struct expect {
    const char *id, *bsn, *given, *initials, *family, *prefix, *birth, *sex, *postcode, *house,
        *partner, *usage;
} expect;

/* Written by hand from the resources. */
static const expect PATIENTS[] = {
    {"nl-core-Patient-01", "111222333", "Johanna Petronella Maria", "JPM", "Putten", "van",
     "1934-04-28", "2", "1012NX", "15", "Giessen", NULL},
    {"nl-core-NameInformation-complete", "999900006", "Johanna Petronella Maria", "JPM", "Putten",
     "van", NULL, NULL, NULL, NULL, "Giessen", "3"},
    {"nl-core-NameInformation-initials", "999900018", NULL, "HJW", "Schemer", NULL, NULL, NULL,
     NULL, NULL, NULL, NULL},
    {"nl-core-TreatmentDirective2-02-Patient-01", "999911120", "Jan Pieter Mark", "JPM",
     "Pietersen", NULL, "1998-12-03", "2", "1012NX", "15", "Janssen", "1"},
    {"nl-core-CareTeam-01-Patient-01", "999900031", "Ingrid", "I", "Jong", "de", NULL, NULL, NULL,
     NULL, "Wit", NULL},
    {"zinvol-NameInformation-partner", "999900043", "Maria", "M", "Vries", "de", NULL, NULL, NULL,
     NULL, "Bosch", "2"},
    {"zinvol-NameInformation-own-partner", "999900055", "Cornelis Johannes", "CJ", "Hek", "van 't",
     NULL, NULL, NULL, NULL, "Bakker", "4"},
    {"zinvol-NameInformation-givenname-only", "999900067", NULL, NULL, "Zwart", NULL, NULL, NULL,
     NULL, NULL, NULL, NULL},
    {"nl-core-NameInformation-firstNames", "999900079", "Hendrik Johan Willem", "HJW", "Schemer",
     NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    /* "Hendrik" (BR) "J." "W." (IN): an initial only for a name not known
     * in full, so the initials are of all three. */
    {"nl-core-NameInformation-firstNamesAndInitials", "999900080", "Hendrik", "HJW", "Schemer",
     NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    /* First names "Hendrik Willem" in the official name, the unrelated
     * initials "H. J. W." in a second official name of initials only
     * (receivers may ignore it; zinvol takes the initials from it). */
    {"nl-core-NameInformation-firstNamesAndInitialsSeparate", "999900092", "Hendrik Willem", "HJW",
     "Schemer", NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static void load_examples(const char *search_time)
{
    zv_buf b;
    zv_buf_init(&b);
    zv_buf_puts(&b, "[");
    for (size_t i = 0; i < sizeof(PATIENTS) / sizeof(PATIENTS[0]); i++)
        add_example(&b, PATIENTS[i].id, i == 0 || i == 3 ? NULL : PATIENTS[i].bsn);
    for (int i = 1; i <= 4; i++) {
        char f[64];
        snprintf(f, sizeof(f), "nl-core-EpisodeOfCare-%02d", i);
        add_example(&b, f, NULL);
    }
    zv_buf_puts(&b, "]");
    zv_buf body;
    zv_buf_init(&body);
    zv_buf_printf(&body, "{\"resources\": %s, \"hidden_updated\": \"2026-02-01T00:00:00Z\"%s%s%s}",
                  b.data, search_time ? ", \"search_time\": \"" : "",
                  search_time ? search_time : "", search_time ? "\"" : "");
    admin("load", body.data);
    zv_buf_free(&b);
    zv_buf_free(&body);
}

START_TEST(nictiz_examples)
{
    load_examples("2026-02-02T08:00:00Z");
    zvs_host *h = host_with(mapping, 3);
    ck_assert_int_eq(zvs_drain(h, 20000), 0);
    ck_assert_msg(zvs_nquarantine(h) == 0, "quarantined %s: %s: %s",
                  zvs_nquarantine(h) ? zvs_quarantine(h, 0)->record_id : "",
                  zvs_nquarantine(h) ? zvs_quarantine(h, 0)->field : "",
                  zvs_nquarantine(h) ? zvs_quarantine(h, 0)->reason : "");
    ck_assert_uint_eq(zvs_nrecords(h), 15);
    for (size_t i = 0; i < sizeof(PATIENTS) / sizeof(PATIENTS[0]); i++) {
        const expect *x = &PATIENTS[i];
        char rid[128];
        snprintf(rid, sizeof(rid), "Patient/%s", x->id);
        const zvs_rec *r = zvs_find(h, rid);
        ck_assert_msg(r != NULL, "no record %s", rid);
        EXPECT(r, ZV_F_CLIENT_BSN, x->bsn);
        EXPECT(r, ZV_F_CLIENT_GIVEN_NAMES, x->given);
        EXPECT(r, ZV_F_CLIENT_INITIALS, x->initials);
        EXPECT(r, ZV_F_CLIENT_FAMILY_NAME, x->family);
        EXPECT(r, ZV_F_CLIENT_NAME_PREFIX, x->prefix);
        EXPECT(r, ZV_F_CLIENT_BIRTH_DATE, x->birth);
        EXPECT(r, ZV_F_CLIENT_SEX, x->sex);
        EXPECT(r, ZV_F_CLIENT_POSTCODE, x->postcode);
        EXPECT(r, ZV_F_CLIENT_HOUSE_NUMBER, x->house);
        EXPECT(r, ZV_F_CLIENT_PARTNER_NAME, x->partner);
        EXPECT(r, ZV_F_CLIENT_NAME_USAGE, x->usage);
    }
    const zvs_rec *p1 = zvs_find(h, "Patient/nl-core-Patient-01");
    EXPECT(p1, ZV_F_CLIENT_PARTNER_PREFIX, "van der");
    EXPECT(p1, ZV_F_CLIENT_DECEASED, "N");
    EXPECT(p1, ZV_F_CLIENT_ACTIVE, NULL);
    for (int i = 1; i <= 4; i++) {
        char rid[64];
        snprintf(rid, sizeof(rid), "EpisodeOfCare/nl-core-EpisodeOfCare-%02d", i);
        const zvs_rec *e = zvs_find(h, rid);
        ck_assert_msg(e != NULL, "no record %s", rid);
        ck_assert_int_eq(e->rec->kind, ZV_KIND_DELIVERY);
        EXPECT(e, ZV_F_CLIENT_BSN, "111222333");
        EXPECT(e, ZV_F_CLIENT_BIRTH_DATE, "1934-04-28");
        EXPECT(e, ZV_F_DEL_START, "2014-04-05");
        EXPECT(e, ZV_F_DEL_END, i == 4 ? "2015-04-05" : NULL);
    }
    /* Case 10: no meta.lastUpdated in the examples: the search time. */
    ck_assert_str_eq(zvs_watermark(h, "Patient.lastUpdated"), "2026-02-02T08:00:00Z");
    ck_assert_str_eq(zvs_watermark(h, "EpisodeOfCare.lastUpdated"), "2026-02-02T08:00:00Z");
    ck_assert_int_eq(zvs_counter(h, "missing_last_updated"), 15);
    ck_assert_msg(strstr(zvs_last_warning(h), "without meta.lastUpdated"), "%s",
                  zvs_last_warning(h));
    zvs_free(h);
}
END_TEST

START_TEST(no_search_time_warns)
{
    load_examples(NULL);
    zvs_host *h = host_with(mapping, 5);
    ck_assert_int_eq(zvs_drain(h, 20000), 0);
    ck_assert_uint_eq(zvs_nrecords(h), 15);
    ck_assert_ptr_null(zvs_watermark(h, "Patient.lastUpdated"));
    ck_assert_msg(strstr(zvs_last_warning(h), "cannot advance"), "%s", zvs_last_warning(h));
    zvs_free(h);
}
END_TEST

static const char *BSN_SYS = "http://fhir.nl/fhir/NamingSystem/bsn";

static zvs_host *serve(const char *resources, const char *map)
{
    admin("load", resources);
    zvs_host *h = host_with(map ? map : mapping, 2);
    ck_assert_int_eq(zvs_drain(h, 20000), 0);
    return h;
}

/* Case 2: FHIR order carries no meaning. */
START_TEST(usual_name_and_postal_address_first)
{
    char res[4096];
    snprintf(res, sizeof(res),
             "[{\"resourceType\": \"Patient\", \"id\": \"o1\","
             " \"meta\": {\"lastUpdated\": \"2026-01-01T10:00:00Z\"},"
             " \"identifier\": [{\"system\": \"%s\", \"value\": \"999900006\"}],"
             " \"name\": [{\"use\": \"usual\", \"given\": [\"Jo\"]},"
             "  {\"use\": \"official\", \"family\": \"van Putten\", \"_family\": {\"extension\": ["
             "    {\"url\": \"http://hl7.org/fhir/StructureDefinition/humanname-own-prefix\","
             "     \"valueString\": \"van\"},"
             "    {\"url\": \"http://hl7.org/fhir/StructureDefinition/humanname-own-name\","
             "     \"valueString\": \"Putten\"}]},"
             "   \"given\": [\"Johanna\", \"Maria\"]}],"
             " \"address\": [{\"use\": \"home\", \"type\": \"postal\", \"line\": [\"Postbus 12\"],"
             "   \"postalCode\": \"1000 AA\"},"
             "  {\"use\": \"home\", \"type\": \"physical\", \"line\": [\"Dorpsstraat 7\"],"
             "   \"_line\": [{\"extension\": [{\"url\":"
             "     \"http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-houseNumber\","
             "     \"valueString\": \"7\"}]}],"
             "   \"postalCode\": \"2345 BC\", \"country\": \"NL\"}]}]",
             BSN_SYS);
    zvs_host *h = serve(res, NULL);
    const zvs_rec *r = zvs_find(h, "Patient/o1");
    ck_assert_ptr_nonnull(r);
    EXPECT(r, ZV_F_CLIENT_GIVEN_NAMES, "Johanna Maria");
    EXPECT(r, ZV_F_CLIENT_INITIALS, "JM");
    EXPECT(r, ZV_F_CLIENT_FAMILY_NAME, "Putten");
    EXPECT(r, ZV_F_CLIENT_NAME_PREFIX, "van");
    EXPECT(r, ZV_F_CLIENT_POSTCODE, "2345BC");
    EXPECT(r, ZV_F_CLIENT_HOUSE_NUMBER, "7");
    zvs_free(h);
}
END_TEST

/* Case 3: repeated extensions and identifiers get paths of their own. */
START_TEST(repeated_extensions_and_identifiers)
{
    const char *map =
        "{\"records\": [{\"when\": {\"type\": \"Patient\"}, \"kind\": \"client\", \"fields\": {"
        " \"client.bsn\": \"Patient.identifier[bsn][1].value\","
        " \"client.id\": \"Patient.identifier[bsn].value\","
        " \"client.email\": \"Patient.communication.extension[patient-proficiency][2]"
        ".extension[type].value.code\","
        " \"client.phone\": \"Patient.communication.extension[patient-proficiency][1]"
        ".extension[level].value.code\"}}]}";
    zv_buf b;
    zv_buf_init(&b);
    zv_buf_puts(&b, "[");
    add_example(&b, "nl-core-Patient-01", NULL);
    zv_buf_puts(&b, "]");
    /* A second BSN identifier (under the OID) after the first. */
    char *at = strstr(b.data, "\"identifier\": [");
    ck_assert_ptr_nonnull(at);
    zv_buf r;
    zv_buf_init(&r);
    zv_buf_append(&r, b.data, (size_t)(at - b.data) + 15);
    zv_buf_puts(&r,
                "{\"system\": \"urn:oid:2.16.840.1.113883.2.4.6.3\", \"value\": \"999900006\"},");
    zv_buf_puts(&r, at + 15);
    zvs_host *h = serve(r.data, map);
    const zvs_rec *p = zvs_find(h, "Patient/nl-core-Patient-01");
    ck_assert_msg(p != NULL, "%s", zvs_nquarantine(h) ? zvs_quarantine(h, 0)->reason : "");
    EXPECT(p, ZV_F_CLIENT_ID, "999900006");
    EXPECT(p, ZV_F_CLIENT_BSN, "111222333");
    EXPECT(p, ZV_F_CLIENT_EMAIL, "RWR");
    EXPECT(p, ZV_F_CLIENT_PHONE, "F");
    zv_buf_free(&b);
    zv_buf_free(&r);
    zvs_free(h);
}
END_TEST

/* Case 4: absolute (fullUrl and below the base), versioned and contained
 * references; contained resources keep their resourceType. */
START_TEST(references)
{
    const char *map =
        "{\"records\": [{\"when\": {\"type\": \"EpisodeOfCare\"}, \"kind\": \"delivery\","
        " \"fields\": {\"client.bsn\": \"Patient.identifier[bsn].value\","
        " \"delivery.location\": \"EpisodeOfCare.contained.resourceType\","
        " \"entitlement.law\": {\"value\": \"wlz\"}, \"entitlement.funder\": {\"value\": \"5501\"},"
        " \"delivery.start\": \"EpisodeOfCare.period.start\"}},"
        " {\"when\": {\"type\": \"Patient\"}, \"kind\": \"client\", \"fields\": {"
        " \"client.bsn\": \"Patient.identifier[bsn].value\"}}]}";
    zv_buf b;
    zv_buf_init(&b);
    zv_buf_puts(&b, "{\"full_url\": \"https://ecd.example/fhir\", \"resources\": [");
    const char *bsns[] = {"999900006", "999900018", "999900031", "999900043"};
    for (int i = 0; i < 4; i++)
        zv_buf_printf(&b,
                      "{\"resourceType\": \"Patient\", \"id\": \"p%d\", \"meta\": {\"lastUpdated\":"
                      " \"2026-01-01T10:00:00Z\"}, \"identifier\": [{\"system\": \"%s\","
                      " \"value\": \"%s\"}]},",
                      i, BSN_SYS, bsns[i]);
    const char *refs[] = {"https://ecd.example/fhir/Patient/p0", "Patient/p1/_history/3", NULL,
                          NULL};
    char own[160];
    snprintf(own, sizeof(own), "%s/fhir/Patient/p3/_history/1", base);
    refs[3] = own;
    for (int i = 0; i < 4; i++) {
        zv_buf_printf(&b,
                      "%s{\"resourceType\": \"EpisodeOfCare\", \"id\": \"e%d\", \"meta\":"
                      " {\"lastUpdated\": \"2026-01-01T11:00:00Z\"}, \"status\": \"active\","
                      " \"period\": {\"start\": \"2025-01-0%d\"},",
                      i ? ", " : "", i, i + 1);
        if (i == 2)
            zv_buf_printf(&b,
                          " \"contained\": [{\"resourceType\": \"Patient\", \"id\": \"pc\","
                          " \"identifier\": [{\"system\": \"%s\", \"value\": \"999900055\"}]}],"
                          " \"patient\": {\"reference\": \"#pc\"}}",
                          BSN_SYS);
        else
            zv_buf_printf(&b, " \"patient\": {\"reference\": \"%s\"}}", refs[i]);
    }
    zv_buf_puts(&b, "]}");
    zvs_host *h = serve(b.data, map);
    const char *want[] = {"999900006", "999900018", "999900055", "999900043"};
    for (int i = 0; i < 4; i++) {
        char rid[32];
        snprintf(rid, sizeof(rid), "EpisodeOfCare/e%d", i);
        const zvs_rec *e = zvs_find(h, rid);
        ck_assert_msg(e != NULL, "%s: %s", rid,
                      zvs_nquarantine(h) ? zvs_quarantine(h, 0)->reason : "not emitted");
        EXPECT(e, ZV_F_CLIENT_BSN, want[i]);
        EXPECT(e, ZV_F_DEL_LOCATION, i == 2 ? "Patient" : NULL);
    }
    ck_assert_int_eq(zvs_counter(h, "unresolved_patients"), 0);
    zv_buf_free(&b);
    zvs_free(h);
}
END_TEST

static void patients(int n)
{
    zv_buf b;
    zv_buf_init(&b);
    zv_buf_puts(&b, "[");
    const char *bsns[] = {"999900006", "999900018", "999900031", "999900043", "999900055"};
    for (int i = 0; i < n; i++)
        zv_buf_printf(
            &b,
            "%s{\"resourceType\": \"Patient\", \"id\": \"p%d\", \"meta\": {\"lastUpdated\":"
            " \"2026-01-01T10:00:0%dZ\"}, \"identifier\": [{\"system\": \"%s\","
            " \"value\": \"%s\"}]}",
            i ? ", " : "", i, i, BSN_SYS, bsns[i % 5]);
    zv_buf_puts(&b, "]");
    admin("load", b.data);
    zv_buf_free(&b);
}

/* Case 5: next links on a textually different origin. */
START_TEST(next_link_origins)
{
    const char *modes[] = {"alias", "proxy"};
    for (int m = 0; m < 2; m++) {
        patients(5);
        char body[128];
        snprintf(body, sizeof(body), "{\"mode\": \"%s\", \"from_page\": 1}", modes[m]);
        admin("broken_next", body);
        zvs_host *h = host_with(mapping, 2);
        ck_assert_int_eq(zvs_drain(h, 20000), 0);
        ck_assert_msg(zvs_nrecords(h) == 5, "%s: %zu records (%s)", modes[m], zvs_nrecords(h),
                      zvs_last_warning(h));
        ck_assert_str_eq(zvs_watermark(h, "Patient.lastUpdated"), "2026-01-01T10:00:04Z");
        ck_assert_int_eq(zvs_counter(h, "fhir_errors"), 0);
        zvs_free(h);
    }
    /* Another server, outside base_url's path: never followed. */
    admin("broken_next", "{\"mode\": \"foreign\", \"from_page\": 1}");
    zvs_host *h = host_with(mapping, 2);
    ck_assert_int_eq(zvs_drain(h, 20000), 0);
    ck_assert_uint_eq(zvs_nrecords(h), 2);
    ck_assert_msg(strstr(zvs_last_warning(h), "another server"), "%s", zvs_last_warning(h));
    zvs_free(h);
    admin("broken_next", "{\"mode\": \"\"}");
}
END_TEST

/* Case 6: optional fields drop with a reason; a required one quarantines. */
START_TEST(optional_fields_drop)
{
    char res[4096];
    snprintf(
        res, sizeof(res),
        "[{\"resourceType\": \"Patient\", \"id\": \"be\", \"meta\": {\"lastUpdated\":"
        " \"2026-01-01T10:00:00Z\"}, \"identifier\": [{\"system\": \"%s\", \"value\":"
        " \"999900006\"}], \"birthDate\": \"1934-04\", \"gender\": \"male\","
        " \"address\": [{\"use\": \"home\", \"line\": [\"Meir 1\"], \"_line\": [{\"extension\":"
        " [{\"url\": \"http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-houseNumber\","
        " \"valueString\": \"1\"}]}], \"city\": \"Antwerpen\", \"postalCode\": \"2000\","
        " \"country\": \"Belgie\", \"_country\": {\"extension\": [{\"url\":"
        " \"http://nictiz.nl/fhir/StructureDefinition/ext-CodeSpecification\","
        " \"valueCodeableConcept\": {\"coding\": [{\"system\": \"urn:iso:std:iso:3166\","
        " \"code\": \"BE\"}]}}]}}]},"
        " {\"resourceType\": \"Patient\", \"id\": \"nl\", \"meta\": {\"lastUpdated\":"
        " \"2026-01-01T10:00:01Z\"}, \"identifier\": [{\"system\": \"%s\", \"value\":"
        " \"999900018\"}], \"address\": [{\"use\": \"home\", \"postalCode\": \"12345\","
        " \"country\": \"Nederland\"}]},"
        " {\"resourceType\": \"Patient\", \"id\": \"nobsn\", \"meta\": {\"lastUpdated\":"
        " \"2026-01-01T10:00:02Z\"}, \"identifier\": [{\"system\": \"%s\", \"value\":"
        " \"123456789\"}], \"birthDate\": \"1950-01-01\"}]",
        BSN_SYS, BSN_SYS, BSN_SYS);
    zvs_host *h = serve(res, NULL);
    const zvs_rec *be = zvs_find(h, "Patient/be");
    ck_assert_ptr_nonnull(be);
    EXPECT(be, ZV_F_CLIENT_BSN, "999900006");
    EXPECT(be, ZV_F_CLIENT_SEX, "1");
    EXPECT(be, ZV_F_CLIENT_POSTCODE, NULL);
    EXPECT(be, ZV_F_CLIENT_BIRTH_DATE, NULL);
    EXPECT(be, ZV_F_CLIENT_HOUSE_NUMBER, "1");
    const char *why = zvs_dropped(h, "Patient/be", "client.postcode");
    ck_assert_msg(why && strstr(why, "foreign address (country 'BE')"), "%s", why ? why : "-");
    why = zvs_dropped(h, "Patient/be", "client.birth_date");
    ck_assert_msg(why && strstr(why, "partial date"), "%s", why ? why : "-");
    /* A Dutch address with a postcode that is not one: dropped, named. */
    EXPECT(zvs_find(h, "Patient/nl"), ZV_F_CLIENT_POSTCODE, NULL);
    why = zvs_dropped(h, "Patient/nl", "client.postcode");
    ck_assert_msg(why && strstr(why, "not a Dutch postcode"), "%s", why ? why : "-");
    /* The BSN is required: still quarantined. */
    ck_assert_uint_eq(zvs_nquarantine(h), 1);
    ck_assert_str_eq(zvs_quarantine(h, 0)->field, "client.bsn");
    ck_assert_str_eq(zvs_quarantine(h, 0)->record_id, "Patient/nobsn");
    zvs_free(h);
}
END_TEST

/* Cases 7 and 8: deceased[x], active, Patient.link; the BSN under its OID. */
START_TEST(deceased_inactive_merged_oid)
{
    char res[4096];
    snprintf(
        res, sizeof(res),
        "[{\"resourceType\": \"Patient\", \"id\": \"dead\", \"meta\": {\"lastUpdated\":"
        " \"2026-01-01T10:00:00Z\"}, \"identifier\": [{\"system\":"
        " \"urn:oid:2.16.840.1.113883.2.4.6.3\", \"value\": \"999900006\"}],"
        " \"deceasedDateTime\": \"2025-11-02T10:00:00+01:00\"},"
        " {\"resourceType\": \"Patient\", \"id\": \"old\", \"meta\": {\"lastUpdated\":"
        " \"2026-01-01T10:00:01Z\"}, \"identifier\": [{\"system\": \"%s\", \"value\":"
        " \"999900018\"}], \"active\": false, \"deceasedBoolean\": true,"
        " \"link\": [{\"other\": {\"reference\": \"Patient/new\"}, \"type\": \"replaced-by\"}]}]",
        BSN_SYS);
    zvs_host *h = serve(res, NULL);
    const zvs_rec *d = zvs_find(h, "Patient/dead");
    ck_assert_msg(d != NULL, "%s", zvs_nquarantine(h) ? zvs_quarantine(h, 0)->reason : "");
    EXPECT(d, ZV_F_CLIENT_BSN, "999900006");
    EXPECT(d, ZV_F_CLIENT_DECEASED, "J");
    EXPECT(d, ZV_F_CLIENT_DEATH_DATE, "2025-11-02");
    const zvs_rec *o = zvs_find(h, "Patient/old");
    ck_assert_ptr_nonnull(o);
    EXPECT(o, ZV_F_CLIENT_DECEASED, "J");
    EXPECT(o, ZV_F_CLIENT_DEATH_DATE, NULL);
    EXPECT(o, ZV_F_CLIENT_ACTIVE, "N");
    EXPECT(o, ZV_F_CLIENT_REPLACED_BY, "Patient/new");
    ck_assert_int_eq(zvs_counter(h, "patients_deceased"), 2);
    ck_assert_int_eq(zvs_counter(h, "patients_inactive"), 1);
    ck_assert_int_eq(zvs_counter(h, "patients_merged"), 1);
    zvs_free(h);
}
END_TEST

/* Case 9: the quarantine keeps what the mapping reads, not the narrative
 * (the BSN in clear) or the contact persons. */
START_TEST(quarantine_keeps_only_what_is_read)
{
    zv_buf b;
    zv_buf_init(&b);
    zv_buf_puts(&b, "[");
    add_example(&b, "nl-core-Patient-01", NULL);
    add_example(&b, "nl-core-TreatmentDirective2-02-Patient-01", NULL);
    zv_buf_puts(&b, "]");
    /* Break both BSNs' systems: the narrative still holds 999911120. */
    char *s;
    while ((s = strstr(b.data, "NamingSystem/bsn")))
        memcpy(s, "NamingSystem/xyz", 16);
    zvs_host *h = serve(b.data, NULL);
    ck_assert_uint_eq(zvs_nquarantine(h), 2);
    for (int i = 0; i < 2; i++) {
        const zvs_quar *q = zvs_quarantine(h, (size_t)i);
        ck_assert_str_eq(q->field, "client.bsn");
        ck_assert_msg(strstr(q->item_json, "Patient.name.given"), "%s", q->item_json);
        ck_assert_msg(strstr(q->item_json, "Patient.birthDate"), "%s", q->item_json);
        ck_assert_ptr_null(strstr(q->item_json, "999911120"));
        ck_assert_ptr_null(strstr(q->item_json, "contact"));
        ck_assert_ptr_null(strstr(q->item_json, "giesput"));
        ck_assert_ptr_null(strstr(q->item_json, "Bij gesprek"));
        ck_assert_ptr_null(strstr(q->item_json, ".text"));
        ck_assert_msg(strlen(q->item_json) < 3000, "%zu bytes kept", strlen(q->item_json));
    }
    zv_buf_free(&b);
    zvs_free(h);
}
END_TEST

/* Text that is not strict UTF-8 (a lone surrogate, which the JSON parser
 * lets through) or holds U+0000 quarantines that resource alone. */
START_TEST(bad_text_quarantines_one_resource)
{
    char res[2048];
    snprintf(res, sizeof(res),
             "[{\"resourceType\": \"Patient\", \"id\": \"sur\", \"meta\": {\"lastUpdated\":"
             " \"2026-01-01T10:00:00Z\"}, \"identifier\": [{\"system\": \"%s\", \"value\":"
             " \"999900006\"}], \"name\": [{\"use\": \"official\", \"family\": \"Dijk\\udc80\"}]},"
             " {\"resourceType\": \"Patient\", \"id\": \"nul\", \"meta\": {\"lastUpdated\":"
             " \"2026-01-01T10:00:01Z\"}, \"identifier\": [{\"system\": \"%s\", \"value\":"
             " \"999900018\"}], \"birthDate\": \"1950-01-01\\u0000x\"},"
             " {\"resourceType\": \"Patient\", \"id\": \"ok\", \"meta\": {\"lastUpdated\":"
             " \"2026-01-01T10:00:02Z\"}, \"identifier\": [{\"system\": \"%s\", \"value\":"
             " \"999900031\"}], \"name\": [{\"use\": \"official\", \"family\": \"Dijk\"}]}]",
             BSN_SYS, BSN_SYS, BSN_SYS);
    zvs_host *h = serve(res, NULL);
    EXPECT(zvs_find(h, "Patient/ok"), ZV_F_CLIENT_FAMILY_NAME, "Dijk");
    ck_assert_uint_eq(zvs_nrecords(h), 1);
    ck_assert_uint_eq(zvs_nquarantine(h), 2);
    const zvs_quar *a = zvs_quarantine(h, 0), *b = zvs_quarantine(h, 1);
    ck_assert_str_eq(a->record_id, "Patient/sur");
    ck_assert_str_eq(a->field, "record");
    ck_assert_msg(strstr(a->reason, "Patient.name.family: UTF-16 surrogate"), "%s", a->reason);
    ck_assert_ptr_null(strstr(a->item_json, "Dijk"));
    ck_assert_str_eq(b->record_id, "Patient/nul");
    ck_assert_msg(strstr(b->reason, "Patient.birthDate: U+0000"), "%s", b->reason);
    ck_assert_int_eq(zvs_counter(h, "bad_text"), 2);
    zvs_free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("source_fhir_nl");
    TCase *tc = tcase_create("nl-core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, nictiz_examples);
    tcase_add_test(tc, no_search_time_warns);
    tcase_add_test(tc, usual_name_and_postal_address_first);
    tcase_add_test(tc, repeated_extensions_and_identifiers);
    tcase_add_test(tc, references);
    tcase_add_test(tc, next_link_origins);
    tcase_add_test(tc, optional_fields_drop);
    tcase_add_test(tc, deceased_inactive_merged_oid);
    tcase_add_test(tc, quarantine_keeps_only_what_is_read);
    tcase_add_test(tc, bad_text_quarantines_one_resource);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
