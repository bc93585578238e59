/*
 * The register's tables, in SQLite in the instance's state directory.  Every
 * object carries its natural key (nkey: what the ECD's records identify it
 * by) beside its UUID, so the same ECD object always keeps the UUID it got
 * when first registered.  bsn and zorgkantoor are kept on every row: the
 * executor answers a zorgkantoor only its own rows and names the clients it
 * disclosed without joins.
 */
#include "lvr.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS client(id TEXT PRIMARY KEY, bsn TEXT UNIQUE NOT NULL);"
    "CREATE TABLE IF NOT EXISTS levering(id TEXT PRIMARY KEY, nkey TEXT UNIQUE NOT NULL,"
    " client_id TEXT NOT NULL, bsn TEXT NOT NULL, bemiddelingspecificatie_id TEXT NOT NULL,"
    " zorgkantoor TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS leveringperiode(id TEXT PRIMARY KEY, nkey TEXT UNIQUE NOT NULL,"
    " levering_id TEXT NOT NULL, bsn TEXT NOT NULL, zorgkantoor TEXT NOT NULL,"
    " ingangsdatum TEXT NOT NULL, vaststelling_moment TEXT NOT NULL, sleuteldatum TEXT,"
    " einddatum TEXT, beeindiging_reden TEXT, aanbieder_bestemming TEXT);"
    "CREATE TABLE IF NOT EXISTS behandelingperiode(id TEXT PRIMARY KEY, nkey TEXT UNIQUE NOT "
    "NULL, leveringperiode_id TEXT NOT NULL, bsn TEXT NOT NULL, zorgkantoor TEXT NOT NULL,"
    " ingangsdatum TEXT NOT NULL, einddatum TEXT);"
    "CREATE TABLE IF NOT EXISTS uitstelperiode(id TEXT PRIMARY KEY, nkey TEXT UNIQUE NOT NULL,"
    " levering_id TEXT NOT NULL, bsn TEXT NOT NULL, zorgkantoor TEXT NOT NULL,"
    " ingangsdatum TEXT NOT NULL, vaststelling_moment TEXT NOT NULL, reden TEXT NOT NULL,"
    " leveringsstatus TEXT NOT NULL, leveringsstatus_classificatie TEXT NOT NULL,"
    " einddatum TEXT);"
    "CREATE TABLE IF NOT EXISTS afstel(id TEXT PRIMARY KEY, nkey TEXT UNIQUE NOT NULL,"
    " levering_id TEXT UNIQUE NOT NULL, bsn TEXT NOT NULL, zorgkantoor TEXT NOT NULL,"
    " afsteldatum TEXT NOT NULL, vaststelling_moment TEXT NOT NULL, reden TEXT NOT NULL,"
    " aanbieder_bestemming TEXT);"
    /* What the zorgkantoor assigned (lvr_assign.c); the id is the
     * Bemiddelingsregister's bemiddelingspecificatieID. */
    "CREATE TABLE IF NOT EXISTS bemiddelingspecificatie(id TEXT PRIMARY KEY, bsn TEXT NOT NULL,"
    " zorgkantoor TEXT NOT NULL, zzp TEXT, ingangsdatum TEXT, einddatum TEXT,"
    " ontvangen TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS bemiddelingspecificatie_client ON bemiddelingspecificatie(bsn,"
    " zorgkantoor);"
    /* The notifications each record gave (lvr_emitted.c). */
    "CREATE TABLE IF NOT EXISTS emitted(rkey TEXT PRIMARY KEY, digest TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS emitted_note(rkey TEXT NOT NULL, n INTEGER NOT NULL,"
    " idem TEXT NOT NULL, record_key TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY(rkey, n));"
    /* Verzoek and VerzoekAanbieder exist in the RC; zinvol's model has no
     * source for them yet, so they stay empty and queries answer []. */
    "CREATE TABLE IF NOT EXISTS verzoek(id TEXT PRIMARY KEY, levering_id TEXT NOT NULL,"
    " bsn TEXT NOT NULL, zorgkantoor TEXT NOT NULL, verzoekdatum TEXT NOT NULL,"
    " product TEXT NOT NULL, toewijzing_soort TEXT NOT NULL, leveringsvorm TEXT NOT NULL,"
    " volume REAL, eenheid TEXT, frequentie TEXT, doelmatig TEXT, toeslagreden TEXT,"
    " verantwoord TEXT);"
    "CREATE TABLE IF NOT EXISTS verzoek_aanbieder(id TEXT PRIMARY KEY, verzoek_id TEXT NOT NULL,"
    " bsn TEXT NOT NULL, zorgkantoor TEXT NOT NULL, aanbieder TEXT NOT NULL,"
    " toewijzing_ingangsdatum TEXT NOT NULL, toewijzing_einddatum TEXT,"
    " toewijzing_percentage INTEGER NOT NULL, opname TEXT, regiehouder TEXT NOT NULL);";

int lvr_db_open(lvr *l, const char *path, char *err, size_t errlen)
{
    if (sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "register %s: %s", path, l->db ? sqlite3_errmsg(l->db) : "no memory");
        lvr_db_close(l);
        return -1;
    }
    sqlite3_busy_timeout(l->db, 5000);
    char *e = NULL;
    if (sqlite3_exec(l->db, schema, NULL, NULL, &e) != SQLITE_OK) {
        snprintf(err, errlen, "register %s: %s", path, e ? e : "schema");
        sqlite3_free(e);
        lvr_db_close(l);
        return -1;
    }
    return 0;
}

int lvr_db_ensure(lvr *l)
{
    if (l->db) return 0;
    const char *sd = l->host->state_dir(l->ctx);
    char path[2048], err[512];
    if (!sd) {
        l->host->log(l->ctx, ZV_LOG_ERROR, "no state directory for the register");
        return -1;
    }
    snprintf(path, sizeof(path), "%s/leveringsregister.db", sd);
    if (lvr_db_open(l, path, err, sizeof(err)) < 0) {
        l->host->log(l->ctx, ZV_LOG_ERROR, "%s", err);
        return -1;
    }
    return 0;
}

void lvr_db_close(lvr *l)
{
    if (l->db) sqlite3_close(l->db);
    l->db = NULL;
}

void lvr_uuid(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1) {
        /* No entropy is a broken machine; never hand out a guessable id. */
        abort();
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}
