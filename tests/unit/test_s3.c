/* test_s3.c - PutObject, HeadObject and presigned GETs against a scripted server of the test's
 * own: wire shape and signatures, parallel uploads with per-object retries, refused inputs,
 * metadata that cannot break headers, error documents. */
#include <stdlib.h>
#include <string.h>

#include "aws/s3.h"
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
    ig_http_global_cleanup();
    return ig_test_finish("s3");
}
