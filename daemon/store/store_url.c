/*
 * The `store` setting: an SQLite file or a PostgreSQL URL.  The URL is
 * checked here, at configuration time, so a typo is a config error naming
 * the key and not a failure at the first connection; libpq itself parses it
 * (PQconninfoParse), so every form libpq accepts is accepted.
 */
#include "store_iface.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef ZV_HAVE_POSTGRESQL
#include <libpq-fe.h>
#endif

int zv_store_is_url(const char *store)
{
    return store &&
           (strncmp(store, "postgresql://", 13) == 0 || strncmp(store, "postgres://", 11) == 0);
}

/* "user:secret@host": the userinfo before the host holds a password. */
static int url_has_password(const char *url)
{
    const char *p = strstr(url, "://") + 3;
    size_t auth = strcspn(p, "/?");
    const char *at = NULL;
    for (const char *q = p; q < p + auth; q++)
        if (*q == '@') at = q;
    return at && memchr(p, ':', (size_t)(at - p)) != NULL;
}

static int check_url(const char *url, char *err, size_t errlen)
{
    if (url_has_password(url)) {
        snprintf(err, errlen,
                 "the URL holds a password: give it in store_password_file or PGPASSWORD, never in "
                 "the configuration");
        return -1;
    }
#ifdef ZV_HAVE_POSTGRESQL
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    if (!opts) {
        size_t n = perr ? strcspn(perr, "\n") : 0;
        snprintf(err, errlen, "not a PostgreSQL URL libpq understands: %.*s", (int)n,
                 perr ? perr : "out of memory");
        PQfreemem(perr);
        return -1;
    }
    int pw = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val && *o->val) pw = 1;
    PQconninfoFree(opts);
    if (pw) {
        snprintf(err, errlen,
                 "the URL holds a password (password=): give it in store_password_file or "
                 "PGPASSWORD, never in the configuration");
        return -1;
    }
    return 0;
#else
    snprintf(err, errlen, "this zinvol is built without the PostgreSQL store (libpq-dev)");
    return -1;
#endif
}

int zv_store_target_parse(const char *store, const char *state_dir, const char *password_file,
                          zv_store_target *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    if (!store || !*store) store = "zinvol.db";
    if (zv_store_is_url(store)) {
        if (check_url(store, err, errlen) < 0) return -1;
        t->kind = ZV_STORE_POSTGRESQL;
        t->url = strdup(store);
        t->password_file = password_file ? strdup(password_file) : NULL;
        if (!t->url || (password_file && !t->password_file)) goto oom;
        return 0;
    }
    if (strstr(store, "://")) {
        snprintf(err, errlen, "an SQLite file name or a postgresql:// URL (got %.40s)", store);
        return -1;
    }
    if (password_file) {
        snprintf(err, errlen,
                 "store_password_file is for a postgresql:// store; this one is the "
                 "SQLite file %s",
                 store);
        return -1;
    }
    t->kind = ZV_STORE_SQLITE;
    if (store[0] == '/' || !state_dir) {
        t->path = strdup(store);
    } else {
        size_t len = strlen(state_dir) + strlen(store) + 2;
        t->path = malloc(len);
        if (t->path) snprintf(t->path, len, "%s/%s", state_dir, store);
    }
    if (!t->path) goto oom;
    return 0;
oom:
    zv_store_target_free(t);
    snprintf(err, errlen, "out of memory");
    return -1;
}

void zv_store_target_free(zv_store_target *t)
{
    free(t->path);
    free(t->url);
    free(t->password_file);
    memset(t, 0, sizeof(*t));
}
