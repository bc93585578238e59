/*
 * Sent versus asked: what left for a party (a zorgkantoor) in delivered
 * messages (AW35/AW39 and the like: audit entries of kind "delivered" that
 * carry fields) beside what a register handed it when it asked (kind
 * "queried"), per field and in distinct clients, from the hash-chained
 * trail.  A register's own deliveries are its notifications: they should
 * carry no field, and the report counts the ones that did.
 *
 * The party of a delivered message is the destination's match on
 * entitlement.funder when that names one code, else "destination NAME"; the
 * party of an answer is what the register gave (host_disclose.c writes it
 * as the detail's "party X; " prefix).
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>
#include "core/config.h"
#include "store/store.h"

enum { SENT = 1, ASKED = 2 };

typedef struct hit { /* one (party, field, client) seen sent or asked */
    size_t party;
    int field;
    char client[72];
    int how;
} hit;

typedef struct acc {
    const zv_config *cfg;
    int64_t since;
    zv_audit_sva *s;
    hit *hits;
    size_t nhits, cap;
    /* per party and field: messages / answers with the field */
    int64_t (*msgs)[ZV_FIELD_COUNT][2];
    size_t nmsgs;
    int failed;
} acc;

static const zv_dest_conf *dest_of(const zv_config *cfg, const char *name)
{
    for (size_t i = 0; name && i < cfg->ndests; i++)
        if (!strcmp(cfg->dests[i].name, name)) return &cfg->dests[i];
    return NULL;
}

/* The funder code a destination's match pins, or NULL. */
static const char *match_funder(const zv_dest_conf *d)
{
    const zv_json *m = d ? zv_json_get(d->match, "entitlement.funder") : NULL;
    if (zv_json_type_of(m) == ZV_JSON_ARRAY && zv_json_len(m) == 1) m = zv_json_at(m, 0);
    return zv_json_str(m, NULL);
}

static size_t party_index(acc *a, const char *name)
{
    zv_audit_sva *s = a->s;
    for (size_t i = 0; i < s->nparties; i++)
        if (!strcmp(s->parties[i].party, name)) return i;
    zv_audit_sva_party *n = realloc(s->parties, (s->nparties + 1) * sizeof(*n));
    int64_t(*m)[ZV_FIELD_COUNT][2] = realloc(a->msgs, (a->nmsgs + 1) * sizeof(*m));
    if (n) s->parties = n;
    if (m) a->msgs = m;
    char *copy = strdup(name);
    if (!n || !m || !copy) {
        free(copy);
        a->failed = 1;
        return SIZE_MAX;
    }
    memset(&n[s->nparties], 0, sizeof(n[0]));
    n[s->nparties].party = copy;
    memset(&m[a->nmsgs], 0, sizeof(m[0]));
    a->nmsgs++;
    return s->nparties++;
}

static zv_audit_sva_register *register_of(acc *a, const char *dest, int create)
{
    zv_audit_sva *s = a->s;
    const zv_dest_conf *d = dest_of(a->cfg, dest);
    if (!d) return NULL;
    for (size_t i = 0; i < s->nregisters; i++)
        if (s->registers[i].destination == d->name) return &s->registers[i];
    if (!create) return NULL;
    zv_audit_sva_register *n = realloc(s->registers, (s->nregisters + 1) * sizeof(*n));
    if (!n) {
        a->failed = 1;
        return NULL;
    }
    s->registers = n;
    memset(&n[s->nregisters], 0, sizeof(n[0]));
    n[s->nregisters].destination = d->name; /* the config's */
    return &n[s->nregisters++];
}

static void add_hit(acc *a, size_t party, int field, const char *client, int how)
{
    if (a->nhits == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 256;
        hit *n = realloc(a->hits, cap * sizeof(*n));
        if (!n) {
            a->failed = 1;
            return;
        }
        a->hits = n;
        a->cap = cap;
    }
    hit *h = &a->hits[a->nhits++];
    h->party = party;
    h->field = field;
    snprintf(h->client, sizeof(h->client), "%s", client);
    h->how = how;
}

/* "f=level,g=level": count one message (or answer) per field it names. */
static int count_fields(acc *a, size_t party, const char *fields, int how)
{
    int any = 0;
    for (const char *p = fields; p && *p;) {
        size_t len = strcspn(p, "=,");
        char name[64];
        if (len && len < sizeof(name)) {
            memcpy(name, p, len);
            name[len] = '\0';
            int f = zv_field_by_name(name);
            if (f >= 0) {
                a->msgs[party][f][how == ASKED]++;
                any = 1;
            }
        }
        p += strcspn(p, ",");
        if (*p == ',') p++;
    }
    return any;
}

/* [{"client":key,"fields":[...]}] */
static void client_hits(acc *a, size_t party, const char *clients, int how)
{
    char err[64];
    zv_json_doc *d = clients ? zv_json_parse(clients, strlen(clients), 0, err, sizeof(err)) : NULL;
    const zv_json *arr = d ? zv_json_root(d) : NULL;
    for (size_t i = 0; i < zv_json_len(arr); i++) {
        const zv_json *c = zv_json_at(arr, i);
        const char *key = zv_json_str(zv_json_get(c, "client"), NULL);
        const zv_json *fs = zv_json_get(c, "fields");
        for (size_t j = 0; key && j < zv_json_len(fs); j++) {
            const char *name = zv_json_str(zv_json_at(fs, j), NULL);
            int f = name ? zv_field_by_name(name) : -1;
            if (f >= 0) add_hit(a, party, f, key, how);
        }
    }
    zv_json_free(d);
}

static void sent_by(acc *a, size_t party, const char *dest)
{
    zv_audit_sva_party *p = &a->s->parties[party];
    const zv_dest_conf *d = dest_of(a->cfg, dest);
    if (!d) return;
    for (size_t i = 0; i < p->nsent_by; i++)
        if (p->sent_by[i] == d->name) return;
    const char **n = realloc(p->sent_by, (p->nsent_by + 1) * sizeof(*n));
    if (!n) {
        a->failed = 1;
        return;
    }
    p->sent_by = n;
    n[p->nsent_by++] = d->name;
}

static int on_entry(const zv_audit_entry *e, void *arg)
{
    acc *a = arg;
    if (!e->kind || e->at < a->since || !dest_of(a->cfg, e->destination)) return 0;
    int queried = !strcmp(e->kind, "queried");
    if (!queried && strcmp(e->kind, "delivered") != 0) return 0;
    char party[80];
    if (queried) {
        const char *d = e->detail ? e->detail : "";
        size_t n = strncmp(d, "party ", 6) == 0 ? strcspn(d + 6, "; ") : 0;
        if (!n) return 0; /* an answer that names nobody cannot be set beside messages */
        snprintf(party, sizeof(party), "%.*s", (int)(n < 64 ? n : 64), d + 6);
        zv_audit_sva_register *r = register_of(a, e->destination, 1);
        if (r) r->answers++;
    } else {
        const char *f = match_funder(dest_of(a->cfg, e->destination));
        if (f)
            snprintf(party, sizeof(party), "%.64s", f);
        else
            snprintf(party, sizeof(party), "destination %.60s", e->destination);
    }
    int carries = e->fields && *e->fields;
    if (!queried && !carries) return 0; /* a notification: counted per register at the end */
    size_t p = party_index(a, party);
    if (p == SIZE_MAX) return 1;
    if (count_fields(a, p, e->fields, queried ? ASKED : SENT)) {
        if (queried)
            a->s->parties[p].answers++;
        else
            a->s->parties[p].sent_messages++;
    }
    if (!queried) sent_by(a, p, e->destination);
    client_hits(a, p, e->clients, queried ? ASKED : SENT);
    return a->failed;
}

/* A register's deliveries are its notifications. */
static int on_notification(const zv_audit_entry *e, void *arg)
{
    acc *a = arg;
    if (!e->kind || strcmp(e->kind, "delivered") != 0 || e->at < a->since) return 0;
    zv_audit_sva_register *r = register_of(a, e->destination, 0);
    if (!r) return 0;
    r->notifications++;
    if (e->fields && *e->fields) r->notifications_with_fields++;
    return 0;
}

static int by_hit(const void *x, const void *y)
{
    const hit *a = x, *b = y;
    if (a->party != b->party) return a->party < b->party ? -1 : 1;
    if (a->field != b->field) return a->field - b->field;
    return strcmp(a->client, b->client);
}

static int by_client(const void *x, const void *y)
{
    const hit *a = x, *b = y;
    if (a->party != b->party) return a->party < b->party ? -1 : 1;
    return strcmp(a->client, b->client);
}

static zv_audit_sva_field *field_slot(zv_audit_sva_party *p, int field)
{
    for (size_t i = 0; i < p->nfields; i++)
        if (p->fields[i].field == field) return &p->fields[i];
    return NULL;
}

/* Distinct clients per (party, field) and per party, from the sorted hits. */
static int tally(acc *a)
{
    zv_audit_sva *s = a->s;
    for (size_t p = 0; p < s->nparties; p++) {
        s->parties[p].fields = calloc(ZV_FIELD_COUNT, sizeof(zv_audit_sva_field));
        if (!s->parties[p].fields) return -1;
        for (int f = 0; f < ZV_FIELD_COUNT; f++)
            if (a->msgs[p][f][0] || a->msgs[p][f][1])
                s->parties[p].fields[s->parties[p].nfields++] = (zv_audit_sva_field){
                    .field = f, .sent_messages = a->msgs[p][f][0], .answers = a->msgs[p][f][1]};
    }
    qsort(a->hits, a->nhits, sizeof(hit), by_hit);
    for (size_t i = 0; i < a->nhits;) {
        size_t j = i;
        int how = 0;
        while (j < a->nhits && !by_hit(&a->hits[i], &a->hits[j]))
            how |= a->hits[j++].how;
        zv_audit_sva_field *f = field_slot(&s->parties[a->hits[i].party], a->hits[i].field);
        if (f) {
            f->sent_clients += (how & SENT) != 0;
            f->asked_clients += (how & ASKED) != 0;
            f->sent_not_asked += how == SENT;
            f->asked_not_sent += how == ASKED;
        }
        i = j;
    }
    qsort(a->hits, a->nhits, sizeof(hit), by_client);
    for (size_t i = 0; i < a->nhits;) {
        size_t j = i;
        int how = 0;
        while (j < a->nhits && !by_client(&a->hits[i], &a->hits[j]))
            how |= a->hits[j++].how;
        zv_audit_sva_party *p = &s->parties[a->hits[i].party];
        p->sent_clients += (how & SENT) != 0;
        p->asked_clients += (how & ASKED) != 0;
        i = j;
    }
    return 0;
}

int zv_audit_sva_collect(const zv_config *cfg, zv_store *store, int64_t since, zv_audit_sva **out)
{
    *out = NULL;
    acc a = {.cfg = cfg, .since = since, .s = calloc(1, sizeof(zv_audit_sva))};
    if (!a.s) return -1;
    int rc = zv_store_audit_each(store, on_entry, &a);
    if (rc == 0 && !a.failed && a.s->nregisters)
        rc = zv_store_audit_each(store, on_notification, &a);
    if (rc == 0 && !a.failed && a.s->nregisters) rc = tally(&a);
    free(a.hits);
    free(a.msgs);
    if (rc < 0 || a.failed || !a.s->nregisters) {
        zv_audit_sva_free(a.s);
        return rc < 0 || a.failed ? -1 : 0;
    }
    *out = a.s;
    return 0;
}

void zv_audit_sva_free(zv_audit_sva *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->nparties; i++) {
        free(s->parties[i].party);
        free(s->parties[i].sent_by);
        free(s->parties[i].fields);
    }
    free(s->parties);
    free(s->registers);
    free(s);
}
