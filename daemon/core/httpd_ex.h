/* An incoming request handed to a plugin's route (httpd.c, httpd_tls.c). */
#ifndef ZV_HTTPD_EX_H
#define ZV_HTTPD_EX_H

#include <event2/http.h>
#include <stddef.h>
#include <zinvol/plugin.h>

struct zv_http_exchange {
    struct evhttp_request *req;
    char *body; /* NUL-terminated copy of the request body */
    size_t body_len;
    char *peer; /* verified client certificate subject (TLS listeners), else NULL */
};

void zv_httpd_ex_reply(zv_http_exchange *ex, int status, const char *ctype, const void *body,
                       size_t len);

#endif
