/* zv_host.http_cancel (ABI 2): a request cancelled while in flight never
 * calls back, the others do, and nothing leaks (run under ASan).  The
 * server is a real HTTP server on loopback (evhttp in this process, on the
 * same loop): it holds /slow until told, and answers /fast at once. */
#include <check.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>

#include "core/http_client.h"

static struct event_base *base;
static struct evhttp *srv;
static int port;
static int slow_arrived;
static struct evhttp_request *held; /* the /slow request, not answered */

static void on_slow(struct evhttp_request *req, void *arg)
{
    (void)arg;
    slow_arrived++;
    held = req;
}

static void on_fast(struct evhttp_request *req, void *arg)
{
    (void)arg;
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "fast");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

static void start_server(void)
{
    base = event_base_new();
    srv = evhttp_new(base);
    evhttp_set_cb(srv, "/slow", on_slow, NULL);
    evhttp_set_cb(srv, "/fast", on_fast, NULL);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(srv, "127.0.0.1", 0);
    ck_assert_ptr_nonnull(bs);
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    ck_assert_int_eq(getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &sl), 0);
    port = ntohs(sa.sin_port);
    slow_arrived = 0;
    held = NULL;
}

static void stop_server(void)
{
    evhttp_free(srv);
    event_base_free(base);
}

struct seen {
    int calls, status;
};

static void on_done(const zv_http_response *r, void *arg)
{
    struct seen *s = arg;
    s->calls++;
    s->status = r->status;
}

static zv_http_call *get(zv_http_client *c, const char *path, struct seen *s)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    zv_http_request req = {ZV_SIZED(zv_http_request), .url = url, .timeout_ms = 600000};
    return zv_http_client_request(c, &req, on_done, s);
}

/* Turn the loop until cond holds; no clock involved, the bound is a
 * number of turns (the test is about order, not time). */
#define RUN_UNTIL(cond)                                                                            \
    for (int turns_ = 0; !(cond); turns_++) {                                                      \
        ck_assert_msg(turns_ < 1000000, "never: " #cond);                                          \
        event_base_loop(base, EVLOOP_ONCE);                                                        \
    }

START_TEST(cancelled_in_flight_never_calls_back)
{
    start_server();
    zv_http_client *c = zv_http_client_new(base);
    struct seen slow = {0}, fast = {0};
    zv_http_call *call = get(c, "/slow", &slow);
    ck_assert_ptr_nonnull(call);
    RUN_UNTIL(slow_arrived == 1); /* the server has it: truly in flight */
    ck_assert_int_eq(zv_http_client_active(c), 1);
    zv_http_client_cancel(call);
    ck_assert_int_eq(zv_http_client_active(c), 0);
    /* The loop goes on (the server sees the connection close, a new call
     * runs to its end): still no callback for the cancelled one. */
    ck_assert_ptr_nonnull(get(c, "/fast", &fast));
    RUN_UNTIL(fast.calls == 1);
    ck_assert_int_eq(fast.status, 200);
    /* Freeing the client calls back what is still in flight; the
     * cancelled call is not among them. */
    zv_http_client_free(c);
    ck_assert_int_eq(slow.calls, 0);
    ck_assert_int_eq(fast.calls, 1);
    stop_server();
}
END_TEST

/* Cancel before the request has even connected, and cancel a call in
 * flight from inside another call's callback. */
struct pair {
    struct seen a, b;
    zv_http_call *other;
};

static void cancel_other(const zv_http_response *r, void *arg)
{
    struct pair *p = arg;
    p->a.calls++;
    p->a.status = r->status;
    if (p->other) zv_http_client_cancel(p->other);
    p->other = NULL;
}

START_TEST(cancel_early_and_from_another_callback)
{
    start_server();
    zv_http_client *c = zv_http_client_new(base);
    struct seen early = {0};
    zv_http_call *call = get(c, "/fast", &early);
    ck_assert_ptr_nonnull(call);
    zv_http_client_cancel(call); /* not yet connected */
    struct pair p = {0};
    p.other = get(c, "/slow", &p.b); /* held by the server */
    ck_assert_ptr_nonnull(p.other);
    RUN_UNTIL(slow_arrived == 1);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/fast", port);
    zv_http_request req = {ZV_SIZED(zv_http_request), .url = url};
    ck_assert_ptr_nonnull(zv_http_client_request(c, &req, cancel_other, &p));
    RUN_UNTIL(p.a.calls == 1);
    ck_assert_int_eq(p.a.status, 200);
    ck_assert_ptr_null(p.other); /* a's callback cancelled b */
    ck_assert_int_eq(zv_http_client_active(c), 0);
    zv_http_client_free(c);
    ck_assert_int_eq(early.calls, 0);
    ck_assert_int_eq(p.b.calls, 0);
    stop_server();
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* the server may write to a closed connection */
    Suite *s = suite_create("core_http_cancel");
    TCase *tc = tcase_create("cancel");
    tcase_add_test(tc, cancelled_in_flight_never_calls_back);
    tcase_add_test(tc, cancel_early_and_from_another_callback);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
