/* Internals of the option engine (optmap.c, optmap_value.c, optmap_describe.c). */
#ifndef ZV_OPTMAP_INT_H
#define ZV_OPTMAP_INT_H

#include <zinvol/optmap.h>

/* Fill v (of v->opt) from a JSON value or a default's text; 0, or -1 with
 * msg saying why (owner, e.g. "plugin 'http'", words a wrong JSON type). */
int zv_optval_from_json(zv_optval *v, const zv_json *j, const char *base_dir, const char *owner,
                        char *msg, size_t msglen);
int zv_optval_from_text(zv_optval *v, const char *text, const char *base_dir, char *msg,
                        size_t msglen);
/* v against the option's min / max; 0, or -1 with msg. */
int zv_optval_check_range(const zv_optval *v, char *msg, size_t msglen);
/* Write v at v->opt.offset into conf. */
void zv_optval_store(const zv_optval *v, void *conf);
/* Bytes the option's member takes in a config struct. */
size_t zv_opt_slot_size(zv_opt_type t);
/* "500ms", "30s", "5m", "7d"; "8MiB", "1000 bytes". */
void zv_opt_fmt_duration(int64_t ms, char *out, size_t len);
void zv_opt_fmt_size(int64_t bytes, char *out, size_t len);
/* The range of a whole-number option after defaults: [min, max]. */
void zv_opt_int_range(const zv_option *o, int64_t *min, int64_t *max);

#endif
