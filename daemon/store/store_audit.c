/*
 * Store: the hash-chained audit trail.
 *
 * Each entry's hash is SHA-256 over the previous entry's hash (64 hex
 * characters; zeros for the first) followed by the entry's canonical text:
 * every column as "<length>:<bytes>\n" ("~\n" for NULL), so no value can be
 * shifted into a neighbour.  audit_head keeps the last sequence number and
 * hash, which catches removal of the newest entries.  Whoever can rewrite the
 * whole file can rewrite the chain too; the chain shows edits made with
 * ordinary tools and, compared with an exported head, any later rewrite.
 */
#include "store_int.h"
#include "store_chain.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <zinvol/json.h>
#include <zinvol/util.h>

/* Head: 0 found, 1 empty trail. */
static int head_get(zv_store *s, int64_t *seq, char hash[65])
{
    sqlite3_stmt *st =
        zv_store_stmt(s, ZV_ST_AUDIT_HEAD, "SELECT seq, hash FROM audit_head WHERE id = 1");
    if (!st) return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return 1;
    if (rc != SQLITE_ROW) return zv_store_fail(s, "audit head");
    *seq = sqlite3_column_int64(st, 0);
    const char *h = zv_store_col_text(st, 1);
    snprintf(hash, 65, "%s", h ? h : "");
    sqlite3_reset(st);
    return 0;
}

static int index_clients(zv_store *s, int64_t seq, const char *clients)
{
    char err[128];
    zv_json_doc *d = zv_json_parse(clients, strlen(clients), 0, err, sizeof(err));
    if (!d) {
        snprintf(s->err, sizeof(s->err), "audit clients: %s", err);
        return -1;
    }
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR IGNORE INTO audit_client(client_key, seq) VALUES(?, ?)", -1,
                           &st, NULL) != SQLITE_OK)
        rc = zv_store_fail(s, "audit clients");
    const zv_json *a = zv_json_root(d);
    for (size_t i = 0; rc == 0 && i < zv_json_len(a); i++) {
        const char *k = zv_json_str(zv_json_get(zv_json_at(a, i), "client"), NULL);
        if (!k) continue;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, seq);
        if (sqlite3_step(st) != SQLITE_DONE) rc = zv_store_fail(s, "audit clients");
    }
    sqlite3_finalize(st);
    zv_json_free(d);
    return rc;
}

int zv_store_audit_append_clients_locked(zv_store *s, int64_t at, const char *kind,
                                         const char *destination, const char *idem_key,
                                         const char *message, const char *fields,
                                         const char *sha256, const char *detail,
                                         const char *clients)
{
    return zv_store_audit_append_cited_locked(s, at, kind, destination, idem_key, message, fields,
                                              sha256, detail, clients, NULL);
}

int zv_store_audit_append_cited_locked(zv_store *s, int64_t at, const char *kind,
                                       const char *destination, const char *idem_key,
                                       const char *message, const char *fields,
                                       const char *sha256, const char *detail,
                                       const char *clients, const char *citations)
{
    int64_t seq = 0;
    char prev[65];
    int h = head_get(s, &seq, prev);
    if (h < 0) return -1;
    if (h == 1) {
        seq = 0;
        memcpy(prev, zv_audit_zero_hash, sizeof(prev));
    }
    zv_audit_entry e = {.seq = seq + 1,
                        .at = at,
                        .kind = kind,
                        .destination = destination,
                        .idem_key = idem_key,
                        .message = message,
                        .fields = fields,
                        .payload_sha256 = sha256,
                        .detail = detail,
                        .clients = clients,
                        .citations = citations};
    char hash[65];
    zv_audit_entry_hash(prev, &e, hash);
    sqlite3_stmt *st =
        zv_store_stmt(s, ZV_ST_AUDIT_INS,
                      "INSERT INTO audit(seq, at, kind, destination, idem_key, message, fields, "
                      "payload_sha256, detail, hash, clients, citations) "
                      "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, e.seq);
    sqlite3_bind_int64(st, 2, at);
    zv_store_bind_text(st, 3, kind);
    zv_store_bind_text(st, 4, destination);
    zv_store_bind_text(st, 5, idem_key);
    zv_store_bind_text(st, 6, message);
    zv_store_bind_text(st, 7, fields);
    zv_store_bind_text(st, 8, sha256);
    zv_store_bind_text(st, 9, detail);
    zv_store_bind_text(st, 10, hash);
    zv_store_bind_text(st, 11, clients);
    zv_store_bind_text(st, 12, citations);
    if (sqlite3_step(st) != SQLITE_DONE) return zv_store_fail(s, "audit");
    if (clients && index_clients(s, e.seq, clients) < 0) return -1;
    st = zv_store_stmt(s, ZV_ST_AUDIT_HEAD_SET,
                       "INSERT OR REPLACE INTO audit_head(id, seq, hash) VALUES(1, ?, ?)");
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, e.seq);
    zv_store_bind_text(st, 2, hash);
    if (sqlite3_step(st) != SQLITE_DONE) return zv_store_fail(s, "audit head");
    return 0;
}

int zv_store_audit_append_locked(zv_store *s, int64_t at, const char *kind, const char *destination,
                                 const char *idem_key, const char *message, const char *fields,
                                 const char *sha256, const char *detail)
{
    return zv_store_audit_append_clients_locked(s, at, kind, destination, idem_key, message,
                                                fields, sha256, detail, NULL);
}

typedef int (*row_fn)(zv_audit_entry *e, void *arg);

static int audit_rows(zv_store *s, row_fn fn, void *arg)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT seq, at, kind, destination, idem_key, message, fields, "
                           "payload_sha256, detail, hash, clients, citations FROM audit ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "audit");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        zv_audit_entry e = {.seq = sqlite3_column_int64(st, 0),
                            .at = sqlite3_column_int64(st, 1),
                            .kind = zv_store_col_text(st, 2),
                            .destination = zv_store_col_text(st, 3),
                            .idem_key = zv_store_col_text(st, 4),
                            .message = zv_store_col_text(st, 5),
                            .fields = zv_store_col_text(st, 6),
                            .payload_sha256 = zv_store_col_text(st, 7),
                            .detail = zv_store_col_text(st, 8),
                            .hash = zv_store_col_text(st, 9),
                            .clients = zv_store_col_text(st, 10),
                            .citations = zv_store_col_text(st, 11)};
        if (fn(&e, arg)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    int ret = rc == SQLITE_DONE ? 0 : zv_store_fail(s, "audit");
    sqlite3_finalize(st);
    return ret;
}

struct each_ctx {
    zv_audit_cb cb;
    void *arg;
};

static int each_fn(zv_audit_entry *e, void *arg)
{
    struct each_ctx *c = arg;
    return c->cb(e, c->arg);
}

int zv_store_audit_each(zv_store *s, zv_audit_cb cb, void *arg)
{
    struct each_ctx c = {cb, arg};
    return audit_rows(s, each_fn, &c);
}

static int verify_fn(zv_audit_entry *e, void *arg)
{
    return zv_audit_chain_step(arg, e);
}

int zv_store_audit_verify(zv_store *s, int64_t *count, int64_t *bad_seq, char *why, size_t whylen)
{
    zv_audit_chain v;
    zv_audit_chain_init(&v, why, whylen);
    /* One read snapshot for the rows and the head. */
    int own = !s->open;
    if (own && zv_store_exec(s, "BEGIN") < 0) return -1;
    int rc = audit_rows(s, verify_fn, &v);
    int64_t hseq = 0;
    char hhash[65] = "";
    int h = rc < 0 ? -1 : head_get(s, &hseq, hhash);
    if (own) zv_store_exec(s, "COMMIT");
    if (rc < 0 || h < 0) return -1;
    return zv_audit_chain_end(&v, h == 0, hseq, hhash, count, bad_seq);
}
