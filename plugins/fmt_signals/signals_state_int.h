/* Internal to signals_state.c and signals_pending.c: the count state's
 * connection, its cached statements, the dictionaries of measure and cell
 * names, and the puts of the open transaction. */
#ifndef ZV_SIGNALS_STATE_INT_H
#define ZV_SIGNALS_STATE_INT_H

#include <sqlite3.h>
#include <stddef.h>

#include "signals.h"

#define SIG_KEY_BYTES 16 /* the first 128 bits of the salted SHA-256 */

/* Names by number, as in the tables measures / cellnames.  n names are
 * known, ncommitted of them are on disk (a rollback forgets the others). */
typedef struct sig_dict {
    char **name; /* owned, index = number */
    size_t n, cap, ncommitted;
    int *slot; /* open addressing on the names' hash: index + 1, 0 free */
    size_t nslots;
} sig_dict;

/* One put of the open transaction (kept in sig_state.puts until commit or
 * rollback). */
typedef struct sig_put {
    unsigned char client[SIG_KEY_BYTES];
    char period[16], date[16];
    int measure, cell; /* numbers in the dictionaries */
} sig_put;

struct sig_state {
    sqlite3 *db;
    sqlite3_stmt *cells, *rep_get, *rep_put, *nar_put, *nar_get, *unreported;
    sqlite3_stmt *row_get, *row_put, *cell_add, *measure_add, *cellname_add;
    char salt[65];
    sig_dict measures, cellnames;
    sig_put *puts;
    size_t nputs, capputs;
};

int sig_dict_find(const sig_dict *d, const char *name);
/* The name's number, added (also to the table through stmt) when new; -1 on failure. */
int sig_dict_intern(sig_dict *d, sqlite3_stmt *add, const char *name);
int sig_dict_load(sig_dict *d, sqlite3 *db, const char *sql);
void sig_dict_forget_uncommitted(sig_dict *d);
void sig_dict_free(sig_dict *d);

/* Write the open transaction's puts: one read and at most one write per
 * client and period touched, one upsert per cell whose count changed. */
int sig_pending_flush(sig_state *st);
void sig_pending_drop(sig_state *st);

#endif
