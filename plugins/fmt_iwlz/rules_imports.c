/*
 * The official rule set imports common/basis.xsl from the message's file
 * and again from every rule file it includes (AW35: 26 times, AW39 more),
 * and each copy imports common/2_0/basis.xsl: libxslt compiles every copy,
 * about 40 MB for AW35 and 60 MB for AW39 (most of zinvold's memory).
 *
 * Why one copy judges alike: an import level is the stylesheet with the
 * files it includes; libxslt looks a template, a named template or a
 * global variable up level by level in import precedence and takes the
 * first level that has one.  When every level imports one file only (the
 * same URI each time, so the same bytes), the levels below the top are
 * copies of one block [basis, its own imports] repeated: a lookup that finds
 * nothing in the first copy finds nothing in the others either.  So all
 * but the first xsl:import of that URI can go.  A stylesheet whose levels
 * import more than one file is left as it is (there another file could sit
 * between two copies in precedence).  Proven with the rest of the compiled
 * copy by test_iwlz_prune.
 */
#include "iwlz.h"

#include <libxml/parser.h>
#include <libxml/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XSL_NS "http://www.w3.org/1999/XSL/Transform"

static int is_xsl(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->ns->href, BAD_CAST XSL_NS) &&
           xmlStrEqual(n->name, BAD_CAST name);
}

/* Walks the level of uri (the file and what it includes): the one URI its
 * xsl:imports name, into one (empty when none); -1 when more than one or a
 * file cannot be read. */
static int level_import(const char *uri, char *one, size_t len, int depth)
{
    if (depth > 32) return -1;
    xmlDocPtr doc =
        xmlReadFile(uri, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    int rc = root ? 0 : -1;
    for (xmlNodePtr c = root ? root->children : NULL; c && rc == 0; c = c->next) {
        int imp = is_xsl(c, "import");
        if (!imp && !is_xsl(c, "include")) continue;
        xmlChar *href = xmlGetProp(c, BAD_CAST "href");
        xmlChar *abs = href ? xmlBuildURI(href, doc->URL) : NULL;
        if (!abs)
            rc = -1;
        else if (!imp)
            rc = level_import((const char *)abs, one, len, depth + 1);
        else if (!one[0] && strlen((const char *)abs) < len)
            snprintf(one, len, "%s", (const char *)abs);
        else if (strcmp(one, (const char *)abs) != 0)
            rc = -1;
        xmlFree(abs);
        xmlFree(href);
    }
    xmlFreeDoc(doc);
    return rc;
}

int iwlz_imports_are_a_chain(const char *xsl_path)
{
    char uri[2048];
    snprintf(uri, sizeof(uri), "%s", xsl_path);
    for (int depth = 0; depth < 16; depth++) {
        char next[2048] = "";
        if (level_import(uri, next, sizeof(next), 0) < 0) return 0;
        if (!next[0]) return 1;
        snprintf(uri, sizeof(uri), "%s", next);
    }
    return 0;
}

size_t iwlz_drop_repeated_imports(xmlDocPtr sheet, iwlz_uri_set *seen)
{
    xmlNodePtr root = sheet ? xmlDocGetRootElement(sheet) : NULL;
    size_t dropped = 0;
    for (xmlNodePtr c = root ? root->children : NULL, next; c; c = next) {
        next = c->next;
        if (!is_xsl(c, "import")) continue;
        xmlChar *href = xmlGetProp(c, BAD_CAST "href");
        xmlChar *abs = href ? xmlBuildURI(href, sheet->URL) : NULL;
        int again = 0;
        for (size_t i = 0; abs && i < seen->n; i++)
            again |= strcmp(seen->uri[i], (const char *)abs) == 0;
        if (abs && !again && seen->n < IWLZ_MAX_IMPORTS &&
            strlen((const char *)abs) < sizeof(seen->uri[0]))
            snprintf(seen->uri[seen->n++], sizeof(seen->uri[0]), "%s", (const char *)abs);
        xmlFree(abs);
        xmlFree(href);
        if (!again) continue;
        xmlUnlinkNode(c);
        xmlFreeNode(c);
        dropped++;
    }
    return dropped;
}
