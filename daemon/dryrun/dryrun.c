/*
 * zinvold --dry-run, see dryrun.h.  The runtime is built in ZV_RT_DRY mode:
 * mappings, catalogues and minimisers as in the daemon, format plugins
 * created with a host table whose render results are printed instead of
 * queued, sources and transports never created.  No store is opened.
 */
#include "core/plugin_loader.h"
#include "dryrun.h"
#include "dryrun_int.h"
#include "core/log.h"

#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zinvol/util.h>

dry_run *zv_dry_current;

void zv_dry_print_value(FILE *out, const zv_field_def *def, const char *value)
{
    char masked[32];
    if (def && def->type == ZV_T_BSN) {
        fputs(zv_bsn_mask(value, masked, sizeof(masked)), out);
        return;
    }
    /* Free text may carry a BSN too. */
    char *copy = strdup(value);
    if (!copy) return;
    zv_bsn_scrub(copy);
    fprintf(out, strpbrk(copy, " \t\"") ? "\"%s\"" : "%s", copy);
    free(copy);
}

static void print_record(FILE *out, const char *what, const zv_record *rec)
{
    fprintf(out, "  %s (%s):", what, zv_kind_name(rec->kind));
    for (int f = 0; f < ZV_FIELD_COUNT; f++) {
        const char *v = zv_rec_str(rec, (zv_field_id)f);
        if (!v) continue;
        const zv_field_def *def = zv_field_def_of((zv_field_id)f);
        fprintf(out, " %s=", def->name);
        zv_dry_print_value(out, def, v);
    }
    fputc('\n', out);
}

/* "sends a, b; drops c" for one destination's minimised copy. */
static void print_minimised(FILE *out, const zv_record *rec, const zv_record *min)
{
    const char *sep = " sends";
    for (int f = 0; f < ZV_FIELD_COUNT; f++)
        if (zv_rec_get(min, (zv_field_id)f)) {
            fprintf(out, "%s %s", sep, zv_field_def_of((zv_field_id)f)->name);
            sep = ",";
        }
    sep = "; drops";
    for (int f = 0; f < ZV_FIELD_COUNT; f++)
        if (zv_rec_get(rec, (zv_field_id)f) && !zv_rec_get(min, (zv_field_id)f)) {
            fprintf(out, "%s %s", sep, zv_field_def_of((zv_field_id)f)->name);
            sep = ",";
        }
    fputc('\n', out);
}

static int stage(dry_msg *m, zv_record *min, size_t row)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        dry_staged *v = realloc(m->v, cap * sizeof(*v));
        if (!v) return -1;
        m->v = v;
        m->cap = cap;
    }
    m->v[m->n++] = (dry_staged){min, row};
    return 0;
}

/* The pipeline's routing (match, classify, minimise) for one record. */
static int route(dry_run *dr, const zv_record *rec, size_t row)
{
    FILE *out = dr->out;
    char field[128], reason[512];
    for (size_t i = 0; i < dr->rt->ndests; i++) {
        zv_dest_rt *d = &dr->rt->dests[i];
        if (!zv_dest_matches(d, rec)) {
            fprintf(out, "  -> %s: not for this destination (match)\n", d->conf->name);
            continue;
        }
        int m = d->fmt.desc->format->classify(d->fmt.state, rec);
        if (m < 0 || (size_t)m >= d->nmsg) {
            fprintf(out, "  -> %s: the %s format takes no message for it\n", d->conf->name,
                    d->conf->format);
            continue;
        }
        zv_record *min = NULL;
        field[0] = reason[0] = '\0';
        zv_min_result r =
            zv_minimise(d->mins[m], rec, &min, field, sizeof(field), reason, sizeof(reason));
        if (r == ZV_MIN_ERROR) return -1;
        if (r == ZV_MIN_MISSING) {
            dr->q_minimiser++;
            fprintf(out, "  QUARANTINE %s at minimiser (%s): %s%s%s\n", dr->rows[row],
                    d->conf->name, field, field[0] ? ": " : "", reason);
            continue;
        }
        fprintf(out, "  -> %s %s:", d->conf->name, zv_plugin_message(d->fmt.desc, (size_t)m)->name);
        print_minimised(out, rec, min);
        if (stage(&dr->msgs[i][m], min, row) < 0) {
            zv_record_free(min);
            return -1;
        }
    }
    return 0;
}

static int add_row(dry_run *dr, const zv_item *item, const char *rid)
{
    if (dr->nrows == dr->caprows) {
        size_t cap = dr->caprows ? dr->caprows * 2 : 64;
        char **v = realloc(dr->rows, cap * sizeof(*v));
        if (!v) return -1;
        dr->rows = v;
        dr->caprows = cap;
    }
    char label[600];
    snprintf(label, sizeof(label), "%s%s%s%s", item->record_id ? item->record_id : "item",
             rid ? " (record " : "", rid ? rid : "", rid ? ")" : "");
    zv_bsn_scrub(label);
    if (!(dr->rows[dr->nrows] = strdup(label))) return -1;
    dr->nrows++;
    return 0;
}

/* host->emit of the dry run: map, print, route; nothing is stored. */
int zv_dry_emit(zv_ctx *ctx, const zv_item *item)
{
    dry_run *dr = zv_dry_current;
    if (!dr || ctx->src != dr->src) return -1;
    char rid[256];
    int has_rid = zv_mapping_record_id(dr->src->mapping, item, rid, sizeof(rid)) > 0;
    if (add_row(dr, item, has_rid ? rid : NULL) < 0) return -1;
    size_t row = dr->nrows - 1;
    fprintf(dr->out, "\n%s\n", dr->rows[row]);
    char field[128] = "", reason[512] = "";
    zv_record *rec = zv_mapping_apply(dr->src->mapping, item, zv_now(), field, sizeof(field),
                                      reason, sizeof(reason));
    if (!rec) {
        dr->q_mapping++;
        fprintf(dr->out, "  QUARANTINE %s at mapping: %s%s%s\n", dr->rows[row], field,
                field[0] ? ": " : "", reason[0] ? reason : "mapping failed");
        return ZV_EMIT_QUARANTINED;
    }
    dr->mapped++;
    print_record(dr->out, "mapped", rec);
    int r = route(dr, rec, row);
    zv_record_free(rec);
    return r < 0 ? -1 : ZV_EMIT_STAGED;
}

static int dry_commit(zv_ctx *ctx)
{
    (void)ctx;
    return 0;
}

static int dry_watermark_get(zv_ctx *ctx, const char *key, char *buf, size_t buflen)
{
    (void)ctx;
    (void)key;
    (void)buf;
    (void)buflen;
    return 0;
}

static int dry_watermark_set(zv_ctx *ctx, const char *key, const char *value)
{
    (void)ctx;
    (void)key;
    (void)value;
    return 0;
}

/* Copy the regular files of the instance's real state directory (read
 * only) into its scratch one, so that e.g. a stop finds the start the
 * daemon sent earlier.  Missing: nothing to copy. */
static void copy_state(const char *from, const char *to)
{
    DIR *d = opendir(from);
    if (!d) return;
    struct dirent *e;
    char src[4096], dst[4096], buf[65536];
    while ((e = readdir(d))) {
        snprintf(src, sizeof(src), "%s/%s", from, e->d_name);
        snprintf(dst, sizeof(dst), "%s/%s", to, e->d_name);
        struct stat st;
        if (e->d_name[0] == '.' || stat(src, &st) < 0 || !S_ISREG(st.st_mode)) continue;
        FILE *in = fopen(src, "rb"), *out = in ? fopen(dst, "wb") : NULL;
        size_t n;
        while (out && (n = fread(buf, 1, sizeof(buf), in)) > 0)
            fwrite(buf, 1, n, out);
        if (out) fclose(out);
        if (in) fclose(in);
    }
    closedir(d);
}

/* Formats that keep state (fmt_ijw's started products) get a scratch
 * directory in memory-backed /dev/shm (else $TMPDIR) with a copy of their
 * real state, removed at the end: the real state directory is only read. */
static const char *dry_state_dir(zv_ctx *ctx)
{
    dry_run *dr = zv_dry_current;
    if (!dr) return NULL;
    if (!dr->scratch) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
        char tmpl[4096];
        snprintf(tmpl, sizeof(tmpl), "%s/zinvol-dry-run-XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(tmpl)) return NULL;
        dr->scratch = strdup(tmpl);
    }
    if (ctx->state_dir) return ctx->state_dir;
    /* The daemon's layout: <state_dir>/plugins/<kind>/<name>. */
    size_t len = strlen(dr->scratch) + strlen(ctx->component) + 2;
    if (!(ctx->state_dir = malloc(len))) return NULL;
    snprintf(ctx->state_dir, len, "%s/%s", dr->scratch, ctx->component);
    if (zv_mkdir_p(ctx->state_dir, 0700) < 0) return NULL;
    char real[4096];
    snprintf(real, sizeof(real), "%s/plugins/%s", ctx->rt->cfg->state_dir, ctx->component);
    copy_state(real, ctx->state_dir);
    return ctx->state_dir;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static zv_source_rt *pick_source(zv_runtime *rt, const char *name)
{
    if (!name) return rt->nsources == 1 ? &rt->sources[0] : NULL;
    for (size_t i = 0; i < rt->nsources; i++)
        if (strcmp(rt->sources[i].conf->name, name) == 0) return &rt->sources[i];
    return NULL;
}

static void print_summary(dry_run *dr)
{
    fprintf(dr->out,
            "\nsummary: %zu rows read, %lld mapped; quarantined: %lld at mapping, %lld at the "
            "minimiser, %lld by a rule or schema; %lld messages would be queued. Nothing was "
            "stored or sent.\n",
            dr->nrows, (long long)dr->mapped, (long long)dr->q_mapping,
            (long long)dr->q_minimiser, (long long)dr->q_rule, (long long)dr->payloads);
}

static void free_run(dry_run *dr)
{
    for (size_t i = 0; dr->msgs && i < dr->rt->ndests; i++) {
        for (size_t m = 0; dr->msgs[i] && m < dr->rt->dests[i].nmsg; m++) {
            for (size_t k = 0; k < dr->msgs[i][m].n; k++)
                zv_record_free(dr->msgs[i][m].v[k].rec);
            free(dr->msgs[i][m].v);
        }
        free(dr->msgs[i]);
    }
    free(dr->msgs);
    for (size_t i = 0; i < dr->nrows; i++)
        free(dr->rows[i]);
    free(dr->rows);
}

static int run(dry_run *dr, const char *input)
{
    dr->msgs = calloc(dr->rt->ndests ? dr->rt->ndests : 1, sizeof(*dr->msgs));
    if (!dr->msgs) return 1;
    for (size_t i = 0; i < dr->rt->ndests; i++)
        if (!(dr->msgs[i] = calloc(dr->rt->dests[i].nmsg + 1, sizeof(dry_msg)))) return 1;
    fprintf(dr->out, "zinvold --dry-run: source %s (%s), input %s; nothing is stored or sent\n",
            dr->src->conf->name, dr->src->conf->type, input);
    if (strcmp(dr->src->conf->type, "filedrop") != 0)
        fprintf(dr->out, "note: %s is a %s source; the input is read the way the file-drop "
                         "source reads a drop (JSON lines give the same paths as webhook bodies)\n",
                dr->src->conf->name, dr->src->conf->type);
    char why[512] = "";
    if (zv_dry_read_input(dr, input, why, sizeof(why)) < 0) {
        fprintf(stderr, "zinvold: %s: %s\n", input, why);
        fprintf(dr->out, "\nthe file-drop source would reject %s: %s\n", input, why);
        return 1;
    }
    zv_dry_render_all(dr);
    print_summary(dr);
    return dr->failed ? 1 : 0;
}

int zv_dry_run(const char *config_file, const zv_config_overrides *ov, int log_level,
               const char *source, const char *input, struct event_base *base, FILE *out)
{
    dry_run dr = {.out = out, .host = zv_core_host};
    dr.host.emit = zv_dry_emit;
    dr.host.commit = dry_commit;
    dr.host.watermark_get = dry_watermark_get;
    dr.host.watermark_set = dry_watermark_set;
    dr.host.event_once = NULL; /* a dry run remembers nothing */
    dr.host.add_payload = zv_dry_add_payload;
    dr.host.reject_record = zv_dry_reject;
    dr.host.rendered_fields = zv_dry_rendered_fields;
    /* An aggregate format then names its records in payloads, as the dry
     * run's summary counts them. */
    dr.host.not_counted = NULL;
    dr.host.state_dir = dry_state_dir;
    zv_dry_current = &dr;
    zv_errors errs;
    zv_errors_init(&errs);
    int status = 1;
    zv_config *cfg = zv_config_load(config_file, ov, &errs);
    if (cfg) {
        zv_log_set_level(log_level >= 0 ? (zv_log_level)log_level : ZV_LOG_WARN);
        dr.rt = zv_runtime_build_host(cfg, base, ZV_RT_DRY, &dr.host, &errs);
    }
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.lines[i]);
    zv_errors_free(&errs);
    if (dr.rt && !(dr.src = pick_source(dr.rt, source))) {
        if (source)
            fprintf(stderr, "zinvold: --source %s: no such source in %s\n", source, config_file);
        else
            fprintf(stderr, "zinvold: %s has %zu sources: name one with --source\n", config_file,
                    dr.rt->nsources);
        status = 2;
    } else if (dr.rt) {
        status = run(&dr, input);
    }
    if (dr.rt) free_run(&dr);
    zv_runtime_free(dr.rt);
    if (dr.scratch) {
        nftw(dr.scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(dr.scratch);
    }
    zv_dry_current = NULL;
    return status;
}
