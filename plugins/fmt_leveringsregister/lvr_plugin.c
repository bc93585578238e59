/* Leveringsregister format plugin: descriptor, options, create/destroy,
 * classify and render (register update + zendNotificatie payloads). */
#include "lvr.h"
#include "nmc.h"

#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const zv_option options[] = {
    {"release", ZV_OPT_STRING, "lvr-1.0-rc1", 0,
     "Bundled netwerkmodel release (a folder under share/zinvol/netwerkmodel)", NULL, 0, 0, 0},
    {"release_dir", ZV_OPT_STRING, NULL, ZV_OPT_PATH,
     "A release folder you supply (release.json, templates, SDL); overrides release", NULL, 0, 0,
     0},
    {"afzender", ZV_OPT_STRING, NULL, 0,
     "afzenderID of the notifications (AGB); default: organisation.agb", NULL, 0, 0, 0},
    {"listen", ZV_OPT_STRING, NULL, 0,
     "host:port of the register's HTTPS endpoint for the PEP; none: the register is not served",
     NULL, 0, 0, 0},
    {"path", ZV_OPT_STRING, "/graphql", 0, "The endpoint's path", NULL, 0, 0, 0},
    {"tls_cert", ZV_OPT_STRING, NULL, ZV_OPT_PATH, "Server certificate chain (PEM)", NULL, 0, 0, 0},
    {"tls_key", ZV_OPT_STRING, NULL, ZV_OPT_PATH | ZV_OPT_SECRET, "Server key (PEM)", NULL, 0, 0,
     0},
    {"client_ca", ZV_OPT_STRING, NULL, ZV_OPT_PATH,
     "CA certificates the PEP's client certificate must chain to (PEM)", NULL, 0, 0, 0},
    {"bemiddeling", ZV_OPT_ENUM, "register", 0,
     "Which bemiddelingspecificatieID a Levering refers to: `register`, one received from the "
     "Bemiddelingsregister (entitlement records of source bemiddelingsregister routed here) "
     "matching the delivery; `ecd`, the ECD's entitlement.number, which must be that UUID",
     "register|ecd", 0, 0, 0}};

static void destroy(void *state)
{
    lvr *l = state;
    if (!l) return;
    lvr_db_close(l);
    lvr_release_free(l);
    free(l->release_dir);
    free(l);
}

static int serve_setup(lvr *l, char *err, size_t errlen)
{
    const zv_host *h = l->host;
    const char *listen = h->cfg_str(l->ctx, "listen");
    if (!listen) return 0;
    if (!ZV_HOST_HAS(h, https_listen)) return 0; /* a dry run's host: nothing is served */
    zv_https_spec spec = {ZV_SIZED(zv_https_spec),
                          .listen = listen,
                          .cert_file = h->cfg_str(l->ctx, "tls_cert"),
                          .key_file = h->cfg_str(l->ctx, "tls_key"),
                          .client_ca = h->cfg_str(l->ctx, "client_ca"),
                          .path = h->cfg_str(l->ctx, "path"),
                          .max_body = 64 * 1024};
    if (!spec.cert_file || !spec.key_file || !spec.client_ca) {
        snprintf(err, errlen, "listen needs tls_cert, tls_key and client_ca (two-sided TLS)");
        return -1;
    }
    return h->https_listen(l->ctx, &spec, lvr_serve, l, err, errlen);
}

static int create(zv_ctx *ctx, const zv_host *host, void **state, char *err, size_t errlen)
{
    lvr *l = calloc(1, sizeof(*l));
    if (!l) return -1;
    l->host = host;
    l->ctx = ctx;
    *state = l;
    char dir[2048];
    if (zv_nm_release_dir(host, ctx, dir, sizeof(dir), err, errlen) < 0) goto fail;
    if (!(l->release_dir = strdup(dir)) || lvr_release_load(l, dir, err, errlen) < 0) goto fail;
    const char *agb = host->cfg_str(ctx, "afzender");
    if (!agb) agb = host->org(ctx, "agb");
    if (!agb || !zv_agb_valid(agb, strlen(agb))) {
        snprintf(err, errlen, "afzender: an 8-digit AGB code is needed (or organisation.agb)");
        goto fail;
    }
    snprintf(l->afzender, sizeof(l->afzender), "%s", agb);
    l->assigned = host->cfg_int(ctx, "bemiddeling") == 0;
    /* The register's file is opened on first use (lvr_db_ensure), so that
     * --check-config and a reload's validation touch nothing. */
    if (serve_setup(l, err, errlen) < 0) goto fail;
    return 0;
fail:
    destroy(l);
    *state = NULL;
    return -1;
}

enum { LVR_MSG = 0 };

static const zv_message_decl messages[] = {
    {"LEVERINGSREGISTER", "lvr-leveringsregister.json",
     "Leveringsregister 1 (1.0-rc1): the register's objects, answered to the zorgkantoor's "
     "template queries; notifications carry only their ids"}};

/* Wlz deliveries become register objects; with bemiddeling "register" the
 * Wlz entitlement records (the zorgkantoor's bemiddelingspecificaties) are
 * kept for the deliveries to refer to. */
static int classify(void *state, const zv_record *rec)
{
    const lvr *l = state;
    const char *law = zv_rec_str(rec, ZV_F_ENT_LAW);
    if (!law || strcmp(law, "wlz") != 0) return -1;
    if (rec->kind == ZV_KIND_DELIVERY) return LVR_MSG;
    if (rec->kind == ZV_KIND_ENTITLEMENT && l->assigned) return LVR_MSG;
    return -1;
}

/* One notification into the outbox (by the core, after render). */
typedef struct emit_arg {
    lvr *l;
    zv_render_out *out;
    size_t idx;
} emit_arg;

static int emit_note(void *arg, const char *idem, const char *record_key, const char *body,
                     size_t len)
{
    emit_arg *e = arg;
    /* The recordID is the key a zorgkantoor's error report names. */
    zv_payload_spec p = {ZV_SIZED(zv_payload_spec),
                         .data = body,
                         .len = len,
                         .content_type = "application/json",
                         .idem_key = idem,
                         .extension = "json",
                         .records = &e->idx,
                         .nrecords = 1,
                         .record_keys = &record_key};
    int rc = e->l->host->add_payload(e->out, &p);
    /* A notification carries only technical ids: no model field. */
    if (rc == 0 && ZV_HOST_HAS(e->l->host, rendered_fields))
        rc = e->l->host->rendered_fields(e->out, e->idx, NULL, 0);
    return rc < 0 ? -1 : 0;
}

/* The events' notifications: kept with the record (lvr_emitted.c) inside
 * the register's transaction, then handed to the outbox. */
static int notify(lvr *l, zv_render_out *out, size_t idx, const char *rkey, const lvr_events *ev,
                  const char *now)
{
    emit_arg e = {l, out, idx};
    for (size_t i = 0; i < ev->n; i++) {
        char id[37];
        size_t len = 0;
        zv_buf rec;
        zv_buf_init(&rec);
        char *body = lvr_notification(l, &ev->v[i], now, id, &len, &rec);
        if (!body) {
            l->host->log(l->ctx, ZV_LOG_ERROR, "release has no notification for %s %s",
                         ev->v[i].type, ev->v[i].kind);
            zv_buf_free(&rec);
            return -1;
        }
        const char *key = rec.data ? rec.data : "";
        int rc = lvr_emitted_add(l, rkey, (int)i, id, key, body, len);
        if (rc == 0) rc = emit_note(&e, id, key, body, len);
        free(body);
        zv_buf_free(&rec);
        if (rc < 0) return -1;
    }
    return 0;
}

/* One record of the batch inside the register's transaction: a received
 * bemiddelingspecificatie is kept, a delivery applied and notified.  A
 * record that cannot be registered is rolled back to its savepoint and
 * quarantined. */
static int render_one(lvr *l, const zv_batch *b, zv_render_out *out, size_t i, const char *now)
{
    const zv_record *r = b->records[i];
    lvr_events ev = {0};
    const char *rule = NULL, *field = NULL;
    char reason[512], rkey[512], digest[65];
    sqlite3_exec(l->db, "SAVEPOINT rec", NULL, NULL, NULL);
    int a, rc = 0;
    if (r->kind == ZV_KIND_ENTITLEMENT) {
        rule = "LVR-BEMIDDELING-IN";
        a = lvr_assign_keep(l, r, now, &field, reason, sizeof(reason));
    } else {
        lvr_record_key(r, rkey, sizeof(rkey));
        lvr_record_digest(r, digest);
        a = lvr_emitted_find(l, rkey, digest);
        if (a == 1) { /* rendered before, its outbox never committed: again */
            emit_arg e = {l, out, i};
            rc = lvr_emitted_each(l, rkey, emit_note, &e) < 0 ? -1 : 0;
            sqlite3_exec(l->db, "RELEASE rec", NULL, NULL, NULL);
            return rc;
        }
        if (a == 0) a = lvr_emitted_forget(l, rkey, digest);
        if (a == 0) a = lvr_apply(l, r, now, &ev, &rule, &field, reason, sizeof(reason));
    }
    if (a == 1) {
        sqlite3_exec(l->db, "ROLLBACK TO rec", NULL, NULL, NULL);
        rc = l->host->reject_record(out, i, rule, field, reason) < 0 ? -1 : 0;
    } else if (a < 0) {
        l->host->log(l->ctx, ZV_LOG_ERROR, "register: %s", sqlite3_errmsg(l->db));
        rc = -1;
    } else if (r->kind != ZV_KIND_ENTITLEMENT) {
        rc = notify(l, out, i, rkey, &ev, now);
    }
    sqlite3_exec(l->db, "RELEASE rec", NULL, NULL, NULL);
    free(ev.v);
    return rc;
}

/* Tests only (netwerkmodel/crash): with ZV_LVR_TEST_KILL_AFTER_COMMIT
 * naming a file that exists, the process kills itself (SIGKILL, once: the
 * file is removed) right after the register's commit, before the core
 * commits the outbox: the crash the emitted table must survive. */
static void test_crash_point(void)
{
    const char *flag = getenv("ZV_LVR_TEST_KILL_AFTER_COMMIT");
    if (flag && *flag && unlink(flag) == 0) raise(SIGKILL);
}

static int render(void *state, const zv_batch *b, zv_render_out *out)
{
    lvr *l = state;
    if (b->message != LVR_MSG || lvr_db_ensure(l) < 0) return -1;
    char now[21];
    zv_time_iso(b->now, now);
    if (sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return -1;
    int rc = 0;
    /* What the zorgkantoor assigned first, so a delivery in the same batch
     * as its bemiddelingspecificatie finds it. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; rc == 0 && i < b->n; i++)
            if ((b->records[i]->kind == ZV_KIND_ENTITLEMENT) == (pass == 0))
                rc = render_one(l, b, out, i, now);
    if (rc == 0 && sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) {
        test_crash_point();
        return 0;
    }
    sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* An error report (zendMelding) handed in on the listener or with
 * `zinvolctl retour`; other answers (the PEP's to a notification) are
 * judged by the transport. */
static int interpret(void *state, const zv_answer *a, zv_verdict_out *out)
{
    lvr *l = state;
    if (a->status != 0) return 0;
    return lvr_melding_verdicts(l, a->body, a->len, out);
}

static const zv_format_ops format_ops = {ZV_SIZED(zv_format_ops), ZV_MESSAGES(messages),
                                         .classify = classify, .render = render,
                                         .interpret = interpret};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_FORMAT, "leveringsregister"),
    .version = "0.1.0",
    .description =
        "iWlz netwerkmodel Leveringsregister (1.0-rc1): register, GraphQL, notifications",
    ZV_OPTION_TABLE(options),
    .create = create,
    .destroy = destroy,
    .format = &format_ops,
};
