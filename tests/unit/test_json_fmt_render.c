/* fmt_json on the testbed (the core builds it from a config with the
 * example catalogue and renders through its flush): payload layout,
 * exactly the minimised fields, nesting, kind filter, keys. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>
#include <zinvol/model.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

#include "zvtb.h"

#define MARKER "ZVMARKER-7f3a9c"

static const zv_plugin_descriptor *desc;

/* The json format has no catalogue of its own: the destination names one. */
#define CATALOGUE "\"catalogue\": {\"file\": \"json-example.json\"}"

static zvtb *bed(const char *opts)
{
    zvtb *tb = zvtb_format_ex("json", opts, CATALOGUE, NULL);
    desc = zvtb_fmt_desc(tb);
    return tb;
}

static void setup(void)
{
    zvtb_free(bed(NULL)); /* desc for the descriptor checks */
}

static void done(zvtb_render *out)
{
    zvtb_render_free(out);
    free(out);
}

/* b through the core's flush (its batch id and destination are the core's). */
static zvtb_render *render(zvtb *tb, const zv_batch *b)
{
    zvtb_render *out = calloc(1, sizeof(*out));
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(zvtb_render_batch(tb, b, out), 0);
    return out;
}

static void set(zv_record *r, zv_field_id id, const char *v)
{
    ck_assert_int_eq(zv_record_set(r, id, v, strlen(v), NULL), 0);
}

/* A full delivery record as a source would have it, including free text
 * that no catalogue should let through. */
static zv_record *full_record(const char *id)
{
    zv_record *r = zv_record_new(ZV_KIND_DELIVERY, "ons", id, 1700000000);
    set(r, ZV_F_CLIENT_BSN, "999993653");
    set(r, ZV_F_CLIENT_BIRTH_DATE, "2012-03-04");
    set(r, ZV_F_CLIENT_FAMILY_NAME, "Jansen");
    set(r, ZV_F_ENT_LAW, "jw");
    set(r, ZV_F_DEL_START, "2026-01-05");
    set(r, ZV_F_DEL_NOTES, MARKER " vertrouwelijke toelichting");
    set(r, ZV_F_CLIENT_PHONE, "0612345678");
    return r;
}

/* What the minimiser would hand over for a catalogue with bsn, birth date
 * and delivery.start only. */
static zv_record *minimised(const zv_record *full)
{
    zv_record *m = zv_record_copy(full);
    zv_record_clear(m, ZV_F_DEL_NOTES);
    zv_record_clear(m, ZV_F_CLIENT_PHONE);
    zv_record_clear(m, ZV_F_CLIENT_FAMILY_NAME);
    zv_record_clear(m, ZV_F_ENT_LAW);
    return m;
}

static zv_json_doc *parse_payload(const zvtb_payload *p)
{
    char err[256];
    zv_json_doc *d = zv_json_parse(p->data, p->len, 0, err, sizeof(err));
    ck_assert_msg(d != NULL, "payload is not JSON: %s", err);
    return d;
}

START_TEST(descriptor_declares_generic_message)
{
    ck_assert_int_eq(desc->kind, ZV_PLUGIN_FORMAT);
    ck_assert_str_eq(desc->name, "json");
    ck_assert_ptr_nonnull(desc->format);
    ck_assert_str_eq(desc->format->messages[0].name, "JSON");
    ck_assert_ptr_null(desc->format->messages[0].catalogue);
    ck_assert_uint_eq(desc->format->nmessages, 1);
    ck_assert_ptr_null(desc->format->interpret);
}
END_TEST

START_TEST(renders_exactly_the_minimised_fields)
{
    zvtb *tb = bed(NULL);
    void *st = zvtb_fmt_state(tb);
    zv_record *full = full_record("r-1");
    zv_record *min = minimised(full);
    ck_assert_int_eq(desc->format->classify(st, min), 0);
    const zv_record *recs[] = {min};
    zv_batch b = {ZV_SIZED(zv_batch),
                  .destination = "monitor",
                  .batch_id = "b-42",
                  .message = 0,
                  .now = 1767225600, /* 2026-01-01T00:00:00Z */
                  .n = 1,
                  .records = recs};
    zvtb_render *out = render(tb, &b);
    ck_assert_uint_eq(out->np, 1);
    ck_assert_uint_eq(out->nr, 0);
    zvtb_payload *p = &out->p[0];
    /* The dropped fields are nowhere in the bytes, not even their names. */
    ck_assert_ptr_null(memmem(p->data, p->len, MARKER, strlen(MARKER)));
    ck_assert_ptr_null(memmem(p->data, p->len, "0612345678", 10));
    ck_assert_ptr_null(memmem(p->data, p->len, "Jansen", 6));
    ck_assert_ptr_null(memmem(p->data, p->len, "delivery.notes", 14));
    ck_assert_str_eq(p->content_type, "application/json");
    ck_assert_str_eq(p->ext, "json");
    ck_assert_str_eq(p->idem, "dest/1"); /* destination/batch id, as the core gave them */
    ck_assert_uint_eq(p->n, 1);
    ck_assert_uint_eq(p->records[0], 0);
    ck_assert_str_eq(p->keys[0], "ons/r-1");

    zv_json_doc *d = parse_payload(p);
    const zv_json *root = zv_json_root(d);
    ck_assert_str_eq(zv_json_str(zv_json_get(root, "format"), NULL), "zinvol-json");
    int64_t version = 0;
    ck_assert_int_eq(zv_json_int(zv_json_get(root, "version"), &version), 0);
    ck_assert_int_eq(version, 1);
    ck_assert_str_eq(zv_json_str(zv_json_get(root, "destination"), NULL), "dest");
    ck_assert_str_eq(zv_json_str(zv_json_get(root, "batch_id"), NULL), "1");
    ck_assert_str_eq(zv_json_str(zv_json_get(root, "generated"), NULL), "2026-01-01T00:00:00Z");
    const zv_json *rec = zv_json_pointer(root, "/records/0");
    ck_assert_ptr_nonnull(rec);
    ck_assert_uint_eq(zv_json_len(zv_json_get(root, "records")), 1);
    ck_assert_str_eq(zv_json_str(zv_json_get(rec, "kind"), NULL), "delivery");
    ck_assert_str_eq(zv_json_str(zv_json_get(rec, "source"), NULL), "ons");
    ck_assert_str_eq(zv_json_str(zv_json_get(rec, "record_id"), NULL), "r-1");
    const zv_json *fields = zv_json_get(rec, "fields");
    ck_assert_uint_eq(zv_json_len(fields), 3);
    ck_assert_str_eq(zv_json_str(zv_json_get(fields, "client.bsn"), NULL), "999993653");
    ck_assert_str_eq(zv_json_str(zv_json_get(fields, "client.birth_date"), NULL), "2012-03-04");
    ck_assert_str_eq(zv_json_str(zv_json_get(fields, "delivery.start"), NULL), "2026-01-05");
    zv_json_free(d);

    /* Control: the unminimised record does carry the marker, so the check
     * above can fail. */
    const zv_record *recs2[] = {full};
    b.records = recs2;
    zvtb_render *out2 = render(tb, &b);
    ck_assert_ptr_nonnull(memmem(out2->p[0].data, out2->p[0].len, MARKER, strlen(MARKER)));
    done(out2);

    done(out);
    zv_record_free(min);
    zv_record_free(full);
    zvtb_free(tb);
}
END_TEST

START_TEST(nest_writes_objects_per_group)
{
    zvtb *tb = bed("{\"nest\": true}");
    zv_record *full = full_record("r-9");
    zv_record *min = minimised(full);
    const zv_record *recs[] = {min, full};
    zv_batch b = {ZV_SIZED(zv_batch), .destination = "dash", .batch_id = "7", .now = 0, .n = 2,
                  .records = recs};
    zvtb_render *out = render(tb, &b);
    ck_assert_uint_eq(out->np, 1);
    ck_assert_uint_eq(out->p[0].n, 2);
    zv_json_doc *d = parse_payload(&out->p[0]);
    const zv_json *f0 = zv_json_pointer(zv_json_root(d), "/records/0/fields");
    ck_assert_uint_eq(zv_json_len(f0), 2); /* client, delivery */
    ck_assert_str_eq(zv_json_str(zv_json_pointer(f0, "/client/bsn"), NULL), "999993653");
    ck_assert_uint_eq(zv_json_len(zv_json_get(f0, "client")), 2);
    ck_assert_str_eq(zv_json_str(zv_json_pointer(f0, "/delivery/start"), NULL), "2026-01-05");
    ck_assert_ptr_null(zv_json_get(f0, "entitlement"));
    const zv_json *f1 = zv_json_pointer(zv_json_root(d), "/records/1/fields");
    ck_assert_str_eq(zv_json_str(zv_json_pointer(f1, "/entitlement/law"), NULL), "jw");
    ck_assert_str_eq(zv_json_str(zv_json_pointer(f1, "/client/phone"), NULL), "0612345678");
    ck_assert_uint_eq(zv_json_len(zv_json_get(f1, "client")), 4);
    zv_json_free(d);
    done(out);
    zv_record_free(min);
    zv_record_free(full);
    zvtb_free(tb);
}
END_TEST

START_TEST(kinds_option_filters_and_is_checked)
{
    zvtb *tb = bed("{\"kinds\": [\"client\", \"declaration\"]}");
    void *st = zvtb_fmt_state(tb);
    zv_record *del = zv_record_new(ZV_KIND_DELIVERY, "s", "1", 0);
    zv_record *cli = zv_record_new(ZV_KIND_CLIENT, "s", "2", 0);
    ck_assert_int_eq(desc->format->classify(st, del), -1);
    ck_assert_int_eq(desc->format->classify(st, cli), 0);
    zvtb_free(tb);

    tb = zvtb_new();
    zvtb_config(tb,
                "\"destinations\": [{\"name\": \"dest\", \"format\": \"json\", \"transport\": "
                "\"tbcap\", \"format_options\": {\"kinds\": [\"client\", \"invoice\"]}, " CATALOGUE
                "}]");
    ck_assert_int_eq(zvtb_build(tb), -1);
    const char *err = zvtb_errors(tb);
    ck_assert_msg(strstr(err, "kinds[1]") && strstr(err, "invoice"), "got: %s", err);
    zvtb_free(tb);

    /* Default: every kind. */
    tb = bed("{}");
    st = zvtb_fmt_state(tb);
    ck_assert_int_eq(desc->format->classify(st, del), 0);
    zvtb_free(tb);
    zv_record_free(del);
    zv_record_free(cli);
}
END_TEST

START_TEST(empty_batch_no_payload_and_escaping)
{
    zvtb *tb = bed(NULL);
    void *st = zvtb_fmt_state(tb);
    zv_batch b = {ZV_SIZED(zv_batch), .destination = "d", .batch_id = "x", .n = 0, .records = NULL};
    /* Nothing staged: the core renders nothing. */
    zvtb_render *out = render(tb, &b);
    ck_assert_uint_eq(out->np, 0);
    done(out);
    /* The core never hands an empty batch, but render() of one must add
     * nothing: with no output to add to, a plugin that did would crash. */
    ck_assert_int_eq(desc->format->render(st, &b, NULL), 0);

    zv_record *r = zv_record_new(ZV_KIND_CLIENT, "src\"q", "id/\\1", 0);
    set(r, ZV_F_CLIENT_FAMILY_NAME, "d\"Ancona\n");
    const zv_record *recs[] = {r};
    b.n = 1;
    b.records = recs;
    out = render(tb, &b);
    ck_assert_uint_eq(out->np, 1);
    zv_json_doc *d = parse_payload(&out->p[0]);
    ck_assert_str_eq(
        zv_json_str(zv_json_pointer(zv_json_root(d), "/records/0/fields/client.family_name"), NULL),
        "d\"Ancona\n");
    zv_json_free(d);
    done(out);
    zv_record_free(r);
    zvtb_free(tb);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json_fmt");
    TCase *tc = tcase_create("render");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, descriptor_declares_generic_message);
    tcase_add_test(tc, renders_exactly_the_minimised_fields);
    tcase_add_test(tc, nest_writes_objects_per_group);
    tcase_add_test(tc, kinds_option_filters_and_is_checked);
    tcase_add_test(tc, empty_batch_no_payload_and_escaping);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
