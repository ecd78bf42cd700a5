/* test_http.c - the HTTP transport against a scripted server of the test's own: keep-alive,
 * methods and bodies, header hygiene, deadlines and timeouts, body caps, parallel transfers,
 * proxies and CA bundle discovery. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "http/http.h"
#include "support_http_server.h"
#include "testlib.h"

static ig_http_client *new_client(void)
{
    ig_http_options o = {0};
    ig_error err;
    ig_error_clear(&err);
    ig_http_client *c = ig_http_client_new(&o, &err);
    if (!c)
        fprintf(stderr, "client: %s\n", err.message);
    return c;
}

static char *url_of(ig_testsrv *s, const char *path)
{
    static char url[256];
    snprintf(url, sizeof url, "%s%s", ig_testsrv_url(s), path);
    return url;
}

static void test_two_requests_reuse_one_connection(void)
{
    ig_testsrv_reply script[] = {{.body = "one"}, {.body = "two"}};
    ig_testsrv *s = ig_testsrv_start(script, 2);
    ig_http_client *c = new_client();
    ig_http_response r;
    ig_http_response_init(&r);
    ig_http_request req = {.method = "GET", .url = url_of(s, "/a")};
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&r.body), "one");
    req.url = url_of(s, "/b");
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&r.body), "two");
    IG_CHECK_EQ_INT(ig_testsrv_hits(s), 2);
    IG_CHECK_EQ_INT(ig_testsrv_connections(s), 1);
    ig_http_response_free(&r);
    ig_http_client_free(c);
    ig_testsrv_stop(s);
}

static void test_parallel_requests_then_reuse(void)
{
    /* Parallel transfers open parallel connections; the next round reuses them. */
    ig_testsrv_reply script[] = {{.body = "p", .delay_ms = 300}};
    ig_testsrv *s = ig_testsrv_start(script, 1);
    ig_http_client *c = new_client();
    ig_http_request reqs[4];
    ig_http_response resps[4];
    char urls[4][128];
    for (int i = 0; i < 4; i++) {
        snprintf(urls[i], sizeof urls[i], "%s/obj%d", ig_testsrv_url(s), i);
        reqs[i] = (ig_http_request){.method = "PUT", .url = urls[i], .body = "xyz", .body_len = 3};
        ig_http_response_init(&resps[i]);
    }
    int64_t t0 = ig_mono_ms();
    IG_CHECK_EQ_INT(ig_http_perform_many(c, reqs, resps, 4), IG_OK);
    int64_t took = ig_mono_ms() - t0;
    IG_CHECK(took < 1000); /* 4 x 300 ms one after the other would take 1200 ms */
    for (int i = 0; i < 4; i++)
        IG_CHECK_EQ_INT(resps[i].status, 200);
    IG_CHECK_EQ_INT(ig_testsrv_connections(s), 4);
    IG_CHECK_EQ_INT(ig_http_perform_many(c, reqs, resps, 4), IG_OK);
    IG_CHECK_EQ_INT(ig_testsrv_hits(s), 8);
    IG_CHECK_EQ_INT(ig_testsrv_connections(s), 4);
    for (int i = 0; i < 4; i++)
        ig_http_response_free(&resps[i]);
    ig_http_client_free(c);
    ig_testsrv_stop(s);
}

static void test_parallel_with_one_expired_deadline(void)
{
    ig_testsrv_reply script[] = {{.body = "ok"}};
    ig_testsrv *s = ig_testsrv_start(script, 1);
    ig_http_client *c = new_client();
    ig_http_request reqs[3] = {
        {.method = "GET", .url = ig_testsrv_url(s)},
        {.method = "GET", .url = ig_testsrv_url(s), .deadline_ms = ig_now_ms() - 5},
        {.method = "GET", .url = ig_testsrv_url(s)},
    };
    ig_http_response resps[3];
    for (int i = 0; i < 3; i++)
        ig_http_response_init(&resps[i]);
    IG_CHECK_EQ_INT(ig_http_perform_many(c, reqs, resps, 3), IG_ERR_DEADLINE);
    IG_CHECK_EQ_INT(resps[0].err, IG_OK);
    IG_CHECK_EQ_INT(resps[1].err, IG_ERR_DEADLINE);
    IG_CHECK_EQ_INT(resps[1].status, 0);
    IG_CHECK_EQ_INT(resps[2].err, IG_OK);
    IG_CHECK_EQ_INT(ig_testsrv_hits(s), 2);
    for (int i = 0; i < 3; i++)
        ig_http_response_free(&resps[i]);
    ig_http_client_free(c);
    ig_testsrv_stop(s);
}

static void test_status_and_lowercased_headers(void)
{
    ig_testsrv_reply script[] = {{.status = 429,
                                  .headers = "X-Amzn-ErrorType: ThrottlingException:http://x/\r\n"
                                             "X-Amzn-RequestId: req-1\r\n",
                                  .body = "{\"message\":\"slow down\"}"}};
    ig_testsrv *s = ig_testsrv_start(script, 1);
    ig_http_client *c = new_client();
    ig_http_response r;
    ig_http_response_init(&r);
    ig_http_request req = {.method = "GET", .url = ig_testsrv_url(s)};
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_OK); /* an answer, whatever its status */
    IG_CHECK_EQ_INT(r.status, 429);
    int found = 0;
    for (size_t i = 0; i < r.headers.len; i++)
        if (strcmp(r.headers.items[i].name, "x-amzn-errortype") == 0)
            found = 1;
    IG_CHECK(found);
    IG_CHECK_EQ_STR(ig_header_list_get(&r.headers, "x-amzn-requestid"), "req-1");
    IG_CHECK_EQ_STR(ig_buf_cstr(&r.body), "{\"message\":\"slow down\"}");
    ig_http_response_free(&r);
    ig_http_client_free(c);
    ig_testsrv_stop(s);
}

static void test_post_sends_body_without_expect_or_invented_type(void)
{
    ig_testsrv_reply script[] = {{.status = 202, .body = "{\"status\":\"OK\"}"}};
    ig_testsrv *s = ig_testsrv_start(script, 1);
    ig_http_client *c = new_client();
    /* Large enough that curl would ask for 100-continue if allowed to. */
    size_t n = 2 * 1024 * 1024;
    char *body = malloc(n);
    for (size_t i = 0; i < n; i++)
        body[i] = (char)('a' + i % 26);
    ig_header h[] = {{"X-Custom", "v1"}, {"X-Empty", ""}};
    ig_http_request req = {.method = "POST", .url = url_of(s, "/post"), .headers = h, .n_headers = 2,
                           .body = body, .body_len = n};
    ig_http_response r;
    ig_http_response_init(&r);
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_OK);
    IG_CHECK_EQ_INT(r.status, 202);
    const ig_testsrv_request *got = ig_testsrv_request_at(s, 0);
    IG_CHECK(got != NULL);
    if (got) {
        IG_CHECK_EQ_STR(got->method, "POST");
        IG_CHECK_EQ_STR(got->target, "/post");
        IG_CHECK_EQ_INT(got->body.len, n);
        IG_CHECK(got->body.len == n && memcmp(got->body.data, body, n) == 0);
        IG_CHECK(ig_header_list_get(&got->headers, "expect") == NULL);
        IG_CHECK(ig_header_list_get(&got->headers, "content-type") == NULL);
        IG_CHECK_EQ_STR(ig_header_list_get(&got->headers, "x-custom"), "v1");
        IG_CHECK_EQ_STR(ig_header_list_get(&got->headers, "x-empty"), "");
        IG_CHECK(ig_header_list_get(&got->headers, "transfer-encoding") == NULL);
    }
    free(body);
    ig_http_response_free(&r);
    ig_http_client_free(c);
    ig_testsrv_stop(s);
}

static void test_put_and_empty_put(void)
{
    ig_testsrv_reply script[] = {{.headers = "ETag: \"abc\"\r\n"}};
    ig_testsrv *s = ig_testsrv_start(script, 1);
    ig_http_client *c = new_client();
    ig_header h[] = {{"Content-Type", "image/png"}};
    ig_http_request req = {.method = "PUT", .url = url_of(s, "/b/k"), .headers = h, .n_headers = 1,
                           .body = "\x89PNG", .body_len = 4};
    ig_http_response r;
    ig_http_response_init(&r);
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_OK);
    IG_CHECK_EQ_STR(ig_header_list_get(&r.headers, "etag"), "\"abc\"");
    req.body = NULL;
    req.body_len = 0;
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_OK);
    const ig_testsrv_request *a = ig_testsrv_request_at(s, 0), *b = ig_testsrv_request_at(s, 1);
    IG_CHECK(a && b);
    if (a && b) {
        IG_CHECK_EQ_STR(a->method, "PUT");
        IG_CHECK_EQ_STR(ig_header_list_get(&a->headers, "content-type"), "image/png");
        IG_CHECK_EQ_STR(ig_header_list_get(&a->headers, "content-length"), "4");
        IG_CHECK_EQ_STR(b->method, "PUT");
        IG_CHECK_EQ_STR(ig_header_list_get(&b->headers, "content-length"), "0");
        IG_CHECK_EQ_INT(b->body.len, 0);
    }
    ig_http_response_free(&r);
    ig_http_client_free(c);
    ig_testsrv_stop(s);
}

static void test_head_does_not_wait_for_a_body(void)
{
    ig_testsrv_reply script[] = {{.headers = "Content-Length: 5000000\r\nContent-Type: image/png\r\n"}};
    ig_testsrv *s = ig_testsrv_start(script, 1);
    ig_http_client *c = new_client();
    ig_http_request req = {.method = "HEAD", .url = url_of(s, "/obj"), .deadline_ms = ig_now_ms() + 3000};
    ig_http_response r;
    ig_http_response_init(&r);
    int64_t t0 = ig_mono_ms();
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_OK);
    IG_CHECK(ig_mono_ms() - t0 < 1000);
    IG_CHECK_EQ_INT(r.status, 200);
    IG_CHECK_EQ_STR(ig_header_list_get(&r.headers, "content-length"), "5000000");
    IG_CHECK_EQ_INT(r.body.len, 0);
    /* The connection stays usable: a second HEAD goes over the same socket. The announced
     * size is the object's, not a body: a response cap below it does not matter. */
    req.max_response_bytes = 1000;
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_OK);
    IG_CHECK_EQ_INT(r.status, 200);
    IG_CHECK_EQ_INT(ig_testsrv_connections(s), 1);
    ig_http_response_free(&r);
    ig_http_client_free(c);
    ig_testsrv_stop(s);
}

static void test_passed_deadline_sends_nothing(void)
{
    ig_testsrv_reply script[] = {{.body = "x"}};
    ig_testsrv *s = ig_testsrv_start(script, 1);
    ig_http_client *c = new_client();
    ig_http_request req = {.method = "GET", .url = ig_testsrv_url(s), .deadline_ms = ig_now_ms() - 1};
    ig_http_response r;
    ig_http_response_init(&r);
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_ERR_DEADLINE);
    IG_CHECK(strstr(r.errmsg, "deadline") != NULL);
    IG_CHECK_EQ_INT(r.status, 0);
    usleep(100 * 1000);
    IG_CHECK_EQ_INT(ig_testsrv_hits(s), 0);
    IG_CHECK_EQ_INT(ig_testsrv_connections(s), 0);
    ig_http_response_free(&r);
    ig_http_client_free(c);
    ig_testsrv_stop(s);
}

static void test_deadline_bounds_a_slow_answer(void)
{
    ig_testsrv_reply script[] = {{.body = "late", .delay_ms = 3000}, {.body = "fast"}};
    ig_testsrv *s = ig_testsrv_start(script, 2);
    ig_http_client *c = new_client();
    int64_t deadline = ig_now_ms() + 300;
    ig_http_request req = {.method = "GET", .url = ig_testsrv_url(s), .deadline_ms = deadline};
    ig_http_response r;
    ig_http_response_init(&r);
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_ERR_TIMEOUT);
    IG_CHECK(ig_now_ms() <= deadline + 100);
    IG_CHECK(r.errmsg[0] != '\0');
    IG_CHECK_EQ_INT(r.status, 0);
    /* The client recovers: the next request gets its answer on a fresh connection. */
    req.deadline_ms = ig_now_ms() + 3000;
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&r.body), "fast");
    ig_http_response_free(&r);
    ig_http_client_free(c);
    ig_testsrv_stop(s);
}

static void test_no_default_timeout_allows_long_polls(void)
{
    ig_testsrv_reply script[] = {{.body = "event", .delay_ms = 1200}};
    ig_testsrv *s = ig_testsrv_start(script, 1);
    ig_http_options o = {.connect_timeout_ms = 500, .default_timeout_ms = 0};
    ig_http_client *c = ig_http_client_new(&o, NULL);
    ig_http_request req = {.method = "GET", .url = ig_testsrv_url(s)};
    ig_http_response r;
    ig_http_response_init(&r);
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&r.body), "event");
    ig_http_response_free(&r);
    ig_http_client_free(c);
    ig_testsrv_stop(s);
}

static void test_default_timeout_applies_without_deadline(void)
{
    ig_testsrv_reply script[] = {{.body = "late", .delay_ms = 2000}};
    ig_testsrv *s = ig_testsrv_start(script, 1);
    ig_http_options o = {.default_timeout_ms = 200};
    ig_http_client *c = ig_http_client_new(&o, NULL);
    ig_http_request req = {.method = "GET", .url = ig_testsrv_url(s)};
    ig_http_response r;
    ig_http_response_init(&r);
    int64_t t0 = ig_mono_ms();
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_ERR_TIMEOUT);
    IG_CHECK(ig_mono_ms() - t0 < 1000);
    ig_http_response_free(&r);
    ig_http_client_free(c);
    ig_testsrv_stop(s);
}

static void test_body_cap_with_and_without_length(void)
{
    static char big[300000];
    memset(big, 'z', sizeof big);
    ig_testsrv_reply script[] = {{.body = big, .body_len = sizeof big},
                                 {.body = big, .body_len = sizeof big, .no_length = 1},
                                 {.body = big, .body_len = 1000}};
    ig_testsrv *s = ig_testsrv_start(script, 3);
    ig_http_client *c = new_client();
    ig_http_request req = {.method = "GET", .url = ig_testsrv_url(s), .max_response_bytes = 100000};
    ig_http_response r;
    ig_http_response_init(&r);
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_ERR_TOO_LARGE);
    IG_CHECK(strstr(r.errmsg, "100000") != NULL);
    IG_CHECK(r.body.len <= 100000);
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_ERR_TOO_LARGE);
    IG_CHECK(r.body.len <= 100000);
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_OK);
    IG_CHECK_EQ_INT(r.body.len, 1000);
    ig_http_response_free(&r);
    ig_http_client_free(c);
    ig_testsrv_stop(s);
}

static void test_connection_refused_is_connect_error(void)
{
    ig_http_client *c = new_client();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", ig_testsrv_closed_port());
    ig_http_request req = {.method = "GET", .url = url, .deadline_ms = ig_now_ms() + 2000};
    ig_http_response r;
    ig_http_response_init(&r);
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_ERR_CONNECT);
    IG_CHECK(strstr(r.errmsg, "127.0.0.1") != NULL); /* curl's own sentence */
    ig_http_response_free(&r);
    ig_http_client_free(c);
}

static void test_server_closing_without_answer(void)
{
    /* An answer shorter than its Content-Length: the connection broke mid-body. */
    ig_testsrv_reply script[] = {{.headers = "Content-Length: 100\r\n", .body = "short", .close = 1}};
    ig_testsrv *s = ig_testsrv_start(script, 1);
    ig_http_client *c = new_client();
    ig_http_request req = {.method = "GET", .url = ig_testsrv_url(s), .deadline_ms = ig_now_ms() + 2000};
    ig_http_response r;
    ig_http_response_init(&r);
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_ERR_CONNECT);
    IG_CHECK_EQ_INT(r.status, 0);
    ig_http_response_free(&r);
    ig_http_client_free(c);
    ig_testsrv_stop(s);
}

static void test_header_injection_is_refused(void)
{
    ig_testsrv_reply script[] = {{.body = "x"}};
    ig_testsrv *s = ig_testsrv_start(script, 1);
    ig_http_client *c = new_client();
    ig_header bad_value[] = {{"X-Note", "a\r\nX-Injected: 1"}};
    ig_header bad_name[] = {{"X Note", "a"}};
    ig_http_request req = {.method = "GET", .url = ig_testsrv_url(s), .headers = bad_value, .n_headers = 1};
    ig_http_response r;
    ig_http_response_init(&r);
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_ERR_INVALID_ARG);
    IG_CHECK(strstr(r.errmsg, "X-Note") != NULL);
    req.headers = bad_name;
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_ERR_INVALID_ARG);
    req.headers = NULL;
    req.n_headers = 0;
    req.method = "get";
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_ERR_INVALID_ARG);
    req.method = "GET";
    req.url = NULL;
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(ig_testsrv_hits(s), 0);
    ig_http_response_free(&r);
    ig_http_client_free(c);
    ig_testsrv_stop(s);
}

static void test_proxies_only_when_asked(void)
{
    ig_testsrv_reply script[] = {{.body = "direct"}};
    ig_testsrv *s = ig_testsrv_start(script, 1);
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", ig_testsrv_closed_port());
    setenv("http_proxy", proxy, 1);
    setenv("HTTPS_PROXY", proxy, 1);
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    ig_http_client *direct = new_client();
    ig_http_options o = {.use_proxy = 1};
    ig_http_client *proxied = ig_http_client_new(&o, NULL);
    ig_http_request req = {.method = "GET", .url = ig_testsrv_url(s), .deadline_ms = ig_now_ms() + 2000};
    ig_http_response r;
    ig_http_response_init(&r);
    IG_CHECK_EQ_INT(ig_http_perform(direct, &req, &r), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&r.body), "direct");
    /* Through the (dead) proxy the request cannot get anywhere. */
    IG_CHECK_EQ_INT(ig_http_perform(proxied, &req, &r), IG_ERR_CONNECT);
    IG_CHECK_EQ_INT(ig_testsrv_hits(s), 1);
    unsetenv("http_proxy");
    unsetenv("HTTPS_PROXY");
    ig_http_response_free(&r);
    ig_http_client_free(direct);
    ig_http_client_free(proxied);
    ig_testsrv_stop(s);
}

static void test_ca_bundle_discovery(void)
{
    char path[] = "/tmp/ig-ca-XXXXXX";
    int fd = mkstemp(path);
    IG_CHECK(fd >= 0);
    close(fd);
    setenv("SSL_CERT_FILE", path, 1);
    IG_CHECK_EQ_STR(ig_http_find_ca_bundle(), path);
    ig_error err;
    ig_http_client *c = ig_http_client_new(NULL, &err);
    IG_CHECK(c != NULL);
    ig_http_client_free(c);

    setenv("SSL_CERT_FILE", "/nonexistent/ca.pem", 1);
    IG_CHECK(ig_http_find_ca_bundle() == NULL);
    ig_error_clear(&err);
    IG_CHECK(ig_http_client_new(NULL, &err) == NULL);
    IG_CHECK_EQ_INT(err.code, IG_ERR_CONFIG);
    IG_CHECK(strstr(err.message, "SSL_CERT_FILE") != NULL);

    unsetenv("SSL_CERT_FILE");
    const char *found = ig_http_find_ca_bundle();
    if (access("/etc/pki/tls/certs/ca-bundle.crt", R_OK) == 0)
        IG_CHECK_EQ_STR(found, "/etc/pki/tls/certs/ca-bundle.crt");
    else if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0)
        IG_CHECK_EQ_STR(found, "/etc/ssl/certs/ca-certificates.crt");
    else
        IG_CHECK(found == NULL);

    ig_http_options o = {.ca_file = "/nonexistent/bundle.crt"};
    ig_error_clear(&err);
    IG_CHECK(ig_http_client_new(&o, &err) == NULL);
    IG_CHECK_EQ_INT(err.code, IG_ERR_CONFIG);
    IG_CHECK(strstr(err.message, "/nonexistent/bundle.crt") != NULL);
    unlink(path);
}

static void test_response_reuse_clears_previous(void)
{
    ig_testsrv_reply script[] = {{.headers = "X-First: 1\r\n", .body = "first body"},
                                 {.status = 404, .body = ""}};
    ig_testsrv *s = ig_testsrv_start(script, 2);
    ig_http_client *c = new_client();
    ig_http_request req = {.method = "GET", .url = ig_testsrv_url(s)};
    ig_http_response r;
    ig_http_response_init(&r);
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_OK);
    IG_CHECK_EQ_INT(ig_http_perform(c, &req, &r), IG_OK);
    IG_CHECK_EQ_INT(r.status, 404);
    IG_CHECK_EQ_INT(r.body.len, 0);
    IG_CHECK(ig_header_list_get(&r.headers, "x-first") == NULL);
    ig_http_response_free(&r);
    ig_http_client_free(c);
    ig_testsrv_stop(s);
}

int main(void)
{
    if (ig_http_global_init() != IG_OK)
        return 1;
    unsetenv("SSL_CERT_FILE");
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("HTTPS_PROXY");
    unsetenv("https_proxy");
    unsetenv("ALL_PROXY");
    unsetenv("all_proxy");
    IG_RUN(test_two_requests_reuse_one_connection);
    IG_RUN(test_parallel_requests_then_reuse);
    IG_RUN(test_parallel_with_one_expired_deadline);
    IG_RUN(test_status_and_lowercased_headers);
    IG_RUN(test_post_sends_body_without_expect_or_invented_type);
    IG_RUN(test_put_and_empty_put);
    IG_RUN(test_head_does_not_wait_for_a_body);
    IG_RUN(test_passed_deadline_sends_nothing);
    IG_RUN(test_deadline_bounds_a_slow_answer);
    IG_RUN(test_no_default_timeout_allows_long_polls);
    IG_RUN(test_default_timeout_applies_without_deadline);
    IG_RUN(test_body_cap_with_and_without_length);
    IG_RUN(test_connection_refused_is_connect_error);
    IG_RUN(test_server_closing_without_answer);
    IG_RUN(test_header_injection_is_refused);
    IG_RUN(test_proxies_only_when_asked);
    IG_RUN(test_ca_bundle_discovery);
    IG_RUN(test_response_reuse_clears_previous);
    ig_http_global_cleanup();
    return ig_test_finish("http");
}
