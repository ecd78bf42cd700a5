/* test_s3.c - PutObject, HeadObject, GetObject and presigned GETs against a scripted server of
 * the test's own: wire shape and signatures, parallel uploads with per-object retries, refused
 * inputs, metadata that cannot break headers, error documents, size caps; presigned POST
 * policies (their document, fields and signature; botocore checks them further in
 * integration.test_sigv4_botocore). */
#include <stdlib.h>
#include <string.h>

#include "aws/s3.h"
#include "codec/base64.h"
#include "codec/hash.h"
#include "core/clock.h"
#include "support_aws_env.h"
#include "support_http_server.h"
#include "testlib.h"

#define BUCKET "test-bucket"
static const char PNG[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR-not-really-an-image";
#define PNG_LEN (sizeof PNG - 1)

typedef struct {
    ig_testsrv *srv;
    ig_aws_context ctx;
    ig_s3 *s3;
} fixture;

static int setup(fixture *f, const ig_testsrv_reply *script, size_t n, const char *token)
{
    memset(f, 0, sizeof *f);
    if (!(f->srv = ig_testsrv_start(script, n)))
        return 0;
    if (ig_test_aws_context(&f->ctx, "AWS_ENDPOINT_URL_S3", ig_testsrv_url(f->srv), token) != IG_OK)
        return 0;
    ig_error err;
    f->s3 = ig_s3_new(&f->ctx, BUCKET, &err);
    return f->s3 != NULL;
}

static void teardown(fixture *f)
{
    ig_s3_free(f->s3);
    ig_aws_context_free(&f->ctx);
    ig_testsrv_stop(f->srv);
}

static ig_s3_put_request simple_put(const char *key)
{
    return (ig_s3_put_request){.key = key, .data = PNG, .len = PNG_LEN, .content_type = "image/png"};
}

static void test_put_wire_shape_and_signature(void)
{
    ig_testsrv_reply script[] = {{.headers = "ETag: \"9b2cf535f27731c974343645a3985328\"\r\nx-amz-request-id: R1\r\n"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, "SESSIONTOKEN"));
    ig_header meta[] = {{"prompt", "a red fox\r\nX-Injected: yes"}, {"model", "titan"}};
    ig_s3_put_request put = {.key = "images/2026/a b+c.png",
                             .data = PNG,
                             .len = PNG_LEN,
                             .content_type = "image/png",
                             .cache_control = "private, max-age=3600",
                             .sse = "aws:kms",
                             .sse_kms_key_id = "arn:aws:kms:us-east-1:111122223333:key/abcd",
                             .metadata = meta,
                             .n_metadata = 2};
    ig_s3_result res;
    IG_CHECK_EQ_INT(ig_s3_put_objects(f.s3, &put, 1, ig_now_ms() + 5000, &res), IG_OK);
    IG_CHECK_EQ_INT(res.err, IG_OK);
    IG_CHECK_EQ_INT(res.status, 200);
    IG_CHECK_EQ_INT(res.attempts, 1);
    IG_CHECK_EQ_STR(res.etag, "\"9b2cf535f27731c974343645a3985328\"");
    IG_CHECK_EQ_STR(res.request_id, "R1");
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 0);
    IG_CHECK(r != NULL);
    if (r) {
        char sha[65];
        ig_sha256_hex(PNG, PNG_LEN, sha);
        IG_CHECK_EQ_STR(r->method, "PUT");
        IG_CHECK_EQ_STR(r->target, "/test-bucket/images/2026/a%20b%2Bc.png");
        IG_CHECK_EQ_INT(r->body.len, PNG_LEN);
        IG_CHECK(r->body.len == PNG_LEN && memcmp(r->body.data, PNG, PNG_LEN) == 0);
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "content-type"), "image/png");
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "cache-control"), "private, max-age=3600");
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "x-amz-server-side-encryption"), "aws:kms");
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "x-amz-server-side-encryption-aws-kms-key-id"),
                        "arn:aws:kms:us-east-1:111122223333:key/abcd");
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "x-amz-content-sha256"), sha);
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "x-amz-security-token"), "SESSIONTOKEN");
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "x-amz-meta-model"), "titan");
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "x-amz-meta-prompt"),
                        "=?UTF-8?B?YSByZWQgZm94DQpYLUluamVjdGVkOiB5ZXM=?=");
        IG_CHECK(ig_header_list_get(&r->headers, "x-injected") == NULL);
        IG_CHECK(ig_header_list_get(&r->headers, "expect") == NULL);
        const char *auth = ig_header_list_get(&r->headers, "authorization");
        IG_CHECK(auth && strstr(auth, "/us-east-1/s3/aws4_request") != NULL);
        IG_CHECK_EQ_INT(ig_test_verify_recorded(r, "s3", 1, "SESSIONTOKEN"), IG_OK);
    }
    teardown(&f);
}

static void test_parallel_puts(void)
{
    ig_testsrv_reply script[] = {{.delay_ms = 300, .headers = "ETag: \"e\"\r\n"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    ig_s3_put_request puts[4] = {simple_put("p/0.png"), simple_put("p/1.png"), simple_put("p/2.png"),
                                 simple_put("p/3.png")};
    ig_s3_result res[4];
    int64_t t0 = ig_mono_ms();
    IG_CHECK_EQ_INT(ig_s3_put_objects(f.s3, puts, 4, ig_now_ms() + 5000, res), IG_OK);
    IG_CHECK(ig_mono_ms() - t0 < 1000); /* in a row they would take 1.2 s */
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 4);
    for (int i = 0; i < 4; i++) {
        IG_CHECK_EQ_INT(res[i].err, IG_OK);
        IG_CHECK_EQ_STR(res[i].etag, "\"e\"");
        const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, (size_t)i);
        IG_CHECK(r && ig_test_verify_recorded(r, "s3", 1, NULL) == IG_OK);
    }
    /* The next batch reuses the warm connections. */
    IG_CHECK_EQ_INT(ig_s3_put_objects(f.s3, puts, 4, ig_now_ms() + 5000, res), IG_OK);
    IG_CHECK_EQ_INT(ig_testsrv_connections(f.srv), 4);
    teardown(&f);
}

static void test_each_object_retried_on_its_own(void)
{
    ig_testsrv_reply script[] = {
        {.status = 503, .headers = "Content-Type: application/xml\r\n",
         .body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"},
        {.headers = "ETag: \"a\"\r\n"},
        {.headers = "ETag: \"b\"\r\n"}};
    fixture f;
    IG_CHECK(setup(&f, script, 3, NULL));
    ig_s3_put_request puts[2] = {simple_put("r/0.png"), simple_put("r/1.png")};
    ig_s3_result res[2];
    IG_CHECK_EQ_INT(ig_s3_put_objects(f.s3, puts, 2, ig_now_ms() + 5000, res), IG_OK);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 3);
    IG_CHECK_EQ_INT(res[0].attempts + res[1].attempts, 3);
    IG_CHECK(res[0].attempts == 1 || res[1].attempts == 1);
    IG_CHECK_EQ_INT(res[0].err, IG_OK);
    IG_CHECK_EQ_INT(res[1].err, IG_OK);
    teardown(&f);
}

static void test_access_denied_is_not_retried(void)
{
    ig_testsrv_reply script[] = {
        {.status = 403, .headers = "x-amz-request-id: DENIED1\r\n",
         .body = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    ig_s3_put_request put = simple_put("x.png");
    ig_s3_result res;
    IG_CHECK_EQ_INT(ig_s3_put_objects(f.s3, &put, 1, ig_now_ms() + 5000, &res), IG_ERR_AWS);
    IG_CHECK_EQ_INT(res.status, 403);
    IG_CHECK_EQ_STR(res.code, "AccessDenied");
    IG_CHECK_EQ_STR(res.message, "Access Denied");
    IG_CHECK_EQ_STR(res.request_id, "DENIED1");
    IG_CHECK_EQ_STR(res.stop_reason, "not retryable");
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 1);
    teardown(&f);
}

static void test_internal_errors_give_up_after_three(void)
{
    ig_testsrv_reply script[] = {{.status = 500, .body = "<Error><Code>InternalError</Code></Error>"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    ig_s3_put_request put = simple_put("x.png");
    ig_s3_result res;
    IG_CHECK_EQ_INT(ig_s3_put_objects(f.s3, &put, 1, ig_now_ms() + 5000, &res), IG_ERR_AWS);
    IG_CHECK_EQ_INT(res.attempts, 3);
    IG_CHECK_EQ_STR(res.code, "InternalError");
    IG_CHECK_EQ_STR(res.stop_reason, "attempts exhausted");
    teardown(&f);
}

static void check_refused(fixture *f, ig_s3_put_request put, ig_err code, const char *expect)
{
    ig_s3_result res;
    ig_err rc = ig_s3_put_objects(f->s3, &put, 1, ig_now_ms() + 5000, &res);
    IG_CHECK_EQ_INT(rc, code);
    IG_CHECK_EQ_INT(res.err, code);
    IG_CHECK_EQ_INT(res.attempts, 0);
    if (!strstr(res.message, expect))
        ig_test_fail(__FILE__, __LINE__, "expected \"%s\" in \"%s\"", expect, res.message);
}

static void test_bad_inputs_are_refused_before_sending(void)
{
    ig_testsrv_reply script[] = {{.body = ""}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    ig_s3_put_request p = simple_put("a\nb.png");
    check_refused(&f, p, IG_ERR_BAD_KEY, "control character (U+000A) at byte 1");
    p = simple_put("");
    check_refused(&f, p, IG_ERR_BAD_KEY, "empty");
    p = simple_put("ok.png");
    p.len = 0;
    check_refused(&f, p, IG_ERR_EMPTY, "empty");
    p = simple_put("ok.png");
    p.data = NULL;
    check_refused(&f, p, IG_ERR_EMPTY, "empty");
    p = simple_put("ok.png");
    p.content_type = NULL;
    check_refused(&f, p, IG_ERR_INVALID_ARG, "content type");
    p.content_type = "image/png\r\nX-Evil: 1";
    check_refused(&f, p, IG_ERR_INVALID_ARG, "content type");
    p = simple_put("ok.png");
    p.cache_control = "max-age=1\n";
    check_refused(&f, p, IG_ERR_INVALID_ARG, "Cache-Control");
    p = simple_put("ok.png");
    p.sse = "rot13";
    check_refused(&f, p, IG_ERR_INVALID_ARG, "AES256");
    p = simple_put("ok.png");
    p.sse = "AES256";
    p.sse_kms_key_id = "key";
    check_refused(&f, p, IG_ERR_INVALID_ARG, "aws:kms");
    ig_header bad_name[] = {{"Prompt", "x"}};
    p = simple_put("ok.png");
    p.metadata = bad_name;
    p.n_metadata = 1;
    check_refused(&f, p, IG_ERR_BAD_KEY, "metadata name 0");
    ig_header dup[] = {{"a", "1"}, {"a", "2"}};
    p.metadata = dup;
    p.n_metadata = 2;
    check_refused(&f, p, IG_ERR_BAD_KEY, "appears twice");
    ig_header bad_utf8[] = {{"prompt", "caf\xe9"}};
    p.metadata = bad_utf8;
    p.n_metadata = 1;
    check_refused(&f, p, IG_ERR_BAD_KEY, "not valid UTF-8 at byte 3");
    static char big[2100];
    memset(big, 'v', sizeof big - 1);
    ig_header too_much[] = {{"prompt", big}};
    p.metadata = too_much;
    check_refused(&f, p, IG_ERR_TOO_LARGE, "S3 allows 2048");
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 0);
    teardown(&f);
}

static void test_one_bad_object_does_not_stop_the_others(void)
{
    ig_testsrv_reply script[] = {{.headers = "ETag: \"ok\"\r\n"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    ig_s3_put_request puts[2] = {simple_put("bad\x01key"), simple_put("good.png")};
    ig_s3_result res[2];
    IG_CHECK_EQ_INT(ig_s3_put_objects(f.s3, puts, 2, ig_now_ms() + 5000, res), IG_ERR_BAD_KEY);
    IG_CHECK_EQ_INT(res[0].err, IG_ERR_BAD_KEY);
    IG_CHECK_EQ_INT(res[1].err, IG_OK);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 1);
    teardown(&f);
}

static void test_deadline(void)
{
    ig_testsrv_reply script[] = {{.delay_ms = 2000}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    ig_s3_put_request put = simple_put("slow.png");
    ig_s3_result res;
    IG_CHECK_EQ_INT(ig_s3_put_objects(f.s3, &put, 1, ig_now_ms() - 1, &res), IG_ERR_DEADLINE);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 0);
    int64_t deadline = ig_now_ms() + 400;
    IG_CHECK_EQ_INT(ig_s3_put_objects(f.s3, &put, 1, deadline, &res), IG_ERR_DEADLINE);
    IG_CHECK(ig_now_ms() <= deadline + 100); /* curl stops at the deadline; the rest is scheduling */
    IG_CHECK_EQ_INT(res.attempts, 1);
    teardown(&f);
}

static void test_head_object(void)
{
    ig_testsrv_reply script[] = {
        {.status = 500},
        {.headers = "Content-Length: 12345\r\nContent-Type: image/png\r\nETag: \"abc\"\r\n"
                    "x-amz-meta-prompt: =?UTF-8?B?YSByZWQgZm94DQpYLUluamVjdGVkOiB5ZXM=?=\r\n"
                    "x-amz-meta-model: titan\r\nx-amz-meta-Mixed-Case: =?UTF-8?Q?caf=C3=A9?=\r\n"},
        {.status = 404}};
    fixture f;
    IG_CHECK(setup(&f, script, 3, NULL));
    ig_s3_head_result h;
    ig_s3_head_result_init(&h);
    IG_CHECK_EQ_INT(ig_s3_head_object(f.s3, "images/a b.png", ig_now_ms() + 5000, &h), IG_OK);
    IG_CHECK_EQ_INT(h.attempts, 2); /* the 500 was retried */
    IG_CHECK_EQ_INT(h.content_length, 12345);
    IG_CHECK_EQ_STR(h.content_type, "image/png");
    IG_CHECK_EQ_STR(h.etag, "\"abc\"");
    IG_CHECK_EQ_STR(ig_header_list_get(&h.metadata, "prompt"), "a red fox\r\nX-Injected: yes");
    IG_CHECK_EQ_STR(ig_header_list_get(&h.metadata, "model"), "titan");
    IG_CHECK_EQ_STR(ig_header_list_get(&h.metadata, "mixed-case"), "caf\xc3\xa9");
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 1);
    IG_CHECK(r != NULL);
    if (r) {
        IG_CHECK_EQ_STR(r->method, "HEAD");
        IG_CHECK_EQ_STR(r->target, "/test-bucket/images/a%20b.png");
        IG_CHECK_EQ_INT(ig_test_verify_recorded(r, "s3", 1, NULL), IG_OK);
    }
    IG_CHECK_EQ_INT(ig_s3_head_object(f.s3, "missing.png", ig_now_ms() + 5000, &h), IG_ERR_AWS);
    IG_CHECK_EQ_INT(h.status, 404);
    IG_CHECK_EQ_STR(h.code, "NotFound");
    IG_CHECK_EQ_INT(h.attempts, 1);
    IG_CHECK_EQ_INT(h.metadata.len, 0);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 3);
    IG_CHECK_EQ_INT(ig_s3_head_object(f.s3, "bad\tkey", ig_now_ms() + 5000, &h), IG_ERR_BAD_KEY);
    IG_CHECK(strstr(h.message, "U+0009") != NULL);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 3);
    ig_s3_head_result_free(&h);
    teardown(&f);
}

static const char *query_param(const char *url, const char *name, char *out, size_t outlen)
{
    char pat[64];
    snprintf(pat, sizeof pat, "%s=", name);
    const char *q = strchr(url, '?');
    for (const char *p = q; p; p = strchr(p + 1, '&')) {
        if (strncmp(p + 1, pat, strlen(pat)) == 0) {
            const char *v = p + 1 + strlen(pat);
            size_t n = strcspn(v, "&");
            snprintf(out, outlen, "%.*s", (int)n, v);
            return out;
        }
    }
    return NULL;
}

static void test_presign(void)
{
    ig_testsrv_reply script[] = {{.body = ""}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, "TOKEN/with+chars"));
    ig_buf url, again;
    ig_buf_init(&url, 0);
    ig_buf_init(&again, 0);
    ig_error err;
    int64_t now = 1764425000; /* fixed: the URL is deterministic */
    IG_CHECK_EQ_INT(ig_s3_presign_get(f.s3, "images/a b.png", 3600, now, &url, &err), IG_OK);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/test-bucket/images/a%%20b.png?", ig_testsrv_url(f.srv));
    IG_CHECK(strncmp(ig_buf_cstr(&url), prefix, strlen(prefix)) == 0);
    char v[256];
    IG_CHECK_EQ_STR(query_param(ig_buf_cstr(&url), "X-Amz-Algorithm", v, sizeof v), "AWS4-HMAC-SHA256");
    IG_CHECK_EQ_STR(query_param(ig_buf_cstr(&url), "X-Amz-Expires", v, sizeof v), "3600");
    IG_CHECK_EQ_STR(query_param(ig_buf_cstr(&url), "X-Amz-SignedHeaders", v, sizeof v), "host");
    IG_CHECK_EQ_STR(query_param(ig_buf_cstr(&url), "X-Amz-Date", v, sizeof v), "20251129T140320Z");
    IG_CHECK_EQ_STR(query_param(ig_buf_cstr(&url), "X-Amz-Credential", v, sizeof v),
                    "AKIDEXAMPLE%2F20251129%2Fus-east-1%2Fs3%2Faws4_request");
    IG_CHECK_EQ_STR(query_param(ig_buf_cstr(&url), "X-Amz-Security-Token", v, sizeof v), "TOKEN%2Fwith%2Bchars");
    IG_CHECK(query_param(ig_buf_cstr(&url), "X-Amz-Signature", v, sizeof v) && strlen(v) == 64);
    IG_CHECK_EQ_INT(ig_s3_presign_get(f.s3, "images/a b.png", 3600, now, &again, &err), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&again), ig_buf_cstr(&url));
    ig_buf_reset(&again);
    IG_CHECK_EQ_INT(ig_s3_presign_get(f.s3, "images/a b.png", 3601, now, &again, &err), IG_OK);
    IG_CHECK(strcmp(ig_buf_cstr(&again), ig_buf_cstr(&url)) != 0);
    ig_buf_reset(&again);
    IG_CHECK_EQ_INT(ig_s3_presign_get(f.s3, "k", 1, 0, &again, &err), IG_OK); /* 0: now */
    IG_CHECK_EQ_INT(ig_s3_presign_get(f.s3, "k", 604800, now, &again, &err), IG_OK);
    IG_CHECK_EQ_INT(ig_s3_presign_get(f.s3, "k", 0, now, &again, &err), IG_ERR_INVALID_ARG);
    IG_CHECK(strstr(err.message, "604800") != NULL);
    IG_CHECK_EQ_INT(ig_s3_presign_get(f.s3, "k", 604801, now, &again, &err), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(ig_s3_presign_get(f.s3, "k\r\n", 60, now, &again, &err), IG_ERR_BAD_KEY);
    IG_CHECK(strstr(err.message, "byte 1") != NULL);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 0);
    ig_buf_free(&url);
    ig_buf_free(&again);
    teardown(&f);
}

static void test_virtual_hosted_presign(void)
{
    ig_aws_context ctx;
    IG_CHECK_EQ_INT(ig_test_aws_context(&ctx, NULL, NULL, NULL), IG_OK);
    ig_error err;
    ig_s3 *s3 = ig_s3_new(&ctx, "my-images", &err);
    IG_CHECK(s3 != NULL);
    ig_buf url;
    ig_buf_init(&url, 0);
    IG_CHECK_EQ_INT(ig_s3_presign_get(s3, "gen/x.png", 900, 1764425000, &url, &err), IG_OK);
    const char *want = "https://my-images.s3.us-east-1.amazonaws.com/gen/x.png?X-Amz-";
    IG_CHECK(strncmp(ig_buf_cstr(&url), want, strlen(want)) == 0);
    ig_buf_free(&url);
    ig_s3_free(s3);
    IG_CHECK(ig_s3_new(&ctx, "Bad_Bucket", &err) == NULL);
    IG_CHECK_EQ_INT(err.code, IG_ERR_CONFIG);
    ig_aws_context_free(&ctx);
}

/* ---- GetObject ---- */

static ig_s3_get_result get(fixture *f, const char *key, size_t max, ig_buf *body, ig_err want)
{
    ig_s3_get_result g;
    ig_err rc = ig_s3_get_object(f->s3, key, max, ig_now_ms() + 5000, &g, body);
    IG_CHECK_EQ_INT(rc, want);
    IG_CHECK_EQ_INT(g.err, want);
    return g;
}

static void test_get_object(void)
{
    ig_testsrv_reply script[] = {
        {.status = 503, .body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"},
        {.headers = "Content-Type: image/png\r\nETag: \"e1\"\r\nx-amz-request-id: G1\r\n", .body = PNG, .body_len = PNG_LEN},
        {.status = 404, .headers = "Content-Type: application/xml\r\n",
         .body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
                 "<Message>The specified key does not exist.</Message><Key>missing.png</Key></Error>"},
        {.status = 403, .body = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"}};
    fixture f;
    IG_CHECK(setup(&f, script, 4, "SESSIONTOKEN"));
    ig_buf body;
    ig_buf_init(&body, 0);
    ig_buf_append_str(&body, "left over from before");
    ig_s3_get_result g = get(&f, "uploads/u1/a b.png", PNG_LEN, &body, IG_OK); /* exactly the cap */
    IG_CHECK_EQ_INT(g.attempts, 2);                                           /* SlowDown was retried */
    IG_CHECK_EQ_INT(g.status, 200);
    IG_CHECK_EQ_INT(g.content_length, PNG_LEN);
    IG_CHECK_EQ_STR(g.content_type, "image/png");
    IG_CHECK_EQ_STR(g.etag, "\"e1\"");
    IG_CHECK_EQ_STR(g.request_id, "G1");
    IG_CHECK(body.len == PNG_LEN && memcmp(body.data, PNG, PNG_LEN) == 0);
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 1);
    IG_CHECK(r != NULL);
    if (r) {
        IG_CHECK_EQ_STR(r->method, "GET");
        IG_CHECK_EQ_STR(r->target, "/test-bucket/uploads/u1/a%20b.png");
        IG_CHECK_EQ_INT(ig_test_verify_recorded(r, "s3", 1, "SESSIONTOKEN"), IG_OK);
    }
    g = get(&f, "missing.png", 1, &body, IG_ERR_AWS); /* an error document larger than the cap is read */
    IG_CHECK_EQ_INT(g.status, 404);
    IG_CHECK_EQ_STR(g.code, "NoSuchKey");
    IG_CHECK_EQ_STR(g.message, "The specified key does not exist.");
    IG_CHECK_EQ_INT(g.attempts, 1);
    IG_CHECK_EQ_INT(body.len, 0);
    g = get(&f, "denied.png", 1000, &body, IG_ERR_AWS);
    IG_CHECK_EQ_INT(g.status, 403);
    IG_CHECK_EQ_STR(g.stop_reason, "not retryable");
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 4);
    ig_buf_free(&body);
    teardown(&f);
}

static void test_get_object_over_the_cap(void)
{
    static char big[200 * 1024];
    memset(big, 'x', sizeof big);
    ig_testsrv_reply script[] = {
        {.headers = "Content-Type: image/png\r\n", .body = big, .body_len = sizeof big},  /* by Content-Length */
        {.body = big, .body_len = sizeof big, .no_length = 1, .close = 1},              /* cut while reading */
        {.body = PNG, .body_len = PNG_LEN},                                             /* under the floor */
        {.body = PNG, .body_len = PNG_LEN}};
    fixture f;
    IG_CHECK(setup(&f, script, 4, NULL));
    ig_buf body;
    ig_buf_init(&body, 0);
    ig_s3_get_result g = get(&f, "big.png", 100 * 1024, &body, IG_ERR_TOO_LARGE);
    IG_CHECK_EQ_STR(g.message, "the object \"big.png\" is 204800 bytes, over the limit of 102400 bytes");
    IG_CHECK_EQ_INT(g.attempts, 1);
    IG_CHECK_EQ_INT(body.len, 0);
    g = get(&f, "stream.png", 100 * 1024, &body, IG_ERR_TOO_LARGE);
    IG_CHECK(strstr(g.message, "over the limit of 102400 bytes") != NULL);
    IG_CHECK_EQ_INT(g.attempts, 1);
    /* A cap below the 16 KiB floor: the small answer is read, then refused by its length. */
    g = get(&f, "small.png", PNG_LEN - 1, &body, IG_ERR_TOO_LARGE);
    char want[128];
    snprintf(want, sizeof want, "the object \"small.png\" is %zu bytes, over the limit of %zu bytes", PNG_LEN,
             PNG_LEN - 1);
    IG_CHECK_EQ_STR(g.message, want);
    IG_CHECK_EQ_INT(body.len, 0);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 3);
    g = get(&f, "bad\nkey", 10, &body, IG_ERR_BAD_KEY);
    IG_CHECK(strstr(g.message, "U+000A") != NULL);
    g = get(&f, "k.png", 0, &body, IG_ERR_INVALID_ARG);
    IG_CHECK(strstr(g.message, "at least 1 byte") != NULL);
    IG_CHECK_EQ_INT(ig_s3_get_object(f.s3, "k.png", 10, ig_now_ms() + 5000, &g, NULL), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 3);
    ig_buf_free(&body);
    teardown(&f);
}

/* ---- presigned POST ---- */

/* AWS's worked example ("Example: Browser-Based Upload using HTTP POST (Using AWS Signature
 * Version 4)", Amazon S3 API Reference): its base64 policy and signature. */
static void test_post_policy_signature_matches_aws_example(void)
{
    static const char policy[] =
        "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6"
        "ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFj"
        "bCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tl"
        "dC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5"
        "cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZl"
        "ci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoN"
        "CiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVx"
        "dWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAx"
        "NTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
    ig_sigv4_credentials creds = {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL};
    char sig[65];
    ig_error err;
    /* 2015-12-29T00:00:00Z, the day of its x-amz-credential */
    IG_CHECK_EQ_INT(ig_sigv4_sign_policy(NULL, &creds, "us-east-1", "s3", 1451347200, policy, strlen(policy), sig,
                                         &err),
                    IG_OK);
    IG_CHECK_EQ_STR(sig, "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e");
    /* Any second of the same day gives the same key; the next day does not. */
    char again[65];
    IG_CHECK_EQ_INT(ig_sigv4_sign_policy(NULL, &creds, "us-east-1", "s3", 1451347200 + 86399, policy,
                                         strlen(policy), again, &err),
                    IG_OK);
    IG_CHECK_EQ_STR(again, sig);
    ig_sigv4_sign_policy(NULL, &creds, "us-east-1", "s3", 1451347200 + 86400, policy, strlen(policy), again, &err);
    IG_CHECK(strcmp(again, sig) != 0);
    creds.secret_access_key = NULL;
    IG_CHECK_EQ_INT(ig_sigv4_sign_policy(NULL, &creds, "us-east-1", "s3", 1451347200, policy, strlen(policy), sig,
                                         &err),
                    IG_ERR_CREDENTIALS);
}

static const char *field(json_t *out, const char *name)
{
    return json_string_value(json_object_get(json_object_get(out, "fields"), name));
}

/* The policy document the fields carry, decoded. */
static char *decoded_policy(json_t *out)
{
    const char *b64 = field(out, "policy");
    ig_buf b;
    ig_buf_init(&b, 0);
    ig_error err;
    if (!b64 || ig_base64_decode_buf(b64, strlen(b64), &b, &err) != IG_OK || ig_buf_append_char(&b, '\0') != IG_OK) {
        ig_buf_free(&b);
        return NULL;
    }
    return ig_buf_steal(&b, NULL);
}

static void test_presign_post(void)
{
    ig_testsrv_reply script[] = {{.body = ""}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, "TOKEN/with+chars"));
    ig_s3_post_request req = {.key = "uploads/u1/caf\xc3\xa9 1.png", .content_type = "image/png",
                              .max_bytes = 5242880, .expires_s = 900};
    json_t *out = NULL;
    ig_error err;
    IG_CHECK_EQ_INT(ig_s3_presign_post(f.s3, &req, 1764425000, &out, &err), IG_OK);
    char url[128];
    snprintf(url, sizeof url, "%s/test-bucket", ig_testsrv_url(f.srv));
    IG_CHECK_EQ_STR(json_string_value(json_object_get(out, "url")), url);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(out, "key")), "uploads/u1/caf\xc3\xa9 1.png");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(out, "expires_at")), "2025-11-29T14:18:20.000Z");
    IG_CHECK_EQ_STR(field(out, "key"), "uploads/u1/caf\xc3\xa9 1.png");
    IG_CHECK_EQ_STR(field(out, "Content-Type"), "image/png");
    IG_CHECK_EQ_STR(field(out, "x-amz-algorithm"), "AWS4-HMAC-SHA256");
    IG_CHECK_EQ_STR(field(out, "x-amz-credential"), "AKIDEXAMPLE/20251129/us-east-1/s3/aws4_request");
    IG_CHECK_EQ_STR(field(out, "x-amz-date"), "20251129T140320Z");
    IG_CHECK_EQ_STR(field(out, "x-amz-security-token"), "TOKEN/with+chars");
    IG_CHECK_EQ_INT(json_object_size(json_object_get(out, "fields")), 8);
    /* The form sends the fields in this order, key first and the signature last. */
    const char *order[] = {"key", "Content-Type", "x-amz-algorithm", "x-amz-credential", "x-amz-date",
                           "x-amz-security-token", "policy", "x-amz-signature"};
    size_t i = 0;
    const char *name;
    json_t *value;
    json_object_foreach(json_object_get(out, "fields"), name, value)
    {
        IG_CHECK(i < 8 && strcmp(name, order[i]) == 0);
        i++;
    }
    char *policy = decoded_policy(out);
    IG_CHECK_EQ_STR(policy,
                    "{\"expiration\": \"2025-11-29T14:18:20.000Z\", \"conditions\": "
                    "[{\"Content-Type\": \"image/png\"}, [\"content-length-range\", 1, 5242880], "
                    "{\"bucket\": \"test-bucket\"}, {\"key\": \"uploads/u1/caf\\u00e9 1.png\"}, "
                    "{\"x-amz-algorithm\": \"AWS4-HMAC-SHA256\"}, "
                    "{\"x-amz-credential\": \"AKIDEXAMPLE/20251129/us-east-1/s3/aws4_request\"}, "
                    "{\"x-amz-date\": \"20251129T140320Z\"}, {\"x-amz-security-token\": \"TOKEN/with+chars\"}]}");
    free(policy);
    /* The signature is the signing key's HMAC of the base64 policy as the form carries it. */
    ig_sigv4_credentials creds = {IG_TEST_AKID, IG_TEST_SECRET, "TOKEN/with+chars"};
    char sig[65];
    const char *b64 = field(out, "policy");
    IG_CHECK_EQ_INT(ig_sigv4_sign_policy(NULL, &creds, "us-east-1", "s3", 1764425000, b64, b64 ? strlen(b64) : 0,
                                         sig, &err),
                    IG_OK);
    IG_CHECK_EQ_STR(field(out, "x-amz-signature"), sig);
    /* Same inputs, same answer; another size, another signature. */
    json_t *again = NULL;
    IG_CHECK_EQ_INT(ig_s3_presign_post(f.s3, &req, 1764425000, &again, &err), IG_OK);
    IG_CHECK_EQ_STR(field(again, "x-amz-signature"), field(out, "x-amz-signature"));
    json_decref(again);
    req.max_bytes = 5242881;
    IG_CHECK_EQ_INT(ig_s3_presign_post(f.s3, &req, 1764425000, &again, &err), IG_OK);
    IG_CHECK(strcmp(field(again, "x-amz-signature"), field(out, "x-amz-signature")) != 0);
    json_decref(again);
    json_decref(out);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 0); /* signing sends nothing */
    teardown(&f);
}

static void check_post_refused(ig_s3 *s3, ig_s3_post_request req, ig_err code, const char *expect)
{
    json_t *out = (json_t *)1;
    ig_error err;
    ig_error_clear(&err);
    IG_CHECK_EQ_INT(ig_s3_presign_post(s3, &req, 1764425000, &out, &err), code);
    IG_CHECK(out == NULL);
    if (!strstr(err.message, expect))
        ig_test_fail(__FILE__, __LINE__, "expected \"%s\" in \"%s\"", expect, err.message);
}

static void test_presign_post_refusals_and_virtual_hosts(void)
{
    ig_aws_context ctx;
    IG_CHECK_EQ_INT(ig_test_aws_context(&ctx, NULL, NULL, NULL), IG_OK);
    ig_error err;
    ig_s3 *s3 = ig_s3_new(&ctx, "my-images", &err);
    IG_CHECK(s3 != NULL);
    ig_s3_post_request ok = {.key = "uploads/x.png", .content_type = "image/png", .max_bytes = 1, .expires_s = 1};
    json_t *out = NULL;
    IG_CHECK_EQ_INT(ig_s3_presign_post(s3, &ok, 1764425000, &out, &err), IG_OK);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(out, "url")), "https://my-images.s3.us-east-1.amazonaws.com/");
    IG_CHECK(json_object_get(json_object_get(out, "fields"), "x-amz-security-token") == NULL);
    char *policy = decoded_policy(out);
    IG_CHECK(policy && strstr(policy, "[\"content-length-range\", 1, 1]") && !strstr(policy, "security-token"));
    free(policy);
    json_decref(out);
    out = NULL;
    IG_CHECK_EQ_INT(ig_s3_presign_post(s3, &ok, 0, &out, &err), IG_OK); /* 0: now */
    json_decref(out);
    ig_s3_post_request r = ok;
    r.key = "a\r\nb";
    check_post_refused(s3, r, IG_ERR_BAD_KEY, "U+000D");
    r = ok, r.key = "";
    check_post_refused(s3, r, IG_ERR_BAD_KEY, "empty");
    r = ok, r.content_type = "image/png\r\nx: y";
    check_post_refused(s3, r, IG_ERR_INVALID_ARG, "printable ASCII (0x0d) at byte 9");
    r = ok, r.content_type = "";
    check_post_refused(s3, r, IG_ERR_INVALID_ARG, "1 to 255 bytes");
    r = ok, r.content_type = NULL;
    check_post_refused(s3, r, IG_ERR_INVALID_ARG, "1 to 255 bytes");
    r = ok, r.max_bytes = 0;
    check_post_refused(s3, r, IG_ERR_TOO_LARGE, "1 byte to 5 GiB");
    r = ok, r.max_bytes = (uint64_t)5 * 1024 * 1024 * 1024 + 1;
    check_post_refused(s3, r, IG_ERR_TOO_LARGE, "5368709121 bytes was asked");
    r = ok, r.expires_s = 0;
    check_post_refused(s3, r, IG_ERR_INVALID_ARG, "604800");
    r = ok, r.expires_s = 604801;
    check_post_refused(s3, r, IG_ERR_INVALID_ARG, "604801 was asked");
    IG_CHECK_EQ_INT(ig_s3_presign_post(s3, NULL, 1, &out, &err), IG_ERR_INVALID_ARG);
    ig_s3_free(s3);
    /* A dotted bucket goes in the path, as for GET. */
    s3 = ig_s3_new(&ctx, "my.images", &err);
    IG_CHECK(s3 != NULL);
    IG_CHECK_EQ_INT(ig_s3_presign_post(s3, &ok, 1764425000, &out, &err), IG_OK);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(out, "url")), "https://s3.us-east-1.amazonaws.com/my.images");
    json_decref(out);
    ig_s3_free(s3);
    ig_aws_context_free(&ctx);
}

int main(void)
{
    if (ig_http_global_init() != IG_OK)
        return 1;
    IG_RUN(test_put_wire_shape_and_signature);
    IG_RUN(test_parallel_puts);
    IG_RUN(test_each_object_retried_on_its_own);
    IG_RUN(test_access_denied_is_not_retried);
    IG_RUN(test_internal_errors_give_up_after_three);
    IG_RUN(test_bad_inputs_are_refused_before_sending);
    IG_RUN(test_one_bad_object_does_not_stop_the_others);
    IG_RUN(test_deadline);
    IG_RUN(test_head_object);
    IG_RUN(test_presign);
    IG_RUN(test_virtual_hosted_presign);
    IG_RUN(test_get_object);
    IG_RUN(test_get_object_over_the_cap);
    IG_RUN(test_post_policy_signature_matches_aws_example);
    IG_RUN(test_presign_post);
    IG_RUN(test_presign_post_refusals_and_virtual_hosts);
    ig_http_global_cleanup();
    return ig_test_finish("s3");
}
