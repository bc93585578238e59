/*
 * Pseudonymous client keys for the audit trail.
 *
 * The trail must answer "what was sent about this client" long after the
 * payloads are pruned, without holding a BSN.  Each entry therefore carries
 * HMAC-SHA256(secret, BSN) cut to 128 bits: the same BSN gives the same key
 * within one installation, and nobody without the installation's secret can
 * test a BSN against the trail.  The secret is 32 random bytes in
 * <state_dir>/client-key.secret (0600), made on the daemon's first start;
 * it belongs in every backup of the state directory, since without it the
 * trail can no longer be searched by client.
 */
#ifndef ZV_CLIENT_KEY_H
#define ZV_CLIENT_KEY_H

#include <stddef.h>

#define ZV_CLIENT_SECRET_LEN 32
#define ZV_CLIENT_KEY_HEX 33 /* 32 hex digits and NUL */
#define ZV_CLIENT_SECRET_FILE "client-key.secret"

/* Read the installation's secret; with create, make it (0600, O_EXCL) when
 * absent.  0 ok, 1 absent (create == 0), -1 error with why in err. */
int zv_client_secret_load(const char *state_dir, int create, unsigned char *secret, char *err,
                          size_t errlen);

/* The key of a BSN as written anywhere (spaces, dots, an 8-digit form):
 * digits only, left-padded to nine.  0, or -1 when bsn holds no BSN. */
int zv_client_key(const unsigned char *secret, const char *bsn, size_t len,
                  char out[ZV_CLIENT_KEY_HEX]);

/* A pseudonymous reference to one source record (source, NUL, record id),
 * 64 bits as 16 hex digits: lets the analysis tell "the same delivery went
 * to two parties" from "two deliveries of one client" without an ECD id in
 * the trail. */
#define ZV_RECORD_REF_HEX 17
void zv_record_ref(const unsigned char *secret, const char *source, const char *record_id,
                   char out[ZV_RECORD_REF_HEX]);

/* The same keys and references under one secret, many at a time (a
 * payload's records): HMAC-SHA256 with the secret's two padded key blocks
 * absorbed once (RFC 2104), so each key costs two compressions of its own
 * and no per-call MAC set-up.  Byte for byte what zv_client_key and
 * zv_record_ref give.  Owner: the caller (zv_client_keyer_free cleanses
 * it); one thread at a time.  NULL when out of memory. */
typedef struct zv_client_keyer zv_client_keyer;
zv_client_keyer *zv_client_keyer_new(const unsigned char *secret);
void zv_client_keyer_free(zv_client_keyer *k);
int zv_keyer_client_key(zv_client_keyer *k, const char *bsn, size_t len,
                        char out[ZV_CLIENT_KEY_HEX]);
void zv_keyer_record_ref(zv_client_keyer *k, const char *source, const char *record_id,
                         char out[ZV_RECORD_REF_HEX]);

#endif
