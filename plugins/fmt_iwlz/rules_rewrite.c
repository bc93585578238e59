/*
 * Giving the nameless templates of the official rule set the element names
 * the message's XSD allows, so libxslt's name hash finds them: a pattern
 * whose last step is *[PRED] sits on a list libxslt tests against every
 * element in its mode, while q:Name[PRED] is only tried on elements called
 * Name (measured with tests/bench/iwlz_judge_bench).
 *
 * Why no verdict changes, for a message that has passed the XSD (render.c
 * judges nothing else):
 * - PRED says which elements it can hold for: p:N (a child p:N) only for the
 *   elements whose declared content has p:N (xsd_graph.c), local-name()='X'
 *   only for the declared elements named X; "and" takes the intersection,
 *   "or" and "|" the union; any other term may hold anywhere and the
 *   alternative is left alone.  So STEPS/ *[PRED] and the union of
 *   STEPS/q:Name[PRED] over those names match the same nodes, and both have
 *   priority 0.5 (or the template's explicit one).  An empty set: the
 *   alternative matches nothing and is left out (a template left with no
 *   alternative goes).
 * - Where several templates match a node with one priority, libxslt takes
 *   a name-hashed one before a nameless one and otherwise the one defined
 *   last; moving an alternative from one list to the other could change
 *   that.  So a mode is rewritten only when no other template of it with
 *   the same priority could match an element of those names; rewritten
 *   alternatives keep their order among themselves.
 * Proven rapport for rapport against the whole stylesheet by
 * test_iwlz_prune, with a control that an XSD-invalid message tells them
 * apart.
 */
#include "iwlz.h"

#include <libxml/parser.h>
#include <libxml/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XSL_NS "http://www.w3.org/1999/XSL/Transform"
#define MAX_SHEETS 128
#define MAX_ALTS 32
#define ANY_NAME ((size_t)-1)

typedef struct plan_entry {
    char *uri, *mode, *old_match, *new_match; /* new_match NULL: the template goes */
    char *decls; /* "prefix uri\n" namespaces to declare on the template first */
    long line;
    size_t nspec; /* templates to add after this one (rules_rewrite.c, specialise) */
    struct spec {
        char *match, *decls;
        unsigned long long keep; /* which element children to copy */
    } * spec;
} plan_entry;

struct iwlz_rewrite {
    size_t n, cap;
    plan_entry *e;
};

/* One match alternative, as far as template choice is concerned. */
typedef struct alt {
    double prio;
    int prio_known;
    int candidate;      /* rewritable */
    iwlz_qname_set set; /* candidate: the element names it can match */
    char name[80];      /* other: the local name of its last step, "" any, "-" no element */
    char text[1024];
    char prefix[1024]; /* candidate: the steps before the last, with their '/' */
    char pred[1024];   /* candidate: PRED */
} alt;

typedef struct tpl {
    xmlNodePtr node;
    const char *uri, *mode;
    size_t nalts;
    alt *alts;
    int mode_ok;
} tpl;

static int is_xsl(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->ns->href, BAD_CAST XSL_NS) &&
           xmlStrEqual(n->name, BAD_CAST name);
}

static void trim(char *s)
{
    size_t a = strspn(s, " \t\r\n"), l = strlen(s);
    while (l > a && strchr(" \t\r\n", s[l - 1]))
        l--;
    memmove(s, s + a, l - a);
    s[l - a] = 0;
}

/* Splits s (copied to parts) at top-level sep (outside quotes, [] and ());
 * returns the number of parts or -1. */
static int split_top(const char *s, const char *sep, char parts[][1024], int max)
{
    size_t seplen = strlen(sep), from = 0, len = strlen(s);
    int depth = 0, n = 0;
    char quote = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = s[i];
        if (quote) {
            if (c == quote) quote = 0;
            if (!c) return -1;
            continue;
        }
        if (c == '\'' || c == '"')
            quote = c;
        else if (c == '[' || c == '(')
            depth++;
        else if (c == ']' || c == ')')
            depth--;
        if (depth < 0) return -1;
        if (c && !(depth == 0 && strncmp(s + i, sep, seplen) == 0)) continue;
        if (n == max || i - from >= 1024) return -1;
        memcpy(parts[n], s + from, i - from);
        parts[n][i - from] = 0;
        trim(parts[n++]);
        if (!c) break;
        from = i + seplen;
        i += seplen - 1;
    }
    return depth == 0 ? n : -1;
}

static int ncname(const char *s, size_t len)
{
    if (len == 0 || (s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '.') return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.'))
            return 0;
    return 1;
}

/* The elements one term of PRED can hold for, into out: 1; 0 when it may
 * hold for any element. */
static int term_set(const iwlz_xsd_graph *g, const iwlz_ns_set *only, xmlNodePtr at, const char *t,
                    iwlz_qname_set *out)
{
    out->n = 0;
    const char *colon = strchr(t, ':');
    if (colon && ncname(t, (size_t)(colon - t)) && ncname(colon + 1, strlen(colon + 1))) {
        char prefix[64];
        if ((size_t)(colon - t) >= sizeof(prefix)) return 0;
        memcpy(prefix, t, (size_t)(colon - t));
        prefix[colon - t] = 0;
        xmlNsPtr ns = xmlSearchNs(at->doc, at, BAD_CAST prefix);
        if (!ns || !ns->href) return 0;
        int mine = 0;
        for (size_t i = 0; i < only->n; i++)
            mine |= strcmp(only->uri[i], (const char *)ns->href) == 0;
        if (!mine) return 1; /* no such child in a valid message */
        return iwlz_xsd_parents(g, (const char *)ns->href, colon + 1, out) == 0;
    }
    if (strncmp(t, "local-name()", 12) != 0) return 0;
    const char *p = t + 12;
    p += strspn(p, " \t\r\n");
    if (*p++ != '=') return 0;
    p += strspn(p, " \t\r\n");
    char q = *p++;
    if (q != '\'' && q != '"') return 0;
    const char *end = strchr(p, q);
    if (!end || end[1] || !ncname(p, (size_t)(end - p)) || (size_t)(end - p) >= 80) return 0;
    char local[80];
    memcpy(local, p, (size_t)(end - p));
    local[end - p] = 0;
    return iwlz_xsd_named(g, local, out) == 0;
}

static int has(const iwlz_qname_set *s, const iwlz_qname *q)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->q[i].ns, q->ns) == 0 && strcmp(s->q[i].local, q->local) == 0) return 1;
    return 0;
}

/* The element names PRED can hold for: 1, or 0 when it may hold anywhere. */
static int pred_set(const iwlz_xsd_graph *g, const iwlz_ns_set *only, xmlNodePtr at,
                    const char *pred, iwlz_qname_set *out)
{
    static const char *const seps[] = {" and ", " or ", "|"};
    char parts[MAX_ALTS][1024];
    int kind = -1, n = 1;
    for (int k = 0; k < 3; k++) {
        int m = split_top(pred, seps[k], parts, MAX_ALTS);
        if (m < 0) return 0;
        if (m == 1) continue;
        if (kind >= 0) return 0; /* mixed: precedence is not worth it */
        kind = k;
        n = m;
    }
    if (split_top(pred, kind < 0 ? "\x01" : seps[kind], parts, MAX_ALTS) != n) return 0;
    int known = 0;
    out->n = 0;
    for (int i = 0; i < n; i++) {
        iwlz_qname_set s;
        int ok = term_set(g, only, at, parts[i], &s);
        if (kind != 0 && !ok) return 0; /* a union with "anywhere" */
        if (!ok) continue;
        if (!known || kind != 0) {
            for (size_t j = 0; j < s.n; j++)
                if (!has(out, &s.q[j])) {
                    if (out->n == IWLZ_MAX_QNAMES) return 0;
                    out->q[out->n++] = s.q[j];
                }
        } else {
            size_t w = 0;
            for (size_t j = 0; j < out->n; j++)
                if (has(&s, &out->q[j])) out->q[w++] = out->q[j];
            out->n = w;
        }
        known = 1;
    }
    return known;
}

/* The position of the last top-level '/' of a, or -1. */
static long last_slash(const char *a)
{
    long pos = -1;
    int depth = 0;
    char quote = 0;
    for (long i = 0; a[i]; i++) {
        if (quote) {
            if (a[i] == quote) quote = 0;
        } else if (a[i] == '\'' || a[i] == '"')
            quote = a[i];
        else if (a[i] == '[' || a[i] == '(')
            depth++;
        else if (a[i] == ']' || a[i] == ')')
            depth--;
        else if (a[i] == '/' && depth == 0)
            pos = i;
    }
    return pos;
}

/* XSLT 1.0's default priority of one alternative, and the local name of
 * the elements its last step can match. */
static void describe(alt *x)
{
    const char *a = x->text;
    long slash = last_slash(a);
    const char *step = slash >= 0 ? a + slash + 1 : a;
    if (strncmp(step, "child::", 7) == 0) step += 7;
    size_t len = strcspn(step, "[");
    int simple = slash < 0 && !step[len];
    x->prio_known = 1;
    if (!simple)
        x->prio = 0.5;
    else if (strcmp(step, "*") == 0 || strcmp(step, "@*") == 0 || strcmp(step, "node()") == 0 ||
             strcmp(step, "text()") == 0 || strcmp(step, "comment()") == 0 ||
             strcmp(step, "processing-instruction()") == 0)
        x->prio = -0.5;
    else if (len > 2 && step[len - 1] == '*' && step[len - 2] == ':')
        x->prio = -0.25;
    else if (strchr(step, '(') && strncmp(step, "processing-instruction(", 23) != 0)
        x->prio = 0.5; /* id(), key() */
    else
        x->prio = 0;
    const char *colon = memchr(step, ':', len);
    const char *local = colon ? colon + 1 : step;
    size_t llen = len - (size_t)(local - step);
    if (step[0] == '@' || strncmp(step, "text()", 6) == 0 || strncmp(step, "comment()", 9) == 0 ||
        strncmp(step, "processing-instruction(", 23) == 0)
        snprintf(x->name, sizeof(x->name), "-");
    else if (ncname(local, llen) && llen < sizeof(x->name) &&
             (!colon || ncname(step, (size_t)(colon - step))))
        snprintf(x->name, sizeof(x->name), "%.*s", (int)llen, local);
    else
        x->name[0] = 0;
}

/* A template whose body has no literal result element: a namespace
 * declared on it reaches no output (libxslt copies in-scope namespaces
 * only to literal result elements). */
static int only_xsl_below(xmlNodePtr n)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (!c->ns || !xmlStrEqual(c->ns->href, BAD_CAST XSL_NS) || !only_xsl_below(c)) return 0;
    }
    return 1;
}

/* Is alternative x of the form STEPS/ *[PRED] with a known name set? */
static void try_candidate(alt *x, const iwlz_xsd_graph *g, const iwlz_ns_set *only, xmlNodePtr at)
{
    long slash = last_slash(x->text);
    const char *step = slash >= 0 ? x->text + slash + 1 : x->text;
    size_t len = strlen(step);
    if (len < 4 || step[0] != '*' || step[1] != '[' || step[len - 1] != ']') return;
    char inner[1024];
    snprintf(inner, sizeof(inner), "%.*s", (int)(len - 3), step + 2);
    char parts[2][1024];
    if (split_top(step + 1, "]", parts, 2) != 2 || parts[1][0]) return; /* one predicate */
    iwlz_qname_set s;
    if (!pred_set(g, only, at, inner, &s)) return;
    /* every name must be writable: with a prefix bound here, or one that
     * can be declared here without reaching the output */
    int may_declare = only_xsl_below(at);
    for (size_t i = 0; i < s.n; i++) {
        xmlNsPtr ns = s.q[i].ns[0] ? xmlSearchNsByHref(at->doc, at, BAD_CAST s.q[i].ns) : NULL;
        if (s.q[i].ns[0] && (!ns || !ns->prefix) && !may_declare) return;
    }
    x->candidate = 1;
    x->set = s;
    snprintf(x->prefix, sizeof(x->prefix), "%.*s", (int)(slash + 1), x->text);
    snprintf(x->pred, sizeof(x->pred), "%s", inner);
}

static int read_template(tpl *t, const iwlz_xsd_graph *g, const iwlz_ns_set *only)
{
    xmlChar *m = xmlGetProp(t->node, BAD_CAST "match");
    xmlChar *pr = xmlGetProp(t->node, BAD_CAST "priority");
    char parts[MAX_ALTS][1024];
    int n = m ? split_top((const char *)m, "|", parts, MAX_ALTS) : -1;
    t->nalts = n > 0 ? (size_t)n : 0;
    t->alts = t->nalts ? calloc(t->nalts, sizeof(alt)) : NULL;
    for (size_t i = 0; t->alts && i < t->nalts; i++) {
        alt *x = &t->alts[i];
        snprintf(x->text, sizeof(x->text), "%s", parts[i]);
        describe(x);
        if (pr) {
            char *end;
            x->prio = strtod((const char *)pr, &end);
            x->prio_known = *end == 0;
        }
        if (!xmlHasProp(t->node, BAD_CAST "name")) try_candidate(x, g, only, t->node);
    }
    xmlFree(m);
    xmlFree(pr);
    return n > 0 && t->alts ? 0 : -1;
}

/* Could other (not rewritten) match an element one of x's names names, at
 * x's priority? */
static int conflicts(const alt *x, const alt *other)
{
    if (other->candidate && other->set.n == 0) return 0; /* matches nothing */
    if (other->prio_known && x->prio_known && other->prio != x->prio) return 0;
    if (strcmp(other->name, "-") == 0) return 0;
    if (!other->name[0]) return 1;
    for (size_t i = 0; i < x->set.n; i++)
        if (strcmp(x->set.q[i].local, other->name) == 0) return 1;
    return 0;
}

static void check_mode(tpl *t, size_t nt, size_t k)
{
    for (size_t i = 0; i < k; i++)
        if (strcmp(t[i].mode, t[k].mode) == 0) {
            t[k].mode_ok = t[i].mode_ok; /* decided for the mode already */
            return;
        }
    t[k].mode_ok = 1;
    for (size_t i = 0; i < nt && t[k].mode_ok; i++) {
        if (strcmp(t[i].mode, t[k].mode) != 0) continue;
        for (size_t a = 0; a < t[i].nalts && t[k].mode_ok; a++) {
            const alt *x = &t[i].alts[a];
            if (!x->candidate || x->set.n == 0) continue;
            for (size_t j = 0; j < nt && t[k].mode_ok; j++) {
                if (j == i || strcmp(t[j].mode, t[k].mode) != 0) continue;
                for (size_t b = 0; b < t[j].nalts; b++) {
                    const alt *y = &t[j].alts[b];
                    if (!y->candidate && conflicts(x, y)) t[k].mode_ok = 0;
                }
            }
        }
    }
}

/* A prefix for uri at t's template: one in scope, or a new one declared
 * there (recorded in decls for the loaded copy). */
static const char *prefix_for(const tpl *t, const char *uri, char *decls, size_t dlen)
{
    xmlNsPtr ns = xmlSearchNsByHref(t->node->doc, t->node, BAD_CAST uri);
    if (ns && ns->prefix) return (const char *)ns->prefix;
    char prefix[32];
    for (int i = 0; i < 100; i++) {
        snprintf(prefix, sizeof(prefix), "zvrw%d", i);
        if (xmlSearchNs(t->node->doc, t->node, BAD_CAST prefix)) continue;
        size_t used = strlen(decls);
        int w = snprintf(decls + used, dlen - used, "%s %s\n", prefix, uri);
        if (w < 0 || (size_t)w >= dlen - used) return NULL;
        ns = xmlNewNs(t->node, BAD_CAST uri, BAD_CAST prefix);
        return ns ? (const char *)ns->prefix : NULL;
    }
    return NULL;
}

/* The new match of t, into buf: 1 changed, 0 unchanged, -1 no alternative
 * left (the template goes), -2 too long. */
static int new_match(const tpl *t, char *buf, size_t len, char *decls, size_t dlen)
{
    size_t used = 0, kept = 0;
    int changed = 0;
    buf[0] = 0;
    for (size_t a = 0; a < t->nalts; a++) {
        const alt *x = &t->alts[a];
        if (x->candidate && x->set.n == 0) {
            changed = 1; /* matches nothing */
            continue;
        }
        if (!x->candidate || !t->mode_ok) {
            int w = snprintf(buf + used, len - used, "%s%s", kept++ ? " | " : "", x->text);
            if (w < 0 || (size_t)w >= len - used) return -2;
            used += (size_t)w;
            continue;
        }
        changed = 1;
        for (size_t i = 0; i < x->set.n; i++) {
            const iwlz_qname *q = &x->set.q[i];
            const char *pf = q->ns[0] ? prefix_for(t, q->ns, decls, dlen) : "";
            if (!pf) return -2;
            int w = snprintf(buf + used, len - used, "%s%s%s%s%s[%s]", kept++ ? " | " : "",
                             x->prefix, pf, pf[0] ? ":" : "", q->local, x->pred);
            if (w < 0 || (size_t)w >= len - used) return -2;
            used += (size_t)w;
        }
    }
    if (!changed) return 0;
    return kept ? 1 : -1;
}

typedef struct sheets {
    size_t n;
    xmlDocPtr doc[MAX_SHEETS];
} sheets;

static int load_sheets(sheets *s, const char *uri, const iwlz_ns_set *only, int depth)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp((const char *)s->doc[i]->URL, uri) == 0) return 0;
    if (depth > 16 || s->n == MAX_SHEETS) return -1;
    xmlDocPtr doc =
        xmlReadFile(uri, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || !doc->URL) {
        xmlFreeDoc(doc);
        return -1;
    }
    s->doc[s->n++] = doc;
    iwlz_prune_stylesheet(doc, only); /* as the loader will */
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (!is_xsl(c, "include") && !is_xsl(c, "import")) continue;
        xmlChar *href = xmlGetProp(c, BAD_CAST "href");
        xmlChar *abs = href ? xmlBuildURI(href, doc->URL) : NULL;
        int rc = abs ? load_sheets(s, (const char *)abs, only, depth + 1) : -1;
        xmlFree(abs);
        xmlFree(href);
        if (rc < 0) return -1;
    }
    return 0;
}

static int add_entry(iwlz_rewrite *p, const tpl *t, const char *nm, const char *decls)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 32;
        plan_entry *e = realloc(p->e, cap * sizeof(*e));
        if (!e) return -1;
        p->e = e;
        p->cap = cap;
    }
    plan_entry *e = &p->e[p->n];
    xmlChar *m = xmlGetProp(t->node, BAD_CAST "match");
    e->uri = strdup(t->uri);
    e->mode = strdup(t->mode);
    e->old_match = m ? strdup((const char *)m) : NULL;
    e->new_match = nm ? strdup(nm) : NULL;
    e->decls = strdup(decls);
    e->line = xmlGetLineNo(t->node);
    e->nspec = 0;
    e->spec = NULL;
    xmlFree(m);
    p->n++;
    return e->uri && e->mode && e->old_match && e->decls && (!nm || e->new_match) ? 0 : -1;
}

/* Is t's body empty (no instruction, no text)? */
static int empty_body(xmlNodePtr t)
{
    for (xmlNodePtr c = t->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE) return 0;
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (!xmlIsBlankNode(c)) return 0;
        }
    }
    return 1;
}

/* Could alternative x match an element with local name local? */
static int may_match(const tpl *t, const alt *x, const char *local)
{
    if (x->candidate && x->set.n == 0) return 0; /* left out */
    if (x->candidate && t->mode_ok) {
        for (size_t i = 0; i < x->set.n; i++)
            if (strcmp(x->set.q[i].local, local) == 0) return 1;
        return 0;
    }
    if (x->candidate) return 1; /* stays *[...] */
    if (strcmp(x->name, "-") == 0) return 0;
    return !x->name[0] || strcmp(x->name, local) == 0;
}

/* Does xsl:apply-templates select="." mode=m on an element named local
 * certainly do nothing?  It does when every template of mode m that could
 * match it has an empty body and one of those matches every element (*),
 * so that neither another template nor the built-in rule can run. */
static int mode_idle_for(const tpl *t, size_t nt, const char *m, const char *local)
{
    int catch_all = 0;
    for (size_t i = 0; i < nt; i++) {
        if (strcmp(t[i].mode, m) != 0) continue;
        int empty = empty_body(t[i].node);
        for (size_t a = 0; a < t[i].nalts; a++) {
            if (!may_match(&t[i], &t[i].alts[a], local)) continue;
            if (!empty) return 0;
            if (strcmp(t[i].alts[a].text, "*") == 0) catch_all = 1;
        }
    }
    return catch_all;
}

/* A template match="*" (no name) whose body is only xsl:apply-templates
 * select="." mode="m" (no parameters): the modes, NULL otherwise. */
static int dispatcher(const tpl *t, const char *modes[64], size_t *n)
{
    *n = 0;
    if (t->nalts != 1 || strcmp(t->alts[0].text, "*") != 0 || xmlHasProp(t->node, BAD_CAST "name"))
        return 0;
    for (xmlNodePtr c = t->node->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE && xmlIsBlankNode(c)) continue;
        if (c->type == XML_COMMENT_NODE) continue;
        if (!is_xsl(c, "apply-templates") || *n == 64 || c->children) return 0;
        xmlAttrPtr sel = xmlHasProp(c, BAD_CAST "select"), mode = xmlHasProp(c, BAD_CAST "mode");
        if (!sel || !sel->children || strcmp((const char *)sel->children->content, ".") != 0 ||
            !mode || !mode->children || strchr((const char *)mode->children->content, ':'))
            return 0;
        for (xmlAttrPtr a = c->properties; a; a = a->next)
            if (a != sel && a != mode) return 0;
        modes[(*n)++] = (const char *)mode->children->content;
    }
    return *n >= 4;
}

/* For a dispatcher template k (like the rule set's check mode, which
 * applies 24 modes to every element): one template per element name of the
 * XSD with only the modes that can do something there, same mode and
 * priority, name-hashed, so it is chosen where k was.  Only when no other
 * template of k's mode has k's priority (then no tie can go otherwise). */
static int plan_specialise(iwlz_rewrite *p, tpl *t, size_t nt, size_t k, const iwlz_xsd_graph *g,
                           size_t *nspec)
{
    const char *modes[64];
    size_t nm;
    if (!dispatcher(&t[k], modes, &nm) || !t[k].alts[0].prio_known) return 0;
    for (size_t i = 0; i < nt; i++) {
        if (i == k || strcmp(t[i].mode, t[k].mode) != 0) continue;
        for (size_t a = 0; a < t[i].nalts; a++) {
            const alt *y = &t[i].alts[a];
            if (y->candidate && y->set.n == 0) continue;
            if (!y->prio_known || y->prio == t[k].alts[0].prio) return 0;
        }
    }
    if (!xmlSearchNsByHref(t[k].node->doc, t[k].node->parent, BAD_CAST XSL_NS)) return 0;
    size_t ns = iwlz_xsd_count(g);
    struct spec *sp = calloc(ns ? ns : 1, sizeof(*sp));
    size_t n = 0;
    int rc = sp ? 0 : -1;
    unsigned long long all = nm == 64 ? ~0ULL : (1ULL << nm) - 1;
    for (size_t q = 0; q < ns && rc == 0; q++) {
        const iwlz_qname *name = iwlz_xsd_name(g, q);
        unsigned long long keep = 0;
        for (size_t m = 0; m < nm; m++)
            if (!mode_idle_for(t, nt, modes[m], name->local)) keep |= 1ULL << m;
        if (keep == all) continue;
        char decls[256] = "", match[256];
        /* a prefix in scope at the stylesheet level, or one declared on
         * the new template (whose body has no literal result element) */
        xmlNsPtr in = name->ns[0]
                          ? xmlSearchNsByHref(t[k].node->doc, t[k].node->parent, BAD_CAST name->ns)
                          : NULL;
        char pf[64] = "";
        if (in && in->prefix)
            snprintf(pf, sizeof(pf), "%s", (const char *)in->prefix);
        else if (name->ns[0]) {
            for (int i = 0; i < 100 && !pf[0]; i++) {
                snprintf(pf, sizeof(pf), "zvrw%d", i);
                if (xmlSearchNs(t[k].node->doc, t[k].node->parent, BAD_CAST pf)) pf[0] = 0;
            }
            if (!pf[0] || strlen(name->ns) > 200) continue;
            snprintf(decls, sizeof(decls), "%s %s\n", pf, name->ns);
        }
        snprintf(match, sizeof(match), "%s%s%s", pf, pf[0] ? ":" : "", name->local);
        sp[n].match = strdup(match);
        sp[n].decls = strdup(decls);
        sp[n].keep = keep;
        if (!sp[n].match || !sp[n].decls) rc = -1;
        n++;
    }
    if (rc == 0 && n > 0) rc = add_entry(p, &t[k], t[k].alts[0].text, "");
    if (rc == 0 && n > 0) {
        p->e[p->n - 1].spec = sp;
        p->e[p->n - 1].nspec = n;
        *nspec += n;
        return 0;
    }
    for (size_t i = 0; sp && i < n; i++) {
        free(sp[i].match);
        free(sp[i].decls);
    }
    free(sp);
    return rc;
}

static int plan_sheets(iwlz_rewrite *p, sheets *s, const iwlz_xsd_graph *g, const iwlz_ns_set *only,
                       size_t *nalts)
{
    size_t nt = 0, cap = 0;
    tpl *t = NULL;
    int rc = 0;
    for (size_t d = 0; d < s->n && rc == 0; d++)
        for (xmlNodePtr c = xmlDocGetRootElement(s->doc[d])->children; c && rc == 0; c = c->next) {
            if (!is_xsl(c, "template") || !xmlHasProp(c, BAD_CAST "match")) continue;
            if (nt == cap) {
                cap = cap ? cap * 2 : 256;
                tpl *n = realloc(t, cap * sizeof(*t));
                if (!n) {
                    rc = -1;
                    break;
                }
                t = n;
            }
            tpl *x = &t[nt++];
            memset(x, 0, sizeof(*x));
            x->node = c;
            x->uri = (const char *)s->doc[d]->URL;
            xmlAttrPtr ma = xmlHasProp(c, BAD_CAST "mode");
            x->mode = ma && ma->children ? (const char *)ma->children->content : "";
            if (strchr(x->mode, ':')) rc = -1; /* a prefixed mode: not compared by string */
            if (rc == 0) rc = read_template(x, g, only);
        }
    for (size_t k = 0; k < nt && rc == 0; k++)
        check_mode(t, nt, k);
    for (size_t k = 0; k < nt && rc == 0; k++) {
        char buf[16384], decls[1024] = "";
        int r = new_match(&t[k], buf, sizeof(buf), decls, sizeof(decls));
        if (r == -2 || r == 0) continue;
        for (size_t a = 0; a < t[k].nalts; a++)
            *nalts += t[k].alts[a].candidate && (t[k].mode_ok || t[k].alts[a].set.n == 0);
        rc = add_entry(p, &t[k], r == 1 ? buf : NULL, decls);
    }
    for (size_t k = 0; k < nt && rc == 0; k++)
        rc = plan_specialise(p, t, nt, k, g, nalts);
    for (size_t k = 0; k < nt; k++)
        free(t[k].alts);
    free(t);
    return rc;
}

iwlz_rewrite *iwlz_rewrite_plan(const char *xsl_path, const iwlz_ns_set *only, size_t *nalts)
{
    *nalts = 0;
    if (!only || !only->n || !only->xsd[0]) return NULL;
    iwlz_xsd_graph *g = iwlz_xsd_graph_load(only->xsd);
    if (!g) return NULL;
    sheets s = {0};
    iwlz_rewrite *p = calloc(1, sizeof(*p));
    int rc = p ? load_sheets(&s, xsl_path, only, 0) : -1;
    if (rc == 0) rc = plan_sheets(p, &s, g, only, nalts);
    for (size_t i = 0; i < s.n; i++)
        xmlFreeDoc(s.doc[i]);
    iwlz_xsd_graph_free(g);
    if (rc < 0 || (p && p->n == 0)) {
        iwlz_rewrite_free(p);
        *nalts = 0;
        return NULL;
    }
    return p;
}

static void declare(xmlNodePtr c, const char *decls)
{
    for (const char *d = decls; *d;) {
        char prefix[32], uri[200];
        if (sscanf(d, "%31s %199s", prefix, uri) != 2) break;
        xmlNewNs(c, BAD_CAST uri, BAD_CAST prefix);
        d = strchr(d, '\n');
        d = d ? d + 1 : "";
    }
}

/* The specialised copies of template c, right after it; how many. */
static size_t add_specialised(xmlNodePtr c, const plan_entry *e)
{
    xmlNodePtr after = c;
    xmlChar *prio = xmlGetProp(c, BAD_CAST "priority");
    size_t n = 0;
    for (size_t i = 0; i < e->nspec; i++) {
        xmlNodePtr t = xmlNewDocNode(c->doc, c->ns, BAD_CAST "template", NULL);
        if (!t) break;
        declare(t, e->spec[i].decls);
        xmlSetProp(t, BAD_CAST "match", BAD_CAST e->spec[i].match);
        if (e->mode[0]) xmlSetProp(t, BAD_CAST "mode", BAD_CAST e->mode);
        xmlSetProp(t, BAD_CAST "priority", prio ? prio : BAD_CAST "-0.5");
        unsigned k = 0;
        for (xmlNodePtr a = c->children; a; a = a->next) {
            if (a->type != XML_ELEMENT_NODE) continue;
            if (k < 64 && (e->spec[i].keep >> k & 1)) xmlAddChild(t, xmlDocCopyNode(a, c->doc, 1));
            k++;
        }
        after = xmlAddNextSibling(after, t);
        n++;
    }
    xmlFree(prio);
    return n;
}

size_t iwlz_rewrite_apply(const iwlz_rewrite *p, xmlDocPtr sheet)
{
    xmlNodePtr root = sheet ? xmlDocGetRootElement(sheet) : NULL;
    size_t changed = 0;
    if (!p || !root || !sheet->URL) return 0;
    for (xmlNodePtr c = root->children, next; c; c = next) {
        next = c->next;
        if (!is_xsl(c, "template")) continue;
        xmlChar *m = xmlGetProp(c, BAD_CAST "match");
        xmlAttrPtr ma = xmlHasProp(c, BAD_CAST "mode");
        const char *mode = ma && ma->children ? (const char *)ma->children->content : "";
        long line = xmlGetLineNo(c);
        for (size_t i = 0; m && i < p->n; i++) {
            const plan_entry *e = &p->e[i];
            if (e->line != line || strcmp(e->uri, (const char *)sheet->URL) != 0 ||
                strcmp(e->old_match, (const char *)m) != 0 || strcmp(e->mode, mode) != 0)
                continue;
            if (e->nspec) {
                changed += add_specialised(c, e);
            } else if (e->new_match) {
                declare(c, e->decls);
                xmlSetProp(c, BAD_CAST "match", BAD_CAST e->new_match);
            } else {
                xmlUnlinkNode(c);
                xmlFreeNode(c);
            }
            changed++;
            break;
        }
        xmlFree(m);
    }
    return changed;
}

void iwlz_rewrite_free(iwlz_rewrite *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->e[i].uri);
        free(p->e[i].mode);
        free(p->e[i].old_match);
        free(p->e[i].new_match);
        free(p->e[i].decls);
        for (size_t k = 0; k < p->e[i].nspec; k++) {
            free(p->e[i].spec[k].match);
            free(p->e[i].spec[k].decls);
        }
        free(p->e[i].spec);
    }
    free(p->e);
    free(p);
}
