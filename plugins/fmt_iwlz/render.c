/*
 * Rendering a batch into AW35/AW39 messages: one message per zorgkantoor,
 * one Client per BSN.  Every message is validated against the official XSD
 * before it is handed over; when validation fails, the records the errors
 * point at are rejected with the schema's text and the rest is rendered
 * again, so an invalid message is never added.
 */
#include "iwlz.h"

#include <zinvol/util.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct job {
    iwlz_state *st;
    const zv_batch *b;
    zv_render_out *out;
    iwlz_schema *schema;
    const char *code, *versie, *subversie, *ns_uri;
    const char *afzender;
    char dagtekening[11];
    const char **ontv;   /* per record: its Ontvanger */
    unsigned char *gone; /* per record: rejected */
    size_t rejected;
    iwlz_xsd_result xsd;
    iwlz_rule_result official;
} job;

static const char *get(const zv_record *r, zv_field_id id)
{
    return zv_rec_str(r, id);
}

xmlNodePtr iwlz_text(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *value)
{
    if (!value) return NULL;
    return xmlNewTextChild(parent, ns, BAD_CAST name, BAD_CAST value);
}

xmlNodePtr iwlz_container(xmlNodePtr client, xmlNsPtr ns, const char *name, const char *next)
{
    xmlNodePtr after = NULL;
    for (xmlNodePtr c = client->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (xmlStrEqual(c->name, BAD_CAST name)) return c;
        if (next && xmlStrEqual(c->name, BAD_CAST next)) after = c;
    }
    xmlNodePtr n = xmlNewNode(ns, BAD_CAST name);
    if (!n) return NULL;
    return after ? xmlAddPrevSibling(after, n) : xmlAddChild(client, n);
}

xmlNodePtr iwlz_container_before(xmlNodePtr client, xmlNsPtr ns, const char *name,
                                 const char *const later[])
{
    xmlNodePtr first_later = NULL;
    for (xmlNodePtr c = client->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (xmlStrEqual(c->name, BAD_CAST name)) return c;
        for (size_t k = 0; !first_later && later[k]; k++)
            if (xmlStrEqual(c->name, BAD_CAST later[k])) first_later = c;
    }
    xmlNodePtr n = xmlNewNode(ns, BAD_CAST name);
    if (!n) return NULL;
    return first_later ? xmlAddPrevSibling(first_later, n) : xmlAddChild(client, n);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void reject(job *j, size_t i, const char *rule, const char *field, const char *reason)
{
    if (j->gone[i]) return;
    j->gone[i] = 1;
    j->rejected++;
    j->st->host->reject_record(j->out, i, rule, field, reason);
}

/* ---- per-record rules and duplicates (TR101) ---- */

static void product_key(const job *j, const zv_record *r, size_t i, char *buf, size_t len)
{
    if (iwlz_is_aanvraag(r)) {
        snprintf(buf, len, "A|%s|%s|%s|%s|%s|%s|%s", j->ontv[i], get(r, ZV_F_CLIENT_BSN),
                 get(r, ZV_F_ENT_NUMBER), get(r, ZV_F_ENT_ZZP_CODE), get(r, ZV_F_DEL_REQUEST_KIND),
                 get(r, ZV_F_DEL_REQUEST_START), get(r, ZV_F_DEL_PROVIDER_AGB));
        return;
    }
    int zzp = iwlz_is_zzp(r);
    const char *date = j->b->message == IWLZ_AW35 ? get(r, ZV_F_DEL_START) : iwlz_mutatiedatum(r);
    snprintf(buf, len, "%s|%s|%s|%s|%s|%s|%s|%s", j->ontv[i], get(r, ZV_F_CLIENT_BSN),
             get(r, ZV_F_ENT_NUMBER),
             zzp ? get(r, ZV_F_ENT_ZZP_CODE) : get(r, ZV_F_ENT_FUNCTION_CODE),
             get(r, ZV_F_ENT_START), get(r, ZV_F_DEL_PROVIDER_AGB), date,
             zzp ? get(r, ZV_F_DEL_LEVERINGSVORM) : "-");
}

/* Absent on one side is no conflict: minimised records of one client may
 * differ in optional parts; only two different values are. */
static int same(const char *a, const char *b)
{
    return !a || !b || !strcmp(a, b);
}

/* One Client element carries one client block, so all records of a BSN in a
 * message must agree on it: the first record's block is the one sent. */
static const char *client_conflict(const zv_record *a, const zv_record *b)
{
    static const zv_field_id ids[] = {ZV_F_CLIENT_BIRTH_DATE,  ZV_F_CLIENT_BIRTH_DATE_USAGE,
                                      ZV_F_CLIENT_SEX,         ZV_F_CLIENT_FAMILY_NAME,
                                      ZV_F_CLIENT_NAME_PREFIX, ZV_F_CLIENT_GIVEN_NAMES,
                                      ZV_F_CLIENT_INITIALS};
    for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++)
        if (!same(get(a, ids[k]), get(b, ids[k]))) return zv_field_def_of(ids[k])->name;
    return NULL;
}

static int check_records(job *j)
{
    iwlz_rule_ctx rctx = {
        .message = j->b->message, .afzender = j->afzender, .own_rules = j->st->own_rules};
    zv_date_days(j->dagtekening, &rctx.dagtekening);
    iwlz_strmap seen, clients;
    if (iwlz_strmap_init(&seen, j->b->n) < 0) return -1;
    if (iwlz_strmap_init(&clients, j->b->n) < 0) {
        iwlz_strmap_free(&seen);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < j->b->n && rc == 0; i++) {
        const zv_record *r = j->b->records[i];
        iwlz_violation v;
        j->ontv[i] = j->st->zorgkantoor ? j->st->zorgkantoor : get(r, ZV_F_ENT_FUNDER);
        if (iwlz_check_record(&rctx, r, j->ontv[i], &v)) {
            reject(j, i, v.rule, v.field, v.text);
            continue;
        }
        char key[512];
        int inserted;
        snprintf(key, sizeof(key), "%s|%s", j->ontv[i], get(r, ZV_F_CLIENT_BSN));
        size_t first = iwlz_strmap_get_or_put(&clients, key, i, &inserted);
        const char *field =
            first == SIZE_MAX || inserted ? NULL : client_conflict(j->b->records[first], r);
        product_key(j, r, i, key, sizeof(key));
        size_t dup =
            first == SIZE_MAX ? SIZE_MAX : iwlz_strmap_get_or_put(&seen, key, i, &inserted);
        if (dup == SIZE_MAX)
            rc = -1;
        else if (field)
            reject(j, i, "ZV-C01", field,
                   "Clientgegevens wijken af van een ander record van dezelfde client in dit "
                   "bericht (een Client heeft een set persoonsgegevens)");
        else if (!inserted && j->st->own_rules)
            reject(j, i, "TR101", "entitlement.number",
                   "Dezelfde zorgeenheid (Besluitnummer, code, data, Instelling) komt twee keer "
                   "voor bij deze client in het bericht");
    }
    iwlz_strmap_free(&seen);
    iwlz_strmap_free(&clients);
    return rc;
}

/* ---- building one message ---- */

static xmlNodePtr add_client(xmlNodePtr clienten, xmlNsPtr ns, xmlNsPtr bns, const zv_record *r)
{
    xmlNodePtr c = xmlNewChild(clienten, ns, BAD_CAST "Client", NULL);
    if (!c) return NULL;
    iwlz_text(c, ns, "Bsn", get(r, ZV_F_CLIENT_BSN));
    xmlNodePtr gb = xmlNewChild(c, ns, BAD_CAST "Geboortedatum", NULL);
    if (gb) iwlz_text(gb, bns, "Datum", get(r, ZV_F_CLIENT_BIRTH_DATE));
    if (gb) iwlz_text(gb, bns, "DatumGebruik", get(r, ZV_F_CLIENT_BIRTH_DATE_USAGE));
    iwlz_text(c, ns, "Geslacht", get(r, ZV_F_CLIENT_SEX));
    xmlNodePtr naam = xmlNewChild(c, ns, BAD_CAST "Naam", NULL);
    xmlNodePtr gn = naam ? xmlNewChild(naam, bns, BAD_CAST "Geslachtsnaam", NULL) : NULL;
    if (!gn) return NULL;
    iwlz_text(gn, bns, "Achternaam", get(r, ZV_F_CLIENT_FAMILY_NAME));
    iwlz_text(gn, bns, "Voorvoegsel", get(r, ZV_F_CLIENT_NAME_PREFIX));
    iwlz_text(naam, bns, "Voornamen", get(r, ZV_F_CLIENT_GIVEN_NAMES));
    iwlz_text(naam, bns, "Voorletters", get(r, ZV_F_CLIENT_INITIALS));
    return c;
}

static xmlNodePtr add_header(job *j, xmlNodePtr root, xmlNsPtr ns, xmlNsPtr bns,
                             const char *ontvanger, const char *id)
{
    xmlNodePtr h = xmlNewChild(root, ns, BAD_CAST "Header", NULL);
    if (!h) return NULL;
    iwlz_text(h, ns, "BerichtCode", j->code);
    iwlz_text(h, ns, "BerichtVersie", j->versie);
    iwlz_text(h, ns, "BerichtSubversie", j->subversie);
    iwlz_text(h, ns, "Afzender", j->afzender);
    iwlz_text(h, ns, "Ontvanger", ontvanger);
    xmlNodePtr bi = xmlNewChild(h, ns, BAD_CAST "BerichtIdentificatie", NULL);
    xmlNodePtr xv = xmlNewChild(h, ns, BAD_CAST "XsdVersie", NULL);
    if (!bi || !xv) return NULL;
    iwlz_text(bi, bns, "Identificatie", id);
    iwlz_text(bi, bns, "Dagtekening", j->dagtekening);
    iwlz_text(xv, bns, "BasisschemaXsdVersie", j->schema->basis_versie);
    iwlz_text(xv, bns, "BerichtXsdVersie", j->schema->bericht_versie);
    return h;
}

/* Builds the message for one Ontvanger from the records still in play.
 * *count receives how many records it carries. */
static xmlDocPtr build(job *j, const char *ontvanger, const char *id, size_t *count)
{
    *count = 0;
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = doc ? xmlNewNode(NULL, BAD_CAST "Bericht") : NULL;
    if (!root) goto fail;
    xmlDocSetRootElement(doc, root);
    xmlNsPtr ns = xmlNewNs(root, BAD_CAST j->ns_uri, NULL);
    xmlNsPtr bns = xmlNewNs(root, BAD_CAST j->st->rel.basis_ns, BAD_CAST "iwlz");
    xmlSetNs(root, ns);
    xmlNodePtr clienten = NULL;
    if (!add_header(j, root, ns, bns, ontvanger, id) ||
        !(clienten = xmlNewChild(root, ns, BAD_CAST "Clienten", NULL)))
        goto fail;
    iwlz_strmap by_bsn;
    xmlNodePtr *clients = calloc(j->b->n ? j->b->n : 1, sizeof(*clients));
    if (!clients || iwlz_strmap_init(&by_bsn, j->b->n) < 0) {
        free(clients);
        goto fail;
    }
    size_t nclients = 0;
    int ok = 1;
    for (size_t i = 0; ok && i < j->b->n; i++) {
        const zv_record *r = j->b->records[i];
        if (j->gone[i] || strcmp(j->ontv[i], ontvanger) != 0) continue;
        int inserted;
        size_t c = iwlz_strmap_get_or_put(&by_bsn, get(r, ZV_F_CLIENT_BSN), nclients, &inserted);
        if (c == SIZE_MAX) ok = 0;
        if (ok && inserted && !(clients[nclients++] = add_client(clienten, ns, bns, r))) ok = 0;
        xmlNodePtr p = !ok                          ? NULL
                       : j->b->message == IWLZ_AW35 ? iwlz_aw35_product(clients[c], ns, r)
                                                    : iwlz_aw39_product(clients[c], ns, r);
        if (!p)
            ok = 0;
        else {
            /* Lets a schema error on any node below be traced to its record. */
            p->_private = (void *)(uintptr_t)(i + 1);
            (*count)++;
        }
    }
    iwlz_strmap_free(&by_bsn);
    free(clients);
    if (ok) return doc;
fail:
    xmlFreeDoc(doc);
    return NULL;
}

/* ---- schema errors back to records ---- */

static const char *field_of_element(const xmlChar *name)
{
    static const char *const map[][2] = {
        {"Bsn", "client.bsn"},
        {"Datum", "client.birth_date"},
        {"Geslacht", "client.sex"},
        {"Achternaam", "client.family_name"},
        {"Voorvoegsel", "client.name_prefix"},
        {"Voornamen", "client.given_names"},
        {"Voorletters", "client.initials"},
        {"Besluitnummer", "entitlement.number"},
        {"FunctieCode", "entitlement.function_code"},
        {"ZzpCode", "entitlement.zzp_code"},
        {"ToewijzingIngangsdatum", "entitlement.start"},
        {"Begindatum", "delivery.start"},
        {"Sleuteldatum", "delivery.sleuteldatum"},
        {"Instelling", "delivery.provider_agb"},
        {"Etmalen", "delivery.etmalen"},
        {"Klasse", "delivery.klasse"},
        {"Opslag", "delivery.opslag"},
        {"Leveringsstatus", "delivery.leveringsstatus"},
        {"Leveringsvorm", "delivery.leveringsvorm"},
        {"Behandeling", "delivery.treatment"},
        {"StatusAanlevering", "delivery.status"},
        {"Mutatiecode", "delivery.mutation_code"},
        {"Mutatiedatum", "delivery.mutation_date"},
        {"InstellingBestemming", "delivery.destination_agb"},
        {"LeveringsstatusClassificatie", "delivery.leveringsstatus_class"},
        {"DatumGebruik", "client.birth_date_usage"},
        {"Afzender", "delivery.provider_agb"},
        {"Ontvanger", "entitlement.funder"},
        {"Afgiftedatum", "entitlement.issue_date"},
        {"Dossierhouder", "delivery.dossierhouder_agb"},
        {"CoordinatorZorgThuis", "delivery.coordinator_agb"},
        {"Doelmatig", "delivery.doelmatig"},
        {"Verantwoord", "delivery.verantwoord"},
        {"ExtraKostenThuis", "delivery.extra_costs_home"},
        {"ToeslagBeademing", "delivery.ventilation_supplement"},
        {"ToeslagOverig", "delivery.other_supplement"},
        {"Soort", "delivery.request_kind"},
        {"ToewijzingEinddatum", "delivery.request_end"},
        {"ToewijzingPercentage", "delivery.request_percentage"},
        {"Opname", "delivery.admission"},
    };
    for (size_t i = 0; name && i < sizeof(map) / sizeof(map[0]); i++)
        if (xmlStrEqual(name, BAD_CAST map[i][0])) return map[i][1];
    return NULL;
}

/* The field of a node: by name, except where an Aanvraag reuses a name for
 * another value (its requested ToewijzingIngangsdatum). */
static const char *field_of_node(xmlNodePtr n)
{
    if (!n || n->type != XML_ELEMENT_NODE) return NULL;
    if (xmlStrEqual(n->name, BAD_CAST "ToewijzingIngangsdatum") && n->parent &&
        xmlStrEqual(n->parent->name, BAD_CAST "AanvraagInstelling"))
        return "delivery.request_start";
    return field_of_element(n->name);
}

static void reject_products_below(job *j, xmlNodePtr n, const char *rule, const char *field,
                                  const char *reason)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (c->_private)
            reject(j, (size_t)(uintptr_t)c->_private - 1, rule, field, reason);
        else
            reject_products_below(j, c, rule, field, reason);
    }
}

/* The records a node of the message belongs to: its product's record; all
 * products of its Client; or, for the header (or no node), the message. */
static void reject_at(job *j, xmlDocPtr doc, xmlNodePtr node, const char *rule, const char *field,
                      const char *reason)
{
    for (xmlNodePtr n = node; n; n = n->parent) {
        if (n->type == XML_ELEMENT_NODE && n->_private) {
            reject(j, (size_t)(uintptr_t)n->_private - 1, rule, field, reason);
            return;
        }
        if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST "Client")) {
            reject_products_below(j, n, rule, field, reason);
            return;
        }
    }
    reject_products_below(j, xmlDocGetRootElement(doc), rule, field, reason);
}

static void reject_for_error(job *j, xmlDocPtr doc, const iwlz_xsd_error *e)
{
    char reason[512];
    const xmlChar *elem = e->node && e->node->type == XML_ELEMENT_NODE ? e->node->name : NULL;
    if (elem && xmlStrEqual(elem, BAD_CAST "Bsn"))
        snprintf(reason, sizeof(reason), "%s: Bsn voldoet niet aan het schema (9 cijfers)",
                 j->schema->file);
    else {
        snprintf(reason, sizeof(reason), "%s: %s", j->schema->file, e->message);
        zv_bsn_scrub(reason);
    }
    reject_at(j, doc, e->node, "XSD", field_of_node(e->node), reason);
}

static int below_client(xmlNodePtr n)
{
    for (; n; n = n->parent)
        if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST "Client")) return 1;
    return 0;
}

/* An r:Fout of the official rule set: its code is the rule, its Details
 * the reason, each r:Locatie the record (or client, or message) it hits. */
static void reject_for_rule(job *j, xmlDocPtr doc, const iwlz_rule_error *e)
{
    char reason[700], where[200] = "";
    size_t w = 0;
    for (size_t k = 0; k < e->nloc && k < IWLZ_MAX_LOCATIES; k++) {
        const xmlNodePtr n = e->nodes[k];
        if (n && w < sizeof(where))
            w += (size_t)snprintf(where + w, sizeof(where) - w, "%s%s", w ? ", " : "",
                                  (const char *)n->name);
    }
    const char *set = strrchr(j->st->rel.msg[j->b->message].xslt, '/');
    snprintf(reason, sizeof(reason), "%s (officiele regels %s, release %s%s%s)",
             e->details[0] ? e->details : "overtreding van de regel", set ? set + 1 : "",
             j->st->rel.name, where[0] ? "; element " : "", where);
    zv_bsn_scrub(reason);
    /* The rule's own element comes last among its locations (Etmalen after
     * Leveringsvorm, Leveringsstatus after Mutatiecode, Sleuteldatum after
     * Begindatum): that is the field to name. */
    const char *field = NULL;
    for (size_t k = e->nloc < IWLZ_MAX_LOCATIES ? e->nloc : IWLZ_MAX_LOCATIES; !field && k > 0; k--)
        if (e->nodes[k - 1]) field = field_of_node(e->nodes[k - 1]);
    /* A rule that compares a product with the header (TR064 Instelling vs
     * Afzender, CS023 a date vs Dagtekening) names both: the product is the
     * one at fault.  Only a rule on the header alone spoils the message. */
    int in_client = 0;
    for (size_t k = 0; k < e->nloc && k < IWLZ_MAX_LOCATIES; k++)
        if (below_client(e->nodes[k])) in_client = 1;
    int any = 0;
    for (size_t k = 0; k < e->nloc && k < IWLZ_MAX_LOCATIES; k++)
        if (e->nodes[k] && (!in_client || below_client(e->nodes[k]))) {
            reject_at(j, doc, e->nodes[k], e->code, field, reason);
            any = 1;
        }
    if (!any) reject_at(j, doc, NULL, e->code, field, reason);
}

/* ---- handing over ---- */

static int emit(job *j, xmlDocPtr doc, const char *id, size_t count)
{
    xmlChar *mem = NULL;
    int size = 0;
    size_t *idx = calloc(count, sizeof(*idx));
    char **keys = calloc(count, sizeof(*keys));
    int rc = -1;
    size_t k = 0;
    xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 1);
    if (!mem || !idx || !keys) goto out;
    /* The records of this message are the ones whose product is in doc. */
    for (xmlNodePtr cl = xmlDocGetRootElement(doc)->children; cl; cl = cl->next) {
        if (!xmlStrEqual(cl->name, BAD_CAST "Clienten")) continue;
        for (xmlNodePtr c = cl->children; c; c = c->next)
            for (xmlNodePtr box = c->children; box; box = box->next)
                for (xmlNodePtr p = box->children; p; p = p->next) {
                    if (p->type != XML_ELEMENT_NODE || !p->_private || k >= count) continue;
                    size_t i = (size_t)(uintptr_t)p->_private - 1;
                    const zv_record *r = j->b->records[i];
                    if (asprintf(&keys[k], "%s/%s", get(r, ZV_F_CLIENT_BSN),
                                 get(r, ZV_F_ENT_NUMBER)) < 0) {
                        keys[k] = NULL;
                        goto out;
                    }
                    idx[k++] = i;
                }
    }
    /* Per record, the fields this document carries for it. */
    const char *ontv = k ? j->ontv[idx[0]] : NULL;
    for (xmlNodePtr cl = xmlDocGetRootElement(doc)->children; cl; cl = cl->next) {
        if (!xmlStrEqual(cl->name, BAD_CAST "Clienten")) continue;
        for (xmlNodePtr c = cl->children; c; c = c->next)
            for (xmlNodePtr box = c->children; box; box = box->next)
                for (xmlNodePtr p = box->children; p; p = p->next)
                    if (p->type == XML_ELEMENT_NODE && p->_private &&
                        iwlz_report_rendered(j->st, j->out, j->b, p, ontv) < 0)
                        goto out;
    }
    zv_payload_spec spec = {ZV_SIZED(zv_payload_spec),
                            .data = mem,
                            .len = (size_t)size,
                            .content_type = "application/xml",
                            .idem_key = id,
                            .extension = "xml",
                            .records = idx,
                            .nrecords = k,
                            .record_keys = (const char *const *)keys};
    rc = j->st->host->add_payload(j->out, &spec);
out:
    for (size_t i = 0; keys && i < count; i++)
        free(keys[i]);
    free(keys);
    free(idx);
    xmlFree(mem);
    return rc;
}

static int render_one(job *j, const char *ontvanger, const char *id)
{
    /* Each failed round rejects at least one record, so n+1 rounds suffice. */
    for (size_t round = 0; round <= j->b->n; round++) {
        size_t count = 0;
        xmlDocPtr doc = build(j, ontvanger, id, &count);
        if (!doc) return -1;
        if (count == 0) {
            xmlFreeDoc(doc);
            return 0;
        }
        int v = iwlz_schema_validate(j->schema, doc, &j->xsd);
        if (v == 0) {
            /* Valid against the XSD: now the official rule set has its say. */
            int o = iwlz_rules_apply(j->st->rules[j->b->message], doc, &j->official);
            if (o == 0) {
                int rc = emit(j, doc, id, count);
                xmlFreeDoc(doc);
                return rc;
            }
            if (o < 0) {
                j->st->host->log(j->st->ctx, ZV_LOG_ERROR, "%s: the official rule set failed",
                                 base_name(j->st->rel.msg[j->b->message].xslt));
                xmlFreeDoc(doc);
                return -1;
            }
            size_t before = j->rejected;
            for (size_t e = 0; e < j->official.n; e++)
                reject_for_rule(j, doc, &j->official.errors[e]);
            xmlFreeDoc(doc);
            if (j->rejected == before) return -1;
            continue;
        }
        if (v < 0 || j->xsd.n == 0) {
            j->st->host->log(j->st->ctx, ZV_LOG_ERROR, "%s: schema validator failed",
                             j->schema->file);
            xmlFreeDoc(doc);
            return -1;
        }
        size_t before = j->rejected;
        for (size_t e = 0; e < j->xsd.n; e++)
            reject_for_error(j, doc, &j->xsd.errors[e]);
        xmlFreeDoc(doc);
        if (j->rejected == before) return -1; /* cannot happen: errors map to records */
    }
    return -1;
}

/* Identificatie: the batch id when it fits LDT_IdentificatieBericht and the
 * batch yields one message; otherwise a hash of batch id and Ontvanger.
 * Both are stable across retries, as the batch id is. */
static void make_id(const char *batch_id, const char *ontvanger, int single, char out[13])
{
    size_t len = strlen(batch_id);
    if (single && len >= 1 && len <= 12 && strspn(batch_id, " \t\r\n") < len) {
        memcpy(out, batch_id, len + 1);
        return;
    }
    char *buf = NULL, hex[65];
    if (asprintf(&buf, "%s/%s", batch_id, ontvanger) < 0) buf = NULL;
    zv_sha256_hex(buf ? buf : batch_id, strlen(buf ? buf : batch_id), hex);
    free(buf);
    memcpy(out, hex, 12);
    out[12] = 0;
}

static int render_all(job *j)
{
    if (check_records(j) < 0) return -1;
    iwlz_strmap seen;
    const char **list = calloc(j->b->n ? j->b->n : 1, sizeof(*list));
    if (!list || iwlz_strmap_init(&seen, 8) < 0) {
        free(list);
        return -1;
    }
    size_t nlist = 0;
    int rc = 0;
    for (size_t i = 0; i < j->b->n && rc == 0; i++) {
        int inserted;
        if (j->gone[i]) continue;
        if (iwlz_strmap_get_or_put(&seen, j->ontv[i], nlist, &inserted) == SIZE_MAX)
            rc = -1;
        else if (inserted)
            list[nlist++] = j->ontv[i];
    }
    for (size_t k = 0; k < nlist && rc == 0; k++) {
        char id[13];
        make_id(j->b->batch_id, list[k], nlist == 1, id);
        rc = render_one(j, list[k], id);
    }
    iwlz_strmap_free(&seen);
    free(list);
    return rc;
}

int iwlz_render(iwlz_state *st, const zv_batch *b, zv_render_out *out)
{
    job *j = calloc(1, sizeof(*j));
    if (!j) return -1;
    j->st = st;
    j->b = b;
    j->out = out;
    int aw35 = b->message == IWLZ_AW35;
    j->schema = aw35 ? &st->aw35 : &st->aw39;
    const iwlz_release_msg *m = &st->rel.msg[aw35 ? IWLZ_AW35 : IWLZ_AW39];
    j->code = m->code;
    j->versie = m->versie;
    j->subversie = m->subversie;
    j->ns_uri = m->ns;
    j->afzender = st->afzender ? st->afzender : st->host->org(st->ctx, "agb");
    if (!j->afzender || !zv_agb_valid(j->afzender, strlen(j->afzender))) {
        st->host->log(st->ctx, ZV_LOG_ERROR,
                      "iwlz: no valid Afzender (8-digit AGB): set organisation.agb or the "
                      "format option afzender");
        free(j);
        return -1;
    }
    time_t t = (time_t)b->now;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(j->dagtekening, sizeof(j->dagtekening), "%Y-%m-%d", &tm);
    j->ontv = calloc(b->n ? b->n : 1, sizeof(*j->ontv));
    j->gone = calloc(b->n ? b->n : 1, 1);
    int rc = j->ontv && j->gone ? render_all(j) : -1;
    if (rc == 0)
        st->host->log(st->ctx, ZV_LOG_INFO, "iwlz %s batch %s: %zu records, %zu rejected",
                      aw35 ? "AW35" : "AW39", b->batch_id, b->n, j->rejected);
    free(j->ontv);
    free(j->gone);
    free(j);
    return rc;
}
