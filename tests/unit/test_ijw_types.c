/* fmt_ijw without XSDs: every value is checked against its basisschema
 * datatype, so a bad ToewijzingNummer or code is quarantined naming field
 * and value while the other records go out; a start before its toewijzing
 * is refused; JW323/WMO323 declarations group lines per DeclaratieNummer
 * and client, BSN only, with the total of debet and credit.  On the
 * testbed: the core creates the plugin and renders through its flush. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

#include "../fixtures/ijw/ijw_values.h"
#include "zvtb.h"

#define BSN_A "999993653"
#define BSN_B "999990019"
#define NOW 1767434400 /* 2026-01-03 10:00 UTC */

static const zv_plugin_descriptor *desc;

static zvtb *bed(const char *opts)
{
    zvtb *tb =
        zvtb_format_ex("ijw", opts, NULL,
                       "\"organisation\": {\"agb\": \"65656055\", \"name\": \"Testorganisatie\"}");
    desc = zvtb_fmt_desc(tb);
    return tb;
}

/* Through the core (caller frees with done()); batch ids are the core's. */
static zvtb_render *render(zvtb *tb, const char *batch, zv_record **r, size_t n)
{
    (void)batch;
    void *st = zvtb_fmt_state(tb);
    int msg = desc->format->classify(st, r[0]);
    ck_assert_int_ge(msg, 0);
    zv_batch b = {ZV_SIZED(zv_batch),
                  .destination = "gem",
                  .batch_id = batch,
                  .message = msg,
                  .now = NOW,
                  .n = n,
                  .records = (const zv_record *const *)r};
    zvtb_render *out = calloc(1, sizeof(*out));
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(zvtb_render_batch(tb, &b, out), 0);
    return out;
}

static void done(zvtb_render *out)
{
    zvtb_render_free(out);
    free(out);
}

START_TEST(bad_value_quarantined_naming_field_and_value)
{
    zvtb *tb = bed("{\"stop_requires_start\": false}");
    for (size_t k = 0; k < IJWT_NBAD; k++) {
        const ijwt_bad *b = &ijwt_bad_values[k];
        char id[16], batch[16];
        snprintf(id, sizeof(id), "r%zu", k);
        snprintf(batch, sizeof(batch), "b%zu", k);
        zv_record *good = ijwt_good_for(b, "good");
        zv_record *bad = ijwt_good_for(b, id);
        /* another client, so the good record is its own message */
        ijwt_set(good, ZV_F_CLIENT_BSN, BSN_B);
        ijwt_set(good, ZV_F_DECL_REFERENCE, "R2");
        char nr[16]; /* fresh products: no TR326 across entries */
        snprintf(nr, sizeof(nr), "%zu", 700 + k);
        ijwt_set(good, ZV_F_ENT_NUMBER, nr);
        snprintf(nr, sizeof(nr), "%zu", 900 + k);
        ijwt_set(bad, ZV_F_ENT_NUMBER, nr);
        ck_assert_int_eq(zv_record_set(bad, b->field, b->bad, strlen(b->bad), NULL), 0);
        zv_record *recs[] = {bad, good};
        zvtb_render *out = render(tb, batch, recs, 2);
        ck_assert_msg(out->nr == 1, "%s '%s': %zu rejections", b->element, b->bad, out->nr);
        ck_assert_uint_eq(out->r[0].index, 0);
        ck_assert_str_eq(out->r[0].field, zv_field_def_of(b->field)->name);
        /* the value is named (a run of 9 digits masked, as it may be a BSN) */
        char named[64];
        snprintf(named, sizeof(named), "'%s'", b->bad);
        zv_bsn_scrub(named);
        if (strcmp(b->element, "Voorletters") && strcmp(b->element, "Achternaam"))
            ck_assert_msg(strstr(out->r[0].reason, named), "%s: reason '%s' lacks %s", b->element,
                          out->r[0].reason, named);
        ck_assert_msg(!strstr(out->r[0].reason, BSN_A), "BSN in a reason");
        /* one bad record never blocks the others */
        ck_assert_uint_eq(out->np, 1);
        ck_assert_uint_eq(out->p[0].n, 1);
        ck_assert_uint_eq(out->p[0].records[0], 1);
        done(out);
        zv_record_free(good);
        zv_record_free(bad);
    }
    zvtb_free(tb);
}
END_TEST

START_TEST(toewijzingnummer_named)
{
    zvtb *tb = bed(NULL);
    zv_record *r = ijwt_record("1", "jw", BSN_A, "TW-51801", "2025-12-01", NULL, "1");
    zvtb_render *out = render(tb, "b1", &r, 1);
    ck_assert_uint_eq(out->nr, 1);
    ck_assert_str_eq(out->r[0].rule, "ZV-IJW-TYPE");
    ck_assert_str_eq(out->r[0].field, "entitlement.number");
    ck_assert_str_eq(out->r[0].reason,
                     "ToewijzingNummer 'TW-51801' is not a valid "
                     "LDT_Nummer (a non-negative integer of at most 9 digits) of iJw 3.2");
    done(out);
    zv_record_free(r);
    /* leading zeros and the largest value are integers 0..999999999 */
    zv_record *ok[2] = {ijwt_record("2", "jw", BSN_A, "000000042", "2025-12-01", NULL, "1"),
                        ijwt_record("3", "jw", BSN_A, "999999999", "2025-12-01", NULL, "1")};
    out = render(tb, "b2", ok, 2);
    ck_assert_uint_eq(out->nr, 0);
    ck_assert_uint_eq(out->np, 1);
    done(out);
    zv_record_free(ok[0]);
    zv_record_free(ok[1]);
    zvtb_free(tb);
}
END_TEST

START_TEST(start_before_toewijzing_refused)
{
    zvtb *tb = bed(NULL);
    zv_record *r = ijwt_record("1", "jw", BSN_A, "100001", "2025-10-31", NULL, "1");
    zvtb_render *out = render(tb, "b1", &r, 1);
    ck_assert_uint_eq(out->nr, 1);
    ck_assert_str_eq(out->r[0].rule, "ZV-IJW-BEGIN");
    ck_assert_str_eq(out->r[0].field, "delivery.start");
    ck_assert_ptr_nonnull(strstr(out->r[0].reason, "2025-11-01"));
    done(out);
    /* on the toewijzing's own date it may start */
    ijwt_set(r, ZV_F_DEL_START, "2025-11-01");
    out = render(tb, "b2", &r, 1);
    ck_assert_uint_eq(out->nr, 0);
    done(out);
    zv_record_free(r);
    zvtb_free(tb);
}
END_TEST

static void check_decl(const char *std, const char *law, int message, const char *prefix,
                       const char *code)
{
    char opts[64];
    snprintf(opts, sizeof(opts), "{\"standard\":\"%s\"}", std);
    zvtb *tb = bed(opts);
    void *st = zvtb_fmt_state(tb);
    zv_record *r[5] = {ijwt_decl("1", law, BSN_A, "D1", "R1", "8150", "D"),
                       ijwt_decl("2", law, BSN_B, "D1", "R2", "1000", "D"),
                       ijwt_decl("3", law, BSN_A, "D1", "R3", "150", "C"),
                       ijwt_decl("4", law, BSN_A, "D2", "R1", "700", "D"),
                       ijwt_decl("5", law, BSN_A, "D1", "R1", "99", "D")}; /* R1 twice in D1 */
    ck_assert_int_eq(desc->format->classify(st, r[0]), message);
    zvtb_render *out = render(tb, "d1", r, 5);
    ck_assert_uint_eq(out->nr, 1);
    ck_assert_uint_eq(out->r[0].index, 4);
    ck_assert_str_eq(out->r[0].field, "declaration.reference");
    ck_assert_uint_eq(out->np, 2); /* D1 and D2 */
    zvtb_payload *p = &out->p[0];
    ck_assert_uint_eq(p->n, 3);
    xmlDocPtr d = xmlReadMemory(p->data, (int)p->len, "p.xml", NULL, XML_PARSE_NONET);
    ck_assert_ptr_nonnull(d);
    xmlNodePtr root = xmlDocGetRootElement(d), h = ijwt_child(root, "Header", 0);
    char buf[64], names[512];
    ck_assert_str_eq(ijwt_text(ijwt_child(h, "BerichtCode", 0), buf, sizeof(buf)), code);
    ck_assert_str_eq((const char *)root->ns->prefix, prefix);
    xmlNodePtr decl = ijwt_child(root, "Declaratie", 0);
    ijwt_children(decl, NULL, names, sizeof(names));
    ck_assert_str_eq(names, "DeclaratieNummer,DeclaratiePeriode,DeclaratieDagtekening,"
                            "TotaalIngediendBedrag,Clienten");
    ck_assert_str_eq(ijwt_text(ijwt_child(decl, "DeclaratieDagtekening", 0), buf, sizeof(buf)),
                     "2026-01-03");
    xmlNodePtr tot = ijwt_child(decl, "TotaalIngediendBedrag", 0);
    ck_assert_str_eq(ijwt_text(ijwt_child(tot, "TotaalBedrag", 0), buf, sizeof(buf)), "9000");
    ck_assert_str_eq(ijwt_text(ijwt_child(tot, "DebetCredit", 0), buf, sizeof(buf)), "D");
    xmlNodePtr cl = ijwt_child(decl, "Clienten", 0);
    xmlNodePtr c0 = ijwt_child(cl, "Client", 0);
    ijwt_children(c0, NULL, names, sizeof(names));
    ck_assert_str_eq(names, "Bsn,Prestaties"); /* BSN only: no name, birth date, sex */
    ijwt_children(ijwt_child(c0, "Prestaties", 0), NULL, names, sizeof(names));
    ck_assert_str_eq(names, "Prestatie,Prestatie");
    ijwt_children(ijwt_child(ijwt_child(c0, "Prestaties", 0), "Prestatie", 0), NULL, names,
                  sizeof(names));
    ck_assert_str_eq(names, "ProductReferentie,ToewijzingNummer,ProductCategorie,ProductCode,"
                            "ProductPeriode,GeleverdVolume,Eenheid,ProductTarief,IngediendBedrag");
    ck_assert_ptr_nonnull(ijwt_child(cl, "Client", 1));
    ck_assert_ptr_null(ijwt_child(cl, "Client", 2));
    xmlFreeDoc(d);
    done(out);
    for (int i = 0; i < 5; i++)
        zv_record_free(r[i]);
    zvtb_free(tb);
}

START_TEST(jw323_and_wmo323)
{
    check_decl("jw", "jw", 4, "jw323", "490");
    check_decl("wmo", "wmo", 5, "wmo323", "484");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ijw_types");
    TCase *tc = tcase_create("types");
    tcase_add_test(tc, bad_value_quarantined_naming_field_and_value);
    tcase_add_test(tc, toewijzingnummer_named);
    tcase_add_test(tc, start_before_toewijzing_refused);
    tcase_add_test(tc, jw323_and_wmo323);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
