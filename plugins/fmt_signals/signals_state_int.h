/* Internal to the count state (signals_state.c, signals_dict.c,
 * signals_mem.c, signals_upgrade.c): the connection, its statements, the
 * dictionaries of names, and the counts in memory with the changes of the
 * open transaction. */
#ifndef ZV_SIGNALS_STATE_INT_H
#define ZV_SIGNALS_STATE_INT_H

#include <openssl/evp.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "signals.h"

#define STATE_VERSION 3

/* Names by number, as in the tables measures / cellnames / periods.  n
 * names are known, ncommitted of them are on disk. */
typedef struct sig_dict {
    char **name; /* owned, index = number */
    size_t n, cap, ncommitted;
    int *slot; /* open addressing on the names' hash: index + 1, 0 free */
    size_t nslots;
} sig_dict;

/* A client's cell in one measure of a period: cell -1 when not counted
 * there; day: the date of the record that put it there, in days since
 * 1800-01-01 (dates before are not valid model dates). */
typedef struct sig_slot {
    int32_t cell, day;
} sig_slot;

/* One client in one period: the key, the period's number, then nmeasures
 * slots (an entry is esize bytes). */
typedef struct sig_ent {
    unsigned char key[SIG_KEY_BYTES];
    uint32_t period;
    uint32_t dirty; /* changed in the open transaction */
    sig_slot slot[];
} sig_ent;

/* The clients per cell: (period, measure, cell) -> count, and per
 * (period, measure) the cells it ever had. */
typedef struct sig_cellcount {
    uint64_t key; /* 0: free */
    int64_t n;
} sig_cellcount;

typedef struct sig_intvec {
    int32_t *v;
    size_t n, cap;
} sig_intvec;

typedef struct sig_mem {
    size_t nmeasures, esize;
    unsigned char *ents; /* n entries of esize bytes */
    size_t n, cap;
    uint32_t *idx; /* open addressing: entry + 1, 0 free; nidx a power of two */
    size_t nidx;
    sig_cellcount *cc;
    size_t ncc, nccslots;
    sig_intvec *cellsets; /* [period * nmeasures + measure] */
    size_t ncellsets;
    sig_intvec dirty;     /* entries changed in the open transaction */
    int64_t live, logged; /* entries with a cell / entries written to changes since the snapshot */
    size_t last; /* the entry ent_get found last: a record's measures look up the same one */
} sig_mem;

struct sig_state {
    sqlite3 *db;
    sqlite3_stmt *rep_get, *rep_put, *nar_put, *nar_get, *change_add;
    sqlite3_stmt *measure_add, *cellname_add, *period_add;
    char salt[65];
    EVP_MD_CTX *salted; /* SHA-256 with "salt:" absorbed */
    EVP_MD_CTX *hash;
    sig_dict measures, cellnames, periods;
    sig_mem mem;
    int broken; /* the memory could not be reloaded after a rollback */
};

int sig_dict_find(const sig_dict *d, const char *name);
/* The name's number, added (also to the table through stmt) when new; -1 on failure. */
int sig_dict_intern(sig_dict *d, sqlite3_stmt *add, const char *name);
int sig_dict_load(sig_dict *d, sqlite3 *db, const char *sql);
void sig_dict_free(sig_dict *d);

/* Counts in memory (signals_mem.c). */
int sig_mem_init(sig_mem *m, size_t nmeasures);
void sig_mem_free(sig_mem *m);
/* Replay the table changes into an empty memory; -1 on a damaged state. */
int sig_mem_load(sig_state *st);
/* Write the open transaction's changed entries (one row of changes, or a
 * snapshot of all when the log has grown to twice the live entries). */
int sig_mem_flush(sig_state *st);
/* Set a client's slot as it is (no later-wins): the upgrades. */
int sig_mem_set(sig_state *st, uint32_t period, const unsigned char key[SIG_KEY_BYTES],
                uint32_t measure, int32_t cell, int32_t day);
void sig_mem_clean(sig_mem *m);
int64_t sig_mem_count(const sig_mem *m, uint32_t period, uint32_t measure, int32_t cell);
/* The cells (period, measure) ever had; NULL: none. */
const sig_intvec *sig_mem_cells(const sig_mem *m, uint32_t period, uint32_t measure);
int sig_get_varint(const unsigned char **p, const unsigned char *end, uint32_t *out);

/* Earlier state versions, converted at open (signals_upgrade.c). */
int sig_upgrade_measures(sig_state *st, int version);
int sig_upgrade_rows(sig_state *st, int version);

#endif
