/* Retour messages that arrive as files (zinvolctl retour DEST FILE). */
#include "delivery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

struct rj {
    char *records_json;
};

static int take_records(const zv_outbox_row *r, void *arg)
{
    ((struct rj *)arg)->records_json = zv_strdup0(r->records_json);
    return 0;
}

static void print_line(FILE *out, const char *fmt, const char *key, const char *rest)
{
    char line[1024];
    snprintf(line, sizeof(line), fmt, key, rest ? rest : "");
    zv_bsn_scrub(line); /* record keys often start with a BSN */
    fprintf(out, "%s\n", line);
}

int zv_delivery_retour(zv_store *s, const char *destination, const zv_instance *fmt,
                       const char *body, size_t len, FILE *out, char *err, size_t errlen)
{
    return zv_delivery_retour_ex(s, destination, fmt, body, len, out, err, errlen, NULL);
}

int zv_delivery_retour_ex(zv_store *s, const char *destination, const zv_instance *fmt,
                          const char *body, size_t len, FILE *out, char *err, size_t errlen,
                          size_t *applied)
{
    if (applied) *applied = 0;
    if (!fmt || !fmt->desc || !fmt->desc->format || !fmt->desc->format->interpret) {
        snprintf(err, errlen, "%s: its format cannot read retour messages", destination);
        return -1;
    }
    zv_verdict_out v;
    zv_verdict_out_init(&v);
    zv_answer a = {ZV_SIZED(zv_answer), .status = 0, .body = body, .len = len};
    if (fmt->desc->format->interpret(fmt->state, &a, &v) < 0) {
        snprintf(err, errlen, "%s: the %s format could not read this retour message", destination,
                 fmt->desc->name);
        zv_verdict_out_free(&v);
        return -1;
    }
    int unmatched = 0, failed = 0;
    for (size_t i = 0; i < v.n && !failed; i++) {
        int64_t id = 0;
        int f = zv_store_outbox_find_record(s, destination, v.v[i].record_key, &id);
        if (f < 0) {
            snprintf(err, errlen, "%s", zv_store_errmsg(s));
            failed = 1;
            break;
        }
        if (f == 1) {
            unmatched++;
            print_line(out, "%s: no payload to this destination carried this record",
                       v.v[i].record_key, NULL);
            continue;
        }
        struct rj r = {0};
        zv_store_outbox_get(s, id, take_records, &r);
        zv_verdict_out one = {.v = &v.v[i], .n = 1, .cap = 1};
        int rej = 0;
        if (zv_delivery_apply_verdicts(s, id, r.records_json, &one, 0, &rej) < 0) {
            snprintf(err, errlen, "%s", zv_store_errmsg(s));
            failed = 1;
        } else if (v.v[i].accepted) {
            if (applied) (*applied)++;
            print_line(out, "%s: accepted%s", v.v[i].record_key, NULL);
        } else {
            if (applied) (*applied)++;
            char rest[600];
            snprintf(rest, sizeof(rest), " (codes %s) %s", v.v[i].codes ? v.v[i].codes : "-",
                     v.v[i].reason ? v.v[i].reason : "");
            print_line(out, "%s: REJECTED, to the dead letter%s", v.v[i].record_key, rest);
        }
        free(r.records_json);
    }
    if (!failed && v.n == 0) fprintf(out, "the retour message holds no verdicts\n");
    zv_verdict_out_free(&v);
    if (failed) return -1;
    return unmatched ? 1 : 0;
}
