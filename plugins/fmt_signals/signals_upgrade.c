/*
 * Count states of earlier versions, converted when the plugin opens them
 * (in the transaction that loads the counts, so a failure leaves them as
 * they were):
 *   0, 1: table counts, one row per measure, period and client (the client
 *         as the hex SHA-256; 1 also a table cells kept by triggers);
 *   2:    table client_cells, one row per period and client (the first 128
 *         bits of the key) with a blob of (varint measure, varint cell,
 *         u8 date length, date) entries; table cells with the counts.
 * Their clients become entries in memory, written as the first rows of
 * table changes; the old tables go.
 */
#include "signals_state_int.h"

#include <stdlib.h>
#include <string.h>

static int has_table(sqlite3 *db, const char *name)
{
    sqlite3_stmt *t;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1", -1, &t,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(t, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(t);
    sqlite3_finalize(t);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Versions 0 and 1 name their measures in every row: numbered first, so
 * the entries in memory have a slot for each. */
int sig_upgrade_measures(sig_state *st, int version)
{
    int old = version < 2 ? has_table(st->db, "counts") : 0;
    if (old <= 0) return old;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT DISTINCT measure FROM counts", -1, &s, NULL) !=
        SQLITE_OK)
        return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(s, 0);
        if (!id || sig_dict_intern(&st->measures, st->measure_add, id) < 0) break;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int hexval(unsigned c)
{
    if (c - '0' < 10u) return (int)(c - '0');
    c |= 0x20; /* 'A'..'F' as 'a'..'f' */
    return c - 'a' < 6u ? (int)(c - 'a' + 10) : -1;
}

static int hex_key(const char *hex, unsigned char out[SIG_KEY_BYTES])
{
    for (size_t i = 0; i < SIG_KEY_BYTES; i++) {
        int hi = hexval((unsigned char)hex[2 * i]);
        int lo = hi < 0 ? -1 : hexval((unsigned char)hex[2 * i + 1]);
        if (lo < 0) return -1;
        out[i] = (unsigned char)(hi * 16 + lo);
    }
    return 0;
}

static int from_counts(sig_state *st)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT measure, period, client, date, cell FROM counts", -1, &s,
                           NULL) != SQLITE_OK)
        return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *col[5];
        for (int i = 0; i < 5; i++)
            col[i] = (const char *)sqlite3_column_text(s, i);
        unsigned char key[SIG_KEY_BYTES];
        int32_t day;
        int m = col[0] ? sig_dict_find(&st->measures, col[0]) : -1;
        int p = m >= 0 && col[1] ? sig_state_period(st, col[1]) : -1;
        int c = p >= 0 && col[4] ? sig_state_cell(st, col[4]) : -1;
        if (c < 0 || !col[2] || hex_key(col[2], key) != 0 || sig_day_of(col[3], &day) != 0 ||
            sig_mem_set(st, (uint32_t)p, key, (uint32_t)m, c, day) != 0)
            break;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* One client_cells blob of version 2 into memory. */
static int v2_row(sig_state *st, int period, const unsigned char *key, const unsigned char *p,
                  size_t len)
{
    const unsigned char *end = p + len;
    while (p < end) {
        uint32_t m, c;
        char date[16];
        if (sig_get_varint(&p, end, &m) != 0 || sig_get_varint(&p, end, &c) != 0 || p >= end ||
            *p >= sizeof(date) || (size_t)(end - p) < 1u + *p || m >= st->measures.n ||
            c >= st->cellnames.n)
            return -1;
        size_t dl = *p++;
        memcpy(date, p, dl);
        date[dl] = '\0';
        p += dl;
        int32_t day;
        if (sig_day_of(date, &day) != 0 ||
            sig_mem_set(st, (uint32_t)period, key, m, (int32_t)c, day) != 0)
            return -1;
    }
    return 0;
}

static int from_client_cells(sig_state *st)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT period, client, data FROM client_cells", -1, &s, NULL) !=
        SQLITE_OK)
        return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *label = (const char *)sqlite3_column_text(s, 0);
        int p = label ? sig_state_period(st, label) : -1;
        const unsigned char *key = sqlite3_column_blob(s, 1);
        if (p < 0 || !key || sqlite3_column_bytes(s, 1) != SIG_KEY_BYTES ||
            v2_row(st, p, key, sqlite3_column_blob(s, 2), (size_t)sqlite3_column_bytes(s, 2)) != 0)
            break;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int sig_upgrade_rows(sig_state *st, int version)
{
    int counts = has_table(st->db, "counts"), client_cells = has_table(st->db, "client_cells");
    if (counts < 0 || client_cells < 0) return -1;
    if (version < 2 && counts && from_counts(st) != 0) return -1;
    if (version == 2 && client_cells && from_client_cells(st) != 0) return -1;
    return sqlite3_exec(st->db,
                        "DROP TRIGGER IF EXISTS counts_ins; DROP TRIGGER IF EXISTS counts_upd;"
                        " DROP TABLE IF EXISTS counts; DROP TABLE IF EXISTS client_cells;"
                        " DROP TABLE IF EXISTS cells; PRAGMA user_version = 3;",
                        NULL, NULL, NULL) == SQLITE_OK
               ? 0
               : -1;
}
