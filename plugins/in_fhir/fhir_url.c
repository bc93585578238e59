/* fhir source: origins of URLs, compared as parsed parts. */
#include "fhir.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

size_t fh_origin_len(const char *url)
{
    const char *se = strstr(url, "://");
    if (!se) return 0;
    const char *end = se + 3 + strcspn(se + 3, "/?#");
    return (size_t)(end - url);
}

typedef struct origin {
    char scheme[16];
    char host[256];
    int port;
} origin;

static int parse_origin(const char *url, origin *o)
{
    const char *se = strstr(url, "://");
    size_t sl = se ? (size_t)(se - url) : 0;
    if (!se || sl == 0 || sl >= sizeof(o->scheme)) return -1;
    for (size_t i = 0; i < sl; i++)
        o->scheme[i] = (char)tolower((unsigned char)url[i]);
    o->scheme[sl] = '\0';
    const char *a = se + 3, *end = a + strcspn(a, "/?#");
    const char *at = memchr(a, '@', (size_t)(end - a));
    if (at) a = at + 1; /* user info is not part of the origin */
    const char *hend, *colon;
    if (*a == '[') { /* IPv6 literal */
        hend = memchr(a, ']', (size_t)(end - a));
        if (!hend) return -1;
        hend++;
        colon = hend < end && *hend == ':' ? hend : NULL;
    } else {
        colon = memchr(a, ':', (size_t)(end - a));
        hend = colon ? colon : end;
    }
    size_t hl = (size_t)(hend - a);
    if (hl == 0 || hl >= sizeof(o->host)) return -1;
    for (size_t i = 0; i < hl; i++)
        o->host[i] = (char)tolower((unsigned char)a[i]);
    o->host[hl] = '\0';
    if (hl > 1 && o->host[hl - 1] == '.') o->host[hl - 1] = '\0'; /* "host." */
    if (!strcmp(o->host, "localhost") || !strcmp(o->host, "[::1]") || !strcmp(o->host, "127.0.0.1"))
        strcpy(o->host, "loopback");
    o->port = !strcmp(o->scheme, "https") ? 443 : !strcmp(o->scheme, "http") ? 80 : -1;
    if (colon && colon + 1 < end) {
        int p = 0;
        for (const char *c = colon + 1; c < end; c++) {
            if (*c < '0' || *c > '9' || p > 65535) return -1;
            p = p * 10 + (*c - '0');
        }
        o->port = p;
    }
    return 0;
}

int fh_same_origin(const char *a, const char *b)
{
    origin x, y;
    if (parse_origin(a, &x) < 0 || parse_origin(b, &y) < 0) return 0;
    return !strcmp(x.scheme, y.scheme) && !strcmp(x.host, y.host) && x.port == y.port;
}

int fh_next_url(const char *base, const char *next, char *out, size_t outlen)
{
    size_t bo = fh_origin_len(base), no = fh_origin_len(next);
    if (!bo) return -1;
    int rc = 0;
    if (!no) {
        /* A relative next link: resolved against the base's origin. */
        if (next[0] != '/') return -1;
    } else if (!fh_same_origin(base, next)) {
        /* Another origin: only a path below base_url's own is taken. */
        const char *bp = base + bo, *np = next + no;
        size_t bpl = strlen(bp);
        if (strncmp(np, bp, bpl) != 0 || (np[bpl] != '/' && np[bpl] != '?' && np[bpl])) return -1;
        rc = 1;
    }
    int n = snprintf(out, outlen, "%.*s%s", (int)bo, base, next + no);
    return n < 0 || (size_t)n >= outlen ? -1 : rc;
}
