/*
 * The PostgreSQL audit trail: one chain for every node.
 *
 * An append locks the head row (SELECT .. FOR UPDATE) before it reads the
 * previous hash, and holds it until its transaction ends, so appends from
 * any number of nodes take turns and each one's "previous" is the entry
 * really before it.  Hashes are those of the SQLite store (store_chain.c).
 */
#include "pg_int.h"

#include <stdio.h>
#include <string.h>

#include "store/store_chain.h"

int zv_pg_audit_append_locked(zv_sb *b, const zv_audit_entry *in, int64_t *seq)
{
    PGresult *r =
        zv_pg_q(b, "audit head", "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE", 0,
                NULL, NULL, NULL);
    if (!r) return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return zv_pg_fail(b, "audit head: the head row is missing (the trail was tampered with)");
    }
    zv_audit_entry e = *in;
    e.seq = zv_pg_get_i64(r, 0, 0) + 1;
    char prev[65];
    snprintf(prev, sizeof(prev), "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    char hash[65];
    zv_audit_entry_hash(prev, &e, hash);
    char sq[24], at[24];
    const char *v[] = {zv_pg_i64(sq, e.seq),
                       zv_pg_i64(at, e.at),
                       e.kind,
                       e.destination,
                       e.idem_key,
                       e.message,
                       e.fields,
                       e.payload_sha256,
                       e.detail,
                       hash,
                       e.clients,
                       e.citations};
    r = zv_pg_q(b, "audit",
                "INSERT INTO audit(seq, at, kind, destination, idem_key, message, fields, "
                "payload_sha256, detail, hash, clients, citations) "
                "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                12, v, NULL, NULL);
    if (!r) return -1;
    PQclear(r);
    r = zv_pg_q(b, "audit head", "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", 2,
                (const char *[]){sq, hash}, NULL, NULL);
    if (!r) return -1;
    PQclear(r);
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
