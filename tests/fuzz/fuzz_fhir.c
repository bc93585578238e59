/* The fhir source's flattener and the mapping's selectors: the input is one
 * FHIR resource as a server sends it.  It is flattened as in_fhir does
 * (fhir_flat.c), mapped with an nl-core mapping full of selectors, joins
 * and alternatives (as conf/fhir-nl-core.conf), and pruned to what the
 * mapping reads for the quarantine.  Nothing may read outside the values;
 * bad text must end as an error item. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fhir.h"
#include "mapping/mapping.h"

static const char *SPEC =
    "{\"on_error\": \"drop\", \"records\": [{\"kind\": \"client\", \"fields\": {"
    " \"client.bsn\": {\"from\": [\"Patient.identifier[system=http://fhir.nl/fhir/NamingSystem/bsn]"
    ".value\", \"Patient.identifier[bsn][1].value\"]},"
    " \"client.family_name\": {\"from\": [\"Patient.name[use=official].family.extension"
    "[humanname-own-name].value\", \"Patient.name[use=official].family\"]},"
    " \"client.given_names\": {\"from\": \"Patient.name[use=official].given[extension"
    "[iso21090-EN-qualifier].value!=IN]\", \"join\": \" \"},"
    " \"client.initials\": {\"from\": [\"Patient.name[use=official,family!=*].given[extension"
    "[iso21090-EN-qualifier].value=IN]\", \"Patient.name[*].given[*]\"], \"join\": \" \","
    " \"convert\": [\"initials\"]},"
    " \"client.postcode\": {\"from\": \"Patient.address[use=home,type!=postal].postalCode\","
    " \"country\": \"Patient.address[use=home,type!=postal].country\"},"
    " \"client.birth_date\": \"Patient.birthDate\","
    " \"client.deceased\": {\"from\": \"Patient.deceased\", \"map\": {\"false\": \"N\"},"
    " \"map_default\": \"J\"},"
    " \"client.replaced_by\": \"Patient.link[type=replaced-by].other.reference\"}}]}";

static zv_mapping *mapping(void)
{
    static zv_mapping *m;
    if (!m) {
        char err[128];
        zv_json_doc *d = zv_json_parse(SPEC, strlen(SPEC), 0, err, sizeof err);
        zv_errors e;
        zv_errors_init(&e);
        m = zv_mapping_compile(zv_json_root(d), "fuzz", "fuzz", "mapping", &e);
        zv_errors_free(&e);
        zv_json_free(d);
        if (!m) abort();
    }
    return m;
}

static void drop(void *arg, const char *field, const char *reason)
{
    (void)arg, (void)field, (void)reason;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    zv_json_doc *doc = zv_json_parse((const char *)data, size, 0, err, sizeof err);
    if (!doc) return 0;
    fh_flat f;
    fh_flat_init(&f);
    /* Under its own resourceType, and as an EpisodeOfCare's patient. */
    for (int root = 0; root < 2; root++) {
        if (fh_flatten(&f, zv_json_root(doc), root ? "Patient" : NULL) < 0) continue;
        int rc = f.bad[0] ? fh_flat_error(&f, "Patient", "x") : fh_flat_finish(&f);
        if (rc < 0) abort();
        for (size_t i = 0; i < f.n; i++)
            if (strlen(f.fields[i].value) != f.fields[i].len) abort();
        zv_item it = {ZV_SIZED(zv_item), "Patient", "Patient/x",
                      f.fields,          f.n,       sizeof(zv_item_field)};
        char field[128], reason[512];
        zv_record *r = zv_mapping_apply_ex(mapping(), &it, 1700000000, field, sizeof field, reason,
                                           sizeof reason, drop, NULL);
        zv_record_free(r);
        free(zv_mapping_item_json(mapping(), &it));
        fh_flat_reset(&f);
    }
    fh_flat_free(&f);
    zv_json_free(doc);
    return 0;
}
