/* fmt_signals on the testbed (the core builds it from a config and renders
 * through its flush): signal set validation, counts with suppression, no
 * personal data in any payload byte, and incremental counting across
 * restarts of the runtime equal to one full computation.  With
 * ZV_SIGNALS_OUT set, the payloads are written there for
 * tests/integration/signals_payload.sh (schema and recovery attack). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>
#include <zinvol/model.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

#include "zvtb.h"

#define NCLIENTS 60

static const zv_plugin_descriptor *desc;

static char *set_path(const char *name)
{
    char *p = NULL;
    ck_assert_int_ge(asprintf(&p, "%s/conf/signals/%s", getenv("ZV_SOURCE_DIR"), name), 0);
    return p;
}

/* The bed's runtime with destination "regio-signalen" and these options:
 * 0 built, -1 refused (zvtb_errors).  The catalogue lists fields the
 * plugin may read; records here bypass the minimiser (they are handed to
 * the flush as the minimiser would), so any valid catalogue does. */
static int build(zvtb *tb, const char *opts)
{
    char *keys = NULL;
    ck_assert_int_ge(asprintf(&keys,
                              "\"destinations\": [{\"name\": \"regio-signalen\", \"format\": "
                              "\"signals\", \"transport\": \"tbcap\", \"format_options\": %s, "
                              "\"catalogue\": {\"file\": \"cbs-jeugd.json\"}}]",
                              opts),
                     0);
    zvtb_config(tb, keys);
    free(keys);
    if (zvtb_build(tb) < 0) return -1;
    desc = zvtb_fmt_desc(tb);
    return 0;
}

static zvtb *bed(const char *opts)
{
    zvtb *tb = zvtb_new();
    ck_assert_msg(build(tb, opts) == 0, "%s", zvtb_errors(tb));
    return tb;
}

/* ---- fixture: 60 children, 1 or 2 deliveries each ---- */

typedef struct person {
    char bsn[10], birth[11], family[24], postcode[7];
} person;
static person people[NCLIENTS];
static zv_record *recs[2 * NCLIENTS];
static size_t nrecs;

static void set(zv_record *r, zv_field_id id, const char *v)
{
    ck_assert_int_eq(zv_record_set(r, id, v, strlen(v), NULL), 0);
}

static void make_people(void)
{
    long n = 100000000;
    for (int i = 0; i < NCLIENTS; i++) {
        do
            snprintf(people[i].bsn, sizeof(people[i].bsn), "%09ld", ++n);
        while (!zv_bsn_valid(people[i].bsn, 9));
        snprintf(people[i].birth, 11, "%04d-%02d-%02d", 2008 + i % 17, 1 + i % 12, 1 + i % 28);
        snprintf(people[i].family, 24, "Achternaamq%02d", i);
        snprintf(people[i].postcode, 7, "%04dZX", 1000 + i);
    }
}

static const char *const REFERRERS[] = {"01", "01", "01", "04", "02", "01",
                                        "05", "04", "01", "03", "01", "02"};
static const char *const FORMS[] = {"ambulant", "ambulant", "verblijf", "ambulant", "dagbesteding"};

static zv_record *delivery(int i, int second)
{
    char id[32], start[11], end[11];
    snprintf(id, sizeof(id), "d-%d-%d", i, second);
    zv_record *r = zv_record_new(ZV_KIND_DELIVERY, "ons", id, 1700000000);
    set(r, ZV_F_CLIENT_BSN, people[i].bsn);
    set(r, ZV_F_CLIENT_BIRTH_DATE, people[i].birth);
    set(r, ZV_F_CLIENT_FAMILY_NAME, people[i].family);
    set(r, ZV_F_CLIENT_POSTCODE, people[i].postcode);
    set(r, ZV_F_ENT_LAW, i % 13 == 12 ? "wmo" : "jw");
    /* The second delivery moves the child to another referrer later on. */
    set(r, ZV_F_ENT_REFERRER, REFERRERS[(i / 2 + second * 5) % 12]);
    set(r, ZV_F_DEL_CARE_FORM, FORMS[(i + second) % 5]);
    if (i % 9 == 0) set(r, ZV_F_DEL_CRISIS, "J");
    snprintf(start, sizeof(start), "2026-%02d-%02d", 1 + (i % 2) * 3 + second, 1 + i % 27);
    set(r, ZV_F_DEL_START, start);
    if (i % 4 == 0) {
        snprintf(end, sizeof(end), "2026-%02d-28", 2 + (i % 2) * 3 + second);
        set(r, ZV_F_DEL_END, end);
        set(r, ZV_F_DEL_END_REASON, i % 8 == 0 ? "01" : "02");
    }
    return r;
}

static void make_records(void)
{
    make_people();
    nrecs = 0;
    for (int i = 0; i < NCLIENTS; i++) {
        recs[nrecs++] = delivery(i, 0);
        if (i % 3 == 0) recs[nrecs++] = delivery(i, 1);
    }
}

static void free_records(void)
{
    for (size_t i = 0; i < nrecs; i++)
        zv_record_free(recs[i]);
    nrecs = 0;
}

/* Through the core's flush (batch ids are the core's); free with done(). */
static zvtb_render *render(zvtb *tb, const zv_record *const *r, size_t n)
{
    zv_batch b = {ZV_SIZED(zv_batch),
                  .destination = "regio-signalen",
                  .message = 0,
                  .now = 1782864000, /* 2026-07-01 */
                  .n = n,
                  .records = r};
    zvtb_render *out = calloc(1, sizeof(*out));
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(zvtb_render_batch(tb, &b, out), 0);
    ck_assert_uint_eq(out->nr, 0);
    return out;
}

static void done(zvtb_render *out)
{
    if (!out) return;
    zvtb_render_free(out);
    free(out);
}

static char *opts_for(const char *set)
{
    char *path = set_path(set), *o = NULL;
    ck_assert_int_ge(asprintf(&o, "{\"signal_set\": \"%s\"}", path), 0);
    free(path);
    return o;
}

/* ---- validation ---- */

static void expect_refused(const char *json, const char *want)
{
    zvtb *tb = zvtb_new();
    char *file = NULL, *opts = NULL;
    ck_assert_int_ge(asprintf(&file, "%s/set.json", zvtb_dir(tb)), 0);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fputs(json, f);
    fclose(f);
    ck_assert_int_ge(asprintf(&opts, "{\"signal_set\": \"%s\"}", file), 0);
    ck_assert_int_ne(build(tb, opts), 0);
    /* The core names the plugin, the plugin's reason starts with the file. */
    char *head = NULL;
    ck_assert_int_ge(asprintf(&head, "plugin 'signals': %s", file), 0);
    const char *err = zvtb_errors(tb);
    ck_assert_msg(strstr(err, head) && strstr(err, want), "error \"%s\" lacks \"%s\"", err, want);
    free(head);
    zvtb_free(tb);
    free(file);
    free(opts);
}

#define SET_HEAD "{\"signal_set\":\"t\",\"description\":\"d\",\"period\":\"quarter\",\"measures\":["
#define M_HEAD "{\"id\":\"m\",\"title\":\"t\",\"purpose\":\"p\",\"citation\":\"c\""

START_TEST(validation_refuses_identifying_dimensions)
{
    static const char *const refused[] = {
        "client.bsn",      "client.family_name", "client.given_names", "client.birth_date",
        "client.postcode", "client.phone",       "client.id",          "delivery.notes"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
        char json[512], want[128];
        snprintf(json, sizeof(json), SET_HEAD M_HEAD ",\"by\":[\"delivery.care_form\",\"%s\"]}]}",
                 refused[i]);
        snprintf(want, sizeof(want), ": /measures/0/by/1: dimension %s refused", refused[i]);
        expect_refused(json, want);
    }
    expect_refused(SET_HEAD M_HEAD ",\"by\":[\"client.nope\"]}]}",
                   "/measures/0/by/0: \"client.nope\"");
    expect_refused(SET_HEAD M_HEAD ",\"colour\":1}]}", "/measures/0/colour: unknown key");
    expect_refused(SET_HEAD M_HEAD "},{\"id\":\"m\"}]}", "/measures/1/title: required");
    expect_refused(SET_HEAD M_HEAD ",\"where\":{\"field\":\"x.y\",\"in\":[\"1\"]}}]}",
                   "/measures/0/where: field: not a model field");
    expect_refused(SET_HEAD M_HEAD ",\"date\":\"client.sex\"}]}",
                   "/measures/0/date: expected a date");
    expect_refused(
        "{\"signal_set\":\"t\",\"description\":\"d\",\"period\":\"week\",\"measures\":[]}",
        "/period: required, one of");
    expect_refused(SET_HEAD M_HEAD ",\"by\":[\"client.age_band\",\"client.age_band\"]}]}",
                   "named twice");
}
END_TEST

START_TEST(bundled_set_loads)
{
    char *opts = opts_for("gemeente-jeugd.json");
    zvtb *tb = bed(opts);
    ck_assert_str_eq(desc->name, "signals");
    ck_assert_ptr_null(desc->format->messages[0].catalogue);
    zvtb_free(tb);
    free(opts);
}
END_TEST

/* ---- counts ---- */

static const zv_json *measure(const zv_json *root, const char *id)
{
    const zv_json *ms = zv_json_get(root, "measures");
    for (size_t i = 0; i < zv_json_len(ms); i++)
        if (strcmp(zv_json_str(zv_json_get(zv_json_at(ms, i), "id"), NULL), id) == 0)
            return zv_json_at(ms, i);
    return NULL;
}

/* The true distinct-client count per referrer in Q1, computed here from the
 * fixture (latest record per client wins). */
static int64_t truth_referrer(const char *ref)
{
    int64_t n = 0;
    for (int i = 0; i < NCLIENTS; i++) {
        const zv_record *best = NULL;
        for (size_t j = 0; j < nrecs; j++) {
            const zv_record *r = recs[j];
            const char *s = zv_rec_str(r, ZV_F_DEL_START);
            if (strcmp(zv_rec_str(r, ZV_F_CLIENT_BSN), people[i].bsn) != 0 ||
                strcmp(zv_rec_str(r, ZV_F_ENT_LAW), "jw") != 0 || strncmp(s, "2026-0", 6) != 0 ||
                s[6] > '3')
                continue;
            if (!best || strcmp(s, zv_rec_str(best, ZV_F_DEL_START)) > 0) best = r;
        }
        if (best && strcmp(zv_rec_str(best, ZV_F_ENT_REFERRER), ref) == 0) n++;
    }
    return n;
}

static void save(const zvtb_payload *p, const char *name)
{
    const char *dir = getenv("ZV_SIGNALS_OUT");
    if (!dir || !*dir) return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.json", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p->data, 1, p->len, f), p->len);
    fclose(f);
}

START_TEST(counts_are_suppressed_and_carry_no_person)
{
    make_records();
    char *opts = opts_for("gemeente-jeugd.json");
    zvtb *tb = bed(opts);
    zvtb_render *out = render(tb, (const zv_record *const *)recs, nrecs);
    ck_assert_uint_eq(out->np, 2); /* 2026-Q1, 2026-Q2 */
    size_t carried = 0;
    for (size_t p = 0; p < out->np; p++) {
        const zvtb_payload *pl = &out->p[p];
        carried += pl->n;
        save(pl, p == 0 ? "q1" : "q2");
        /* No BSN, name, birth date or postcode of any input, nor the hashed key. */
        for (int i = 0; i < NCLIENTS; i++) {
            ck_assert_ptr_null(memmem(pl->data, pl->len, people[i].bsn, 9));
            ck_assert_ptr_null(
                memmem(pl->data, pl->len, people[i].family, strlen(people[i].family)));
            ck_assert_ptr_null(memmem(pl->data, pl->len, people[i].birth, 10));
            ck_assert_ptr_null(memmem(pl->data, pl->len, people[i].postcode, 6));
            ck_assert_ptr_null(memmem(pl->data, pl->len, "Achternaamq", 11));
        }
    }
    ck_assert_uint_eq(carried, nrecs); /* every record in exactly one payload */
    /* destination/batch id (the core's first)/period */
    ck_assert_str_eq(out->p[0].idem, "regio-signalen/1/2026-Q1");

    char perr[256];
    zv_json_doc *d = zv_json_parse(out->p[0].data, out->p[0].len, 0, perr, sizeof(perr));
    ck_assert_msg(d != NULL, "%s", perr);
    const zv_json *root = zv_json_root(d);
    ck_assert_str_eq(zv_json_str(zv_json_pointer(root, "/period/label"), NULL), "2026-Q1");
    ck_assert_str_eq(zv_json_str(zv_json_pointer(root, "/period/end"), NULL), "2026-03-31");
    const zv_json *m = measure(root, "kinderen_per_verwijzer");
    ck_assert_ptr_nonnull(m);
    int shown = 0, small = 0;
    for (size_t i = 0; i < zv_json_len(zv_json_get(m, "cells")); i++) {
        const zv_json *c = zv_json_at(zv_json_get(m, "cells"), i);
        const char *ref = zv_json_str(zv_json_at(zv_json_get(c, "values"), 0), NULL);
        int64_t want = truth_referrer(ref), got;
        const zv_json *cnt = zv_json_get(c, "count");
        if (zv_json_int(cnt, &got) == 0) {
            ck_assert_int_eq(got, want);
            ck_assert_int_ge(got, 5);
            shown++;
        } else if (strcmp(zv_json_str(cnt, NULL), "<5") == 0) {
            ck_assert_int_lt(want, 5);
            small++;
        } else {
            ck_assert_str_eq(zv_json_str(cnt, NULL), "x");
        }
    }
    ck_assert_int_ge(shown, 1);
    ck_assert_int_ge(small, 1); /* the fixture has small referrer groups */
    zv_json_free(d);
    done(out);
    zvtb_free(tb);
    free(opts);
    free_records();
}
END_TEST

START_TEST(incremental_across_restarts_equals_full)
{
    make_records();
    char *opts = opts_for("gemeente-jeugd.json");
    /* The full run with a configured salt, the incremental one with its own
     * random salt: the counts must not depend on it. */
    char *o2 = NULL;
    ck_assert_int_ge(asprintf(&o2, "%.*s, \"salt\": \"s3cr3t\"}", (int)strlen(opts) - 1, opts), 0);
    zvtb *full = bed(o2);
    /* Its one batch gets the id the incremental run's last batch gets (3),
     * so the payloads can be compared byte for byte. */
    zvtb_skip_batches(full, 2);
    zvtb_render *want = render(full, (const zv_record *const *)recs, nrecs);
    zvtb_free(full);

    /* Three batches, last records first, the runtime (and so the plugin)
     * built again between them; the first batch twice, as after a crash
     * before the outbox commit: the store is back as before it, the
     * plugin's state folder is not, and the core gives the same batch id. */
    const zv_record *part[2 * NCLIENTS];
    zvtb_render *got = NULL;
    zvtb *inc = zvtb_new();
    for (int b = 2; b >= 0; b--) {
        size_t n = 0;
        for (size_t i = 0; i < nrecs; i++)
            if ((int)(i % 3) == b) part[n++] = recs[i];
        ck_assert_msg(build(inc, opts) == 0, "%s", zvtb_errors(inc));
        if (b == 2) {
            zvtb_snapshot(inc);
            done(render(inc, part, n));
            zvtb_restore(inc);
        }
        done(got);
        got = render(inc, part, n);
        zvtb_stop(inc);
    }
    ck_assert_uint_eq(got->np, want->np);
    for (size_t p = 0; p < want->np; p++) {
        ck_assert_str_eq(got->p[p].idem, want->p[p].idem);
        ck_assert_uint_eq(got->p[p].len, want->p[p].len);
        ck_assert_msg(memcmp(got->p[p].data, want->p[p].data, want->p[p].len) == 0,
                      "period %zu differs:\n%.*s\n---\n%.*s", p, (int)got->p[p].len, got->p[p].data,
                      (int)want->p[p].len, want->p[p].data);
    }
    /* Control: the last batch alone, in a fresh state, gives other counts,
     * so the comparison above can fail. */
    zvtb *alone = bed(opts);
    zvtb_skip_batches(alone, 2);
    size_t n = 0;
    for (size_t i = 0; i < nrecs; i++)
        if (i % 3 == 0) part[n++] = recs[i];
    zvtb_render *one = render(alone, part, n);
    int differs = one->np != want->np;
    for (size_t p = 0; !differs && p < want->np; p++)
        differs = one->p[p].len != want->p[p].len ||
                  memcmp(one->p[p].data, want->p[p].data, want->p[p].len) != 0;
    ck_assert(differs);
    done(one);
    zvtb_free(alone);
    zvtb_free(inc);
    done(got);
    done(want);
    free(o2);
    free(opts);
    free_records();
}
END_TEST

Suite *signals_suite(void)
{
    Suite *s = suite_create("signals_fmt");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, validation_refuses_identifying_dimensions);
    tcase_add_test(tc, bundled_set_loads);
    tcase_add_test(tc, counts_are_suppressed_and_carry_no_person);
    tcase_add_test(tc, incremental_across_restarts_equals_full);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(signals_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
