/*
 * The SQLite store's schema version, kept in meta('schema_version').
 *
 * Version 1 is the schema as store.c and the migrations before versioning
 * (audit clients and citations, the quarantine lifecycle) leave it; those
 * stay idempotent steps run at every open.  Later changes are numbered
 * steps: a file at a version this build does not know was made by a newer
 * zinvol and is refused rather than half understood.
 */
#include "store_iface.h"
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>

int zv_store_schema_version(zv_store *s)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st,
                           NULL) != SQLITE_OK)
        return zv_store_fail(s, "schema version");
    int rc = sqlite3_step(st), v = 0;
    if (rc == SQLITE_ROW) {
        const char *t = zv_store_col_text(st, 0);
        v = t ? atoi(t) : 0;
    } else if (rc != SQLITE_DONE) {
        v = zv_store_fail(s, "schema version");
    }
    sqlite3_finalize(st);
    return v;
}

int zv_store_schema_check(zv_store *s)
{
    int v = zv_store_schema_version(s);
    if (v < 0) return -1;
    if (v > ZV_SQLITE_SCHEMA_VERSION) {
        snprintf(s->err, sizeof(s->err),
                 "the store is at schema version %d, made by a newer zinvol; this one knows up "
                 "to version %d",
                 v, ZV_SQLITE_SCHEMA_VERSION);
        return -1;
    }
    if (v == ZV_SQLITE_SCHEMA_VERSION) return 0;
    char sql[128];
    snprintf(sql, sizeof(sql),
             "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', '%d')",
             ZV_SQLITE_SCHEMA_VERSION);
    return zv_store_exec(s, sql);
}
