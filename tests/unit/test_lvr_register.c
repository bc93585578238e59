/* The Leveringsregister's store, update rules, executor and notifications
 * (plugins/fmt_leveringsregister), on a real SQLite file and the bundled release data. */
#include "gql.h"
#include "lvr.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static lvr L;
static char dbpath[256];

static void setup(void)
{
    memset(&L, 0, sizeof(L));
    char dir[1024], err[512];
    snprintf(dir, sizeof(dir), "%s/plugins/fmt_leveringsregister/netwerkmodel/lvr-1.0-rc1",
             getenv("ZV_SOURCE_DIR"));
    ck_assert_msg(lvr_release_load(&L, dir, err, sizeof(err)) == 0, "%s", err);
    snprintf(dbpath, sizeof(dbpath), "/tmp/zv-lvr-test-%d.db", (int)getpid());
    unlink(dbpath);
    ck_assert_msg(lvr_db_open(&L, dbpath, err, sizeof(err)) == 0, "%s", err);
    snprintf(L.afzender, sizeof(L.afzender), "12345678");
}

static void teardown(void)
{
    lvr_db_close(&L);
    lvr_release_free(&L);
    char p[300];
    unlink(dbpath);
    snprintf(p, sizeof(p), "%s-wal", dbpath);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", dbpath);
    unlink(p);
}

static zv_record *rec(const char *const *kv)
{
    zv_record *r = zv_record_new(ZV_KIND_DELIVERY, "ecd", "R1", 0);
    for (size_t i = 0; kv[i]; i += 2)
        zv_record_set(r, (zv_field_id)zv_field_by_name(kv[i]), kv[i + 1], strlen(kv[i + 1]), NULL);
    return r;
}

static int apply(const char *const *kv, lvr_events *ev, const char **rule)
{
    zv_record *r = rec(kv);
    const char *field = NULL;
    char reason[256];
    *rule = NULL;
    int rc = lvr_apply(&L, r, "2026-12-01T10:00:00Z", ev, rule, &field, reason, sizeof(reason));
    zv_record_free(r);
    return rc;
}

#define BS1 "3fa85f64-5717-4562-b3fc-2c963f66afa6"
#define BASE "client.bsn", "999900043", "entitlement.funder", "5501", "entitlement.number", BS1

START_TEST(periods_keep_their_uuid)
{
    lvr_events ev = {0};
    const char *rule;
    const char *a[] = {BASE, "delivery.start", "2026-01-05", "delivery.treatment", "J", NULL};
    ck_assert_int_eq(apply(a, &ev, &rule), 0);
    ck_assert_uint_eq(ev.n, 2);
    ck_assert_str_eq(ev.v[0].type, "Leveringperiode");
    ck_assert_str_eq(ev.v[0].kind, "new");
    ck_assert_str_eq(ev.v[1].type, "BehandelingPeriode");
    ck_assert_str_eq(ev.v[0].zorgkantoor, "5501");
    char lp[37], bp[37];
    strcpy(lp, ev.v[0].id);
    strcpy(bp, ev.v[1].id);
    ck_assert_int_eq(strlen(lp), 36);
    ck_assert_int_eq(lp[14], '4'); /* version 4 */
    /* The same record again changes nothing. */
    ev.n = 0;
    ck_assert_int_eq(apply(a, &ev, &rule), 0);
    ck_assert_uint_eq(ev.n, 0);
    /* An end date: both change, same ids. */
    const char *b[] = {BASE,         "delivery.start",     "2026-01-05", "delivery.end",
                       "2026-06-30", "delivery.treatment", "J",          NULL};
    ck_assert_int_eq(apply(b, &ev, &rule), 0);
    ck_assert_uint_eq(ev.n, 2);
    ck_assert_str_eq(ev.v[0].kind, "changed");
    ck_assert_str_eq(ev.v[0].id, lp);
    ck_assert_str_eq(ev.v[1].id, bp);
    /* Annulering removes both. */
    ev.n = 0;
    const char *c[] = {BASE, "delivery.start", "2026-01-05", "delivery.status", "3", NULL};
    ck_assert_int_eq(apply(c, &ev, &rule), 0);
    ck_assert_uint_eq(ev.n, 2);
    ck_assert_str_eq(ev.v[0].kind, "removed");
    ck_assert_str_eq(ev.v[0].id, bp);
    ck_assert_str_eq(ev.v[1].id, lp);
    free(ev.v);
}
END_TEST

START_TEST(uitstel_afstel_and_refusals)
{
    lvr_events ev = {0};
    const char *rule;
    const char *u[] = {BASE,         "delivery.leveringsstatus",
                       "3",          "delivery.leveringsstatus_class",
                       "01",         "delivery.mutation_date",
                       "2026-02-01", "delivery.end_reason",
                       "04",         NULL};
    ck_assert_int_eq(apply(u, &ev, &rule), 0);
    ck_assert_uint_eq(ev.n, 1);
    ck_assert_str_eq(ev.v[0].type, "Uitstelperiode");
    const char *a[] = {BASE, "delivery.mutation_date", "2026-02-10", "delivery.end_reason", "06",
                       NULL};
    ck_assert_int_eq(apply(a, &ev, &rule), 0);
    ck_assert_uint_eq(ev.n, 2);
    ck_assert_str_eq(ev.v[1].type, "Afstel");
    const char *none[] = {BASE, NULL};
    ck_assert_int_eq(apply(none, &ev, &rule), 1);
    ck_assert_str_eq(rule, "LVR-OBJECT");
    const char *nocls[] = {BASE,         "delivery.leveringsstatus", "2",  "delivery.mutation_date",
                           "2026-02-01", "delivery.end_reason",      "04", NULL};
    ck_assert_int_eq(apply(nocls, &ev, &rule), 1);
    ck_assert_str_eq(rule, "LVR-REQUIRED");
    const char *nofunder[] = {
        "client.bsn", "999900043", "entitlement.number", BS1, "delivery.start", "2026-01-05", NULL};
    ck_assert_int_eq(apply(nofunder, &ev, &rule), 1);
    ck_assert_str_eq(rule, "LVR-REQUIRED");
    ck_assert_uint_eq(ev.n, 2);
    free(ev.v);
}
END_TEST

static char *run(const char *query, const char *vars, const char *owner, lvr_disclosed *dis,
                 int *rc)
{
    char err[512];
    gql_doc *d = gql_parse(query, strlen(query), err, sizeof(err));
    ck_assert_msg(d != NULL, "%s", err);
    zv_json_doc *v = zv_json_parse(vars, strlen(vars), 0, err, sizeof(err));
    zv_jw *w = zv_jw_new(0);
    *rc = lvr_execute(&L, d, NULL, zv_json_root(v), owner, w, dis, err, sizeof(err));
    const char *out;
    size_t len;
    char *res = *rc == 0 && zv_jw_result(w, &out, &len) == 0 ? strndup(out, len) : strdup(err);
    zv_jw_free(w);
    zv_json_free(v);
    gql_doc_free(d);
    return res;
}

START_TEST(answers_only_the_owner_and_counts_what_it_disclosed)
{
    lvr_events ev = {0};
    const char *rule;
    const char *a[] = {
        "client.bsn",     "999900043",          "entitlement.funder",
        "5501",           "entitlement.number", "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "delivery.start", "2026-01-05",         NULL};
    ck_assert_int_eq(apply(a, &ev, &rule), 0);
    const char *q = "query Q($b: UUID!) { levering(where: {bemiddelingspecificatieID: {eq: $b}}) "
                    "{ bemiddelingspecificatieID client { bsn } leveringperiodes { ingangsdatum "
                    "einddatum } afstel { reden } } }";
    const char *vars = "{\"b\": \"3fa85f64-5717-4562-b3fc-2c963f66afa6\"}";
    lvr_disclosed dis = {0};
    int rc;
    char *out = run(q, vars, "5501", &dis, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(out, "{\"data\":{\"levering\":[{\"bemiddelingspecificatieID\":"
                          "\"3fa85f64-5717-4562-b3fc-2c963f66afa6\",\"client\":{\"bsn\":"
                          "\"999900043\"},\"leveringperiodes\":[{\"ingangsdatum\":\"2026-01-05\","
                          "\"einddatum\":null}],\"afstel\":null}]}}");
    ck_assert_uint_eq(dis.nbsns, 1);
    ck_assert_str_eq(dis.bsns[0], "999900043");
    ck_assert_str_eq(dis.fields.data, "entitlement.number,client.bsn,delivery.start");
    free(out);
    lvr_disclosed_free(&dis);
    out = run(q, vars, "5502", &dis, &rc);
    ck_assert_str_eq(out, "{\"data\":{\"levering\":[]}}");
    ck_assert_uint_eq(dis.nbsns, 0);
    free(out);
    lvr_disclosed_free(&dis);
    /* Unknown fields, missing variables and mutations are errors, with a place. */
    out = run("query Q($b: UUID!) { levering(where: {bemiddelingspecificatieID: {eq: $b}}) "
              "{ telefoon } }",
              vars, "5501", &dis, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_nonnull(strstr(out, "Cannot query field \"telefoon\""));
    free(out);
    lvr_disclosed_free(&dis);
    out = run(q, "{}", "5501", &dis, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_nonnull(strstr(out, "$b"));
    free(out);
    lvr_disclosed_free(&dis);
    out = run("mutation { levering { leveringID } }", "{}", "5501", &dis, &rc);
    ck_assert_int_eq(rc, -1);
    free(out);
    lvr_disclosed_free(&dis);
    free(ev.v);
}
END_TEST

START_TEST(notification_as_published)
{
    lvr_event e = {.type = "BehandelingPeriode",
                   .kind = "new",
                   .id = "b1",
                   .levering = "l1",
                   .bemiddeling = "m1",
                   .zorgkantoor = "5501"};
    char id[37];
    size_t len;
    char *body = lvr_notification(&L, &e, "2026-12-01T10:00:00Z", id, &len, NULL);
    ck_assert_ptr_nonnull(body);
    char err[128];
    zv_json_doc *d = zv_json_parse(body, len, 0, err, sizeof(err));
    ck_assert_ptr_nonnull(d);
    const zv_json *ni = zv_json_pointer(zv_json_root(d), "/variables/notificatieInput");
    ck_assert_str_eq(zv_json_str(zv_json_get(ni, "eventType"), NULL),
                     "NIEUWE_BEHANDELINGPERIODE_ZORGKANTOOR");
    ck_assert_str_eq(zv_json_str(zv_json_pointer(ni, "/subjectList/0/subject"), NULL),
                     "Levering/m1");
    ck_assert_str_eq(zv_json_str(zv_json_pointer(ni, "/subjectList/0/recordID"), NULL),
                     "Behandelingperiode/b1");
    ck_assert_str_eq(zv_json_str(zv_json_get(ni, "afzenderIDType"), NULL), "AGB");
    ck_assert_str_eq(zv_json_str(zv_json_get(ni, "ontvangerID"), NULL), "5501");
    ck_assert_ptr_nonnull(strstr(zv_json_str(zv_json_get(zv_json_root(d), "query"), NULL),
                                 "zendNotificatie(notificatieInput: $notificatieInput)"));
    zv_json_free(d);
    free(body);
    e.type = "Leveringperiode";
    body = lvr_notification(&L, &e, "2026-12-01T10:00:00Z", id, &len, NULL);
    ck_assert_ptr_nonnull(strstr(body, "\"Levering/l1\""));
    free(body);
}
END_TEST

START_TEST(templates_match_by_normal_form)
{
    ck_assert_uint_eq(L.ntmpl, 7);
    const char *q = "query Levering($bemiddelingspecificatieID: UUID!) {levering(where: "
                    "{bemiddelingspecificatieID: {eq: $bemiddelingspecificatieID}}) {leveringID, "
                    "bemiddelingspecificatieID client {clientID bsn}}}";
    char err[256];
    gql_doc *d = gql_parse(q, strlen(q), err, sizeof(err));
    char *n = gql_normalise(d);
    ck_assert_ptr_null(lvr_template_match(&L, n)); /* a part of QLR-0003 is not QLR-0003 */
    free(n);
    gql_doc_free(d);
    ck_assert_str_eq(lvr_template_match(&L, L.tmpl[0].norm)->id, "QLR-0003-ZK");
}
END_TEST

/* bemiddeling "register": a Levering refers to a received specification
 * that matches client, zorgkantoor, zzp and period; none or several
 * without the ECD naming one: quarantined (LVR-BEMIDDELING). */
static void keep(const char *id, const char *bsn, const char *zzp, const char *start,
                 const char *end)
{
    zv_record *r = zv_record_new(ZV_KIND_ENTITLEMENT, "bmr", id, 0);
    const char *kv[] = {"entitlement.number",
                        id,
                        "client.bsn",
                        bsn,
                        "entitlement.funder",
                        "5501",
                        "entitlement.zzp_code",
                        zzp,
                        "entitlement.start",
                        start,
                        "entitlement.end",
                        end,
                        NULL};
    for (size_t i = 0; kv[i]; i += 2)
        if (kv[i + 1])
            zv_record_set(r, (zv_field_id)zv_field_by_name(kv[i]), kv[i + 1], strlen(kv[i + 1]),
                          NULL);
    const char *field = NULL;
    char reason[256];
    ck_assert_int_eq(lvr_assign_keep(&L, r, "2026-12-01T10:00:00Z", &field, reason, sizeof(reason)),
                     0);
    zv_record_free(r);
}

START_TEST(deliveries_refer_to_what_was_assigned)
{
    L.assigned = 1;
    const char *S1 = "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
               *S2 = "7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    keep(S1, "999900043", "6VV", "2026-02-01", "2026-12-31");
    keep(S2, "999900043", "6VV", "2027-01-01", NULL);
    lvr_events ev = {0};
    const char *rule, *field;
    char reason[512];
    /* The ECD's own number is no UUID: the assigned one in the period is used. */
    const char *a[] = {"client.bsn",
                       "999900043",
                       "entitlement.funder",
                       "5501",
                       "entitlement.number",
                       "B-7",
                       "entitlement.zzp_code",
                       "6VV",
                       "delivery.start",
                       "2026-03-01",
                       NULL};
    zv_record *r = rec(a);
    ck_assert_int_eq(
        lvr_apply(&L, r, "2026-12-01T10:00:00Z", &ev, &rule, &field, reason, sizeof(reason)), 0);
    zv_record_free(r);
    ck_assert_uint_eq(ev.n, 1);
    ck_assert_str_eq(ev.v[0].bemiddeling, S1);
    /* Another zzp than assigned: no match, quarantined naming the field. */
    const char *b[] = {
        "client.bsn", "999900043",      "entitlement.funder", "5501", "entitlement.zzp_code",
        "4VV",        "delivery.start", "2026-03-01",         NULL};
    r = rec(b);
    ev.n = 0;
    ck_assert_int_eq(
        lvr_apply(&L, r, "2026-12-01T10:00:00Z", &ev, &rule, &field, reason, sizeof(reason)), 1);
    zv_record_free(r);
    ck_assert_str_eq(rule, "LVR-BEMIDDELING");
    ck_assert_str_eq(field, "entitlement.number");
    ck_assert_ptr_nonnull(strstr(reason, "no bemiddelingspecificatie"));
    ck_assert_ptr_null(strstr(reason, "999900043")); /* never a BSN in a reason */
    ck_assert_uint_eq(ev.n, 0);
    /* Before any assignment of that client: none. */
    const char *c[] = {"client.bsn", "999900055", "entitlement.funder", "5501", "delivery.start",
                       "2026-03-01", NULL};
    r = rec(c);
    ck_assert_int_eq(
        lvr_apply(&L, r, "2026-12-01T10:00:00Z", &ev, &rule, &field, reason, sizeof(reason)), 1);
    zv_record_free(r);
    /* Two overlapping specifications: ambiguous unless the ECD names one. */
    keep("8b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e", "999900043", "6VV", "2026-06-01", NULL);
    const char *d[] = {"client.bsn", "999900043", "entitlement.funder", "5501", "delivery.start",
                       "2026-07-01", NULL};
    r = rec(d);
    ck_assert_int_eq(
        lvr_apply(&L, r, "2026-12-01T10:00:00Z", &ev, &rule, &field, reason, sizeof(reason)), 1);
    zv_record_free(r);
    ck_assert_ptr_nonnull(strstr(reason, "2 bemiddelingspecificaties match"));
    const char *e[] = {
        "client.bsn",     "999900043",          "entitlement.funder",
        "5501",           "entitlement.number", "8B3C4D5E-6F7A-4B8C-9D0E-1F2A3B4C5D6E",
        "delivery.start", "2026-07-01",         NULL};
    r = rec(e);
    ev.n = 0;
    ck_assert_int_eq(
        lvr_apply(&L, r, "2026-12-01T10:00:00Z", &ev, &rule, &field, reason, sizeof(reason)), 0);
    zv_record_free(r);
    ck_assert_str_eq(ev.v[0].bemiddeling, "8b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e");
    free(ev.v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lvr_register");
    TCase *tc = tcase_create("register");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, periods_keep_their_uuid);
    tcase_add_test(tc, uitstel_afstel_and_refusals);
    tcase_add_test(tc, answers_only_the_owner_and_counts_what_it_disclosed);
    tcase_add_test(tc, notification_as_published);
    tcase_add_test(tc, templates_match_by_normal_form);
    tcase_add_test(tc, deliveries_refer_to_what_was_assigned);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
