/* test_bedrock.c - InvokeModel against a scripted server of the test's own: the wire shape and
 * signature, retries on throttling / 5xx / ModelNotReadyException, no retry on validation
 * errors, deadlines that are never passed, server delay hints, error decoding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/bedrock.h"
#include "core/clock.h"
#include "support_aws_env.h"
#include "support_http_server.h"
#include "testlib.h"

#define MODEL "amazon.titan-image-generator-v2:0"
#define BODY "{\"taskType\":\"TEXT_IMAGE\",\"textToImageParams\":{\"text\":\"a red fox\"}}"

typedef struct {
    ig_testsrv *srv;
    ig_aws_context ctx;
    ig_bedrock *br;
    ig_bedrock_result res;
} fixture;

static int setup(fixture *f, const ig_testsrv_reply *script, size_t n, const char *token)
{
    memset(f, 0, sizeof *f);
    f->srv = ig_testsrv_start(script, n);
    if (!f->srv)
        return 0;
    if (ig_test_aws_context(&f->ctx, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", ig_testsrv_url(f->srv), token) != IG_OK)
        return 0;
    ig_error err;
    f->br = ig_bedrock_new(&f->ctx, &err);
    ig_bedrock_result_init(&f->res);
    return f->br != NULL;
}

static void teardown(fixture *f)
{
    ig_bedrock_result_free(&f->res);
    ig_bedrock_free(f->br);
    ig_aws_context_free(&f->ctx);
    ig_testsrv_stop(f->srv);
}

static ig_err invoke(fixture *f, int64_t deadline_ms)
{
    return ig_bedrock_invoke(f->br, MODEL, BODY, strlen(BODY), deadline_ms, &f->res);
}

static void test_success_wire_shape_and_signature(void)
{
    ig_testsrv_reply script[] = {{.headers = "x-amzn-RequestId: 0b5e-req\r\nContent-Type: application/json\r\n",
                                  .body = "{\"images\":[\"iVBORw0KGgo=\"]}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    IG_CHECK_EQ_INT(invoke(&f, ig_now_ms() + 5000), IG_OK);
    IG_CHECK_EQ_INT(f.res.status, 200);
    IG_CHECK_EQ_INT(f.res.attempts, 1);
    IG_CHECK_EQ_STR(f.res.request_id, "0b5e-req");
    IG_CHECK_EQ_STR(ig_buf_cstr(&f.res.body), "{\"images\":[\"iVBORw0KGgo=\"]}");
    IG_CHECK(f.res.stop_reason == NULL);
    IG_CHECK(f.res.seconds > 0);
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 0);
    IG_CHECK(r != NULL);
    if (r) {
        IG_CHECK_EQ_STR(r->method, "POST");
        IG_CHECK_EQ_STR(r->target, "/model/amazon.titan-image-generator-v2%3A0/invoke");
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "content-type"), "application/json");
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "accept"), "application/json");
        IG_CHECK(ig_header_list_get(&r->headers, "x-amz-content-sha256") == NULL);
        IG_CHECK(ig_header_list_get(&r->headers, "expect") == NULL);
        const char *auth = ig_header_list_get(&r->headers, "authorization");
        IG_CHECK(auth && strstr(auth, "/us-east-1/bedrock/aws4_request") != NULL);
        IG_CHECK(auth && strstr(auth, "SignedHeaders=accept;content-type;host;x-amz-date,") != NULL);
        IG_CHECK_EQ_STR(ig_buf_cstr(&r->body), BODY);
        IG_CHECK_EQ_INT(ig_test_verify_recorded(r, "bedrock", 0, NULL), IG_OK);
        /* The same request checked with S3's single-encoding rule must fail: the model id's
         * "%3A" is signed as "%253A". */
        IG_CHECK(ig_test_verify_quietly(r, "bedrock", 1, NULL) == IG_ERR_SIGNATURE);
    }
    teardown(&f);
}

static void test_session_token_is_sent_and_signed(void)
{
    ig_testsrv_reply script[] = {{.body = "{}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, "FQoGZXIvYXdzEXAMPLETOKEN"));
    IG_CHECK_EQ_INT(invoke(&f, ig_now_ms() + 5000), IG_OK);
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 0);
    IG_CHECK(r != NULL);
    if (r) {
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "x-amz-security-token"), "FQoGZXIvYXdzEXAMPLETOKEN");
        const char *auth = ig_header_list_get(&r->headers, "authorization");
        IG_CHECK(auth && strstr(auth, "x-amz-security-token") != NULL);
        IG_CHECK_EQ_INT(ig_test_verify_recorded(r, "bedrock", 0, "FQoGZXIvYXdzEXAMPLETOKEN"), IG_OK);
    }
    teardown(&f);
}

static void test_retries_throttling_5xx_and_model_not_ready(void)
{
    ig_testsrv_reply script[] = {
        {.status = 429, .headers = "x-amzn-ErrorType: ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/\r\n",
         .body = "{\"message\":\"Too many requests, please wait before trying again.\"}"},
        {.status = 503, .headers = "x-amzn-ErrorType: ServiceUnavailableException\r\n",
         .body = "{\"message\":\"Service unavailable\"}"},
        {.status = 429, .headers = "x-amzn-ErrorType: ModelNotReadyException\r\n",
         .body = "{\"message\":\"Model is not ready\"}"},
        {.headers = "x-amzn-RequestId: finally\r\n", .body = "{\"images\":[]}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 4, NULL));
    f.ctx.retry.max_attempts = 4;
    IG_CHECK_EQ_INT(invoke(&f, ig_now_ms() + 10000), IG_OK);
    IG_CHECK_EQ_INT(f.res.attempts, 4);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 4);
    IG_CHECK_EQ_STR(f.res.request_id, "finally");
    IG_CHECK_EQ_STR(ig_buf_cstr(&f.res.body), "{\"images\":[]}");
    IG_CHECK_EQ_INT(ig_testsrv_connections(f.srv), 1); /* retries reuse the connection */
    /* Every attempt was signed afresh and verifies. */
    for (size_t i = 0; i < 4; i++) {
        const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, i);
        IG_CHECK(r && ig_test_verify_recorded(r, "bedrock", 0, NULL) == IG_OK);
    }
    /* 3 retries took 5 tokens each, the success refunded the last retry's cost. */
    IG_CHECK_EQ_INT(f.ctx.retry.quota, 500 - 15 + 5);
    teardown(&f);
}

static void test_attempts_are_bounded(void)
{
    ig_testsrv_reply script[] = {{.status = 429, .headers = "x-amzn-ErrorType: ThrottlingException\r\n",
                                  .body = "{\"message\":\"Rate exceeded\"}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    IG_CHECK_EQ_INT(invoke(&f, ig_now_ms() + 10000), IG_ERR_AWS);
    IG_CHECK_EQ_INT(f.res.attempts, 3);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 3);
    IG_CHECK_EQ_INT(f.res.status, 429);
    IG_CHECK_EQ_STR(f.res.error_type, "ThrottlingException");
    IG_CHECK_EQ_STR(f.res.message, "Rate exceeded");
    IG_CHECK_EQ_STR(f.res.stop_reason, "attempts exhausted");
    IG_CHECK_EQ_STR(ig_buf_cstr(&f.res.body), "{\"message\":\"Rate exceeded\"}");
    teardown(&f);
}

static void test_validation_error_is_not_retried(void)
{
    ig_testsrv_reply script[] = {
        {.status = 400,
         .headers = "x-amzn-ErrorType: ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/\r\n"
                    "x-amzn-RequestId: val-1\r\n",
         .body = "{\"message\":\"Malformed input request: #/textToImageParams/text: expected maxLength: 512\"}"},
        {.body = "{}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 2, NULL));
    IG_CHECK_EQ_INT(invoke(&f, ig_now_ms() + 5000), IG_ERR_AWS);
    IG_CHECK_EQ_INT(f.res.attempts, 1);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 1);
    IG_CHECK_EQ_INT(f.res.status, 400);
    IG_CHECK_EQ_STR(f.res.error_type, "ValidationException");
    IG_CHECK_EQ_STR(f.res.message, "Malformed input request: #/textToImageParams/text: expected maxLength: 512");
    IG_CHECK_EQ_STR(f.res.request_id, "val-1");
    IG_CHECK_EQ_STR(f.res.stop_reason, "not retryable");
    IG_CHECK_EQ_INT(f.ctx.retry.quota, 500);
    teardown(&f);
}

static void test_capital_message_and_body_type(void)
{
    ig_testsrv_reply script[] = {
        {.status = 403, .body = "{\"__type\":\"com.amazon.coral.service#AccessDeniedException\","
                                "\"Message\":\"User is not authorized\"}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    IG_CHECK_EQ_INT(invoke(&f, ig_now_ms() + 5000), IG_ERR_AWS);
    IG_CHECK_EQ_STR(f.res.error_type, "AccessDeniedException");
    IG_CHECK_EQ_STR(f.res.message, "User is not authorized");
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 1);
    teardown(&f);
}

static void test_deadline_is_never_passed(void)
{
    /* The model takes 3 s; the caller has 600 ms. */
    ig_testsrv_reply script[] = {{.body = "{}", .delay_ms = 3000}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    int64_t deadline = ig_now_ms() + 600;
    IG_CHECK_EQ_INT(invoke(&f, deadline), IG_ERR_DEADLINE);
    /* curl stops the transfer at the deadline; what is left is scheduling. */
    IG_CHECK(ig_now_ms() <= deadline + 100);
    IG_CHECK_EQ_INT(f.res.attempts, 1);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 1);
    IG_CHECK_EQ_STR(f.res.stop_reason, "not enough time before the deadline");
    teardown(&f);
}

static void test_no_retry_starts_that_cannot_finish(void)
{
    /* Each answer takes 400 ms and is a 503; attempts need at least 500 ms. With 1.2 s the
     * second attempt may start (unless the machine is slow); a third never can. */
    ig_testsrv_reply script[] = {{.status = 503, .body = "{\"message\":\"busy\"}", .delay_ms = 400}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    f.ctx.retry.max_attempts = 10;
    f.ctx.retry.min_attempt_ms = 500;
    int64_t deadline = ig_now_ms() + 1200;
    IG_CHECK_EQ_INT(invoke(&f, deadline), IG_ERR_AWS);
    int64_t end = ig_now_ms();
    IG_CHECK(end <= deadline);
    int hits = ig_testsrv_hits(f.srv);
    IG_CHECK(hits >= 1 && hits <= 2);
    IG_CHECK_EQ_INT(f.res.attempts, hits);
    for (int i = 0; i < hits; i++) {
        const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, (size_t)i);
        /* Every attempt that started could finish: it arrived with its 400 ms still ahead. */
        IG_CHECK(r && r->received_ms + 400 <= deadline);
    }
    IG_CHECK_EQ_INT(f.res.status, 503);
    IG_CHECK_EQ_STR(f.res.stop_reason, "not enough time before the deadline");
    teardown(&f);
}

static void test_server_hint_delays_the_retry(void)
{
    ig_testsrv_reply script[] = {{.status = 503, .headers = "x-amz-retry-after: 400\r\n", .body = "{}"},
                                 {.status = 503, .headers = "Retry-After: 1\r\n", .body = "{}"},
                                 {.body = "{\"ok\":true}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 3, NULL));
    IG_CHECK_EQ_INT(invoke(&f, ig_now_ms() + 10000), IG_OK);
    IG_CHECK_EQ_INT(f.res.attempts, 3);
    const ig_testsrv_request *a = ig_testsrv_request_at(f.srv, 0), *b = ig_testsrv_request_at(f.srv, 1),
                             *c = ig_testsrv_request_at(f.srv, 2);
    IG_CHECK(a && b && c);
    if (a && b && c) {
        IG_CHECK(b->received_ms - a->received_ms >= 400);
        IG_CHECK(c->received_ms - b->received_ms >= 1000);
    }
    teardown(&f);
}

static void test_hint_reported_on_failure(void)
{
    ig_testsrv_reply script[] = {{.status = 429, .headers = "x-amzn-ErrorType: ThrottlingException\r\nRetry-After: 2\r\n",
                                  .body = "{\"message\":\"slow\"}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    f.ctx.retry.max_attempts = 1;
    IG_CHECK_EQ_INT(invoke(&f, ig_now_ms() + 5000), IG_ERR_AWS);
    IG_CHECK_EQ_INT(f.res.retry_after_ms, 2000);
    IG_CHECK_EQ_STR(f.res.stop_reason, "attempts exhausted");
    teardown(&f);
}

static void test_connection_failures_are_retried_then_reported(void)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ig_testsrv_closed_port());
    ig_aws_context ctx;
    IG_CHECK_EQ_INT(ig_test_aws_context(&ctx, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", url, NULL), IG_OK);
    ig_bedrock *br = ig_bedrock_new(&ctx, NULL);
    ig_bedrock_result res;
    ig_bedrock_result_init(&res);
    IG_CHECK_EQ_INT(ig_bedrock_invoke(br, MODEL, BODY, strlen(BODY), ig_now_ms() + 5000, &res), IG_ERR_CONNECT);
    IG_CHECK_EQ_INT(res.attempts, 3);
    IG_CHECK_EQ_INT(res.status, 0);
    IG_CHECK(strstr(res.message, "127.0.0.1") != NULL);
    IG_CHECK_EQ_INT(ctx.retry.quota, 500 - 20); /* connection retries cost 10 each */
    ig_bedrock_result_free(&res);
    ig_bedrock_free(br);
    ig_aws_context_free(&ctx);
}

static void test_oversized_answer_is_refused(void)
{
    ig_testsrv_reply script[] = {{.headers = "Content-Length: 30000000\r\n", .close = 1}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    IG_CHECK_EQ_INT(invoke(&f, ig_now_ms() + 5000), IG_ERR_TOO_LARGE);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 1);
    IG_CHECK(strstr(f.res.message, "limit") != NULL);
    teardown(&f);
}

static void test_bad_inputs_send_nothing(void)
{
    ig_testsrv_reply script[] = {{.body = "{}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    int64_t dl = ig_now_ms() + 5000;
    IG_CHECK_EQ_INT(ig_bedrock_invoke(f.br, MODEL, "", 0, dl, &f.res), IG_ERR_EMPTY);
    IG_CHECK_EQ_STR(f.res.message, "the request body is empty");
    IG_CHECK_EQ_INT(ig_bedrock_invoke(f.br, MODEL, NULL, 10, dl, &f.res), IG_ERR_EMPTY);
    size_t big = IG_BEDROCK_MAX_BODY + 1;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    IG_CHECK_EQ_INT(ig_bedrock_invoke(f.br, MODEL, huge, big, dl, &f.res), IG_ERR_TOO_LARGE);
    IG_CHECK(strstr(f.res.message, "25,000,000") != NULL);
    free(huge);
    IG_CHECK_EQ_INT(ig_bedrock_invoke(f.br, "", BODY, strlen(BODY), dl, &f.res), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(ig_bedrock_invoke(f.br, NULL, BODY, strlen(BODY), dl, &f.res), IG_ERR_INVALID_ARG);
    char longid[2100];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    IG_CHECK_EQ_INT(ig_bedrock_invoke(f.br, longid, BODY, strlen(BODY), dl, &f.res), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(ig_bedrock_invoke(NULL, MODEL, BODY, strlen(BODY), dl, &f.res), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(ig_bedrock_invoke(f.br, MODEL, BODY, strlen(BODY), ig_now_ms() - 1, &f.res), IG_ERR_DEADLINE);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 0);
    teardown(&f);
}

static void test_arn_model_ids_are_encoded(void)
{
    ig_testsrv_reply script[] = {{.body = "{}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    const char *arn = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-canvas-v1:0";
    IG_CHECK_EQ_INT(ig_bedrock_invoke(f.br, arn, BODY, strlen(BODY), ig_now_ms() + 5000, &f.res), IG_OK);
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 0);
    IG_CHECK(r != NULL);
    if (r) {
        IG_CHECK_EQ_STR(r->target, "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A%3Afoundation-model%2Famazon.nova-canvas-v1%3A0/invoke");
        IG_CHECK_EQ_INT(ig_test_verify_recorded(r, "bedrock", 0, NULL), IG_OK);
    }
    teardown(&f);
}

static void test_keep_alive_across_invocations(void)
{
    ig_testsrv_reply script[] = {{.body = "{}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    for (int i = 0; i < 3; i++)
        IG_CHECK_EQ_INT(invoke(&f, ig_now_ms() + 5000), IG_OK);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 3);
    IG_CHECK_EQ_INT(ig_testsrv_connections(f.srv), 1);
    teardown(&f);
}

static void check_parse(long status, const char *hdr, const char *body, const char *type, const char *msg)
{
    char t[128], m[256];
    ig_bedrock_parse_error(status, hdr, body, body ? strlen(body) : 0, t, sizeof t, m, sizeof m);
    if (strcmp(t, type) != 0 || strcmp(m, msg) != 0)
        ig_test_fail(__FILE__, __LINE__, "parse(%ld, %s, %s): got (\"%s\", \"%s\"), expected (\"%s\", \"%s\")", status,
                     hdr ? hdr : "NULL", body ? body : "NULL", t, m, type, msg);
}

static void test_error_decoding(void)
{
    check_parse(400, "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/",
                "{\"message\":\"bad\"}", "ValidationException", "bad");
    check_parse(400, "ValidationException", "{\"Message\":\"Bad\"}", "ValidationException", "Bad");
    check_parse(400, "ValidationException", "{\"message\":\"lower\",\"Message\":\"upper\"}", "ValidationException",
                "lower");
    check_parse(400, NULL, "{\"__type\":\"ServiceQuotaExceededException\",\"message\":\"q\"}",
                "ServiceQuotaExceededException", "q");
    check_parse(400, "", "{\"__type\":\"aws.protocoltests#ThrottlingException:http://x\"}", "ThrottlingException", "");
    check_parse(424, NULL, "{\"code\":\"ModelErrorException\",\"Code\":\"Other\"}", "ModelErrorException", "");
    check_parse(424, NULL, "{\"Code\":\"ModelErrorException\"}", "ModelErrorException", "");
    check_parse(429, NULL, "{\"message\":\"no type\"}", "429", "no type");
    check_parse(503, NULL, "<html>Service Unavailable</html>", "503", "");
    check_parse(500, NULL, "", "500", "");
    check_parse(500, NULL, NULL, "500", "");
    check_parse(500, NULL, "[\"array\"]", "500", "");
    check_parse(500, NULL, "\"string\"", "500", "");
    check_parse(400, NULL, "{\"message\":42,\"__type\":7}", "400", "");
    check_parse(400, NULL, "{\"message\":\"line1\\nline2\\r\"}", "400", "line1 line2 ");
    check_parse(400, "  Spaced : suffix", "{}", "Spaced", "");
    check_parse(400, ":onlysuffix", "{\"__type\":\"FromBody\"}", "FromBody", "");
    check_parse(400, NULL, "{\"message\":\"trunc", "400", "");
    /* Small output buffers truncate, never overflow. */
    char t[8], m[6];
    ig_bedrock_parse_error(400, "ValidationException", "{\"message\":\"a long message\"}", 28, t, sizeof t, m,
                           sizeof m);
    IG_CHECK_EQ_STR(t, "Validat");
    IG_CHECK_EQ_STR(m, "a lon");
}


static void test_bedrock_region_of_its_own(void)
{
    ig_testsrv_reply script[] = {{.body = "{}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    ig_error err;
    ig_bedrock *west = ig_bedrock_new_in(&f.ctx, "us-west-2", &err);
    IG_CHECK(west != NULL);
    IG_CHECK_EQ_STR(ig_bedrock_region(west), "us-west-2");
    IG_CHECK_EQ_STR(ig_bedrock_region(f.br), "us-east-1");
    IG_CHECK_EQ_INT(ig_bedrock_invoke(west, MODEL, BODY, strlen(BODY), ig_now_ms() + 5000, &f.res), IG_OK);
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 0);
    IG_CHECK(r != NULL);
    if (r) {
        const char *auth = ig_header_list_get(&r->headers, "authorization");
        IG_CHECK(auth && strstr(auth, "/us-west-2/bedrock/aws4_request") != NULL);
        IG_CHECK_EQ_INT(ig_test_verify_recorded_in(r, "us-west-2", "bedrock", NULL), IG_OK);
        IG_CHECK(ig_test_verify_quietly(r, "bedrock", 0, NULL) != IG_OK); /* not valid for us-east-1 */
    }
    IG_CHECK_EQ_STR(f.ctx.region, "us-east-1"); /* the context (and S3) keep theirs */
    ig_bedrock_free(west);
    IG_CHECK(ig_bedrock_new_in(&f.ctx, "not a region", &err) == NULL);
    IG_CHECK(strstr(err.message, "not a region name") != NULL);
    ig_bedrock *dflt = ig_bedrock_new_in(&f.ctx, "", &err);
    IG_CHECK(dflt && strcmp(ig_bedrock_region(dflt), "us-east-1") == 0);
    ig_bedrock_free(dflt);
    teardown(&f);
}

static void test_parallel_calls_run_at_once(void)
{
    /* Each answer waits 300 ms: calls made one after the other would reuse one connection. */
    ig_testsrv_reply script[] = {{.body = "{\"images\":[\"AAAA\"]}", .delay_ms = 300}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    const char *bodies[] = {"{\"seed\":5}", "{\"seed\":6}", "{\"seed\":7}"};
    ig_bedrock_call calls[3];
    for (int i = 0; i < 3; i++)
        calls[i] = (ig_bedrock_call){bodies[i], strlen(bodies[i])};
    ig_bedrock_result res[3];
    for (int i = 0; i < 3; i++)
        ig_bedrock_result_init(&res[i]);
    ig_bedrock_batch batch = {.model_id = MODEL, .calls = calls, .n_calls = 3, .deadline_ms = ig_now_ms() + 5000};
    IG_CHECK_EQ_INT(ig_bedrock_invoke_many(f.br, &batch, res), IG_OK);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 3);
    IG_CHECK_EQ_INT(ig_testsrv_connections(f.srv), 3);
    int seen[3] = {0, 0, 0};
    for (size_t i = 0; i < 3; i++) {
        IG_CHECK_EQ_INT(res[i].attempts, 1);
        IG_CHECK_EQ_INT(ig_bedrock_classify(&res[i]), IG_BEDROCK_SUCCEEDED);
        const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, i);
        IG_CHECK(r != NULL);
        for (int k = 0; r && k < 3; k++)
            if (strcmp(ig_buf_cstr(&r->body), bodies[k]) == 0)
                seen[k]++;
        if (r)
            IG_CHECK_EQ_INT(ig_test_verify_recorded(r, "bedrock", 0, NULL), IG_OK);
    }
    IG_CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
    for (int i = 0; i < 3; i++)
        ig_bedrock_result_free(&res[i]);
    teardown(&f);
}

static void test_parallel_calls_retry_on_their_own(void)
{
    /* The first request to arrive is throttled, whichever call it is; only that call retries. */
    ig_testsrv_reply script[] = {
        {.status = 429, .headers = "x-amzn-ErrorType: ThrottlingException\r\n", .body = "{\"message\":\"slow down\"}"},
        {.body = "{\"images\":[]}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 2, NULL));
    ig_bedrock_call calls[3] = {{"{\"a\":1}", 7}, {"{\"a\":2}", 7}, {"{\"a\":3}", 7}};
    ig_bedrock_result res[3];
    for (int i = 0; i < 3; i++)
        ig_bedrock_result_init(&res[i]);
    ig_bedrock_batch batch = {.model_id = MODEL, .calls = calls, .n_calls = 3, .deadline_ms = ig_now_ms() + 5000};
    IG_CHECK_EQ_INT(ig_bedrock_invoke_many(f.br, &batch, res), IG_OK);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 4);
    IG_CHECK_EQ_INT(res[0].attempts + res[1].attempts + res[2].attempts, 4);
    /* A batch that cannot be sent fails every call and sends nothing more. */
    ig_bedrock_batch empty = {.model_id = MODEL, .calls = calls, .n_calls = 0, .deadline_ms = ig_now_ms() + 5000};
    IG_CHECK_EQ_INT(ig_bedrock_invoke_many(f.br, &empty, res), IG_ERR_INVALID_ARG);
    ig_bedrock_batch late = {.model_id = MODEL, .calls = calls, .n_calls = 3, .deadline_ms = ig_now_ms() - 1};
    IG_CHECK_EQ_INT(ig_bedrock_invoke_many(f.br, &late, res), IG_ERR_DEADLINE);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 4);
    for (int i = 0; i < 3; i++)
        ig_bedrock_result_free(&res[i]);
    teardown(&f);
}

static ig_bedrock_outcome classify(ig_err err, long status, const char *type, const char *message)
{
    ig_bedrock_result r;
    ig_bedrock_result_init(&r);
    r.err = err;
    r.status = status;
    snprintf(r.error_type, sizeof r.error_type, "%s", type);
    snprintf(r.message, sizeof r.message, "%s", message);
    return ig_bedrock_classify(&r);
}

static void test_failures_have_one_classification(void)
{
    IG_CHECK_EQ_INT(classify(IG_OK, 200, "", ""), IG_BEDROCK_SUCCEEDED);
    IG_CHECK_EQ_INT(classify(IG_ERR_AWS, 404, "ResourceNotFoundException",
                             "This model version has reached the end of its life. Please refer to the AWS documentation for more details."),
                    IG_BEDROCK_RETIRED);
    IG_CHECK_EQ_INT(classify(IG_ERR_AWS, 404, "ResourceNotFoundException", "The provided model identifier is invalid."),
                    IG_BEDROCK_UNAVAILABLE);
    IG_CHECK_EQ_INT(classify(IG_ERR_AWS, 403, "AccessDeniedException",
                             "Access denied. This Model is marked by provider as Legacy and you have not been actively using the model in the last 30 days."),
                    IG_BEDROCK_UNAVAILABLE);
    IG_CHECK_EQ_INT(classify(IG_ERR_AWS, 403, "UnrecognizedClientException", "bad token"), IG_BEDROCK_BAD_CREDENTIALS);
    IG_CHECK_EQ_INT(classify(IG_ERR_AWS, 403, "InvalidSignatureException", "sig"), IG_BEDROCK_BAD_CREDENTIALS);
    IG_CHECK_EQ_INT(classify(IG_ERR_AWS, 400, "ValidationException", "width must be ..."), IG_BEDROCK_INVALID);
    IG_CHECK_EQ_INT(classify(IG_ERR_AWS, 400, "ValidationException", "blocked by our content filters"),
                    IG_BEDROCK_FILTERED);
    IG_CHECK_EQ_INT(classify(IG_ERR_AWS, 400, "ServiceQuotaExceededException", "quota"), IG_BEDROCK_THROTTLED);
    IG_CHECK_EQ_INT(classify(IG_ERR_AWS, 429, "ThrottlingException", "slow"), IG_BEDROCK_THROTTLED);
    IG_CHECK_EQ_INT(classify(IG_ERR_AWS, 429, "ModelNotReadyException", "warming"), IG_BEDROCK_NOT_READY);
    IG_CHECK_EQ_INT(classify(IG_ERR_AWS, 503, "ServiceUnavailableException", ""), IG_BEDROCK_NOT_READY);
    IG_CHECK_EQ_INT(classify(IG_ERR_AWS, 408, "ModelTimeoutException", ""), IG_BEDROCK_TIMED_OUT);
    IG_CHECK_EQ_INT(classify(IG_ERR_DEADLINE, 0, "", ""), IG_BEDROCK_TIMED_OUT);
    IG_CHECK_EQ_INT(classify(IG_ERR_CONNECT, 0, "", ""), IG_BEDROCK_UNREACHABLE);
    IG_CHECK_EQ_INT(classify(IG_ERR_AWS, 424, "ModelErrorException", ""), IG_BEDROCK_FAILED);
    IG_CHECK_EQ_INT(classify(IG_ERR_AWS, 500, "InternalServerException", ""), IG_BEDROCK_FAILED);
    IG_CHECK_EQ_STR(ig_bedrock_outcome_name(IG_BEDROCK_RETIRED), "retired");
}

int main(void)
{
    if (ig_http_global_init() != IG_OK)
        return 1;
    IG_RUN(test_success_wire_shape_and_signature);
    IG_RUN(test_session_token_is_sent_and_signed);
    IG_RUN(test_retries_throttling_5xx_and_model_not_ready);
    IG_RUN(test_attempts_are_bounded);
    IG_RUN(test_validation_error_is_not_retried);
    IG_RUN(test_capital_message_and_body_type);
    IG_RUN(test_deadline_is_never_passed);
    IG_RUN(test_no_retry_starts_that_cannot_finish);
    IG_RUN(test_server_hint_delays_the_retry);
    IG_RUN(test_hint_reported_on_failure);
    IG_RUN(test_connection_failures_are_retried_then_reported);
    IG_RUN(test_oversized_answer_is_refused);
    IG_RUN(test_bad_inputs_send_nothing);
    IG_RUN(test_arn_model_ids_are_encoded);
    IG_RUN(test_keep_alive_across_invocations);
    IG_RUN(test_error_decoding);
    IG_RUN(test_bedrock_region_of_its_own);
    IG_RUN(test_parallel_calls_run_at_once);
    IG_RUN(test_parallel_calls_retry_on_their_own);
    IG_RUN(test_failures_have_one_classification);
    ig_http_global_cleanup();
    return ig_test_finish("bedrock");
}
