/* Store handle: open, schema, transactions, statement cache. */
#include "store_iface.h"
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Durability: WAL with synchronous=FULL syncs the WAL at every commit, so a
 * committed enqueue survives power loss as well as a killed process.  The
 * cost is one fsync per transaction, which group commit (many enqueues per
 * transaction) amortises; tests/bench/store_bench.c measures it. */
static const char *const schema =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    /* Fewer, larger checkpoints: each one fsyncs the database file. */
    "PRAGMA wal_autocheckpoint=4000;"
    "PRAGMA cache_size=-32768;"
    "PRAGMA foreign_keys=OFF;"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS watermark(source TEXT, key TEXT, value TEXT,"
    " PRIMARY KEY(source, key));"
    "CREATE TABLE IF NOT EXISTS seen(source TEXT, record_id TEXT, hash TEXT,"
    " PRIMARY KEY(source, record_id, hash)) WITHOUT ROWID;"
    /* What was last sent per destination and record key: a digest of the
     * minimised content the format renders (core/change.h). */
    "CREATE TABLE IF NOT EXISTS sent_digest(destination TEXT, record_key TEXT, digest TEXT,"
    " message TEXT, at INTEGER, PRIMARY KEY(destination, record_key)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS quarantine(id INTEGER PRIMARY KEY, created INTEGER,"
    " source TEXT, record_id TEXT, stage TEXT, destination TEXT, field TEXT, rule TEXT,"
    " reason TEXT, item_json TEXT, record BLOB);"
    "CREATE TABLE IF NOT EXISTS staged(id INTEGER PRIMARY KEY, destination TEXT NOT NULL,"
    " message INTEGER, rec BLOB, created INTEGER);"
    "CREATE INDEX IF NOT EXISTS staged_dest ON staged(destination, id);"
    "CREATE TABLE IF NOT EXISTS batch_seq(destination TEXT PRIMARY KEY, seq INTEGER);"
    "CREATE TABLE IF NOT EXISTS counters(destination TEXT, field TEXT, what TEXT,"
    " n INTEGER, PRIMARY KEY(destination, field, what));"
    "CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY, destination TEXT NOT NULL,"
    " message TEXT, idem_key TEXT NOT NULL, payload BLOB, content_type TEXT, extension TEXT,"
    " fields_json TEXT, records_json TEXT, state TEXT NOT NULL DEFAULT 'pending',"
    " attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL DEFAULT 0,"
    " first_enqueued INTEGER NOT NULL, last_error TEXT, delivered_at INTEGER,"
    " UNIQUE(destination, idem_key));"
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox(destination, next_attempt)"
    " WHERE state = 'pending';"
    "CREATE INDEX IF NOT EXISTS outbox_prune ON outbox(delivered_at)"
    " WHERE state = 'delivered' AND payload IS NOT NULL;"
    /* The oldest payload not yet delivered, per destination: /healthz asks
     * for it on every probe (admin/health.c); without this index each probe
     * scanned the whole outbox on the loop (issue 9). */
    "CREATE INDEX IF NOT EXISTS outbox_live ON outbox(destination, first_enqueued)"
    " WHERE state IN ('pending', 'inflight');"
    "CREATE TABLE IF NOT EXISTS dead_letter(id INTEGER PRIMARY KEY, outbox_id INTEGER NOT NULL,"
    " created INTEGER, destination TEXT, record_key TEXT, record_ref TEXT, reason TEXT,"
    " codes TEXT, http_status INTEGER);"
    "CREATE TABLE IF NOT EXISTS verdict(outbox_id INTEGER, record_key TEXT, accepted INTEGER,"
    " at INTEGER, PRIMARY KEY(outbox_id, record_key));"
    "CREATE TABLE IF NOT EXISTS audit(seq INTEGER PRIMARY KEY, at INTEGER, kind TEXT,"
    " destination TEXT, idem_key TEXT, message TEXT, fields TEXT, payload_sha256 TEXT,"
    " detail TEXT, hash TEXT NOT NULL, clients TEXT);"
    /* Which clients each audit entry is about (pseudonymous keys; the chained
     * audit.clients column is the truth, this is its index). */
    "CREATE TABLE IF NOT EXISTS audit_client(client_key TEXT, seq INTEGER,"
    " PRIMARY KEY(client_key, seq)) WITHOUT ROWID;"
    /* What each payload says about each client, for disclosure while the
     * payload is retained; pruned together with the payload. */
    "CREATE TABLE IF NOT EXISTS disclosure(outbox_id INTEGER, client_key TEXT,"
    " record_ref TEXT, values_json TEXT);"
    "CREATE INDEX IF NOT EXISTS disclosure_client ON disclosure(client_key, outbox_id);"
    "CREATE INDEX IF NOT EXISTS disclosure_outbox ON disclosure(outbox_id);"
    "CREATE TABLE IF NOT EXISTS audit_head(id INTEGER PRIMARY KEY CHECK(id = 1),"
    " seq INTEGER, hash TEXT);";

int zv_store_fail(zv_store *s, const char *what)
{
    snprintf(s->err, sizeof(s->err), "%s: %s", what, sqlite3_errmsg(s->db));
    if (s->unit)
        s->unit_failed = 1; /* the unit fails, not the group it is in */
    else if (s->open && !(s->wr && s->group))
        s->failed = 1; /* (a read between the units of a group changes nothing) */
    return -1;
}

int zv_store_exec(zv_store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(s->err, sizeof(s->err), "%s", msg ? msg : "sqlite error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int zv_store_run(zv_store *s, const char *sql)
{
    sqlite3_stmt *st = zv_store_prep(s, sql);
    if (!st) return -1;
    int rc = sqlite3_step(st);
    s->last_rc = rc;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
    zv_store_unprep(s, st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

sqlite3_stmt *zv_store_stmt(zv_store *s, enum zv_stmt_id id, const char *sql)
{
    if (!s->st[id]) {
        if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st[id], NULL) !=
            SQLITE_OK) {
            zv_store_fail(s, "prepare");
            return NULL;
        }
    } else {
        sqlite3_reset(s->st[id]);
        sqlite3_clear_bindings(s->st[id]);
    }
    return s->st[id];
}

sqlite3_stmt *zv_store_prep(zv_store *s, const char *sql)
{
    struct zv_store_cached *free_slot = NULL;
    for (int i = 0; i < ZV_STORE_CACHE; i++) {
        struct zv_store_cached *c = &s->cache[i];
        if (c->sql == sql && !c->busy) {
            c->busy = 1;
            return c->st;
        }
        if (!c->sql && !free_slot) free_slot = c;
    }
    sqlite3_stmt *st = NULL;
    unsigned flags = free_slot ? SQLITE_PREPARE_PERSISTENT : 0;
    if (sqlite3_prepare_v3(s->db, sql, -1, flags, &st, NULL) != SQLITE_OK) {
        zv_store_fail(s, "prepare");
        return NULL;
    }
    if (free_slot) *free_slot = (struct zv_store_cached){sql, st, 1};
    return st;
}

void zv_store_unprep(zv_store *s, sqlite3_stmt *st)
{
    if (!st) return;
    for (int i = 0; i < ZV_STORE_CACHE; i++)
        if (s->cache[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            s->cache[i].busy = 0;
            return;
        }
    sqlite3_finalize(st);
}

void zv_store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

const char *zv_store_col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

zv_store *zv_store_open(const char *path, char *err, size_t errlen)
{
    /* Never an SQLite file named after a URL (store_iface.h opens those). */
    if (zv_store_is_url(path)) {
        snprintf(err, errlen,
                 "a PostgreSQL store: in this version zinvold and zinvolctl's "
                 "commands run on an SQLite store; `zinvolctl store check` and "
                 "`store copy` use PostgreSQL");
        return NULL;
    }
    zv_store *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* Before SQLite creates anything: its -wal/-shm take the file's mode. */
    if (zv_store_file_modes(path, err, errlen) < 0) {
        zv_store_close(s);
        return NULL;
    }
    /* FULLMUTEX: the daemon's writer thread commits on this connection. */
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
        zv_store_close(s);
        return NULL;
    }
    /* zinvolctl may hold the file briefly while the daemon runs. */
    sqlite3_busy_timeout(s->db, 5000);
    if (zv_store_exec(s, schema) < 0) goto fail;
    if (zv_store_migrate_clients(s) < 0) goto fail;
    if (zv_store_migrate_lifecycle(s) < 0) goto fail;
    if (zv_store_schema_check(s) < 0) goto fail;
    return s;
fail:
    snprintf(err, errlen, "%s: %s", path, s->err);
    zv_store_close(s);
    return NULL;
}

zv_store *zv_store_open_reader(zv_store *s, char *err, size_t errlen)
{
    zv_store *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    const char *path = sqlite3_db_filename(s->db, "main");
    /* Read-write only for TEMP tables (store_flows.c): nothing here writes
     * the file, and no statement takes its write lock. */
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) !=
            SQLITE_OK ||
        zv_store_exec(r, "PRAGMA cache_size=-8192") < 0) {
        snprintf(err, errlen, "%s: the reader's connection: %s", path,
                 r->db ? sqlite3_errmsg(r->db) : "cannot open");
        zv_store_close(r);
        return NULL;
    }
    /* A WAL reader waits only for the moment the WAL index is rebuilt. */
    sqlite3_busy_timeout(r->db, 1000);
    return r;
}

zv_store *zv_store_reader(zv_store *s)
{
    return s && s->reader ? s->reader : s;
}

void zv_store_close(zv_store *s)
{
    if (!s) return;
    zv_store_writer_stop(s);
    for (int i = 0; i < ZV_ST__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    for (int i = 0; i < ZV_STORE_CACHE; i++)
        sqlite3_finalize(s->cache[i].st);
    if (s->db) sqlite3_close(s->db);
    free(s);
}

const char *zv_store_errmsg(zv_store *s)
{
    return s ? s->err : "no store";
}

int64_t zv_store_recovered(const zv_store *s)
{
    return s->recovered;
}

int64_t zv_store_outbox_recover(zv_store *s)
{
    /* At-least-once: whatever was in flight when the process died is sent
     * again, with the same idempotency key. */
    if (zv_store_exec(s, "UPDATE outbox SET state = 'pending' WHERE state = 'inflight'") < 0)
        return -1;
    s->recovered = sqlite3_changes(s->db);
    return s->recovered;
}
