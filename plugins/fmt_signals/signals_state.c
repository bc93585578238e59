/* Count state in SQLite (state_dir/signals.db): opening, transactions,
 * the client keys, the names' numbers, reading tables from the counts in
 * memory (signals_mem.c), the reports handed over and the narratives.
 * Per period and distinct client (known only by the first 128 bits of a
 * salted SHA-256 of the BSN) the state holds the cell of every measure the
 * client is counted in.  Putting the same record twice changes nothing, so
 * a batch rendered again after a crash does not count twice. */
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

static const char SCHEMA[] =
    "PRAGMA journal_mode=WAL;"
    /* The counts' change log (signals_mem.c): rows of changed entries. */
    "CREATE TABLE IF NOT EXISTS changes(seq INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    /* Numbers for the names in changes' rows, assigned 0, 1, 2, ... */
    "CREATE TABLE IF NOT EXISTS measures(n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);"
    "CREATE TABLE IF NOT EXISTS cellnames(n INTEGER PRIMARY KEY, cell TEXT NOT NULL UNIQUE);"
    "CREATE TABLE IF NOT EXISTS periods(n INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE);"
    /* The period reports handed over: which revision, of which counts. */
    /* batch: the batch that sent it, so the same batch rendered again (a
     * retry, the dry run) sends it again rather than losing it. */
    "CREATE TABLE IF NOT EXISTS reports(period TEXT PRIMARY KEY, revision INTEGER NOT NULL,"
    " digest TEXT NOT NULL, batch TEXT NOT NULL) WITHOUT ROWID;"
    /* The team's story per period from an ECD field: the latest one wins. */
    "CREATE TABLE IF NOT EXISTS narratives(period TEXT PRIMARY KEY, date TEXT NOT NULL,"
    " text TEXT NOT NULL) WITHOUT ROWID;"
    /* Periods whose running counts are still to be sent (signals_pending.c);
     * an older state gains the table empty. */
    "CREATE TABLE IF NOT EXISTS pending(period TEXT PRIMARY KEY, batch TEXT NOT NULL)"
    " WITHOUT ROWID;";

static const struct {
    size_t off;
    const char *sql;
} STMTS[] = {
    {offsetof(sig_state, rep_get), "SELECT revision, digest, batch FROM reports WHERE period=?1"},
    {offsetof(sig_state, rep_put), "INSERT OR REPLACE INTO reports VALUES(?1,?2,?3,?4)"},
    {offsetof(sig_state, nar_put),
     "INSERT INTO narratives VALUES(?1,?2,?3) ON CONFLICT DO UPDATE SET date=excluded.date,"
     " text=excluded.text WHERE (excluded.date, excluded.text) > (date, text)"},
    {offsetof(sig_state, nar_get), "SELECT text FROM narratives WHERE period=?1"},
    {offsetof(sig_state, change_add), "INSERT INTO changes(data) VALUES(?1)"},
    {offsetof(sig_state, measure_add), "INSERT INTO measures VALUES(?1,?2)"},
    {offsetof(sig_state, cellname_add), "INSERT INTO cellnames VALUES(?1,?2)"},
    {offsetof(sig_state, period_add), "INSERT INTO periods VALUES(?1,?2)"},
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

/* SHA-256 with "salt:" absorbed once: a client key costs one more block. */
static int salted_hash(sig_state *st)
{
    if (!(st->salted = EVP_MD_CTX_new()) || !(st->hash = EVP_MD_CTX_new()) ||
        !EVP_DigestInit_ex(st->salted, EVP_sha256(), NULL) ||
        !EVP_DigestUpdate(st->salted, st->salt, 64) || !EVP_DigestUpdate(st->salted, ":", 1))
        return -1;
    return 0;
}

static void unload(sig_state *st)
{
    sig_mem_free(&st->mem);
    sig_dict_free(&st->measures);
    sig_dict_free(&st->cellnames);
    sig_dict_free(&st->periods);
}

static int load_dicts(sig_state *st)
{
    return sig_dict_load(&st->measures, st->db, "SELECT n, id FROM measures ORDER BY n") != 0 ||
                   sig_dict_load(&st->cellnames, st->db,
                                 "SELECT n, cell FROM cellnames ORDER BY n") != 0 ||
                   sig_dict_load(&st->periods, st->db, "SELECT n, label FROM periods ORDER BY n") !=
                       0
               ? -1
               : 0;
}

/* The names and the counts as committed. */
static int load(sig_state *st)
{
    unload(st);
    if (load_dicts(st) != 0 || sig_mem_init(&st->mem, st->measures.n) != 0 ||
        sig_mem_load(st) != 0) {
        unload(st);
        return -1;
    }
    return 0;
}

static int prepare(sig_state *st)
{
    if (sqlite3_exec(st->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) return -1;
    for (size_t i = 0; i < NSTMTS; i++)
        if (sqlite3_prepare_v2(st->db, STMTS[i].sql, -1,
                               (sqlite3_stmt **)((char *)st + STMTS[i].off), NULL) != SQLITE_OK)
            return -1;
    return 0;
}

/* In one transaction: the set's measures numbered, the counts loaded, and
 * a state of an earlier version converted (signals_upgrade.c). */
static int start(sig_state *st, const sig_set *set, int version, char *err, size_t errlen)
{
    int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK &&
                     load_dicts(st) == 0
                 ? 0
                 : -1;
    for (size_t i = 0; rc == 0 && i < set->nmeasures; i++)
        if (sig_dict_intern(&st->measures, st->measure_add, set->measures[i].id) < 0) rc = -1;
    if (rc == 0 && version < STATE_VERSION) rc = sig_upgrade_measures(st, version);
    if (rc == 0 && (sig_mem_init(&st->mem, st->measures.n) != 0 || sig_mem_load(st) != 0)) rc = -1;
    if (rc == 0 && version < STATE_VERSION) rc = sig_upgrade_rows(st, version);
    if (rc == 0) rc = sig_state_commit(st);
    if (rc != 0) {
        const char *why =
            sqlite3_errcode(st->db) == SQLITE_OK ? "damaged change log" : sqlite3_errmsg(st->db);
        if (version < STATE_VERSION)
            snprintf(err, errlen, "signals.db: cannot convert the state of version %d to %d: %s",
                     version, STATE_VERSION, why);
        else
            snprintf(err, errlen, "signals.db: cannot load the counts: %s", why);
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

sig_state *sig_state_open(const char *dir, const char *salt_opt, const sig_set *set, char *err,
                          size_t errlen)
{
    if (!dir || zv_mkdir_p(dir, 0700) != 0) {
        snprintf(err, errlen, "state dir %s: %s", dir ? dir : "(none)", strerror(errno));
        return NULL;
    }
    sig_state *st = calloc(1, sizeof(*st));
    char path[4096];
    snprintf(path, sizeof(path), "%s/signals.db", dir);
    if (!st || load_salt(st, dir, salt_opt, err, errlen) != 0) goto fail;
    if (salted_hash(st) != 0) {
        snprintf(err, errlen, "SHA-256 not available");
        goto fail;
    }
    int version = -1;
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        (sqlite3_busy_timeout(st->db, 5000), version = user_version(st->db)) < 0) {
        snprintf(err, errlen, "%s: %s", path, st->db ? sqlite3_errmsg(st->db) : "cannot open");
        goto fail;
    }
    if (version > STATE_VERSION) {
        snprintf(err, errlen, "signals.db: state version %d, this plugin knows up to %d", version,
                 STATE_VERSION);
        goto fail;
    }
    if (prepare(st) != 0) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
        goto fail;
    }
    if (start(st, set, version, err, errlen) != 0) goto fail;
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
    unload(st);
    EVP_MD_CTX_free(st->salted);
    EVP_MD_CTX_free(st->hash);
    free(st);
}

int sig_state_begin(sig_state *st)
{
    if (st->broken) {
        if (load(st) != 0) return -1;
        st->broken = 0;
    }
    sig_mem_clean(&st->mem);
    return sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int sig_state_commit(sig_state *st)
{
    if (sig_mem_flush(st) != 0 || sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    sig_mem_clean(&st->mem);
    st->measures.ncommitted = st->measures.n;
    st->cellnames.ncommitted = st->cellnames.n;
    st->periods.ncommitted = st->periods.n;
    return 0;
}

/* The memory is read again from what was committed: rollbacks come only
 * with failures, so simple beats fast here. */
void sig_state_rollback(sig_state *st)
{
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    if (load(st) != 0) st->broken = 1;
}

int sig_state_client_key(sig_state *st, const char *bsn, unsigned char key[SIG_KEY_BYTES])
{
    /* As before version 3: "salt:BSN" was cut at 127 bytes. */
    size_t n = strlen(bsn);
    if (n > 127 - 65) n = 127 - 65;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_MD_CTX_copy_ex(st->hash, st->salted) || !EVP_DigestUpdate(st->hash, bsn, n) ||
        !EVP_DigestFinal_ex(st->hash, md, &mdlen) || mdlen < SIG_KEY_BYTES)
        return -1;
    memcpy(key, md, SIG_KEY_BYTES);
    return 0;
}

int sig_state_measure(const sig_state *st, const char *id)
{
    return sig_dict_find(&st->measures, id);
}

/* The numbers share a 64-bit key of the clients per cell (signals_mem.c). */
#define MAX_PERIODS (1 << 23)
#define MAX_CELLS (1 << 24)

int sig_state_period(sig_state *st, const char *label)
{
    int n = sig_dict_find(&st->periods, label);
    if (n >= 0) return n;
    if (st->periods.n >= MAX_PERIODS) return -1;
    return sig_dict_intern(&st->periods, st->period_add, label);
}

int sig_state_cell(sig_state *st, const char *cell)
{
    int n = sig_dict_find(&st->cellnames, cell);
    if (n >= 0) return n;
    if (st->cellnames.n >= MAX_CELLS) return -1;
    return sig_dict_intern(&st->cellnames, st->cellname_add, cell);
}

typedef struct named {
    const char *name;
    int64_t n;
} named;

static int cmp_named(const void *a, const void *b)
{
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

int sig_state_cells(sig_state *st, const char *measure, const char *period, sig_cell_cb cb,
                    void *arg)
{
    int m = sig_dict_find(&st->measures, measure), p = sig_dict_find(&st->periods, period);
    const sig_intvec *cells =
        m < 0 || p < 0 ? NULL : sig_mem_cells(&st->mem, (uint32_t)p, (uint32_t)m);
    if (!cells || !cells->n) return 0;
    named *v = malloc(cells->n * sizeof(*v));
    if (!v) return -1;
    size_t n = 0;
    for (size_t i = 0; i < cells->n; i++) {
        int64_t c = sig_mem_count(&st->mem, (uint32_t)p, (uint32_t)m, cells->v[i]);
        if (c > 0) v[n++] = (named){st->cellnames.name[cells->v[i]], c};
    }
    qsort(v, n, sizeof(*v), cmp_named);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = cb(v[i].name, v[i].n, arg) != 0 ? -1 : 0;
    free(v);
    return rc;
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

/* A period has clients exactly when one of its cells has. */
static int has_clients(const sig_state *st, uint32_t p)
{
    for (uint32_t m = 0; m < st->mem.nmeasures; m++) {
        const sig_intvec *cells = sig_mem_cells(&st->mem, p, m);
        for (size_t i = 0; cells && i < cells->n; i++)
            if (sig_mem_count(&st->mem, p, m, cells->v[i]) > 0) return 1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int sig_state_unreported(sig_state *st, int (*cb)(const char *period, void *arg), void *arg)
{
    const char **labels = malloc((st->periods.n ? st->periods.n : 1) * sizeof(*labels));
    if (!labels) return -1;
    size_t n = 0;
    for (size_t p = 0; p < st->periods.n; p++)
        if (has_clients(st, (uint32_t)p)) labels[n++] = st->periods.name[p];
    qsort(labels, n, sizeof(*labels), cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int64_t rev;
        char digest[65], batch[64];
        int got = sig_state_report_get(st, labels[i], &rev, digest, batch);
        if (got < 0) rc = -1;
        if (got == 1 && cb(labels[i], arg) != 0) break;
    }
    free(labels);
    return rc;
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
