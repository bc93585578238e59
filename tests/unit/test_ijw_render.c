/* fmt_ijw on the testbed (the core creates it and renders through its
 * flush): JW305/JW307 and WMO305/WMO307 structure, namespaces, header
 * values, one client per message, n products. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

#include "../fixtures/ijw/ijw_test_util.h"
#include "zvtb.h"

#define BSN_A "999993653"
#define BSN_B "999990019"
#define NOW 1767434400 /* 2026-01-03 10:00 UTC */

#define ORG "\"organisation\": {\"agb\": \"65656055\", \"name\": \"Testorganisatie\"}"

static zvtb *bed(const char *opts)
{
    return zvtb_format_ex("ijw", opts, NULL, ORG);
}

static xmlDocPtr parse(const zvtb_payload *p)
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
    zvtb *tb = bed(e->opts);
    const zv_plugin_descriptor *desc = zvtb_fmt_desc(tb);
    void *st = zvtb_fmt_state(tb);
    int stop = e->message & 1;
    const char *end = stop ? "2026-01-02" : NULL;
    zv_record *r[3] = {ijwt_record("1", e->law, BSN_A, "300201", "2025-12-01", end, "1"),
                       ijwt_record("2", e->law, BSN_B, "300301", "2025-12-02", end, "1"),
                       ijwt_record("3", e->law, BSN_A, "300202", "2025-12-03", end, "1")};
    zv_record *started[3];
    zvtb_render pre = {0};
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
        ck_assert_int_eq(zvtb_render_batch(tb, &sb, &pre), 0);
        ck_assert_uint_eq(pre.nr, 0);
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
    zvtb_snapshot(tb); /* the store before this batch */
    zvtb_render o;
    zvtb_render *out = &o;
    ck_assert_int_eq(zvtb_render_batch(tb, &b, out), 0);
    ck_assert_uint_eq(out->nr, 0);
    ck_assert_uint_eq(out->np, 2); /* two clients */
    char ns[128], bns[128], names[512], buf[64];
    snprintf(ns, sizeof(ns), "http://www.istandaarden.nl/%s/3_2/%s/schema", e->base, e->prefix);
    snprintf(bns, sizeof(bns), "http://www.istandaarden.nl/%s/3_2/basisschema/schema", e->base);
    const char *prod = stop ? "StopProduct" : "StartProduct";
    for (size_t k = 0; k < 2; k++) {
        zvtb_payload *p = &out->p[k];
        ck_assert_str_eq(p->ext, "xml");
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
        ck_assert_uint_eq(p->n, want);
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
        ck_assert_str_eq(p->keys[0], key);
        xmlFreeDoc(d);
    }
    /* Re-rendering the same batch (crash before the outbox kept it: the
     * store is back as it was, the plugin's state folder is not, and the
     * core gives the same batch id again) gives the same identification
     * and no double-start rejections. */
    zvtb_restore(tb);
    zvtb_render a;
    zvtb_render *again = &a;
    ck_assert_int_eq(zvtb_render_batch(tb, &b, again), 0);
    ck_assert_uint_eq(again->nr, 0);
    ck_assert_uint_eq(again->np, 2);
    ck_assert_str_eq(again->p[0].idem, out->p[0].idem);
    ck_assert_str_ne(out->p[0].idem, out->p[1].idem);
    ck_assert_uint_eq(again->p[0].len, out->p[0].len);
    ck_assert_int_eq(memcmp(again->p[0].data, out->p[0].data, out->p[0].len), 0);
    /* No BSN in clear in anything logged (the core scrubs its log lines:
     * the plugin's own masking is checked where it formats them, here the
     * whole log of the run is). */
    ck_assert_ptr_null(strstr(zvtb_log(tb), BSN_A));
    zvtb_render_free(again);
    zvtb_render_free(out);
    zvtb_render_free(&pre);
    for (int i = 0; i < 3; i++) {
        zv_record_free(r[i]);
        if (stop) zv_record_free(started[i]);
    }
    zvtb_free(tb);
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
    zvtb *tb = bed(NULL);
    const zv_plugin_descriptor *desc = zvtb_fmt_desc(tb);
    void *st = zvtb_fmt_state(tb);
    zv_record *wmo = ijwt_record("w", "wmo", BSN_A, "1", "2025-12-01", NULL, "1");
    zv_record *wlz = ijwt_record("z", "wlz", BSN_A, "1", "2025-12-01", NULL, "1");
    zv_record *cli = zv_record_new(ZV_KIND_CLIENT, "ecd", "c", 0);
    ijwt_set(cli, ZV_F_ENT_LAW, "jw");
    ck_assert_int_eq(desc->format->classify(st, wmo), -1);
    ck_assert_int_eq(desc->format->classify(st, wlz), -1);
    ck_assert_int_eq(desc->format->classify(st, cli), -1);
    zvtb_free(tb);
    /* Refused by the core's build: the first four by the option table
     * (naming the option's path), the last two (the right length, but not
     * digits) by the plugin's create(), naming the option. */
    const char *bad[] = {"{\"standard\":\"wlz\"}",  "{\"variant\":\"resultaat\"}",
                         "{\"gemeente\":\"363\"}",  "{\"bericht_code_305\":\"41\"}",
                         "{\"gemeente\":\"36a3\"}", "{\"bericht_code_305\":\"4x1\"}"};
    for (size_t i = 0; i < 6; i++) {
        tb = zvtb_new();
        char keys[1024];
        snprintf(keys, sizeof(keys),
                 ORG ", \"destinations\": [{\"name\": \"gem\", \"format\": \"ijw\", "
                     "\"transport\": \"tbcap\", \"format_options\": %s}]",
                 bad[i]);
        zvtb_config(tb, keys);
        ck_assert_int_eq(zvtb_build(tb), -1);
        ck_assert_msg(strstr(zvtb_errors(tb), "option"), "%s: %s", bad[i], zvtb_errors(tb));
        if (i < 4)
            ck_assert_msg(strstr(zvtb_errors(tb), "destinations[0].format_options"), "%s: %s",
                          bad[i], zvtb_errors(tb));
        zvtb_free(tb);
    }
    /* No AGB anywhere: a config without organisation.agb. */
    tb = zvtb_new();
    zvtb_config(tb, "\"organisation\": {\"name\": \"Testorganisatie\"}, \"destinations\": "
                    "[{\"name\": \"gem\", \"format\": \"ijw\", \"transport\": \"tbcap\"}]");
    ck_assert_int_eq(zvtb_build(tb), -1);
    ck_assert_msg(strstr(zvtb_errors(tb), "AGB"), "%s", zvtb_errors(tb));
    zvtb_free(tb);
    zv_record_free(wmo);
    zv_record_free(wlz);
    zv_record_free(cli);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ijw_render");
    TCase *tc = tcase_create("render");
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
