/*
 * store_backends_bench STORE ROWS BATCH CLAIM NODES: the same work on
 * either backend of the store interface.
 *
 *   STORE   an SQLite file (made afresh) or a postgresql:// URL of an empty
 *           database
 *   ROWS    payloads of 600 bytes enqueued, BATCH per transaction (durable
 *           commit per batch: group commit)
 *   CLAIM   rows per claim while draining them, each marked delivered (with
 *           its audit entry); ZV_PG_PREPARE=0 in the environment: without
 *           prepared statements, for the before/after
 *   NODES   processes draining at once (sqlite: 1)
 *
 * Prints one line per phase: rows/s, and ms per payload for claim and for
 * delivered.  Figures only; nothing is asserted but that every row was
 * delivered once and the chain verifies.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zinvol/util.h>

#include "store/store_iface.h"

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct drain_stats {
    int64_t rows, claim_ns, delivered_ns;
    int failed;
};

static int collect(const zv_outbox_row *r, void *arg)
{
    int64_t *ids = arg;
    ids[++ids[0]] = r->id;
    return 0;
}

static zv_sb *open_store(const char *spec, const char *node)
{
    char err[512];
    zv_store_target t;
    if (zv_store_target_parse(spec, NULL, NULL, &t, err, sizeof(err)) < 0) {
        fprintf(stderr, "store_backends_bench: %s\n", err);
        return NULL;
    }
    zv_sb *b = zv_sb_open(&t, node, err, sizeof(err));
    zv_store_target_free(&t);
    if (!b) fprintf(stderr, "store_backends_bench: %s\n", err);
    return b;
}

static int enqueue(zv_sb *b, long rows, long batch, double *secs)
{
    char body[600];
    memset(body, 'x', sizeof(body));
    int64_t t0 = mono_ns();
    for (long i = 0; i < rows; i++) {
        if (i % batch == 0 && zv_sb_begin(b) < 0) return -1;
        char key[32];
        snprintf(key, sizeof(key), "B-%08ld", i);
        memcpy(body, key, strlen(key));
        zv_outbox_new o = {.destination = "bench",
                           .message = "JSON",
                           .idem_key = key,
                           .payload = body,
                           .len = sizeof(body),
                           .content_type = "application/json",
                           .fields_json = "[{\"field\":\"client.bsn\",\"level\":\"law\"}]"};
        int rc = zv_sb_enqueue(b, &o);
        if (rc == 1) fprintf(stderr, "%s was there: not an empty store\n", key);
        if (rc != 0) return -1;
        if ((i + 1) % batch == 0 || i + 1 == rows) {
            if (zv_sb_commit(b) < 0) return -1;
        }
    }
    *secs = (double)(mono_ns() - t0) / 1e9;
    return 0;
}

static void drain(const char *spec, const char *node, long claim, struct drain_stats *st)
{
    zv_sb *b = open_store(spec, node);
    if (!b) {
        st->failed = 1;
        return;
    }
    int64_t *ids = calloc((size_t)claim + 1, sizeof(*ids));
    for (;;) {
        ids[0] = 0;
        int64_t t0 = mono_ns();
        /* As the delivery engine claims: with a cluster-wide cap (here
         * never reached), which takes the destination's claim lock. */
        int n = zv_sb_claim_capped(b, "bench", (zv_now() + 5) * 1000, 60000, (size_t)claim,
                                   (int)claim * 16, collect, ids);
        int64_t t1 = mono_ns();
        st->claim_ns += t1 - t0;
        if (n <= 0) {
            st->failed = n < 0;
            break;
        }
        for (int64_t i = 1; i <= ids[0]; i++)
            if (zv_sb_delivered(b, ids[i], zv_now()) < 0) st->failed = 1;
        st->delivered_ns += mono_ns() - t1;
        st->rows += n;
    }
    if (st->failed) fprintf(stderr, "store_backends_bench %s: %s\n", node, zv_sb_errmsg(b));
    free(ids);
    zv_sb_close(b);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: store_backends_bench STORE ROWS BATCH CLAIM NODES\n");
        return 2;
    }
    const char *spec = argv[1];
    long rows = atol(argv[2]), batch = atol(argv[3]), claim = atol(argv[4]);
    int nodes = atoi(argv[5]);
    int pg = zv_store_is_url(spec);
    if (!pg) {
        unlink(spec);
        nodes = 1; /* one process owns an SQLite file's claims */
    }
    if (rows < 1 || batch < 1 || claim < 1 || nodes < 1 || nodes > 16) return 2;
    const char *kind = pg ? "postgresql" : "sqlite";
    zv_sb *b = open_store(spec, "loader");
    if (!b) return 1;
    double secs = 0;
    if (enqueue(b, rows, batch, &secs) < 0) {
        fprintf(stderr, "enqueue: %s\n", zv_sb_errmsg(b));
        return 1;
    }
    printf("%-10s enqueue   %7ld rows, %5ld per commit: %9.0f rows/s\n", kind, rows, batch,
           (double)rows / secs);
    zv_sb_recover(b);
    struct drain_stats *st = mmap(NULL, sizeof(*st) * (size_t)nodes, PROT_READ | PROT_WRITE,
                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    memset(st, 0, sizeof(*st) * (size_t)nodes);
    int64_t t0 = mono_ns();
    if (nodes == 1) {
        drain(spec, "node1", claim, &st[0]);
    } else {
        for (int i = 0; i < nodes; i++) {
            if (fork() == 0) {
                char node[16];
                snprintf(node, sizeof(node), "node%d", i + 1);
                drain(spec, node, claim, &st[i]);
                _exit(0);
            }
        }
        while (wait(NULL) > 0) {
        }
    }
    double dsecs = (double)(mono_ns() - t0) / 1e9;
    int64_t total = 0, cns = 0, dns = 0;
    int failed = 0;
    for (int i = 0; i < nodes; i++) {
        total += st[i].rows;
        cns += st[i].claim_ns;
        dns += st[i].delivered_ns;
        failed |= st[i].failed;
    }
    printf("%-10s drain     %7" PRId64 " rows, %5ld per claim, %d node%s: %9.0f rows/s; "
           "claim %.3f ms/payload, delivered %.3f ms/payload\n",
           kind, total, claim, nodes, nodes > 1 ? "s" : "", (double)total / dsecs,
           total ? (double)cns / 1e6 / (double)total : 0,
           total ? (double)dns / 1e6 / (double)total : 0);
    int64_t n = 0;
    char why[256];
    int v = zv_sb_audit_verify(b, &n, NULL, why, sizeof(why));
    zv_sb_close(b);
    if (failed || total != rows || v != 0 || n != rows) {
        fprintf(stderr,
                "store_backends_bench: %" PRId64 " of %ld delivered, chain %s (%" PRId64
                " entries)\n",
                total, rows, v == 0 ? "intact" : why, n);
        return 1;
    }
    return 0;
}
