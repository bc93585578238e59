/*
 * Notifications in: the PEP forwards a zorgkantoor's zendNotificatie to
 * this listener (two-sided TLS, verified before a request gets here; the
 * claims header names the sender, RFC0014 4.2).  Only the release's
 * zendNotificatie document (normal form), a sender with the notification
 * scope, an eventType of the release's table, this provider as ontvanger
 * and a recordID of the release's pattern are taken.  A taken notification
 * is kept before it is answered: its query waits in the pending watermark
 * (committed), or, for a removal, its item is emitted; then the answer is
 * zendNotificatie { notificatieID }.  Refusals: a GraphQL error with the
 * RFC0040 status (400, 401, 403, 405, 415; 503 when it cannot be kept).
 */
#include "bmr.h"
#include "../fmt_leveringsregister/gql.h"
#include "nmc.h"

#include <openssl/rand.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GQL_RESPONSE "application/graphql-response+json"

static void reply_error(bmr *b, zv_http_exchange *ex, int status, const char *msg)
{
    size_t len = 0;
    char *body = zv_nm_error_body(msg, &len);
    b->host->ex_reply(ex, status, GQL_RESPONSE, body ? body : "", body ? len : 0);
    free(body);
    b->host->log(b->ctx, ZV_LOG_NOTICE, "notification refused (%d): %s", status, msg);
}

/* The id in a recordID of the release's pattern ("Bemiddelingspecificatie/{id}"). */
static int record_id(const bmr *b, const char *rec, char *id, size_t idlen)
{
    const char *at = strstr(b->record_pattern, "{id}");
    size_t pre = (size_t)(at - b->record_pattern), post = strlen(at + 4);
    size_t n = rec ? strlen(rec) : 0;
    if (n <= pre + post || strncmp(rec, b->record_pattern, pre) != 0 ||
        strcmp(rec + n - post, at + 4) != 0 || n - pre - post >= idlen)
        return -1;
    snprintf(id, idlen, "%.*s", (int)(n - pre - post), rec + pre);
    return zv_nm_is_uuid(id) ? 0 : -1;
}

static int listed(const zv_json *a, const char *s)
{
    for (size_t i = 0; s && i < zv_json_len(a); i++) {
        const char *x = zv_json_str(zv_json_at(a, i), NULL);
        if (x && !strcmp(x, s)) return 1;
    }
    return 0;
}

static int accepted_document(const bmr *b, const char *text)
{
    char err[256];
    gql_doc *d = text ? gql_parse(text, strlen(text), err, sizeof(err)) : NULL;
    char *norm = d ? gql_normalise(d) : NULL;
    int ok = 0;
    for (size_t i = 0; norm && i < b->nnorms; i++)
        ok |= !strcmp(norm, b->norms[i]);
    free(norm);
    gql_doc_free(d);
    return ok;
}

/* Keep every subject of the notification; 0, or -1 with why. */
static int take(bmr *b, const zv_json *in, const char *action, const zv_json *ev, char *why,
                size_t whylen)
{
    const zv_json *subjects = zv_json_get(in, "subjectList");
    const char *event = zv_json_str(zv_json_get(in, "eventType"), NULL);
    const char *from = zv_json_str(zv_json_get(in, "afzenderID"), NULL);
    if (!zv_json_len(subjects)) {
        snprintf(why, whylen, "subjectList is empty");
        return -1;
    }
    for (size_t i = 0; i < zv_json_len(subjects); i++) {
        const char *rec = zv_json_str(zv_json_get(zv_json_at(subjects, i), "recordID"), NULL);
        char id[40];
        if (record_id(b, rec, id, sizeof(id)) < 0) {
            snprintf(why, whylen, "subjectList[%zu].recordID: not %s with a UUID", i,
                     b->record_pattern);
            return -1;
        }
        int rc;
        if (!strcmp(action, "query") && b->npend >= BMR_MAX_PENDING) {
            /* The watermark that keeps them has room for so many: the
             * sender keeps this one and sends it again. */
            snprintf(why, whylen, "%zu notifications wait for their query already", b->npend);
            return -2;
        } else if (!strcmp(action, "query")) {
            rc = bmr_pending_add(b, id, event, from);
        } else {
            const char *type = zv_json_str(zv_json_get(ev, "item_type"), NULL);
            zv_item_field f[] = {{b->record_ptr, id, strlen(id)},
                                 {"/eventType", event, strlen(event)}};
            rc = bmr_emit_fields(b, type ? type : b->item_type, id, f, ZV_COUNT(f)) < 0 ? -1 : 0;
        }
        if (rc < 0) {
            snprintf(why, whylen, "the notification could not be kept");
            return -2;
        }
    }
    return 0;
}

static void answer_ok(bmr *b, zv_http_exchange *ex)
{
    unsigned char r[16];
    RAND_bytes(r, sizeof(r));
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    char id[37], out[128];
    snprintf(id, sizeof(id), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
    int n = snprintf(out, sizeof(out),
                     "{\"data\":{\"zendNotificatie\":{\"notificatieID\":\"%s\"}}}", id);
    b->host->ex_reply(ex, 200, GQL_RESPONSE, out, (size_t)n);
}

static void handle(bmr *b, zv_http_exchange *ex, const zv_json *claims, const zv_json *body)
{
    const zv_host *h = b->host;
    const char *sub = zv_json_str(zv_json_get(claims, "sub"), NULL);
    const zv_json *in = zv_json_get(zv_json_get(body, "variables"), "notificatieInput");
    const char *event = zv_json_str(zv_json_get(in, "eventType"), NULL);
    const zv_json *ev = event ? zv_json_get(b->events, event) : NULL;
    const char *action = zv_json_str(zv_json_get(ev, "action"), NULL);
    const char *to = zv_json_str(zv_json_get(in, "ontvangerID"), NULL);
    char why[300];
    if (!accepted_document(b, zv_json_str(zv_json_get(body, "query"), NULL))) {
        reply_error(b, ex, 403, "not the zendNotificatie mutation this provider takes");
    } else if (!zv_nm_has_scope(claims, b->scope_in)) {
        reply_error(b, ex, 403, "the token lacks the notification scope");
    } else if (!in || !action) {
        snprintf(why, sizeof(why), "eventType %.80s is not one this provider takes",
                 event ? event : "(none)");
        reply_error(b, ex, 400, why);
    } else if (!to || strcmp(to, b->instelling) != 0 ||
               !listed(b->ontvanger_types, zv_json_str(zv_json_get(in, "ontvangerIDType"), NULL))) {
        reply_error(b, ex, 403, "the notification is not for this provider (ontvanger)");
    } else {
        int rc = take(b, in, action, ev, why, sizeof(why));
        if (rc == 0 && h->commit(b->ctx) == 0) {
            answer_ok(b, ex);
            h->log(b->ctx, ZV_LOG_INFO, "%s from %s taken", event, sub);
            bmr_kick(b);
            return;
        }
        /* Not kept: the sender gets 503 and sends it again.  A query
         * already listed in memory may still run; its answer is kept then. */
        h->rollback(b->ctx);
        if (rc == 0) snprintf(why, sizeof(why), "the notification could not be kept");
        reply_error(b, ex, rc == -1 ? 400 : 503, why);
    }
}

void bmr_serve(zv_http_exchange *ex, void *arg)
{
    bmr *b = arg;
    const zv_host *h = b->host;
    if (strcmp(h->ex_method(ex), "POST") != 0) {
        reply_error(b, ex, 405, "POST a GraphQL request (application/json)");
        return;
    }
    const char *ct = h->ex_header(ex, "Content-Type");
    if (!ct || strncmp(ct, "application/json", 16) != 0) {
        reply_error(b, ex, 415, "the request's Content-Type must be application/json");
        return;
    }
    zv_json_doc *cd = zv_nm_claims(h->ex_header(ex, b->claims_header));
    const zv_json *claims = cd ? zv_json_root(cd) : NULL;
    const char *sub = zv_json_str(zv_json_get(claims, "sub"), NULL);
    size_t pl = strlen(b->prefix);
    if (!sub || strncmp(sub, b->prefix, pl) != 0 || !sub[pl]) {
        zv_json_free(cd);
        reply_error(b, ex, 401, "no claims of a zorgkantoor from the gateway");
        return;
    }
    size_t blen;
    const char *body = h->ex_body(ex, &blen);
    char err[256], msg[320];
    zv_json_doc *bd = zv_json_parse(body, blen, 0, err, sizeof(err));
    if (!bd) {
        snprintf(msg, sizeof(msg), "the body must be a GraphQL request: %s", err);
        reply_error(b, ex, 400, msg);
    } else {
        handle(b, ex, claims, zv_json_root(bd));
    }
    zv_json_free(bd);
    zv_json_free(cd);
}
