/*
 * What the netwerkmodel plugins share (fmt_leveringsregister,
 * in_bemiddelingsregister, out_netwerkmodel): the PEP's claims header
 * (RFC0014 4.2), scope checks, the GraphQL error body (RFC0040), finding a
 * bundled release folder and reading its files, UUIDs and B3 trace ids.
 * A static library linked into each plugin.
 */
#ifndef ZV_NMC_H
#define ZV_NMC_H

#include <stddef.h>
#include <zinvol/json.h>

/* The claims header as JSON: the header as it is ("{...}"), or the JWT
 * payload in base64url (padding optional).  NULL when absent or unreadable.
 * The caller frees with zv_json_free. */
zv_json_doc *zv_nm_claims(const char *header);

/* Whether the claims carry scope: in the "scopes" array or the
 * space-separated "scope" string. */
int zv_nm_has_scope(const zv_json *claims, const char *scope);

/* {"errors": [{"message": msg}]}: malloc'd, its length in *len; NULL when
 * out of memory.  The caller frees. */
char *zv_nm_error_body(const char *msg, size_t *len);

/* The folder of bundled release `name`: next to the plugin (the build
 * tree's plugins/netwerkmodel), under share/ relative to the installed
 * plugin, or the configured share folder.  0, or -1 with err set. */
int zv_nm_find_release(const char *name, char *dir, size_t len, char *err, size_t errlen);

/* The release folder an instance's options name: release_dir as given, or
 * the bundled release of option `release`.  0, or -1 with err set. */
struct zv_host;
struct zv_ctx;
int zv_nm_release_dir(const struct zv_host *host, struct zv_ctx *ctx, char *dir, size_t len,
                      char *err, size_t errlen);

/* A release file's text, at most max bytes: malloc'd, NUL-terminated, its
 * length in *len (may be NULL); NULL when it cannot be read. */
char *zv_nm_slurp(const char *path, size_t max, size_t *len);

/* A UUID in the 8-4-4-4-12 hex form (either case). */
int zv_nm_is_uuid(const char *s);

/* A fresh B3 trace id (32 hex) and span id (16 hex), RFC0022a. */
void zv_nm_b3(char trace[33], char span[17]);

/* nbytes (at most 16) random bytes as lower-case hex into out (2 * nbytes
 * + 1 chars): B3 trace and span ids. */
void zv_nm_random_hex(char *out, size_t nbytes);

#endif
