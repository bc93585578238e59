/*
 * Store: what actually flowed, per client, from the audit trail's chained
 * clients column - the ground truth for the redundancy analysis ("the same
 * client's value went to two parties", "sent N times a year about one
 * client").  SQLite's JSON functions unnest the entries; nothing leaves the
 * store but counts.
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

static const char FLOW_SQL[] =
    "CREATE TEMP TABLE IF NOT EXISTS zv_flow(d TEXT, k TEXT, r TEXT, field TEXT);"
    "DELETE FROM zv_flow;"
    "CREATE INDEX IF NOT EXISTS temp.zv_flow_fk ON zv_flow(field, k, d, r);";

/* The trail holds no values, so "the same value" is decided by meaning: a
 * client field (birth date, name, BSN) has one value per client; any other
 * field is the same value only when it came from the same source record.
 * In the per-destination query the grouped row carries no record, so any
 * record of the client's there counts (EXISTS over its rows). */
#define SAME_VALUE(x, y)                                                                           \
    "(" x ".field LIKE 'client.%' OR " x ".r IN (SELECT r FROM zv_flow z WHERE z.d = " y           \
    ".d AND z.k = " y ".k AND z.field = " y ".field))"

static int fill(zv_store *s, int64_t since)
{
    if (zv_store_exec(s, FLOW_SQL) < 0) return -1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO zv_flow SELECT a.destination, "
                           "json_extract(c.value, '$.client'), json_extract(c.value, '$.record'), f.value "
                           "FROM audit a, "
                           "json_each(a.clients) c, json_each(json_extract(c.value, '$.fields')) f "
                           "WHERE a.kind = 'delivered' AND a.clients IS NOT NULL AND a.at >= ? "
                           "AND json_valid(a.clients)",
                           -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "flows");
    sqlite3_bind_int64(st, 1, since);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : zv_store_fail(s, "flows");
    sqlite3_finalize(st);
    return rc;
}

static int each(zv_store *s, const char *sql, int pair, zv_flow_cb cb, void *arg)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "flows");
    int rc, stop = 0;
    while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        zv_flow_row r = {.destination = zv_store_col_text(st, 0),
                         .field = zv_store_col_text(st, 1),
                         .other = pair ? zv_store_col_text(st, 2) : NULL,
                         .clients = sqlite3_column_int64(st, 3),
                         .sends = pair ? 0 : sqlite3_column_int64(st, 4),
                         .max_per_client = pair ? 0 : sqlite3_column_int64(st, 5),
                         .dup_clients = pair ? 0 : sqlite3_column_int64(st, 6)};
        stop = cb(&r, arg);
    }
    int ret = stop || rc == SQLITE_DONE ? 0 : zv_store_fail(s, "flows");
    sqlite3_finalize(st);
    return ret;
}

int zv_store_flows(zv_store *s, int64_t since, zv_flow_cb cb, void *arg)
{
    int own = !s->open;
    if (own && zv_store_exec(s, "BEGIN") < 0) return -1;
    int rc = fill(s, since);
    /* per destination and field: clients, client-messages, the most about one
     * client, and how many of its clients' values also went elsewhere */
    if (rc == 0)
        rc = each(s,
                  "SELECT d, field, NULL, count(DISTINCT k), sum(n), max(n), "
                  "sum(EXISTS(SELECT 1 FROM zv_flow o WHERE o.field = g.field AND o.k = g.k AND "
                  "o.d != g.d AND " SAME_VALUE("o", "g") ")) FROM (SELECT d, field, k, "
                  "count(*) AS n FROM zv_flow GROUP BY d, field, k) g GROUP BY d, field "
                  "ORDER BY d, field",
                  0, cb, arg);
    /* pairs: clients whose value of field went to both d and other */
    if (rc == 0)
        rc = each(s,
                  "SELECT a.d, a.field, b.d, count(DISTINCT a.k) FROM zv_flow a JOIN zv_flow b "
                  "ON b.field = a.field AND b.k = a.k AND b.d != a.d AND " SAME_VALUE("a", "b")
                  " GROUP BY a.d, a.field, b.d "
                  "ORDER BY a.d, a.field, b.d",
                  1, cb, arg);
    zv_store_exec(s, "DELETE FROM zv_flow");
    if (own) zv_store_exec(s, rc == 0 ? "COMMIT" : "ROLLBACK");
    return rc;
}
