/* The Leveringsregister's GraphQL parser and normaliser (plugins/fmt_leveringsregister/gql.c). */
#include "gql.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gql_doc *parse(const char *s, char *err, size_t errlen)
{
    return gql_parse(s, strlen(s), err, errlen);
}

static char *norm(const char *s)
{
    char err[256];
    gql_doc *d = parse(s, err, sizeof(err));
    ck_assert_msg(d != NULL, "%s: %s", s, err);
    char *n = gql_normalise(d);
    gql_doc_free(d);
    return n;
}

START_TEST(layout_does_not_matter)
{
    char *a = norm("# a comment\nquery Levering($id: UUID!) {\n  levering(where: "
                   "{ leveringID: { eq: $id } }) {\n    leveringID,\n    client { bsn }\n  }\n}\n");
    char *b = norm("query Levering(  $id :UUID ! ){levering(where:{leveringID:{eq:$id}})"
                   "{leveringID client{bsn}}}");
    ck_assert_str_eq(a, b);
    ck_assert_str_eq(a, "query Levering($id:UUID!){levering(where:{leveringID:{eq:$id}})"
                        "{leveringID client{bsn}}}");
    free(a);
    free(b);
}
END_TEST

START_TEST(structure)
{
    char err[256];
    gql_doc *d = parse("query Q($a: [String!] = [\"x\"], $b: Int) { r: f(a: $a, n: -1.5e2, e: "
                       "ENUM, s: \"\\u00e9\", z: null) @include(if: true) { ...F ... on T { g } } "
                       "} fragment F on T { h }",
                       err, sizeof(err));
    ck_assert_msg(d != NULL, "%s", err);
    ck_assert_uint_eq(d->nops, 1);
    ck_assert_uint_eq(d->nfrags, 1);
    const gql_op *o = gql_doc_op(d, NULL);
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(o->kind, "query");
    ck_assert_uint_eq(o->nvars, 2);
    ck_assert_str_eq(o->vars[0].type, "[String!]");
    ck_assert_int_eq(o->vars[0].def->kind, GQL_LIST);
    const gql_sel *f = &o->sels[0];
    ck_assert_str_eq(f->alias, "r");
    ck_assert_str_eq(f->name, "f");
    ck_assert_uint_eq(f->nargs, 5);
    ck_assert_int_eq(f->args[1].value->kind, GQL_FLOAT);
    ck_assert_int_eq(f->args[2].value->kind, GQL_ENUM);
    ck_assert_str_eq(f->args[3].value->text, "\xc3\xa9");
    ck_assert_int_eq(f->args[4].value->kind, GQL_NULL);
    ck_assert_uint_eq(f->ndirs, 1);
    ck_assert_int_eq(f->sels[0].kind, GQL_SPREAD);
    ck_assert_int_eq(f->sels[1].kind, GQL_INLINE);
    ck_assert_str_eq(f->sels[1].type_cond, "T");
    ck_assert_ptr_nonnull(gql_doc_frag(d, "F"));
    ck_assert_ptr_null(gql_doc_op(d, "Other"));
    gql_doc_free(d);
}
END_TEST

START_TEST(block_strings)
{
    char err[256];
    gql_doc *d =
        parse("{ f(s: \"\"\"\n    first\n      second \\\"\"\" q\n    \"\"\") }", err, sizeof(err));
    ck_assert_msg(d != NULL, "%s", err);
    ck_assert_str_eq(d->ops[0].sels[0].args[0].value->text, "first\n  second \"\"\" q");
    gql_doc_free(d);
}
END_TEST

/* Every refusal names line and column. */
START_TEST(errors_are_located)
{
    struct {
        const char *doc, *want;
    } bad[] = {
        {"", "line 1, column 1: empty document"},
        {"Query Verzoek { a }", "line 1, column 1: expected query"},
        {"query {\n  a(x: 01) }", "line 2, column 8: leading zero"},
        {"query { a(x: \"open) }", "unterminated string"},
        {"query { a(x: \"\\ud800\") }", "lone surrogate"},
        {"query { a ", "expected '}'"},
        {"query Q($a: ) { a }", "expected a type"},
        {"{ a } { b }", "anonymous operation"},
        {"type Query { a: Int }", "expected query"},
        {"query { a(x: 1.) }", "bad number"},
        {"query { a. }", "unexpected '.'"},
        {"query Q($v: Int = $w) { a }", "variable not allowed"},
        {"fragment on on T { a }", "cannot be named 'on'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[256] = "";
        gql_doc *d = parse(bad[i].doc, err, sizeof(err));
        ck_assert_msg(d == NULL, "accepted: %s", bad[i].doc);
        ck_assert_msg(strstr(err, bad[i].want) != NULL, "%s: got '%s', want '%s'", bad[i].doc, err,
                      bad[i].want);
        ck_assert_msg(strncmp(err, "line ", 5) == 0, "%s: %s", bad[i].doc, err);
    }
}
END_TEST

START_TEST(bounds)
{
    size_t n = GQL_MAX_DEPTH + 5;
    char *deep = malloc(4 * n + 8);
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(deep + o, "{a");
    for (size_t i = 0; i < n; i++)
        deep[o++] = '}';
    deep[o] = '\0';
    char err[256];
    ck_assert_ptr_null(parse(deep, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "nested deeper"));
    free(deep);
    size_t big = GQL_MAX_SIZE + 1;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = '\0';
    ck_assert_ptr_null(gql_parse(huge, big, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "larger than"));
    free(huge);
}
END_TEST

/* Every published template parses, and its normal form is stable. */
START_TEST(published_templates)
{
    const char *names[] = {"QLR-0003-ZK", "QLR-0004-ZK", "QLR-0006-ZK", "QLR-0007-ZK",
                           "QLR-0008-ZK", "QLR-0009-ZK", "QLR-0010-ZK"};
    const char *src = getenv("ZV_SOURCE_DIR");
    ck_assert_ptr_nonnull(src);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[1024];
        snprintf(path, sizeof(path),
                 "%s/plugins/fmt_leveringsregister/netwerkmodel/lvr-1.0-rc1/templates/%s.graphql", src, names[i]);
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "%s", path);
        char buf[8192];
        size_t len = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[len] = '\0';
        char *a = norm(buf);
        char *b = norm(a);
        ck_assert_str_eq(a, b);
        ck_assert_ptr_null(strchr(a, '#'));
        free(a);
        free(b);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lvr_gql");
    TCase *tc = tcase_create("gql");
    tcase_add_test(tc, layout_does_not_matter);
    tcase_add_test(tc, structure);
    tcase_add_test(tc, block_strings);
    tcase_add_test(tc, errors_are_located);
    tcase_add_test(tc, bounds);
    tcase_add_test(tc, published_templates);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
