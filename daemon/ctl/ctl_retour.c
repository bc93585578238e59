/* zinvolctl retour DESTINATION FILE: a retour message that came back as a
 * file is read by the destination's format; rejected records go to the dead
 * letter with their codes, accepted ones are marked accepted. */
#include "ctl.h"

#include <event2/event.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/runtime.h"
#include "core/runtime_int.h"
#include "delivery/delivery.h"
#include "store/store_admin.h"

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 65536 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Applying a retour changes the outbox and the dead letter: the trail says
 * who did it, as the admin API does for its state changes. */
static void audit_applied(zv_ctl *c, const char *dest, const char *file, size_t applied,
                          int unmatched)
{
    struct passwd *pw = getpwuid(getuid());
    const char *base = strrchr(file, '/');
    char detail[700];
    snprintf(detail, sizeof(detail),
             "retour file %.300s applied (%zu verdicts%s) by uid %u (%s) with zinvolctl",
             base ? base + 1 : file, applied, unmatched ? "; some records matched no payload" : "",
             (unsigned)getuid(), pw ? pw->pw_name : "?");
    if (zv_store_audit_note(c->store, zv_now(), dest, NULL, NULL, detail) < 0)
        fprintf(stderr, "zinvolctl: audit trail: %s\n", zv_store_errmsg(c->store));
}

int zv_ctl_retour(zv_ctl *c, int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: zinvolctl retour DESTINATION FILE\n");
        return 2;
    }
    const char *dest = argv[0], *file = argv[1];
    size_t len = 0;
    char *body = read_file(file, &len);
    if (!body) {
        perror(file);
        return 1;
    }
    if (zv_ctl_need_store(c) < 0) {
        free(body);
        return 1;
    }
    /* The format plugin with its options comes from the runtime, built
     * (and validated) but not started. */
    zv_config *cfg = c->cfg;
    c->cfg = NULL;
    struct event_base *base = event_base_new();
    zv_errors errs;
    zv_errors_init(&errs);
    zv_runtime *rt = base ? zv_runtime_build(cfg, base, ZV_RT_CHECK, &errs) : NULL;
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.lines[i]);
    zv_errors_free(&errs);
    int rc = 1;
    if (rt) {
        zv_dest_rt *d = NULL;
        for (size_t i = 0; i < rt->ndests; i++)
            if (strcmp(rt->dests[i].conf->name, dest) == 0) d = &rt->dests[i];
        if (!d) {
            fprintf(stderr, "zinvolctl: no destination '%s' in the config\n", dest);
            rc = 2;
        } else {
            char err[512];
            size_t applied = 0;
            int r = zv_delivery_retour_ex(c->store, dest, &d->fmt, body, len, stdout, err,
                                          sizeof(err), &applied);
            if (r < 0) fprintf(stderr, "zinvolctl: %s: %s\n", file, err);
            if (r == 1)
                fprintf(stderr, "zinvolctl: %s: some records matched no payload; keep the file\n",
                        file);
            rc = r == 0 ? 0 : 1;
            if (r >= 0 && applied) audit_applied(c, dest, file, applied, r);
        }
    }
    zv_runtime_free(rt);
    if (base) event_base_free(base);
    free(body);
    return rc;
}
