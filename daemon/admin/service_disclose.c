/*
 * GET /api/disclose?bsn=...&from=YYYY-MM-DD&to=YYYY-MM-DD&format=json|html|text:
 * what was sent about one client (audit/disclose.h).  The BSN travels only in
 * the request (local socket or TLS) and is never logged; the answer names the
 * client masked.  Every disclosure is itself written to the audit trail, with
 * who asked and the client's pseudonymous key, so an auditor can see who
 * looked up whom.
 */
#include "service_int.h"
#include "audit/client_key.h"
#include "audit/collect.h"
#include "audit/disclose.h"
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void audit_disclosure(svc *c, const char *bsn)
{
    unsigned char secret[ZV_CLIENT_SECRET_LEN];
    char err[256], key[ZV_CLIENT_KEY_HEX];
    if (zv_client_secret_load(c->env->cfg->state_dir, 0, secret, err, sizeof(err)) != 0 ||
        zv_client_key(secret, bsn, strlen(bsn), key) < 0)
        return;
    char detail[256], clients[96];
    snprintf(detail, sizeof(detail), "disclosure asked by %s", c->req->who ? c->req->who : "?");
    snprintf(clients, sizeof(clients), "[{\"client\":\"%s\",\"fields\":[]}]", key);
    zv_store *s = c->writer; /* c->env->store is the reader */
    c->wrote = 1;
    if (zv_store_begin(s) == 0) {
        zv_store_audit_append_clients_locked(s, zv_now(), "disclosed", NULL, NULL, NULL, NULL, NULL,
                                             detail, clients);
        zv_store_commit(s);
    }
}

int svc_disclose(svc *c)
{
    char bsn[32], from[16], to[16], fmt[8];
    zv_disclose_opts o = {.format = "json"};
    o.bsn = zv_admin_query(c->req->query, "bsn", bsn, sizeof(bsn));
    const char *f = zv_admin_query(c->req->query, "format", fmt, sizeof(fmt));
    if (f) o.format = f;
    if (strcmp(o.format, "json") && strcmp(o.format, "html") && strcmp(o.format, "text"))
        return svc_error(c, 400, "format: json, html or text");
    if (!o.bsn) return svc_error(c, 400, "bsn is needed");
    const char *fr = zv_admin_query(c->req->query, "from", from, sizeof(from));
    const char *tt = zv_admin_query(c->req->query, "to", to, sizeof(to));
    if ((fr && zv_disclose_date_bound(fr, 0, &o.from) < 0) ||
        (tt && zv_disclose_date_bound(tt, 1, &o.to) < 0))
        return svc_error(c, 400, "from and to are dates (YYYY-MM-DD)");
    zv_errors errs;
    zv_errors_init(&errs);
    zv_audit_collected *col = NULL;
    /* Citations from the catalogues; without them every message is still listed. */
    zv_audit_collect(c->env->cfg, NULL, 1, zv_now(), &col, &errs);
    zv_errors_free(&errs);
    char err[512];
    int rc = zv_disclose_build(c->env->cfg, col ? zv_audit_collected_input(col) : NULL,
                               c->env->store, &o, c->raw, err, sizeof(err));
    zv_audit_collected_free(col);
    if (rc < 0) return svc_error(c, strstr(err, "not a BSN") ? 400 : 500, "disclose: %s", err);
    audit_disclosure(c, o.bsn);
    c->ctype = !strcmp(o.format, "html")   ? "text/html; charset=utf-8"
               : !strcmp(o.format, "text") ? "text/plain; charset=utf-8"
                                           : "application/json";
    return 200;
}
