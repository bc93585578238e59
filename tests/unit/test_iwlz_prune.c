/*
 * The pruned official rule set (plugins/fmt_iwlz/rules_prune.c) is the
 * official rule set: for AW35 and AW39 the plugin's compiled copy and the
 * stylesheet compiled from the bundled files as they are give the same
 * rapport, byte for byte, on the messages of the scenario corpus
 * (tests/fixtures/iwlz/judge, rendered by zinvol from
 * tests/fixtures/iwlz/corpus) and on thousands of broken variants of them:
 * every element of every client with another value or removed, every
 * element with children doubled,
 * each client alone, and every header element the same way on the whole
 * message.  Many of the variants break rules (the test checks that most
 * rules of the set fire somewhere), so equal rapports are equal verdicts,
 * including Locatie.  The control: a message with two Client elements of
 * another message's namespace (zk35), which the XSD refuses and so the
 * plugin never judges, is where the two differ - the pruning is real and
 * this test would see a difference.
 */
#include "../../plugins/fmt_iwlz/iwlz.h"

#include <check.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxslt/transform.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/xsltutils.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct sheet_pair {
    const char *msg;
    xsltStylesheetPtr whole;
    iwlz_rules *pruned;
    size_t npruned;
    xmlSchemaPtr xsd;
    xmlDocPtr sample;
} sheet_pair;

static char rel[1024];

static void paths(void)
{
    const char *src = getenv("ZV_SOURCE_DIR");
    ck_assert_msg(src != NULL, "ZV_SOURCE_DIR must be set");
    snprintf(rel, sizeof(rel), "%s/plugins/fmt_iwlz/releases/2.2", src);
}

static void load(sheet_pair *p, const char *msg, const char *sample)
{
    paths();
    char xsl[1200], xsd[1200], file[1200], err[512];
    snprintf(xsl, sizeof(xsl), "%s/xslt/wlz/2_2/%s.xsl", rel, msg);
    snprintf(xsd, sizeof(xsd), "%s/xsd/%s.xsd", rel, msg);
    snprintf(file, sizeof(file), "%s/tests/fixtures/iwlz/judge/%s", getenv("ZV_SOURCE_DIR"),
             sample);
    p->msg = msg;
    p->whole = xsltParseStylesheetFile(BAD_CAST xsl);
    ck_assert_ptr_nonnull(p->whole);
    iwlz_ns_set only;
    ck_assert_int_eq(iwlz_closed_namespaces(xsd, &only), 0);
    ck_assert_uint_eq(only.n, 2); /* the message's and the basisschema's */
    int compiled;
    p->pruned = iwlz_rules_acquire(xsl, &only, &compiled, &p->npruned, err, sizeof(err));
    ck_assert_msg(p->pruned != NULL, "%s", err);
    ck_assert_uint_gt(p->npruned, 0);
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(xsd);
    p->xsd = xmlSchemaParse(pc);
    xmlSchemaFreeParserCtxt(pc);
    ck_assert_ptr_nonnull(p->xsd);
    p->sample = xmlReadFile(file, NULL, XML_PARSE_NOBLANKS | XML_PARSE_NONET);
    ck_assert_ptr_nonnull(p->sample);
}

static void unload(sheet_pair *p)
{
    xsltFreeStylesheet(p->whole);
    iwlz_rules_release(p->pruned);
    xmlSchemaFree(p->xsd);
    xmlFreeDoc(p->sample);
}

static char *rapport(xsltStylesheetPtr sheet, xmlDocPtr doc)
{
    xmlDocPtr out = xsltApplyStylesheet(sheet, doc, NULL);
    ck_assert_ptr_nonnull(out);
    xmlChar *mem = NULL;
    int len = 0;
    xmlDocDumpMemory(out, &mem, &len);
    xmlFreeDoc(out);
    char *s = strdup((const char *)mem);
    xmlFree(mem);
    return s;
}

typedef struct tally {
    size_t docs, with_errors;
    char codes[64][8];
    size_t ncodes;
} tally;

static void note_codes(tally *t, const char *r)
{
    for (const char *p = strstr(r, "<r:Code>"); p; p = strstr(p + 1, "<r:Code>")) {
        char code[8] = "";
        sscanf(p + 8, "%7[A-Z0-9]", code);
        size_t i = 0;
        while (i < t->ncodes && strcmp(t->codes[i], code) != 0)
            i++;
        if (i == t->ncodes && t->ncodes < 64) snprintf(t->codes[t->ncodes++], 8, "%s", code);
    }
}

/* Both copies judge doc alike; returns whether the rapport has errors. */
static void same_verdict(sheet_pair *p, xmlDocPtr doc, tally *t, const char *what)
{
    char *a = rapport(p->whole, doc);
    char *b = rapport(iwlz_rules_sheet(p->pruned), doc);
    ck_assert_msg(strcmp(a, b) == 0, "%s, %s: the pruned rule set judges otherwise:\n%s\n---\n%s",
                  p->msg, what, a, b);
    t->docs++;
    if (strstr(a, "<r:Fout>")) {
        t->with_errors++;
        note_codes(t, a);
    }
    free(a);
    free(b);
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST name)) return c;
    return NULL;
}

static int is_leaf(xmlNodePtr n)
{
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE) return 0;
    return 1;
}

/* Values a rule may object to: out of range, wrong form, a date far off. */
static const char *const bad_values[] = {"0", "99", "2099-12-31", "1870-01-01", "X", "5", "1", "3"};

/* Every element below top (leaves get another value; every element is
 * removed once, every one with children doubled once), judged by both
 * copies on doc. */
static void mutate_below(sheet_pair *p, xmlDocPtr doc, xmlNodePtr top, tally *t, size_t *k)
{
    for (xmlNodePtr e = top->children; e; e = e->next) {
        if (e->type != XML_ELEMENT_NODE) continue;
        if (is_leaf(e)) {
            xmlChar *old = xmlNodeGetContent(e);
            xmlNodeSetContent(e, BAD_CAST bad_values[*k % 8]);
            same_verdict(p, doc, t, "a value changed");
            xmlNodeSetContent(e, old);
            xmlFree(old);
        } else {
            mutate_below(p, doc, e, t, k);
        }
        (*k)++;
        /* removed */
        xmlNodePtr next = e->next, parent = e->parent;
        xmlUnlinkNode(e);
        same_verdict(p, doc, t, "an element removed");
        if (next)
            xmlAddPrevSibling(next, e);
        else
            xmlAddChild(parent, e);
        if (is_leaf(e)) continue; /* a doubled leaf is the XSD's to refuse */
        /* doubled */
        xmlNodePtr twin = xmlDocCopyNode(e, doc, 1);
        xmlAddNextSibling(e, twin);
        same_verdict(p, doc, t, "an element doubled");
        xmlUnlinkNode(twin);
        xmlFreeNode(twin);
    }
}

static void run_pair(const char *msg, const char *sample, size_t min_codes)
{
    sheet_pair p;
    load(&p, msg, sample);
    tally t = {0};
    xmlDocPtr doc = p.sample;
    xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(p.xsd);
    ck_assert_int_eq(xmlSchemaValidateDoc(v, doc), 0);
    xmlSchemaFreeValidCtxt(v);
    same_verdict(&p, doc, &t, "the message as rendered");
    ck_assert_uint_eq(t.with_errors, 0);

    xmlNodePtr root = xmlDocGetRootElement(doc);
    size_t k = 0;
    mutate_below(&p, doc, child(root, "Header"), &t, &k);

    /* Each client alone in the message, mutated. */
    xmlNodePtr clienten = child(root, "Clienten");
    size_t n = xmlChildElementCount(clienten);
    xmlNodePtr *kids = calloc(n, sizeof(*kids));
    size_t m = 0;
    for (xmlNodePtr c = clienten->children, next; c; c = next) {
        next = c->next;
        xmlUnlinkNode(c);
        if (c->type == XML_ELEMENT_NODE && m < n)
            kids[m++] = c;
        else
            xmlFreeNode(c);
    }
    for (size_t i = 0; i < m; i++) {
        xmlAddChild(clienten, kids[i]);
        mutate_below(&p, doc, kids[i], &t, &k);
        xmlUnlinkNode(kids[i]);
    }
    for (size_t i = 0; i < m; i++)
        xmlAddChild(clienten, kids[i]);
    free(kids);
    same_verdict(&p, doc, &t, "the message restored");

    fprintf(stderr,
            "%s: %zu templates pruned, %zu rewritten; %zu messages judged alike, %zu with "
            "errors, %zu rules fired\n",
            msg, p.npruned, iwlz_rules_rewritten(p.pruned), t.docs, t.with_errors, t.ncodes);
    ck_assert_uint_gt(iwlz_rules_rewritten(p.pruned), 0);
    ck_assert_uint_gt(t.docs, 300);
    ck_assert_uint_gt(t.with_errors, t.docs / 8);
    ck_assert_uint_ge(t.ncodes, min_codes);
    unload(&p);
}

START_TEST(aw35_pruned_judges_alike)
{
    run_pair("AW35", "aw35-corpus.xml", 12);
}
END_TEST

START_TEST(aw39_pruned_judges_alike)
{
    run_pair("AW39", "aw39-corpus.xml", 15);
}
END_TEST

#if LIBXML_VERSION >= 21200
static void quiet(void *arg, const xmlError *e)
#else
static void quiet(void *arg, xmlError *e)
#endif
{
    (void)arg, (void)e;
}

/* Two zk35:Client with one Bsn: TR101 for the whole set, nothing for the
 * pruned one (which has no template for zk35) - and the XSD refuses the
 * message, so the plugin never judges one like it. */
START_TEST(foreign_namespace_is_where_they_differ)
{
    sheet_pair p;
    load(&p, "AW35", "aw35-corpus.xml");
    xmlNodePtr clienten = child(xmlDocGetRootElement(p.sample), "Clienten");
    xmlNsPtr zk = xmlNewNs(clienten, BAD_CAST "http://www.istandaarden.nl/iwlz/2_2/zk35/schema",
                           BAD_CAST "zk35");
    for (int i = 0; i < 2; i++) {
        xmlNodePtr c = xmlNewChild(clienten, zk, BAD_CAST "Client", NULL);
        xmlNewChild(c, zk, BAD_CAST "Bsn", BAD_CAST "999910000");
    }
    xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(p.xsd);
    xmlSchemaSetValidStructuredErrors(v, quiet, NULL);
    ck_assert_int_ne(xmlSchemaValidateDoc(v, p.sample), 0);
    xmlSchemaFreeValidCtxt(v);
    char *a = rapport(p.whole, p.sample);
    char *b = rapport(iwlz_rules_sheet(p.pruned), p.sample);
    ck_assert_ptr_nonnull(strstr(a, "TR101"));
    ck_assert_ptr_null(strstr(b, "TR101"));
    free(a);
    free(b);
    unload(&p);
}
END_TEST

/* The rewritten patterns (rules_rewrite.c) hold only for the parents the
 * XSD allows: a Datum with DatumGebruik 3 under Client instead of under
 * Geboortedatum breaks TR097 for the whole set (*[iwlz:Datum and
 * iwlz:DatumGebruik]) but not for the plugin's copy, where that pattern
 * became aw35:Geboortedatum[...] - and the XSD refuses the message. */
START_TEST(parent_outside_the_xsd_is_where_they_differ)
{
    sheet_pair p;
    load(&p, "AW35", "aw35-corpus.xml");
    ck_assert_uint_gt(iwlz_rules_rewritten(p.pruned), 0);
    xmlNodePtr client = child(child(xmlDocGetRootElement(p.sample), "Clienten"), "Client");
    ck_assert_ptr_nonnull(client);
    xmlNsPtr iwlz =
        xmlNewNs(client, BAD_CAST "http://www.istandaarden.nl/iwlz/2_2/basisschema/schema",
                 BAD_CAST "iwlzx");
    xmlNewChild(client, iwlz, BAD_CAST "Datum", BAD_CAST "2000-05-05");
    xmlNewChild(client, iwlz, BAD_CAST "DatumGebruik", BAD_CAST "3");
    xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(p.xsd);
    xmlSchemaSetValidStructuredErrors(v, quiet, NULL);
    ck_assert_int_ne(xmlSchemaValidateDoc(v, p.sample), 0);
    xmlSchemaFreeValidCtxt(v);
    char *a = rapport(p.whole, p.sample);
    char *b = rapport(iwlz_rules_sheet(p.pruned), p.sample);
    ck_assert_ptr_nonnull(strstr(a, "TR097"));
    ck_assert_ptr_null(strstr(b, "TR097"));
    free(a);
    free(b);
    unload(&p);
}
END_TEST

/* A schema that admits any element is not closed: nothing is pruned. */
START_TEST(open_schema_prunes_nothing)
{
    char path[] = "/tmp/zv-iwlz-open-XXXXXX.xsd";
    int fd = mkstemps(path, 4);
    ck_assert_int_ge(fd, 0);
    const char *xsd = "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "
                      "targetNamespace=\"urn:x\"><xs:element name=\"a\"><xs:complexType>"
                      "<xs:sequence><xs:any processContents=\"lax\"/></xs:sequence>"
                      "</xs:complexType></xs:element></xs:schema>";
    ck_assert_int_eq(write(fd, xsd, strlen(xsd)), (ssize_t)strlen(xsd));
    close(fd);
    iwlz_ns_set s;
    ck_assert_int_eq(iwlz_closed_namespaces(path, &s), -1);
    ck_assert_uint_eq(s.n, 0);
    unlink(path);
    static const char one[] =
        "<xsl:stylesheet version=\"1.0\" xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\" "
        "xmlns:zk=\"urn:zk\"><xsl:template match=\"*[zk:A]\" mode=\"m\"/></xsl:stylesheet>";
    xmlDocPtr sheet = xmlReadMemory(one, (int)strlen(one), "s.xsl", NULL, 0);
    ck_assert_uint_eq(iwlz_prune_stylesheet(sheet, &s), 0);
    /* and with a closed set, only what is foreign to it goes */
    iwlz_ns_set closed = {.n = 1};
    snprintf(closed.uri[0], sizeof(closed.uri[0]), "urn:zk");
    ck_assert_uint_eq(iwlz_prune_stylesheet(sheet, &closed), 0);
    snprintf(closed.uri[0], sizeof(closed.uri[0]), "urn:other");
    ck_assert_uint_eq(iwlz_prune_stylesheet(sheet, &closed), 1);
    xmlFreeDoc(sheet);
}
END_TEST

/* Only *[p:Name] alternatives go, each foreign, never a named template. */
static const char mixed_sheet[] =
    "<xsl:stylesheet version=\"1.0\" xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\" "
    "xmlns:zk=\"urn:zk\" xmlns:aw=\"urn:aw\">"
    "<xsl:template match=\"*[zk:A]\" mode=\"m\"/>"             /* goes */
    "<xsl:template match=\" *[zk:A] | *[zk:B] \" mode=\"m\"/>" /* goes */
    "<xsl:template match=\"*[zk:A] | *[aw:B]\" mode=\"m\"/>"   /* stays: aw */
    "<xsl:template match=\"*[zk:A and zk:B]\" mode=\"m\"/>"    /* stays: not the form */
    "<xsl:template match=\"*[ zk:A ]\" mode=\"m\"/>"           /* stays: not the form */
    "<xsl:template match=\"zk:A\" mode=\"m\"/>"                /* stays: not the form */
    "<xsl:template match=\"*[zk:A]\" name=\"n\"/>"             /* stays: named */
    "<xsl:template match=\"*[aw:A|zk:B]\" mode=\"m\"/>"        /* stays: one alternative */
    "<xsl:template match=\"*[un:A]\" mode=\"m\"/>"             /* stays: unbound prefix */
    "</xsl:stylesheet>";

START_TEST(only_foreign_wildcard_patterns_go)
{
    xmlDocPtr sheet = xmlReadMemory(mixed_sheet, (int)strlen(mixed_sheet), "s.xsl", NULL,
                                    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    ck_assert_ptr_nonnull(sheet);
    iwlz_ns_set closed = {.n = 1};
    snprintf(closed.uri[0], sizeof(closed.uri[0]), "urn:aw");
    ck_assert_uint_eq(iwlz_prune_stylesheet(sheet, &closed), 2);
    ck_assert_uint_eq(xmlChildElementCount(xmlDocGetRootElement(sheet)), 7);
    xmlFreeDoc(sheet);
}
END_TEST

static void write_file(char *path, int suffix, const char *text)
{
    int fd = mkstemps(path, suffix);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static xmlNodePtr nth_template(xmlDocPtr d, int n)
{
    for (xmlNodePtr c = xmlDocGetRootElement(d)->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && n-- == 0) return c;
    return NULL;
}

/* rules_rewrite.c on a small schema (R > P > C): *[t:C] becomes t:P[t:C]
 * in mode m; in mode n another template of priority 0.5 could match a P,
 * so a tie could be broken otherwise there and n stays as it is; in mode o
 * *[t:R] (no element can hold an R) goes, and the nameless *[not(t:C)]
 * keeps the other alternative nameless. */
START_TEST(rewrite_only_where_no_tie_can_change)
{
    char xsd[] = "/tmp/zv-iwlz-rw-XXXXXX.xsd", xsl[] = "/tmp/zv-iwlz-rw-XXXXXX.xsl";
    write_file(xsd, 4,
               "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" targetNamespace=\"urn:t\" "
               "xmlns:t=\"urn:t\" elementFormDefault=\"qualified\">"
               "<xs:element name=\"R\"><xs:complexType><xs:sequence>"
               "<xs:element name=\"P\" type=\"t:PT\"/></xs:sequence></xs:complexType></xs:element>"
               "<xs:complexType name=\"PT\"><xs:sequence><xs:element name=\"C\" "
               "type=\"xs:string\"/><xs:element name=\"X\" type=\"xs:string\"/></xs:sequence>"
               "</xs:complexType></xs:schema>");
    write_file(xsl, 4,
               "<xsl:stylesheet version=\"1.0\" xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\" "
               "xmlns:t=\"urn:t\">"
               "<xsl:template match=\"*[t:C]\" mode=\"m\"><xsl:text>m</xsl:text></xsl:template>"
               "<xsl:template match=\"*[t:C]\" mode=\"n\"><xsl:text>n</xsl:text></xsl:template>"
               "<xsl:template match=\"t:P[@a]\" mode=\"n\"><xsl:text>p</xsl:text></xsl:template>"
               "<xsl:template match=\"*[t:X and t:C] | *[t:R]\" mode=\"o\"/>"
               "<xsl:template match=\"*[not(t:C)]\" mode=\"o\"/>"
               "</xsl:stylesheet>");
    iwlz_ns_set only;
    ck_assert_int_eq(iwlz_closed_namespaces(xsd, &only), 0);
    size_t nalts = 0;
    iwlz_rewrite *plan = iwlz_rewrite_plan(xsl, &only, &nalts);
    ck_assert_ptr_nonnull(plan);
    xmlDocPtr d = xmlReadFile(xsl, NULL, 0);
    ck_assert_uint_eq(iwlz_rewrite_apply(plan, d), 2);
    xmlChar *m0 = xmlGetProp(nth_template(d, 0), BAD_CAST "match");
    xmlChar *m1 = xmlGetProp(nth_template(d, 1), BAD_CAST "match");
    xmlChar *m3 = xmlGetProp(nth_template(d, 3), BAD_CAST "match");
    xmlChar *m4 = xmlGetProp(nth_template(d, 4), BAD_CAST "match");
    ck_assert_str_eq((char *)m0, "t:P[t:C]");
    ck_assert_str_eq((char *)m1, "*[t:C]");
    /* *[t:R] goes (nothing holds an R); *[not(t:C)] could tie with the rest */
    ck_assert_str_eq((char *)m3, "*[t:X and t:C]");
    ck_assert_str_eq((char *)m4, "*[not(t:C)]");
    xmlFree(m0);
    xmlFree(m1);
    xmlFree(m3);
    xmlFree(m4);
    xmlFreeDoc(d);
    iwlz_rewrite_free(plan);
    unlink(xsd);
    unlink(xsl);
}
END_TEST

/* One copy of a repeatedly imported file only where every import level
 * imports one file: the rule set is such a chain; a level importing two
 * files (another could sit between two copies in precedence) is not. */
START_TEST(imports_deduplicated_only_in_a_chain)
{
    paths();
    char xsl[1200];
    snprintf(xsl, sizeof(xsl), "%s/xslt/wlz/2_2/AW35.xsl", rel);
    ck_assert_int_eq(iwlz_imports_are_a_chain(xsl), 1);
    char a[] = "/tmp/zv-iwlz-imp-XXXXXX.xsl", b[] = "/tmp/zv-iwlz-imp-XXXXXX.xsl",
         top[] = "/tmp/zv-iwlz-imp-XXXXXX.xsl";
    const char *empty = "<xsl:stylesheet version=\"1.0\" "
                        "xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\"/>";
    write_file(a, 4, empty);
    write_file(b, 4, empty);
    char text[1024];
    snprintf(text, sizeof(text),
             "<xsl:stylesheet version=\"1.0\" xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\">"
             "<xsl:import href=\"%s\"/><xsl:import href=\"%s\"/><xsl:import href=\"%s\"/>"
             "</xsl:stylesheet>",
             a, b, a);
    write_file(top, 4, text);
    ck_assert_int_eq(iwlz_imports_are_a_chain(top), 0);
    /* and where it is one, the second import of a goes */
    xmlDocPtr d = xmlReadFile(top, NULL, 0);
    iwlz_uri_set seen = {0};
    ck_assert_uint_eq(iwlz_drop_repeated_imports(d, &seen), 1);
    ck_assert_uint_eq(xmlChildElementCount(xmlDocGetRootElement(d)), 2);
    xmlFreeDoc(d);
    unlink(a);
    unlink(b);
    unlink(top);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("iwlz_prune");
    TCase *tc = tcase_create("prune");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, aw35_pruned_judges_alike);
    tcase_add_test(tc, aw39_pruned_judges_alike);
    tcase_add_test(tc, foreign_namespace_is_where_they_differ);
    tcase_add_test(tc, parent_outside_the_xsd_is_where_they_differ);
    tcase_add_test(tc, open_schema_prunes_nothing);
    tcase_add_test(tc, rewrite_only_where_no_tie_can_change);
    tcase_add_test(tc, imports_deduplicated_only_in_a_chain);
    tcase_add_test(tc, only_foreign_wildcard_patterns_go);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
