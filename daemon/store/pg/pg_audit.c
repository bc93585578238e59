/*
 * The PostgreSQL audit trail: one chain for every node.
 *
 * An append locks the head row (SELECT .. FOR UPDATE) before it reads the
 * previous hash, and holds it until its transaction ends, so appends from
 * any number of nodes take turns and each one's "previous" is the entry
 * really before it.  Hashes are those of the SQLite store (store_chain.c).
 *
 * The "delivered" entries of a transaction (the delivery engine records
 * many outcomes in one) are chained at its commit, all in one statement, so
 * the head is held for three round trips per transaction (lock, insert,
 * commit) however many outcomes it has; the commit does not wait for the
 * disk while holding it (ZV_PG_FAST_SQL, then the wait after it).
 */
#include "pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

#include "store/store_chain.h"

/* The head, locked until the transaction ends: 0, or -1. */
static int head_lock(zv_sb *b, int64_t *seq, char prev[65])
{
    /* Every node's appends queue for the head: it is held until the commit,
     * not through the commit's wait for the disk. */
    static const char head_sql[] = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";
    PGresult *r = NULL;
    if (PG(b)->fast == 1) {
        r = zv_pg_qp(b, ZV_PG_ST_AUDIT_HEAD, "audit head", head_sql, 0, NULL, NULL, NULL);
    } else {
        /* The commit mode and the lock in one round trip. */
        const zv_pg_step st[] = {{-1, ZV_PG_FAST_SQL, 0, NULL},
                                 {ZV_PG_ST_AUDIT_HEAD, head_sql, 0, NULL}};
        if (zv_pg_pipeline(b, "audit head", st, 2, 1, &r) == 0) PG(b)->fast = 1;
    }
    if (!r) return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return zv_pg_fail(b, "audit head: the head row is missing (the trail was tampered with)");
    }
    *seq = zv_pg_get_i64(r, 0, 0);
    snprintf(prev, 65, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    return 0;
}

/* Entries per INSERT (12 parameters each). */
#define CHAIN_ROWS 32

/* e[0..n) after the head (seq, prev): hashed in order, inserted with one
 * statement that also moves the head to the last of them. */
static int insert_chained(zv_sb *b, zv_audit_entry *e, size_t n, int64_t *seq, char prev[65])
{
    char sq[CHAIN_ROWS][24], at[CHAIN_ROWS][24], hash[CHAIN_ROWS][65];
    const char *v[2 + 12 * CHAIN_ROWS];
    for (size_t i = 0; i < n; i++) {
        e[i].seq = ++*seq;
        zv_audit_entry_hash(prev, &e[i], hash[i]);
        memcpy(prev, hash[i], 65);
        const char *row[] = {zv_pg_i64(sq[i], e[i].seq),
                             zv_pg_i64(at[i], e[i].at),
                             e[i].kind,
                             e[i].destination,
                             e[i].idem_key,
                             e[i].message,
                             e[i].fields,
                             e[i].payload_sha256,
                             e[i].detail,
                             hash[i],
                             e[i].clients,
                             e[i].citations};
        memcpy(&v[2 + 12 * i], row, sizeof(row));
    }
    v[0] = sq[n - 1];
    v[1] = hash[n - 1];
    zv_buf sql;
    zv_buf_init(&sql);
    zv_buf_puts(&sql, "WITH h AS (UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1) "
                      "INSERT INTO audit(seq, at, kind, destination, idem_key, message, fields, "
                      "payload_sha256, detail, hash, clients, citations) VALUES");
    for (size_t i = 0; i < n; i++) {
        zv_buf_puts(&sql, i ? ", (" : " (");
        for (int j = 0; j < 12; j++)
            zv_buf_printf(&sql, "%s$%d", j ? ", " : "", (int)(3 + 12 * i + (size_t)j));
        zv_buf_puts(&sql, ")");
    }
    if (!sql.data) return zv_pg_fail(b, "audit: out of memory");
    PGresult *r = n == 1 ? zv_pg_qp(b, ZV_PG_ST_AUDIT_INS, "audit", sql.data, 14, v, NULL, NULL)
                         : zv_pg_q(b, "audit", sql.data, 2 + 12 * (int)n, v, NULL, NULL);
    zv_buf_free(&sql);
    if (!r) return -1;
    PQclear(r);
    return 0;
}

static void entry_free(zv_audit_entry *e)
{
    const char *s[] = {e->kind,           e->destination, e->idem_key, e->message, e->fields,
                       e->payload_sha256, e->detail,      e->hash,     e->clients, e->citations};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        free((char *)s[i]);
}

void zv_pg_audit_drop(zv_sb *b)
{
    zv_pg *p = PG(b);
    for (size_t i = 0; i < p->ndefer; i++)
        entry_free(&p->defer[i]);
    p->ndefer = 0;
}

int zv_pg_audit_defer(zv_sb *b, const zv_audit_entry *in)
{
    zv_pg *p = PG(b);
    if (p->ndefer == p->capdefer) {
        size_t cap = p->capdefer ? p->capdefer * 2 : 16;
        zv_audit_entry *d = realloc(p->defer, cap * sizeof(*d));
        if (!d) return zv_pg_fail(b, "audit: out of memory");
        p->defer = d;
        p->capdefer = cap;
    }
    zv_audit_entry e = {.at = in->at,
                        .kind = zv_strdup0(in->kind),
                        .destination = zv_strdup0(in->destination),
                        .idem_key = zv_strdup0(in->idem_key),
                        .message = zv_strdup0(in->message),
                        .fields = zv_strdup0(in->fields),
                        .payload_sha256 = zv_strdup0(in->payload_sha256),
                        .detail = zv_strdup0(in->detail),
                        .clients = zv_strdup0(in->clients),
                        .citations = zv_strdup0(in->citations)};
    if ((in->kind && !e.kind) || (in->destination && !e.destination) ||
        (in->idem_key && !e.idem_key) || (in->message && !e.message) || (in->fields && !e.fields) ||
        (in->payload_sha256 && !e.payload_sha256) || (in->detail && !e.detail) ||
        (in->clients && !e.clients) || (in->citations && !e.citations)) {
        entry_free(&e);
        return zv_pg_fail(b, "audit: out of memory");
    }
    p->defer[p->ndefer++] = e;
    return 0;
}

int zv_pg_audit_flush(zv_sb *b)
{
    zv_pg *p = PG(b);
    if (!p->ndefer) return 0;
    int64_t seq;
    char prev[65];
    int rc = head_lock(b, &seq, prev);
    for (size_t i = 0; rc == 0 && i < p->ndefer; i += CHAIN_ROWS) {
        size_t n = p->ndefer - i < CHAIN_ROWS ? p->ndefer - i : CHAIN_ROWS;
        rc = insert_chained(b, &p->defer[i], n, &seq, prev);
    }
    zv_pg_audit_drop(b);
    return rc;
}

int zv_pg_audit_append_locked(zv_sb *b, const zv_audit_entry *in, int64_t *seq)
{
    /* Deferred entries of this transaction came first. */
    if (zv_pg_audit_flush(b) < 0) return -1;
    int64_t head;
    char prev[65];
    if (head_lock(b, &head, prev) < 0) return -1;
    zv_audit_entry e = *in;
    if (insert_chained(b, &e, 1, &head, prev) < 0) return -1;
    if (seq) *seq = e.seq;
    return 0;
}

int zv_pg_audit_append(zv_sb *b, const zv_audit_entry *e, int64_t *seq)
{
    int own;
    if (zv_pg_op_begin(b, &own) < 0) return -1;
    return zv_pg_op_end(b, own, zv_pg_audit_append_locked(b, e, seq));
}

/* Streams the trail in seq order (one row in memory at a time). */
static int audit_rows(zv_sb *b, int (*fn)(const zv_audit_entry *e, void *arg), void *arg)
{
    PGconn *c = PG(b)->c;
    if (!PQsendQuery(c,
                     "SELECT seq, at, kind, destination, idem_key, message, fields, "
                     "payload_sha256, detail, hash, clients, citations FROM audit ORDER BY seq") ||
        !PQsetSingleRowMode(c))
        return zv_pg_fail(b, "audit: %s", PQerrorMessage(c));
    int rc = 0, stop = 0;
    PGresult *r;
    while ((r = PQgetResult(c))) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE && !stop) {
            zv_audit_entry e = {.seq = zv_pg_get_i64(r, 0, 0),
                                .at = zv_pg_get_i64(r, 0, 1),
                                .kind = zv_pg_get_text(r, 0, 2),
                                .destination = zv_pg_get_text(r, 0, 3),
                                .idem_key = zv_pg_get_text(r, 0, 4),
                                .message = zv_pg_get_text(r, 0, 5),
                                .fields = zv_pg_get_text(r, 0, 6),
                                .payload_sha256 = zv_pg_get_text(r, 0, 7),
                                .detail = zv_pg_get_text(r, 0, 8),
                                .hash = zv_pg_get_text(r, 0, 9),
                                .clients = zv_pg_get_text(r, 0, 10),
                                .citations = zv_pg_get_text(r, 0, 11)};
            stop = fn(&e, arg);
        } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && rc == 0) {
            const char *m = PQresultErrorMessage(r);
            rc = zv_pg_fail(b, "audit: %.*s", (int)strcspn(m, "\n"), m);
        }
        PQclear(r); /* the rest is read and dropped: the connection must be idle after */
    }
    return rc;
}

struct each_ctx {
    zv_audit_cb cb;
    void *arg;
};

static int each_fn(const zv_audit_entry *e, void *arg)
{
    struct each_ctx *c = arg;
    return c->cb(e, c->arg);
}

int zv_pg_audit_each(zv_sb *b, zv_audit_cb cb, void *arg)
{
    struct each_ctx c = {cb, arg};
    return audit_rows(b, each_fn, &c);
}

static int verify_fn(const zv_audit_entry *e, void *arg)
{
    return zv_audit_chain_step(arg, e);
}

int zv_pg_audit_verify(zv_sb *b, int64_t *count, int64_t *bad_seq, char *why, size_t whylen)
{
    zv_audit_chain v;
    zv_audit_chain_init(&v, why, whylen);
    /* The rows and the head from one snapshot, while nodes go on appending. */
    int own = !PG(b)->open;
    if (own && zv_pg_cmd(b, "audit verify", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") < 0)
        return -1;
    int rc = audit_rows(b, verify_fn, &v);
    PGresult *r = rc < 0 ? NULL
                         : zv_pg_q(b, "audit head", "SELECT seq, hash FROM audit_head WHERE id = 1",
                                   0, NULL, NULL, NULL);
    if (!r) rc = -1;
    int have = r && PQntuples(r) == 1;
    int64_t hseq = have ? zv_pg_get_i64(r, 0, 0) : 0;
    char hhash[65] = "";
    if (have) snprintf(hhash, sizeof(hhash), "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    if (own) zv_pg_cmd(b, "audit verify", rc < 0 ? "ROLLBACK" : "COMMIT");
    if (rc < 0) return -1;
    return zv_audit_chain_end(&v, have, hseq, hhash, count, bad_seq);
}
