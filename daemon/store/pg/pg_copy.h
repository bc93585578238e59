/* SQLite -> PostgreSQL copy of a store (pg_copy.c; zinvolctl store copy). */
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
    int64_t rows[16]; /* per table of zv_copy_tables, in its order */
    int64_t audit_entries;
    int verified;
} zv_copy_report;

/* Copies src into dst, which must be an empty PostgreSQL store (freshly
 * migrated); all or nothing.  Error text in zv_sb_errmsg(dst). */
int zv_pg_copy_from_sqlite(zv_store *src, zv_sb *dst, zv_copy_report *rep);
/* Row counts of every table equal on both sides and dst's chain intact: 0;
 * 1 with why when not; -1 on error. */
int zv_pg_copy_verify(zv_store *src, zv_sb *dst, zv_copy_report *rep, char *why, size_t whylen);

#endif
