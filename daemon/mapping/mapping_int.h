/* Compiled mapping: shared by mapping_compile.c and mapping_apply.c only. */
#ifndef ZV_MAPPING_INT_H
#define ZV_MAPPING_INT_H

#include "mapping.h"
#include "mapping_select.h"

#define ZV_MAP_MAX_CONV 8
#define ZV_MAP_MAX_FORMATS 4
#define ZV_MAP_MAX_ALTS 4

enum zv_conv {
    ZV_CONV_TRIM = 1, /* strip leading/trailing white space */
    ZV_CONV_UPPER,
    ZV_CONV_LOWER,
    ZV_CONV_DIGITS,   /* keep only 0-9 */
    ZV_CONV_COLLAPSE, /* runs of white space -> one space */
    ZV_CONV_NOSPACE,  /* drop all white space */
    ZV_CONV_EURO,     /* "12,34" / "12.34" / "1.234,56" euro -> cents */
    ZV_CONV_LETTERS,  /* keep letters only: initials "J.P." -> "JP" (iStandaarden) */
    ZV_CONV_INITIALS  /* first letter of every name part: "Johanna Maria", "J.M." -> "JM" */
};

/* One place a value may come from: a literal path (fast, through the
 * path hash) or a selector (mapping_select.h). */
typedef struct zv_src_ref {
    int path; /* index into zv_mapping.paths, -1 */
    int sel;  /* index into zv_mapping.sels, -1 */
} zv_src_ref;

typedef struct zv_map_pair {
    char *from;
    char *to;
} zv_map_pair;

typedef struct zv_field_rule {
    int field;      /* zv_field_id */
    int src;        /* index into zv_mapping.paths; -1: constant or alternatives */
    zv_src_ref alts[ZV_MAP_MAX_ALTS]; /* "from" as selectors or alternatives: first non-empty */
    int nalts;
    char *join;                          /* "join": every matching value, joined with this */
    zv_src_ref country[ZV_MAP_MAX_ALTS]; /* "country": the address's country */
    int ncountry;
    int on_error_drop; /* 1: a bad value drops the field (with a reason), unless required */
    char *constant; /* "value" */
    char *deflt;    /* "default": used when the source is absent or empty */
    unsigned char conv[ZV_MAP_MAX_CONV];
    int nconv;
    zv_map_pair *map; /* "map": code map, applied after the converters */
    size_t nmap;
    char *map_other;                   /* "map_default": for values not in the map; NULL: failure */
    char *formats[ZV_MAP_MAX_FORMATS]; /* "date_format" */
    int nformats;
    int not_future; /* dates: 1 reject future dates */
    size_t maxlit;  /* longest constant, mapped code or default */
} zv_field_rule;

typedef struct zv_record_rule {
    char *when_type; /* item type must equal this; NULL: any */
    int when_src;    /* -1: no field condition */
    char **when_in;  /* accepted values of when_src */
    size_t nwhen_in;
    int when_present; /* 1: when_src must be present and non-empty */
    zv_kind kind;
    zv_field_rule *fields;
    size_t nfields;
    unsigned char required[ZV_FIELD_COUNT];
} zv_record_rule;

struct zv_mapping {
    char *source;
    char **paths; /* distinct source paths the rules read */
    size_t *plens;
    size_t npaths, pathcap;
    uint32_t *hash; /* open addressing: path index + 1, 0 empty */
    size_t hashcap; /* power of two */
    int id_src[4];  /* record_id parts, -1 unused */
    int nid;
    zv_record_rule *rules;
    size_t nrules;
    zv_selector *sels;
    size_t nsels, selcap;
    unsigned char fills[ZV_FIELD_COUNT];
};

uint32_t zv_map_hash(const char *s, size_t len);
/* Index of path in m->paths or -1. */
int zv_map_path_find(const zv_mapping *m, const char *s, size_t len);

/* Date parsing shared with the tests: 0 and out[11] "YYYY-MM-DD" or -1. */
int zv_map_parse_date(const char *s, size_t len, const char *fmt, char out[11]);

#endif
