/*
 * Which elements a message valid against a release's XSD can contain, and
 * under which parents: the facts rules_rewrite.c needs to turn a nameless
 * pattern such as *[aw35:Client] into aw35:Clienten[aw35:Client], which
 * libxslt finds by name instead of testing on every element.
 *
 * Only the constructs the iWlz schemas use are understood: global and local
 * xs:element with a named or inline complexType of xs:sequence / xs:choice /
 * xs:all, simple types, attributes, xs:import.  Anything that could let an
 * element appear under a parent this walk does not see (xs:any, ref,
 * substitutionGroup, xs:group, complexContent - so no type derivation and no
 * xsi:type with other content -, xs:include, an element without a type,
 * which is anyType) makes the load fail, and then nothing is rewritten.
 */
#include "iwlz.h"

#include <libxml/parser.h>
#include <libxml/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XSD_NS "http://www.w3.org/2001/XMLSchema"
#define MAX_DOCS 8
#define MAX_NAMES 2048
#define MAX_EDGES 8192
#define MAX_SEEN 4096

typedef struct xsd_doc {
    xmlDocPtr doc;
    const char *tns;
    int qualified; /* elementFormDefault */
} xsd_doc;

struct iwlz_xsd_graph {
    size_t nnames, nedges;
    iwlz_qname names[MAX_NAMES];
    struct {
        unsigned parent, child;
    } edges[MAX_EDGES];
    /* while loading */
    xsd_doc docs[MAX_DOCS];
    size_t ndocs;
    struct {
        unsigned parent;
        xmlNodePtr type;
    } seen[MAX_SEEN];
    size_t nseen;
};

static int is_xsd(xmlNodePtr n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->ns->href, BAD_CAST XSD_NS) &&
           (!name || xmlStrEqual(n->name, BAD_CAST name));
}

static const char *attr(xmlNodePtr n, const char *name)
{
    for (xmlAttrPtr a = n->properties; a; a = a->next)
        if (!a->ns && xmlStrEqual(a->name, BAD_CAST name) && a->children)
            return (const char *)a->children->content;
    return NULL;
}

static long intern(iwlz_xsd_graph *g, const char *ns, const char *local)
{
    for (size_t i = 0; i < g->nnames; i++)
        if (strcmp(g->names[i].ns, ns) == 0 && strcmp(g->names[i].local, local) == 0)
            return (long)i;
    if (g->nnames == MAX_NAMES || strlen(ns) >= sizeof(g->names[0].ns) ||
        strlen(local) >= sizeof(g->names[0].local))
        return -1;
    snprintf(g->names[g->nnames].ns, sizeof(g->names[0].ns), "%s", ns);
    snprintf(g->names[g->nnames].local, sizeof(g->names[0].local), "%s", local);
    return (long)g->nnames++;
}

static int add_edge(iwlz_xsd_graph *g, unsigned parent, unsigned child)
{
    for (size_t i = 0; i < g->nedges; i++)
        if (g->edges[i].parent == parent && g->edges[i].child == child) return 0;
    if (g->nedges == MAX_EDGES) return -1;
    g->edges[g->nedges].parent = parent;
    g->edges[g->nedges++].child = child;
    return 0;
}

static xsd_doc *doc_of(iwlz_xsd_graph *g, xmlNodePtr n)
{
    for (size_t i = 0; i < g->ndocs; i++)
        if (g->docs[i].doc == n->doc) return &g->docs[i];
    return NULL;
}

/* The global xs:complexType (1) or xs:simpleType (0) a QName names, seen
 * from node n; -1 when there is none. */
static int find_type(iwlz_xsd_graph *g, xmlNodePtr n, const char *qname, xmlNodePtr *out)
{
    const char *colon = strchr(qname, ':');
    char prefix[64] = "";
    if (colon && (size_t)(colon - qname) < sizeof(prefix)) {
        memcpy(prefix, qname, (size_t)(colon - qname));
        prefix[colon - qname] = 0;
    }
    xmlNsPtr ns = xmlSearchNs(n->doc, n, colon ? BAD_CAST prefix : NULL);
    const char *uri = ns ? (const char *)ns->href : "";
    const char *local = colon ? colon + 1 : qname;
    if (strcmp(uri, XSD_NS) == 0) return 0; /* a built-in simple type */
    for (size_t i = 0; i < g->ndocs; i++) {
        if (strcmp(g->docs[i].tns, uri) != 0) continue;
        for (xmlNodePtr c = xmlDocGetRootElement(g->docs[i].doc)->children; c; c = c->next) {
            if (!is_xsd(c, "complexType") && !is_xsd(c, "simpleType")) continue;
            const char *name = attr(c, "name");
            if (!name || strcmp(name, local) != 0) continue;
            *out = c;
            return is_xsd(c, "complexType");
        }
    }
    return -1;
}

static int decl(iwlz_xsd_graph *g, xmlNodePtr el, unsigned self);

/* The element particles below node (a complexType or a model group), each
 * a child of parent. */
static int particles(iwlz_xsd_graph *g, xmlNodePtr node, unsigned parent)
{
    xsd_doc *d = doc_of(g, node);
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (!is_xsd(c, NULL)) return -1;
        if (is_xsd(c, "annotation") || is_xsd(c, "attribute") || is_xsd(c, "anyAttribute") ||
            is_xsd(c, "attributeGroup") || is_xsd(c, "simpleContent"))
            continue;
        if (is_xsd(c, "sequence") || is_xsd(c, "choice") || is_xsd(c, "all")) {
            if (particles(g, c, parent) < 0) return -1;
            continue;
        }
        if (!is_xsd(c, "element")) return -1; /* any, group, complexContent, ... */
        const char *name = attr(c, "name"), *form = attr(c, "form");
        if (!name || !d) return -1;
        int qualified = form ? strcmp(form, "qualified") == 0 : d->qualified;
        long child = intern(g, qualified ? d->tns : "", name);
        if (child < 0 || add_edge(g, parent, (unsigned)child) < 0 ||
            decl(g, c, (unsigned)child) < 0)
            return -1;
    }
    return 0;
}

/* An element declaration whose name is self: the children its type allows. */
static int decl(iwlz_xsd_graph *g, xmlNodePtr el, unsigned self)
{
    if (attr(el, "ref") || attr(el, "substitutionGroup")) return -1;
    xmlNodePtr type = NULL;
    for (xmlNodePtr c = el->children; c; c = c->next)
        if (is_xsd(c, "complexType"))
            type = c;
        else if (is_xsd(c, "simpleType"))
            return 0;
    const char *tname = attr(el, "type");
    if (!type) {
        if (!tname) return -1; /* anyType */
        int k = find_type(g, el, tname, &type);
        if (k < 0) return -1;
        if (k == 0) return 0;
    }
    for (size_t i = 0; i < g->nseen; i++)
        if (g->seen[i].parent == self && g->seen[i].type == type) return 0;
    if (g->nseen == MAX_SEEN) return -1;
    g->seen[g->nseen].parent = self;
    g->seen[g->nseen++].type = type;
    return particles(g, type, self);
}

static int load_doc(iwlz_xsd_graph *g, const char *path, int depth)
{
    if (depth > 8 || g->ndocs == MAX_DOCS) return -1;
    xmlDocPtr doc =
        xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || !is_xsd(root, "schema") || !attr(root, "targetNamespace")) {
        xmlFreeDoc(doc);
        return -1;
    }
    for (size_t i = 0; i < g->ndocs; i++)
        if (strcmp(g->docs[i].tns, attr(root, "targetNamespace")) == 0) {
            xmlFreeDoc(doc); /* imported twice */
            return 0;
        }
    xsd_doc *d = &g->docs[g->ndocs++];
    d->doc = doc;
    d->tns = attr(root, "targetNamespace");
    const char *efd = attr(root, "elementFormDefault");
    d->qualified = efd && strcmp(efd, "qualified") == 0;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (is_xsd(c, "include") || is_xsd(c, "redefine")) return -1;
        if (!is_xsd(c, "import")) continue;
        const char *loc = attr(c, "schemaLocation");
        xmlChar *abs = loc ? xmlBuildURI(BAD_CAST loc, BAD_CAST path) : NULL;
        int rc = abs ? load_doc(g, (const char *)abs, depth + 1) : -1;
        xmlFree(abs);
        if (rc < 0) return -1;
    }
    return 0;
}

static void drop_docs(iwlz_xsd_graph *g)
{
    for (size_t i = 0; i < g->ndocs; i++)
        xmlFreeDoc(g->docs[i].doc);
    g->ndocs = 0;
    g->nseen = 0;
}

iwlz_xsd_graph *iwlz_xsd_graph_load(const char *xsd_path)
{
    iwlz_xsd_graph *g = calloc(1, sizeof(*g));
    if (!g) return NULL;
    int rc = load_doc(g, xsd_path, 0);
    for (size_t i = 0; rc == 0 && i < g->ndocs; i++)
        for (xmlNodePtr c = xmlDocGetRootElement(g->docs[i].doc)->children; rc == 0 && c;
             c = c->next) {
            if (!is_xsd(c, "element")) continue;
            const char *name = attr(c, "name");
            long self = name ? intern(g, g->docs[i].tns, name) : -1;
            rc = self < 0 ? -1 : decl(g, c, (unsigned)self);
        }
    drop_docs(g);
    if (rc < 0) {
        free(g);
        return NULL;
    }
    return g;
}

void iwlz_xsd_graph_free(iwlz_xsd_graph *g)
{
    free(g);
}

static int add_name(iwlz_qname_set *out, const iwlz_qname *q)
{
    for (size_t i = 0; i < out->n; i++)
        if (strcmp(out->q[i].ns, q->ns) == 0 && strcmp(out->q[i].local, q->local) == 0) return 0;
    if (out->n == IWLZ_MAX_QNAMES) return -1;
    out->q[out->n++] = *q;
    return 0;
}

int iwlz_xsd_parents(const iwlz_xsd_graph *g, const char *ns, const char *local,
                     iwlz_qname_set *out)
{
    for (size_t e = 0; e < g->nedges; e++) {
        const iwlz_qname *c = &g->names[g->edges[e].child];
        if (strcmp(c->ns, ns) == 0 && strcmp(c->local, local) == 0 &&
            add_name(out, &g->names[g->edges[e].parent]) < 0)
            return -1;
    }
    return 0;
}

int iwlz_xsd_named(const iwlz_xsd_graph *g, const char *local, iwlz_qname_set *out)
{
    for (size_t i = 0; i < g->nnames; i++)
        if (strcmp(g->names[i].local, local) == 0 && add_name(out, &g->names[i]) < 0) return -1;
    return 0;
}

size_t iwlz_xsd_count(const iwlz_xsd_graph *g)
{
    return g->nnames;
}

const iwlz_qname *iwlz_xsd_name(const iwlz_xsd_graph *g, size_t i)
{
    return i < g->nnames ? &g->names[i] : NULL;
}
