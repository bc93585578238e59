/*
 * zinvold on a PostgreSQL store: what runs there in this version, a clear
 * refusal of the rest, and the transactions that span both stores.
 *
 * Shared by the nodes, through the store interface (store/store_iface.h):
 * the outbox with its claims and leases, outcomes, dead letter, per-record
 * verdicts, retention, the one audit chain, and the source -> render path:
 * watermarks, de-duplication, staging, batch sequences, change detection
 * and the record lifecycle (quarantine entries, their raw items, waiting
 * records, closing them).  A source other than a webhook is read by one
 * node at a time (source_lease.c).  Still on the node's own file: counters;
 * not on PostgreSQL at all: the retour folders, refused here.
 */
#include "runtime_int.h"
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <zinvol/optmap.h>
#include <zinvol/util.h>

static int list_retour_dirs(const zv_runtime *rt, zv_buf *b)
{
    int n = 0;
    for (size_t i = 0; i < rt->ndests; i++) {
        const zv_dest_rt *d = &rt->dests[i];
        const zv_optval *v = d->tr.ctx ? zv_optset_find(&d->tr.ctx->opts, "retour_dir") : NULL;
        if (!v || !v->str || !v->str[0]) continue;
        zv_buf_printf(b, "%s%s", n++ ? ", " : "", d->conf->name);
    }
    return n;
}

int zv_runtime_shared_store_check(const zv_runtime *rt, char *err, size_t errlen)
{
    zv_buf ret;
    zv_buf_init(&ret);
    int nr = list_retour_dirs(rt, &ret);
    if (nr)
        snprintf(err, errlen,
                 "a PostgreSQL store: in this version retour folders are read on an SQLite store "
                 "only (zinvolctl retour); this configuration has retour_dir on: %s",
                 ret.data);
    zv_buf_free(&ret);
    return nr ? -1 : 0;
}

/* ---- transactions on both stores ---- */

int zv_rt_unit_begin(zv_runtime *rt)
{
    if (!rt->shared || rt->sb_open) return 0;
    if (zv_sb_begin_as(rt->sb, "unit") < 0) return -1;
    rt->sb_open = 1;
    return 0;
}

void zv_rt_unit_abort(zv_runtime *rt)
{
    if (!rt->sb_open) return;
    zv_sb_rollback(rt->sb);
    rt->sb_open = 0;
}

int zv_rt_unit_commit(zv_runtime *rt, zv_ctx *ctx)
{
    if (!rt->sb_open) return 0;
    if (ctx && zv_source_lease_fence(rt, ctx) < 0) {
        zv_rt_unit_abort(rt);
        return -1;
    }
    rt->sb_open = 0;
    if (zv_sb_commit(rt->sb) < 0) {
        zv_log(ZV_LOG_ERROR, ctx ? ctx->component : "core", "shared store commit failed: %s",
               zv_sb_errmsg(rt->sb));
        return -1;
    }
    return 0;
}

int zv_rt_begin(zv_runtime *rt, const char *owner)
{
    if (zv_store_begin_as(rt->store, owner) < 0) return -1;
    if (zv_rt_unit_begin(rt) < 0) {
        zv_store_rollback(rt->store);
        return -1;
    }
    return 0;
}

int zv_rt_commit(zv_runtime *rt)
{
    if (zv_rt_unit_commit(rt, NULL) < 0) {
        zv_store_rollback(rt->store);
        return -1;
    }
    return zv_store_commit(rt->store);
}

void zv_rt_rollback(zv_runtime *rt)
{
    zv_rt_unit_abort(rt);
    if (zv_store_txn_owner(rt->store)) zv_store_rollback(rt->store);
}

const char *zv_rt_errmsg(const zv_runtime *rt)
{
    const char *e = rt->shared ? zv_sb_errmsg(rt->sb) : NULL;
    return e && *e ? e : zv_store_errmsg(rt->store);
}
