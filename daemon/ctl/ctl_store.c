/*
 * zinvolctl store check | copy: the store through the store interface.
 *
 *   store check [--url URL] [--password-file F]
 *       opens the configured store (or URL), migrating it to this build's
 *       schema; prints backend, schema version, outbox and dead letter
 *       counts and whether the audit chain holds.  Exit 1 when it does not.
 *   store copy --to URL [--password-file F]
 *       copies the configured SQLite store into an empty PostgreSQL
 *       database and verifies the copy (row counts, chain).
 *   store copy --from URL --to FILE [--password-file F]
 *       the reverse: a PostgreSQL store into a new SQLite file, verified the
 *       same way (the file's chain, its rows against the snapshot copied).
 */
#include "ctl.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/store_iface.h"
#ifdef ZV_HAVE_POSTGRESQL
#include "store/pg/pg_copy.h"
#endif

struct store_opts {
    const char *url;
    const char *to;
    const char *from;
    const char *password_file;
};

static int parse_opts(int argc, char **argv, struct store_opts *o)
{
    static const struct option lo[] = {{"url", required_argument, 0, 'u'},
                                       {"to", required_argument, 0, 't'},
                                       {"from", required_argument, 0, 'f'},
                                       {"password-file", required_argument, 0, 'P'},
                                       {0, 0, 0, 0}};
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (ch == 'u')
            o->url = optarg;
        else if (ch == 't')
            o->to = optarg;
        else if (ch == 'f')
            o->from = optarg;
        else if (ch == 'P')
            o->password_file = optarg;
        else
            return -1;
    }
    return optind == argc ? 0 : -1;
}

static int usage(void)
{
    fprintf(stderr, "usage: zinvolctl store check [--url URL] [--password-file FILE]\n"
                    "       zinvolctl store copy --to URL [--password-file FILE]\n"
                    "       zinvolctl store copy --from URL --to FILE [--password-file FILE]\n");
    return 2;
}

static int print_state(zv_sb *b)
{
    static const char *const states[] = {"pending", "inflight", "delivered", "dead", "dropped"};
    printf("schema version %d\noutbox:", zv_sb_schema_version(b));
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        int64_t n = zv_sb_outbox_count(b, NULL, states[i]);
        if (n < 0) return -1;
        printf(" %" PRId64 " %s%s", n, states[i],
               i + 1 < sizeof(states) / sizeof(states[0]) ? "," : "\n");
    }
    int64_t d = zv_sb_dlq_count(b, NULL);
    if (d < 0) return -1;
    printf("dead letter: %" PRId64 "\n", d);
    int64_t n = 0, bad = 0;
    char why[512];
    int v = zv_sb_audit_verify(b, &n, &bad, why, sizeof(why));
    if (v < 0) return -1;
    if (v == 0)
        printf("audit trail: intact, %" PRId64 " entries\n", n);
    else
        printf("audit trail: BROKEN at entry %" PRId64 ": %s\n", bad, why);
    return v;
}

static int store_check(zv_ctl *c, const struct store_opts *o)
{
    if (!o->url && zv_ctl_need_config(c) < 0) return 1;
    const char *spec = o->url ? o->url : c->cfg->store_path;
    const char *pwf = o->url ? o->password_file : c->cfg->store_password_file;
    char err[512];
    zv_store_target t;
    if (zv_store_target_parse(spec, NULL, pwf, &t, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s: store: %s\n", c->prog, err);
        return 1;
    }
    zv_sb *b = zv_sb_open(&t, NULL, err, sizeof(err));
    zv_store_target_free(&t);
    if (!b) {
        fprintf(stderr, "%s: store: %s\n", c->prog, err);
        return 1;
    }
    printf("store: %s (%s)\n", spec,
           zv_sb_kind(b) == ZV_STORE_POSTGRESQL ? "postgresql" : "sqlite");
    int v = print_state(b);
    if (v < 0) fprintf(stderr, "%s: store: %s\n", c->prog, zv_sb_errmsg(b));
    zv_sb_close(b);
    return v == 0 ? 0 : 1;
}

#ifdef ZV_HAVE_POSTGRESQL
static void print_copy(const zv_copy_report *rep, const char *where)
{
    size_t n;
    const zv_copy_table *tab = zv_copy_tables(&n);
    for (size_t i = 0; i < n; i++)
        printf("  %-18s %" PRId64 " rows (as many as in the %s)\n", tab[i].name, rep->rows[i],
               where);
}

/* --from URL --to FILE: the database into a new SQLite file. */
static int store_copy_back(zv_ctl *c, const struct store_opts *o)
{
    char err[512];
    zv_store_target t;
    if (zv_store_target_parse(o->from, NULL, o->password_file, &t, err, sizeof(err)) < 0 ||
        (t.kind != ZV_STORE_POSTGRESQL &&
         snprintf(err, sizeof(err), "--from names a postgresql:// database") > 0)) {
        fprintf(stderr, "%s: store copy: %s\n", c->prog, err);
        zv_store_target_free(&t);
        return 2;
    }
    if (access(o->to, F_OK) == 0) {
        fprintf(stderr, "%s: store copy: %s exists: copy into a new file\n", c->prog, o->to);
        zv_store_target_free(&t);
        return 1;
    }
    zv_sb *src = zv_sb_open(&t, NULL, err, sizeof(err));
    zv_store_target_free(&t);
    zv_store *dst = src ? zv_store_open(o->to, err, sizeof(err)) : NULL;
    if (!dst) {
        fprintf(stderr, "%s: store copy: %s\n", c->prog, err);
        zv_sb_close(src);
        return 1;
    }
    zv_copy_report rep;
    int rc = zv_pg_copy_to_sqlite(src, dst, &rep, err, sizeof(err));
    char why[512] = "";
    int v = rc < 0 ? -1 : zv_pg_copy_verify_back(dst, &rep, why, sizeof(why));
    if (v < 0) {
        fprintf(stderr, "%s: store copy: %s\n", c->prog, rc < 0 ? err : zv_store_errmsg(dst));
    } else if (v > 0) {
        fprintf(stderr, "%s: store copy: the copy does not verify: %s\n", c->prog, why);
    } else {
        printf("copied %s to %s\n", o->from, o->to);
        print_copy(&rep, "database");
        printf("audit trail: intact in the copy, %" PRId64 " entries\n", rep.audit_entries);
    }
    zv_store_close(dst);
    zv_sb_close(src);
    /* A copy that failed leaves no file that looks like a store. */
    if (v != 0) {
        char side[1100];
        unlink(o->to);
        snprintf(side, sizeof(side), "%s-wal", o->to);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", o->to);
        unlink(side);
    }
    return v == 0 ? 0 : 1;
}
#endif

static int store_copy(zv_ctl *c, const struct store_opts *o)
{
    if (!o->to) return usage();
#ifdef ZV_HAVE_POSTGRESQL
    if (o->from) return store_copy_back(c, o);
    char err[512];
    zv_store_target t;
    if (zv_store_target_parse(o->to, NULL, o->password_file, &t, err, sizeof(err)) < 0 ||
        (t.kind != ZV_STORE_POSTGRESQL && snprintf(err, sizeof(err),
                                                   "--to names a postgresql:// "
                                                   "database") > 0)) {
        fprintf(stderr, "%s: store copy: %s\n", c->prog, err);
        zv_store_target_free(&t);
        return 2;
    }
    if (zv_ctl_need_store(c) < 0) {
        zv_store_target_free(&t);
        return 1;
    }
    zv_sb *dst = zv_sb_open(&t, NULL, err, sizeof(err));
    zv_store_target_free(&t);
    if (!dst) {
        fprintf(stderr, "%s: store copy: %s\n", c->prog, err);
        return 1;
    }
    zv_copy_report rep;
    int rc = zv_pg_copy_from_sqlite(c->store, dst, &rep);
    char why[512] = "";
    int v = rc < 0 ? -1 : zv_pg_copy_verify(c->store, dst, &rep, why, sizeof(why));
    if (v < 0) {
        fprintf(stderr, "%s: store copy: %s\n", c->prog, zv_sb_errmsg(dst));
    } else if (v > 0) {
        fprintf(stderr, "%s: store copy: the copy does not verify: %s\n", c->prog, why);
    } else {
        printf("copied %s to %s\n", c->cfg->store_path, o->to);
        print_copy(&rep, "file");
        printf("audit trail: intact in the copy, %" PRId64 " entries\n", rep.audit_entries);
    }
    zv_sb_close(dst);
    return v == 0 ? 0 : 1;
#else
    (void)o;
    fprintf(stderr, "%s: store copy: this zinvol is built without the PostgreSQL store\n", c->prog);
    return 1;
#endif
}

int zv_ctl_store(zv_ctl *c, int argc, char **argv)
{
    if (argc < 1) return usage();
    struct store_opts o = {0};
    if (parse_opts(argc, argv, &o) < 0) return usage();
    if (strcmp(argv[0], "check") == 0 && !o.to && !o.from) return store_check(c, &o);
    if (strcmp(argv[0], "copy") == 0 && !o.url) return store_copy(c, &o);
    return usage();
}
