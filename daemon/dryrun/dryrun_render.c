/*
 * The end of a dry run: per destination and message, the records it would
 * send are rendered by the real format plugin; the payloads are printed
 * (BSNs masked) instead of queued, rejected records are reported as the
 * quarantine entries they would become.
 */
#include "core/plugin_loader.h"
#include "dryrun_int.h"

#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

/* Handed to the format as its zv_render_out (opaque to plugins). */
typedef struct dry_out {
    dry_run *dr;
    zv_dest_rt *dest;
    const zv_batch *batch;
    const dry_staged *const *staged; /* per batch record */
    char *rejected;                  /* per batch record */
    int bad;                         /* the plugin broke the render contract */
    size_t npayloads;
    int quiet; /* isolating a failed render: print nothing */
} dry_out;

static const char *stage_of(const char *rule)
{
    return rule && strcmp(rule, "XSD") == 0 ? "schema" : "rule";
}

int zv_dry_reject(zv_render_out *o, size_t index, const char *rule, const char *field,
                  const char *reason)
{
    dry_out *out = (dry_out *)o;
    if (index >= out->batch->n) {
        out->bad = 1;
        return -1;
    }
    if (out->rejected[index]) return 0;
    out->rejected[index] = 1;
    if (out->quiet) return 0;
    char why[1024];
    snprintf(why, sizeof(why), "%s", reason ? reason : "rejected by the format");
    zv_bsn_scrub(why);
    out->dr->q_rule++;
    fprintf(out->dr->out, "  QUARANTINE %s at %s (%s): %s%s%s%s%s\n",
            out->dr->rows[out->staged[index]->row], stage_of(rule), out->dest->conf->name,
            rule ? rule : "", rule ? " " : "", field ? field : "", field ? ": " : "", why);
    return 0;
}

/* The dry run prints payloads, not the trail: the report is only checked. */
int zv_dry_rendered_fields(zv_render_out *o, size_t index, const zv_field_id *fields, size_t n)
{
    dry_out *out = (dry_out *)o;
    if (index >= out->batch->n || (n && !fields)) {
        out->bad = 1;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((int)fields[i] < 0 || fields[i] >= ZV_FIELD_COUNT ||
            !zv_rec_get(out->batch->records[index], fields[i])) {
            fprintf(out->dr->out, "  error: the format reported a field the record lacks\n");
            out->bad = 1;
            return -1;
        }
    return 0;
}

int zv_dry_add_payload(zv_render_out *o, const zv_payload_spec *p)
{
    dry_out *out = (dry_out *)o;
    FILE *f = out->dr->out;
    if (!p->data || !p->idem_key || !*p->idem_key || !p->nrecords) {
        fprintf(f, "  error: the format produced a payload without data, key or records\n");
        out->bad = 1;
        return -1;
    }
    for (size_t i = 0; i < p->nrecords; i++)
        if (p->records[i] >= out->batch->n || out->rejected[p->records[i]]) {
            fprintf(f, "  error: payload %s carries a record that is unknown or rejected\n",
                    p->idem_key);
            out->bad = 1;
            return -1;
        }
    out->npayloads++;
    if (out->quiet) return 0;
    out->dr->payloads++;
    fprintf(f, "  message %s: %s, %zu bytes, %zu records:", p->idem_key,
            p->content_type ? p->content_type : "application/octet-stream", p->len, p->nrecords);
    for (size_t i = 0; i < p->nrecords; i++)
        fprintf(f, "%s %s", i ? "," : "", out->dr->rows[out->staged[p->records[i]]->row]);
    char *text = malloc(p->len + 1);
    if (!text) {
        out->dr->failed = 1;
        return -1;
    }
    memcpy(text, p->data, p->len);
    text[p->len] = '\0';
    zv_bsn_scrub(text);
    fprintf(f, "\n%s%s", text, p->len && text[p->len - 1] == '\n' ? "" : "\n");
    free(text);
    return 0;
}

static int render(dry_run *dr, zv_dest_rt *d, int m, const dry_staged *const *recs, size_t n,
                  int quiet)
{
    const zv_record **rv = malloc(n * sizeof(*rv));
    char *rejected = calloc(n, 1);
    int rc = -1;
    if (!rv || !rejected) goto done;
    for (size_t i = 0; i < n; i++)
        rv[i] = recs[i]->rec;
    zv_batch b = {ZV_SIZED(zv_batch), d->conf->name, "dry-run", m, zv_now(), n, rv};
    dry_out out = {dr, d, &b, recs, rejected, 0, 0, quiet};
    d->fmt.ctx->last_error[0] = '\0';
    rc = d->fmt.desc->format->render(d->fmt.state, &b, (zv_render_out *)&out) != 0 || out.bad
             ? -1
             : 0;
done:
    free(rv);
    free(rejected);
    return rc;
}

/* As the daemon does when a render fails as a whole: render each record
 * alone and report the ones that fail as quarantined with the format's
 * last error; the others go out one per message here. */
static void isolate(dry_run *dr, zv_dest_rt *d, int m, const dry_staged *const *recs, size_t n)
{
    fprintf(dr->out, "  the batch does not render as a whole; record by record:\n");
    for (size_t i = 0; i < n; i++) {
        if (render(dr, d, m, &recs[i], 1, 1) == 0) {
            render(dr, d, m, &recs[i], 1, 0);
            continue;
        }
        dr->q_rule++;
        fprintf(dr->out, "  QUARANTINE %s at render (%s): %s\n", dr->rows[recs[i]->row],
                d->conf->name,
                d->fmt.ctx->last_error[0] ? d->fmt.ctx->last_error : "the format failed");
    }
}

void zv_dry_render_all(dry_run *dr)
{
    for (size_t i = 0; i < dr->rt->ndests; i++) {
        zv_dest_rt *d = &dr->rt->dests[i];
        for (size_t m = 0; m < d->nmsg; m++) {
            dry_msg *q = &dr->msgs[i][m];
            if (!q->n) continue;
            fprintf(dr->out, "\n== %s: %s, %zu records\n", d->conf->name,
                    zv_plugin_message(d->fmt.desc, (size_t)m)->name, q->n);
            const dry_staged **recs = malloc(q->n * sizeof(*recs));
            if (!recs) {
                dr->failed = 1;
                return;
            }
            for (size_t k = 0; k < q->n; k++)
                recs[k] = &q->v[k];
            /* Quietly first: a render that fails as a whole queues nothing. */
            if (render(dr, d, (int)m, recs, q->n, 1) == 0)
                render(dr, d, (int)m, recs, q->n, 0);
            else
                isolate(dr, d, (int)m, recs, q->n);
            free(recs);
        }
    }
}
