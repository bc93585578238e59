/* webhook source: internals shared between its files. */
#ifndef ZV_IN_WEBHOOK_H
#define ZV_IN_WEBHOOK_H

#include <stddef.h>

/* 1 when header carries the HMAC-SHA512 of body under secret (hex, with
 * or without "sha512=", or base64); compared in constant time. */
int wh_signature_ok(const char *secret, const void *body, size_t len, const char *header);
/* The same with the key's HMAC state made once (the source's, for every
 * request): wh_mac_new NULL when OpenSSL cannot make it. */
typedef struct wh_mac wh_mac;
wh_mac *wh_mac_new(const char *secret);
int wh_mac_ok(const wh_mac *m, const void *body, size_t len, const char *header);
void wh_mac_free(wh_mac *m);

#endif
