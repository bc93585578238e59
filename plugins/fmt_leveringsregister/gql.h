/*
 * A small GraphQL executable-document parser (GraphQL spec, October 2021,
 * sections 2.1-2.12), enough for the netwerkmodel's query templates and for
 * refusing everything else with a located error: operations (query,
 * mutation, subscription, the shorthand { ... }), variable definitions with
 * types and defaults, selections (fields with aliases, arguments and
 * directives, fragment spreads, inline fragments), fragment definitions and
 * every value kind (variables, numbers, strings and block strings, booleans,
 * null, enums, lists, input objects).  Type-system definitions (schema,
 * type, ...) are refused: a register only executes.
 *
 * No C GraphQL library is packaged in Debian; this one is ours and fuzzed
 * (tests/fuzz/fuzz_gql.c).  Bounds: the document's size, nesting depth and
 * node count are limited (GQL_MAX_*), so a hostile query costs at most a
 * little memory and time.
 *
 * Ownership: a gql_doc owns every node and string below it (one arena);
 * gql_doc_free releases all of it.
 */
#ifndef ZV_GQL_H
#define ZV_GQL_H

#include <stddef.h>

#define GQL_MAX_SIZE (256u * 1024u)
#define GQL_MAX_DEPTH 32
#define GQL_MAX_NODES 20000

typedef enum gql_vkind {
    GQL_VAR = 1,
    GQL_INT,
    GQL_FLOAT,
    GQL_STRING,
    GQL_BOOL,
    GQL_NULL,
    GQL_ENUM,
    GQL_LIST,
    GQL_OBJECT
} gql_vkind;

typedef struct gql_value gql_value;
struct gql_value {
    gql_vkind kind;
    char *text;        /* variable or enum name, literal text, decoded string, "true"/"false" */
    char **keys;       /* GQL_OBJECT: field names, n of them */
    gql_value **items; /* GQL_LIST items / GQL_OBJECT values, n of them */
    size_t n;
};

typedef struct gql_arg {
    char *name;
    gql_value *value;
} gql_arg;

typedef struct gql_directive {
    char *name;
    gql_arg *args;
    size_t nargs;
} gql_directive;

typedef enum gql_skind { GQL_FIELD = 1, GQL_SPREAD, GQL_INLINE } gql_skind;

typedef struct gql_sel gql_sel;
struct gql_sel {
    gql_skind kind;
    char *alias;     /* GQL_FIELD, may be NULL */
    char *name;      /* field name, or spread fragment name */
    char *type_cond; /* GQL_INLINE, may be NULL */
    gql_arg *args;
    size_t nargs;
    gql_directive *dirs;
    size_t ndirs;
    gql_sel *sels; /* sub-selection, nsels of them (0: leaf) */
    size_t nsels;
    int line, col;
};

typedef struct gql_vardef {
    char *name;
    char *type; /* as written, canonical: "UUID!", "[String!]" */
    gql_value *def;
} gql_vardef;

typedef struct gql_op {
    char *kind; /* "query", "mutation", "subscription" */
    char *name; /* may be NULL */
    gql_vardef *vars;
    size_t nvars;
    gql_directive *dirs;
    size_t ndirs;
    gql_sel *sels;
    size_t nsels;
} gql_op;

typedef struct gql_frag {
    char *name;
    char *type_cond;
    gql_directive *dirs;
    size_t ndirs;
    gql_sel *sels;
    size_t nsels;
} gql_frag;

typedef struct gql_doc {
    gql_op *ops;
    size_t nops;
    gql_frag *frags;
    size_t nfrags;
    void *arena; /* private */
} gql_doc;

/* Parse text[0..len).  NULL on failure with "line L, column C: why" in err. */
gql_doc *gql_parse(const char *text, size_t len, char *err, size_t errlen);
void gql_doc_free(gql_doc *d);

/* The operation to run: the one named name, or the only one when name is
 * NULL/empty.  NULL when absent or ambiguous. */
const gql_op *gql_doc_op(const gql_doc *d, const char *name);
const gql_frag *gql_doc_frag(const gql_doc *d, const char *name);

/* Canonical text of the whole document: comments, commas and insignificant
 * white space removed, one space only where two names would touch, strings
 * re-escaped; two documents that differ only in layout normalise to the
 * same text.  malloc'd, caller frees; NULL without memory. */
char *gql_normalise(const gql_doc *d);

#endif
