/*
 * From a minimised delivery record to the register's objects.  Which object
 * a record is (zinvol's reading of AW35/AW39-style delivery records; the
 * RC defines the objects, not how an ECD fills them):
 *   - delivery.status 3 (annulering): the Leveringperiode starting on
 *     delivery.start is removed, with its Behandelingperiodes;
 *   - delivery.leveringsstatus 2, 3, 6 or 7 (the client waits): an
 *     Uitstelperiode from delivery.mutation_date (or delivery.start), reden
 *     delivery.end_reason;
 *   - no delivery.start but delivery.end_reason and delivery.mutation_date:
 *     the Levering's Afstel (care will not start);
 *   - otherwise a Leveringperiode from delivery.start, and with
 *     delivery.treatment J its Behandelingperiode over the same dates.
 * The Levering is the client's (client.bsn) bemiddelingspecificatie at one
 * zorgkantoor (entitlement.funder): the one the zorgkantoor assigned, matched
 * in lvr_assign.c; a record that matches none is not registered.
 * A change of any value gives the object a new vaststellingMoment and one
 * event; a record that changes nothing gives none.
 */
#include "lvr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct col {
    const char *name;
    const char *value; /* NULL: SQL NULL */
} col;

static const char *get(const zv_record *r, zv_field_id f)
{
    return zv_rec_str(r, f);
}

static int add_event(lvr_events *ev, const char *type, const char *kind, const char *id,
                     const char *levering, const char *bemiddeling, const char *zk)
{
    if (ev->n == ev->cap) {
        size_t cap = ev->cap ? ev->cap * 2 : 8;
        lvr_event *nv = realloc(ev->v, cap * sizeof(*nv));
        if (!nv) return -1;
        ev->v = nv;
        ev->cap = cap;
    }
    lvr_event *e = &ev->v[ev->n++];
    memset(e, 0, sizeof(*e));
    e->type = type;
    e->kind = kind;
    snprintf(e->id, sizeof(e->id), "%s", id);
    snprintf(e->levering, sizeof(e->levering), "%s", levering);
    snprintf(e->bemiddeling, sizeof(e->bemiddeling), "%s", bemiddeling);
    snprintf(e->zorgkantoor, sizeof(e->zorgkantoor), "%s", zk);
    return 0;
}

static int same(const unsigned char *a, const char *b)
{
    if (!a || !b) return !a && !b;
    return strcmp((const char *)a, b) == 0;
}

/* Insert or update the row of table with natural key nkey.  Returns 0 new,
 * 1 changed, 2 unchanged, -1 error; id[37] gets the row's UUID. */
static int upsert(lvr *l, const char *table, const char *nkey, const col *c, size_t n,
                  const char *moment, char id[37])
{
    char sql[1024];
    size_t o = (size_t)snprintf(sql, sizeof(sql), "SELECT id");
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(sql + o, sizeof(sql) - o, ", %s", c[i].name);
    snprintf(sql + o, sizeof(sql) - o, " FROM %s WHERE nkey = ?", table);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_text(st, 1, nkey, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), status = 0, differs = 0;
    if (rc == SQLITE_ROW) {
        snprintf(id, 37, "%s", (const char *)sqlite3_column_text(st, 0));
        for (size_t i = 0; i < n; i++)
            if (!same(sqlite3_column_text(st, (int)i + 1), c[i].value)) differs = 1;
        status = differs ? 1 : 2;
    } else if (rc == SQLITE_DONE) {
        lvr_uuid(id);
    } else {
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    if (status == 2) return 2;
    if (status == 0) {
        o = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s(id, nkey%s", table,
                             moment ? ", vaststelling_moment" : "");
        for (size_t i = 0; i < n; i++)
            o += (size_t)snprintf(sql + o, sizeof(sql) - o, ", %s", c[i].name);
        o += (size_t)snprintf(sql + o, sizeof(sql) - o, ") VALUES(?, ?%s", moment ? ", ?" : "");
        for (size_t i = 0; i < n; i++)
            o += (size_t)snprintf(sql + o, sizeof(sql) - o, ", ?");
        snprintf(sql + o, sizeof(sql) - o, ")");
    } else {
        o = (size_t)snprintf(sql, sizeof(sql), "UPDATE %s SET id = ?, nkey = ?%s", table,
                             moment ? ", vaststelling_moment = ?" : "");
        for (size_t i = 0; i < n; i++)
            o += (size_t)snprintf(sql + o, sizeof(sql) - o, ", %s = ?", c[i].name);
        snprintf(sql + o, sizeof(sql) - o, " WHERE id = ?1");
    }
    if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    int k = 1;
    sqlite3_bind_text(st, k++, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, k++, nkey, -1, SQLITE_STATIC);
    if (moment) sqlite3_bind_text(st, k++, moment, -1, SQLITE_STATIC);
    for (size_t i = 0; i < n; i++)
        if (c[i].value)
            sqlite3_bind_text(st, k++, c[i].value, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, k++);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? status : -1;
}

static int id_of(lvr *l, const char *sql, const char *a, char id[37])
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        snprintf(id, 37, "%s", (const char *)sqlite3_column_text(st, 0));
        found = 1;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : -1;
}

static int exec1(lvr *l, const char *sql, const char *a)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

typedef struct ctx {
    lvr *l;
    const zv_record *r;
    const char *now, *bsn, *zk;
    char levering[37], bemiddeling[37];
    lvr_events *ev;
} ctx;

static int event(ctx *c, const char *type, int status, const char *id)
{
    if (status == 2) return 0;
    return add_event(c->ev, type,
                     status == 0   ? "new"
                     : status == 1 ? "changed"
                                   : "removed",
                     id, c->levering, c->bemiddeling, c->zk);
}

/* Client and Levering: created on first sight, never changed by a record. */
static int levering(ctx *c)
{
    char cid[37], nkey[256];
    int f = id_of(c->l, "SELECT id FROM client WHERE bsn = ?", c->bsn, cid);
    if (f < 0) return -1;
    if (f == 0) {
        lvr_uuid(cid);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(c->l->db, "INSERT INTO client(id, bsn) VALUES(?, ?)", -1, &st,
                               NULL) != SQLITE_OK)
            return -1;
        sqlite3_bind_text(st, 1, cid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->bsn, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) return -1;
    }
    /* One Levering per client and bemiddelingspecificatie at one
     * zorgkantoor: c->bemiddeling is the zorgkantoor's id (lvr_assign.c). */
    snprintf(nkey, sizeof(nkey), "%s/%s/%s", c->zk, c->bsn, c->bemiddeling);
    col cols[] = {{"client_id", cid},
                  {"bsn", c->bsn},
                  {"bemiddelingspecificatie_id", c->bemiddeling},
                  {"zorgkantoor", c->zk}};
    return upsert(c->l, "levering", nkey, cols, 4, NULL, c->levering) < 0 ? -1 : 0;
}

static int behandeling(ctx *c, const char *lp, int remove)
{
    const char *start = get(c->r, ZV_F_DEL_START);
    char nkey[128], id[37];
    snprintf(nkey, sizeof(nkey), "%s/%s", lp, start);
    if (remove) {
        int f = id_of(c->l, "SELECT id FROM behandelingperiode WHERE nkey = ?", nkey, id);
        if (f <= 0) return f;
        if (exec1(c->l, "DELETE FROM behandelingperiode WHERE id = ?", id) < 0) return -1;
        return event(c, "BehandelingPeriode", 3, id);
    }
    col cols[] = {{"leveringperiode_id", lp},
                  {"bsn", c->bsn},
                  {"zorgkantoor", c->zk},
                  {"ingangsdatum", start},
                  {"einddatum", get(c->r, ZV_F_DEL_END)}};
    int s = upsert(c->l, "behandelingperiode", nkey, cols, 5, NULL, id);
    return s < 0 ? -1 : event(c, "BehandelingPeriode", s, id);
}

static int periode(ctx *c)
{
    const char *start = get(c->r, ZV_F_DEL_START);
    char nkey[128], id[37];
    snprintf(nkey, sizeof(nkey), "%s/%s", c->levering, start);
    const char *status = get(c->r, ZV_F_DEL_STATUS);
    if (status && !strcmp(status, "3")) {
        int f = id_of(c->l, "SELECT id FROM leveringperiode WHERE nkey = ?", nkey, id);
        if (f <= 0) return f; /* cancelling what was never registered: nothing to do */
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(c->l->db,
                               "SELECT id FROM behandelingperiode WHERE leveringperiode_id = ?", -1,
                               &st, NULL) != SQLITE_OK)
            return -1;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW)
            if (event(c, "BehandelingPeriode", 3, (const char *)sqlite3_column_text(st, 0)) < 0) {
                sqlite3_finalize(st);
                return -1;
            }
        sqlite3_finalize(st);
        if (exec1(c->l, "DELETE FROM behandelingperiode WHERE leveringperiode_id = ?", id) < 0 ||
            exec1(c->l, "DELETE FROM leveringperiode WHERE id = ?", id) < 0)
            return -1;
        return event(c, "Leveringperiode", 3, id);
    }
    col cols[] = {{"levering_id", c->levering},
                  {"bsn", c->bsn},
                  {"zorgkantoor", c->zk},
                  {"ingangsdatum", start},
                  {"sleuteldatum", get(c->r, ZV_F_DEL_SLEUTELDATUM)},
                  {"einddatum", get(c->r, ZV_F_DEL_END)},
                  {"beeindiging_reden", get(c->r, ZV_F_DEL_END_REASON)},
                  {"aanbieder_bestemming", get(c->r, ZV_F_DEL_DESTINATION_AGB)}};
    int s = upsert(c->l, "leveringperiode", nkey, cols, 8, c->now, id);
    if (s < 0 || event(c, "Leveringperiode", s, id) < 0) return -1;
    const char *t = get(c->r, ZV_F_DEL_TREATMENT);
    if (t && !strcmp(t, "J")) return behandeling(c, id, 0);
    if (t && !strcmp(t, "N")) return behandeling(c, id, 1);
    return 0;
}

static int uitstel(ctx *c)
{
    const char *from = get(c->r, ZV_F_DEL_MUTATION_DATE);
    if (!from) from = get(c->r, ZV_F_DEL_START);
    char nkey[128], id[37];
    snprintf(nkey, sizeof(nkey), "%s/%s", c->levering, from);
    col cols[] = {{"levering_id", c->levering},
                  {"bsn", c->bsn},
                  {"zorgkantoor", c->zk},
                  {"ingangsdatum", from},
                  {"reden", get(c->r, ZV_F_DEL_END_REASON)},
                  {"leveringsstatus", get(c->r, ZV_F_DEL_LEVERINGSSTATUS)},
                  {"leveringsstatus_classificatie", get(c->r, ZV_F_DEL_LEVERINGSSTATUS_CLASS)},
                  {"einddatum", get(c->r, ZV_F_DEL_END)}};
    int s = upsert(c->l, "uitstelperiode", nkey, cols, 8, c->now, id);
    return s < 0 ? -1 : event(c, "Uitstelperiode", s, id);
}

static int afstel(ctx *c)
{
    char id[37];
    col cols[] = {{"levering_id", c->levering},
                  {"bsn", c->bsn},
                  {"zorgkantoor", c->zk},
                  {"afsteldatum", get(c->r, ZV_F_DEL_MUTATION_DATE)},
                  {"reden", get(c->r, ZV_F_DEL_END_REASON)},
                  {"aanbieder_bestemming", get(c->r, ZV_F_DEL_DESTINATION_AGB)}};
    int s = upsert(c->l, "afstel", c->levering, cols, 6, c->now, id);
    return s < 0 ? -1 : event(c, "Afstel", s, id);
}

static int in_csv(const char *v, const char *list)
{
    if (!v) return 0;
    size_t n = strlen(v);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !memcmp(p, v, n)) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

typedef enum { O_PERIODE, O_UITSTEL, O_AFSTEL, O_NONE } object;

static object which(const zv_record *r)
{
    if (in_csv(get(r, ZV_F_DEL_LEVERINGSSTATUS), "2,3,6,7")) return O_UITSTEL;
    if (get(r, ZV_F_DEL_START)) return O_PERIODE;
    if (get(r, ZV_F_DEL_END_REASON) && get(r, ZV_F_DEL_MUTATION_DATE)) return O_AFSTEL;
    return O_NONE;
}

/* The fields an object cannot be registered without (non-null in the SDL). */
static const char *missing(const zv_record *r, object o)
{
    static const zv_field_id base[] = {ZV_F_CLIENT_BSN, ZV_F_ENT_FUNDER};
    for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
        if (!get(r, base[i])) return zv_field_def_of(base[i])->name;
    if (o == O_UITSTEL) {
        static const zv_field_id u[] = {ZV_F_DEL_END_REASON, ZV_F_DEL_LEVERINGSSTATUS_CLASS};
        if (!get(r, ZV_F_DEL_MUTATION_DATE) && !get(r, ZV_F_DEL_START))
            return "delivery.mutation_date";
        for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
            if (!get(r, u[i])) return zv_field_def_of(u[i])->name;
    }
    return NULL;
}

int lvr_apply(lvr *l, const zv_record *r, const char *now_iso, lvr_events *ev, const char **rule,
              const char **field, char *reason, size_t reasonlen)
{
    object o = which(r);
    if (o == O_NONE) {
        *rule = "LVR-OBJECT";
        *field = "delivery.start";
        snprintf(reason, reasonlen,
                 "the record is no Leveringperiode (delivery.start), Uitstelperiode "
                 "(delivery.leveringsstatus 2, 3, 6, 7) or Afstel (delivery.end_reason and "
                 "delivery.mutation_date without delivery.start)");
        return 1;
    }
    const char *m = missing(r, o);
    if (m) {
        *rule = "LVR-REQUIRED";
        *field = m;
        snprintf(reason, reasonlen, "%s is required for a %s in the Leveringsregister", m,
                 o == O_UITSTEL  ? "Uitstelperiode"
                 : o == O_AFSTEL ? "Afstel"
                                 : "Levering");
        return 1;
    }
    ctx c = {.l = l,
             .r = r,
             .now = now_iso,
             .bsn = get(r, ZV_F_CLIENT_BSN),
             .zk = get(r, ZV_F_ENT_FUNDER),
             .ev = ev};
    int a = lvr_assign_match(l, r, c.bemiddeling, field, reason, reasonlen);
    if (a != 0) {
        *rule = "LVR-BEMIDDELING";
        return a;
    }
    if (levering(&c) < 0) return -1;
    int rc = o == O_UITSTEL ? uitstel(&c) : o == O_AFSTEL ? afstel(&c) : periode(&c);
    return rc < 0 ? -1 : 0;
}
