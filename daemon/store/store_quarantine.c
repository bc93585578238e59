/* Store: quarantine entries, waiting records and source items in flight;
 * see store_quarantine.h. */
#include "store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>
#include <zinvol/util.h>

static sqlite3_stmt *prep(zv_store *s, const char *sql)
{
    return zv_store_prep(s, sql);
}

static int step_done(zv_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    zv_store_unprep(s, st);
    return rc == SQLITE_DONE ? 0 : zv_store_fail(s, what);
}

static int has_column(zv_store *s, const char *table, const char *column)
{
    sqlite3_stmt *st = prep(s, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
    if (!st) return -1;
    zv_store_bind_text(st, 1, table);
    zv_store_bind_text(st, 2, column);
    int have = sqlite3_step(st) == SQLITE_ROW;
    zv_store_unprep(s, st);
    return have;
}

static int add_column(zv_store *s, const char *table, const char *column, const char *decl)
{
    int have = has_column(s, table, column);
    if (have != 0) return have < 0 ? -1 : 0;
    char sql[256];
    snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s", table, column, decl);
    return zv_store_exec(s, sql);
}

int zv_store_migrate_lifecycle(zv_store *s)
{
    static const char *const cols[][2] = {{"state", "TEXT NOT NULL DEFAULT 'open'"},
                                          {"reasons", "TEXT"},
                                          {"mapping_version", "TEXT"},
                                          {"source_version", "TEXT"},
                                          {"due", "TEXT"}};
    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
        if (add_column(s, "quarantine", cols[i][0], cols[i][1]) < 0) return -1;
    if (add_column(s, "staged", "item_id", "INTEGER") < 0) return -1;
    /* The record last sent per key: what a withdrawal repeats (core/change.h). */
    if (add_column(s, "sent_digest", "rec", "BLOB") < 0) return -1;
    return zv_store_exec(
        s, "CREATE INDEX IF NOT EXISTS quarantine_record ON quarantine(source, record_id);"
           "CREATE TABLE IF NOT EXISTS quarantine_closed(id INTEGER PRIMARY KEY, created INTEGER,"
           " source TEXT, record_id TEXT, stage TEXT, destination TEXT, field TEXT, rule TEXT,"
           " reason TEXT, reasons TEXT, mapping_version TEXT, source_version TEXT,"
           " closed_at INTEGER, outcome TEXT, detail TEXT);"
           "CREATE TABLE IF NOT EXISTS source_item(id INTEGER PRIMARY KEY, source TEXT,"
           " record_id TEXT, item_json TEXT, mapping_version TEXT, created INTEGER);"
           "CREATE INDEX IF NOT EXISTS source_item_record ON source_item(source, record_id, id);"
           "CREATE INDEX IF NOT EXISTS staged_item ON staged(item_id) WHERE item_id IS NOT NULL;"
           /* An item is kept while a staged row names it: the render that
            * deletes the last one lets it go, whoever does the deleting. */
           "CREATE TRIGGER IF NOT EXISTS staged_item_gone AFTER DELETE ON staged"
           " WHEN old.item_id IS NOT NULL AND NOT EXISTS"
           " (SELECT 1 FROM staged WHERE item_id = old.item_id)"
           " BEGIN DELETE FROM source_item WHERE id = old.item_id; END;");
}

/* [{"field":..,"rule":..,"reason":..}] with one element. */
static char *one_reason(const char *field, const char *rule, const char *reason)
{
    zv_jw *w = zv_jw_new(0);
    if (!w) return NULL;
    zv_jw_arr_open(w);
    zv_jw_obj_open(w);
    zv_jw_key(w, "field");
    field ? zv_jw_str(w, field) : zv_jw_null(w);
    zv_jw_key(w, "rule");
    rule ? zv_jw_str(w, rule) : zv_jw_null(w);
    zv_jw_key(w, "reason");
    zv_jw_str(w, reason ? reason : "");
    zv_jw_obj_close(w);
    zv_jw_arr_close(w);
    const char *t;
    size_t n;
    char *out = zv_jw_result(w, &t, &n) == 0 ? strndup(t, n) : NULL;
    zv_jw_free(w);
    return out;
}

int zv_store_quarantine_add(zv_store *s, const zv_quarantine_entry *e, int64_t *id)
{
    char *reasons = e->reasons_json ? NULL : one_reason(e->field, e->rule, e->reason);
    if (!e->reasons_json && !reasons) {
        snprintf(s->err, sizeof(s->err), "quarantine: out of memory");
        if (s->open) s->failed = 1;
        return -1;
    }
    /* Ids are never reused: closed entries keep theirs in quarantine_closed. */
    sqlite3_stmt *st = zv_store_stmt(
        s, ZV_ST_QUARANTINE_ADD,
        "INSERT INTO quarantine(id, created, source, record_id, stage, destination, field, rule, "
        "reason, item_json, record, state, reasons, mapping_version, source_version, due) "
        "VALUES(1 + max(coalesce((SELECT max(id) FROM quarantine), 0), "
        "coalesce((SELECT max(id) FROM quarantine_closed), 0)), "
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) {
        free(reasons);
        return -1;
    }
    sqlite3_bind_int64(st, 1, e->created ? e->created : zv_now());
    zv_store_bind_text(st, 2, e->source);
    zv_store_bind_text(st, 3, e->record_id);
    zv_store_bind_text(st, 4, e->stage);
    zv_store_bind_text(st, 5, e->destination);
    zv_store_bind_text(st, 6, e->field);
    zv_store_bind_text(st, 7, e->rule);
    zv_store_bind_text(st, 8, e->reason);
    zv_store_bind_text(st, 9, e->item_json);
    if (e->record) sqlite3_bind_blob(st, 10, e->record, (int)e->record_len, SQLITE_STATIC);
    zv_store_bind_text(st, 11, e->state ? e->state : "open");
    zv_store_bind_text(st, 12, e->reasons_json ? e->reasons_json : reasons);
    zv_store_bind_text(st, 13, e->mapping_version);
    zv_store_bind_text(st, 14, e->source_version);
    zv_store_bind_text(st, 15, e->due);
    int rc = sqlite3_step(st);
    free(reasons);
    if (rc != SQLITE_DONE) return zv_store_fail(s, "quarantine");
    if (id) *id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int zv_store_quarantine_add_reason(zv_store *s, int64_t id, const char *field, const char *rule,
                                   const char *reason)
{
    char *one = one_reason(field, rule, reason);
    if (!one) return -1;
    /* json_insert with '$[#]' appends to the array. */
    sqlite3_stmt *st = prep(s, "UPDATE quarantine SET reasons = json_insert(coalesce(reasons, "
                               "'[]'), '$[#]', json_extract(?, '$[0]')) WHERE id = ?");
    if (!st) {
        free(one);
        return -1;
    }
    zv_store_bind_text(st, 1, one);
    sqlite3_bind_int64(st, 2, id);
    int r = step_done(s, st, "quarantine reason");
    free(one);
    return r;
}

/* Columns of both tables in one order, so one row reader serves both. */
#define OPEN_COLS                                                                                  \
    "SELECT id, created, source, record_id, stage, destination, field, rule, reason, "             \
    "item_json, record, state, reasons, mapping_version, source_version, due, NULL, NULL "         \
    "FROM quarantine "
#define CLOSED_COLS                                                                                \
    "SELECT id, created, source, record_id, stage, destination, field, rule, reason, "             \
    "NULL, NULL, outcome, reasons, mapping_version, source_version, NULL, closed_at, detail "      \
    "FROM quarantine_closed "

static int quarantine_rows(zv_store *s, sqlite3_stmt *st, zv_quarantine_cb cb, void *arg)
{
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        zv_quarantine_entry e = {
            .id = sqlite3_column_int64(st, 0),
            .created = sqlite3_column_int64(st, 1),
            .source = zv_store_col_text(st, 2),
            .record_id = zv_store_col_text(st, 3),
            .stage = zv_store_col_text(st, 4),
            .destination = zv_store_col_text(st, 5),
            .field = zv_store_col_text(st, 6),
            .rule = zv_store_col_text(st, 7),
            .reason = zv_store_col_text(st, 8),
            .item_json = zv_store_col_text(st, 9),
            .record = sqlite3_column_blob(st, 10),
            .record_len = (size_t)sqlite3_column_bytes(st, 10),
            .state = zv_store_col_text(st, 11),
            .reasons_json = zv_store_col_text(st, 12),
            .mapping_version = zv_store_col_text(st, 13),
            .source_version = zv_store_col_text(st, 14),
            .due = zv_store_col_text(st, 15),
            .closed_at = sqlite3_column_int64(st, 16),
            .outcome_detail = zv_store_col_text(st, 17),
        };
        n++;
        if (cb(&e, arg)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    int ret = rc == SQLITE_DONE ? n : zv_store_fail(s, "quarantine");
    zv_store_unprep(s, st);
    return ret;
}

#define FILTERS                                                                                    \
    "(?2 IS NULL OR source = ?2) AND (?3 IS NULL OR stage = ?3) AND "                              \
    "(?4 IS NULL OR destination = ?4) AND (?5 IS NULL OR instr(lower(coalesce(reasons, reason, "   \
    "'') || ' ' || coalesce(field, '') || ' ' || coalesce(rule, '') || ' ' || "                    \
    "coalesce(record_id, '')), lower(?5)) > 0) AND created >= ?6 "

int zv_store_quarantine_query(zv_store *s, const zv_quarantine_filter *f, zv_quarantine_cb cb,
                              void *arg)
{
    sqlite3_stmt *st = prep(
        s, OPEN_COLS "WHERE (?1 = 'all' OR state = ?1) AND " FILTERS "UNION ALL " CLOSED_COLS
                     "WHERE (?1 IN ('all', 'closed') OR outcome = ?1) AND " FILTERS "ORDER BY 1");
    if (!st) return -1;
    zv_store_bind_text(st, 1, f && f->state ? f->state : "open");
    zv_store_bind_text(st, 2, f ? f->source : NULL);
    zv_store_bind_text(st, 3, f ? f->stage : NULL);
    zv_store_bind_text(st, 4, f ? f->destination : NULL);
    zv_store_bind_text(st, 5, f ? f->text : NULL);
    sqlite3_bind_int64(st, 6, f ? f->since : 0);
    return quarantine_rows(s, st, cb, arg) < 0 ? -1 : 0;
}

int zv_store_quarantine_each(zv_store *s, zv_quarantine_cb cb, void *arg)
{
    return zv_store_quarantine_query(s, NULL, cb, arg);
}

int zv_store_quarantine_get(zv_store *s, int64_t id, zv_quarantine_cb cb, void *arg)
{
    sqlite3_stmt *st = prep(s, OPEN_COLS "WHERE id = ?1 UNION ALL " CLOSED_COLS "WHERE id = ?1");
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, id);
    int n = quarantine_rows(s, st, cb, arg);
    return n < 0 ? -1 : n == 0 ? 1 : 0;
}

int zv_store_quarantine_of_record(zv_store *s, const char *source, const char *record_id,
                                  zv_quarantine_cb cb, void *arg)
{
    sqlite3_stmt *st = prep(s, OPEN_COLS "WHERE source = ? AND record_id = ? ORDER BY id");
    if (!st) return -1;
    zv_store_bind_text(st, 1, source);
    zv_store_bind_text(st, 2, record_id);
    return quarantine_rows(s, st, cb, arg) < 0 ? -1 : 0;
}

int zv_store_quarantine_due(zv_store *s, const char *today, zv_quarantine_cb cb, void *arg)
{
    sqlite3_stmt *st = prep(s, OPEN_COLS "WHERE state = 'waiting' AND due <= ? ORDER BY id");
    if (!st) return -1;
    zv_store_bind_text(st, 1, today);
    return quarantine_rows(s, st, cb, arg) < 0 ? -1 : 0;
}

int64_t zv_store_quarantine_count(zv_store *s)
{
    return zv_store_count_sql(s, "SELECT count(*) FROM quarantine WHERE state = 'open'", NULL,
                              NULL);
}

int64_t zv_store_quarantine_waiting(zv_store *s)
{
    return zv_store_count_sql(s, "SELECT count(*) FROM quarantine WHERE state = 'waiting'", NULL,
                              NULL);
}

/* What the audit entry says about the entry. */
struct about {
    int found;
    char what[600], dest[128];
};

static int about_cb(const zv_quarantine_entry *e, void *arg)
{
    struct about *a = arg;
    if (e->closed_at) return 0; /* only open and waiting entries can be closed */
    a->found = 1;
    snprintf(a->what, sizeof(a->what), "quarantine entry %" PRId64 " (%s/%s, %s%s%s)", e->id,
             e->source ? e->source : "", e->record_id ? e->record_id : "",
             e->state && strcmp(e->state, "waiting") == 0 ? "waiting"
             : e->stage                                   ? e->stage
                                                          : "",
             e->destination ? " for " : "", e->destination ? e->destination : "");
    snprintf(a->dest, sizeof(a->dest), "%s", e->destination ? e->destination : "");
    return 1;
}

static int run_id(zv_store *s, const char *sql, int64_t id, const char *a, const char *b,
                  int64_t now)
{
    sqlite3_stmt *st = prep(s, sql);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_bind_parameter_count(st) >= 4) {
        zv_store_bind_text(st, 2, a);
        zv_store_bind_text(st, 3, b);
        sqlite3_bind_int64(st, 4, now);
    }
    int rc = sqlite3_step(st);
    zv_store_unprep(s, st);
    return rc == SQLITE_DONE ? sqlite3_changes(s->db) : zv_store_fail(s, "quarantine close");
}

int zv_store_quarantine_close(zv_store *s, int64_t id, const char *outcome, const char *detail,
                              int64_t now)
{
    int own;
    if (zv_store_op_begin(s, &own) < 0) return -1;
    struct about a = {0};
    if (zv_store_quarantine_get(s, id, about_cb, &a) < 0) s->failed = 1;
    if (!s->failed && !a.found) {
        zv_store_op_end(s, own);
        snprintf(s->err, sizeof(s->err), "no open quarantine entry %" PRId64, id);
        return 1;
    }
    char *d = zv_strdup0(detail ? detail : "");
    if (d) zv_bsn_scrub(d);
    char line[1400];
    snprintf(line, sizeof(line), "%s %s%s%s", a.what, outcome, d && *d ? ": " : "", d ? d : "");
    if (!d ||
        run_id(s,
               "INSERT INTO quarantine_closed(id, created, source, record_id, stage, "
               "destination, field, rule, reason, reasons, mapping_version, source_version, "
               "closed_at, outcome, detail) SELECT id, created, source, record_id, stage, "
               "destination, field, rule, reason, reasons, mapping_version, source_version, "
               "?4, ?2, ?3 FROM quarantine WHERE id = ?1",
               id, outcome, d, now) != 1 ||
        run_id(s, "DELETE FROM quarantine WHERE id = ?", id, NULL, NULL, 0) != 1 ||
        zv_store_audit_append_locked(s, now, "quarantine", a.dest[0] ? a.dest : NULL, NULL, NULL,
                                     NULL, NULL, line) < 0)
        s->failed = 1;
    free(d);
    return zv_store_op_end(s, own);
}

/* ---- source items in flight ---- */

int zv_store_item_put(zv_store *s, const char *source, const char *record_id, const char *item_json,
                      const char *mapping_version, int64_t *id)
{
    sqlite3_stmt *st = zv_store_stmt(s, ZV_ST_ITEM_PUT,
                                     "INSERT INTO source_item(source, record_id, item_json, "
                                     "mapping_version, created) VALUES(?, ?, ?, ?, ?)");
    if (!st) return -1;
    zv_store_bind_text(st, 1, source);
    zv_store_bind_text(st, 2, record_id);
    zv_store_bind_text(st, 3, item_json);
    zv_store_bind_text(st, 4, mapping_version);
    sqlite3_bind_int64(st, 5, zv_now());
    if (sqlite3_step(st) != SQLITE_DONE) return zv_store_fail(s, "source item");
    *id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int zv_store_item_get(zv_store *s, const char *source, const char *record_id, char **item_json,
                      char **mapping_version)
{
    sqlite3_stmt *st = prep(s, "SELECT item_json, mapping_version FROM source_item WHERE "
                               "source = ? AND record_id = ? ORDER BY id DESC LIMIT 1");
    if (!st) return -1;
    zv_store_bind_text(st, 1, source);
    zv_store_bind_text(st, 2, record_id);
    int rc = sqlite3_step(st), ret = 1;
    *item_json = *mapping_version = NULL;
    if (rc == SQLITE_ROW) {
        *item_json = zv_strdup0(zv_store_col_text(st, 0));
        *mapping_version = zv_strdup0(zv_store_col_text(st, 1));
        ret = 0;
    } else if (rc != SQLITE_DONE) {
        ret = zv_store_fail(s, "source item");
    }
    zv_store_unprep(s, st);
    return ret;
}

int zv_store_item_release(zv_store *s, int64_t id)
{
    sqlite3_stmt *st = zv_store_stmt(s, ZV_ST_ITEM_DEL,
                                     "DELETE FROM source_item WHERE id = ? AND NOT EXISTS "
                                     "(SELECT 1 FROM staged WHERE item_id = source_item.id)");
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, id);
    return sqlite3_step(st) == SQLITE_DONE ? 0 : zv_store_fail(s, "source item");
}

int zv_store_quarantine_like(zv_store *s, const zv_quarantine_entry *e, int64_t except)
{
    sqlite3_stmt *st = prep(s, "SELECT 1 FROM quarantine WHERE source = ? AND record_id = ? AND "
                               "stage = ? AND destination IS ? AND field IS ? AND rule IS ? AND "
                               "reason IS ? AND state = 'open' AND id != ? LIMIT 1");
    if (!st) return -1;
    zv_store_bind_text(st, 1, e->source);
    zv_store_bind_text(st, 2, e->record_id);
    zv_store_bind_text(st, 3, e->stage);
    zv_store_bind_text(st, 4, e->destination);
    zv_store_bind_text(st, 5, e->field);
    zv_store_bind_text(st, 6, e->rule);
    zv_store_bind_text(st, 7, e->reason);
    sqlite3_bind_int64(st, 8, except);
    int rc = sqlite3_step(st);
    zv_store_unprep(s, st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : zv_store_fail(s, "quarantine");
}
