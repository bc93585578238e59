/* zinvolctl audit [--format json|csv|html|pdf] [--output FILE] [--period-days N]:
 * the redundancy report for the configured installation. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "audit/audit.h"
#include "audit/collect.h"
#include "ctl.h"
#include "ctl_pdf.h"

static int usage(zv_ctl *c)
{
    fprintf(stderr,
            "usage: %s [-c CONFIG] audit [--format json|csv|html|pdf] [--output FILE] "
            "[--period-days N]\n",
            c->prog);
    return 2;
}

/* Write via a temporary file and rename, so a reader never sees half a report. */
static int write_file(const char *prog, const char *path, const zv_buf *b)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) return -1;
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    int rc = -1;
    if (f) {
        int ok = fwrite(b->data, 1, b->len, f) == b->len;
        ok &= fclose(f) == 0;
        if (ok && rename(tmp, path) == 0) rc = 0;
    }
    if (rc < 0) {
        fprintf(stderr, "%s: audit: cannot write %s: %s\n", prog, path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

static int parse_args(zv_ctl *c, int argc, char **argv, const char **format, const char **output,
                      int *period)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"period-days", required_argument, NULL, 'p'},
                                         {NULL, 0, NULL, 0}};
    /* argv[0] is the first argument after "audit"; getopt skips argv[0]. */
    char **args = calloc((size_t)argc + 2, sizeof(char *));
    if (!args) return -1;
    args[0] = (char *)"audit";
    for (int i = 0; i < argc; i++)
        args[i + 1] = argv[i];
    optind = 1;
    int ch, rc = 0;
    char *end;
    while ((ch = getopt_long(argc + 1, args, "f:o:p:", opts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            *format = optarg;
            break;
        case 'o':
            *output = optarg;
            break;
        case 'p':
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || v < 1 || v > 36500) {
                fprintf(stderr, "%s: audit: --period-days wants a number of days (1..36500)\n",
                        c->prog);
                rc = -1;
            }
            *period = (int)v;
            break;
        default:
            rc = -1;
        }
    }
    if (rc == 0 && optind < argc + 1) {
        fprintf(stderr, "%s: audit: unexpected argument '%s'\n", c->prog, args[optind]);
        rc = -1;
    }
    if (rc == 0 && strcmp(*format, "json") && strcmp(*format, "csv") && strcmp(*format, "html") &&
        strcmp(*format, "pdf")) {
        fprintf(stderr, "%s: audit: unknown format '%s' (json, csv, html or pdf)\n", c->prog,
                *format);
        rc = -1;
    }
    if (rc == 0 && !strcmp(*format, "pdf") && !*output) {
        fprintf(stderr, "%s: audit: --format pdf needs --output FILE\n", c->prog);
        rc = -1;
    }
    free(args);
    return rc;
}

static int render(const char *format, const zv_audit_report *r, zv_buf *b)
{
    if (!strcmp(format, "csv")) return zv_audit_render_csv(r, b);
    if (!strcmp(format, "html") || !strcmp(format, "pdf")) return zv_audit_render_html(r, b);
    return zv_audit_render_json(r, b);
}

int zv_ctl_audit_report(zv_ctl *c, int argc, char **argv)
{
    const char *format = "json", *output = NULL;
    int period = 30;
    if (parse_args(c, argc, argv, &format, &output, &period) < 0) return usage(c);
    if (zv_ctl_need_store(c) < 0) return 1;
    zv_errors errs;
    zv_errors_init(&errs);
    zv_audit_collected *col = NULL;
    int rc = zv_audit_collect(c->cfg, c->store, period, zv_now(), &col, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.lines[i]);
    zv_errors_free(&errs);
    if (rc < 0) {
        if (!col) fprintf(stderr, "%s: audit: could not collect the report's input\n", c->prog);
        return 1;
    }
    zv_audit_report *r = zv_audit_analyse(zv_audit_collected_input(col));
    zv_buf b;
    zv_buf_init(&b);
    rc = r ? render(format, r, &b) : -1;
    if (rc < 0) {
        fprintf(stderr, "%s: audit: out of memory\n", c->prog);
    } else if (!strcmp(format, "pdf")) {
        rc = zv_ctl_print_pdf(c->prog, "audit", &b, output);
        if (rc == 0)
            fprintf(stderr, "%s: audit: %zu fields, %zu flags -> %s\n", c->prog, r->nrows,
                    r->nflags, output);
    } else if (output) {
        rc = write_file(c->prog, output, &b);
        if (rc == 0)
            fprintf(stderr, "%s: audit: %zu fields, %zu flags -> %s\n", c->prog, r->nrows,
                    r->nflags, output);
    } else if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
        rc = -1;
    }
    zv_buf_free(&b);
    zv_audit_report_free(r);
    zv_audit_collected_free(col);
    return rc < 0 ? 1 : 0;
}
