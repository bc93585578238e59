/*
 * zinvolctl disclose BSN [--from D] [--to D] [--format text|json|html|pdf]
 * [--output FILE]: what was sent about one client (AVG art. 15), written
 * for the client in plain Dutch.  Messages come from the audit trail (kept
 * for good, by pseudonymous client key) and from the outbox for what is not
 * delivered yet; values are shown while the payload is retained.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/client_key.h"
#include "audit/collect.h"
#include "ctl.h"
#include "audit/disclose.h"
#include "ctl_pdf.h"

static int usage(zv_ctl *c)
{
    fprintf(stderr,
            "usage: %s [-c CONFIG] disclose BSN [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
            "       [--format text|json|html|pdf] [--output FILE]\n",
            c->prog);
    return 2;
}

static int parse_args(zv_ctl *c, int argc, char **argv, zv_disclose_opts *o)
{
    static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
                                         {"to", required_argument, NULL, 't'},
                                         {"format", required_argument, NULL, 'F'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    char **args = calloc((size_t)argc + 2, sizeof(char *));
    if (!args) return -1;
    args[0] = (char *)"disclose";
    for (int i = 0; i < argc; i++)
        args[i + 1] = argv[i];
    /* 0, not 1: glibc then forgets the '+' mode main() parsed with, so the
     * BSN may stand before or after the options. */
    optind = 0;
    opterr = 0;
    int ch, rc = 0;
    while (rc == 0 && (ch = getopt_long(argc + 1, args, "", opts, NULL)) != -1) {
        if (ch == 'f' && zv_disclose_date_bound(optarg, 0, &o->from) == 0) continue;
        if (ch == 't' && zv_disclose_date_bound(optarg, 1, &o->to) == 0) continue;
        if (ch == 'F') {
            o->format = optarg;
            continue;
        }
        if (ch == 'o') {
            o->output = optarg;
            continue;
        }
        if (ch == 'f' || ch == 't')
            fprintf(stderr, "%s: disclose: %s is not a date (YYYY-MM-DD)\n", c->prog, optarg);
        else
            fprintf(stderr, "%s: disclose: unknown option %s\n", c->prog, args[optind - 1]);
        rc = -1;
    }
    if (rc == 0 && optind == argc) {
        o->bsn = args[optind];
    } else if (rc == 0) {
        fprintf(stderr, "%s: disclose: give exactly one BSN\n", c->prog);
        rc = -1;
    }
    free(args);
    if (rc == 0 && strcmp(o->format, "text") && strcmp(o->format, "json") &&
        strcmp(o->format, "html") && strcmp(o->format, "pdf")) {
        fprintf(stderr, "%s: disclose: --format must be text, json, html or pdf\n", c->prog);
        rc = -1;
    }
    if (rc == 0 && strcmp(o->format, "pdf") == 0 && !o->output) {
        fprintf(stderr, "%s: disclose: --format pdf needs --output FILE\n", c->prog);
        rc = -1;
    }
    return rc;
}

int zv_ctl_disclose(zv_ctl *c, int argc, char **argv)
{
    zv_disclose_opts o = {.format = "text"};
    if (parse_args(c, argc, argv, &o) < 0) return usage(c);
    if (zv_ctl_need_store(c) < 0) return 1;
    zv_errors errs;
    zv_errors_init(&errs);
    zv_audit_collected *col = NULL;
    /* Citations come from the current catalogues; without them the report
     * still lists every message, with the level the trail recorded. */
    if (zv_audit_collect(c->cfg, NULL, 1, time(NULL), &col, &errs) < 0)
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s: disclose: %s\n", c->prog, errs.lines[i]);
    zv_errors_free(&errs);
    zv_buf out;
    zv_buf_init(&out);
    char err[512];
    int rc = zv_disclose_build(c->cfg, col ? zv_audit_collected_input(col) : NULL, c->store, &o,
                               &out, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "%s: disclose: %s\n", c->prog, err);
    } else if (!strcmp(o.format, "pdf")) {
        rc = zv_ctl_print_pdf(c->prog, "disclose", &out, o.output);
    } else if (o.output) {
        FILE *f = fopen(o.output, "wb");
        int ok = f && fwrite(out.data, 1, out.len, f) == out.len;
        if (f && fclose(f) != 0) ok = 0;
        if (!ok)
            fprintf(stderr, "%s: disclose: cannot write %s: %s\n", c->prog, o.output,
                    strerror(errno));
        rc = ok ? 0 : -1;
    } else {
        rc = fwrite(out.data, 1, out.len, stdout) == out.len ? 0 : -1;
    }
    zv_buf_free(&out);
    zv_audit_collected_free(col);
    return rc < 0 ? 1 : 0;
}
