/* Store snapshots for crash tests; see zvtb.h. */
#include "zvtb_int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void paths(zvtb *tb, char *db, size_t dblen, char *snap, size_t snaplen)
{
    if (!tb->rt) zvtb_fail("no runtime built");
    snprintf(db, dblen, "%s", tb->rt->cfg->store_path);
    snprintf(snap, snaplen, "%s/store-snapshot.db", tb->dir);
}

void zvtb_snapshot(zvtb *tb)
{
    char db[1024], snap[1024];
    paths(tb, db, sizeof(db), snap, sizeof(snap));
    unlink(snap);
    sqlite3 *h = NULL;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        zvtb_fail("snapshot: open %s: %s", db, sqlite3_errmsg(h));
    char *sql = sqlite3_mprintf("VACUUM INTO %Q", snap);
    char *err = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &err) != SQLITE_OK)
        zvtb_fail("snapshot: %s", err ? err : "?");
    sqlite3_free(sql);
    sqlite3_close(h);
}

static void copy_file(const char *from, const char *to)
{
    size_t len;
    char *data = zvtb_read_file(from, &len);
    FILE *f = fopen(to, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) zvtb_fail("copy to %s", to);
    free(data);
}

void zvtb_restore(zvtb *tb)
{
    char db[1024], snap[1024], side[1100];
    paths(tb, db, sizeof(db), snap, sizeof(snap));
    int64_t now = tb->rt->batch_now;
    zvtb_crash(tb);
    unlink(db);
    snprintf(side, sizeof(side), "%s-wal", db);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", db);
    unlink(side);
    copy_file(snap, db);
    if (zvtb_build(tb) < 0) zvtb_fail("rebuild after restore:\n%s", zvtb_errors(tb));
    tb->rt->batch_now = now;
}
