/*
 * The audit chain and the text of a "delivered" entry, shared by both store
 * backends (SQLite: store_audit.c, PostgreSQL: pg/pg_audit.c) so that an
 * entry hashes the same wherever it is kept and `zinvolctl store copy` can
 * prove a copied trail with the same code that made it.
 */
#ifndef ZV_STORE_CHAIN_H
#define ZV_STORE_CHAIN_H

#include <stddef.h>
#include <stdint.h>
#include <zinvol/util.h>

#include "store.h"

/* 64 zeros: the "previous hash" of entry 1. */
extern const char zv_audit_zero_hash[65];

/* SHA-256 over prev (64 hex) and e's canonical text (every column as
 * "<length>:<bytes>\n", "~\n" for NULL); e->hash is not read. */
void zv_audit_entry_hash(const char *prev, const zv_audit_entry *e, char out[65]);

/* Walks a trail in seq order: feed every entry to step, then end with the
 * head the store keeps.  0 intact, 1 broken (bad_seq and why filled). */
typedef struct zv_audit_chain {
    char prev[65];
    int64_t expect; /* next seq */
    int64_t bad;    /* -1 while intact */
    char *why;
    size_t whylen;
} zv_audit_chain;
void zv_audit_chain_init(zv_audit_chain *c, char *why, size_t whylen);
/* 0 go on, 1 broken (stop feeding). */
int zv_audit_chain_step(zv_audit_chain *c, const zv_audit_entry *e);
/* head_seq/head_hash: the kept head, or have_head 0 when there is none. */
int zv_audit_chain_end(zv_audit_chain *c, int have_head, int64_t head_seq, const char *head_hash,
                       int64_t *count, int64_t *bad_seq);

/* What a "delivered" entry says about a payload, from its outbox columns
 * (never values): fields "client.bsn=standard,..." appended to out; the
 * chained clients array and the citations object, malloc'd (NULL: none). */
void zv_audit_fields_text(const char *fields_json, zv_buf *out);
char *zv_audit_clients_of(const char *records_json);
char *zv_audit_citations_of(const char *fields_json);

#endif
