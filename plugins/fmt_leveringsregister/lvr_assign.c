/*
 * What the zorgkantoor assigned: the bemiddelingspecificaties received from
 * the Bemiddelingsregister (source bemiddelingsregister, QBR-0001-ZA, mapped
 * into entitlement records of law wlz) are kept in the register's file, and
 * every delivery's Levering refers to one of them.  The SDL makes
 * Levering.bemiddelingspecificatieID a non-null UUID, "de technische sleutel
 * bemiddelingspecificatie waarbij deze levering hoort": a key of the
 * Bemiddelingsregister's, so the register never makes one up.
 *
 * A delivery matches a specification on the keys both carry: the client
 * (client.bsn = bemiddeling.client.bsn), the zorgkantoor (entitlement.funder
 * = uitvoerendZorgkantoor), the product (entitlement.zzp_code = zzpCode,
 * when both have one) and the period (the delivery's date within
 * toewijzingIngangsdatum..toewijzingEinddatum).  The zorgaanbieder needs no
 * comparison: QBR-0001-ZA is asked for this provider's own instelling, so
 * every specification received is this provider's.  Where several match,
 * the ECD's entitlement.number decides when it names one of them.
 */
#include "lvr.h"
#include "nmc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int lvr_assign_keep(lvr *l, const zv_record *r, const char *now_iso, const char **field,
                    char *reason, size_t reasonlen)
{
    static const zv_field_id need[] = {ZV_F_CLIENT_BSN, ZV_F_ENT_NUMBER, ZV_F_ENT_FUNDER};
    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
        if (!zv_rec_str(r, need[i])) {
            *field = zv_field_def_of(need[i])->name;
            snprintf(reason, reasonlen,
                     "a bemiddelingspecificatie needs %s to be referred to by deliveries", *field);
            return 1;
        }
    const char *id = zv_rec_str(r, ZV_F_ENT_NUMBER);
    if (!zv_nm_is_uuid(id)) {
        *field = "entitlement.number";
        snprintf(reason, reasonlen,
                 "entitlement.number '%.40s' is no UUID: not a bemiddelingspecificatieID", id);
        return 1;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db,
                           "INSERT OR REPLACE INTO bemiddelingspecificatie(id, bsn, zorgkantoor, "
                           "zzp, ingangsdatum, einddatum, ontvangen) VALUES(lower(?), ?, ?, ?, ?, "
                           "?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    const zv_field_id f[] = {ZV_F_ENT_NUMBER,   ZV_F_CLIENT_BSN, ZV_F_ENT_FUNDER,
                             ZV_F_ENT_ZZP_CODE, ZV_F_ENT_START,  ZV_F_ENT_END};
    for (int i = 0; i < 6; i++) {
        const char *v = zv_rec_str(r, f[i]);
        if (v)
            sqlite3_bind_text(st, i + 1, v, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, i + 1);
    }
    sqlite3_bind_text(st, 7, now_iso, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The date a delivery record is about: its start, or for an Uitstelperiode
 * or Afstel without one the mutation date. */
static const char *date_of(const zv_record *r)
{
    const char *d = zv_rec_str(r, ZV_F_DEL_START);
    return d ? d : zv_rec_str(r, ZV_F_DEL_MUTATION_DATE);
}

int lvr_assign_match(lvr *l, const zv_record *r, char out[37], const char **field, char *reason,
                     size_t reasonlen)
{
    const char *num = zv_rec_str(r, ZV_F_ENT_NUMBER);
    *field = "entitlement.number";
    if (!l->assigned) { /* bemiddeling "ecd": the ECD holds the zorgkantoor's id */
        if (zv_nm_is_uuid(num)) {
            snprintf(out, 37, "%s", num);
            for (char *p = out; *p; p++)
                if (*p >= 'A' && *p <= 'F') *p = (char)(*p - 'A' + 'a');
            return 0;
        }
        snprintf(reason, reasonlen,
                 "entitlement.number '%.40s' is no bemiddelingspecificatieID (a UUID); with "
                 "bemiddeling \"ecd\" the ECD must carry the zorgkantoor's",
                 num ? num : "");
        return 1;
    }
    const char *zk = zv_rec_str(r, ZV_F_ENT_FUNDER), *zzp = zv_rec_str(r, ZV_F_ENT_ZZP_CODE);
    const char *day = date_of(r);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db,
                           "SELECT id FROM bemiddelingspecificatie WHERE bsn = ?1 AND "
                           "zorgkantoor = ?2 AND (ingangsdatum IS NULL OR ingangsdatum <= ?3) AND "
                           "(einddatum IS NULL OR einddatum >= ?3) AND (?4 IS NULL OR zzp IS NULL "
                           "OR zzp = ?4) ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, zv_rec_str(r, ZV_F_CLIENT_BSN), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, zk, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, day ? day : "", -1, SQLITE_STATIC);
    if (zzp)
        sqlite3_bind_text(st, 4, zzp, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 4);
    int n = 0, named = 0, rc;
    char first[37] = "";
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (n++ == 0) snprintf(first, sizeof(first), "%s", id);
        if (num && !strcasecmp(num, id)) {
            snprintf(out, 37, "%s", id);
            named = 1;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return -1;
    if (named) return 0;
    if (n == 1) {
        snprintf(out, 37, "%s", first);
        return 0;
    }
    char what[160];
    snprintf(what, sizeof(what), "the client at zorgkantoor %s%s%s on %s", zk, zzp ? ", zzp " : "",
             zzp ? zzp : "", day ? day : "(no date)");
    if (n == 0)
        snprintf(reason, reasonlen,
                 "no bemiddelingspecificatie received from the Bemiddelingsregister matches (%s): "
                 "a Levering refers only to what the zorgkantoor assigned; retry the record "
                 "(zinvolctl quarantine retry) once its notification has come in",
                 what);
    else
        snprintf(reason, reasonlen,
                 "%d bemiddelingspecificaties match (%s) and entitlement.number names none of "
                 "them: which one the delivery belongs to is not known",
                 n, what);
    return 1;
}
