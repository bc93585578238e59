/*
 * A bounded HTTP/1.1 load generator for the benchmarks under tests/bench:
 * a fixed number of keep-alive connections to 127.0.0.1, each sending its
 * next request only when the previous answer has arrived (closed loop, so
 * at most --conns requests are in flight), until --requests were answered.
 *
 *   http_load --port P --path /webhook/ons --conns 64 --requests 20000
 *             [--secret S --header X-Signature-SHA512]   POST signed JSON events
 *             [--get] [--interval-ms 20]                 GET probes, paced per connection
 *             [--duration-s N]                           stop after N s instead
 *
 * POST bodies are distinct JSON client events ({"event_id", "id", "bsn",
 * ...}), signed with HMAC-SHA512 before the clock starts, so the generator
 * spends its time on the sockets only.  Prints one line:
 *   requests N conns C wall S s  rate R req/s  p50 A ms  p99 B ms  max M ms  status 202:n other:m
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct conn {
    int fd;
    char *req;
    size_t req_len, sent;
    char buf[8192];
    size_t got;
    int64_t t0;
    int64_t next_at; /* --get pacing */
} conn;

/* SIGTERM/SIGINT: stop and print what was measured (an open-ended probe). */
static volatile sig_atomic_t stop_now;
static void on_stop(int sig)
{
    (void)sig;
    stop_now = 1;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(0x7f000001);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        perror("http_load: connect");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static char *make_post(const char *path, const char *secret, const char *header, long n,
                       size_t *len)
{
    char body[512];
    int bl = snprintf(body, sizeof(body),
                      "{\"event_id\": \"ev-%ld\", \"type\": \"client\", \"id\": \"C%ld\", "
                      "\"clientnummer\": \"C%ld\", \"bsn\": \"999900006\", \"achternaam\": "
                      "\"Jansen\", \"geboortedatum\": \"01-02-1940\"}",
                      n, n, n);
    unsigned char mac[64];
    unsigned int maclen = 0;
    HMAC(EVP_sha512(), secret, (int)strlen(secret), (const unsigned char *)body, (size_t)bl, mac,
         &maclen);
    char hex[129];
    for (unsigned i = 0; i < maclen; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    char *r = malloc(1024);
    *len = (size_t)snprintf(r, 1024,
                            "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                            "application/json\r\n%s: sha512=%s\r\nContent-Length: %d\r\n\r\n%s",
                            path, header, hex, bl, body);
    return r;
}

/* A whole response in c->buf: its status, and its length in *used; 0 when incomplete. */
static int parse_response(conn *c, size_t *used)
{
    c->buf[c->got < sizeof(c->buf) ? c->got : sizeof(c->buf) - 1] = '\0';
    char *end = strstr(c->buf, "\r\n\r\n");
    if (!end) return 0;
    long clen = 0;
    for (char *p = c->buf; p < end; p++)
        if ((p == c->buf || p[-1] == '\n') && strncasecmp(p, "Content-Length:", 15) == 0)
            clen = strtol(p + 15, NULL, 10);
    size_t total = (size_t)(end + 4 - c->buf) + (size_t)clen;
    if (c->got < total) return 0;
    *used = total;
    return atoi(c->buf + 9);
}

int main(int argc, char **argv)
{
    int port = 0, conns = 64, get = 0;
    long requests = 1000, interval_ms = 0, duration_s = 0;
    const char *path = "/", *secret = "", *header = "X-Signature-SHA512";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--get")) {
            get = 1;
            continue;
        }
        i++;
        if (!strcmp(a, "--port"))
            port = atoi(v);
        else if (!strcmp(a, "--path"))
            path = v;
        else if (!strcmp(a, "--conns"))
            conns = atoi(v);
        else if (!strcmp(a, "--requests"))
            requests = atol(v);
        else if (!strcmp(a, "--secret"))
            secret = v;
        else if (!strcmp(a, "--header"))
            header = v;
        else if (!strcmp(a, "--interval-ms"))
            interval_ms = atol(v);
        else if (!strcmp(a, "--duration-s"))
            duration_s = atol(v);
        else {
            fprintf(stderr, "http_load: unknown option %s\n", a);
            return 2;
        }
    }
    if (!port || conns < 1 || requests < 1) {
        fprintf(stderr, "usage: http_load --port P [--path X] [--conns N] [--requests N] ...\n");
        return 2;
    }
    /* Every request prepared before the clock starts. */
    char **reqs = calloc((size_t)requests, sizeof(*reqs));
    size_t *lens = calloc((size_t)requests, sizeof(*lens));
    int64_t *lat = calloc((size_t)requests, sizeof(*lat));
    for (long n = 0; n < requests; n++) {
        if (get) {
            reqs[n] = malloc(256);
            lens[n] =
                (size_t)snprintf(reqs[n], 256, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
        } else {
            reqs[n] = make_post(path, secret, header, n + (long)getpid() * 1000000L, &lens[n]);
        }
    }
    conn *c = calloc((size_t)conns, sizeof(*c));
    struct pollfd *pf = calloc((size_t)conns, sizeof(*pf));
    long next = 0, done = 0, ok = 0, other = 0;
    int64_t t_start = now_ns(), deadline = duration_s ? t_start + duration_s * 1000000000 : 0;
    for (int i = 0; i < conns; i++)
        c[i].fd = dial(port);
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    while (!stop_now && done < requests && (!deadline || now_ns() < deadline)) {
        int64_t t = now_ns();
        int wait_ms = 100;
        for (int i = 0; i < conns; i++) {
            conn *k = &c[i];
            if (!k->req && next < requests && t >= k->next_at) {
                k->req = reqs[next];
                k->req_len = lens[next];
                next++;
                k->sent = 0;
                k->t0 = t;
            } else if (!k->req && k->next_at > t) {
                int w = (int)((k->next_at - t) / 1000000) + 1;
                if (w < wait_ms) wait_ms = w;
            }
            pf[i].fd = k->fd;
            pf[i].events = !k->req ? 0 : k->sent < k->req_len ? POLLOUT : POLLIN;
        }
        int pr = poll(pf, (nfds_t)conns, wait_ms);
        if (pr < 0 && errno == EINTR) continue;
        if (pr < 0) {
            perror("http_load: poll");
            return 1;
        }
        for (int i = 0; i < conns; i++) {
            conn *k = &c[i];
            if (!k->req || !pf[i].revents) continue;
            if (k->sent < k->req_len) {
                ssize_t w = write(k->fd, k->req + k->sent, k->req_len - k->sent);
                if (w > 0) k->sent += (size_t)w;
                continue;
            }
            ssize_t r = read(k->fd, k->buf + k->got, sizeof(k->buf) - 1 - k->got);
            if (r <= 0) { /* closed by the server: count it, reconnect */
                other++;
                done++;
                close(k->fd);
                k->fd = dial(port);
                k->got = 0;
                k->req = NULL;
                continue;
            }
            k->got += (size_t)r;
            size_t used = 0;
            int status = parse_response(k, &used);
            if (!status) continue;
            lat[done++] = now_ns() - k->t0;
            if (status == 202 || (get && status == 200))
                ok++;
            else
                other++;
            memmove(k->buf, k->buf + used, k->got - used);
            k->got -= used;
            k->req = NULL;
            k->next_at = interval_ms ? now_ns() + interval_ms * 1000000 : 0;
        }
    }
    double wall = (double)(now_ns() - t_start) / 1e9;
    long measured = 0;
    for (long i = 0; i < done; i++)
        if (lat[i]) lat[measured++] = lat[i];
    qsort(lat, (size_t)measured, sizeof(*lat), cmp_i64);
    double p50 = measured ? (double)lat[measured / 2] / 1e6 : 0;
    double p99 = measured ? (double)lat[(measured * 99) / 100] / 1e6 : 0;
    double mx = measured ? (double)lat[measured - 1] / 1e6 : 0;
    printf("requests %ld conns %d wall %.2f s  rate %.0f req/s  p50 %.2f ms  p99 %.2f ms  max "
           "%.2f ms  status %s:%ld other:%ld\n",
           done, conns, wall, (double)done / wall, p50, p99, mx, get ? "200" : "202", ok, other);
    for (int i = 0; i < conns; i++)
        if (c[i].fd >= 0) close(c[i].fd);
    for (long n = 0; n < requests; n++)
        free(reqs[n]);
    free(reqs);
    free(lens);
    free(lat);
    free(c);
    free(pf);
    return 0;
}
