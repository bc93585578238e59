/* fmt_signals on the testbed (the core builds it from a config and renders
 * through its flush): signal set validation, counts with suppression, no
 * personal data in any payload byte, and incremental counting across
 * restarts of the runtime equal to one full computation.  With
 * ZV_SIGNALS_OUT set, the payloads are written there for
 * tests/integration/signals_payload.sh (schema and recovery attack). */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
static int build_ex(zvtb *tb, const char *opts, const char *dest_keys)
{
    char *keys = NULL;
    ck_assert_int_ge(asprintf(&keys,
                              "\"destinations\": [{\"name\": \"regio-signalen\", \"format\": "
                              "\"signals\", \"transport\": \"tbcap\", \"format_options\": %s, "
                              "\"catalogue\": {\"file\": \"cbs-jeugd.json\"}%s%s}]",
                              opts, dest_keys ? ", " : "", dest_keys ? dest_keys : ""),
                     0);
    zvtb_config(tb, keys);
    free(keys);
    if (zvtb_build(tb) < 0) return -1;
    desc = zvtb_fmt_desc(tb);
    return 0;
}

static int build(zvtb *tb, const char *opts)
{
    return build_ex(tb, opts, NULL);
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
    /* Assigned on the 1st of the start's month, or long before: waiting bands. */
    char assigned[11];
    if (i % 5 == 0)
        snprintf(assigned, sizeof(assigned), "2025-12-01");
    else
        snprintf(assigned, sizeof(assigned), "%.8s01", start);
    set(r, ZV_F_ENT_START, assigned);
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

static char *opts_for(const char *set);

/* No payload names a record; each one ends counted, or counted nowhere with
 * the format's reason, in the store's counters (in the unit's transaction). */
START_TEST(records_end_counted_or_not_counted)
{
    make_people();
    zv_record *v[3];
    v[0] = delivery(1, 0);
    v[1] = zv_record_new(ZV_KIND_DELIVERY, "ons", "team-1", 1700000000); /* no BSN */
    set(v[1], ZV_F_ENT_LAW, "jw");
    set(v[1], ZV_F_DEL_START, "2026-02-03");
    v[2] = zv_record_new(ZV_KIND_DELIVERY, "ons", "no-date", 1700000000); /* no date */
    set(v[2], ZV_F_CLIENT_BSN, people[2].bsn);
    set(v[2], ZV_F_ENT_LAW, "jw");
    char *opts = opts_for("gemeente-jeugd.json");
    zvtb *tb = bed(opts);
    zvtb_render *out = render(tb, (const zv_record *const *)v, 3);
    ck_assert_uint_gt(out->np, 0);
    for (size_t p = 0; p < out->np; p++)
        ck_assert_uint_eq(out->p[p].n, 0);
    ck_assert_int_eq(out->counted, 1);
    ck_assert_int_eq(out->not_counted, 2);
    ck_assert_int_eq(zvtb_counter(tb, "record", "counted"), 1);
    ck_assert_int_eq(zvtb_counter(tb, "no client.bsn (no person to count)", "not_counted"), 1);
    ck_assert_int_eq(
        zvtb_counter(tb, "in no measure (its conditions or date do not apply)", "not_counted"), 1);
    done(out);
    zvtb_free(tb);
    free(opts);
    for (int i = 0; i < 3; i++)
        zv_record_free(v[i]);
}
END_TEST

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

/* Every bundled set: the municipal one and the CBS-style one (make demo). */
static const char *const BUNDLED[] = {"gemeente-jeugd.json", "cbs-beleidsinformatie-jeugd.json"};

START_TEST(bundled_set_loads)
{
    char *opts = opts_for(BUNDLED[_i]);
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
    /* Counts name no record (the trail and disclosures list none); every
     * record is counted or counted nowhere with a reason. */
    ck_assert_uint_eq(carried, 0);
    ck_assert_int_eq(out->counted + out->not_counted, (int64_t)nrecs);
    ck_assert_int_gt(out->counted, 0);
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

/* The old state's rows: five other clients in cell 01, the client of BSN
 * 999990019 (its key: hex SHA-256 of "salt:BSN") in cell 04, all in
 * measure kinderen_per_verwijzer of 2026-Q1. */
typedef void (*old_state_fn)(sqlite3 *db, const char *key);

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql, msg);
}

/* Version 0: table counts, one row per measure, period and client, the
 * client as the hex key. */
static void write_v0(sqlite3 *db, const char *key)
{
    exec_ok(db, "CREATE TABLE counts(measure TEXT NOT NULL, period TEXT NOT NULL,"
                " client TEXT NOT NULL, date TEXT NOT NULL, cell TEXT NOT NULL,"
                " PRIMARY KEY(measure, period, client)) WITHOUT ROWID");
    for (int i = 0; i < 6; i++) {
        char k[65], *sql = NULL;
        if (i < 5)
            snprintf(k, sizeof(k), "%d%063d", i, 0); /* other clients, as hex keys */
        else
            snprintf(k, sizeof(k), "%s", key);
        ck_assert_int_ge(asprintf(&sql,
                                  "INSERT INTO counts VALUES('kinderen_per_verwijzer','2026-Q1',"
                                  "'%s','%s','%s')",
                                  k, i < 5 ? "2026-01-10" : "2026-01-05", i < 5 ? "01" : "04"),
                         0);
        exec_ok(db, sql);
        free(sql);
    }
}

/* Version 2 (as its plugin wrote it): per period and client one row, the
 * first 128 bits of the key and a blob of (varint measure, varint cell,
 * date length, date); names by number; the clients per cell. */
static void write_v2(sqlite3 *db, const char *key)
{
    exec_ok(db, "CREATE TABLE client_cells(period TEXT NOT NULL, client BLOB NOT NULL,"
                " data BLOB NOT NULL, PRIMARY KEY(period, client)) WITHOUT ROWID;"
                "CREATE TABLE cells(measure TEXT NOT NULL, period TEXT NOT NULL,"
                " cell TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(measure, period, cell))"
                " WITHOUT ROWID;"
                "CREATE TABLE measures(n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);"
                "CREATE TABLE cellnames(n INTEGER PRIMARY KEY, cell TEXT NOT NULL UNIQUE);"
                "CREATE TABLE reports(period TEXT PRIMARY KEY, revision INTEGER NOT NULL,"
                " digest TEXT NOT NULL, batch TEXT NOT NULL) WITHOUT ROWID;"
                "CREATE TABLE narratives(period TEXT PRIMARY KEY, date TEXT NOT NULL,"
                " text TEXT NOT NULL) WITHOUT ROWID;"
                "INSERT INTO measures VALUES(0, 'kinderen_per_verwijzer');"
                "INSERT INTO cellnames VALUES(0, '01'), (1, '04');"
                "INSERT INTO cells VALUES('kinderen_per_verwijzer', '2026-Q1', '01', 5),"
                " ('kinderen_per_verwijzer', '2026-Q1', '04', 1);"
                "PRAGMA user_version = 2");
    sqlite3_stmt *ins;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "INSERT INTO client_cells VALUES('2026-Q1', ?1, ?2)",
                                        -1, &ins, NULL),
                     SQLITE_OK);
    for (int i = 0; i < 6; i++) {
        unsigned char client[16], blob[13] = {0, i < 5 ? 0 : 1, 10};
        for (int b = 0; b < 16; b++) {
            unsigned hi, lo;
            ck_assert_int_eq(sscanf(key + 2 * b, "%1x%1x", &hi, &lo), 2);
            client[b] = (unsigned char)(i < 5 ? (b == 0 ? 16u * (unsigned)i : 0u) : hi * 16 + lo);
        }
        memcpy(blob + 3, i < 5 ? "2026-01-10" : "2026-01-05", 10);
        sqlite3_reset(ins);
        sqlite3_bind_blob(ins, 1, client, 16, SQLITE_TRANSIENT);
        sqlite3_bind_blob(ins, 2, blob, 13, SQLITE_TRANSIENT);
        ck_assert_int_eq(sqlite3_step(ins), SQLITE_DONE);
    }
    sqlite3_finalize(ins);
}

/* A state of an earlier version is upgraded when opened: its clients are
 * counted on, and a new record moves a migrated client to another cell.
 * Without the upgrade cell 01 would hold 1 client, not 6.  Then the old
 * tables are gone and the state is of version 3. */
static void old_state_is_upgraded(old_state_fn write_old, const char *old_tables)
{
    make_records();
    char *o0 = opts_for("gemeente-jeugd.json"), *opts = NULL, path[4200];
    ck_assert_int_ge(asprintf(&opts, "%.*s, \"salt\": \"s3cr3t\"}", (int)strlen(o0) - 1, o0), 0);
    /* The key the plugin gives BSN 999990019 with this salt. */
    char salt[65], buf[128], key[65];
    zv_sha256_hex("s3cr3t", 6, salt);
    int n = snprintf(buf, sizeof(buf), "%s:999990019", salt);
    zv_sha256_hex(buf, (size_t)n, key);
    zvtb *tb = zvtb_new();
    /* The plugin's state folder, as the core names it. */
    const char *parts[] = {"/state", "/state/plugins", "/state/plugins/format",
                           "/state/plugins/format/regio-signalen"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s%s", zvtb_dir(tb), parts[i]);
        mkdir(path, 0700);
    }
    snprintf(path, sizeof(path), "%s/state/plugins/format/regio-signalen/signals.db", zvtb_dir(tb));
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    write_old(db, key);
    sqlite3_close(db);

    zv_record *late = delivery(NCLIENTS - 1, 0);
    set(late, ZV_F_CLIENT_BSN, "999990019");
    set(late, ZV_F_DEL_START, "2026-02-01");
    set(late, ZV_F_ENT_LAW, "jw");
    set(late, ZV_F_ENT_REFERRER, "01");
    const zv_record *one[] = {late};
    for (int round = 0; round < 2; round++) { /* the second time on the upgraded state */
        ck_assert_msg(build(tb, opts) == 0, "%s", zvtb_errors(tb));
        if (round == 1) set(late, ZV_F_DEL_CARE_FORM, "pleegzorg"); /* not unchanged */
        zvtb_render *out = render(tb, one, 1);
        ck_assert_uint_eq(out->np, 1);
        char perr[256];
        zv_json_doc *d = zv_json_parse(out->p[0].data, out->p[0].len, 0, perr, sizeof(perr));
        ck_assert_msg(d != NULL, "%s", perr);
        const zv_json *cells =
            zv_json_get(measure(zv_json_root(d), "kinderen_per_verwijzer"), "cells");
        int64_t in01 = -1;
        for (size_t i = 0; i < zv_json_len(cells); i++) {
            const zv_json *c = zv_json_at(cells, i);
            const char *ref = zv_json_str(zv_json_at(zv_json_get(c, "values"), 0), NULL);
            if (strcmp(ref, "01") == 0)
                ck_assert_int_eq(zv_json_int(zv_json_get(c, "count"), &in01), 0);
            ck_assert_str_ne(ref, "04"); /* its only client moved to 01 */
        }
        ck_assert_int_eq(in01, 6);
        zv_json_free(d);
        done(out);
        zvtb_stop(tb);
    }
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *s;
    char *sql = NULL;
    ck_assert_int_ge(asprintf(&sql,
                              "SELECT (SELECT count(*) FROM sqlite_master WHERE name IN (%s)),"
                              " (SELECT user_version FROM pragma_user_version)",
                              old_tables),
                     0);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(s, 0), 0);
    ck_assert_int_eq(sqlite3_column_int(s, 1), 3);
    sqlite3_finalize(s);
    sqlite3_close(db);
    free(sql);
    zv_record_free(late);
    zvtb_free(tb);
    free(opts);
    free(o0);
    free_records();
}

START_TEST(state_of_version_0_is_upgraded)
{
    old_state_is_upgraded(write_v0, "'counts'");
}
END_TEST

START_TEST(state_of_version_2_is_upgraded)
{
    old_state_is_upgraded(write_v2, "'client_cells', 'cells'");
}
END_TEST

/* Round r of a client that moves: a later start each round (so every
 * client's entry changes), the referrer turning. */
static zv_record *moving(int i, int r)
{
    zv_record *rec = delivery(i, 0);
    char start[21];
    zv_time_iso((int64_t)(20454 + r) * 86400, start); /* 2026-01-01 + r days */
    start[10] = '\0';
    set(rec, ZV_F_DEL_START, start);
    set(rec, ZV_F_ENT_REFERRER, REFERRERS[(i + r) % 12]);
    return rec;
}

/* kinderen_per_verwijzer's cells of a payload as text ("01=12;02=<5;"). */
static char *referrer_cells(const zvtb_payload *pl)
{
    char perr[256];
    zv_json_doc *d = zv_json_parse(pl->data, pl->len, 0, perr, sizeof(perr));
    ck_assert_msg(d != NULL, "%s", perr);
    const zv_json *cells = zv_json_get(measure(zv_json_root(d), "kinderen_per_verwijzer"), "cells");
    zv_buf b;
    zv_buf_init(&b);
    for (size_t i = 0; i < zv_json_len(cells); i++) {
        const zv_json *c = zv_json_at(cells, i), *n = zv_json_get(c, "count");
        int64_t v;
        zv_buf_printf(&b, "%s=", zv_json_str(zv_json_at(zv_json_get(c, "values"), 0), NULL));
        if (zv_json_int(n, &v) == 0)
            zv_buf_printf(&b, "%lld;", (long long)v);
        else
            zv_buf_printf(&b, "%s;", zv_json_str(n, NULL));
    }
    zv_buf_append(&b, "", 1);
    zv_json_free(d);
    char *out = strdup(b.data);
    zv_buf_free(&b);
    return out;
}

static zvtb_render *render_round(zvtb *tb, int r)
{
    zv_record *round[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++)
        round[i] = moving(i, r);
    zvtb_render *out = render(tb, (const zv_record *const *)round, NCLIENTS);
    for (int i = 0; i < NCLIENTS; i++)
        zv_record_free(round[i]);
    return out;
}

/* The change log is compacted once it holds twice the live entries (and
 * 4096 more): 80 rounds in which every client moves write 4800 changes of
 * 60 entries, the runtime built again every 20 rounds.  The log is then
 * one snapshot and the rounds after it, and the counts are those of the
 * last round alone in a fresh state (the latest record of every client). */
START_TEST(compacted_log_gives_the_same_counts)
{
    enum { ROUNDS = 80 };
    make_people();
    char *opts = opts_for("gemeente-jeugd.json");
    zvtb *inc = zvtb_new();
    zvtb_render *got = NULL, *first = NULL;
    for (int r = 0; r < ROUNDS; r++) {
        if (r % 20 == 0) {
            if (r) zvtb_stop(inc);
            ck_assert_msg(build(inc, opts) == 0, "%s", zvtb_errors(inc));
        }
        zvtb_render *out = render_round(inc, r);
        if (r == 0)
            first = out;
        else {
            done(got);
            got = out;
        }
    }
    zvtb_stop(inc);
    char path[4200];
    snprintf(path, sizeof(path), "%s/state/plugins/format/regio-signalen/signals.db",
             zvtb_dir(inc));
    sqlite3 *db;
    sqlite3_stmt *s;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM changes", -1, &s, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
    int rows = sqlite3_column_int(s, 0);
    ck_assert_int_gt(rows, 0);
    ck_assert_int_lt(rows, ROUNDS / 4); /* compacted: not one row per round */
    sqlite3_finalize(s);
    sqlite3_close(db);

    zvtb *full = bed(opts);
    zvtb_skip_batches(full, ROUNDS - 1);
    zvtb_render *want = render_round(full, ROUNDS - 1);
    ck_assert_uint_eq(got->np, want->np);
    for (size_t p = 0; p < want->np; p++) {
        ck_assert_str_eq(got->p[p].idem, want->p[p].idem);
        ck_assert_msg(got->p[p].len == want->p[p].len &&
                          memcmp(got->p[p].data, want->p[p].data, want->p[p].len) == 0,
                      "period %zu differs:\n%.*s\n---\n%.*s", p, (int)got->p[p].len, got->p[p].data,
                      (int)want->p[p].len, want->p[p].data);
    }
    /* Control: the counts did move between the first round and the last. */
    char *c0 = referrer_cells(&first->p[0]), *c1 = referrer_cells(&want->p[0]);
    ck_assert_str_ne(c0, c1);
    free(c0);
    free(c1);
    done(first);
    done(got);
    done(want);
    zvtb_free(full);
    zvtb_free(inc);
    free(opts);
}
END_TEST

/* A child of its own (BSN from 200000000 on) with one jw delivery on a day. */
static zv_record *child_on(long *bsn, const char *day)
{
    char b[10], id[32];
    do
        snprintf(b, sizeof(b), "%09ld", ++*bsn);
    while (!zv_bsn_valid(b, 9));
    snprintf(id, sizeof(id), "c-%s", b);
    zv_record *r = zv_record_new(ZV_KIND_DELIVERY, "ons", id, 1700000000);
    set(r, ZV_F_CLIENT_BSN, b);
    set(r, ZV_F_CLIENT_BIRTH_DATE, "2012-05-05");
    set(r, ZV_F_ENT_LAW, "jw");
    set(r, ZV_F_ENT_REFERRER, "01");
    set(r, ZV_F_ENT_START, day);
    set(r, ZV_F_DEL_START, day);
    set(r, ZV_F_DEL_CARE_FORM, "ambulant");
    return r;
}

/* A batch the plugin cannot count (65 periods, one more than a batch may
 * touch) is rolled back, the core renders its halves, and what they count
 * survives a restart: after a rollback the memory is read again from disk,
 * so no client is left marked as counted without being written.  Five
 * children per quarter from 2010-Q1; after the restart one more child in
 * 2010-Q1 makes referrer 01 six there. */
START_TEST(rolled_back_batch_then_restart_keeps_counts)
{
    enum { QUARTERS = 65, PER = 5 };
    char *opts = opts_for("gemeente-jeugd.json");
    zvtb *tb = bed(opts);
    zv_record *big[QUARTERS * PER];
    long bsn = 200000000;
    for (int q = 0; q < QUARTERS; q++)
        for (int k = 0; k < PER; k++) {
            char day[11];
            snprintf(day, sizeof(day), "%04d-%02d-1%d", 2010 + q / 4, 1 + 3 * (q % 4), k);
            big[q * PER + k] = child_on(&bsn, day);
        }
    done(render(tb, (const zv_record *const *)big, QUARTERS * PER));
    ck_assert_int_ge(zvtb_log_count(tb, "could not count batch"), 1); /* it was rolled back */
    zvtb_stop(tb);
    ck_assert_msg(build(tb, opts) == 0, "%s", zvtb_errors(tb));
    zv_record *one = child_on(&bsn, "2010-02-20");
    zvtb_render *out = render(tb, (const zv_record *const *)&one, 1);
    /* 2010-Q1, and any period still pending from the big flush (one flush
     * sends at most 64: the rest go with the next one). */
    ck_assert_uint_ge(out->np, 1);
    ck_assert_uint_le(out->np, 2);
    size_t q1 = 0;
    while (q1 < out->np && !strstr(out->p[q1].idem, "/2010-Q1"))
        q1++;
    ck_assert_uint_lt(q1, out->np);
    char *cells = referrer_cells(&out->p[q1]);
    ck_assert_str_eq(cells, "01=6;");
    free(cells);
    done(out);
    zv_record_free(one);
    for (int i = 0; i < QUARTERS * PER; i++)
        zv_record_free(big[i]);
    zvtb_free(tb);
    free(opts);
}
END_TEST

/* ---- period reports (schedule = the set's period) ---- */

static const zvtb_payload *payload_by_key(const zvtb_render *out, const char *key)
{
    for (size_t p = 0; p < out->np; p++)
        if (strcmp(out->p[p].idem, key) == 0) return &out->p[p];
    return NULL;
}

static size_t count_with(const zvtb_render *out, const char *part)
{
    size_t n = 0;
    for (size_t p = 0; p < out->np; p++)
        n += strstr(out->p[p].idem, part) != NULL;
    return n;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void no_person_in(const zvtb_payload *pl)
{
    for (int i = 0; i < NCLIENTS; i++) {
        ck_assert_ptr_null(memmem(pl->data, pl->len, people[i].bsn, 9));
        ck_assert_ptr_null(memmem(pl->data, pl->len, people[i].birth, 10));
        ck_assert_ptr_null(memmem(pl->data, pl->len, people[i].postcode, 6));
    }
    ck_assert_ptr_null(memmem(pl->data, pl->len, "Achternaamq", 11));
}

#define QUARTERLY "\"policy\": {\"schedule\": \"quarterly\"}"

/* Quarterly schedule: at the first batch after a quarter ended, its report
 * (final JSON + HTML) with the narrative of that quarter's file; the same
 * counts again send nothing; a late record sends revision 2 of that
 * quarter only. */
START_TEST(quarterly_report_once_then_revision)
{
    make_records();
    zvtb *tb = zvtb_new();
    char story[4200], path[4300], *opts = NULL;
    snprintf(story, sizeof(story), "%s/story", zvtb_dir(tb));
    ck_assert_int_eq(mkdir(story, 0700), 0);
    snprintf(path, sizeof(path), "%s/2026-Q1.md", story);
    write_text(path, "## Wat we zagen\n\nMeer kinderen via het **wijkteam**.\n\n"
                     "- wachttijd korter\n- <script>alert(1)</script>\n");
    char *setf = set_path("gemeente-jeugd.json");
    ck_assert_int_ge(
        asprintf(&opts, "{\"signal_set\": \"%s\", \"narrative\": \"%s\"}", setf, story), 0);
    ck_assert_msg(build_ex(tb, opts, QUARTERLY) == 0, "%s", zvtb_errors(tb));
    zvtb_render *out = render(tb, (const zv_record *const *)recs, nrecs);
    /* Running counts for Q1 and Q2, and both ended by 2026-07-01: two reports. */
    ck_assert_uint_eq(count_with(out, "regio-signalen/1/"), 2);
    ck_assert_uint_eq(count_with(out, "/report/"), 4);
    const zvtb_payload *js = payload_by_key(out, "regio-signalen/report/2026-Q1/1/json");
    const zvtb_payload *html = payload_by_key(out, "regio-signalen/report/2026-Q1/1/html");
    ck_assert_ptr_nonnull(js);
    ck_assert_ptr_nonnull(html);
    ck_assert_str_eq(html->ext, "html");
    ck_assert_uint_eq(html->n, 0); /* a report names no record */
    save(js, "report-q1");
    char perr[256];
    zv_json_doc *d = zv_json_parse(js->data, js->len, 0, perr, sizeof(perr));
    ck_assert_msg(d != NULL, "%s", perr);
    int final = 0;
    ck_assert_int_eq(zv_json_bool(zv_json_get(zv_json_root(d), "final"), &final), 0);
    ck_assert(final);
    ck_assert_ptr_nonnull(
        strstr(zv_json_str(zv_json_get(zv_json_root(d), "narrative"), NULL), "**wijkteam**"));
    zv_json_free(d);
    /* The page: a chart per measure, suppressed cells as <5, the story with
     * its markup and nothing of the text unescaped. */
    const char *page = html->data;
    size_t svgs = 0;
    for (const char *p = page; (p = strstr(p, "<svg")); p++)
        svgs++;
    ck_assert_uint_eq(svgs, 6); /* one per measure of the set */
    ck_assert_ptr_nonnull(strstr(page, "&lt;5"));
    ck_assert_ptr_nonnull(strstr(page, "<strong>wijkteam</strong>"));
    ck_assert_ptr_nonnull(strstr(page, "<li>wachttijd korter</li>"));
    ck_assert_ptr_nonnull(strstr(page, "&lt;script&gt;"));
    ck_assert_ptr_null(strstr(page, "<script"));
    ck_assert_ptr_null(strstr(page, "http"));
    no_person_in(html);
    no_person_in(js);
    const char *hout = getenv("ZV_SIGNALS_OUT");
    if (hout && *hout) {
        snprintf(path, sizeof(path), "%s/report-q1.html", hout);
        write_text(path, page);
    }
    /* Q2 has no story file: said so. */
    const zvtb_payload *h2 = payload_by_key(out, "regio-signalen/report/2026-Q2/1/html");
    ck_assert_ptr_nonnull(h2);
    ck_assert_ptr_nonnull(memmem(h2->data, h2->len, "geen toelichting", 16));
    done(out);
    zvtb_stop(tb);

    /* Restart: a record that changes no count sends no report. */
    ck_assert_msg(build_ex(tb, opts, QUARTERLY) == 0, "%s", zvtb_errors(tb));
    zv_record *same = delivery(0, 0);
    set(same, ZV_F_DEL_CARE_FORM, FORMS[0]);              /* as before: the same cells */
    set(same, ZV_F_CLIENT_FAMILY_NAME, "Achternaamq00b"); /* not unchanged to the core */
    const zv_record *one[] = {same};
    out = render(tb, one, 1);
    ck_assert_uint_eq(count_with(out, "/report/"), 0);
    done(out);
    zv_record_free(same);
    /* A late Q1 delivery of a child not counted yet: Q1 again, as revision 2. */
    zv_record *late = delivery(NCLIENTS - 1, 0);
    ck_assert_int_eq(zv_record_set(late, ZV_F_CLIENT_BSN, "999990019", 9, NULL), 0);
    ck_assert_int_eq(zv_record_set(late, ZV_F_DEL_START, "2026-02-02", 10, NULL), 0);
    ck_assert_int_eq(zv_record_set(late, ZV_F_ENT_LAW, "jw", 2, NULL), 0);
    one[0] = late;
    out = render(tb, one, 1);
    ck_assert_uint_eq(count_with(out, "/report/"), 2);
    ck_assert_ptr_nonnull(payload_by_key(out, "regio-signalen/report/2026-Q1/2/json"));
    ck_assert_ptr_nonnull(payload_by_key(out, "regio-signalen/report/2026-Q1/2/html"));
    done(out);
    zv_record_free(late);
    zvtb_free(tb);
    free(setf);
    free(opts);
    free_records();
}
END_TEST

/* A monthly schedule for a quarterly set is refused with the reason; the
 * narrative's two sources exclude each other. */
START_TEST(report_options_checked)
{
    char *set = set_path("gemeente-jeugd.json"), *opts = NULL;
    ck_assert_int_ge(asprintf(&opts, "{\"signal_set\": \"%s\"}", set), 0);
    zvtb *tb = zvtb_new();
    ck_assert_int_ne(build_ex(tb, opts, "\"policy\": {\"schedule\": \"monthly\"}"), 0);
    ck_assert_msg(strstr(zvtb_errors(tb), "policy.schedule monthly does not match the signal "
                                          "set's period quarter"),
                  "%s", zvtb_errors(tb));
    zvtb_free(tb);
    free(opts);
    tb = zvtb_new();
    ck_assert_int_ge(asprintf(&opts,
                              "{\"signal_set\": \"%s\", \"narrative\": \"%s\", \"narrative_field\":"
                              " \"delivery.notes\"}",
                              set, zvtb_dir(tb)),
                     0);
    ck_assert_int_ne(build(tb, opts), 0);
    ck_assert_msg(
        strstr(zvtb_errors(tb), "options narrative and narrative_field: name one of them"), "%s",
        zvtb_errors(tb));
    zvtb_free(tb);
    free(opts);
    ck_assert_int_ge(
        asprintf(&opts, "{\"signal_set\": \"%s\", \"narrative_field\": \"client.bsn\"}", set), 0);
    tb = zvtb_new();
    ck_assert_int_ne(build(tb, opts), 0);
    ck_assert_msg(strstr(zvtb_errors(tb),
                         "option narrative_field: client.bsn is not a text field of the model"),
                  "%s", zvtb_errors(tb));
    zvtb_free(tb);
    free(opts);
    free(set);
}
END_TEST

/* The story from an ECD field: a team record without a BSN gives the
 * quarter's narrative; a client's note never does. */
START_TEST(narrative_from_ecd_field)
{
    make_records();
    char *setf = set_path("gemeente-jeugd.json"), *opts = NULL;
    ck_assert_int_ge(
        asprintf(&opts, "{\"signal_set\": \"%s\", \"narrative_field\": \"delivery.notes\"}", setf),
        0);
    zvtb *tb = zvtb_new();
    ck_assert_msg(build_ex(tb, opts, QUARTERLY) == 0, "%s", zvtb_errors(tb));
    zv_record *team = zv_record_new(ZV_KIND_DELIVERY, "ons", "team-q1", 1700000000);
    set(team, ZV_F_DEL_START, "2026-03-31");
    set(team, ZV_F_DEL_NOTES, "Het wijkteam verwees vaker zelf.");
    set(recs[0], ZV_F_DEL_NOTES, "Notitie over een kind");
    ck_assert_int_eq(desc->format->classify(zvtb_fmt_state(tb), team), 0);
    recs[nrecs++] = team;
    zvtb_render *out = render(tb, (const zv_record *const *)recs, nrecs);
    const zvtb_payload *h = payload_by_key(out, "regio-signalen/report/2026-Q1/1/html");
    ck_assert_ptr_nonnull(h);
    ck_assert_ptr_nonnull(memmem(h->data, h->len, "Het wijkteam verwees vaker zelf.", 32));
    for (size_t p = 0; p < out->np; p++)
        ck_assert_ptr_null(memmem(out->p[p].data, out->p[p].len, "Notitie", 7));
    done(out);
    zvtb_free(tb);
    free(opts);
    free(setf);
    free_records();
}
END_TEST

Suite *signals_suite(void)
{
    Suite *s = suite_create("signals_fmt");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, validation_refuses_identifying_dimensions);
    tcase_add_loop_test(tc, bundled_set_loads, 0, (int)(sizeof(BUNDLED) / sizeof(BUNDLED[0])));
    tcase_add_test(tc, counts_are_suppressed_and_carry_no_person);
    tcase_add_test(tc, records_end_counted_or_not_counted);
    tcase_add_test(tc, incremental_across_restarts_equals_full);
    tcase_add_test(tc, state_of_version_0_is_upgraded);
    tcase_add_test(tc, state_of_version_2_is_upgraded);
    tcase_add_test(tc, compacted_log_gives_the_same_counts);
    tcase_add_test(tc, rolled_back_batch_then_restart_keeps_counts);
    tcase_add_test(tc, quarterly_report_once_then_revision);
    tcase_add_test(tc, report_options_checked);
    tcase_add_test(tc, narrative_from_ecd_field);
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
