/*
 * The PostgreSQL schema and its migrations.  Every step is numbered and
 * recorded in zv_schema (version, when, what); open applies the missing ones
 * in one transaction under an advisory lock, so nodes starting together do
 * not race, and refuses a database at a version this build does not know.
 * A new step is appended to steps[] and ZV_PG_SCHEMA_VERSION raised; a step
 * once released is never edited.
 */
#include "pg_int.h"

#include <stdio.h>
#include <string.h>
#include <zinvol/util.h>

/* pg_advisory_xact_lock key of the migrations ("zinvol" + 1). */
#define ZV_PG_LOCK_SCHEMA "134593243410285"

static const struct {
    int version;
    const char *what;
    const char *sql;
} steps[] = {
    {1, "outbox with claims and leases, dead letter, verdicts, quarantine, watermarks, audit",
     "CREATE TABLE outbox(id bigserial PRIMARY KEY, destination text NOT NULL, message text,"
     " idem_key text NOT NULL, payload bytea, content_type text, extension text,"
     " fields_json text, records_json text, disclosure_json text,"
     " state text NOT NULL DEFAULT 'pending', attempts integer NOT NULL DEFAULT 0,"
     " next_attempt bigint NOT NULL DEFAULT 0, first_enqueued bigint NOT NULL,"
     " last_error text, delivered_at bigint,"
     /* the node holding an in-flight row, and until when (unix ms) */
     " claimed_by text, lease_until bigint,"
     " UNIQUE(destination, idem_key));"
     "CREATE INDEX outbox_due ON outbox(destination, next_attempt, id) WHERE state = 'pending';"
     "CREATE INDEX outbox_lease ON outbox(lease_until) WHERE state = 'inflight';"
     "CREATE INDEX outbox_node ON outbox(claimed_by) WHERE state = 'inflight';"
     "CREATE TABLE dead_letter(id bigserial PRIMARY KEY, outbox_id bigint NOT NULL,"
     " created bigint, destination text, record_key text, record_ref text, reason text,"
     " codes text, http_status integer);"
     "CREATE TABLE verdict(outbox_id bigint, record_key text, accepted integer, at bigint,"
     " PRIMARY KEY(outbox_id, record_key));"
     "CREATE TABLE watermark(source text, key text, value text, PRIMARY KEY(source, key));"
     "CREATE TABLE quarantine(id bigserial PRIMARY KEY, created bigint, source text,"
     " record_id text, stage text, destination text, field text, rule text, reason text,"
     " item_json text, record bytea, state text NOT NULL DEFAULT 'open', reasons text,"
     " mapping_version text, source_version text, due text);"
     "CREATE INDEX quarantine_record ON quarantine(source, record_id);"
     "CREATE TABLE quarantine_closed(id bigint PRIMARY KEY, created bigint, source text,"
     " record_id text, stage text, destination text, field text, rule text, reason text,"
     " reasons text, mapping_version text, source_version text, closed_at bigint,"
     " outcome text, detail text);"
     "CREATE TABLE audit(seq bigint PRIMARY KEY, at bigint, kind text, destination text,"
     " idem_key text, message text, fields text, payload_sha256 text, detail text,"
     " hash text NOT NULL, clients text, citations text);"
     /* One row from the start: appends lock it (SELECT .. FOR UPDATE), which
      * is what makes the nodes' appends one chain. */
     "CREATE TABLE audit_head(id integer PRIMARY KEY CHECK(id = 1), seq bigint NOT NULL,"
     " hash text NOT NULL);"
     "INSERT INTO audit_head VALUES(1, 0, "
     "'0000000000000000000000000000000000000000000000000000000000000000');"},
    {2, "source de-duplication shared by the nodes, one reader per source",
     "CREATE TABLE seen(source text, record_id text, hash text,"
     " PRIMARY KEY(source, record_id, hash));"
     /* the node reading a source, until when (unix ms), since when */
     "CREATE TABLE source_lease(source text PRIMARY KEY, node text NOT NULL,"
     " lease_until bigint NOT NULL, since bigint NOT NULL);"},
    {3, "circuit breakers shared by the nodes",
     /* a destination's open circuit: until when (unix ms), who opened it, why */
     "CREATE TABLE circuit(destination text PRIMARY KEY, open_until bigint NOT NULL,"
     " node text NOT NULL, reason text);"},
    {4, "sources on the shared store: staging, batch sequences, change detection",
     /* record_key: the record's source and id, beside the encoded row (for
      * an operator's query and the failover test; the core reads rec) */
     "CREATE TABLE staged(id bigserial PRIMARY KEY, destination text NOT NULL,"
     " message integer NOT NULL, rec bytea NOT NULL, created bigint, item_id bigint,"
     " record_key text);"
     "CREATE INDEX staged_dest ON staged(destination, id);"
     "CREATE TABLE batch_seq(destination text PRIMARY KEY, seq bigint NOT NULL);"
     "CREATE TABLE sent_digest(destination text, record_key text, digest text, message text,"
     " at bigint, rec bytea, PRIMARY KEY(destination, record_key));"
     "CREATE INDEX quarantine_open ON quarantine(source, record_id) WHERE state = 'open';"},
    {5, "the record lifecycle on the shared store: raw source items, waiting records",
     /* the raw item a quarantine retry maps again, kept while a staged row
      * names it (staged.item_id); the render that deletes the last such row
      * lets it go, on whichever node it runs */
     "CREATE TABLE source_item(id bigserial PRIMARY KEY, source text, record_id text,"
     " item_json text, mapping_version text, created bigint);"
     "CREATE INDEX source_item_record ON source_item(source, record_id, id);"
     "CREATE INDEX staged_item ON staged(item_id) WHERE item_id IS NOT NULL;"
     "CREATE FUNCTION zv_staged_item_gone() RETURNS trigger LANGUAGE plpgsql AS $$"
     " BEGIN"
     "  IF OLD.item_id IS NOT NULL AND NOT EXISTS"
     "   (SELECT 1 FROM staged WHERE item_id = OLD.item_id) THEN"
     "   DELETE FROM source_item WHERE id = OLD.item_id;"
     "  END IF;"
     "  RETURN NULL;"
     " END $$;"
     "CREATE TRIGGER staged_item_gone AFTER DELETE ON staged FOR EACH ROW"
     " EXECUTE FUNCTION zv_staged_item_gone();"
     "CREATE INDEX quarantine_due ON quarantine(due) WHERE state = 'waiting';"},
};

static int current(zv_sb *b)
{
    PGresult *r = zv_pg_q(b, "schema version", "SELECT coalesce(max(version), 0) FROM zv_schema", 0,
                          NULL, NULL, NULL);
    if (!r) return -1;
    int v = (int)zv_pg_get_i64(r, 0, 0);
    PQclear(r);
    return v;
}

static int apply(zv_sb *b, int from)
{
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if (steps[i].version <= from) continue;
        char what[64], v[24], at[24];
        snprintf(what, sizeof(what), "schema step %d", steps[i].version);
        if (zv_pg_cmd(b, what, steps[i].sql) < 0) return -1;
        const char *vals[] = {zv_pg_i64(v, steps[i].version), zv_pg_i64(at, zv_now()),
                              steps[i].what};
        PGresult *r = zv_pg_q(b, what,
                              "INSERT INTO zv_schema(version, applied_at, what) "
                              "VALUES($1, $2, $3)",
                              3, vals, NULL, NULL);
        if (!r) return -1;
        PQclear(r);
    }
    return 0;
}

int zv_pg_migrate(zv_sb *b)
{
    if (zv_pg_cmd(b, "schema", "BEGIN") < 0) return -1;
    int rc = zv_pg_cmd(b, "schema lock", "SELECT pg_advisory_xact_lock(" ZV_PG_LOCK_SCHEMA ")");
    if (rc == 0)
        rc = zv_pg_cmd(b, "schema",
                       "CREATE TABLE IF NOT EXISTS zv_schema(version integer "
                       "PRIMARY KEY, applied_at bigint NOT NULL, what text)");
    int v = rc < 0 ? -1 : current(b);
    if (v > ZV_PG_SCHEMA_VERSION) {
        zv_pg_fail(b,
                   "the database is at schema version %d, made by a newer zinvol; this one "
                   "knows up to version %d",
                   v, ZV_PG_SCHEMA_VERSION);
        v = -1;
    }
    if (v >= 0 && v < ZV_PG_SCHEMA_VERSION && apply(b, v) < 0) v = -1;
    if (v < 0) {
        char keep[sizeof(b->err)];
        memcpy(keep, b->err, sizeof(keep));
        zv_pg_cmd(b, "schema", "ROLLBACK");
        memcpy(b->err, keep, sizeof(keep));
        return -1;
    }
    if (zv_pg_cmd(b, "schema", "COMMIT") < 0) return -1;
    PG(b)->schema = ZV_PG_SCHEMA_VERSION;
    return 0;
}
