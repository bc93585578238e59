/*
 * zv_host.audit_disclosure: a plugin that hands out data outside the outbox
 * (the Leveringsregister answering a zorgkantoor's query) writes what it
 * disclosed to the same hash-chained trail as deliveries, kind "queried",
 * with each client's pseudonymous key; zinvolctl disclose and the audit
 * report read it beside the sent messages.
 */
#include "runtime_int.h"
#include "audit/client_key.h"
#include "catalogue/catalogue.h"
#include "delivery/delivery.h"
#include "log.h"

#include <stdio.h>
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>
#include <zinvol/json.h>
#include <zinvol/util.h>

/* [{"client":key,"fields":[names of d->fields]}] per distinct client. */
static char *clients_json(const zv_runtime *rt, const zv_query_disclosure *d)
{
    zv_jw *w = zv_jw_new(0);
    if (!w) return NULL;
    zv_jw_arr_open(w);
    char(*seen)[ZV_CLIENT_KEY_HEX] = calloc(d->nbsns ? d->nbsns : 1, sizeof(*seen));
    size_t nseen = 0;
    for (size_t i = 0; seen && i < d->nbsns; i++) {
        char key[ZV_CLIENT_KEY_HEX];
        if (!d->bsns[i] ||
            zv_client_key(rt->client_secret, d->bsns[i], strlen(d->bsns[i]), key) < 0)
            continue;
        size_t j = 0;
        while (j < nseen && strcmp(seen[j], key) != 0)
            j++;
        if (j < nseen) continue;
        memcpy(seen[nseen++], key, sizeof(key));
        zv_jw_obj_open(w);
        zv_jw_key(w, "client");
        zv_jw_str(w, key);
        zv_jw_key(w, "fields");
        zv_jw_arr_open(w);
        for (const char *p = d->fields; p && *p;) {
            const char *end = strchr(p, ','), *eq = strchr(p, '=');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if (eq && eq < p + len) len = (size_t)(eq - p);
            if (len) zv_jw_strn(w, p, len);
            p = end ? end + 1 : NULL;
        }
        zv_jw_arr_close(w);
        zv_jw_obj_close(w);
    }
    zv_jw_arr_close(w);
    const char *s;
    size_t len;
    char *out = seen && zv_jw_result(w, &s, &len) == 0 ? strndup(s, len) : NULL;
    free(seen);
    zv_jw_free(w);
    return out;
}

/* "f=level,..." for the plain names in d->fields, the levels from the
 * catalogue of the instance's destination (its first message), as the
 * delivered entries carry them. */
static char *levelled(const zv_runtime *rt, const zv_ctx *ctx, const char *names)
{
    const zv_catalogue *cat = NULL;
    for (size_t i = 0; i < rt->ndests; i++)
        if (rt->dests[i].fmt.ctx == ctx && rt->dests[i].nmsg) cat = rt->dests[i].cats[0];
    zv_buf b;
    zv_buf_init(&b);
    for (const char *p = names; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)len, p);
        int f = zv_field_by_name(name);
        const zv_cat_entry *e = cat && f >= 0 ? zv_catalogue_find(cat, f) : NULL;
        zv_buf_printf(&b, "%s%s=%s", b.len ? "," : "", name, e ? zv_level_name(e->level) : "none");
        p = end ? end + 1 : NULL;
    }
    if (b.oom) {
        zv_buf_free(&b);
        return NULL;
    }
    return b.data ? b.data : strdup("");
}

int zv_host_audit_disclosure(zv_ctx *ctx, const zv_query_disclosure *d)
{
    zv_runtime *rt = ctx->rt;
    if (!d || !ZV_HAS(d, zv_query_disclosure, detail)) {
        zv_log(ZV_LOG_ERROR, ctx->component, "disclosure not audited: its size is too small");
        return -1;
    }
    if (!rt->store || !rt->client_secret_ok || !d->message) {
        zv_log(ZV_LOG_ERROR, ctx->component, "disclosure not audited: no store or client key");
        return -1;
    }
    char *clients = clients_json(rt, d);
    char *fields = levelled(rt, ctx, d->fields);
    if (!clients || !fields) {
        free(clients);
        free(fields);
        return -1;
    }
    /* The party leads the detail ("party 5501; ..."): the trail has no
     * column of its own for it, and the audit report reads it from there. */
    const char *party = ZV_HAS(d, zv_query_disclosure, party) ? d->party : NULL;
    char *detail = NULL;
    if (party && *party && !strpbrk(party, "; ")) {
        size_t n = strlen(party) + (d->detail ? strlen(d->detail) : 0) + 16;
        if ((detail = malloc(n)))
            snprintf(detail, n, "party %s; %s", party, d->detail ? d->detail : "");
    }
    zv_store *s = rt->store;
    int rc = zv_store_begin_as(s, ctx->component);
    if (rc == 0)
        rc = zv_store_audit_append_clients_locked(s, zv_now(), "queried", ctx->name, d->reference,
                                                  d->message, fields, NULL,
                                                  detail ? detail : d->detail, clients);
    free(detail);
    if (rc == 0)
        rc = zv_store_commit(s);
    else
        zv_store_rollback(s);
    if (rc != 0)
        zv_log(ZV_LOG_ERROR, ctx->component, "disclosure not audited: %s", zv_store_errmsg(s));
    free(clients);
    free(fields);
    return rc == 0 ? 0 : -1;
}

/* zv_host.retour: an answer that came in on the plugin's own listener. */
int zv_host_retour(zv_ctx *ctx, const char *body, size_t len, char *err, size_t errlen)
{
    zv_runtime *rt = ctx->rt;
    const zv_dest_rt *d = NULL;
    for (size_t i = 0; i < rt->ndests; i++)
        if (rt->dests[i].fmt.ctx == ctx) d = &rt->dests[i];
    if (!d || !rt->store) {
        snprintf(err, errlen, "only a destination's format can hand in a retour");
        return -1;
    }
    char *lines = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&lines, &n);
    if (!out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = zv_delivery_retour(rt->store, d->conf->name, &d->fmt, body, len, out, err, errlen);
    fclose(out);
    for (char *l = lines, *e; l && *l; l = e ? e + 1 : NULL) {
        e = strchr(l, '\n');
        if (e) *e = '\0';
        if (*l) zv_log(rc < 0 ? ZV_LOG_ERROR : ZV_LOG_NOTICE, ctx->component, "retour: %s", l);
        if (!e) break;
    }
    free(lines);
    return rc;
}
