/* The audit chain's hash and verification walk (store_chain.h). */
#include "store_chain.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char zv_audit_zero_hash[65] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static void canon_str(zv_buf *b, const char *v)
{
    if (!v)
        zv_buf_puts(b, "~\n");
    else
        zv_buf_printf(b, "%zu:%s\n", strlen(v), v);
}

void zv_audit_entry_hash(const char *prev, const zv_audit_entry *e, char out[65])
{
    zv_buf b;
    zv_buf_init(&b);
    zv_buf_puts(&b, prev);
    zv_buf_printf(&b, "\n%" PRId64 "\n%" PRId64 "\n", e->seq, e->at);
    canon_str(&b, e->kind);
    canon_str(&b, e->destination);
    canon_str(&b, e->idem_key);
    canon_str(&b, e->message);
    canon_str(&b, e->fields);
    canon_str(&b, e->payload_sha256);
    canon_str(&b, e->detail);
    /* Entries from before client keys have no clients line, so their
     * hashes stay what they were. */
    if (e->clients) {
        zv_buf_puts(&b, "clients\n");
        canon_str(&b, e->clients);
    }
    /* Likewise the citations, chained since they are stored (issue 15). */
    if (e->citations) {
        zv_buf_puts(&b, "citations\n");
        canon_str(&b, e->citations);
    }
    zv_sha256_hex(b.data ? b.data : "", b.len, out);
    zv_buf_free(&b);
}

void zv_audit_chain_init(zv_audit_chain *c, char *why, size_t whylen)
{
    memcpy(c->prev, zv_audit_zero_hash, sizeof(c->prev));
    c->expect = 1;
    c->bad = -1;
    c->why = why;
    c->whylen = why ? whylen : 0;
    if (why && whylen) why[0] = '\0';
}

int zv_audit_chain_step(zv_audit_chain *c, const zv_audit_entry *e)
{
    if (e->seq != c->expect) {
        c->bad = c->expect;
        snprintf(c->why, c->whylen, "entry %" PRId64 " is missing (next present is %" PRId64 ")",
                 c->expect, e->seq);
        return 1;
    }
    char h[65];
    zv_audit_entry_hash(c->prev, e, h);
    if (!e->hash || strcmp(h, e->hash) != 0) {
        c->bad = e->seq;
        snprintf(c->why, c->whylen,
                 "entry %" PRId64 " (%s %s) does not match its hash: edited, inserted, or "
                 "the entry before it was removed",
                 e->seq, e->destination ? e->destination : "-", e->idem_key ? e->idem_key : "-");
        return 1;
    }
    memcpy(c->prev, h, sizeof(h));
    c->expect++;
    return 0;
}

int zv_audit_chain_end(zv_audit_chain *c, int have_head, int64_t head_seq, const char *head_hash,
                       int64_t *count, int64_t *bad_seq)
{
    int64_t n = c->expect - 1;
    if (count) *count = n;
    if (c->bad >= 0) {
        if (bad_seq) *bad_seq = c->bad;
        return 1;
    }
    if (!have_head && n == 0) return 0;
    if (!have_head || head_seq != n || !head_hash || strcmp(head_hash, c->prev) != 0) {
        if (bad_seq) *bad_seq = !have_head ? 1 : (head_seq > n ? n + 1 : head_seq);
        snprintf(c->why, c->whylen,
                 "the trail ends at entry %" PRId64 " but its head says %" PRId64
                 ": entries were removed or appended outside zinvol",
                 n, have_head ? head_seq : (int64_t)0);
        return 1;
    }
    return 0;
}
