/* Count state in SQLite (state_dir/signals.db): one row per measure, period
 * and distinct client, the client known only by a salted SHA-256 of the
 * BSN.  Putting the same record twice changes nothing, so a batch rendered
 * again after a crash does not count twice. */
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zinvol/util.h>

struct sig_state {
    sqlite3 *db;
    sqlite3_stmt *put, *cells;
    char salt[65];
};

static const char SCHEMA[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS counts(measure TEXT NOT NULL, period TEXT NOT NULL,"
    " client TEXT NOT NULL, date TEXT NOT NULL, cell TEXT NOT NULL,"
    " PRIMARY KEY(measure, period, client)) WITHOUT ROWID;";

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
        sqlite3_exec(st->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db,
                           "INSERT INTO counts VALUES(?1,?2,?3,?4,?5) ON CONFLICT DO UPDATE"
                           " SET date=excluded.date, cell=excluded.cell"
                           " WHERE (excluded.date, excluded.cell) > (date, cell)",
                           -1, &st->put, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db,
                           "SELECT cell, count(*) FROM counts WHERE measure=?1 AND period=?2"
                           " GROUP BY cell ORDER BY cell",
                           -1, &st->cells, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, st->db ? sqlite3_errmsg(st->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(st->db, 5000);
    return st;
fail:
    sig_state_close(st);
    return NULL;
}

void sig_state_close(sig_state *st)
{
    if (!st) return;
    sqlite3_finalize(st->put);
    sqlite3_finalize(st->cells);
    sqlite3_close(st->db);
    free(st);
}

int sig_state_begin(sig_state *st)
{
    return sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int sig_state_commit(sig_state *st)
{
    return sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

void sig_state_rollback(sig_state *st)
{
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

void sig_state_client_key(const sig_state *st, const char *bsn, char out[65])
{
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "%s:%s", st->salt, bsn);
    zv_sha256_hex(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1, out);
}

int sig_state_put(sig_state *st, const char *measure, const char *period, const char *client,
                  const char *date, const char *cell)
{
    sqlite3_stmt *s = st->put;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, measure, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, period, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, client, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, date, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, cell, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
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
