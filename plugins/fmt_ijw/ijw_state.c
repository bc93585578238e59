/*
 * Durable history of started products, so that a product is not started
 * twice (TR326), a stop refers to a current start (TR069, OP295) and a
 * cancellation refers to something sent earlier (TR063, TR071).
 *
 * One SQLite file in the instance's state directory.  Rows are keyed by a
 * salted SHA-256 of gemeente, BSN and product key, so the file holds no BSN
 * in clear (the salt is local; this limits casual exposure, it is not
 * protection against someone holding the file, as BSNs are few).
 */
#include "ijw.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include <zinvol/util.h>

/* Statements run per record, prepared once when the store opens. */
enum { ST_GET, ST_PUT, ST_DEL, ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_N };

static const char *const sql[ST_N] = {
    [ST_GET] = "SELECT state, coalesce(reden,''), last_batch, last_record, last_action "
               "FROM product WHERE key = ?",
    [ST_PUT] = "INSERT OR REPLACE INTO product (key, state, reden, last_batch, last_record, "
               "last_action, updated) VALUES (?,?,?,?,?,?,?)",
    [ST_DEL] = "DELETE FROM product WHERE key = ?",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

struct ijw_state {
    sqlite3 *db;
    sqlite3_stmt *st[ST_N];
    char salt[65];
};

/* Run a cached statement that returns no rows. */
static int run(ijw_state *s, int which)
{
    sqlite3_stmt *st = s->st[which];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int prepare_all(ijw_state *s)
{
    for (int i = 0; i < ST_N; i++)
        if (sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) !=
            SQLITE_OK)
            return -1;
    return 0;
}

/* The state check is written with OR: SQLite 3.40 builds a temporary
 * b-tree for a CHECK's IN list on every insert, a third of put_row. */
#define PRODUCT_COLUMNS                                                                            \
    " key TEXT PRIMARY KEY,"                                                                       \
    " state TEXT NOT NULL CHECK (state = 'started' OR state = 'stopped' OR"                        \
    " state = 'cancelled'),"                                                                       \
    " reden TEXT,"                                                                                 \
    " last_batch TEXT NOT NULL, last_record TEXT NOT NULL, last_action TEXT NOT NULL,"             \
    " updated INTEGER NOT NULL"

static const char *schema = "PRAGMA journal_mode=WAL;"
                            "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);"
                            "CREATE TABLE IF NOT EXISTS product (" PRODUCT_COLUMNS ");";

/* A file made before: the same table with the IN check, rebuilt once (the
 * way SQLite documents for changing a constraint). */
static const char *migrate_in_check =
    "BEGIN IMMEDIATE;"
    "CREATE TABLE product_new (" PRODUCT_COLUMNS ");"
    "INSERT INTO product_new SELECT key, state, reden, last_batch, last_record, last_action,"
    " updated FROM product;"
    "DROP TABLE product;"
    "ALTER TABLE product_new RENAME TO product;"
    "COMMIT;";

static int migrate(sqlite3 *db)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT sql FROM sqlite_master WHERE type='table' AND name='product'",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    int old = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
              strstr((const char *)sqlite3_column_text(st, 0), "state IN (") != NULL;
    sqlite3_finalize(st);
    if (!old) return 0;
    if (sqlite3_exec(db, migrate_in_check, NULL, NULL, NULL) == SQLITE_OK) return 0;
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static int load_salt(ijw_state *s, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT v FROM meta WHERE k='salt'", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(s->salt, sizeof(s->salt), "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        return 0;
    }
    sqlite3_finalize(st);
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        snprintf(err, errlen, "no random bytes for the state salt");
        return -1;
    }
    zv_sha256_hex(raw, sizeof(raw), s->salt);
    if (sqlite3_prepare_v2(s->db, "INSERT INTO meta (k, v) VALUES ('salt', ?)", -1, &st, NULL) !=
        SQLITE_OK)
        goto fail;
    sqlite3_bind_text(st, 1, s->salt, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return 0;
fail:
    snprintf(err, errlen, "state store: %s", sqlite3_errmsg(s->db));
    return -1;
}

ijw_state *ijw_state_open(const char *dir, char *err, size_t errlen)
{
    ijw_state *s = calloc(1, sizeof(*s));
    char *path = NULL;
    if (!s || asprintf(&path, "%s/ijw-state.db", dir) < 0) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK ||
        sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK || migrate(s->db) != 0) {
        snprintf(err, errlen, "state store %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "cannot open");
        free(path);
        ijw_state_close(s);
        return NULL;
    }
    free(path);
    if (prepare_all(s) != 0) {
        snprintf(err, errlen, "state store: %s", sqlite3_errmsg(s->db));
        ijw_state_close(s);
        return NULL;
    }
    if (load_salt(s, err, errlen) != 0) {
        ijw_state_close(s);
        return NULL;
    }
    return s;
}

void ijw_state_close(ijw_state *s)
{
    if (!s) return;
    for (int i = 0; i < ST_N; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s);
}

int ijw_state_begin(ijw_state *s)
{
    return run(s, ST_BEGIN);
}

int ijw_state_commit(ijw_state *s)
{
    return run(s, ST_COMMIT);
}

void ijw_state_rollback(ijw_state *s)
{
    run(s, ST_ROLLBACK);
}

static void row_key(const ijw_state *s, const char *gemeente, const char *bsn, const char *pkey,
                    char out[65])
{
    zv_buf b;
    zv_buf_init(&b);
    zv_buf_printf(&b, "%s\n%s\n%s\n%s", s->salt, gemeente, bsn, pkey);
    zv_sha256_hex(b.data ? b.data : "", b.len, out);
    zv_buf_free(&b);
}

typedef struct row {
    int found;
    char state[16];
    char reden[8];
    char batch[256];
    char record[512];
    char action[16];
} row;

static int get_row(ijw_state *s, const char *key, row *r)
{
    sqlite3_stmt *st = s->st[ST_GET];
    memset(r, 0, sizeof(*r));
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        r->found = 1;
        snprintf(r->state, sizeof(r->state), "%s", sqlite3_column_text(st, 0));
        snprintf(r->reden, sizeof(r->reden), "%s", sqlite3_column_text(st, 1));
        snprintf(r->batch, sizeof(r->batch), "%s", sqlite3_column_text(st, 2));
        snprintf(r->record, sizeof(r->record), "%s", sqlite3_column_text(st, 3));
        snprintf(r->action, sizeof(r->action), "%s", sqlite3_column_text(st, 4));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int put_row(ijw_state *s, const char *key, const char *state, const char *reden,
                   const char *batch, const char *record, const char *action)
{
    sqlite3_stmt *st = s->st[state ? ST_PUT : ST_DEL];
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (state) {
        sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, reden, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, batch, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, record, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, action, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, zv_now());
    }
    return run(s, state ? ST_PUT : ST_DEL);
}

static int violate(ijw_violation *v, const char *rule, const char *field, const char *reason)
{
    v->rule = rule;
    v->field = field;
    snprintf(v->reason, sizeof(v->reason), "%s", reason);
    return 1;
}

static int change(ijw_change *c, const char *key, const char *state, const char *reden,
                  const char *batch, const char *record, const char *action)
{
    c->pending = 1;
    snprintf(c->key, sizeof(c->key), "%s", key);
    snprintf(c->record, sizeof(c->record), "%s", record);
    c->state = state;
    c->reden = reden;
    c->batch = batch;
    c->action = action;
    return 0;
}

/* A cancelled start stays as a 'cancelled' row (not started, not stopped)
 * so that a re-render of the same attempt is still recognised through the
 * last_* columns.  stop_requires_start 0 lets a stop through for products
 * started before zinvol kept history. */
int ijw_state_decide(ijw_state *s, ijw_msg m, const char *status, const char *gemeente,
                     const char *bsn, const char *pkey, const char *reden, const char *batch,
                     const char *record, int stop_requires_start, ijw_violation *v, ijw_change *c)
{
    char key[65];
    row r;
    int cancel = strcmp(status, "3") == 0;
    const char *action =
        m == IJW_START ? (cancel ? "cancel_start" : "start") : (cancel ? "cancel_stop" : "stop");
    c->pending = 0;
    row_key(s, gemeente, bsn, pkey, key);
    if (get_row(s, key, &r) != 0) return -1;
    /* The same record of the same batch rendered again (crash before the
     * outbox kept the payload): already applied. */
    if (r.found && strcmp(r.batch, batch) == 0 && strcmp(r.record, record) == 0 &&
        strcmp(r.action, action) == 0)
        return 0;
    int started = r.found && strcmp(r.state, "started") == 0;
    int stopped = r.found && strcmp(r.state, "stopped") == 0;
    if (m == IJW_START && !cancel) {
        if (started)
            return violate(v, "TR326", "entitlement.number",
                           "product already started and not stopped: no second start");
        return change(c, key, "started", NULL, batch, record, action);
    }
    if (m == IJW_START) {
        if (stopped)
            return violate(v, "TR071", "delivery.status",
                           "cannot cancel a start whose stop was already sent");
        if (!started)
            return violate(v, "TR063", "delivery.status",
                           "cancellation of a start that was never sent");
        return change(c, key, "cancelled", NULL, batch, record, action);
    }
    if (!cancel) {
        if (stopped && strcmp(r.reden, "20") != 0)
            return violate(v, "TR415", "delivery.end",
                           "product already stopped: send a cancellation (status 3) first");
        if (!started && !stopped && stop_requires_start)
            return violate(v, "TR069", "delivery.end", "no current start for this product");
        return change(c, key, "stopped", reden, batch, record, action);
    }
    if (!stopped)
        return violate(v, "TR063", "delivery.status", "cancellation of a stop that was never sent");
    return change(c, key, "started", NULL, batch, record, action);
}

int ijw_state_write(ijw_state *s, const ijw_change *c)
{
    if (!c->pending) return 0;
    return put_row(s, c->key, c->state, c->reden, c->batch, c->record, c->action);
}

int ijw_state_forget(ijw_state *s, const char *gemeente, const char *bsn, const char *pkey)
{
    char key[65];
    row_key(s, gemeente, bsn, pkey, key);
    return put_row(s, key, NULL, NULL, NULL, NULL, NULL);
}
