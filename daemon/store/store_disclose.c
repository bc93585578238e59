/*
 * Store: per-client disclosure (what was sent about one client).
 *
 * Delivered messages are found through the audit trail: audit_client is an
 * index of the chained audit.clients column, and an index row is believed
 * only when the chained entry names the client too.  The values themselves
 * live in `disclosure`, one row per client and payload, and go when
 * retention prunes the payload; field names, levels and times stay in the
 * trail for good.
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>
#include <zinvol/json.h>
#include <zinvol/util.h>

int zv_store_migrate_clients(zv_store *s)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM pragma_table_info('audit') WHERE name = 'clients'",
                           -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "migrate");
    int have = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (!have && zv_store_exec(s, "ALTER TABLE audit ADD COLUMN clients TEXT") < 0) return -1;
    /* And the citations (issue 15): NULL on older entries, which hash as before. */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT 1 FROM pragma_table_info('audit') WHERE name = 'citations'", -1,
                           &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "migrate");
    have = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return have ? 0 : zv_store_exec(s, "ALTER TABLE audit ADD COLUMN citations TEXT");
}

int zv_store_disclosure_put(zv_store *s, int64_t outbox_id, const char *disclosure_json)
{
    char err[128];
    zv_json_doc *d = zv_json_parse(disclosure_json, strlen(disclosure_json), 0, err, sizeof(err));
    if (!d) {
        snprintf(s->err, sizeof(s->err), "disclosure: %s", err);
        if (s->open) s->failed = 1;
        return -1;
    }
    /* Prepared once per handle: every payload of a render unit comes here. */
    sqlite3_stmt *st = zv_store_prep(s, "INSERT INTO disclosure(outbox_id, client_key, record_ref, "
                                        "values_json) VALUES(?, ?, ?, ?)");
    int rc = st ? 0 : -1;
    const zv_json *a = zv_json_root(d);
    for (size_t i = 0; rc == 0 && i < zv_json_len(a); i++) {
        const zv_json *e = zv_json_at(a, i);
        const char *k = zv_json_str(zv_json_get(e, "client"), NULL);
        if (!k) continue;
        zv_jw *w = zv_jw_new(0);
        const zv_json *v = zv_json_get(e, "values");
        if (v)
            zv_jw_value(w, v);
        else
            zv_jw_null(w);
        const char *vj;
        size_t vlen;
        zv_jw_result(w, &vj, &vlen);
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, outbox_id);
        sqlite3_bind_text(st, 2, k, -1, SQLITE_STATIC);
        zv_store_bind_text(st, 3, zv_json_str(zv_json_get(e, "record"), NULL));
        sqlite3_bind_text(st, 4, vj, (int)vlen, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) rc = zv_store_fail(s, "disclosure");
        zv_jw_free(w);
    }
    zv_store_unprep(s, st);
    zv_json_free(d);
    return rc;
}

int64_t zv_store_disclosure_prune(zv_store *s)
{
    if (zv_store_exec(s, "DELETE FROM disclosure WHERE outbox_id IN "
                         "(SELECT id FROM outbox WHERE payload IS NULL)") < 0)
        return -1;
    return sqlite3_changes(s->db);
}

/* This client's fields in a chained clients array, with the levels from the
 * entry's fields text ("f=level,..."): "f=level,..." into out.  0 when the
 * client is not named (the index row is not believed). */
static int client_fields(const char *clients, const char *levels, const char *key, zv_buf *out)
{
    char err[64];
    zv_json_doc *d = clients ? zv_json_parse(clients, strlen(clients), 0, err, sizeof(err)) : NULL;
    const zv_json *a = d ? zv_json_root(d) : NULL;
    int found = 0;
    for (size_t i = 0; a && !found && i < zv_json_len(a); i++) {
        const zv_json *e = zv_json_at(a, i);
        const char *k = zv_json_str(zv_json_get(e, "client"), NULL);
        if (!k || strcmp(k, key) != 0) continue;
        found = 1;
        const zv_json *f = zv_json_get(e, "fields");
        for (size_t j = 0; j < zv_json_len(f); j++) {
            const char *name = zv_json_str(zv_json_at(f, j), NULL);
            if (!name) continue;
            const char *lv = "none";
            size_t lvlen = 4, nlen = strlen(name);
            for (const char *p = levels; p && *p;) {
                const char *end = strchr(p, ',');
                size_t len = end ? (size_t)(end - p) : strlen(p);
                if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
                    lv = p + nlen + 1;
                    lvlen = len - nlen - 1;
                    break;
                }
                p = end ? end + 1 : NULL;
            }
            zv_buf_printf(out, "%s%s=%.*s", out->len ? "," : "", name, (int)lvlen, lv);
        }
    }
    zv_json_free(d);
    return found;
}

static int values_of(zv_store *s, int64_t outbox_id, const char *key, zv_buf *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT values_json FROM disclosure WHERE outbox_id = ? AND "
                           "client_key = ? ORDER BY rowid LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "disclose");
    sqlite3_bind_int64(st, 1, outbox_id);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int found = 0;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        zv_buf_puts(out, zv_store_col_text(st, 0));
        found = 1;
    }
    sqlite3_finalize(st);
    return found;
}

static int delivered(zv_store *s, const char *key, int64_t from, int64_t to, zv_disclosed_cb cb,
                     void *arg)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(
            s->db,
            "SELECT a.seq, a.at, a.destination, a.message, a.idem_key, a.fields, a.clients, "
            "(SELECT o.id FROM outbox o WHERE o.destination = a.destination AND "
            " o.idem_key = a.idem_key), a.citations, a.kind FROM audit_client c JOIN audit a ON "
            "a.seq = c.seq "
            "WHERE c.client_key = ? AND a.kind IN ('delivered', 'queried') AND a.at >= ? AND a.at "
            "<= ? "
            "ORDER BY a.seq",
            -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "disclose");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to > 0 ? to : INT64_MAX);
    int rc, stop = 0;
    while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        zv_buf f, v;
        zv_buf_init(&f);
        zv_buf_init(&v);
        /* A register's answer (kind queried) has no outbox row. */
        const char *kind = zv_store_col_text(st, 9);
        int queried = kind && !strcmp(kind, "queried");
        int64_t oid = queried ? 0 : sqlite3_column_int64(st, 7);
        if (client_fields(zv_store_col_text(st, 6), zv_store_col_text(st, 5), key, &f)) {
            int hv = oid ? values_of(s, oid, key, &v) : 0;
            zv_disclosed d = {.outbox_id = oid,
                              .seq = sqlite3_column_int64(st, 0),
                              .at = sqlite3_column_int64(st, 1),
                              .destination = zv_store_col_text(st, 2),
                              .message = zv_store_col_text(st, 3),
                              .idem_key = zv_store_col_text(st, 4),
                              .state = queried ? "queried" : "delivered",
                              .fields = f.data ? f.data : "",
                              .values_json = hv > 0 ? v.data : NULL,
                              .citations = zv_store_col_text(st, 8)};
            stop = cb(&d, arg);
        }
        zv_buf_free(&f);
        zv_buf_free(&v);
    }
    int ret = stop || rc == SQLITE_DONE ? 0 : zv_store_fail(s, "disclose");
    sqlite3_finalize(st);
    return ret;
}

/* Messages about the client that have not (yet) been delivered: pending,
 * in flight, dead or dropped.  Their outbox rows carry records_json. */
static int undelivered(zv_store *s, const char *key, int64_t from, int64_t to, zv_disclosed_cb cb,
                       void *arg)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(
            s->db,
            "SELECT o.id, o.first_enqueued, o.destination, o.message, o.idem_key, o.state, "
            "o.fields_json, o.records_json, d.values_json, "
            "(SELECT reason FROM dead_letter l WHERE l.outbox_id = o.id ORDER BY l.id DESC "
            " LIMIT 1) FROM disclosure d JOIN outbox o ON o.id = d.outbox_id "
            "WHERE d.client_key = ? AND o.state != 'delivered' AND o.first_enqueued >= ? AND "
            "o.first_enqueued <= ? GROUP BY o.id ORDER BY o.id",
            -1, &st, NULL) != SQLITE_OK)
        return zv_store_fail(s, "disclose");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to > 0 ? to : INT64_MAX);
    int rc, stop = 0;
    while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        zv_buf lv, f;
        zv_buf_init(&lv);
        zv_buf_init(&f);
        zv_jw *cw = zv_jw_new(0);
        zv_jw_obj_open(cw);
        /* fields_json [{"field","level"}] as the "f=level" text the trail uses */
        const char *fj = zv_store_col_text(st, 6);
        char err[64];
        zv_json_doc *d = fj ? zv_json_parse(fj, strlen(fj), 0, err, sizeof(err)) : NULL;
        for (size_t i = 0; d && i < zv_json_len(zv_json_root(d)); i++) {
            const zv_json *e = zv_json_at(zv_json_root(d), i);
            const char *n = zv_json_str(zv_json_get(e, "field"), NULL);
            const char *l = zv_json_str(zv_json_get(e, "level"), NULL);
            if (n) zv_buf_printf(&lv, "%s%s=%s", lv.len ? "," : "", n, l ? l : "none");
            const char *c = zv_json_str(zv_json_get(e, "citation"), NULL);
            if (n && c) {
                zv_jw_key(cw, n);
                zv_jw_str(cw, c);
            }
        }
        zv_json_free(d);
        zv_jw_obj_close(cw);
        const char *cites = NULL;
        size_t clen;
        if (zv_jw_result(cw, &cites, &clen) != 0) cites = NULL;
        if (client_fields(zv_store_col_text(st, 7), lv.data, key, &f)) {
            zv_disclosed x = {.outbox_id = sqlite3_column_int64(st, 0),
                              .at = sqlite3_column_int64(st, 1),
                              .destination = zv_store_col_text(st, 2),
                              .message = zv_store_col_text(st, 3),
                              .idem_key = zv_store_col_text(st, 4),
                              .state = zv_store_col_text(st, 5),
                              .fields = f.data ? f.data : "",
                              .values_json = zv_store_col_text(st, 8),
                              .dead_reason = zv_store_col_text(st, 9),
                              .citations = cites};
            stop = cb(&x, arg);
        }
        zv_jw_free(cw);
        zv_buf_free(&lv);
        zv_buf_free(&f);
    }
    int ret = stop || rc == SQLITE_DONE ? 0 : zv_store_fail(s, "disclose");
    sqlite3_finalize(st);
    return ret;
}

int zv_store_disclose(zv_store *s, const char *client_key, int64_t from, int64_t to,
                      zv_disclosed_cb cb, void *arg)
{
    int own = !s->open;
    if (own && zv_store_exec(s, "BEGIN") < 0) return -1;
    int rc = delivered(s, client_key, from, to, cb, arg);
    if (rc == 0) rc = undelivered(s, client_key, from, to, cb, arg);
    if (own) zv_store_exec(s, "COMMIT");
    return rc;
}
