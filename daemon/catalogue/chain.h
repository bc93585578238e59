/*
 * The legal chain behind a catalogue's levels, as data.
 *
 * A field is legally required when an instrument lists it directly (an entry
 * at level law, with its own `chain` of instruments), or when the message
 * standard that demands it is itself prescribed by regulation for this
 * destination (the catalogue's `prescribed`, which may hold only for some
 * format options, e.g. iJw for the effort- and output-based variants).
 * Every link says whether it was verified against the instrument's text:
 * "verified", "partly" (read in part, or through its explanatory notes) or
 * "unverified"; the report shows every link that is not verified as such.
 */
#ifndef ZV_CATALOGUE_CHAIN_H
#define ZV_CATALOGUE_CHAIN_H

#include <stddef.h>
#include <zinvol/json.h>
#include "../core/errors.h"

typedef enum zv_verified { ZV_VERIFIED = 0, ZV_PARTLY, ZV_UNVERIFIED } zv_verified;

typedef struct zv_link {
    char *instrument; /* "Regeling Jeugdwet art. 7 + bijlage 2" */
    zv_verified verified;
    char *source; /* where it was checked; may be NULL */
} zv_link;

typedef struct zv_chain {
    zv_link *links;
    size_t n;
} zv_chain;

typedef struct zv_prescribed {
    int present;     /* the catalogue has a "prescribed" member */
    zv_chain by;     /* empty: the standard is used by agreement, not prescribed */
    char *option;    /* prescribed only when this format option ... */
    char **values;   /* ... has one of these values (NULL option: always) */
    size_t nvalues;
    char *fallback;  /* the option's value when a destination does not set it */
    char *note;      /* why (not) prescribed; may be NULL */
} zv_prescribed;

const char *zv_verified_name(zv_verified v);
/* Parse [{"instrument", "verified", "source"}]; errors as file: path: reason. */
int zv_chain_parse(const zv_json *v, const char *file, const char *path, zv_chain *out,
                   zv_errors *errs);
void zv_chain_clear(zv_chain *c);
int zv_chain_copy(const zv_chain *from, zv_chain *to);
int zv_prescribed_parse(const zv_json *v, const char *file, zv_prescribed *out, zv_errors *errs);
void zv_prescribed_clear(zv_prescribed *p);
/* Does the prescription hold for a destination with these format options? */
int zv_prescribed_applies(const zv_prescribed *p, const zv_json *format_options);

#endif
