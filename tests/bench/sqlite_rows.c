/*
 * The floor under webhook_bench: the rows one webhook event writes (a seen
 * row, a staged record, the replay window's watermark), inserted by a plain
 * loop into a fresh SQLite file in WAL with synchronous=FULL, --per-commit
 * events per transaction (1: one fsync per event, as a daemon without group
 * commit does).
 *
 *   sqlite_rows --rows N --per-commit K FILE
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(int rc, sqlite3 *db, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "sqlite_rows: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    long rows = 1000, per = 1;
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            rows = atol(argv[++i]);
        else if (!strcmp(argv[i], "--per-commit") && i + 1 < argc)
            per = atol(argv[++i]);
        else
            file = argv[i];
    }
    if (!file || rows < 1 || per < 1) {
        fprintf(stderr, "usage: sqlite_rows --rows N --per-commit K FILE\n");
        return 2;
    }
    sqlite3 *db;
    must(sqlite3_open(file, &db), db, "open");
    must(sqlite3_exec(db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                      "CREATE TABLE seen(source TEXT, record_id TEXT, hash TEXT,"
                      " PRIMARY KEY(source, record_id, hash)) WITHOUT ROWID;"
                      "CREATE TABLE staged(id INTEGER PRIMARY KEY, destination TEXT NOT NULL,"
                      " message INTEGER, rec BLOB, created INTEGER);"
                      "CREATE TABLE watermark(source TEXT, key TEXT, value TEXT,"
                      " PRIMARY KEY(source, key));",
                      NULL, NULL, NULL),
         db, "schema");
    sqlite3_stmt *seen, *stage, *wm;
    must(sqlite3_prepare_v2(db, "INSERT INTO seen VALUES('ons', ?, ?)", -1, &seen, NULL), db,
         "prepare");
    must(sqlite3_prepare_v2(db,
                            "INSERT INTO staged(destination, message, rec, created) "
                            "VALUES('monitor', 0, ?, strftime('%s','now'))",
                            -1, &stage, NULL),
         db, "prepare");
    must(sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO watermark VALUES('ons', 'events', ?)", -1,
                            &wm, NULL),
         db, "prepare");
    /* The replay window as the webhook keeps it: the last 256 event ids. */
    static char window[256 * 16];
    unsigned char rec[160];
    memset(rec, 'r', sizeof(rec));
    double t0 = now_s();
    for (long n = 0; n < rows; n++) {
        if (n % per == 0) must(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), db, "begin");
        char id[32], hash[65];
        snprintf(id, sizeof(id), "C%ld", n);
        snprintf(hash, sizeof(hash), "%064ld", n);
        sqlite3_bind_text(seen, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(seen, 2, hash, -1, SQLITE_STATIC);
        must(sqlite3_step(seen), db, "seen");
        sqlite3_reset(seen);
        sqlite3_bind_blob(stage, 1, rec, sizeof(rec), SQLITE_STATIC);
        must(sqlite3_step(stage), db, "stage");
        sqlite3_reset(stage);
        size_t wl = strlen(window);
        if (wl > sizeof(window) - 32) memmove(window, window + 16, wl - 15);
        strncat(window, " ev-", sizeof(window) - strlen(window) - 1);
        strncat(window, id, sizeof(window) - strlen(window) - 1);
        sqlite3_bind_text(wm, 1, window, -1, SQLITE_STATIC);
        must(sqlite3_step(wm), db, "watermark");
        sqlite3_reset(wm);
        if (n % per == per - 1 || n == rows - 1)
            must(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit");
    }
    double wall = now_s() - t0;
    printf("  sqlite insert loop: %ld events, %ld per commit: %.2f s, %.0f events/s\n", rows, per,
           wall, (double)rows / wall);
    sqlite3_finalize(seen);
    sqlite3_finalize(stage);
    sqlite3_finalize(wm);
    sqlite3_close(db);
    return 0;
}
