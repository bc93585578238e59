/*
 * Selection by meaning in source paths (mapping internals).
 *
 * A source path may carry selector groups that choose array elements by
 * their content instead of by position:
 *
 *   Patient.name[use=official].family
 *   Patient.address[use=home,type!=postal].postalCode
 *   Patient.identifier[system=urn:oid:2.16.840.1.113883.2.4.6.3].value
 *   Patient.name[use=official].given[extension[iso21090-EN-qualifier].value!=IN]
 *   Patient.name[use=official].given[*]          (every element)
 *
 * A group is a selector when it is "*" or holds '=' outside nested
 * brackets; other groups ("[bsn]", "[1]", "[humanname-own-name]") are
 * literal parts of the path.  Conditions are separated by ',' and are all
 * required; "key=value" needs the element's field <element>.<key> to equal
 * value, "key!=value" needs it absent or different; the value "*" stands
 * for any value ("family=*": present, "family!=*": absent).  Values cannot hold ','
 * or ']'.  An element in an item path is the part after the literal: nothing
 * (the first element) or one or more "[...]" groups.
 */
#ifndef ZV_MAPPING_SELECT_H
#define ZV_MAPPING_SELECT_H

#include <stddef.h>
#include <zinvol/plugin.h>
#include <zinvol/util.h>

typedef struct zv_sel_pred {
    char *key; /* relative path below the element */
    char *value;
    int neg; /* "!=" */
} zv_sel_pred;

typedef struct zv_sel_step {
    char *lit; /* literal path text before the selector group */
    size_t litlen;
    zv_sel_pred *preds; /* none for "[*]" */
    int npreds;
} zv_sel_step;

typedef struct zv_selector {
    char *text; /* as configured, for messages */
    zv_sel_step *steps;
    int nsteps;
    char *tail; /* literal rest after the last group */
    size_t taillen;
} zv_selector;

/* 1: text has selector groups and *out is compiled; 0: a plain path;
 * -1: malformed, with the reason in err. */
int zv_sel_compile(const char *text, zv_selector *out, char *err, size_t errlen);
/* A selector that matches exactly one literal path (every occurrence). */
int zv_sel_literal(const char *text, zv_selector *out);
void zv_sel_free(zv_selector *s);

/* Per item: an exact-path index so conditions are looked up, not scanned. */
typedef struct zv_sel_item {
    const zv_item *item;
    uint32_t *tab; /* field index + 1, 0 empty */
    size_t cap;
} zv_sel_item;

int zv_sel_item_init(zv_sel_item *ix, const zv_item *item);
void zv_sel_item_free(zv_sel_item *ix);

/* The values of item fields s matches, in item order: the first one only
 * (join NULL) or all joined with join.  Appended to out.  Returns how many
 * values were used.  mark (nfields bytes, may be NULL) gets 1 for every
 * field the evaluation read, conditions included. */
int zv_sel_eval(const zv_selector *s, const zv_sel_item *ix, const char *join, zv_buf *out,
                unsigned char *mark);

#endif
