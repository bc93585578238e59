/* Transports against real receivers: out_http over HTTP and HTTPS (own CA,
 * mTLS made with openssl here), status mapping, Retry-After; out_filedrop
 * into a real directory; the HTTP client's limits. */
#include "delivery_fixture.h"

#include <dirent.h>

static char dir[256];
static th_receiver rcv;

struct outcome {
    int done;
    zv_send_status status;
    int http_status;
    long retry_after;
    char detail[512];
    char answer[256];
};

static void on_sent(const zv_send_result *r, void *arg)
{
    struct outcome *o = arg;
    o->done = 1;
    o->status = r->status;
    o->http_status = r->http_status;
    o->retry_after = r->retry_after_s;
    snprintf(o->detail, sizeof(o->detail), "%s", r->detail ? r->detail : "");
    snprintf(o->answer, sizeof(o->answer), "%.*s", (int)(r->answer ? r->answer_len : 0),
             r->answer ? r->answer : "");
}

static int is_done(void *arg)
{
    return ((struct outcome *)arg)->done;
}

static void setup(void)
{
    th_init();
    th_mkdtemp(dir, sizeof(dir), "transport");
    memset(&rcv, 0, sizeof(rcv));
}

static void teardown(void)
{
    th_receiver_stop(&rcv);
    th_done();
    th_rmrf(dir);
}

static struct outcome send_one(zv_instance *tr, const char *key, const char *body)
{
    struct outcome o = {0};
    zv_delivery d = {ZV_SIZED(zv_delivery), .destination = "zk", .idem_key = key,
                     .payload = body,       .len = strlen(body), .content_type = "text/xml",
                     .extension = "xml",    .attempt = 1};
    ck_assert_int_eq(tr->desc->transport->send(tr->state, &d, on_sent, &o), 0);
    ck_assert_int_eq(o.done, 0); /* never from inside send() */
    ck_assert_int_eq(th_run_until(is_done, &o, 60), 1);
    return o;
}

START_TEST(http_status_mapping)
{
    const char *args[] = {"--reject", "BAD", "--fail-first", "1", NULL};
    th_receiver_start(&rcv, dir, 0, args);
    char opts[512], err[256];
    snprintf(opts, sizeof(opts),
             "{\"url\": \"http://127.0.0.1:%d/in\", \"headers\": {\"X-Extra\": \"yes\"}}",
             rcv.port);
    zv_instance tr;
    ck_assert_msg(th_instance(&tr, "out_http", ZV_PLUGIN_TRANSPORT, opts, err, sizeof(err)) == 0,
                  "%s", err);
    struct outcome o = send_one(&tr, "K-1", "<ok/>");
    ck_assert_int_eq(o.status, ZV_SEND_RETRY); /* first request: 503 */
    ck_assert_int_eq(o.http_status, 503);
    ck_assert_int_eq(o.retry_after, 1);
    o = send_one(&tr, "K-1", "<ok/>");
    ck_assert_int_eq(o.status, ZV_SEND_OK);
    ck_assert_int_eq(o.http_status, 200);
    ck_assert_str_eq(o.answer, "{\"ok\":true}");
    o = send_one(&tr, "K-2", "<BAD/>");
    ck_assert_int_eq(o.status, ZV_SEND_REJECTED);
    ck_assert_int_eq(o.http_status, 400);
    ck_assert_ptr_nonnull(strstr(o.detail, "HTTP 400"));
    ck_assert_ptr_nonnull(strstr(o.detail, "invalid Besluitnummer"));
    ck_assert_int_eq(th_received_grep(&rcv, "\"key\": \"K-1\""), 2);
    ck_assert_int_eq(th_received_grep(&rcv, "\"x_extra\": \"yes\""), 3);
    ck_assert_int_eq(th_received_grep(&rcv, "\"content_type\": \"text/xml\""), 3);
    th_receiver_stop(&rcv);
    /* Nobody listening: a transport error, to be retried. */
    o = send_one(&tr, "K-3", "<ok/>");
    ck_assert_int_eq(o.status, ZV_SEND_RETRY);
    ck_assert_int_eq(o.http_status, 0);
    ck_assert_str_ne(o.detail, "");
    th_instance_free(&tr);
}
END_TEST

static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

/* A private CA, a server certificate for 127.0.0.1 and a client certificate. */
static void make_pki(void)
{
    sh("cd '%s' && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
       "-subj '/CN=zinvol test CA' >/dev/null 2>&1",
       dir);
    sh("cd '%s' && openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr "
       "-subj '/CN=127.0.0.1' >/dev/null 2>&1 && printf 'subjectAltName=IP:127.0.0.1\\n' > "
       "srv.ext && openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
       "-out srv.pem -days 2 -extfile srv.ext >/dev/null 2>&1",
       dir);
    sh("cd '%s' && openssl req -newkey rsa:2048 -nodes -keyout cli.key -out cli.csr "
       "-subj '/CN=zorgaanbieder-12345678' >/dev/null 2>&1 && openssl x509 -req -in cli.csr "
       "-CA ca.pem -CAkey ca.key -CAcreateserial -out cli.pem -days 2 >/dev/null 2>&1",
       dir);
    /* A second CA the client does not trust. */
    sh("cd '%s' && openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem "
       "-days 2 -subj '/CN=other CA' >/dev/null 2>&1",
       dir);
}

START_TEST(https_mtls)
{
    make_pki();
    char srv[300], key[300], ca[300];
    snprintf(srv, sizeof(srv), "%s/srv.pem", dir);
    snprintf(key, sizeof(key), "%s/srv.key", dir);
    snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
    const char *args[] = {"--tls", srv, key, "--client-ca", ca, NULL};
    th_receiver_start(&rcv, dir, 0, args);
    char opts[1024], err[256];
    zv_instance tr;

    /* Trusted CA and a client certificate: delivered, receiver saw the cert. */
    snprintf(opts, sizeof(opts),
             "{\"url\": \"https://127.0.0.1:%d/in\", \"ca_file\": \"%s/ca.pem\", "
             "\"cert_file\": \"%s/cli.pem\", \"key_file\": \"%s/cli.key\", "
             "\"bearer_token\": \"t0ken\", \"idempotency_header\": \"Idempotency-Key\"}",
             rcv.port, dir, dir, dir);
    ck_assert_msg(th_instance(&tr, "out_http", ZV_PLUGIN_TRANSPORT, opts, err, sizeof(err)) == 0,
                  "%s", err);
    struct outcome o = send_one(&tr, "TLS-1", "<ok/>");
    ck_assert_msg(o.status == ZV_SEND_OK, "%s", o.detail);
    ck_assert_int_eq(th_received_grep(&rcv, "\"client_cert\": \"zorgaanbieder-12345678\""), 1);
    ck_assert_int_eq(th_received_grep(&rcv, "\"auth\": \"Bearer t0ken\""), 1);
    th_instance_free(&tr);

    /* The receiver's certificate is not from a trusted CA: never sent. */
    snprintf(opts, sizeof(opts),
             "{\"url\": \"https://127.0.0.1:%d/in\", \"ca_file\": \"%s/other.pem\", "
             "\"cert_file\": \"%s/cli.pem\", \"key_file\": \"%s/cli.key\"}",
             rcv.port, dir, dir, dir);
    ck_assert_int_eq(th_instance(&tr, "out_http", ZV_PLUGIN_TRANSPORT, opts, err, sizeof(err)), 0);
    o = send_one(&tr, "TLS-2", "<ok/>");
    ck_assert_int_eq(o.status, ZV_SEND_RETRY);
    ck_assert_int_eq(o.http_status, 0);
    th_instance_free(&tr);

    /* No client certificate: the receiver refuses the handshake. */
    snprintf(opts, sizeof(opts),
             "{\"url\": \"https://127.0.0.1:%d/in\", \"ca_file\": \"%s/ca.pem\"}", rcv.port, dir);
    ck_assert_int_eq(th_instance(&tr, "out_http", ZV_PLUGIN_TRANSPORT, opts, err, sizeof(err)), 0);
    o = send_one(&tr, "TLS-3", "<ok/>");
    ck_assert_int_eq(o.status, ZV_SEND_RETRY);
    th_instance_free(&tr);
    ck_assert_int_eq(th_received(&rcv, 0), 1); /* only the first one arrived */

    /* Half an mTLS pair is a configuration error. */
    snprintf(opts, sizeof(opts),
             "{\"url\": \"https://127.0.0.1:1/\", \"cert_file\": \"%s/cli.pem\"}", dir);
    ck_assert_int_eq(th_instance(&tr, "out_http", ZV_PLUGIN_TRANSPORT, opts, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "key_file"));
}
END_TEST

static int count_files(const char *d, int *tmp)
{
    DIR *dp = opendir(d);
    ck_assert_ptr_nonnull(dp);
    int n = 0;
    *tmp = 0;
    struct dirent *e;
    while ((e = readdir(dp)))
        if (e->d_name[0] != '.')
            n++;
        else if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            (*tmp)++;
    closedir(dp);
    return n;
}

START_TEST(filedrop_atomic_and_idempotent)
{
    char out[300], opts[512], err[256];
    snprintf(out, sizeof(out), "%s/drop", dir);
    ck_assert_int_eq(mkdir(out, 0700), 0);
    snprintf(opts, sizeof(opts), "{\"dir\": \"%s\", \"prefix\": \"zk5501_\"}", out);
    zv_instance tr;
    ck_assert_msg(th_instance(&tr, "out_filedrop", ZV_PLUGIN_TRANSPORT, opts, err, sizeof(err)) ==
                      0,
                  "%s", err);
    struct outcome o = send_one(&tr, "BER-0001", "<bericht/>");
    ck_assert_msg(o.status == ZV_SEND_OK, "%s", o.detail);
    o = send_one(&tr, "BER-0001", "<bericht/>"); /* a repeat: same file */
    ck_assert_int_eq(o.status, ZV_SEND_OK);
    o = send_one(&tr, "../../etc/x", "<b/>"); /* a key cannot leave the directory */
    ck_assert_int_eq(o.status, ZV_SEND_OK);
    int tmp;
    ck_assert_int_eq(count_files(out, &tmp), 2);
    ck_assert_int_eq(tmp, 0);
    char path[400], buf[64] = "";
    snprintf(path, sizeof(path), "%s/zk5501_BER-0001.xml", out);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
    fclose(f);
    ck_assert_str_eq(buf, "<bericht/>");
    snprintf(path, sizeof(path), "%s/zk5501_.._.._etc_x.xml", out);
    ck_assert_int_eq(access(path, F_OK), 0);
    /* The directory disappears: a temporary failure, retried later. */
    th_rmrf(out);
    o = send_one(&tr, "BER-0002", "<b/>");
    ck_assert_int_eq(o.status, ZV_SEND_RETRY);
    ck_assert_ptr_nonnull(strstr(o.detail, "No such file"));
    th_instance_free(&tr);
}
END_TEST

struct resp {
    int done, status;
    char error[256];
    size_t len;
};

static void on_resp(const zv_http_response *r, void *arg)
{
    struct resp *x = arg;
    x->done = 1;
    x->status = r->status;
    x->len = r->body_len;
    snprintf(x->error, sizeof(x->error), "%s", r->error ? r->error : "");
}

static int resp_done(void *arg)
{
    return ((struct resp *)arg)->done;
}

START_TEST(http_client_limits)
{
    th_receiver_start(&rcv, dir, 0, NULL);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", rcv.port);
    zv_http_request req = {
        ZV_SIZED(zv_http_request), .method = "POST", .url = url, .body = "a", .body_len = 1,
        .max_response = 4};
    struct resp x = {0};
    ck_assert_ptr_nonnull(zv_http_client_request(th_http, &req, on_resp, &x));
    ck_assert_int_eq(zv_http_client_active(th_http), 1);
    ck_assert_int_eq(th_run_until(resp_done, &x, 60), 1);
    ck_assert_int_eq(x.status, 0); /* {"ok":true} is longer than 4 bytes */
    ck_assert_ptr_nonnull(strstr(x.error, "limit"));
    req.url = "file:///etc/passwd";
    ck_assert_ptr_null(zv_http_client_request(th_http, &req, on_resp, &x));
    /* Freeing the client cancels transfers in flight, calling back once. */
    struct resp y = {0};
    req.url = url;
    req.max_response = 0;
    ck_assert_ptr_nonnull(zv_http_client_request(th_http, &req, on_resp, &y));
    zv_http_client_free(th_http);
    th_http = zv_http_client_new(th_base);
    ck_assert_int_eq(y.done, 1);
    ck_assert_str_eq(y.error, "cancelled");
}
END_TEST

int main(void)
{
    Suite *su = suite_create("delivery_transport");
    TCase *tc = tcase_create("transport");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, http_status_mapping);
    tcase_add_test(tc, https_mtls);
    tcase_add_test(tc, filedrop_atomic_and_idempotent);
    tcase_add_test(tc, http_client_limits);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
