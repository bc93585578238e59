/*
 * Leaving out of the compiled official rule set the templates that cannot
 * match in a message the plugin judges, because that is where libxslt
 * spends its time: one rule-set file serves every iWlz message, so TR101
 * alone has 74 templates of the form *[zk31:Beperking] (one per element of
 * every message type).  A pattern that starts with * cannot be indexed by
 * name, so libxslt evaluates every such predicate for every element of the
 * message, in every mode the element is checked in (measured with
 * tests/bench/iwlz_judge_bench).
 *
 * Why leaving them out changes no verdict: the rule set runs only on a
 * message that has passed the release's XSD (render.c), and when that XSD
 * and the schemas it imports have no xs:any, every element of such a
 * message is in one of their target namespaces.  A template whose every
 * alternative is *[p:Name] with p outside those namespaces then matches no
 * node, so it is never the one chosen, and removing it cannot change which
 * template is; a template with a name (xsl:call-template) is kept.
 * Proven on messages, rapport for rapport, by test_iwlz_prune.
 */
#include "iwlz.h"

#include <libxml/parser.h>
#include <libxml/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XSL_NS "http://www.w3.org/1999/XSL/Transform"
#define XSD_NS "http://www.w3.org/2001/XMLSchema"

static int in_set(const iwlz_ns_set *s, const char *uri)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->uri[i], uri) == 0) return 1;
    return 0;
}

static int add_ns(iwlz_ns_set *s, const char *uri)
{
    if (in_set(s, uri)) return 0;
    if (s->n == IWLZ_MAX_NS || strlen(uri) >= sizeof(s->uri[0])) return -1;
    snprintf(s->uri[s->n++], sizeof(s->uri[0]), "%s", uri);
    return 0;
}

static int is_xsd(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->ns->href, BAD_CAST XSD_NS) &&
           xmlStrEqual(n->name, BAD_CAST name);
}

/* -1 when the schema is open (xs:any) or cannot be read. */
static int walk_schema(const char *path, iwlz_ns_set *s, int depth);

static int walk_node(xmlNodePtr n, const char *base, iwlz_ns_set *s, int depth)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (is_xsd(c, "any")) return -1;
        if (is_xsd(c, "import") || is_xsd(c, "include") || is_xsd(c, "redefine")) {
            xmlChar *loc = xmlGetProp(c, BAD_CAST "schemaLocation");
            xmlChar *abs = loc ? xmlBuildURI(loc, BAD_CAST base) : NULL;
            int rc = abs ? walk_schema((const char *)abs, s, depth + 1) : -1;
            xmlFree(abs);
            xmlFree(loc);
            if (rc < 0) return -1;
        }
        if (walk_node(c, base, s, depth) < 0) return -1;
    }
    return 0;
}

static int walk_schema(const char *path, iwlz_ns_set *s, int depth)
{
    if (depth > 8) return -1;
    xmlDocPtr doc =
        xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    int rc = root && is_xsd(root, "schema") ? 0 : -1;
    xmlChar *tns = rc == 0 ? xmlGetProp(root, BAD_CAST "targetNamespace") : NULL;
    if (rc == 0 && (!tns || add_ns(s, (const char *)tns) < 0)) rc = -1;
    if (rc == 0) rc = walk_node(root, path, s, depth);
    xmlFree(tns);
    xmlFreeDoc(doc);
    return rc;
}

int iwlz_closed_namespaces(const char *xsd_path, iwlz_ns_set *out)
{
    memset(out, 0, sizeof(*out));
    if (walk_schema(xsd_path, out, 0) < 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    if (strlen(xsd_path) < sizeof(out->xsd)) snprintf(out->xsd, sizeof(out->xsd), "%s", xsd_path);
    return 0;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static int name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* Is alternative [p, end) exactly "*[prefix:Name]" with prefix bound, at
 * tpl, to a namespace outside s? */
static int foreign_alternative(xmlNodePtr tpl, const char *p, const char *end, const iwlz_ns_set *s)
{
    p = skip_ws(p);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        end--;
    if (end - p < 6 || p[0] != '*' || p[1] != '[' || end[-1] != ']') return 0;
    const char *q = p + 2, *colon = NULL;
    char prefix[64];
    while (q < end - 1 && name_char(*q))
        q++;
    if (q == p + 2 || *q != ':' || (size_t)(q - (p + 2)) >= sizeof(prefix)) return 0;
    colon = q;
    memcpy(prefix, p + 2, (size_t)(colon - (p + 2)));
    prefix[colon - (p + 2)] = 0;
    for (q = colon + 1; q < end - 1 && name_char(*q); q++)
        ;
    if (q == colon + 1 || q != end - 1) return 0;
    xmlNsPtr ns = xmlSearchNs(tpl->doc, tpl, BAD_CAST prefix);
    return ns && ns->href && !in_set(s, (const char *)ns->href);
}

/* Every top-level alternative of the pattern (split at | outside [] and
 * ()) is foreign. */
static int never_matches(xmlNodePtr tpl, const char *match, const iwlz_ns_set *s)
{
    int depth = 0;
    const char *from = match;
    char quote = 0;
    for (const char *p = match;; p++) {
        if (quote) {
            if (*p == quote) quote = 0;
            if (!*p) return 0;
            continue;
        }
        if (*p == '\'' || *p == '"')
            quote = *p;
        else if (*p == '[' || *p == '(')
            depth++;
        else if (*p == ']' || *p == ')')
            depth--;
        else if ((*p == '|' && depth == 0) || !*p) {
            if (!foreign_alternative(tpl, from, p, s)) return 0;
            if (!*p) return 1;
            from = p + 1;
        }
    }
}

size_t iwlz_prune_stylesheet(xmlDocPtr sheet, const iwlz_ns_set *s)
{
    xmlNodePtr root = sheet ? xmlDocGetRootElement(sheet) : NULL;
    size_t removed = 0;
    if (!root || !s || s->n == 0) return 0;
    for (xmlNodePtr c = root->children, next; c; c = next) {
        next = c->next;
        if (c->type != XML_ELEMENT_NODE || !c->ns || !xmlStrEqual(c->ns->href, BAD_CAST XSL_NS) ||
            !xmlStrEqual(c->name, BAD_CAST "template"))
            continue;
        if (xmlHasProp(c, BAD_CAST "name")) continue;
        xmlChar *m = xmlGetProp(c, BAD_CAST "match");
        int drop = m && never_matches(c, (const char *)m, s);
        xmlFree(m);
        if (!drop) continue;
        xmlUnlinkNode(c);
        xmlFreeNode(c);
        removed++;
    }
    return removed;
}
