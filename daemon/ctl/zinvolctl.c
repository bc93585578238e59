/* zinvolctl: the operator's command line.  See ctl.h. */
#include "ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/plugin_loader.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: zinvolctl [-c CONFIG] [--state-dir DIR] [--plugin-dir DIR] [--socket PATH]\n"
            "                 [--offline] [--json] COMMAND ...\n"
            "       zinvolctl --version | --help\n"
            "\n"
            "With a daemon running, commands go through its admin socket (admin.socket,\n"
            "default <state_dir>/admin.sock); without one they work on the store directly.\n"
            "\n"
            "commands:\n"
            "  status [--json]              the daemon, health, sources, destinations (backlog,\n"
            "                               oldest pending, circuit, last success/failure);\n"
            "                               exit 3 when degraded\n"
            "  outbox list [--destination D] [--state S] [--limit N]\n"
            "  outbox show ID|retry ID|drop ID  one payload; retry: try a pending one now;\n"
            "                               drop: discard a pending one (audited)\n"
            "  reload                       ask the running daemon to reload its config\n"
            "  quarantine list [--source S] [--stage S] [--destination D] [--reason TEXT]\n"
            "                  [--since DATE|DURATION] [--state open|waiting|closed|all|OUTCOME]\n"
            "                               records that failed mapping, the minimiser, a rule\n"
            "                               or the XSD, and records waiting for their day\n"
            "  quarantine show ID           one entry: raw item (BSNs masked), versions, reasons\n"
            "  quarantine export --format csv [filters] [--output FILE]\n"
            "                               the list for the team that fixes the ECD\n"
            "  quarantine retry ID|--all    the raw item again through the current config\n"
            "  quarantine drop ID           discard one (written to the audit trail)\n"
            "  source replay SOURCE FILE    process FILE again through the current config\n"
            "  dlq list | show ID           payloads a funder rejected or that expired\n"
            "  dlq retry ID|--all           queue them again (same idempotency key)\n"
            "  dlq drop ID                  discard one (written to the audit trail)\n"
            "  retour DESTINATION FILE      hand a retour message (AW36, AW310, ...) to the\n"
            "                               destination's format\n"
            "  audit [--format json|csv|html] [--output FILE]\n"
            "                               what is sent where, how strongly it is required,\n"
            "                               and what is redundant\n"
            "  audit verify                 check the hash chain of the audit trail\n"
            "  store check [--url URL] [--password-file F]\n"
            "                               backend, schema version, counts, audit chain\n"
            "  store copy --to URL [--password-file F]\n"
            "                               copy the SQLite store into an empty PostgreSQL\n"
            "                               database, then verify row counts and the chain\n"
            "  store copy --from URL --to FILE [--password-file F]\n"
            "                               the reverse: PostgreSQL into a new SQLite file\n"
            "  disclose BSN [--from D] [--to D] [--format text|json|html|pdf] [--output F]\n"
            "                               what was sent about one client, and why\n"
            "\n"
            "CONFIG defaults to " ZV_DEFAULT_CONFIG ".\n");
}

int zv_ctl_need_config(zv_ctl *c)
{
    if (c->cfg) return 0;
    zv_errors errs;
    zv_errors_init(&errs);
    c->cfg = zv_config_load(c->config_file, &c->ov, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.lines[i]);
    zv_errors_free(&errs);
    return c->cfg ? 0 : -1;
}

int zv_ctl_need_store(zv_ctl *c)
{
    if (c->store) return 0;
    if (zv_ctl_need_config(c) < 0) return -1;
    char err[512];
    c->store = zv_store_open(c->cfg->store_path, err, sizeof(err));
    if (!c->store) {
        fprintf(stderr, "%s: store %s: %s\n", c->prog, c->cfg->store_path, err);
        return -1;
    }
    return 0;
}

static int dispatch(zv_ctl *c, int argc, char **argv)
{
    const char *cmd = argv[0];
    if (strcmp(cmd, "quarantine") == 0) return zv_ctl_quarantine(c, argc - 1, argv + 1);
    if (strcmp(cmd, "dlq") == 0) return zv_ctl_dlq(c, argc - 1, argv + 1);
    if (strcmp(cmd, "source") == 0) return zv_ctl_source(c, argc - 1, argv + 1);
    if (strcmp(cmd, "retour") == 0) return zv_ctl_retour(c, argc - 1, argv + 1);
    if (strcmp(cmd, "disclose") == 0) return zv_ctl_disclose(c, argc - 1, argv + 1);
    if (strcmp(cmd, "status") == 0) return zv_ctl_status(c, argc - 1, argv + 1);
    if (strcmp(cmd, "outbox") == 0) return zv_ctl_outbox(c, argc - 1, argv + 1);
    if (strcmp(cmd, "store") == 0) return zv_ctl_store(c, argc - 1, argv + 1);
    if (strcmp(cmd, "reload") == 0) {
        if (argc != 1) {
            fprintf(stderr, "usage: zinvolctl reload\n");
            return 2;
        }
        int st;
        zv_json_doc *d = zv_ctl_call_json(c, "POST", "/api/reload", NULL, &st);
        const zv_json *r = d ? zv_json_root(d) : NULL;
        if (st == 202)
            printf("%s\n", zv_json_str(zv_json_get(r, "result"), NULL));
        else if (d)
            fprintf(stderr, "%s: %s\n", c->prog, zv_ctl_error_of(d));
        zv_json_free(d);
        return st == 202 ? 0 : 1;
    }
    if (strcmp(cmd, "audit") == 0) {
        if (argc > 1 && strcmp(argv[1], "verify") == 0)
            return zv_ctl_audit_verify(c, argc - 2, argv + 2);
        return zv_ctl_audit_report(c, argc - 1, argv + 1);
    }
    if (strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "%s: unknown command '%s'\n", c->prog, cmd);
    usage(stderr);
    return 2;
}

int main(int argc, char **argv)
{
    zv_ctl c = {.prog = "zinvolctl", .config_file = ZV_DEFAULT_CONFIG};
    c.ov.state_dir = getenv("ZINVOL_STATE_DIR");
    c.ov.plugin_dir = getenv("ZINVOL_PLUGIN_DIR");
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"state-dir", required_argument, 0, 's'},
                                         {"plugin-dir", required_argument, 0, 'p'},
                                         {"socket", required_argument, 0, 'S'},
                                         {"offline", no_argument, 0, 'O'},
                                         {"json", no_argument, 0, 'j'},
                                         {"version", no_argument, 0, 'V'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int o;
    /* '+' stops at the command so that its own options are left for it. */
    while ((o = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            c.config_file = optarg;
            break;
        case 's':
            c.ov.state_dir = optarg;
            break;
        case 'p':
            c.ov.plugin_dir = optarg;
            break;
        case 'S':
            c.socket = optarg;
            break;
        case 'O':
            c.offline = 1;
            break;
        case 'j':
            c.json = 1;
            break;
        case 'V':
            printf("zinvolctl %s\n", ZV_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    zv_log_set_level(ZV_LOG_WARN);
    int rc = dispatch(&c, argc - optind, argv + optind);
    zv_ctl_finish(&c);
    if (c.store) zv_store_close(c.store);
    zv_config_free(c.cfg);
    zv_plugins_unload_all();
    return rc;
}
