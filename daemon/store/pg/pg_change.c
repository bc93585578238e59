/*
 * The PostgreSQL store's change detection (what was last sent to a
 * destination per record, core/change.h) and the quarantine entries the
 * source and render path add.  Shared by the nodes: a record that one node
 * sent is unchanged for all of them, and an entry made on any node is in
 * the one quarantine table.
 */
#include "pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

int zv_pg_sent_same(zv_sb *b, const char *destination, const char *key, const char *digest)
{
    const char *v[] = {destination, key};
    PGresult *r = zv_pg_q(b, "sent digest",
                          "SELECT digest FROM sent_digest WHERE destination = $1 AND "
                          "record_key = $2",
                          2, v, NULL, NULL);
    if (!r) return -1;
    int same = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), digest) == 0;
    PQclear(r);
    return same;
}

int zv_pg_sent_put(zv_sb *b, const char *destination, const char *key, const char *digest,
                   const char *message, const unsigned char *rec, size_t len)
{
    char at[24];
    const char *v[] = {destination,      key, digest, message, zv_pg_i64(at, zv_now()),
                       (const char *)rec};
    int lens[] = {0, 0, 0, 0, 0, (int)len};
    int fmts[] = {0, 0, 0, 0, 0, 1};
    PGresult *r = zv_pg_q(b, "sent digest",
                          "INSERT INTO sent_digest(destination, record_key, digest, message, at, "
                          "rec) VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT (destination, "
                          "record_key) DO UPDATE SET digest = EXCLUDED.digest, message = "
                          "EXCLUDED.message, at = EXCLUDED.at, rec = EXCLUDED.rec",
                          6, v, lens, fmts);
    PQclear(r);
    return r ? 0 : -1;
}

int zv_pg_sent_get(zv_sb *b, const char *destination, const char *key, char *message, size_t msglen,
                   unsigned char **rec, size_t *len)
{
    *rec = NULL;
    *len = 0;
    const char *v[] = {destination, key};
    PGresult *r = zv_pg_q(b, "sent digest",
                          "SELECT message, rec FROM sent_digest WHERE destination = $1 AND "
                          "record_key = $2",
                          2, v, NULL, NULL);
    if (!r) return -1;
    int found = PQntuples(r) == 1, rc = found;
    if (found) {
        snprintf(message, msglen, "%s", PQgetvalue(r, 0, 0));
        if (!PQgetisnull(r, 0, 1)) {
            size_t n = 0;
            unsigned char *u = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 1), &n);
            if (u && n && (*rec = malloc(n))) {
                memcpy(*rec, u, n);
                *len = n;
            } else if (!u || n) {
                rc = zv_pg_fail(b, "sent digest: out of memory");
            }
            PQfreemem(u);
        }
    }
    PQclear(r);
    return rc;
}

int zv_pg_quarantine_add(zv_sb *b, const zv_quarantine_entry *e, int64_t *id)
{
    char created[24];
    const char *v[] = {zv_pg_i64(created, e->created ? e->created : zv_now()),
                       e->source,
                       e->record_id,
                       e->stage,
                       e->destination,
                       e->field,
                       e->rule,
                       e->reason ? e->reason : "",
                       e->item_json,
                       (const char *)e->record,
                       e->state ? e->state : "open",
                       e->reasons_json,
                       e->mapping_version,
                       e->source_version,
                       e->due};
    int lens[15] = {[9] = (int)e->record_len};
    int fmts[15] = {[9] = 1};
    /* The one reason as the SQLite store writes it, when no list is given. */
    PGresult *r = zv_pg_q(
        b, "quarantine",
        "INSERT INTO quarantine(created, source, record_id, stage, destination, field, rule, "
        "reason, item_json, record, state, reasons, mapping_version, source_version, due) "
        "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, coalesce($12, "
        "json_build_array(json_build_object('field', $6::text, 'rule', $7::text, "
        "'reason', $8::text))::text), $13, $14, $15) RETURNING id",
        15, v, lens, fmts);
    if (!r) return -1;
    if (id) *id = zv_pg_get_i64(r, 0, 0);
    PQclear(r);
    return 0;
}

int zv_pg_quarantine_like(zv_sb *b, const zv_quarantine_entry *e, int64_t except)
{
    char x[24];
    const char *v[] = {e->source, e->record_id, e->stage,  e->destination,
                       e->field,  e->rule,      e->reason, zv_pg_i64(x, except)};
    PGresult *r = zv_pg_q(b, "quarantine",
                          "SELECT 1 FROM quarantine WHERE source = $1 AND record_id = $2 AND "
                          "stage = $3 AND destination IS NOT DISTINCT FROM $4 AND field IS NOT "
                          "DISTINCT FROM $5 AND rule IS NOT DISTINCT FROM $6 AND reason IS NOT "
                          "DISTINCT FROM $7 AND state = 'open' AND id <> $8 LIMIT 1",
                          8, v, NULL, NULL);
    if (!r) return -1;
    int like = PQntuples(r) == 1;
    PQclear(r);
    return like;
}
