/* Store internals shared by the store_*.c files: the handle, cached statements. */
#ifndef ZV_STORE_INT_H
#define ZV_STORE_INT_H

#include <sqlite3.h>
#include "store.h"

/* Statements prepared once per handle: enqueue and the delivery path run
 * them thousands of times per second, so parsing SQL each time would dominate. */
enum zv_stmt_id {
    ZV_ST_ENQUEUE,
    ZV_ST_STAGE,
    ZV_ST_SEEN,
    ZV_ST_COUNT_ADD,
    ZV_ST_CLAIM_SEL,
    ZV_ST_CLAIM_UPD,
    ZV_ST_DELIVERED,
    ZV_ST_RETRY,
    ZV_ST_AUDIT_INS,
    ZV_ST_AUDIT_HEAD,
    ZV_ST_AUDIT_HEAD_SET,
    ZV_ST_QUARANTINE_ADD,
    ZV_ST_STAGED_SEL,
    ZV_ST_STAGED_DEL,
    ZV_ST_NEXT_BATCH,
    ZV_ST_NEXT_DUE,
    ZV_ST_DEAD,
    ZV_ST_DLQ_INS,
    ZV_ST_VERDICT,
    ZV_ST_OUTBOX_GET,
    ZV_ST_SENT_GET,
    ZV_ST_SENT_PUT,
    ZV_ST_ITEM_PUT,
    ZV_ST_ITEM_DEL,
    ZV_ST__COUNT
};

#define ZV_STORE_CACHE 48
/* With a writer thread, how long the loop's BEGIN IMMEDIATE (or a read
 * meeting a checkpoint) may wait for a lock before the writer takes over. */
#define ZV_STORE_LOOP_BUSY_MS 10

typedef struct zv_store_writer zv_store_writer;

struct zv_store {
    sqlite3 *db;
    int open;        /* a transaction of zv_store_begin_as is open (never nested) */
    int failed;      /* a step inside it failed: its commit rolls back */
    char owner[96];  /* who opened it, for the error of a second begin */
    int group;       /* the open transaction is a group of units (group commit) */
    int unit;        /* a unit (savepoint zv_unit) is open inside the group */
    int unit_failed; /* a step of that unit failed: its commit rolls it back */
    char unit_owner[96];
    int64_t group_units; /* units released into the group so far */
    void (*on_group)(void *arg, int ok, int64_t units);
    void *on_group_arg;
    int plain;                     /* writer mode: the open unit is a begin_as() transaction */
    int lent;                      /* the open unit runs on the writer thread (zv_store_lend_unit) */
    int64_t gen;                   /* number of the group open now, or the last one begun */
    int64_t gen_done;              /* the last group that ended (committed or lost) */
    int last_rc;                   /* of the last zv_store_run */
    void (*on_pending)(void *arg); /* a unit was released into the group */
    void *on_pending_arg;
    void (*on_precommit)(void *arg); /* the group is about to be committed */
    void *on_precommit_arg;
    int in_precommit;
    struct zv_store_writer *wr; /* the writer thread, or NULL (store_writer.c) */
    zv_store *reader;           /* with wr: the loop's read connection (zv_store_reader) */
    int64_t recovered;          /* inflight rows made pending at open */
    char err[512];
    sqlite3_stmt *st[ZV_ST__COUNT];
    /* Statements of zv_store_prep, by the address of their SQL text. */
    struct zv_store_cached {
        const char *sql;
        sqlite3_stmt *st;
        int busy; /* handed out and not yet given back with zv_store_unprep */
    } cache[ZV_STORE_CACHE];
};

/* ---- the writer thread (store_writer.c), all called on the loop ---- */
/* Post the group's COMMIT (ROLLBACK when it failed) with its n units; the
 * loop has let go of the transaction.  0 posted, -1 not (the group is
 * lost, on_group has been told). */
int zv_store_writer_post_commit(zv_store *s, int64_t n);
/* Wait for a commit under way and take its end (on_group); the commit's
 * result, 0 when none was under way. */
int zv_store_writer_settle(zv_store *s);
int zv_store_writer_committing(const zv_store *s);
/* 1 while the writer waits for another process's lock. */
int zv_store_writer_locked(const zv_store *s);
/* BEGIN IMMEDIATE found the file locked: the writer waits for it. */
void zv_store_writer_wait_lock(zv_store *s);
void zv_store_writer_stop(zv_store *s);
/* /healthz with a writer: 0 the store takes writes, -1 (err) the last group
 * commit failed or another process holds the write lock (the writer is now
 * waiting for it).  Never waits on the loop. */
int zv_store_writer_probe(zv_store *s, char *err, size_t errlen);

/* The read connection for zv_store_reader, beside s's (store.c). */
zv_store *zv_store_open_reader(zv_store *s, char *err, size_t errlen);

/* Prepared statement for id (prepared on first use, reset and unbound). */
sqlite3_stmt *zv_store_stmt(zv_store *s, enum zv_stmt_id id, const char *sql);
/* A statement for sql, which must be a string constant (cached by its
 * address, prepared once per handle); give it back with zv_store_unprep.
 * One still handed out (a query whose row callback runs the same query
 * again) gets a fresh statement instead. */
sqlite3_stmt *zv_store_prep(zv_store *s, const char *sql);
void zv_store_unprep(zv_store *s, sqlite3_stmt *st);
/* Record the database's error in s->err with a prefix; returns -1. */
int zv_store_fail(zv_store *s, const char *what);
int zv_store_exec(zv_store *s, const char *sql);
/* One statement, sql a string constant (prepared once, see zv_store_prep):
 * for the transaction statements every unit runs. */
int zv_store_run(zv_store *s, const char *sql);
/* Bind text or NULL. */
void zv_store_bind_text(sqlite3_stmt *st, int i, const char *v);
const char *zv_store_col_text(sqlite3_stmt *st, int i);
/* A count(*) query with up to two text parameters (NULL: not bound); sql
 * a string constant (cached by its address, as zv_store_prep). */
int64_t zv_store_count_sql(zv_store *s, const char *sql, const char *a, const char *b);

/* Several statements that belong together (an enqueue with its disclosure
 * rows, a delivery with its audit entry): inside the caller's open
 * transaction they are part of it (a failure fails that transaction), else
 * they get one of their own.  *own says which; pass it to op_end, which
 * commits an own transaction and returns -1 when a step failed. */
int zv_store_op_begin(zv_store *s, int *own);
int zv_store_op_end(zv_store *s, int own);

/* Quarantine lifecycle columns and tables, source items (store_quarantine.c). */
int zv_store_migrate_lifecycle(zv_store *s);
/* Stores made before client keys existed get the audit.clients column. */
int zv_store_migrate_clients(zv_store *s);
/* Disclosure rows of a new outbox row, from the zv_outbox_new's
 * disclosure_json ([{"client":..,"record":..,"values":{..}}]). */
int zv_store_disclosure_put(zv_store *s, int64_t outbox_id, const char *disclosure_json);
/* The same as zv_store_audit_append_locked, about these clients: clients is
 * the chained JSON [{"client":key,"fields":[..]},..] or NULL. */
int zv_store_audit_append_clients_locked(zv_store *s, int64_t at, const char *kind,
                                         const char *destination, const char *idem_key,
                                         const char *message, const char *fields,
                                         const char *sha256, const char *detail,
                                         const char *clients);
/* ... and with the citations of its fields ({"field":"citation"} or NULL). */
int zv_store_audit_append_cited_locked(zv_store *s, int64_t at, const char *kind,
                                       const char *destination, const char *idem_key,
                                       const char *message, const char *fields, const char *sha256,
                                       const char *detail, const char *clients,
                                       const char *citations);
int zv_store_audit_append_locked(zv_store *s, int64_t at, const char *kind, const char *destination,
                                 const char *idem_key, const char *message, const char *fields,
                                 const char *sha256, const char *detail);

/* The schema version (meta 'schema_version'; 0: before versioning), and the
 * check at open: a newer one is refused, an older one recorded as current
 * once its migrations ran (store_version.c). */
int zv_store_schema_version(zv_store *s);
int zv_store_schema_check(zv_store *s);

#endif
