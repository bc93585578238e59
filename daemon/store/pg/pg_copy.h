/* Copies of a store between SQLite and PostgreSQL (pg_copy.c, pg_copy_back.c;
 * zinvolctl store copy). */
#ifndef ZV_PG_COPY_H
#define ZV_PG_COPY_H

#include <stdint.h>

#include "store/store_iface.h"

/* A table copied row for row: its columns, and each one's type (i integer,
 * t text, b blob). */
typedef struct zv_copy_table {
    const char *name;
    const char *cols;
    const char *types;
} zv_copy_table;
const zv_copy_table *zv_copy_tables(size_t *n);

typedef struct zv_copy_report {
    int64_t rows[16];        /* per table of zv_copy_tables, in its order */
    int64_t source_rows[16]; /* the same counted in the source (copy back) */
    int64_t audit_entries;
    int verified;
} zv_copy_report;

/* Copies src into dst, which must be an empty PostgreSQL store (freshly
 * migrated); all or nothing.  Error text in zv_sb_errmsg(dst). */
int zv_pg_copy_from_sqlite(zv_store *src, zv_sb *dst, zv_copy_report *rep);
/* Row counts of every table equal on both sides and dst's chain intact: 0;
 * 1 with why when not; -1 on error. */
int zv_pg_copy_verify(zv_store *src, zv_sb *dst, zv_copy_report *rep, char *why, size_t whylen);

/* Rows of table on either side: the count, or -1. */
int64_t zv_copy_sqlite_count(zv_store *s, const char *table);
int64_t zv_copy_pg_count(zv_sb *b, const char *table);

/* Copies PostgreSQL src, from one snapshot, into dst, a new SQLite store
 * (no rows in the copied tables); all or nothing.  Error text in err. */
int zv_pg_copy_to_sqlite(zv_sb *src, zv_store *dst, zv_copy_report *rep, char *err, size_t errlen);
/* Every table of dst has the rows the snapshot had and dst's chain is
 * intact: 0; 1 with why when not; -1 on error (zv_store_errmsg(dst)). */
int zv_pg_copy_verify_back(zv_store *dst, zv_copy_report *rep, char *why, size_t whylen);

#endif
