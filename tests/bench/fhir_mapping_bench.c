/*
 * FHIR mapping benchmark (prints figures; not a timed test).
 *
 *   fhir_mapping_bench [iterations]
 *
 * Flattens the Nictiz example nl-core-Patient-01 with the fhir source's
 * flattener and maps it with the bundled nl-core mapping
 * (conf/fhir-nl-core.conf, selectors and joins) and, for comparison, with a
 * mapping of literal paths only; reports resources/s per core (CPU time)
 * for flatten + map, for map alone, and the quarantine JSON size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zinvol/json.h>
#include <zinvol/util.h>

#include "fhir.h"
#include "mapping/mapping.h"

#ifndef ZV_SRC_DIR
#define ZV_SRC_DIR "."
#endif

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static zv_mapping *compile(const zv_json *spec)
{
    zv_errors e;
    zv_errors_init(&e);
    zv_mapping *m = zv_mapping_compile(spec, "fhir", "bench", "mapping", &e);
    if (!m) fprintf(stderr, "mapping: %s\n", e.n ? e.lines[0] : "?");
    zv_errors_free(&e);
    return m;
}

static const char *LITERAL =
    "{\"records\": [{\"kind\": \"client\", \"fields\": {"
    " \"client.bsn\": \"Patient.identifier[bsn].value\","
    " \"client.family_name\": \"Patient.name.family.extension[humanname-own-name].value\","
    " \"client.name_prefix\": \"Patient.name.family.extension[humanname-own-prefix].value\","
    " \"client.given_names\": \"Patient.name.given\", \"client.birth_date\": \"Patient.birthDate\","
    " \"client.sex\": {\"from\": \"Patient.gender\", \"map\": {\"female\": \"2\", \"male\": "
    "\"1\"}},"
    " \"client.postcode\": \"Patient.address.postalCode\"}}]}";

static void run(const char *what, const zv_mapping *m, const zv_json *res, long n)
{
    fh_flat f;
    fh_flat_init(&f);
    char field[64], reason[256];
    double t0 = cpu_s();
    size_t fields = 0;
    for (long i = 0; i < n; i++) {
        fh_flat_reset(&f);
        fh_flatten(&f, res, NULL);
        fh_flat_finish(&f);
        zv_item it = {ZV_SIZED(zv_item), "Patient", "Patient/nl-core-Patient-01",
                      f.fields,          f.n,       sizeof(zv_item_field)};
        zv_record *r = zv_mapping_apply(m, &it, 1, field, sizeof(field), reason, sizeof(reason));
        if (!r) {
            fprintf(stderr, "%s: %s: %s\n", what, field, reason);
            exit(1);
        }
        zv_record_free(r);
        fields = f.n;
    }
    double t1 = cpu_s();
    zv_item it = {ZV_SIZED(zv_item), "Patient", "Patient/nl-core-Patient-01",
                  f.fields,          f.n,       sizeof(zv_item_field)};
    for (long i = 0; i < n; i++) {
        zv_record *r = zv_mapping_apply(m, &it, 1, field, sizeof(field), reason, sizeof(reason));
        zv_record_free(r);
    }
    double t2 = cpu_s();
    char *all = zv_item_to_json(&it), *kept = zv_mapping_item_json(m, &it);
    printf("%-28s %9.0f res/s flatten+map  %9.0f res/s map only  (%zu item fields; "
           "quarantine JSON %zu of %zu bytes)\n",
           what, (double)n / (t1 - t0), (double)n / (t2 - t1), fields, strlen(kept), strlen(all));
    free(all);
    free(kept);
    fh_flat_free(&f);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000;
    char err[256];
    zv_json_doc *conf = zv_json_parse_file(ZV_SRC_DIR "/conf/fhir-nl-core.conf", ZV_JSON_COMMENTS,
                                           err, sizeof(err));
    zv_json_doc *pat = zv_json_parse_file(
        ZV_SRC_DIR "/tests/fixtures/fhir/nictiz/nl-core-Patient-01.json", 0, err, sizeof(err));
    zv_json_doc *lit = zv_json_parse(LITERAL, strlen(LITERAL), 0, err, sizeof(err));
    if (!conf || !pat || !lit) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    zv_mapping *sel = compile(zv_json_pointer(zv_json_root(conf), "/sources/0/mapping"));
    zv_mapping *plain = compile(zv_json_root(lit));
    if (!sel || !plain) return 1;
    printf("nl-core-Patient-01, %ld iterations each\n", n);
    run("literal paths (old style)", plain, zv_json_root(pat), n);
    run("conf/fhir-nl-core.conf", sel, zv_json_root(pat), n);
    zv_mapping_free(sel);
    zv_mapping_free(plain);
    zv_json_free(conf);
    zv_json_free(pat);
    zv_json_free(lit);
    return 0;
}
