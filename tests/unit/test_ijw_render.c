/* fmt_ijw through its descriptor: JW305/JW307 and WMO305/WMO307 structure,
 * namespaces, header values, one client per message, n products. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

#include "../fixtures/ijw/ijw_test_util.h"
#include "../fixtures/ijw/zv_test_host.h"

#define BSN_A "999993653"
#define BSN_B "999990019"
#define NOW 1767434400 /* 2026-01-03 10:00 UTC */

static void *handle;
static const zv_plugin_descriptor *desc;
static char *dir;

static void setup(void)
{
    char err[512];
    desc = zvt_load("fmt_ijw.so", &handle, err, sizeof(err));
    ck_assert_msg(desc != NULL, "%s", err);
    dir = zvt_tempdir();
    ck_assert_ptr_nonnull(dir);
}

static void teardown(void)
{
    zvt_rmdir(dir);
    free(dir);
}

static void *create(zv_ctx **ctx, const char *opts)
{
    *ctx = zvt_ctx_new(desc, opts, "65656055", dir);
    void *st = NULL;
    char err[256] = "";
    ck_assert_msg(desc->create(*ctx, zvt_host(), &st, err, sizeof(err)) == 0, "%s", err);
    return st;
}

static xmlDocPtr parse(const zvt_payload *p)
{
    xmlDocPtr d = xmlReadMemory(p->data, (int)p->len, "p.xml", NULL, XML_PARSE_NONET);
    ck_assert_msg(d != NULL, "not well-formed XML");
    return d;
}

typedef struct expect {
    const char *opts;
    const char *law;
    int message;
    const char *prefix, *base, *code;
} expect;

static void check_message(const expect *e)
{
    zv_ctx *ctx;
    void *st = create(&ctx, e->opts);
    int stop = e->message & 1;
    const char *end = stop ? "2026-01-02" : NULL;
    zv_record *r[3] = {ijwt_record("1", e->law, BSN_A, "300201", "2025-12-01", end, "1"),
                       ijwt_record("2", e->law, BSN_B, "300301", "2025-12-02", end, "1"),
                       ijwt_record("3", e->law, BSN_A, "300202", "2025-12-03", end, "1")};
    zv_record *started[3];
    zv_render_out *pre = zvt_out_new();
    if (stop) { /* stops need a start first */
        for (int i = 0; i < 3; i++) {
            started[i] = zv_record_copy(r[i]);
            zv_record_clear(started[i], ZV_F_DEL_END);
            zv_record_clear(started[i], ZV_F_DEL_END_REASON);
        }
        zv_batch sb = {ZV_SIZED(zv_batch),
                       .destination = "gem",
                       .batch_id = "s1",
                       .message = e->message - 1,
                       .now = NOW,
                       .n = 3,
                       .records = (const zv_record *const *)started};
        ck_assert_int_eq(desc->format->render(st, &sb, pre), 0);
        ck_assert_uint_eq(pre->nrejects, 0);
    }
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(desc->format->classify(st, r[i]), e->message);
    zv_batch b = {ZV_SIZED(zv_batch),
                  .destination = "gem",
                  .batch_id = "b1",
                  .message = e->message,
                  .now = NOW,
                  .n = 3,
                  .records = (const zv_record *const *)r};
    zv_render_out *out = zvt_out_new();
    ck_assert_int_eq(desc->format->render(st, &b, out), 0);
    ck_assert_uint_eq(out->nrejects, 0);
    ck_assert_uint_eq(out->npayloads, 2); /* two clients */
    char ns[128], bns[128], names[512], buf[64];
    snprintf(ns, sizeof(ns), "http://www.istandaarden.nl/%s/3_2/%s/schema", e->base, e->prefix);
    snprintf(bns, sizeof(bns), "http://www.istandaarden.nl/%s/3_2/basisschema/schema", e->base);
    const char *prod = stop ? "StopProduct" : "StartProduct";
    for (size_t k = 0; k < 2; k++) {
        zvt_payload *p = &out->payloads[k];
        ck_assert_str_eq(p->extension, "xml");
        xmlDocPtr d = parse(p);
        xmlNodePtr root = xmlDocGetRootElement(d);
        ck_assert_str_eq((const char *)root->name, "Bericht");
        ck_assert_str_eq((const char *)root->ns->href, ns);
        ijwt_children(root, ns, names, sizeof(names));
        ck_assert_str_eq(names, "Header,Client");
        xmlNodePtr h = ijwt_child(root, "Header", 0);
        ijwt_children(h, ns, names, sizeof(names));
        ck_assert_str_eq(names, "BerichtCode,BerichtVersie,BerichtSubversie,Afzender,Ontvanger,"
                                "BerichtIdentificatie,XsdVersie");
        ck_assert_str_eq(ijwt_text(ijwt_child(h, "BerichtCode", 0), buf, sizeof(buf)), e->code);
        ck_assert_str_eq(ijwt_text(ijwt_child(h, "BerichtVersie", 0), buf, sizeof(buf)), "3");
        ck_assert_str_eq(ijwt_text(ijwt_child(h, "BerichtSubversie", 0), buf, sizeof(buf)), "2");
        ck_assert_str_eq(ijwt_text(ijwt_child(h, "Afzender", 0), buf, sizeof(buf)), "65656055");
        ck_assert_str_eq(ijwt_text(ijwt_child(h, "Ontvanger", 0), buf, sizeof(buf)), "0363");
        xmlNodePtr bi = ijwt_child(h, "BerichtIdentificatie", 0);
        ijwt_children(bi, bns, names, sizeof(names));
        ck_assert_str_eq(names, "Identificatie,Dagtekening");
        ck_assert_uint_le(strlen(ijwt_text(ijwt_child(bi, "Identificatie", 0), buf, sizeof(buf))),
                          12);
        ck_assert_str_eq(ijwt_text(ijwt_child(bi, "Dagtekening", 0), buf, sizeof(buf)),
                         "2026-01-03");
        ijwt_children(ijwt_child(h, "XsdVersie", 0), bns, names, sizeof(names));
        ck_assert_str_eq(names, "BasisschemaXsdVersie,BerichtXsdVersie");
        xmlNodePtr c = ijwt_child(root, "Client", 0);
        ijwt_children(c, ns, names, sizeof(names));
        ck_assert_str_eq(names, stop ? "Bsn,Geboortedatum,Geslacht,Naam,StopProducten"
                                     : "Bsn,Geboortedatum,Geslacht,Naam,StartProducten");
        ijwt_children(ijwt_child(c, "Naam", 0), bns, names, sizeof(names));
        ck_assert_str_eq(names, "Geslachtsnaam,Voorletters");
        ijwt_children(ijwt_child(ijwt_child(c, "Naam", 0), "Geslachtsnaam", 0), bns, names,
                      sizeof(names));
        ck_assert_str_eq(names, "Achternaam,Voorvoegsel");
        ijwt_children(ijwt_child(c, "Geboortedatum", 0), bns, names, sizeof(names));
        ck_assert_str_eq(names, "Datum");
        char bsn[16];
        ijwt_text(ijwt_child(c, "Bsn", 0), bsn, sizeof(bsn));
        size_t want = strcmp(bsn, BSN_A) == 0 ? 2 : 1;
        ck_assert_uint_eq(p->nrecords, want);
        xmlNodePtr list = ijwt_child(c, stop ? "StopProducten" : "StartProducten", 0);
        ijwt_children(list, ns, names, sizeof(names));
        ck_assert_str_eq(
            names,
            want == 2 ? (stop ? "StopProduct,StopProduct" : "StartProduct,StartProduct") : prod);
        xmlNodePtr p0 = ijwt_child(list, prod, 0);
        ijwt_children(p0, NULL, names, sizeof(names));
        ck_assert_str_eq(names, stop ? "ToewijzingNummer,Product,ToewijzingIngangsdatum,"
                                       "Begindatum,RedenBeeindiging,Einddatum,StatusAanlevering"
                                     : "ToewijzingNummer,Product,ToewijzingIngangsdatum,"
                                       "Begindatum,StatusAanlevering");
        ijwt_children(ijwt_child(p0, "Product", 0), bns, names, sizeof(names));
        ck_assert_str_eq(names, "Categorie,Code");
        char key[64];
        snprintf(key, sizeof(key), "%s/%s", bsn,
                 ijwt_text(ijwt_child(p0, "ToewijzingNummer", 0), buf, sizeof(buf)));
        ck_assert_str_eq(p->record_keys[0], key);
        xmlFreeDoc(d);
    }
    /* Re-rendering the same batch (crash before the outbox kept it) gives
     * the same identification and no double-start rejections. */
    zv_render_out *again = zvt_out_new();
    ck_assert_int_eq(desc->format->render(st, &b, again), 0);
    ck_assert_uint_eq(again->nrejects, 0);
    ck_assert_uint_eq(again->npayloads, 2);
    ck_assert_str_eq(again->payloads[0].idem_key, out->payloads[0].idem_key);
    ck_assert_str_ne(out->payloads[0].idem_key, out->payloads[1].idem_key);
    ck_assert_uint_eq(again->payloads[0].len, out->payloads[0].len);
    ck_assert_int_eq(memcmp(again->payloads[0].data, out->payloads[0].data, out->payloads[0].len),
                     0);
    /* No BSN in clear in anything the plugin logged. */
    ck_assert_ptr_null(strstr(zvt_log_text(ctx), BSN_A));
    zvt_out_free(again);
    zvt_out_free(out);
    zvt_out_free(pre);
    for (int i = 0; i < 3; i++) {
        zv_record_free(r[i]);
        if (stop) zv_record_free(started[i]);
    }
    desc->destroy(st);
    zvt_ctx_free(ctx);
}

START_TEST(jw305_structure)
{
    expect e = {NULL, "jw", 0, "jw305", "ijw", "438"};
    check_message(&e);
}
END_TEST

START_TEST(jw307_structure)
{
    expect e = {NULL, "jw", 1, "jw307", "ijw", "440"};
    check_message(&e);
}
END_TEST

START_TEST(wmo305_structure)
{
    expect e = {"{\"standard\":\"wmo\"}", "wmo", 2, "wmo305", "iwmo", "418"};
    check_message(&e);
}
END_TEST

START_TEST(wmo307_structure)
{
    expect e = {"{\"standard\":\"wmo\"}", "wmo", 3, "wmo307", "iwmo", "420"};
    check_message(&e);
}
END_TEST

START_TEST(classify_and_options)
{
    zv_ctx *ctx;
    void *st = create(&ctx, NULL);
    zv_record *wmo = ijwt_record("w", "wmo", BSN_A, "1", "2025-12-01", NULL, "1");
    zv_record *wlz = ijwt_record("z", "wlz", BSN_A, "1", "2025-12-01", NULL, "1");
    zv_record *cli = zv_record_new(ZV_KIND_CLIENT, "ecd", "c", 0);
    ijwt_set(cli, ZV_F_ENT_LAW, "jw");
    ck_assert_int_eq(desc->format->classify(st, wmo), -1);
    ck_assert_int_eq(desc->format->classify(st, wlz), -1);
    ck_assert_int_eq(desc->format->classify(st, cli), -1);
    desc->destroy(st);
    zvt_ctx_free(ctx);
    /* The option table refuses these before create() (as zinvold does)... */
    const char *bad[] = {"{\"standard\":\"wlz\"}", "{\"variant\":\"resultaat\"}",
                         "{\"gemeente\":\"363\"}", "{\"bericht_code_305\":\"41\"}"};
    for (size_t i = 0; i < 4; i++)
        ck_assert_msg(zvt_ctx_new(desc, bad[i], "65656055", dir) == NULL, "%s", bad[i]);
    /* ... and create() the values that have the right length but no digits. */
    const char *bad_digits[] = {"{\"gemeente\":\"36a3\"}", "{\"bericht_code_305\":\"4x1\"}"};
    for (size_t i = 0; i < 2; i++) {
        ctx = zvt_ctx_new(desc, bad_digits[i], "65656055", dir);
        ck_assert_ptr_nonnull(ctx);
        char err[256] = "";
        ck_assert_int_ne(desc->create(ctx, zvt_host(), &st, err, sizeof(err)), 0);
        ck_assert_msg(strstr(err, "option"), "%s: %s", bad_digits[i], err);
        zvt_ctx_free(ctx);
    }
    ctx = zvt_ctx_new(desc, NULL, NULL, dir); /* no AGB anywhere */
    char err[256] = "";
    ck_assert_int_ne(desc->create(ctx, zvt_host(), &st, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "AGB"));
    zvt_ctx_free(ctx);
    zv_record_free(wmo);
    zv_record_free(wlz);
    zv_record_free(cli);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ijw_render");
    TCase *tc = tcase_create("render");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, jw305_structure);
    tcase_add_test(tc, jw307_structure);
    tcase_add_test(tc, wmo305_structure);
    tcase_add_test(tc, wmo307_structure);
    tcase_add_test(tc, classify_and_options);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
