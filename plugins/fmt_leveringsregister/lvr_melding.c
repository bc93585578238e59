/*
 * Error reports from the zorgkantoor (RFC0018 "foutmelding"): a zendMelding
 * mutation (iWlz-generiek netwerkpunt.graphql) of eventType IWLZFOUTMELDING
 * whose subjectList names per record the rule it breaks (subject, e.g.
 * "LRG0012") and the record (recordID, "Leveringperiode/<uuid>": the key our
 * notification of it carried).  Read as retour verdicts, each record goes to
 * the dead letter with the rule as code, like a rejection in an AW36.  The
 * same reader serves `zinvolctl retour <destination> FILE` with the request
 * body in the file.
 */
#include "lvr.h"

#include <stdio.h>
#include <string.h>

static int known_event(const lvr *l, const char *type)
{
    for (size_t i = 0; type && i < zv_json_len(l->melding_events); i++) {
        const char *e = zv_json_str(zv_json_at(l->melding_events, i), NULL);
        if (e && !strcmp(e, type)) return 1;
    }
    return 0;
}

int lvr_melding_verdicts(lvr *l, const char *body, size_t len, zv_verdict_out *out)
{
    char err[128];
    zv_json_doc *d = zv_json_parse(body, len, 0, err, sizeof(err));
    if (!d) return -1;
    const zv_json *vars = zv_json_get(zv_json_root(d), "variables");
    const zv_json *in = zv_json_get(vars, "meldingInput");
    if (!in) in = vars; /* the published example passes the fields one by one */
    const char *type = zv_json_str(zv_json_get(in, "eventType"), NULL);
    const zv_json *subjects = zv_json_get(in, "subjectList");
    if (!known_event(l, type) || zv_json_type_of(subjects) != ZV_JSON_ARRAY) {
        zv_json_free(d);
        return -1;
    }
    const char *from_t = zv_json_str(zv_json_get(in, "afzenderIDType"), NULL);
    const char *from = zv_json_str(zv_json_get(in, "afzenderID"), NULL);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < zv_json_len(subjects); i++) {
        const zv_json *s = zv_json_at(subjects, i);
        const char *rule = zv_json_str(zv_json_get(s, "subject"), NULL);
        const char *rec = zv_json_str(zv_json_get(s, "recordID"), NULL);
        if (!rule || !rec) {
            rc = -1;
            break;
        }
        char reason[256];
        snprintf(reason, sizeof(reason), "%s van %s %s: %s breekt regel %s", type,
                 from_t ? from_t : "?", from ? from : "?", rec, rule);
        rc = l->host->verdict(out, rec, 0, rule, reason) < 0 ? -1 : 0;
    }
    zv_json_free(d);
    return rc;
}
