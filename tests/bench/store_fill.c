/* store_fill DB DESTINATION N [BAD_EVERY [PREFIX]]: put N payloads straight
 * into a store's outbox (1000 per transaction), as a backlog for the crash,
 * ctl and PostgreSQL tests; DB is an SQLite file or a postgresql:// URL.  Every BAD_EVERY-th
 * payload carries the text BAD, which the test receiver rejects.  Prints the number enqueued. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_iface.h"

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: store_fill DB DESTINATION N [BAD_EVERY [PREFIX]]\n");
        return 2;
    }
    const char *dest = argv[2];
    long n = atol(argv[3]), bad_every = argc > 4 ? atol(argv[4]) : 0;
    const char *prefix = argc > 5 ? argv[5] : "P";
    char err[512];
    zv_store_target t;
    if (zv_store_target_parse(argv[1], NULL, NULL, &t, err, sizeof(err)) < 0) {
        fprintf(stderr, "store_fill: %s\n", err);
        return 1;
    }
    zv_sb *s = zv_sb_open(&t, NULL, err, sizeof(err));
    zv_store_target_free(&t);
    if (!s) {
        fprintf(stderr, "store_fill: %s\n", err);
        return 1;
    }
    long added = 0;
    for (long i = 0; i < n; i++) {
        if (i % 1000 == 0 && zv_sb_begin(s) < 0) break;
        char key[64], body[600], recs[200];
        snprintf(key, sizeof(key), "%s-%06ld", prefix, i);
        int bad = bad_every > 0 && i % bad_every == 0;
        snprintf(body, sizeof(body),
                 "{\"message\":\"%s\",\"n\":%ld,\"state\":\"%s\",\"pad\":\"%0400d\"}", key, i,
                 bad ? "BAD" : "ok", 0);
        snprintf(recs, sizeof(recs),
                 "[{\"source\":\"fill\",\"record_id\":\"r%ld\",\"key\":\"%s/1\"}]", i, key);
        zv_outbox_new o = {.destination = dest,
                           .message = "JSON",
                           .idem_key = key,
                           .payload = body,
                           .len = strlen(body),
                           .content_type = "application/json",
                           .extension = "json",
                           .fields_json = "[{\"field\":\"client.birth_date\",\"level\":\"law\"}]",
                           .records_json = recs};
        int r = zv_sb_enqueue(s, &o);
        if (r < 0) break;
        added += r == 0;
        if ((i % 1000 == 999 || i == n - 1) && zv_sb_commit(s) < 0) break;
    }
    int rc = 0;
    if (added != n) {
        fprintf(stderr, "store_fill: %s\n", zv_sb_errmsg(s));
        rc = 1;
    }
    printf("%ld\n", added);
    zv_sb_close(s);
    return rc;
}
