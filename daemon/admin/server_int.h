/* Internals shared by server.c and console.c. */
#ifndef ZV_ADMIN_SERVER_INT_H
#define ZV_ADMIN_SERVER_INT_H

#include "admin.h"

typedef struct zv_console_req {
    const zv_admin_env *env;
    const char *method, *path, *query;
    const char *body; /* form body (POST), NUL-terminated */
    const char *who;
    const char *csrf; /* the token forms must carry */
    int csrf_ok;      /* the request's form token (and Origin) matched */
} zv_console_req;

/* Answer a console page or form; returns the HTTP status.  A redirect sets
 * location (303).  The body is HTML. */
int zv_console_handle(const zv_console_req *r, zv_buf *out, char *location, size_t loclen);
/* The stylesheet, served as /console.css. */
extern const char zv_console_css[];
/* HTML-escape s into b. */
/* HTML text or attribute value (zv_html_esc, include/zinvol/util.h). */
static inline void zv_console_esc(zv_buf *b, const char *s)
{
    zv_html_esc(b, s);
}

#endif
