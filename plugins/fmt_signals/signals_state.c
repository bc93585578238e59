/* Count state in SQLite (state_dir/signals.db).  Per period and distinct
 * client (known only by the first 128 bits of a salted SHA-256 of the
 * BSN) one row holds the cell of every measure the client is counted in;
 * the table cells holds the clients per cell, so a table is read from its
 * cells, not counted from its clients.  Puts are collected in memory and
 * written at commit (signals_pending.c).  Putting the same record twice
 * changes nothing, so a batch rendered again after a crash does not count
 * twice. */
#include "signals_state_int.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zinvol/util.h>

#define STATE_VERSION 2

static const char SCHEMA[] =
    "PRAGMA journal_mode=WAL;"
    /* The tables of a state of this version are read with a cache of 32 MiB
     * (SQLite's default is 2 MiB): a batch reads the rows of its clients. */
    "PRAGMA cache_size=-32768;"
    "CREATE TABLE IF NOT EXISTS client_cells(period TEXT NOT NULL, client BLOB NOT NULL,"
    " data BLOB NOT NULL, PRIMARY KEY(period, client)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS cells(measure TEXT NOT NULL, period TEXT NOT NULL,"
    " cell TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(measure, period, cell)) WITHOUT ROWID;"
    /* Numbers for the names in client_cells' blobs, assigned 0, 1, 2, ... */
    "CREATE TABLE IF NOT EXISTS measures(n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);"
    "CREATE TABLE IF NOT EXISTS cellnames(n INTEGER PRIMARY KEY, cell TEXT NOT NULL UNIQUE);"
    /* The period reports handed over: which revision, of which counts. */
    /* batch: the batch that sent it, so the same batch rendered again (a
     * retry, the dry run) sends it again rather than losing it. */
    "CREATE TABLE IF NOT EXISTS reports(period TEXT PRIMARY KEY, revision INTEGER NOT NULL,"
    " digest TEXT NOT NULL, batch TEXT NOT NULL) WITHOUT ROWID;"
    /* The team's story per period from an ECD field: the latest one wins. */
    "CREATE TABLE IF NOT EXISTS narratives(period TEXT PRIMARY KEY, date TEXT NOT NULL,"
    " text TEXT NOT NULL) WITHOUT ROWID;";

static const struct {
    size_t off;
    const char *sql;
} STMTS[] = {
    {offsetof(sig_state, cells),
     "SELECT cell, n FROM cells WHERE measure=?1 AND period=?2 AND n > 0 ORDER BY cell"},
    {offsetof(sig_state, rep_get), "SELECT revision, digest, batch FROM reports WHERE period=?1"},
    {offsetof(sig_state, rep_put), "INSERT OR REPLACE INTO reports VALUES(?1,?2,?3,?4)"},
    {offsetof(sig_state, nar_put),
     "INSERT INTO narratives VALUES(?1,?2,?3) ON CONFLICT DO UPDATE SET date=excluded.date,"
     " text=excluded.text WHERE (excluded.date, excluded.text) > (date, text)"},
    {offsetof(sig_state, nar_get), "SELECT text FROM narratives WHERE period=?1"},
    /* A period has clients exactly when one of its cells has. */
    {offsetof(sig_state, unreported),
     "SELECT DISTINCT period FROM cells WHERE n > 0 AND period NOT IN (SELECT period FROM"
     " reports) ORDER BY period"},
    {offsetof(sig_state, row_get), "SELECT data FROM client_cells WHERE period=?1 AND client=?2"},
    {offsetof(sig_state, row_put),
     "INSERT INTO client_cells VALUES(?1,?2,?3) ON CONFLICT DO UPDATE SET data = excluded.data"},
    {offsetof(sig_state, cell_add),
     "INSERT INTO cells VALUES(?1,?2,?3,?4) ON CONFLICT DO UPDATE SET n = n + excluded.n"},
    {offsetof(sig_state, measure_add), "INSERT INTO measures VALUES(?1,?2)"},
    {offsetof(sig_state, cellname_add), "INSERT INTO cellnames VALUES(?1,?2)"},
};
#define NSTMTS (sizeof(STMTS) / sizeof(STMTS[0]))

/* The salt: the option when set, else a random one kept beside the counts,
 * created once, so hashed keys stay comparable across restarts but mean
 * nothing outside this destination. */
static int load_salt(sig_state *st, const char *dir, const char *opt, char *err, size_t errlen)
{
    if (opt && *opt) {
        zv_sha256_hex(opt, strlen(opt), st->salt);
        return 0;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/salt", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        int ok = fscanf(f, "%64s", st->salt) == 1 && strlen(st->salt) == 64;
        fclose(f);
        if (ok) return 0;
        snprintf(err, errlen, "%s: not a salt written by this plugin", path);
        return -1;
    }
    unsigned char rnd[32];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, rnd, sizeof(rnd)) : -1;
    if (fd >= 0) close(fd);
    if (got != (ssize_t)sizeof(rnd)) {
        snprintf(err, errlen, "/dev/urandom: %s", strerror(errno));
        return -1;
    }
    zv_sha256_hex(rnd, sizeof(rnd), st->salt);
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int wfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = wfd >= 0 && write(wfd, st->salt, 64) == 64 && fsync(wfd) == 0;
    if (wfd >= 0) close(wfd);
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *v;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &v, NULL) != SQLITE_OK) return -1;
    int version = sqlite3_step(v) == SQLITE_ROW ? sqlite3_column_int(v, 0) : -1;
    sqlite3_finalize(v);
    return version;
}

/* Version 0 and 1 kept one row per measure, period and client in table
 * counts (the client as the hex key, 1 also the cells by triggers): their
 * rows become puts into the new tables, in slices, and counts goes. */
static int upgrade_counts(sig_state *st)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT measure, period, client, date, cell FROM counts", -1,
                           &s, NULL) != SQLITE_OK)
        return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *col[5];
        for (int i = 0; i < 5; i++)
            col[i] = (const char *)sqlite3_column_text(s, i);
        if (!col[0] || !col[1] || !col[2] || !col[3] || !col[4] ||
            sig_state_put(st, col[0], col[1], col[2], col[3], col[4]) != 0 ||
            (st->nputs >= 100000 && sig_pending_flush(st) != 0))
            break;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return -1;
    return sqlite3_exec(st->db, "DROP TABLE counts", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int upgrade(sig_state *st, char *err, size_t errlen)
{
    int version = user_version(st->db);
    if (version == STATE_VERSION) return 0;
    if (version < 0 || version > STATE_VERSION) {
        snprintf(err, errlen, "signals.db: state version %d, this plugin knows up to %d", version,
                 STATE_VERSION);
        return -1;
    }
    sqlite3_stmt *t;
    if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM sqlite_master WHERE name='counts'", -1, &t,
                           NULL) != SQLITE_OK)
        return -1;
    int old = sqlite3_step(t) == SQLITE_ROW;
    sqlite3_finalize(t);
    if (sig_state_begin(st) != 0) return -1;
    int rc = sqlite3_exec(st->db,
                          "DROP TRIGGER IF EXISTS counts_ins; DROP TRIGGER IF EXISTS counts_upd;"
                          " DELETE FROM cells; PRAGMA user_version = 2;",
                          NULL, NULL, NULL) == SQLITE_OK
                 ? 0
                 : -1;
    if (rc == 0 && old) rc = upgrade_counts(st);
    if (rc == 0) rc = sig_state_commit(st);
    if (rc != 0) {
        snprintf(err, errlen, "signals.db: cannot upgrade the state to version %d: %s",
                 STATE_VERSION, sqlite3_errmsg(st->db));
        sig_state_rollback(st);
    }
    return rc;
}

static int prepare(sig_state *st)
{
    if (sqlite3_exec(st->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) return -1;
    for (size_t i = 0; i < NSTMTS; i++)
        if (sqlite3_prepare_v2(st->db, STMTS[i].sql, -1,
                               (sqlite3_stmt **)((char *)st + STMTS[i].off), NULL) != SQLITE_OK)
            return -1;
    return sig_dict_load(&st->measures, st->db, "SELECT n, id FROM measures ORDER BY n") != 0 ||
                   sig_dict_load(&st->cellnames, st->db,
                                 "SELECT n, cell FROM cellnames ORDER BY n") != 0
               ? -1
               : 0;
}

sig_state *sig_state_open(const char *dir, const char *salt_opt, char *err, size_t errlen)
{
    if (!dir || zv_mkdir_p(dir, 0700) != 0) {
        snprintf(err, errlen, "state dir %s: %s", dir ? dir : "(none)", strerror(errno));
        return NULL;
    }
    sig_state *st = calloc(1, sizeof(*st));
    char path[4096];
    snprintf(path, sizeof(path), "%s/signals.db", dir);
    if (!st || load_salt(st, dir, salt_opt, err, errlen) != 0) goto fail;
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        prepare(st) != 0) {
        snprintf(err, errlen, "%s: %s", path, st->db ? sqlite3_errmsg(st->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(st->db, 5000);
    if (upgrade(st, err, errlen) != 0) goto fail;
    return st;
fail:
    sig_state_close(st);
    return NULL;
}

void sig_state_close(sig_state *st)
{
    if (!st) return;
    for (size_t i = 0; i < NSTMTS; i++)
        sqlite3_finalize(*(sqlite3_stmt **)((char *)st + STMTS[i].off));
    sqlite3_close(st->db);
    sig_dict_free(&st->measures);
    sig_dict_free(&st->cellnames);
    free(st->puts);
    free(st);
}

int sig_state_begin(sig_state *st)
{
    sig_pending_drop(st);
    return sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* -1 leaves the transaction open: the caller rolls back. */
int sig_state_commit(sig_state *st)
{
    if (sig_pending_flush(st) != 0 ||
        sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    st->measures.ncommitted = st->measures.n;
    st->cellnames.ncommitted = st->cellnames.n;
    return 0;
}

void sig_state_rollback(sig_state *st)
{
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    sig_pending_drop(st);
    sig_dict_forget_uncommitted(&st->measures);
    sig_dict_forget_uncommitted(&st->cellnames);
}

void sig_state_client_key(const sig_state *st, const char *bsn, char out[65])
{
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "%s:%s", st->salt, bsn);
    zv_sha256_hex(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1, out);
}

static int hexval(unsigned c)
{
    if (c - '0' < 10u) return (int)(c - '0');
    c |= 0x20; /* 'A'..'F' as 'a'..'f' */
    return c - 'a' < 6u ? (int)(c - 'a' + 10) : -1;
}

static int hex_key(const char *hex, unsigned char out[SIG_KEY_BYTES])
{
    for (size_t i = 0; i < SIG_KEY_BYTES; i++) {
        int hi = hexval((unsigned char)hex[2 * i]);
        int lo = hi < 0 ? -1 : hexval((unsigned char)hex[2 * i + 1]);
        if (lo < 0) return -1;
        out[i] = (unsigned char)(hi * 16 + lo);
    }
    return 0;
}

int sig_state_put(sig_state *st, const char *measure, const char *period, const char *client,
                  const char *date, const char *cell)
{
    size_t np = strlen(period), nd = strlen(date);
    if (np >= sizeof(st->puts->period) || nd >= sizeof(st->puts->date)) return -1;
    if (st->nputs == st->capputs) {
        size_t cap = st->capputs ? st->capputs * 2 : 1024;
        sig_put *grown = realloc(st->puts, cap * sizeof(*grown));
        if (!grown) return -1;
        st->puts = grown;
        st->capputs = cap;
    }
    sig_put *p = &st->puts[st->nputs];
    memset(p, 0, sizeof(*p));
    if (hex_key(client, p->client) != 0 ||
        (p->measure = sig_dict_intern(&st->measures, st->measure_add, measure)) < 0 ||
        (p->cell = sig_dict_intern(&st->cellnames, st->cellname_add, cell)) < 0)
        return -1;
    memcpy(p->period, period, np); /* NUL-terminated by the memset */
    memcpy(p->date, date, nd);
    st->nputs++;
    return 0;
}

int sig_state_cells(sig_state *st, const char *measure, const char *period, sig_cell_cb cb,
                    void *arg)
{
    sqlite3_stmt *s = st->cells;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, measure, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, period, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (cb((const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1), arg) != 0) {
            sqlite3_reset(s);
            return -1;
        }
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int sig_state_report_get(sig_state *st, const char *period, int64_t *revision, char digest[65],
                         char batch[64])
{
    sqlite3_stmt *s = st->rep_get;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, period, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s), out = rc == SQLITE_DONE ? 1 : -1;
    if (rc == SQLITE_ROW) {
        *revision = sqlite3_column_int64(s, 0);
        snprintf(digest, 65, "%s", (const char *)sqlite3_column_text(s, 1));
        snprintf(batch, 64, "%s", (const char *)sqlite3_column_text(s, 2));
        out = 0;
    }
    sqlite3_reset(s);
    return out;
}

int sig_state_report_put(sig_state *st, const char *period, int64_t revision, const char *digest,
                         const char *batch)
{
    sqlite3_stmt *s = st->rep_put;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, period, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, revision);
    sqlite3_bind_text(s, 3, digest, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, batch, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int sig_state_unreported(sig_state *st, int (*cb)(const char *period, void *arg), void *arg)
{
    sqlite3_stmt *s = st->unreported;
    sqlite3_reset(s);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (cb((const char *)sqlite3_column_text(s, 0), arg) != 0) break;
    sqlite3_reset(s);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int sig_state_narrative_put(sig_state *st, const char *period, const char *date, const char *text)
{
    sqlite3_stmt *s = st->nar_put;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, period, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, date, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, text, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

char *sig_state_narrative_get(sig_state *st, const char *period)
{
    sqlite3_stmt *s = st->nar_get;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, period, -1, SQLITE_STATIC);
    char *out = NULL;
    if (sqlite3_step(s) == SQLITE_ROW) out = strdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    return out;
}
