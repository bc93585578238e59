/* webhook source: internals shared between its files. */
#ifndef ZV_IN_WEBHOOK_H
#define ZV_IN_WEBHOOK_H

#include <stddef.h>

/* 1 when header carries the HMAC-SHA512 of body under secret (hex, with
 * or without "sha512=", or base64); compared in constant time. */
int wh_signature_ok(const char *secret, const void *body, size_t len, const char *header);

#endif
