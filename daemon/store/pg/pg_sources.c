/*
 * The PostgreSQL store's source side: watermarks, de-duplication, and the
 * lease that lets exactly one node read a source at a time.
 *
 * A source lease is one row per source naming its node and until when.  A
 * node takes it when there is none, when the row is its own (a renewal),
 * or when the holder's lease ran out (failover): one INSERT .. ON CONFLICT
 * DO UPDATE .. WHERE, so two nodes asking at once cannot both win.
 */
#include "pg_int.h"

#include <stdio.h>
#include <string.h>

int zv_pg_watermark_get(zv_sb *b, const char *source, const char *key, char *buf, size_t buflen)
{
    const char *v[] = {source, key};
    PGresult *r =
        zv_pg_q(b, "watermark", "SELECT value FROM watermark WHERE source = $1 AND key = $2", 2, v,
                NULL, NULL);
    if (!r) return -1;
    int found = PQntuples(r) == 1;
    if (found) snprintf(buf, buflen, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return found ? 0 : 1;
}

int zv_pg_watermark_set(zv_sb *b, const char *source, const char *key, const char *value)
{
    const char *v[] = {source, key, value};
    PGresult *r = zv_pg_q(b, "watermark",
                          "INSERT INTO watermark(source, key, value) VALUES($1, $2, $3) "
                          "ON CONFLICT (source, key) DO UPDATE SET value = EXCLUDED.value",
                          3, v, NULL, NULL);
    PQclear(r);
    return r ? 0 : -1;
}

int zv_pg_seen(zv_sb *b, const char *source, const char *record_id, const char *hash)
{
    const char *v[] = {source, record_id, hash ? hash : ""};
    PGresult *r = zv_pg_q(b, "seen",
                          "INSERT INTO seen(source, record_id, hash) VALUES($1, $2, $3) "
                          "ON CONFLICT DO NOTHING",
                          3, v, NULL, NULL);
    if (!r) return -1;
    int added = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    return added ? 0 : 1;
}

int zv_pg_source_lease(zv_sb *b, const char *source, int64_t now_ms, int64_t lease_ms, char *holder,
                       size_t holderlen)
{
    char now[24], until[24];
    const char *v[] = {source, b->node, zv_pg_i64(until, now_ms + lease_ms),
                       zv_pg_i64(now, now_ms)};
    PGresult *r = zv_pg_q(b, "source lease",
                          "INSERT INTO source_lease(source, node, lease_until, since) "
                          "VALUES($1, $2, $3, $4) ON CONFLICT (source) DO UPDATE SET "
                          "node = EXCLUDED.node, lease_until = EXCLUDED.lease_until, "
                          "since = CASE WHEN source_lease.node = EXCLUDED.node "
                          "THEN source_lease.since ELSE EXCLUDED.since END "
                          "WHERE source_lease.node = EXCLUDED.node OR "
                          "source_lease.lease_until < $4 RETURNING node",
                          4, v, NULL, NULL);
    if (!r) return -1;
    int mine = PQntuples(r) == 1;
    PQclear(r);
    if (mine) {
        if (holder && holderlen) snprintf(holder, holderlen, "%s", b->node);
        return 1;
    }
    if (holder && holderlen) {
        const char *w[] = {source};
        r = zv_pg_q(b, "source lease", "SELECT node FROM source_lease WHERE source = $1", 1, w,
                    NULL, NULL);
        snprintf(holder, holderlen, "%s", r && PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "?");
        PQclear(r);
    }
    return 0;
}

int zv_pg_source_release(zv_sb *b, const char *source)
{
    const char *v[] = {source, b->node};
    PGresult *r =
        zv_pg_q(b, "source lease", "DELETE FROM source_lease WHERE source = $1 AND node = $2", 2, v,
                NULL, NULL);
    PQclear(r);
    return r ? 0 : -1;
}
