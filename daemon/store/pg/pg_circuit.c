/*
 * The PostgreSQL store: destinations' circuit breakers, shared by the nodes.
 * A node whose sends failed circuit_failures times in a row opens the
 * circuit for every node (one row per destination, until when); the others
 * see it before their next claim and send nothing until it ends; then the
 * probe is one for all nodes together (the claim's cluster-wide limit of 1
 * while half-open, pg_outbox.c), and its success closes it for all.
 */
#include "pg_int.h"

#include <stdio.h>

int zv_pg_circuit_get(zv_sb *b, const char *destination, int64_t now_ms, int64_t *until_ms,
                      char *node, size_t nodelen)
{
    char now[24];
    const char *v[] = {destination, zv_pg_i64(now, now_ms)};
    PGresult *r = zv_pg_q(b, "circuit",
                          "SELECT open_until, node FROM circuit WHERE destination = $1 AND "
                          "open_until > $2",
                          2, v, NULL, NULL);
    if (!r) return -1;
    int open = PQntuples(r) == 1;
    if (open) {
        *until_ms = zv_pg_get_i64(r, 0, 0);
        if (node && nodelen) snprintf(node, nodelen, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return open;
}

int zv_pg_circuit_set(zv_sb *b, const char *destination, int64_t until_ms, const char *why)
{
    char until[24];
    const char *v[] = {destination, zv_pg_i64(until, until_ms), b->node, why};
    PGresult *r =
        until_ms > 0
            ? zv_pg_q(b, "circuit",
                      "INSERT INTO circuit(destination, open_until, node, reason) "
                      "VALUES($1, $2, $3, $4) ON CONFLICT (destination) DO UPDATE SET "
                      "open_until = excluded.open_until, node = excluded.node, "
                      "reason = excluded.reason",
                      4, v, NULL, NULL)
            : zv_pg_q(b, "circuit", "DELETE FROM circuit WHERE destination = $1", 1, v, NULL, NULL);
    if (!r) return -1;
    PQclear(r);
    return 0;
}
