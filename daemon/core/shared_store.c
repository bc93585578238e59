/*
 * zinvold on a PostgreSQL store: what runs there in this version, and a
 * clear refusal of the rest.
 *
 * Shared by the nodes, through the store interface (store/store_iface.h):
 * the outbox with its claims and leases, outcomes, dead letter, per-record
 * verdicts, retention and the one audit chain.  Not on the interface yet:
 * staging, quarantine, the record lifecycle, change detection and counters,
 * which every source's records pass through, and the retour folders.  So a
 * PostgreSQL node delivers what is in the shared outbox and reads no
 * sources; a configuration that names any is refused here, naming them,
 * instead of failing later or keeping part of the work on one machine.
 */
#include "runtime_int.h"

#include <stdio.h>
#include <string.h>
#include <zinvol/optmap.h>
#include <zinvol/util.h>

static int list_sources(const zv_runtime *rt, zv_buf *b)
{
    for (size_t i = 0; i < rt->nsources; i++)
        zv_buf_printf(b, "%s%s (%s)", i ? ", " : "", rt->sources[i].conf->name,
                      rt->sources[i].conf->type);
    return (int)rt->nsources;
}

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
    zv_buf src, ret;
    zv_buf_init(&src);
    zv_buf_init(&ret);
    int ns = list_sources(rt, &src), nr = list_retour_dirs(rt, &ret);
    if (ns)
        snprintf(err, errlen,
                 "a PostgreSQL store: in this version zinvold delivers the shared outbox there "
                 "and reads no sources (staging, quarantine and the record lifecycle are not on "
                 "the store interface yet); this configuration has sources: %s",
                 src.data);
    else if (nr)
        snprintf(err, errlen,
                 "a PostgreSQL store: in this version retour folders are read on an SQLite store "
                 "only (zinvolctl retour); this configuration has retour_dir on: %s",
                 ret.data);
    zv_buf_free(&src);
    zv_buf_free(&ret);
    return ns || nr ? -1 : 0;
}
