/*
 * store_bench: durable enqueue throughput at batch sizes 1, 100 and 1000,
 * next to a raw SQLite insert of the same rows in the same run, and delivery
 * throughput to a loopback HTTP receiver (libevent evhttp, in this process)
 * and to a filedrop directory.  Prints figures; asserts nothing about speed.
 *
 * usage: store_bench [WORKDIR]   (ZV_PLUGIN_DIR must point at the plugins)
 */
#define TH_NO_CHECK
#include "delivery_fixture.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <sqlite3.h>
#include <time.h>

static char payload[4096];
static size_t plen = 1024;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void raw_sqlite(const char *dir, int batch, int n, const char *sync)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/raw-%d-%s.db", dir, batch, sync);
    unlink(path);
    sqlite3 *db;
    sqlite3_open(path, &db);
    char pragma[128];
    snprintf(pragma, sizeof(pragma), "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;", sync);
    sqlite3_exec(db, pragma, NULL, NULL, NULL);
    sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT UNIQUE, p BLOB)", NULL, NULL,
                 NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO t(k, p) VALUES(?, ?)", -1, &st, NULL);
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        if (i % batch == 0) sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        char key[32];
        snprintf(key, sizeof(key), "K%08d", i);
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 2, payload, plen, SQLITE_STATIC);
        sqlite3_step(st);
        if (i % batch == batch - 1 || i == n - 1) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    double dt = now_s() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    printf("  raw sqlite insert      batch %4d  sync=%-6s %7d rows  %9.0f rows/s\n", batch, sync, n,
           n / dt);
}

static void store_enqueue(const char *dir, int batch, int n)
{
    char path[512], err[256];
    snprintf(path, sizeof(path), "%s/store-%d.db", dir, batch);
    unlink(path);
    zv_store *s = zv_store_open(path, err, sizeof(err));
    if (!s) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        if (i % batch == 0) zv_store_begin(s);
        char key[32];
        snprintf(key, sizeof(key), "K%08d", i);
        zv_outbox_new o = {.destination = "zk-5501",
                           .message = "AW35",
                           .idem_key = key,
                           .payload = payload,
                           .len = plen,
                           .content_type = "text/xml",
                           .extension = "xml",
                           .fields_json = "[{\"field\":\"client.bsn\",\"level\":\"standard\"}]",
                           .records_json =
                               "[{\"source\":\"ons\",\"record_id\":\"r\",\"key\":\"k\"}]"};
        if (zv_store_enqueue(s, &o) != 0) {
            fprintf(stderr, "enqueue: %s\n", zv_store_errmsg(s));
            exit(1);
        }
        if (i % batch == batch - 1 || i == n - 1) zv_store_commit(s);
    }
    double dt = now_s() - t0;
    printf("  zinvol durable enqueue batch %4d  sync=FULL   %7d rows  %9.0f payloads/s\n", batch, n,
           n / dt);
    zv_store_close(s);
}

static void on_req(struct evhttp_request *req, void *arg)
{
    int *count = arg;
    (*count)++;
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, "{\"ok\":true}", 11);
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

struct until {
    zv_delivery_engine *e;
    int64_t n;
};

/* From the engine's counters: a count(*) per loop turn would cost more
 * than the delivery being measured. */
static int delivered(void *arg)
{
    struct until *u = arg;
    zv_delivery_metrics m;
    zv_delivery_metrics_get(u->e, "zk", &m);
    return m.delivered >= u->n && m.inflight == 0;
}

static void delivery(const char *dir, const char *kind, int n, int concurrency)
{
    char path[512], err[256], opts[512];
    snprintf(path, sizeof(path), "%s/deliver-%s.db", dir, kind);
    unlink(path);
    zv_store *s = zv_store_open(path, err, sizeof(err));
    zv_store_begin(s);
    for (int i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof(key), "D%08d", i);
        zv_outbox_new o = {.destination = "zk",
                           .message = "AW35",
                           .idem_key = key,
                           .payload = payload,
                           .len = plen,
                           .content_type = "text/xml",
                           .extension = "xml",
                           .fields_json = "[{\"field\":\"client.bsn\",\"level\":\"standard\"}]"};
        zv_store_enqueue(s, &o);
    }
    zv_store_commit(s);
    int count = 0;
    struct evhttp *http = NULL;
    zv_instance tr;
    if (strcmp(kind, "http") == 0) {
        http = evhttp_new(th_base);
        struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
        evutil_socket_t fd = evhttp_bound_socket_get_fd(bs);
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);
        getsockname(fd, (struct sockaddr *)&sa, &sl);
        evhttp_set_gencb(http, on_req, &count);
        snprintf(opts, sizeof(opts), "{\"url\": \"http://127.0.0.1:%d/in\"}", ntohs(sa.sin_port));
        if (th_instance(&tr, "out_http", ZV_PLUGIN_TRANSPORT, opts, err, sizeof(err)) < 0) {
            fprintf(stderr, "%s\n", err);
            exit(1);
        }
    } else {
        char out[300];
        snprintf(out, sizeof(out), "%.280s/drop", dir);
        mkdir(out, 0700);
        snprintf(opts, sizeof(opts), "{\"dir\": \"%s\"}", out);
        if (th_instance(&tr, "out_filedrop", ZV_PLUGIN_TRANSPORT, opts, err, sizeof(err)) < 0) {
            fprintf(stderr, "%s\n", err);
            exit(1);
        }
    }
    zv_delivery_engine *e = zv_delivery_new(th_base, s, th_http, 0);
    zv_policy p = {.max_age_s = 3600,
                   .concurrency = concurrency,
                   .timeout_ms = 30000,
                   .backoff_initial_ms = 1000,
                   .backoff_max_ms = 60000,
                   .circuit_failures = 5,
                   .circuit_cooldown_s = 60};
    zv_delivery_add(e, "zk", &p, &tr, NULL);
    double t0 = now_s();
    zv_delivery_start(e);
    struct until u = {e, n};
    th_run_until(delivered, &u, 600);
    double dt = now_s() - t0;
    int64_t got = zv_store_outbox_count(s, "zk", "delivered");
    printf("  delivery via %-8s  concurrency %2d  %7lld payloads  %9.0f payloads/s "
           "(each recorded + audited)\n",
           kind, concurrency, (long long)got, got / dt);
    zv_delivery_free(e);
    th_instance_free(&tr);
    if (http) evhttp_free(http);
    zv_store_close(s);
}

int main(int argc, char **argv)
{
    char dir[256];
    if (argc > 1)
        snprintf(dir, sizeof(dir), "%s", argv[1]);
    else {
        snprintf(dir, sizeof(dir), "/tmp/zv-store-bench-XXXXXX");
        if (!mkdtemp(dir)) return 1;
    }
    memset(payload, 'x', plen);
    FILE *la = fopen("/proc/loadavg", "r");
    char load[64] = "?";
    if (la) {
        if (!fgets(load, sizeof(load), la)) load[0] = '\0';
        fclose(la);
    }
    printf("store_bench: WAL, in %s; load average %s", dir, load);
    size_t sizes[] = {256, 1024};
    int only_delivery = getenv("ZV_BENCH_DELIVERY_ONLY") != NULL;
    for (int k = 0; k < 2 && !only_delivery; k++) {
        plen = sizes[k];
        printf("enqueue, %zu-byte payloads:\n", plen);
        raw_sqlite(dir, 1, 2000, "FULL");
        store_enqueue(dir, 1, 2000);
        raw_sqlite(dir, 100, 50000, "FULL");
        store_enqueue(dir, 100, 50000);
        raw_sqlite(dir, 1000, 200000, "FULL");
        store_enqueue(dir, 1000, 200000);
        raw_sqlite(dir, 1000, 200000, "NORMAL");
    }
    plen = 1024;
    printf("delivery (loopback):\n");
    th_init();
    delivery(dir, "http", 5000, 4);
    delivery(dir, "http", 5000, 16);
    delivery(dir, "filedrop", 5000, 4);
    th_done();
    if (argc <= 1) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0) return 1;
    }
    return 0;
}
