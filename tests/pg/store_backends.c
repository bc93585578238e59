/*
 * The store interface on a real backend: store_backends sqlite | postgresql.
 *
 * sqlite: a fresh file in a temporary folder.  postgresql: a fresh database
 * on the cluster tests/pg/pg_cluster.sh started (ZV_PG_HOST, ZV_PG_USER;
 * run through tests/pg/run_pg.sh, which skips when there is none).  The
 * cases that every backend must pass run on both; claims by several nodes,
 * leases and the shared audit chain run on PostgreSQL with three processes.
 * No case depends on timing: lease times are given, not waited for.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zinvol/util.h>

#include "store/store_iface.h"
#ifdef ZV_HAVE_POSTGRESQL
#include <libpq-fe.h>
#endif

static int failures;
static const char *kind_name;
static char tmpdir[256];
#ifdef ZV_HAVE_POSTGRESQL
static char pg_db[64]; /* the database of the case that runs */
#endif
static zv_store_target target;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d (%s): %s: ", __FILE__, __LINE__, kind_name, #cond);        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
            return;                                                                                \
        }                                                                                          \
    } while (0)

static int is_pg(void)
{
    return target.kind == ZV_STORE_POSTGRESQL;
}

#ifdef ZV_HAVE_POSTGRESQL
static void quiet(void *arg, const char *msg)
{
    (void)arg, (void)msg; /* "does not exist, skipping" */
}

/* psql-like: runs sql on database db as the cluster's superuser. */
static int pg_admin(const char *db, const char *sql)
{
    char url[512];
    snprintf(url, sizeof(url), "postgresql://%s@/%s?host=%s", getenv("ZV_PG_USER"), db,
             getenv("ZV_PG_HOST"));
    PGconn *c = PQconnectdb(url);
    PQsetNoticeProcessor(c, quiet, NULL);
    int ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PGresult *r = PQexec(c, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok) fprintf(stderr, "pg_admin %s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
    } else {
        fprintf(stderr, "pg_admin: %s", PQerrorMessage(c));
    }
    PQfinish(c);
    return ok ? 0 : -1;
}
#endif

/* A fresh, empty store of the backend under test (the target is set). */
static int fresh_store(const char *name)
{
    char err[512], spec[512];
    zv_store_target_free(&target);
    if (strcmp(kind_name, "sqlite") == 0) {
        snprintf(spec, sizeof(spec), "%s/%s.db", tmpdir, name);
        unlink(spec);
        return zv_store_target_parse(spec, NULL, NULL, &target, err, sizeof(err));
    }
#ifdef ZV_HAVE_POSTGRESQL
    snprintf(pg_db, sizeof(pg_db), "zv_t_%s_%ld", name, (long)getpid());
    char sql[256];
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", pg_db);
    if (pg_admin("postgres", sql) < 0) return -1;
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", pg_db);
    if (pg_admin("postgres", sql) < 0) return -1;
    snprintf(spec, sizeof(spec), "postgresql://%s@/%s?host=%s", getenv("ZV_PG_USER"), pg_db,
             getenv("ZV_PG_HOST"));
    if (zv_store_target_parse(spec, NULL, NULL, &target, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
#else
    return -1;
#endif
}

static zv_sb *open_node(const char *node)
{
    char err[512];
    zv_sb *b = zv_sb_open(&target, node, err, sizeof(err));
    if (!b) fprintf(stderr, "open %s: %s\n", node, err);
    return b;
}

static int put(zv_sb *b, const char *dest, const char *key, const void *payload, size_t len)
{
    zv_outbox_new o = {.destination = dest,
                       .message = "AW35",
                       .idem_key = key,
                       .payload = payload,
                       .len = len,
                       .content_type = "application/xml",
                       .extension = "xml",
                       .fields_json = "[{\"field\":\"client.bsn\",\"level\":\"law\","
                                      "\"citation\":\"Wlz art. 9.1.2\"}]",
                       .records_json = "[{\"source\":\"s\",\"record_id\":\"r1\",\"key\":\"k1\","
                                       "\"client\":\"c-abc\",\"fields\":[\"client.bsn\"]}]"};
    return zv_sb_enqueue(b, &o);
}

/* ---- claims collected by a callback ---- */
struct got {
    int64_t ids[64];
    char keys[64][40];
    char sha[64][65];
    int n;
};

static int collect(const zv_outbox_row *r, void *arg)
{
    struct got *g = arg;
    if (g->n < 64) {
        g->ids[g->n] = r->id;
        snprintf(g->keys[g->n], sizeof(g->keys[0]), "%s", r->idem_key);
        zv_sha256_hex(r->payload ? r->payload : "", r->len, g->sha[g->n]);
        g->n++;
    }
    return 0;
}

static void case_schema(void)
{
    CHECK(fresh_store("schema") == 0, "store");
    zv_sb *b = open_node("n1");
    CHECK(b, "open");
    int want = is_pg() ? ZV_PG_SCHEMA_VERSION : ZV_SQLITE_SCHEMA_VERSION;
    CHECK(zv_sb_schema_version(b) == want, "version %d, want %d", zv_sb_schema_version(b), want);
    zv_sb_close(b);
    b = open_node("n1"); /* a second open migrates nothing and agrees */
    CHECK(b && zv_sb_schema_version(b) == want, "reopen");
    zv_sb_close(b);
    /* A store from a newer zinvol is refused, naming both versions. */
    if (is_pg()) {
#ifdef ZV_HAVE_POSTGRESQL
        CHECK(pg_admin(pg_db, "INSERT INTO zv_schema VALUES(99, 0, 'from the future')") == 0,
              "future");
#endif
    } else {
        zv_store *s = zv_store_open(target.path, (char[256]){0}, 256);
        CHECK(s, "sqlite open");
        zv_store_close(s);
        char cmd[600];
        snprintf(cmd, sizeof(cmd),
                 "sqlite3 '%s' \"UPDATE meta SET value = '99' WHERE key = 'schema_version'\"",
                 target.path);
        CHECK(system(cmd) == 0, "sqlite3 tool");
    }
    char err[512];
    b = zv_sb_open(&target, "n1", err, sizeof(err));
    CHECK(!b, "a newer schema was accepted");
    CHECK(strstr(err, "schema version 99") && strstr(err, "newer"), "message: %s", err);
}

static void case_outbox(void)
{
    CHECK(fresh_store("outbox") == 0, "store");
    zv_sb *b = open_node("n1");
    CHECK(b, "open");
    /* Payload bytes come back exactly, NULs and high bytes included. */
    unsigned char bin[300];
    for (size_t i = 0; i < sizeof(bin); i++)
        bin[i] = (unsigned char)(i * 7);
    CHECK(put(b, "ciz", "k-1", bin, sizeof(bin)) == 0, "enqueue: %s", zv_sb_errmsg(b));
    CHECK(put(b, "ciz", "k-1", "other", 5) == 1, "same key again is not new");
    CHECK(zv_sb_begin(b) == 0, "begin");
    CHECK(put(b, "ciz", "k-2", "<b/>", 4) == 0, "k-2");
    CHECK(put(b, "ciz", "k-3", "<c/>", 4) == 0, "k-3");
    CHECK(put(b, "zk", "k-1", "<z/>", 4) == 0, "the key is unique per destination");
    CHECK(zv_sb_commit(b) == 0, "commit: %s", zv_sb_errmsg(b));
    CHECK(zv_sb_outbox_count(b, "ciz", "pending") == 3, "pending");
    CHECK(zv_sb_outbox_count(b, NULL, NULL) == 4, "all");

    int64_t now_ms = (zv_now() + 5) * 1000;
    struct got g = {0};
    CHECK(zv_sb_claim(b, "ciz", now_ms, 60000, 2, collect, &g) == 2, "claim 2");
    CHECK(strcmp(g.keys[0], "k-1") == 0 && strcmp(g.keys[1], "k-2") == 0, "order %s %s", g.keys[0],
          g.keys[1]);
    char sha[65];
    zv_sha256_hex(bin, sizeof(bin), sha);
    CHECK(strcmp(g.sha[0], sha) == 0, "payload bytes changed");
    CHECK(zv_sb_outbox_count(b, "ciz", "inflight") == 2, "inflight");
    struct got g2 = {0};
    CHECK(zv_sb_claim(b, "ciz", now_ms, 60000, 10, collect, &g2) == 1, "the rest");
    CHECK(strcmp(g2.keys[0], "k-3") == 0, "k-3 claimed");

    CHECK(zv_sb_delivered(b, g.ids[0], zv_now()) == 0, "delivered: %s", zv_sb_errmsg(b));
    CHECK(zv_sb_delivered(b, g.ids[0], zv_now()) == 0, "a second report");
    CHECK(zv_sb_retry(b, g.ids[1], now_ms + 1000, "HTTP 503") == 0, "retry: %s", zv_sb_errmsg(b));
    zv_dead_info d = {.reason = "rejected: 0233", .http_status = 400, .codes = "0233"};
    int64_t dlq = 0;
    CHECK(zv_sb_dead(b, g2.ids[0], &d, &dlq) == 0 && dlq > 0, "dead: %s", zv_sb_errmsg(b));
    CHECK(zv_sb_outbox_count(b, "ciz", "delivered") == 1, "delivered count");
    CHECK(zv_sb_outbox_count(b, "ciz", "pending") == 1, "pending count");
    CHECK(zv_sb_outbox_count(b, "ciz", "dead") == 1, "dead count");
    CHECK(zv_sb_dlq_count(b, "ciz") == 1 && zv_sb_dlq_count(b, NULL) == 1, "dead letter");
    /* The retried row is not due before its next attempt. */
    struct got g3 = {0};
    CHECK(zv_sb_claim(b, "ciz", now_ms, 60000, 10, collect, &g3) == 0, "not due yet");
    CHECK(zv_sb_claim(b, "ciz", now_ms + 1000, 60000, 10, collect, &g3) == 1, "due");

    int64_t n = -1, bad = -1;
    char why[256];
    CHECK(zv_sb_audit_verify(b, &n, &bad, why, sizeof(why)) == 0, "verify: %s", why);
    CHECK(n == 1, "one entry for one delivery, %" PRId64, n);
    zv_audit_entry e = {.at = zv_now(),
                        .kind = "dlq-drop",
                        .destination = "ciz",
                        .idem_key = "k-3",
                        .detail = "operator"};
    int64_t seq = 0;
    CHECK(zv_sb_audit_append(b, &e, &seq) == 0 && seq == 2, "append: seq %" PRId64, seq);
    CHECK(zv_sb_audit_verify(b, &n, &bad, why, sizeof(why)) == 0 && n == 2, "verify 2");
    zv_sb_close(b);
}

struct audit_text {
    char fields[128], clients[256], citations[128];
};

static int take_audit(const zv_audit_entry *e, void *arg)
{
    struct audit_text *t = arg;
    snprintf(t->fields, sizeof(t->fields), "%s", e->fields ? e->fields : "");
    snprintf(t->clients, sizeof(t->clients), "%s", e->clients ? e->clients : "");
    snprintf(t->citations, sizeof(t->citations), "%s", e->citations ? e->citations : "");
    return 1;
}

/* The delivered entry says the same on both backends (and so hashes alike). */
static void case_audit_text(void)
{
    CHECK(fresh_store("audit_text") == 0, "store");
    zv_sb *b = open_node("n1");
    CHECK(b, "open");
    CHECK(put(b, "ciz", "k-1", "<a/>", 4) == 0, "enqueue");
    struct got g = {0};
    CHECK(zv_sb_claim(b, "ciz", (zv_now() + 5) * 1000, 1000, 1, collect, &g) == 1, "claim");
    CHECK(zv_sb_delivered(b, g.ids[0], zv_now()) == 0, "delivered");
    struct audit_text t = {0};
    CHECK(zv_sb_audit_each(b, take_audit, &t) == 0, "each");
    CHECK(strcmp(t.fields, "client.bsn=law") == 0, "fields %s", t.fields);
    CHECK(strstr(t.clients, "\"client\":\"c-abc\"") && strstr(t.clients, "client.bsn"),
          "clients %s", t.clients);
    CHECK(strstr(t.citations, "Wlz art. 9.1.2"), "citations %s", t.citations);
    zv_sb_close(b);
}

struct audit_keys {
    char keys[8][16];
    int n;
};

static int take_key(const zv_audit_entry *e, void *arg)
{
    struct audit_keys *k = arg;
    if (k->n < 8) snprintf(k->keys[k->n++], sizeof(k->keys[0]), "%s", e->idem_key);
    return 0;
}

/* A flush's outcomes at once (the engine on PostgreSQL): every row
 * delivered, one entry each in the order given, none for a row reported
 * twice or for one no longer in flight. */
static void case_delivered_many(void)
{
    CHECK(fresh_store("delivered_many") == 0, "store");
    zv_sb *b = open_node("n1");
    CHECK(b, "open");
    for (int i = 1; i <= 4; i++) {
        char key[8];
        snprintf(key, sizeof(key), "k-%d", i);
        CHECK(put(b, "ciz", key, "<a/>", 4) == 0, "enqueue %s", key);
    }
    struct got g = {0};
    CHECK(zv_sb_claim(b, "ciz", (zv_now() + 5) * 1000, 60000, 4, collect, &g) == 4, "claim");
    CHECK(zv_sb_retry(b, g.ids[1], (zv_now() + 60) * 1000, "HTTP 503") == 0, "retry k-2");
    CHECK(zv_sb_delivered(b, g.ids[3], zv_now()) == 0, "k-4 alone");
    CHECK(zv_sb_begin(b) == 0, "begin");
    int64_t ids[] = {g.ids[2], g.ids[0], g.ids[3]};
    CHECK(zv_sb_delivered_many(b, ids, 3, zv_now()) == 0, "many: %s", zv_sb_errmsg(b));
    CHECK(zv_sb_commit(b) == 0, "commit: %s", zv_sb_errmsg(b));
    CHECK(zv_sb_outbox_count(b, "ciz", "delivered") == 3, "delivered");
    CHECK(zv_sb_outbox_count(b, "ciz", "pending") == 1, "k-2 still pending");
    struct audit_keys k = {0};
    CHECK(zv_sb_audit_each(b, take_key, &k) == 0, "each");
    CHECK(k.n == 3 && strcmp(k.keys[0], "k-4") == 0 && strcmp(k.keys[1], "k-3") == 0 &&
              strcmp(k.keys[2], "k-1") == 0,
          "entries: %d (%s %s %s)", k.n, k.keys[0], k.keys[1], k.keys[2]);
    int64_t n = -1, bad = -1;
    char why[256];
    CHECK(zv_sb_audit_verify(b, &n, &bad, why, sizeof(why)) == 0 && n == 3, "verify: %s", why);
    zv_sb_close(b);
}

static void case_tamper(void)
{
    CHECK(fresh_store("tamper") == 0, "store");
    zv_sb *b = open_node("n1");
    CHECK(b, "open");
    for (int i = 0; i < 3; i++) {
        zv_audit_entry e = {.at = 1000 + i, .kind = "note", .detail = "x"};
        CHECK(zv_sb_audit_append(b, &e, NULL) == 0, "append");
    }
    zv_sb_close(b);
    if (is_pg()) {
#ifdef ZV_HAVE_POSTGRESQL
        CHECK(pg_admin(pg_db, "UPDATE audit SET detail = 'y' WHERE seq = 2") == 0, "edit");
#endif
    } else {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "sqlite3 '%s' \"UPDATE audit SET detail = 'y' WHERE seq = 2\"",
                 target.path);
        CHECK(system(cmd) == 0, "edit");
    }
    b = open_node("n1");
    CHECK(b, "reopen");
    int64_t n = 0, bad = 0;
    char why[256];
    CHECK(zv_sb_audit_verify(b, &n, &bad, why, sizeof(why)) == 1 && bad == 2, "bad %" PRId64, bad);
    zv_sb_close(b);
}

/* ---- several nodes (PostgreSQL) ---- */

/* Child: claims and delivers until nothing is left; writes the ids it
 * claimed to fd, one per line.  Exit 0, or 1 on a store error. */
static int drain_node(const char *node, int fd)
{
    zv_sb *b = open_node(node);
    if (!b) return 1;
    for (;;) {
        struct got g = {0};
        int n = zv_sb_claim(b, "ciz", (zv_now() + 5) * 1000, 60000, 20, collect, &g);
        if (n < 0) {
            fprintf(stderr, "%s claim: %s\n", node, zv_sb_errmsg(b));
            return 1;
        }
        if (n == 0) break;
        for (int i = 0; i < g.n; i++) {
            dprintf(fd, "%" PRId64 "\n", g.ids[i]);
            if (zv_sb_delivered(b, g.ids[i], zv_now()) < 0) {
                fprintf(stderr, "%s delivered: %s\n", node, zv_sb_errmsg(b));
                return 1;
            }
        }
    }
    zv_sb_close(b);
    return 0;
}

static int run_children(int n, int (*fn)(const char *node, int fd), const char *out)
{
    pid_t pids[8];
    for (int i = 0; i < n; i++) {
        char path[300], node[16];
        snprintf(path, sizeof(path), "%s.%d", out, i);
        snprintf(node, sizeof(node), "node%d", i + 1);
        pids[i] = fork();
        if (pids[i] == 0) {
            FILE *f = fopen(path, "w");
            int rc = f ? fn(node, fileno(f)) : 1;
            if (f) fclose(f);
            _exit(rc);
        }
    }
    int bad = 0;
    for (int i = 0; i < n; i++) {
        int st = 0;
        waitpid(pids[i], &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) bad++;
    }
    return bad;
}

static void case_claims_three_nodes(void)
{
    enum { ROWS = 3000 };
    CHECK(fresh_store("claims") == 0, "store");
    zv_sb *b = open_node("loader");
    CHECK(b, "open");
    CHECK(zv_sb_begin(b) == 0, "begin");
    for (int i = 0; i < ROWS; i++) {
        char key[32], body[64];
        snprintf(key, sizeof(key), "k-%05d", i);
        int len = snprintf(body, sizeof(body), "<m n=\"%d\"/>", i);
        CHECK(put(b, "ciz", key, body, (size_t)len) == 0, "enqueue %d", i);
    }
    CHECK(zv_sb_commit(b) == 0, "commit");
    zv_sb_close(b);
    char out[300];
    snprintf(out, sizeof(out), "%s/claims", tmpdir);
    CHECK(run_children(3, drain_node, out) == 0, "a node failed");
    static unsigned char seen[ROWS + 1];
    memset(seen, 0, sizeof(seen));
    int total = 0, per[3] = {0};
    for (int i = 0; i < 3; i++) {
        char path[320];
        snprintf(path, sizeof(path), "%s.%d", out, i);
        FILE *f = fopen(path, "r");
        CHECK(f, "%s", path);
        long long id;
        while (fscanf(f, "%lld", &id) == 1) {
            if (id < 1 || id > ROWS) {
                fclose(f);
                CHECK(0, "id %lld out of range", id);
            }
            if (seen[id]++) {
                fclose(f);
                CHECK(0, "row %lld claimed twice", id);
            }
            total++;
            per[i]++;
        }
        fclose(f);
    }
    printf("  claims: node1 %d, node2 %d, node3 %d rows\n", per[0], per[1], per[2]);
    CHECK(total == ROWS, "claimed %d of %d", total, ROWS);
    b = open_node("checker");
    CHECK(b, "open");
    CHECK(zv_sb_outbox_count(b, "ciz", "delivered") == ROWS, "all delivered");
    int64_t n = 0, bad = 0;
    char why[256];
    CHECK(zv_sb_audit_verify(b, &n, &bad, why, sizeof(why)) == 0, "verify: %s", why);
    CHECK(n == ROWS, "one entry per delivery: %" PRId64, n);
    zv_sb_close(b);
}

static int append_node(const char *node, int fd)
{
    (void)fd;
    zv_sb *b = open_node(node);
    if (!b) return 1;
    for (int i = 0; i < 400; i++) {
        char key[48];
        snprintf(key, sizeof(key), "%s-%d", node, i);
        zv_audit_entry e = {.at = zv_now(),
                            .kind = "note",
                            .destination = node,
                            .idem_key = key,
                            .detail = "concurrent"};
        if (zv_sb_audit_append(b, &e, NULL) < 0) {
            fprintf(stderr, "%s append: %s\n", node, zv_sb_errmsg(b));
            return 1;
        }
    }
    zv_sb_close(b);
    return 0;
}

static void case_audit_three_nodes(void)
{
    CHECK(fresh_store("audit3") == 0, "store");
    zv_sb *b = open_node("setup"); /* the schema exists before the nodes race */
    CHECK(b, "open");
    zv_sb_close(b);
    char out[300];
    snprintf(out, sizeof(out), "%s/audit", tmpdir);
    CHECK(run_children(3, append_node, out) == 0, "a node failed");
    b = open_node("checker");
    CHECK(b, "open");
    int64_t n = 0, bad = 0;
    char why[256];
    CHECK(zv_sb_audit_verify(b, &n, &bad, why, sizeof(why)) == 0, "verify: %s", why);
    CHECK(n == 1200, "entries %" PRId64, n);
    zv_sb_close(b);
}

static void case_lease(void)
{
    CHECK(fresh_store("lease") == 0, "store");
    zv_sb *a = open_node("node-a"), *b = open_node("node-b");
    CHECK(a && b, "open");
    for (int i = 0; i < 5; i++) {
        char key[16], body[32];
        snprintf(key, sizeof(key), "k-%d", i);
        snprintf(body, sizeof(body), "<p n=\"%d\"/>", i);
        CHECK(put(a, "ciz", key, body, strlen(body)) == 0, "enqueue");
    }
    int64_t t = (zv_now() + 5) * 1000;
    struct got ga = {0}, gb = {0};
    CHECK(zv_sb_claim(a, "ciz", t, 1000, 10, collect, &ga) == 5, "a claims all");
    CHECK(zv_sb_claim(b, "ciz", t, 1000, 10, collect, &gb) == 0, "b gets none");
    CHECK(zv_sb_lease_expire(b, t + 500) == 0, "leases still run");
    /* a renews the four it still works on: they now run to t + 600 +
     * 1000.  The fifth (say its outcome's commit failed) is not renewed,
     * though a lives: it runs out at t + 1000 and is pending again. */
    CHECK(zv_sb_lease_renew(a, ga.ids, 4, t + 600, 1000) == 4, "renew");
    CHECK(zv_sb_lease_renew(b, ga.ids, 5, t + 600, 1000) == 0, "b renews none of a's claims");
    CHECK(zv_sb_lease_expire(b, t + 1001) == 1, "the one not renewed ran out");
    CHECK(zv_sb_outbox_count(b, "ciz", "pending") == 1, "pending again");
    CHECK(zv_sb_claim(b, "ciz", t + 1001, 1, 10, collect, &gb) == 1, "b takes it");
    CHECK(gb.ids[0] == ga.ids[4], "the fifth");
    CHECK(zv_sb_retry(b, gb.ids[0], t, "again") == 0, "b's retry");
    gb.n = 0;
    CHECK(zv_sb_lease_expire(b, t + 1500) == 0, "renewed leases still run");
    /* a is gone: after its lease the rows are b's to take, unchanged. */
    CHECK(zv_sb_lease_expire(b, t + 1601) == 4, "expired: %s", zv_sb_errmsg(b));
    CHECK(zv_sb_claim(b, "ciz", t + 1601, 1000, 10, collect, &gb) == 5, "b claims them");
    /* (the fifth is due again at t: the retry above put it last) */
    for (int i = 0; i < 5; i++) {
        CHECK(ga.ids[i] == gb.ids[i], "same rows");
        CHECK(strcmp(ga.keys[i], gb.keys[i]) == 0, "same key %s %s", ga.keys[i], gb.keys[i]);
        CHECK(strcmp(ga.sha[i], gb.sha[i]) == 0, "same bytes");
    }
    /* a comes back late: its retry is refused (no longer its claim), its
     * delivered report stands (it was sent) and writes the one entry. */
    CHECK(zv_sb_retry(a, ga.ids[0], t, "late") == 1, "a late retry is not a's to make");
    CHECK(zv_sb_outbox_count(b, "ciz", "inflight") == 5, "still b's");
    CHECK(zv_sb_delivered(a, ga.ids[1], zv_now()) == 0, "late delivered");
    CHECK(zv_sb_delivered(b, gb.ids[1], zv_now()) == 0, "b's delivered");
    int64_t n = 0;
    char why[128];
    CHECK(zv_sb_audit_verify(b, &n, NULL, why, sizeof(why)) == 0 && n == 1, "one entry: %" PRId64,
          n);
    /* b restarts under its name: its own claims come back at once. */
    CHECK(zv_sb_recover(b) == 4, "recover");
    CHECK(zv_sb_outbox_count(b, "ciz", "pending") == 4, "pending again");
    zv_sb_close(a);
    zv_sb_close(b);
}

static void case_sources(void)
{
    CHECK(fresh_store("sources") == 0, "store");
    zv_sb *b = open_node("n1");
    CHECK(b, "open");
    char buf[64] = "";
    CHECK(zv_sb_watermark_get(b, "ons", "cursor", buf, sizeof(buf)) == 1, "absent");
    CHECK(zv_sb_watermark_set(b, "ons", "cursor", "2026-11-30") == 0, "set");
    CHECK(zv_sb_watermark_set(b, "ons", "cursor", "2026-12-01") == 0, "set again");
    CHECK(zv_sb_watermark_get(b, "ons", "cursor", buf, sizeof(buf)) == 0 &&
              strcmp(buf, "2026-12-01") == 0,
          "got %s", buf);
    CHECK(zv_sb_seen(b, "hook", "evt-1", "h1") == 0, "new");
    CHECK(zv_sb_seen(b, "hook", "evt-1", "h1") == 1, "seen");
    CHECK(zv_sb_seen(b, "hook", "evt-1", "h2") == 0, "same id, other content");
    CHECK(zv_sb_seen(b, "other", "evt-1", "h1") == 0, "other source");
    char holder[64];
    CHECK(zv_sb_source_lease(b, "drop", 1000, 500, holder, sizeof(holder)) == 1, "lease");
    zv_sb_close(b);
}

struct staged_seen {
    int n;
    int64_t ids[8];
    char recs[8][16];
};

static int take_staged(const zv_staged *st, void *arg)
{
    struct staged_seen *t = arg;
    if (t->n < 8) {
        t->ids[t->n] = st->id;
        snprintf(t->recs[t->n], sizeof(t->recs[0]), "%.*s", (int)st->len, (const char *)st->rec);
    }
    t->n++;
    return 0;
}

/* The source -> render path's calls: staging, batch sequence, change
 * detection, quarantine. */
static void case_staging(void)
{
    CHECK(fresh_store("staging") == 0, "store");
    zv_sb *b = open_node("n1");
    CHECK(b, "open");
    /* Staged rows and the watermark of one step in one transaction: a
     * rollback keeps neither. */
    CHECK(zv_sb_begin(b) == 0, "begin");
    CHECK(zv_sb_stage(b, "ciz", 0, (const unsigned char *)"r\0one", 5, 0,
                      "s\x1f"
                      "1") == 0,
          "stage");
    CHECK(zv_sb_watermark_set(b, "drop", "offset", "10") == 0, "watermark");
    zv_sb_rollback(b);
    char buf[32];
    CHECK(zv_sb_staged_count(b, "ciz") == 0, "rolled back rows");
    CHECK(zv_sb_watermark_get(b, "drop", "offset", buf, sizeof(buf)) == 1, "rolled back mark");
    CHECK(zv_sb_begin(b) == 0, "begin");
    CHECK(zv_sb_stage(b, "ciz", 0, (const unsigned char *)"r\0one", 5, 0,
                      "s\x1f"
                      "1") == 0,
          "stage");
    CHECK(zv_sb_stage(b, "ciz", 1, (const unsigned char *)"rtwo", 4, 0, NULL) == 0, "stage 2");
    CHECK(zv_sb_stage(b, "other", 0, (const unsigned char *)"x", 1, 0, NULL) == 0, "stage 3");
    CHECK(zv_sb_watermark_set(b, "drop", "offset", "20") == 0, "watermark");
    CHECK(zv_sb_commit(b) == 0, "commit");
    CHECK(zv_sb_staged_count(b, "ciz") == 2 && zv_sb_staged_count(b, NULL) == 3, "counts");
    struct staged_seen t = {0};
    CHECK(zv_sb_staged_after(b, "ciz", 0, 0, take_staged, &t) == 0 && t.n == 2, "n %d", t.n);
    CHECK(memcmp(t.recs[0], "r", 2) == 0 && strcmp(t.recs[1], "rtwo") == 0, "bytes");
    struct staged_seen u = {0};
    CHECK(zv_sb_staged_after(b, "ciz", t.ids[0], 1, take_staged, &u) == 0 && u.n == 1 &&
              u.ids[0] == t.ids[1],
          "after");
    CHECK(zv_sb_staged_delete(b, t.ids[0]) == 0, "delete");
    CHECK(zv_sb_staged_count(b, "ciz") == 1, "deleted");
    int64_t seq = -1;
    CHECK(zv_sb_batch_peek(b, "ciz", &seq) == 0 && seq == 0, "no batch yet");
    CHECK(zv_sb_begin(b) == 0 && zv_sb_batch_peek(b, "ciz", &seq) == 0 && seq == 0, "peek");
    CHECK(zv_sb_batch_set(b, "ciz", 7) == 0 && zv_sb_commit(b) == 0, "set");
    CHECK(zv_sb_batch_peek(b, "ciz", &seq) == 0 && seq == 7, "seq %lld", (long long)seq);
    /* change detection */
    CHECK(zv_sb_sent_same(b, "ciz",
                          "s\x1f"
                          "1",
                          "d1") == 0,
          "never sent");
    CHECK(zv_sb_sent_put(b, "ciz",
                         "s\x1f"
                         "1",
                         "d1", "AW35", (const unsigned char *)"a\0b", 3) == 0,
          "put");
    CHECK(zv_sb_sent_same(b, "ciz",
                          "s\x1f"
                          "1",
                          "d1") == 1,
          "same");
    CHECK(zv_sb_sent_same(b, "ciz",
                          "s\x1f"
                          "1",
                          "d2") == 0,
          "changed");
    char msg[16];
    unsigned char *rec = NULL;
    size_t len = 0;
    CHECK(zv_sb_sent_get(b, "ciz",
                         "s\x1f"
                         "1",
                         msg, sizeof(msg), &rec, &len) == 1 &&
              strcmp(msg, "AW35") == 0 && len == 3 && rec && memcmp(rec, "a\0b", 3) == 0,
          "get");
    free(rec);
    CHECK(zv_sb_sent_put(b, "ciz",
                         "s\x1f"
                         "1",
                         "d2", "AW39", NULL, 0) == 0,
          "put again");
    CHECK(zv_sb_sent_get(b, "ciz",
                         "s\x1f"
                         "1",
                         msg, sizeof(msg), &rec, &len) == 1 &&
              !rec && strcmp(msg, "AW39") == 0,
          "get again");
    CHECK(zv_sb_sent_get(b, "ciz", "none", msg, sizeof(msg), &rec, &len) == 0, "none");
    /* quarantine */
    zv_quarantine_entry q = {.source = "drop",
                             .record_id = "r9",
                             .stage = "minimiser",
                             .destination = "ciz",
                             .field = "client.bsn",
                             .reason = "missing"};
    int64_t id = 0;
    CHECK(zv_sb_quarantine_like(b, &q, 0) == 0, "not like");
    CHECK(zv_sb_quarantine_add(b, &q, &id) == 0 && id > 0, "add");
    CHECK(zv_sb_quarantine_like(b, &q, 0) == 1, "like");
    CHECK(zv_sb_quarantine_like(b, &q, id) == 0, "except itself");
    zv_sb_close(b);
}

/* Two nodes render the same staged row: the second unit's delete fails, so
 * it rolls back instead of sending the record twice; the batch sequence
 * peeked in a transaction is locked to its end. */
static void case_staged_two_nodes(void)
{
    CHECK(fresh_store("staged2") == 0, "store");
    zv_sb *a = open_node("node-a"), *b = open_node("node-b");
    CHECK(a && b, "open");
    CHECK(zv_sb_stage(a, "ciz", 0, (const unsigned char *)"r", 1, 0, "k") == 0, "stage");
    struct staged_seen t = {0};
    CHECK(zv_sb_staged_after(b, "ciz", 0, 0, take_staged, &t) == 0 && t.n == 1, "b sees it");
    CHECK(zv_sb_begin(a) == 0 && zv_sb_staged_delete(a, t.ids[0]) == 0 && zv_sb_commit(a) == 0,
          "a renders");
    CHECK(zv_sb_begin(b) == 0, "b begins");
    CHECK(zv_sb_staged_delete(b, t.ids[0]) < 0, "b finds it gone");
    CHECK(strstr(zv_sb_errmsg(b), "another node") != NULL, "why: %s", zv_sb_errmsg(b));
    CHECK(zv_sb_commit(b) < 0, "b's unit is rolled back");
    int64_t seq;
    CHECK(zv_sb_begin(a) == 0 && zv_sb_batch_peek(a, "ciz", &seq) == 0, "a peeks");
    CHECK(zv_sb_batch_set(a, "ciz", seq + 1) == 0 && zv_sb_commit(a) == 0, "a sets");
    CHECK(zv_sb_begin(b) == 0 && zv_sb_batch_peek(b, "ciz", &seq) == 0 && seq == 1, "b sees 1");
    zv_sb_rollback(b);
    zv_sb_close(a);
    zv_sb_close(b);
}

/* A webhook event two nodes received: one of them handles it. */
static void case_seen_two_nodes(void)
{
    CHECK(fresh_store("seen2") == 0, "store");
    zv_sb *a = open_node("node-a"), *b = open_node("node-b");
    CHECK(a && b, "open");
    CHECK(zv_sb_seen(a, "hook", "evt-7", "h") == 0, "a first");
    CHECK(zv_sb_seen(b, "hook", "evt-7", "h") == 1, "b sees it was seen");
    zv_sb_close(a);
    zv_sb_close(b);
}

static void case_source_lease(void)
{
    CHECK(fresh_store("srclease") == 0, "store");
    zv_sb *a = open_node("node-a"), *b = open_node("node-b");
    CHECK(a && b, "open");
    char h[64];
    int64_t t = 1000000;
    CHECK(zv_sb_source_lease(a, "drop", t, 3000, h, sizeof(h)) == 1, "a takes it: %s",
          zv_sb_errmsg(a));
    CHECK(zv_sb_source_lease(b, "drop", t + 10, 3000, h, sizeof(h)) == 0 &&
              strcmp(h, "node-a") == 0,
          "b is told a holds it: %s", h);
    CHECK(zv_sb_source_lease(a, "drop", t + 2000, 3000, h, sizeof(h)) == 1, "a renews");
    CHECK(zv_sb_source_lease(b, "drop", t + 4000, 3000, h, sizeof(h)) == 0, "renewed: still a's");
    CHECK(zv_sb_source_lease(b, "fhir", t, 3000, h, sizeof(h)) == 1, "another source is free");
    /* a dies: after its lease b takes over. */
    CHECK(zv_sb_source_lease(b, "drop", t + 5001, 3000, h, sizeof(h)) == 1, "failover");
    CHECK(zv_sb_source_lease(a, "drop", t + 5002, 3000, h, sizeof(h)) == 0 &&
              strcmp(h, "node-b") == 0,
          "a back: b holds it now (%s)", h);
    CHECK(zv_sb_source_release(a, "drop") == 0, "a's release is no-op");
    CHECK(zv_sb_source_lease(a, "drop", t + 5003, 3000, h, sizeof(h)) == 0, "still b's");
    CHECK(zv_sb_source_release(b, "drop") == 0, "b lets go");
    CHECK(zv_sb_source_lease(a, "drop", t + 5004, 3000, h, sizeof(h)) == 1, "free again");
    zv_sb_close(a);
    zv_sb_close(b);
}

static int race_node(const char *node, int fd)
{
    zv_sb *b = open_node(node);
    if (!b) return 1;
    int won = 0;
    /* The same instant for all three: only the lease row decides. */
    for (int i = 0; i < 50; i++) {
        char src[16], h[64];
        snprintf(src, sizeof(src), "src-%d", i);
        int rc = zv_sb_source_lease(b, src, 5000000, 60000, h, sizeof(h));
        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", node, zv_sb_errmsg(b));
            return 1;
        }
        if (rc == 1) dprintf(fd, "%s\n", src), won++;
    }
    zv_sb_close(b);
    return 0;
}

static void case_source_lease_race(void)
{
    CHECK(fresh_store("srcrace") == 0, "store");
    zv_sb *b = open_node("setup");
    CHECK(b, "open");
    zv_sb_close(b);
    char out[300];
    snprintf(out, sizeof(out), "%s/race", tmpdir);
    CHECK(run_children(3, race_node, out) == 0, "a node failed");
    int won[50] = {0}, total = 0;
    for (int i = 0; i < 3; i++) {
        char path[320], line[32];
        snprintf(path, sizeof(path), "%s.%d", out, i);
        FILE *f = fopen(path, "r");
        CHECK(f, "%s", path);
        while (fgets(line, sizeof(line), f)) {
            int k = atoi(line + 4);
            if (k >= 0 && k < 50) won[k]++;
            total++;
        }
        fclose(f);
    }
    for (int k = 0; k < 50; k++)
        CHECK(won[k] == 1, "source src-%d went to %d nodes", k, won[k]);
    CHECK(total == 50, "%d leases for 50 sources", total);
}

/* The server drops the node's connection (a restart, a failover, a
 * network cut): the statement that meets it fails, the next one works on a
 * new connection. */
static void case_reconnect(void)
{
#ifdef ZV_HAVE_POSTGRESQL
    CHECK(fresh_store("reconnect") == 0, "store");
    zv_sb *b = open_node("n1");
    CHECK(b, "open");
    CHECK(put(b, "ciz", "r-1", "<m/>", 4) == 0, "enqueue");
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' AND "
             "pid <> pg_backend_pid()",
             pg_db);
    CHECK(pg_admin(pg_db, sql) == 0, "terminate");
    usleep(200000);
    CHECK(zv_sb_outbox_count(b, "ciz", NULL) < 0, "the cut is seen");
    CHECK(zv_sb_outbox_count(b, "ciz", NULL) == 1, "and the next call works: %s", zv_sb_errmsg(b));
    CHECK(put(b, "ciz", "r-2", "<m/>", 4) == 0, "enqueue after: %s", zv_sb_errmsg(b));
    zv_sb_close(b);
#endif
}

/* ---- the record lifecycle: entries read, closed once, items kept ---- */
struct qseen {
    int n, closed;
    int64_t last;
    char state[32], outcome[64], item[64], reasons[512];
};

static int take_q(const zv_quarantine_entry *e, void *arg)
{
    struct qseen *q = arg;
    q->n++;
    q->last = e->id;
    q->closed += e->closed_at != 0;
    snprintf(q->state, sizeof(q->state), "%s", e->state ? e->state : "");
    snprintf(q->outcome, sizeof(q->outcome), "%s", e->outcome_detail ? e->outcome_detail : "");
    snprintf(q->item, sizeof(q->item), "%s", e->item_json ? e->item_json : "");
    snprintf(q->reasons, sizeof(q->reasons), "%s", e->reasons_json ? e->reasons_json : "");
    return 0;
}

struct qaudit {
    int quarantine;
    char last[700];
};

static int take_qaudit(const zv_audit_entry *e, void *arg)
{
    struct qaudit *a = arg;
    if (e->kind && strcmp(e->kind, "quarantine") == 0) {
        a->quarantine++;
        snprintf(a->last, sizeof(a->last), "%s", e->detail ? e->detail : "");
    }
    return 0;
}

static void case_lifecycle(void)
{
    CHECK(fresh_store("lifecycle") == 0, "store");
    zv_sb *b = open_node("n1");
    CHECK(b, "open");
    zv_quarantine_entry q = {.source = "drop",
                             .record_id = "r1",
                             .stage = "mapping",
                             .field = "client.bsn",
                             .reason = "missing",
                             .item_json = "{\"id\":\"r1\"}",
                             .mapping_version = "m1"};
    int64_t open_id = 0, wait_id = 0, other = 0;
    CHECK(zv_sb_quarantine_add(b, &q, &open_id) == 0, "add: %s", zv_sb_errmsg(b));
    zv_quarantine_entry w = q;
    w.stage = "minimiser";
    w.destination = "ciz";
    w.state = "waiting";
    w.due = "2030-01-01";
    CHECK(zv_sb_quarantine_add(b, &w, &wait_id) == 0, "add waiting");
    zv_quarantine_entry o = q;
    o.record_id = "r2";
    CHECK(zv_sb_quarantine_add(b, &o, &other) == 0, "add other");
    CHECK(zv_sb_quarantine_count(b, "open") == 2 && zv_sb_quarantine_count(b, "waiting") == 1,
          "counts: %lld open, %lld waiting", (long long)zv_sb_quarantine_count(b, "open"),
          (long long)zv_sb_quarantine_count(b, "waiting"));
    struct qseen s = {0};
    CHECK(zv_sb_quarantine_get(b, open_id, take_q, &s) == 0 && s.n == 1 &&
              strcmp(s.item, "{\"id\":\"r1\"}") == 0 && strcmp(s.state, "open") == 0,
          "get: %d %s", s.n, s.item);
    CHECK(zv_sb_quarantine_get(b, 999999, take_q, &s) == 1, "absent");
    memset(&s, 0, sizeof(s));
    CHECK(zv_sb_quarantine_of_record(b, "drop", "r1", take_q, &s) == 0 && s.n == 2, "of record: %d",
          s.n);
    memset(&s, 0, sizeof(s));
    CHECK(zv_sb_quarantine_due(b, "2029-12-31", take_q, &s) == 0 && s.n == 0, "not due yet");
    CHECK(zv_sb_quarantine_due(b, "2030-01-01", take_q, &s) == 0 && s.n == 1 && s.last == wait_id,
          "due on its day");
    CHECK(zv_sb_quarantine_add_reason(b, open_id, "client.name", NULL, "too long") == 0,
          "reason: %s", zv_sb_errmsg(b));
    memset(&s, 0, sizeof(s));
    CHECK(zv_sb_quarantine_get(b, open_id, take_q, &s) == 0 && strstr(s.reasons, "too long") &&
              strstr(s.reasons, "missing"),
          "both reasons: %s", s.reasons);
    zv_quarantine_filter f = {.state = "open", .text = "TOO LONG"};
    memset(&s, 0, sizeof(s));
    CHECK(zv_sb_quarantine_query(b, &f, take_q, &s) == 0 && s.n == 1 && s.last == open_id,
          "query by reason text: %d", s.n);
    /* Closed with its outcome and an audit entry; a second close finds
     * nothing open. */
    CHECK(zv_sb_quarantine_close(b, open_id, "dropped", "by ops 999999990", 1000) == 0, "close: %s",
          zv_sb_errmsg(b));
    CHECK(zv_sb_quarantine_close(b, open_id, "dropped", "by ops", 1001) == 1, "closed once");
    memset(&s, 0, sizeof(s));
    CHECK(zv_sb_quarantine_get(b, open_id, take_q, &s) == 0 && s.closed == 1 &&
              strcmp(s.state, "dropped") == 0 && strstr(s.outcome, "by ops") &&
              !strstr(s.outcome, "999999990"),
          "closed as dropped, BSN masked: %s %s", s.state, s.outcome);
    f = (zv_quarantine_filter){.state = "closed"};
    memset(&s, 0, sizeof(s));
    CHECK(zv_sb_quarantine_query(b, &f, take_q, &s) == 0 && s.n == 1, "closed list: %d", s.n);
    f.state = "all";
    memset(&s, 0, sizeof(s));
    CHECK(zv_sb_quarantine_query(b, &f, take_q, &s) == 0 && s.n == 3, "all: %d", s.n);
    CHECK(zv_sb_quarantine_count(b, "open") == 1, "one open left");
    struct qaudit a = {0};
    CHECK(zv_sb_audit_each(b, take_qaudit, &a) == 0 && a.quarantine == 1 &&
              strstr(a.last, "dropped"),
          "one audit entry: %d %s", a.quarantine, a.last);
    int64_t n = 0, bad = 0;
    char why[256];
    CHECK(zv_sb_audit_verify(b, &n, &bad, why, sizeof(why)) == 0, "chain: %s", why);
    /* An item lives while a staged row names it. */
    int64_t item = 0;
    char *ij = NULL, *mv = NULL;
    CHECK(zv_sb_item_put(b, "drop", "r3", "{\"v\":1}", "m1", &item) == 0 && item > 0, "item");
    CHECK(zv_sb_stage(b, "ciz", 0, (const unsigned char *)"r", 1, item, "drop\x1fr3") == 0,
          "stage");
    CHECK(zv_sb_item_release(b, item) == 0 && zv_sb_item_get(b, "drop", "r3", &ij, &mv) == 0 &&
              ij && strcmp(ij, "{\"v\":1}") == 0 && mv && strcmp(mv, "m1") == 0,
          "kept while staged");
    free(ij);
    free(mv);
    struct staged_seen t = {0};
    CHECK(zv_sb_staged_after(b, "ciz", 0, 0, take_staged, &t) == 0 && t.n == 1, "staged");
    CHECK(zv_sb_staged_delete(b, t.ids[0]) == 0, "render");
    CHECK(zv_sb_item_get(b, "drop", "r3", &ij, &mv) == 1 && !ij, "gone with its last staged row");
    zv_sb_close(b);
}

/* An entry node A made, closed by nodes B and C at once: exactly one close
 * wins (the other waits on the entry's lock, then finds it closed), one
 * audit entry. */
static void case_quarantine_two_nodes(void)
{
    CHECK(fresh_store("quar2") == 0, "store");
    zv_sb *a = open_node("node-a");
    CHECK(a, "open");
    zv_quarantine_entry q = {.source = "drop",
                             .record_id = "r1",
                             .stage = "mapping",
                             .reason = "missing",
                             .item_json = "{}"};
    int64_t id = 0;
    CHECK(zv_sb_quarantine_add(a, &q, &id) == 0, "add");
    zv_sb *b = open_node("node-b");
    CHECK(b, "open b");
    CHECK(zv_sb_begin(b) == 0 && zv_sb_quarantine_close(b, id, "dropped", "by b", 10) == 0,
          "b closes in a transaction: %s", zv_sb_errmsg(b));
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        zv_sb *c = open_node("node-c");
        int r = c ? zv_sb_quarantine_close(c, id, "dropped", "by c", 11) : -1;
        zv_sb_close(c);
        _exit(r == 1 ? 0 : r == 0 ? 1 : 2);
    }
    CHECK(pid > 0, "fork");
    usleep(300000); /* c waits on the lock (or comes later: the same answer) */
    CHECK(zv_sb_commit(b) == 0, "b commits: %s", zv_sb_errmsg(b));
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "c found it closed (exit %d)", WEXITSTATUS(st));
    struct qseen s = {0};
    CHECK(zv_sb_quarantine_get(a, id, take_q, &s) == 0 && s.closed == 1 &&
              strstr(s.outcome, "by b"),
          "a sees it dropped by b: %s", s.outcome);
    struct qaudit au = {0};
    CHECK(zv_sb_audit_each(a, take_qaudit, &au) == 0 && au.quarantine == 1, "one audit entry: %d",
          au.quarantine);
    /* A close rolled back leaves the entry open for the next one. */
    int64_t id2 = 0;
    CHECK(zv_sb_quarantine_add(a, &q, &id2) == 0, "add 2");
    CHECK(zv_sb_begin(b) == 0 && zv_sb_quarantine_close(b, id2, "staged", "by b", 12) == 0,
          "close");
    zv_sb_rollback(b);
    CHECK(zv_sb_quarantine_close(a, id2, "dropped", "by a", 13) == 0, "a closes it after all");
    zv_sb_close(b);
    zv_sb_close(a);
}

/* A database at version 1 is brought to the current one, step by step. */
static void case_migrate(void)
{
#ifdef ZV_HAVE_POSTGRESQL
    CHECK(fresh_store("migrate") == 0, "store");
    zv_sb *b = open_node("n1");
    CHECK(b, "open");
    zv_sb_close(b);
    /* Back to what version 1 made. */
    CHECK(pg_admin(pg_db, "DROP TABLE seen; DROP TABLE source_lease; DROP TABLE circuit; "
                          "DROP TABLE staged; DROP TABLE batch_seq; DROP TABLE sent_digest; "
                          "DROP INDEX quarantine_open; DROP TABLE source_item; "
                          "DROP FUNCTION zv_staged_item_gone(); DROP INDEX quarantine_due; "
                          "DELETE FROM zv_schema WHERE version > 1") == 0,
          "downgrade");
    b = open_node("n1");
    CHECK(b && zv_sb_schema_version(b) == ZV_PG_SCHEMA_VERSION, "migrated");
    CHECK(zv_sb_seen(b, "s", "r", "h") == 0, "the new table is there");
    CHECK(zv_sb_circuit_set(b, "d", 5000, "down") == 0, "and the circuit table");
    CHECK(zv_sb_stage(b, "d", 0, (const unsigned char *)"r", 1, 0, "k") == 0 &&
              zv_sb_staged_count(b, "d") == 1 && zv_sb_sent_same(b, "d", "k", "x") == 0,
          "and staging (step 4): %s", zv_sb_errmsg(b));
    int64_t item = 0;
    char *ij = NULL, *mv = NULL;
    CHECK(zv_sb_item_put(b, "s", "r", "{}", "m1", &item) == 0 &&
              zv_sb_item_get(b, "s", "r", &ij, &mv) == 0 && ij && strcmp(ij, "{}") == 0,
          "and the source items (step 5): %s", zv_sb_errmsg(b));
    free(ij);
    free(mv);
    int64_t until = 0;
    char by[64] = "";
    CHECK(zv_sb_circuit_get(b, "d", 4000, &until, by, sizeof(by)) == 1 && until == 5000 &&
              strcmp(by, "n1") == 0,
          "circuit open until 5000 by n1: %" PRId64 " %s", until, by);
    CHECK(zv_sb_circuit_get(b, "d", 5000, &until, by, sizeof(by)) == 0, "ended at 5000");
    CHECK(zv_sb_circuit_set(b, "d", 5000, "down") == 0 && zv_sb_circuit_set(b, "d", 0, NULL) == 0 &&
              zv_sb_circuit_get(b, "d", 4000, &until, by, sizeof(by)) == 0,
          "closed");
    zv_sb_close(b);
    char sql[128];
    snprintf(sql, sizeof(sql),
             "DO $$ BEGIN IF (SELECT count(*) FROM zv_schema) <> %d THEN "
             "RAISE 'steps'; END IF; END $$",
             ZV_PG_SCHEMA_VERSION);
    CHECK(pg_admin(pg_db, sql) == 0, "every step recorded");
#endif
}

#ifdef ZV_HAVE_POSTGRESQL
static int write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    fclose(f);
    return chmod(path, mode);
}
#endif

/* The password from store_password_file or PGPASSWORD reaches the server
 * (the cluster makes zinvol_pw give one); a wrong one is refused. */
static void case_password(void)
{
#ifdef ZV_HAVE_POSTGRESQL
    CHECK(fresh_store("password") == 0, "store");
    char sql[256];
    pg_admin("postgres", "DROP ROLE IF EXISTS zinvol_pw");
    CHECK(pg_admin("postgres", "CREATE ROLE zinvol_pw LOGIN PASSWORD 'S3cret-pw'") == 0, "role");
    snprintf(sql, sizeof(sql), "ALTER DATABASE %s OWNER TO zinvol_pw", pg_db);
    CHECK(pg_admin("postgres", sql) == 0, "owner");
    char url[512], err[512], pwf[300];
    snprintf(url, sizeof(url), "postgresql://zinvol_pw@/%s?host=%s", pg_db, getenv("ZV_PG_HOST"));
    snprintf(pwf, sizeof(pwf), "%s/pw", tmpdir);
    zv_store_target t;
    unsetenv("PGPASSWORD");
    CHECK(write_file(pwf, "S3cret-pw\n", 0640) == 0, "write");
    CHECK(zv_store_target_parse(url, NULL, pwf, &t, err, sizeof(err)) == 0, "%s", err);
    zv_sb *b = zv_sb_open(&t, "n1", err, sizeof(err));
    CHECK(b, "with the file: %s", err);
    zv_sb_close(b);
    CHECK(chmod(pwf, 0644) == 0, "chmod");
    b = zv_sb_open(&t, "n1", err, sizeof(err));
    CHECK(!b && strstr(err, "others may read it"), "a world-readable file: %s", err);
    CHECK(write_file(pwf, "wrong\n", 0600) == 0, "write");
    b = zv_sb_open(&t, "n1", err, sizeof(err));
    CHECK(!b && strstr(err, "password authentication failed"), "wrong password: %s", err);
    zv_store_target_free(&t);
    CHECK(zv_store_target_parse(url, NULL, NULL, &t, err, sizeof(err)) == 0, "%s", err);
    b = zv_sb_open(&t, "n1", err, sizeof(err));
    CHECK(!b, "no password at all");
    setenv("PGPASSWORD", "S3cret-pw", 1);
    b = zv_sb_open(&t, "n1", err, sizeof(err));
    unsetenv("PGPASSWORD");
    CHECK(b, "with PGPASSWORD: %s", err);
    zv_sb_close(b);
    zv_store_target_free(&t);
#endif
}

/* The setting's forms; no server needed. */
static void case_target(void)
{
    zv_store_target t;
    char err[512];
    CHECK(zv_store_target_parse("zinvol.db", "/var/lib/zinvol", NULL, &t, err, sizeof(err)) == 0 &&
              t.kind == ZV_STORE_SQLITE && strcmp(t.path, "/var/lib/zinvol/zinvol.db") == 0,
          "relative file");
    zv_store_target_free(&t);
    CHECK(zv_store_target_parse("zinvol.db", "/s", "/etc/pw", &t, err, sizeof(err)) < 0 &&
              strstr(err, "store_password_file is for a postgresql"),
          "password file with SQLite: %s", err);
    CHECK(zv_store_target_parse("mysql://db/x", "/s", NULL, &t, err, sizeof(err)) < 0 &&
              strstr(err, "postgresql:// URL"),
          "other scheme: %s", err);
    CHECK(zv_store_target_parse("postgresql://zinvol:hunter2@db/zinvol", NULL, NULL, &t, err,
                                sizeof(err)) < 0 &&
              strstr(err, "holds a password") && !strstr(err, "hunter2"),
          "password in the URL: %s", err);
    if (!zv_store_have_postgresql()) return;
    CHECK(zv_store_target_parse("postgresql://zinvol@db/zinvol?sslmode=verify-full", NULL, NULL, &t,
                                err, sizeof(err)) == 0 &&
              t.kind == ZV_STORE_POSTGRESQL,
          "the issue's URL: %s", err);
    zv_store_target_free(&t);
    CHECK(zv_store_target_parse("postgresql://zinvol@db/zinvol?password=hunter2", NULL, NULL, &t,
                                err, sizeof(err)) < 0 &&
              strstr(err, "password=") && !strstr(err, "hunter2"),
          "password= in the URL: %s", err);
    CHECK(zv_store_target_parse("postgresql://db/zinvol?nosuchoption=1", NULL, NULL, &t, err,
                                sizeof(err)) < 0 &&
              strstr(err, "nosuchoption"),
          "unknown option: %s", err);
}

/* Child: claims up to 3 at a time under a cluster-wide limit of 4, looks
 * at how many rows of the destination are in flight on all nodes, holds
 * its rows a moment (a send), delivers them; writes the most it saw. */
enum { CAP = 4 };
static int capped_node(const char *node, int fd)
{
    zv_sb *b = open_node(node);
    if (!b) return 1;
    int64_t most = 0;
    for (int idle = 0; idle < 200;) {
        struct got g = {0};
        int n = zv_sb_claim_capped(b, "ciz", (zv_now() + 5) * 1000, 60000, 3, CAP, collect, &g);
        if (n < 0) {
            fprintf(stderr, "%s claim: %s\n", node, zv_sb_errmsg(b));
            return 1;
        }
        if (n == 0) {
            if (zv_sb_outbox_count(b, "ciz", "pending") == 0) break;
            idle++;
            usleep(2000);
            continue;
        }
        int64_t now = zv_sb_outbox_count(b, "ciz", "inflight");
        if (now > most) most = now;
        usleep(3000);
        for (int i = 0; i < g.n; i++)
            if (zv_sb_delivered(b, g.ids[i], zv_now()) < 0) {
                fprintf(stderr, "%s delivered: %s\n", node, zv_sb_errmsg(b));
                return 1;
            }
    }
    dprintf(fd, "%" PRId64 "\n", most);
    zv_sb_close(b);
    return 0;
}

static void case_concurrency_three_nodes(void)
{
    enum { ROWS = 240 };
    CHECK(fresh_store("capped") == 0, "store");
    zv_sb *b = open_node("loader");
    CHECK(b, "open");
    CHECK(zv_sb_begin(b) == 0, "begin");
    for (int i = 0; i < ROWS; i++) {
        char key[32];
        snprintf(key, sizeof(key), "c-%05d", i);
        CHECK(put(b, "ciz", key, "<m/>", 4) == 0, "enqueue %d", i);
    }
    CHECK(zv_sb_commit(b) == 0, "commit");
    zv_sb_close(b);
    char out[300];
    snprintf(out, sizeof(out), "%s/capped", tmpdir);
    CHECK(run_children(3, capped_node, out) == 0, "a node failed");
    long long most = 0;
    for (int i = 0; i < 3; i++) {
        char path[320];
        snprintf(path, sizeof(path), "%s.%d", out, i);
        FILE *f = fopen(path, "r");
        CHECK(f, "%s", path);
        long long m = 0;
        CHECK(fscanf(f, "%lld", &m) == 1, "%s", path);
        fclose(f);
        if (m > most) most = m;
    }
    printf("  concurrency: at most %lld in flight on 3 nodes (limit %d, 3 per node)\n", most,
           (int)CAP);
    CHECK(most <= CAP, "%lld in flight at once, over the limit of %d", most, (int)CAP);
    CHECK(most >= 2, "never more than one in flight: the nodes did not work at once");
    b = open_node("checker");
    CHECK(b, "open");
    CHECK(zv_sb_outbox_count(b, "ciz", "delivered") == ROWS, "all delivered");
    zv_sb_close(b);
}

int main(int argc, char **argv)
{
    kind_name = argc > 1 ? argv[1] : "sqlite";
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/zv-backends-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    if (strcmp(kind_name, "postgresql") == 0) {
        if (!zv_store_have_postgresql()) {
            printf("SKIP: built without the PostgreSQL store (libpq-dev)\n");
            return 77;
        }
        if (!getenv("ZV_PG_HOST") || !getenv("ZV_PG_USER")) {
            printf("SKIP: no test cluster (run through tests/pg/run_pg.sh)\n");
            return 77;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    struct {
        const char *name;
        void (*fn)(void);
        int pg_only;
    } cases[] = {{"target", case_target, 0},
                 {"schema", case_schema, 0},
                 {"outbox", case_outbox, 0},
                 {"delivered_many", case_delivered_many, 0},
                 {"audit_text", case_audit_text, 0},
                 {"tamper", case_tamper, 0},
                 {"sources", case_sources, 0},
                 {"staging", case_staging, 0},
                 {"lifecycle", case_lifecycle, 0},
                 {"quarantine_two_nodes", case_quarantine_two_nodes, 1},
                 {"staged_two_nodes", case_staged_two_nodes, 1},
                 {"seen_two_nodes", case_seen_two_nodes, 1},
                 {"source_lease", case_source_lease, 1},
                 {"source_lease_race", case_source_lease_race, 1},
                 {"migrate", case_migrate, 1},
                 {"reconnect", case_reconnect, 1},
                 {"password", case_password, 1},
                 {"lease", case_lease, 1},
                 {"claims_three_nodes", case_claims_three_nodes, 1},
                 {"concurrency_three_nodes", case_concurrency_three_nodes, 1},
                 {"audit_three_nodes", case_audit_three_nodes, 1}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].pg_only && strcmp(kind_name, "postgresql") != 0) continue;
        int before = failures;
        cases[i].fn();
        printf("%s %s/%s\n", failures == before ? "ok" : "FAIL", kind_name, cases[i].name);
#ifdef ZV_HAVE_POSTGRESQL
        if (pg_db[0]) {
            char sql[128];
            snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", pg_db);
            pg_admin("postgres", sql);
            pg_db[0] = '\0';
        }
#endif
    }
    zv_store_target_free(&target);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return failures ? 1 : 0;
}
