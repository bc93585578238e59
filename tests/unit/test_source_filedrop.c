/* filedrop source plugin through its descriptor, on real files. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <zinvol/utf8.h>

#include "zvtb_src.h"

static const char *MAPPING =
    "{\"record_id\": [\"id\", \"/id\"], \"records\": [{\"when\": {\"field\": \"bsn\", "
    "\"present\": true}, \"kind\": \"client\", \"fields\": {"
    " \"client.id\": \"id\","
    " \"client.bsn\": \"bsn\","
    " \"client.family_name\": \"naam\","
    " \"client.birth_date\": {\"from\": \"geboortedatum\", \"date_format\": \"%d-%m-%Y\"},"
    " \"client.sex\": {\"from\": \"geslacht\", \"map\": {\"M\": \"1\", \"V\": \"2\"}}}},"
    " {\"kind\": \"client\", \"fields\": {\"client.bsn\": \"/bsn\", \"client.family_name\": "
    "\"/naam/family\"}}]}";

/* No "id" column in the JSON files: the record id falls back to "/id". */

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/zv-filedrop-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Write a file and date it `age` seconds back (0: now). */
static void put(const char *name, const char *text, int age)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    if (age) {
        struct timeval tv[2];
        gettimeofday(&tv[0], NULL);
        tv[0].tv_sec -= age;
        tv[1] = tv[0];
        ck_assert_int_eq(utimes(path, tv), 0);
    }
}

/* Like put(), for content with NUL bytes. */
static void put_n(const char *name, const char *data, size_t len, int age)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    if (age) {
        struct timeval tv[2];
        gettimeofday(&tv[0], NULL);
        tv[0].tv_sec -= age;
        tv[1] = tv[0];
        ck_assert_int_eq(utimes(path, tv), 0);
    }
}

static int exists(const char *rel)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    return access(path, F_OK) == 0;
}

static char *slurp(const char *rel)
{
    static char buf[4096];
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static zvs_host *host_with(const char *mapping, const char *extra)
{
    char opts[1024], err[256];
    snprintf(opts, sizeof(opts), "{\"directory\": \"%s\", \"settle\": \"1h\"%s}", dir,
             extra ? extra : "");
    zvs_host *h = zvs_new(opts, mapping, err, sizeof(err));
    ck_assert_msg(h != NULL, "%s", err);
    ck_assert_msg(zvs_start(h, "in_filedrop.so", err, sizeof(err)) == 0, "%s", err);
    return h;
}

static zvs_host *host(const char *extra)
{
    return host_with(MAPPING, extra);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s", path);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The demo generator's export with the demo mapping: everything maps except
 * the three deliberately bad rows, which are quarantined with their field. */
static void demo_export(const char *format, const char *mapping_file)
{
    char cmd[1024], path[512];
    snprintf(cmd, sizeof(cmd),
             "python3 %s/conf/demo/generate-ecd --clients 60 --seed 7 --format %s --out %s "
             "2>/dev/null",
             getenv("ZV_SOURCE_DIR"), format, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(path, sizeof(path), "%s/ecd-export.%s", dir, format);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= 7200;
    tv[1] = tv[0];
    ck_assert_int_eq(utimes(path, tv), 0);
    snprintf(path, sizeof(path), "%s/conf/demo/%s", getenv("ZV_SOURCE_DIR"), mapping_file);
    zvs_host *h = host_with(read_all(path), ", \"delimiter\": \";\"");
    ck_assert_int_eq(zvs_drain(h, 30000), 0);
    ck_assert_uint_eq(zvs_nquarantine(h), 3);
    const char *want[] = {"client.bsn", "client.birth_date", "delivery.start"};
    for (int i = 0; i < 3; i++) {
        int found = 0;
        for (size_t k = 0; k < 3; k++)
            found |= strcmp(zvs_quarantine(h, k)->field, want[i]) == 0;
        ck_assert_msg(found, "no quarantine entry for %s", want[i]);
    }
    ck_assert_uint_gt(zvs_nrecords(h), 60);
    int wlz = 0, jw = 0, wmo = 0;
    for (size_t i = 0; i < zvs_nrecords(h); i++) {
        const zv_record *r = zvs_record(h, i)->rec;
        const char *law = zv_rec_str(r, ZV_F_ENT_LAW);
        ck_assert_int_eq(r->kind, ZV_KIND_DELIVERY);
        ck_assert_ptr_nonnull(zv_rec_str(r, ZV_F_CLIENT_PHONE));
        if (strcmp(law, "wlz") == 0) {
            wlz++;
            ck_assert(zv_rec_str(r, ZV_F_ENT_ZZP_CODE) || zv_rec_str(r, ZV_F_ENT_FUNCTION_CODE));
        } else { /* the demo has Jeugdwet and Wmo clients */
            strcmp(law, "wmo") == 0 ? wmo++ : jw++;
            ck_assert_msg(strcmp(law, "jw") == 0 || strcmp(law, "wmo") == 0, "law %s", law);
            ck_assert_ptr_nonnull(zv_rec_str(r, ZV_F_ENT_PRODUCT_CODE));
        }
        ck_assert_int_eq(strncmp(zvs_record(h, i)->record_id, "L", 1), 0);
    }
    ck_assert_int_gt(wlz, 0);
    ck_assert_int_gt(jw, 0);
    ck_assert_int_gt(wmo, 0);
    zvs_free(h);
}

START_TEST(demo_export_csv)
{
    demo_export("csv", "mapping-ecd.json");
}
END_TEST

START_TEST(demo_export_jsonl)
{
    demo_export("jsonl", "mapping-ecd-jsonl.json");
}
END_TEST

START_TEST(csv_windows1252_semicolon)
{
    put("clients_20261123.csv",
        "id;bsn;naam;geboortedatum;geslacht\r\n"
        "1;999900006;J\xe9r\xf4me;03-07-1941;M\r\n"
        "2;999900018;\"de Vries; van\";12-12-1950;V\r\n"
        "3;999900031;\"Line\nbreak\";01-01-1960;V\r\n",
        7200);
    zvs_host *h = host(", \"delimiter\": \";\", \"encoding\": \"windows-1252\"");
    ck_assert_int_eq(zvs_drain(h, 10000), 0);
    ck_assert_uint_eq(zvs_nrecords(h), 3);
    ck_assert_uint_eq(zvs_nquarantine(h), 0);
    const zvs_rec *r = zvs_find(h, "1");
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(zv_rec_str(r->rec, ZV_F_CLIENT_FAMILY_NAME), "J\xc3\xa9r\xc3\xb4me");
    ck_assert_str_eq(zv_rec_str(r->rec, ZV_F_CLIENT_SEX), "1");
    ck_assert_str_eq(zv_rec_str(zvs_find(h, "2")->rec, ZV_F_CLIENT_FAMILY_NAME), "de Vries; van");
    ck_assert_str_eq(zv_rec_str(zvs_find(h, "3")->rec, ZV_F_CLIENT_FAMILY_NAME), "Line\nbreak");
    ck_assert(exists("done/clients_20261123.csv"));
    ck_assert(!exists("clients_20261123.csv"));
    ck_assert_int_eq(zvs_counter(h, "files_done"), 1);
    zvs_free(h);
}
END_TEST

START_TEST(csv_wrong_column_is_quarantined)
{
    put("a.csv",
        "id,bsn,naam,geboortedatum,geslacht\n"
        "1,999900006,A,03-07-1941,M\n"
        "2,999900018,B,12-12-1950\n"
        "3,999900031,C,01-01-1960,V,extra\n"
        "4,999900043,D,31-02-1960,V\n"
        "5,999900055,E,01-01-1970,V",
        7200);
    zvs_host *h = host(NULL);
    ck_assert_int_eq(zvs_drain(h, 10000), 0);
    ck_assert_uint_eq(zvs_nrecords(h), 2);
    ck_assert_ptr_nonnull(zvs_find(h, "5")); /* last line without newline */
    ck_assert_uint_eq(zvs_nquarantine(h), 3);
    const zvs_quar *q = zvs_quarantine(h, 0);
    ck_assert_str_eq(q->field, "record");
    ck_assert_msg(strstr(q->reason, "row 3: 4 columns where the header has 5"), "%s", q->reason);
    /* The core keys the entry by the ECD's record id (the mapping's
     * record_id column), as every record; file and row stay in the kept item. */
    ck_assert_str_eq(q->record_id, "2");
    ck_assert_ptr_nonnull(strstr(q->item_json, "\"record_id\":\"a.csv:3\""));
    ck_assert_ptr_nonnull(strstr(q->item_json, "\"999900018\"")); /* raw content kept */
    q = zvs_quarantine(h, 1);
    ck_assert_msg(strstr(q->reason, "6 columns"), "%s", q->reason);
    q = zvs_quarantine(h, 2);
    ck_assert_str_eq(q->field, "client.birth_date");
    ck_assert(exists("done/a.csv"));
    zvs_free(h);
}
END_TEST

START_TEST(broken_files_are_rejected_with_reason)
{
    put("a_dup.csv", "id,bsn,id\n1,999900006,2\n", 7200);
    put("b_quote.csv", "id,bsn\n1,\"999900006\n2,999900018\n", 7200);
    put("c_utf8.csv", "id,bsn,naam\n1,999900006,J\xe9r\xf4me\n", 7200);
    put("d_empty.csv", "", 7200);
    put("e.json", "[{\"bsn\": \"999900006\"}, ", 7200);
    put("f.json", "\"just a string\"", 7200);
    /* D2: forms the old check let through; libxml2 refused them later. */
    put("g_surrogate.csv", "id,bsn,naam\n1,999900006,Bak\xed\xa0\x80ker\n", 7200);
    put("h_overlong.csv", "id,bsn,naam\n1,999900006,\xe0\x80\xaf\n", 7200);
    put("i_toobig.csv", "id,bsn,naam\n1,999900006,\xf4\x90\x80\x80\n", 7200);
    zvs_host *h = host(NULL);
    ck_assert_int_eq(zvs_drain(h, 10000), 0);
    ck_assert_uint_eq(zvs_nemits(h), 0);
    const char *want[][2] = {{"a_dup.csv", "appears twice"},
                             {"b_quote.csv", "never closed"},
                             {"c_utf8.csv", "not valid UTF-8 at byte 25"},
                             {"d_empty.csv", "empty file"},
                             {"e.json", "not valid JSON"},
                             {"f.json", "top level must be"},
                             {"g_surrogate.csv", "byte 27 (line 2: UTF-16 surrogate"},
                             {"h_overlong.csv", "byte 24 (line 2: overlong"},
                             {"i_toobig.csv", "byte 24 (line 2: code point above U+10FFFF"}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char rel[128];
        snprintf(rel, sizeof(rel), "rejected/%s", want[i][0]);
        ck_assert_msg(exists(rel), "%s not rejected", want[i][0]);
        strcat(rel, ".reason");
        char *why = slurp(rel);
        ck_assert_msg(why && strstr(why, want[i][1]), "%s: %s", rel, why ? why : "(none)");
    }
    ck_assert_int_eq(zvs_counter(h, "files_rejected"), 9);
    zvs_free(h);
}
END_TEST

START_TEST(half_written_file_waits)
{
    /* Just written (mtime now): not complete until it settled. */
    put("late.csv", "id,bsn,naam,geboortedatum,geslacht\n1,999900006,A,03-07-1941,M\n2,9999", 0);
    put("ignored.csv.part", "id,bsn\n", 7200);
    put(".hidden.csv", "id,bsn\n", 7200);
    /* settle_wait 0: drain does not wait for it. */
    zvs_host *h = host(", \"settle_wait\": \"0s\"");
    ck_assert_int_eq(zvs_drain(h, 10000), 0);
    ck_assert_uint_eq(zvs_nemits(h), 0);
    ck_assert(exists("late.csv"));
    ck_assert_msg(strstr(zvs_last_warning(h), "left for the next run"), "%s", zvs_last_warning(h));
    /* The writer finishes; an hour later (settle) it is taken. */
    put("late.csv",
        "id,bsn,naam,geboortedatum,geslacht\n1,999900006,A,03-07-1941,M\n2,999900018,B,"
        "01-01-1950,V\n",
        7200);
    ck_assert_int_eq(zvs_drain(h, 10000), 0);
    ck_assert_uint_eq(zvs_nrecords(h), 2);
    ck_assert(exists("done/late.csv"));
    ck_assert(exists("ignored.csv.part"));
    ck_assert(exists(".hidden.csv"));
    zvs_free(h);
}
END_TEST

/* D14: a NUL byte inside a CSV field is part of the value (not the end of
 * it): the mapping refuses it by name instead of sending "Bakker". */
START_TEST(csv_nul_in_field_is_kept_and_refused)
{
    static const char csv[] = "id,bsn,naam,geboortedatum,geslacht\n"
                              "1,999900006,Bakker\0-Jansen,03-07-1941,M\n"
                              "2,999900018,Jansen,03-07-1941,V\n";
    put_n("nul.csv", csv, sizeof(csv) - 1, 7200);
    put_n("nulhdr.csv", "id,bsn,na\0am\n1,999900006,X\n", 27, 7200);
    zvs_host *h = host(NULL);
    ck_assert_int_eq(zvs_drain(h, 10000), 0);
    ck_assert_uint_eq(zvs_nrecords(h), 1);
    ck_assert_ptr_nonnull(zvs_find(h, "2"));
    ck_assert_uint_eq(zvs_nquarantine(h), 1);
    const zvs_quar *q = zvs_quarantine(h, 0);
    ck_assert_str_eq(q->field, "client.family_name");
    ck_assert_msg(strstr(q->reason, "control character (0x00 at byte 6)"), "%s", q->reason);
    /* Kept exactly, NUL and all, for the retry. */
    ck_assert_msg(strstr(q->item_json, "\"Bakker\\u0000-Jansen\""), "%s", q->item_json);
    char *why = slurp("rejected/nulhdr.csv.reason");
    ck_assert_msg(why && strstr(why, "column 3 contains a NUL byte"), "%s", why ? why : "-");
    zvs_free(h);
}
END_TEST

/* D1: "\u0000" in a string of a .json drop.  The old flattening stored
 * path\0value\0 and split it with strlen: the note's tail became a field
 * "/bsn" of its own and replaced the client's BSN. */
START_TEST(json_nul_in_string_cannot_replace_a_field)
{
    put("d1.json",
        "[{\"id\": \"n1\", \"naam\": {\"family\": \"Note\\u0000/bsn\\u0000999900018\"},"
        " \"bsn\": \"999900006\"},"
        " {\"id\": \"n2\", \"bsn\": \"999900031\", \"naam\": {\"family\": \"Goed\"}}]",
        7200);
    put("d1.jsonl",
        "{\"id\": \"l1\", \"naam\": {\"family\": \"A\\u0000/bsn\\u0000999900018\"}, "
        "\"bsn\": \"999900043\"}\n"
        "{\"id\": \"l2\", \"bs\\u0000n\": \"999900018\", \"bsn\": \"999900055\"}\n",
        7200);
    put("d1key.json", "[{\"id\": \"x\", \"/bsn\\u0000\": \"999900018\"}]", 7200);
    zvs_host *h = host(NULL);
    ck_assert_int_eq(zvs_drain(h, 10000), 0);
    ck_assert_uint_eq(zvs_nrecords(h), 1);
    ck_assert_str_eq(zv_rec_str(zvs_find(h, "n2")->rec, ZV_F_CLIENT_BSN), "999900031");
    ck_assert_uint_eq(zvs_nquarantine(h), 3);
    for (size_t i = 0; i < zvs_nquarantine(h); i++) {
        const zvs_quar *q = zvs_quarantine(h, i);
        ck_assert_msg(strstr(q->item_json, "\"999900018\"") || strstr(q->item_json, "\\u0000"),
                      "%s", q->item_json);
        if (strcmp(q->record_id, "l2") == 0 || strstr(q->record_id, "line2")) {
            ck_assert_msg(strstr(q->reason, "object key contains \\u0000"), "%s", q->reason);
        } else {
            ck_assert_str_eq(q->field, "client.family_name");
            ck_assert_msg(strstr(q->reason, "control character (0x00 at byte 4)") ||
                              strstr(q->reason, "control character (0x00 at byte 1)"),
                          "%s", q->reason);
        }
    }
    char *why = slurp("rejected/d1key.json.reason");
    ck_assert_msg(why && strstr(why, "object key contains \\u0000"), "%s", why ? why : "-");
    zvs_free(h);
}
END_TEST

static int is_utf8(const char *s)
{
    size_t bad;
    return zv_utf8_valid(s, strlen(s), &bad);
}

/* D2/D3: text that is not UTF-8 inside a JSON line (yajl lets surrogates
 * and overlong forms through, and "\udc00" decodes to a surrogate), and a
 * broken line longer than the 4096-byte raw cut with a character across
 * the cut.  Each is one quarantined record naming the field; the file goes
 * on and the kept item is valid JSON. */
START_TEST(jsonl_invalid_utf8_is_quarantined_per_record)
{
    char big[6000];
    int o = snprintf(big, sizeof(big), "{\"id\": \"b1\", \"naam\": \"");
    memset(big + o, 'x', 4095 - (size_t)o);
    o = 4095;
    o += snprintf(big + o, sizeof(big) - (size_t)o, "\xc3\xa9 and no closing brace\n");
    char text[8000];
    snprintf(text, sizeof(text),
             "{\"id\": \"u1\", \"bsn\": \"999900006\", \"naam\": {\"family\": "
             "\"Bak\xed\xa0\x80ker\"}}\n"
             "{\"id\": \"u2\", \"bsn\": \"999900018\", \"naam\": {\"family\": \"\\udc00\"}}\n"
             "%s"
             "{\"id\": \"u4\", \"bsn\": \"999900031\", \"naam\": {\"family\": \"Goed\"}}\n",
             big);
    put("u.jsonl", text, 7200);
    zvs_host *h = host(NULL);
    ck_assert_int_eq(zvs_drain(h, 10000), 0);
    ck_assert_uint_eq(zvs_nrecords(h), 1);
    ck_assert_ptr_nonnull(zvs_find(h, "u4"));
    ck_assert_uint_eq(zvs_nquarantine(h), 3);
    const zvs_quar *q = zvs_quarantine(h, 0);
    ck_assert_str_eq(q->field, "record");
    ck_assert_msg(strstr(q->reason, "value of field '/naam/family' is not valid UTF-8 at byte 3 "
                                    "(UTF-16 surrogate"),
                  "%s", q->reason);
    ck_assert_msg(strstr(q->item_json, "Bak\\\\xED\\\\xA0\\\\x80ker"), "%s", q->item_json);
    q = zvs_quarantine(h, 1);
    ck_assert_msg(strstr(q->reason, "'/naam/family' is not valid UTF-8 at byte 0"), "%s",
                  q->reason);
    q = zvs_quarantine(h, 2);
    ck_assert_msg(strstr(q->reason, "line 3: "), "%s", q->reason);
    ck_assert(is_utf8(q->item_json));
    for (size_t i = 0; i < 3; i++)
        ck_assert(is_utf8(zvs_quarantine(h, i)->item_json));
    ck_assert(exists("done/u.jsonl"));
    zvs_free(h);
}
END_TEST

/* A CSV header of 200,000 columns (D7): refused by max_columns at once; with
 * the bound raised the duplicate check is linear, not pairwise. */
START_TEST(csv_many_columns_bounded_and_linear)
{
    size_t n = 200000;
    char *hdr = malloc(n * 12 + 64);
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(hdr + o, "%sc%zu", i ? "," : "", i);
    o += (size_t)sprintf(hdr + o, ",c7\n1\n");
    put_n("wide.csv", hdr, o, 7200);
    zvs_host *h = host(NULL);
    ck_assert_int_eq(zvs_drain(h, 10000), 0);
    char *why = slurp("rejected/wide.csv.reason");
    ck_assert_msg(why && strstr(why, "longer than max_line_length"), "%s", why ? why : "-");
    zvs_free(h);
    put_n("wide.csv", hdr, o, 7200);
    h = host(", \"max_line_length\": 4000000");
    ck_assert_int_eq(zvs_drain(h, 10000), 0);
    why = slurp("rejected/wide.csv.1.reason");
    ck_assert_msg(why && strstr(why, "more than max_columns (2000)"), "%s", why ? why : "-");
    zvs_free(h);
    put_n("wide.csv", hdr, o, 7200);
    h = host(", \"max_line_length\": 4000000, \"max_columns\": 300000");
    ck_assert_int_eq(zvs_drain(h, 60000), 0);
    why = slurp("rejected/wide.csv.2.reason");
    ck_assert_msg(why && strstr(why, "column name 'c7' appears twice"), "%s", why ? why : "-");
    zvs_free(h);
    free(hdr);
}
END_TEST

/* D8: a symbolic link, a FIFO, a directory and a second hard link in the
 * drop folder are refused by name into rejected/ with a reason; the link's
 * target is never read. */
START_TEST(non_regular_entries_are_rejected)
{
    char secret[300], path[512];
    snprintf(secret, sizeof(secret), "%s-secret.csv", dir);
    FILE *f = fopen(secret, "w");
    ck_assert_ptr_nonnull(f);
    fputs("id,bsn,naam\n1,999900006,GEHEIM\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/link.csv", dir);
    ck_assert_int_eq(symlink(secret, path), 0);
    snprintf(path, sizeof(path), "%s/pipe.csv", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    snprintf(path, sizeof(path), "%s/folder.json", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    put("own.csv", "id,bsn,naam\n2,999900018,Jansen\n", 7200);
    char hard[512];
    snprintf(path, sizeof(path), "%s/own.csv", dir);
    snprintf(hard, sizeof(hard), "%s/hard.csv", dir);
    ck_assert_int_eq(link(path, hard), 0);
    zvs_host *h = host(NULL);
    ck_assert_int_eq(zvs_drain(h, 10000), 0);
    ck_assert_uint_eq(zvs_nemits(h), 0); /* own.csv has two links as well */
    const char *want[][2] = {{"link.csv", "symbolic link"},
                             {"pipe.csv", "named pipe"},
                             {"folder.json", "directory"},
                             {"hard.csv", "more than one hard link"}};
    for (size_t i = 0; i < 4; i++) {
        char rel[128];
        snprintf(rel, sizeof(rel), "rejected/%s.reason", want[i][0]);
        char *why = slurp(rel);
        ck_assert_msg(why && strstr(why, want[i][1]), "%s: %s", rel, why ? why : "(none)");
    }
    struct stat st;
    snprintf(path, sizeof(path), "%s/rejected/link.csv", dir);
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISLNK(st.st_mode)); /* the link itself was moved */
    ck_assert_int_eq(access(secret, F_OK), 0);
    unlink(secret);
    zvs_free(h);
}
END_TEST

/* Issue 12, 8b: processed files in done/ are removed after the retention. */
START_TEST(done_files_pruned_after_retention)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/done", dir);
    ck_assert_int_eq(mkdir(path, 0750), 0);
    put("done/old.csv", "id\n", 3 * 86400);
    put("done/recent.csv", "id\n", 3600);
    put("new.csv", "id,bsn,naam\n1,999900006,A\n", 7200 * 24 * 5);
    zvs_host *h = host(", \"done_retention\": \"2d\"");
    ck_assert_int_eq(zvs_drain(h, 10000), 0);
    ck_assert(!exists("done/old.csv"));
    ck_assert(exists("done/recent.csv"));
    /* Counted from the move, not from the export's own (old) mtime. */
    ck_assert(exists("done/new.csv"));
    zvs_free(h);
}
END_TEST

/* Issue 12, 7b: --once right after the export waits for the file to settle
 * (up to settle_wait) instead of reporting drained with nothing done. */
START_TEST(drain_waits_for_settling_file)
{
    put("fresh.csv", "id,bsn,naam,geboortedatum,geslacht\n1,999900006,A,03-07-1941,M\n", 0);
    char opts[512], err[256];
    snprintf(opts, sizeof(opts),
             "{\"directory\": \"%s\", \"settle\": \"1s\", \"settle_wait\": \"1m\"}", dir);
    zvs_host *h = zvs_new(opts, MAPPING, err, sizeof(err));
    ck_assert_msg(h != NULL, "%s", err);
    ck_assert_msg(zvs_start(h, "in_filedrop.so", err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(zvs_drain(h, 30000), 0);
    ck_assert_uint_eq(zvs_nrecords(h), 1);
    ck_assert(exists("done/fresh.csv"));
    zvs_free(h);
}
END_TEST

static const char *CSV7 = "id,bsn,naam,geboortedatum,geslacht\n"
                          "1,999900006,A,03-07-1941,M\n"
                          "2,999900018,B,03-07-1941,M\n"
                          "3,999900031,C,03-07-1941,M\n"
                          "4,999900043,D,03-07-1941,M\n"
                          "5,999900055,E,03-07-1941,M\n"
                          "6,999900067,F,03-07-1941,M\n"
                          "7,999900079,G,03-07-1941,M\n";

static int emitted_at_least(zvs_host *h, void *arg)
{
    return zvs_nemits(h) >= *(size_t *)arg;
}

START_TEST(restart_mid_file_resumes_exactly)
{
    put("big.csv", CSV7, 7200);
    zvs_host *h = host(", \"batch_rows\": 2");
    /* Rows 1-2 and 3-4 are committed; the store fails on row 6 (row 5
     * staged, not committed); then the process dies. */
    zvs_fail_emits(h, 5, 1000);
    size_t want = 6;
    ck_assert(zvs_run_until(h, emitted_at_least, &want, 10000));
    zvs_crash(h);
    ck_assert_uint_eq(zvs_nrecords(h), 4);
    ck_assert_str_eq(zvs_watermark(h, "offset"), "143:5"); /* header + 4 rows */
    zvs_fail_emits(h, 0, 0);
    char err[256];
    ck_assert_int_eq(zvs_start(h, "in_filedrop.so", err, sizeof(err)), 0);
    ck_assert_int_eq(zvs_drain(h, 10000), 0);
    ck_assert_uint_eq(zvs_nrecords(h), 7);
    for (int i = 1; i <= 7; i++) {
        char id[8];
        snprintf(id, sizeof(id), "%d", i);
        int n = 0;
        for (size_t k = 0; k < zvs_nrecords(h); k++)
            n += strcmp(zvs_record(h, k)->record_id, id) == 0;
        ck_assert_int_eq(n, 1);
    }
    ck_assert(exists("done/big.csv"));
    ck_assert_str_eq(zvs_watermark(h, "file"), "");
    zvs_free(h);
}
END_TEST

START_TEST(jsonl_and_json)
{
    put("a.jsonl",
        "{\"id\": \"j1\", \"bsn\": \"999900006\", \"naam\": {\"family\": \"Jansen\"}}\n"
        "{\"id\": \"j2\", \"bsn\": \"999900018\", \"naam\": \n"
        "\n"
        "[1, 2]\n"
        "{\"id\": \"j5\", \"bsn\": 999900031, \"naam\": {\"family\": \"Ba\\u00e9\"}}\n",
        7200);
    put("b.json",
        "[{\"id\": \"k1\", \"bsn\": \"999900043\", \"naam\": {\"family\": \"K\"}}, 7,"
        " {\"id\": \"k3\", \"bsn\": \"999900055\"}]",
        7200);
    zvs_host *h = host(NULL);
    ck_assert_int_eq(zvs_drain(h, 10000), 0);
    ck_assert_msg(zvs_nrecords(h) == 4, "%zu records, %zu quarantined: %s", zvs_nrecords(h),
                  zvs_nquarantine(h), zvs_nquarantine(h) ? zvs_quarantine(h, 0)->reason : "");
    ck_assert_str_eq(zv_rec_str(zvs_find(h, "j5")->rec, ZV_F_CLIENT_FAMILY_NAME), "Ba\xc3\xa9");
    ck_assert_str_eq(zv_rec_str(zvs_find(h, "j5")->rec, ZV_F_CLIENT_BSN), "999900031");
    ck_assert_ptr_nonnull(zvs_find(h, "k3"));
    ck_assert_uint_eq(zvs_nquarantine(h), 3);
    ck_assert_msg(strstr(zvs_quarantine(h, 0)->reason, "line 2: "), "%s",
                  zvs_quarantine(h, 0)->reason);
    ck_assert_str_eq(zvs_quarantine(h, 0)->record_id, "a.jsonl:line2");
    ck_assert_msg(strstr(zvs_quarantine(h, 1)->reason, "line 4: not a JSON object"), "%s",
                  zvs_quarantine(h, 1)->reason);
    ck_assert_msg(strstr(zvs_quarantine(h, 2)->reason, "element 1 is number"), "%s",
                  zvs_quarantine(h, 2)->reason);
    ck_assert(exists("done/a.jsonl"));
    ck_assert(exists("done/b.json"));
    /* The same file dropped again: same records and content -> duplicates. */
    put("a.jsonl", "{\"id\": \"j1\", \"bsn\": \"999900006\", \"naam\": {\"family\": \"Jansen\"}}\n",
        7200);
    ck_assert_int_eq(zvs_drain(h, 10000), 0);
    ck_assert_uint_eq(zvs_nrecords(h), 4);
    ck_assert(exists("done/a.jsonl.1"));
    zvs_free(h);
}
END_TEST

START_TEST(inotify_picks_up_renamed_file)
{
    zvs_host *h = host(", \"settle\": \"0s\"");
    char tmp[512], final[512];
    snprintf(tmp, sizeof(tmp), "%s/x.csv.tmp", dir);
    snprintf(final, sizeof(final), "%s/x.csv", dir);
    FILE *f = fopen(tmp, "w");
    fputs("id,bsn,naam,geboortedatum,geslacht\n9,999900006,Z,01-01-1950,V\n", f);
    fclose(f);
    zvs_run_for(h, 100);
    ck_assert_uint_eq(zvs_nemits(h), 0); /* .tmp is never taken */
    ck_assert_int_eq(rename(tmp, final), 0);
    size_t one = 1;
    ck_assert(zvs_run_until(h, emitted_at_least, &one, 10000));
    ck_assert_int_eq(zvs_drain(h, 10000), 0); /* the file's unit committed, whenever */
    ck_assert_uint_eq(zvs_nrecords(h), 1);
    zvs_free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("source_filedrop");
    TCase *tc = tcase_create("filedrop");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, csv_windows1252_semicolon);
    tcase_add_test(tc, csv_wrong_column_is_quarantined);
    tcase_add_test(tc, broken_files_are_rejected_with_reason);
    tcase_add_test(tc, half_written_file_waits);
    tcase_add_test(tc, drain_waits_for_settling_file);
    tcase_add_test(tc, csv_nul_in_field_is_kept_and_refused);
    tcase_add_test(tc, json_nul_in_string_cannot_replace_a_field);
    tcase_add_test(tc, jsonl_invalid_utf8_is_quarantined_per_record);
    tcase_add_test(tc, csv_many_columns_bounded_and_linear);
    tcase_add_test(tc, non_regular_entries_are_rejected);
    tcase_add_test(tc, done_files_pruned_after_retention);
    tcase_add_test(tc, restart_mid_file_resumes_exactly);
    tcase_add_test(tc, jsonl_and_json);
    tcase_add_test(tc, inotify_picks_up_renamed_file);
    tcase_add_test(tc, demo_export_csv);
    tcase_add_test(tc, demo_export_jsonl);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
