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

#define BASE "client.bsn", "999900043", "entitlement.funder", "5501", "entitlement.number", "B-1"

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
    const char *b[] = {BASE, "delivery.start", "2026-01-05", "delivery.end", "2026-06-30",
                       "delivery.treatment", "J", NULL};
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
    const char *u[] = {BASE, "delivery.leveringsstatus", "3", "delivery.leveringsstatus_class", "01",
                       "delivery.mutation_date", "2026-02-01", "delivery.end_reason", "04", NULL};
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
    const char *nocls[] = {BASE, "delivery.leveringsstatus", "2", "delivery.mutation_date",
                           "2026-02-01", "delivery.end_reason", "04", NULL};
    ck_assert_int_eq(apply(nocls, &ev, &rule), 1);
    ck_assert_str_eq(rule, "LVR-REQUIRED");
    const char *nofunder[] = {"client.bsn", "999900043", "entitlement.number", "B-1",
                              "delivery.start", "2026-01-05", NULL};
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
    const char *a[] = {"client.bsn", "999900043", "entitlement.funder", "5501",
                       "entitlement.number", "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                       "delivery.start", "2026-01-05", NULL};
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
    lvr_event e = {.type = "BehandelingPeriode", .kind = "new", .id = "b1", .levering = "l1",
                   .bemiddeling = "m1", .zorgkantoor = "5501"};
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
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
