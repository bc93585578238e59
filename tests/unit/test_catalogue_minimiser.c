/* Minimiser: threshold, conditions, missing required fields, counts. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "catalogue/catalogue.h"

static const char *CAT =
    "{\"catalogue\": \"m\", \"format\": \"iwlz\", \"message\": \"AW35\", \"frequency\": \"event\","
    " \"fields\": ["
    "  {\"field\": \"client.bsn\", \"element\": \"Client/Bsn\", \"level\": \"standard\","
    "   \"citation\": \"AW35.xsd\"},"
    "  {\"field\": \"client.birth_date\", \"element\": \"Client/Geboortedatum\","
    "   \"level\": \"standard\", \"citation\": \"AW35.xsd\"},"
    "  {\"field\": \"client.name_prefix\", \"element\": \"Client/Naam/Voorvoegsel\","
    "   \"level\": \"standard\", \"citation\": \"AW35.xsd\", \"optional\": true},"
    "  {\"field\": \"delivery.leveringsvorm\", \"element\": \"Leveringsvorm\","
    "   \"level\": \"standard\", \"citation\": \"AW35.xsd\"},"
    "  {\"field\": \"delivery.klasse\", \"element\": \"Klasse\", \"level\": \"standard\","
    "   \"citation\": \"CD051\","
    "   \"condition\": {\"field\": \"delivery.leveringsvorm\", \"in\": [\"4\", \"5\"]}},"
    "  {\"field\": \"delivery.etmalen\", \"element\": \"Etmalen\", \"level\": \"standard\","
    "   \"citation\": \"CD072\", \"condition\": {\"all\": ["
    "     {\"field\": \"delivery.leveringsvorm\", \"equals\": \"8\"},"
    "     {\"not\": {\"field\": \"delivery.end\", \"present\": true}}]}},"
    "  {\"field\": \"client.postcode\", \"element\": \"Postcode\", \"level\": \"contract\","
    "   \"citation\": \"Inkoopcontract art. 3\"},"
    "  {\"field\": \"client.phone\", \"element\": \"Telefoon\", \"level\": \"internal\","
    "   \"citation\": \"own choice\"}]}";

static zv_catalogue *cat_new(void)
{
    char err[256];
    zv_json_doc *d = zv_json_parse(CAT, strlen(CAT), 0, err, sizeof(err));
    ck_assert_msg(d != NULL, "%s", err);
    zv_errors errs;
    zv_errors_init(&errs);
    zv_catalogue *c = zv_catalogue_from_json(zv_json_root(d), "m.json", &errs);
    ck_assert_msg(c != NULL, "%s", errs.n ? errs.lines[0] : "?");
    zv_errors_free(&errs);
    zv_json_free(d);
    return c;
}

static void set(zv_record *r, zv_field_id f, const char *v)
{
    ck_assert_int_eq(zv_record_set(r, f, v, strlen(v), NULL), 0);
}

static zv_record *rec_new(const char *vorm)
{
    zv_record *r = zv_record_new(ZV_KIND_DELIVERY, "ons", "r1", 1);
    set(r, ZV_F_CLIENT_BSN, "999993653");
    set(r, ZV_F_CLIENT_BIRTH_DATE, "1940-02-03");
    set(r, ZV_F_DEL_LEVERINGSVORM, vorm);
    set(r, ZV_F_DEL_KLASSE, "3");
    set(r, ZV_F_CLIENT_POSTCODE, "1234AB");
    set(r, ZV_F_CLIENT_PHONE, "0612345678");
    set(r, ZV_F_CLIENT_EMAIL, "a@example.org"); /* not in the catalogue at all */
    return r;
}

typedef struct counts {
    int64_t c[ZV_FIELD_COUNT][4];
    int calls;
} counts;

static void count_cb(const char *field, int64_t kept, int64_t dropped, int64_t na, int64_t missing,
                     void *arg)
{
    counts *c = arg;
    int id = zv_field_by_name(field);
    ck_assert_int_ge(id, 0);
    c->c[id][0] += kept;
    c->c[id][1] += dropped;
    c->c[id][2] += na;
    c->c[id][3] += missing;
    c->calls++;
}

START_TEST(threshold_and_condition)
{
    zv_catalogue *cat = cat_new();
    zv_minimiser *m = zv_minimiser_new(cat, ZV_LEVEL_CONTRACT);
    zv_record *r = rec_new("1"), *out = NULL;
    char field[64], reason[256];
    ck_assert_int_eq(zv_minimise(m, r, &out, field, sizeof(field), reason, sizeof(reason)),
                     ZV_MIN_OK);
    ck_assert_str_eq(zv_rec_str(out, ZV_F_CLIENT_BSN), "999993653");
    ck_assert_str_eq(zv_rec_str(out, ZV_F_CLIENT_POSTCODE), "1234AB");
    ck_assert_ptr_null(zv_rec_str(out, ZV_F_CLIENT_PHONE));  /* internal < contract */
    ck_assert_ptr_null(zv_rec_str(out, ZV_F_CLIENT_EMAIL));  /* not catalogued */
    ck_assert_ptr_null(zv_rec_str(out, ZV_F_DEL_KLASSE));    /* leveringsvorm 1 */
    ck_assert_ptr_nonnull(zv_rec_str(r, ZV_F_CLIENT_PHONE)); /* input untouched */
    zv_record_free(out);
    zv_record_free(r);

    r = rec_new("4");
    ck_assert_int_eq(zv_minimise(m, r, &out, field, sizeof(field), reason, sizeof(reason)),
                     ZV_MIN_OK);
    ck_assert_str_eq(zv_rec_str(out, ZV_F_DEL_KLASSE), "3");
    zv_record_free(out);
    zv_record_free(r);

    counts c = {0};
    zv_minimiser_drain_counts(m, count_cb, &c);
    ck_assert_int_eq(c.c[ZV_F_CLIENT_BSN][0], 2);
    ck_assert_int_eq(c.c[ZV_F_CLIENT_PHONE][1], 2);
    ck_assert_int_eq(c.c[ZV_F_DEL_KLASSE][0], 1);
    ck_assert_int_eq(c.c[ZV_F_DEL_KLASSE][2], 1);
    ck_assert_int_eq(c.c[ZV_F_CLIENT_EMAIL][0] + c.c[ZV_F_CLIENT_EMAIL][1], 0);
    /* Absent optional field and absent conditional field: no decision. */
    ck_assert_int_eq(c.c[ZV_F_CLIENT_NAME_PREFIX][3], 0);
    ck_assert_int_eq(c.c[ZV_F_DEL_ETMALEN][3], 0);
    ck_assert_int_eq(c.calls, 6);
    /* Drained counts are reset. */
    counts again = {0};
    zv_minimiser_drain_counts(m, count_cb, &again);
    ck_assert_int_eq(again.calls, 0);
    zv_minimiser_free(m);
    zv_catalogue_free(cat);
}
END_TEST

START_TEST(stricter_threshold_drops_contract)
{
    zv_catalogue *cat = cat_new();
    zv_minimiser *m = zv_minimiser_new(cat, ZV_LEVEL_STANDARD);
    zv_record *r = rec_new("1"), *out = NULL;
    ck_assert_int_eq(zv_minimise(m, r, &out, NULL, 0, NULL, 0), ZV_MIN_OK);
    ck_assert_ptr_null(zv_rec_str(out, ZV_F_CLIENT_POSTCODE));
    ck_assert_ptr_nonnull(zv_rec_str(out, ZV_F_CLIENT_BSN));
    zv_record_free(out);
    zv_record_free(r);
    zv_minimiser_free(m);
    zv_catalogue_free(cat);
}
END_TEST

START_TEST(missing_required_quarantines)
{
    zv_catalogue *cat = cat_new();
    zv_minimiser *m = zv_minimiser_new(cat, ZV_LEVEL_CONTRACT);
    zv_record *r = rec_new("8"), *out = (zv_record *)1;
    char field[64], reason[256];
    /* leveringsvorm 8 without end: etmalen is required and absent. */
    ck_assert_int_eq(zv_minimise(m, r, &out, field, sizeof(field), reason, sizeof(reason)),
                     ZV_MIN_MISSING);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(field, "delivery.etmalen");
    ck_assert_str_eq(reason, "delivery.etmalen (Etmalen) is required at level standard by CD072 "
                             "but absent");
    ck_assert_ptr_null(strstr(reason, "999993653"));
    /* With an end date the condition is false and the record passes. */
    set(r, ZV_F_DEL_END, "2026-01-31");
    ck_assert_int_eq(zv_minimise(m, r, &out, field, sizeof(field), reason, sizeof(reason)),
                     ZV_MIN_OK);
    zv_record_free(out);
    zv_record_clear(r, ZV_F_DEL_END);
    zv_record_clear(r, ZV_F_CLIENT_BIRTH_DATE);
    ck_assert_int_eq(zv_minimise(m, r, &out, field, sizeof(field), reason, sizeof(reason)),
                     ZV_MIN_MISSING);
    ck_assert_str_eq(field, "client.birth_date");
    counts c = {0};
    zv_minimiser_drain_counts(m, count_cb, &c);
    ck_assert_int_eq(c.c[ZV_F_DEL_ETMALEN][3], 2);
    ck_assert_int_eq(c.c[ZV_F_CLIENT_BIRTH_DATE][3], 1);
    /* Only the passing record counts as kept. */
    ck_assert_int_eq(c.c[ZV_F_CLIENT_BSN][0], 1);
    zv_record_free(r);
    zv_minimiser_free(m);
    zv_catalogue_free(cat);
}
END_TEST

/* What the catalogue keeps at CAT's threshold contract for a record with
 * delivery.leveringsvorm 4 and no delivery.end, decided here by hand: the
 * standard and contract entries whose condition holds (klasse: vorm 4 or
 * 5; etmalen: vorm 8 only). */
static int expect_kept(zv_field_id f)
{
    return f == ZV_F_CLIENT_BSN || f == ZV_F_CLIENT_BIRTH_DATE || f == ZV_F_CLIENT_NAME_PREFIX ||
           f == ZV_F_DEL_LEVERINGSVORM || f == ZV_F_DEL_KLASSE || f == ZV_F_CLIENT_POSTCODE;
}

/* Every field of the model set (a few from another source), so the kept
 * set differs from the full record in most fields. */
static zv_record *full_rec(const zv_provenance *other)
{
    zv_record *r = zv_record_new(ZV_KIND_DELIVERY, "ons", "r9", 7);
    for (int f = 0; f < ZV_FIELD_COUNT; f++) {
        char v[32];
        snprintf(v, sizeof(v), "value-%d", f);
        if (f == ZV_F_DEL_LEVERINGSVORM) snprintf(v, sizeof(v), "4");
        ck_assert_int_eq(zv_record_set(r, (zv_field_id)f, v, strlen(v), f % 3 ? NULL : other), 0);
    }
    zv_record_clear(r, ZV_F_DEL_END);
    return r;
}

/* The values of got are exactly those of full that expect_kept names,
 * with their provenance. */
static void assert_only_kept(const zv_record *got, const zv_record *full)
{
    ck_assert_str_eq(got->prov.source, "ons");
    ck_assert_str_eq(got->prov.record_id, "r9");
    ck_assert_int_eq(got->kind, ZV_KIND_DELIVERY);
    for (int f = 0; f < ZV_FIELD_COUNT; f++) {
        const zv_value *g = zv_rec_get(got, (zv_field_id)f), *w = zv_rec_get(full, (zv_field_id)f);
        if (!expect_kept((zv_field_id)f) || !w) {
            ck_assert_msg(g == NULL, "dropped field %s is in the minimised record",
                          zv_field_def_of((zv_field_id)f)->name);
            continue;
        }
        ck_assert_msg(g != NULL, "kept field %s is missing", zv_field_def_of((zv_field_id)f)->name);
        ck_assert_str_eq(g->str, w->str);
        ck_assert_uint_eq(g->len, w->len);
        ck_assert_str_eq(g->prov->source, w->prov->source);
        ck_assert_int_eq(g->prov->received, w->prov->received);
        /* Own provenance stays the record's own, a foreign one foreign. */
        ck_assert_int_eq(g->prov == &got->prov, w->prov == &full->prov);
    }
}

START_TEST(only_kept_fields_in_copy_and_view)
{
    zv_catalogue *cat = cat_new();
    zv_minimiser *m = zv_minimiser_new(cat, ZV_LEVEL_CONTRACT);
    zv_provenance other = {"crm", "c7", 3};
    zv_record *full = full_rec(&other), *out = NULL;
    ck_assert_int_eq(zv_minimise(m, full, &out, NULL, 0, NULL, 0), ZV_MIN_OK);
    assert_only_kept(out, full);

    /* Byte for byte what a record holding only the kept values encodes to:
     * nothing dropped travels to the store. */
    zv_record *want = zv_record_new(ZV_KIND_DELIVERY, "ons", "r9", 7);
    for (int f = 0; f < ZV_FIELD_COUNT; f++) {
        const zv_value *v = zv_rec_get(full, (zv_field_id)f);
        if (v && expect_kept((zv_field_id)f))
            ck_assert_int_eq(zv_record_set(want, (zv_field_id)f, v->str, v->len,
                                           v->prov == &full->prov ? NULL : v->prov),
                             0);
    }
    unsigned char *e1, *e2;
    size_t l1, l2;
    ck_assert_int_eq(zv_record_encode(out, &e1, &l1), 0);
    ck_assert_int_eq(zv_record_encode(want, &e2, &l2), 0);
    ck_assert_uint_eq(l1, l2);
    ck_assert_int_eq(memcmp(e1, e2, l1), 0);

    /* The view shows the same, and encodes the same. */
    const zv_record *view = NULL;
    ck_assert_int_eq(zv_minimise_view(m, full, &view, NULL, 0, NULL, 0), ZV_MIN_OK);
    assert_only_kept(view, full);
    free(e2);
    ck_assert_int_eq(zv_record_encode(view, &e2, &l2), 0);
    ck_assert_uint_eq(l1, l2);
    ck_assert_int_eq(memcmp(e1, e2, l1), 0);
    free(e1);
    free(e2);

    /* The next record's view shows none of the previous record's fields:
     * klasse is kept for vorm 4, not for vorm 1. */
    zv_record *r = rec_new("1");
    ck_assert_int_eq(zv_minimise_view(m, r, &view, NULL, 0, NULL, 0), ZV_MIN_OK);
    ck_assert_ptr_null(zv_rec_get(view, ZV_F_DEL_KLASSE));
    ck_assert_ptr_null(zv_rec_get(view, ZV_F_CLIENT_NAME_PREFIX));
    ck_assert_str_eq(zv_rec_str(view, ZV_F_DEL_LEVERINGSVORM), "1");
    ck_assert_str_eq(view->prov.record_id, "r1");
    /* A quarantined record leaves no view. */
    zv_record_clear(r, ZV_F_CLIENT_BSN);
    ck_assert_int_eq(zv_minimise_view(m, r, &view, NULL, 0, NULL, 0), ZV_MIN_MISSING);
    ck_assert_ptr_null(view);
    zv_record_free(r);
    zv_record_free(want);
    zv_record_free(out);
    zv_record_free(full);
    zv_minimiser_free(m);
    zv_catalogue_free(cat);
}
END_TEST

START_TEST(condition_describe)
{
    zv_catalogue *cat = cat_new();
    char *s = zv_cond_describe(zv_catalogue_find(cat, ZV_F_DEL_ETMALEN)->condition);
    ck_assert_str_eq(s, "(delivery.leveringsvorm = 8 and not delivery.end present)");
    free(s);
    s = zv_cond_describe(zv_catalogue_find(cat, ZV_F_DEL_KLASSE)->condition);
    ck_assert_str_eq(s, "delivery.leveringsvorm in (4, 5)");
    free(s);
    s = zv_cond_describe(NULL);
    ck_assert_str_eq(s, "always");
    free(s);
    zv_catalogue_free(cat);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("catalogue_minimiser");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, threshold_and_condition);
    tcase_add_test(tc, stricter_threshold_drops_contract);
    tcase_add_test(tc, missing_required_quarantines);
    tcase_add_test(tc, only_kept_fields_in_copy_and_view);
    tcase_add_test(tc, condition_describe);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
