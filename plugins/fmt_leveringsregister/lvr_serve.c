/*
 * The register's GraphQL endpoint behind the PEP.  Two-sided TLS is the
 * listener's (the client certificate is verified before a request gets
 * here); the PEP's "claims" header (RFC0014 4.2: the access token's claims,
 * as JSON or as the JWT's base64url payload) names who asks.  Only the
 * published templates are answered, matched by normal form; everything
 * else is refused with a GraphQL error and the status RFC0040 gives the
 * application/graphql-response+json media type (400 for a request that
 * cannot be read, 401 without claims, 403 for a query or scope the
 * register does not answer), or 200 when the client asked for
 * application/json.  Every answer is written to the audit trail first
 * (who, which certificate, which template, which fields, which clients);
 * when that fails, nothing is handed out.
 */
#include "lvr.h"
#include "gql.h"
#include "nmc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GQL_RESPONSE "application/graphql-response+json"

typedef struct req {
    lvr *l;
    zv_http_exchange *ex;
    int plain_json; /* Accept asked for application/json only */
} req;

static void reply_error(req *q, int status, const char *msg)
{
    size_t len = 0;
    char *body = zv_nm_error_body(msg, &len);
    q->l->host->ex_reply(q->ex, q->plain_json ? 200 : status,
                         q->plain_json ? "application/json" : GQL_RESPONSE, body ? body : "",
                         body ? len : 0);
    free(body);
    q->l->refused++;
}

static int audit(req *q, const lvr_template *t, const zv_json *claims, const char *owner,
                 lvr_disclosed *dis)
{
    const zv_host *h = q->l->host;
    if (!ZV_HOST_HAS(h, audit_disclosure)) return -1;
    char detail[768];
    const char *peer = ZV_HOST_HAS(h, ex_peer) ? h->ex_peer(q->ex) : NULL;
    const char *trace = h->ex_header(q->ex, "X-B3-TraceId");
    snprintf(detail, sizeof(detail), "asked by %s (client_id %s, token %s), certificate %s",
             zv_json_str(zv_json_get(claims, "sub"), NULL),
             zv_json_str(zv_json_get(claims, "client_id"), NULL)
                 ? zv_json_str(zv_json_get(claims, "client_id"), NULL)
                 : "-",
             zv_json_str(zv_json_get(claims, "jti"), NULL)
                 ? zv_json_str(zv_json_get(claims, "jti"), NULL)
                 : "-",
             peer ? peer : "-");
    zv_query_disclosure d = {ZV_SIZED(zv_query_disclosure),
                             .message = t->id,
                             .fields = dis->fields.data ? dis->fields.data : "",
                             .bsns = (const char *const *)dis->bsns,
                             .nbsns = dis->nbsns,
                             .reference = trace,
                             .detail = detail,
                             .party = owner};
    return h->audit_disclosure(q->l->ctx, &d);
}

static void answer(req *q, const gql_doc *doc, const lvr_template *t, const zv_json *body,
                   const zv_json *claims, const char *owner)
{
    const char *opname = zv_json_str(zv_json_get(body, "operationName"), NULL);
    const zv_json *vars = zv_json_get(body, "variables");
    if (zv_json_type_of(vars) == ZV_JSON_NULL) vars = NULL;
    zv_jw *w = zv_jw_new(0);
    lvr_disclosed dis = {0};
    char err[512];
    if (lvr_db_ensure(q->l) < 0) {
        reply_error(q, 503, "the register is not available");
    } else if (lvr_execute(q->l, doc, opname, vars, owner, w, &dis, err, sizeof(err)) < 0) {
        reply_error(q, 400, err);
    } else if (audit(q, t, claims, owner, &dis) < 0) {
        reply_error(q, 500, "the answer could not be recorded; nothing was disclosed");
    } else {
        const char *out;
        size_t len;
        zv_jw_result(w, &out, &len);
        q->l->host->ex_reply(q->ex, 200, q->plain_json ? "application/json" : GQL_RESPONSE, out,
                             len);
        q->l->queries++;
        q->l->host->log(q->l->ctx, ZV_LOG_INFO, "%s answered for %s: %zu client(s), fields %s",
                        t->id, owner, dis.nbsns, dis.fields.data ? dis.fields.data : "(none)");
    }
    lvr_disclosed_free(&dis);
    zv_jw_free(w);
}

/* A zorgkantoor's error report (RFC0018): its records go to the dead letter
 * through the core's retour path; the answer is zendMelding's. */
static void melding(req *q, const zv_json *claims, const char *sub, const char *body, size_t len)
{
    const zv_host *h = q->l->host;
    if (!zv_nm_has_scope(claims, q->l->melding_scope)) {
        reply_error(q, 403, "the token lacks the melding scope");
        return;
    }
    if (!ZV_HOST_HAS(h, retour)) {
        reply_error(q, 503, "error reports are not taken here");
        return;
    }
    char err[256];
    int rc = h->retour(q->l->ctx, body, len, err, sizeof(err));
    if (rc < 0) {
        reply_error(q, 400, "not an error report this register reads (eventType, subjectList)");
        return;
    }
    char id[37], out[160];
    lvr_uuid(id);
    int n = snprintf(out, sizeof(out), "{\"data\":{\"zendMelding\":{\"meldingID\":\"%s\"}}}", id);
    h->ex_reply(q->ex, 200, q->plain_json ? "application/json" : GQL_RESPONSE, out, (size_t)n);
    h->log(q->l->ctx, ZV_LOG_NOTICE, "error report %s from %s%s", id, sub,
           rc == 1 ? " (some records matched no notification)" : "");
}

void lvr_serve(zv_http_exchange *ex, void *arg)
{
    lvr *l = arg;
    const zv_host *h = l->host;
    req q = {.l = l, .ex = ex};
    const char *accept = h->ex_header(ex, "Accept");
    q.plain_json = accept && strstr(accept, "application/json") && !strstr(accept, GQL_RESPONSE);
    if (strcmp(h->ex_method(ex), "POST") != 0) {
        reply_error(&q, 405, "POST a GraphQL request (application/json)");
        return;
    }
    const char *ct = h->ex_header(ex, "Content-Type");
    if (!ct || strncmp(ct, "application/json", 16) != 0) {
        reply_error(&q, 415, "the request's Content-Type must be application/json");
        return;
    }
    zv_json_doc *cd = zv_nm_claims(h->ex_header(ex, l->claims_header));
    const zv_json *claims = cd ? zv_json_root(cd) : NULL;
    const char *sub = zv_json_str(zv_json_get(claims, "sub"), NULL);
    size_t pl = strlen(l->prefix);
    if (!sub || strncmp(sub, l->prefix, pl) != 0 || !sub[pl]) {
        zv_json_free(cd);
        reply_error(&q, 401, "no claims of a zorgkantoor from the gateway");
        return;
    }
    size_t blen;
    const char *b = h->ex_body(ex, &blen);
    char err[256], msg[400];
    zv_json_doc *bd = zv_json_parse(b, blen, 0, err, sizeof(err));
    const char *text = bd ? zv_json_str(zv_json_get(zv_json_root(bd), "query"), NULL) : NULL;
    if (!text) {
        snprintf(msg, sizeof(msg), "the body must be a GraphQL request {\"query\": ...}%s%s",
                 bd ? "" : ": ", bd ? "" : err);
        zv_json_free(cd);
        zv_json_free(bd);
        reply_error(&q, 400, msg);
        return;
    }
    gql_doc *doc = gql_parse(text, strlen(text), err, sizeof(err));
    char *norm = doc ? gql_normalise(doc) : NULL;
    const lvr_template *t = norm ? lvr_template_match(l, norm) : NULL;
    if (!doc) {
        snprintf(msg, sizeof(msg), "Syntax Error: %s", err);
        reply_error(&q, 400, msg);
    } else if (!norm) {
        reply_error(&q, 500, "out of memory");
    } else if (!t && l->melding_norm && !strcmp(norm, l->melding_norm)) {
        melding(&q, claims, sub, b, blen);
    } else if (!t) {
        reply_error(&q, 403, "not a published Leveringsregister query template");
        h->log(l->ctx, ZV_LOG_NOTICE, "refused a query of %s that is no published template", sub);
    } else if (!zv_nm_has_scope(claims, l->scope)) {
        reply_error(&q, 403, "the token lacks the Leveringsregister scope");
    } else {
        answer(&q, doc, t, zv_json_root(bd), claims, sub + pl);
    }
    free(norm);
    gql_doc_free(doc);
    zv_json_free(bd);
    zv_json_free(cd);
}
