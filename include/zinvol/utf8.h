/*
 * Strict UTF-8 (RFC 3629) for every entrance of outside text: file drops,
 * webhooks, FHIR.  Refuses what yajl and libxml2 disagree on: surrogates
 * (ED A0..BF), overlong forms (C0, C1, E0 80..9F, F0 80..8F), code points
 * above U+10FFFF (F4 90.., F5..FF), stray continuation bytes and sequences
 * cut short.  U+0000 is valid UTF-8; whether a value may hold it is the
 * caller's decision (values carry their length, see zv_item_field).
 */
#ifndef ZINVOL_UTF8_H
#define ZINVOL_UTF8_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum zv_utf8_err {
    ZV_UTF8_OK = 0,
    ZV_UTF8_BAD_BYTE,  /* C0, C1, F5..FF or a continuation byte where a lead is due */
    ZV_UTF8_TRUNCATED, /* a lead byte without all its continuation bytes */
    ZV_UTF8_OVERLONG,  /* a shorter form exists */
    ZV_UTF8_SURROGATE, /* U+D800..U+DFFF */
    ZV_UTF8_TOO_BIG,   /* above U+10FFFF */
} zv_utf8_err;

/* Checks s[0..len).  ZV_UTF8_OK, or the first problem with *bad (may be
 * NULL) set to the byte offset where the offending sequence starts. */
zv_utf8_err zv_utf8_check(const char *s, size_t len, size_t *bad);
/* 1 when s[0..len) is strict UTF-8, else 0 with *bad as above. */
int zv_utf8_valid(const char *s, size_t len, size_t *bad);
/* A short English phrase for a problem ("surrogate code point"). */
const char *zv_utf8_strerror(zv_utf8_err e);
/* The longest prefix of valid UTF-8 s[0..len) that is at most max bytes
 * and does not end inside a character: where to cut a value for display
 * or a bounded copy. */
size_t zv_utf8_cut(const char *s, size_t len, size_t max);

#ifdef __cplusplus
}
#endif
#endif
