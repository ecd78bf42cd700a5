/* test_lambda_invoke.c - Lambda Invoke (InvocationType Event) against a scripted server of the
 * test's own: the path with the encoded function name or ARN, X-Amz-Invocation-Type, the payload
 * as the body, the signature for "lambda", 202 as success, errors decoded from x-amzn-ErrorType
 * and the body, retries on throttling and 5xx but not on 4xx, the payload limit, deadlines and
 * the endpoint variables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/lambda_invoke.h"
#include "core/clock.h"
#include "support_aws_env.h"
#include "support_http_server.h"
#include "testlib.h"

#define FUNCTION "imagegen-api"
#define PAYLOAD "{\"imagegen\":\"job\",\"id\":\"j-0f3a\"}"

typedef struct {
    ig_testsrv *srv;
    ig_aws_context ctx;
    ig_lambda *lambda;
    ig_aws_call_result res;
} fixture;

static void clear_endpoint_vars(void)
{
    unsetenv("AWS_ENDPOINT_URL_DYNAMODB");
    unsetenv("AWS_ENDPOINT_URL_LAMBDA");
}

static int setup(fixture *f, const ig_testsrv_reply *script, size_t n, const char *token)
{
    memset(f, 0, sizeof *f);
    ig_aws_call_result_init(&f->res);
    clear_endpoint_vars();
    f->srv = ig_testsrv_start(script, n);
    if (!f->srv)
        return 0;
    if (ig_test_aws_context(&f->ctx, "AWS_ENDPOINT_URL_LAMBDA", ig_testsrv_url(f->srv), token) != IG_OK)
        return 0;
    ig_error err;
    ig_error_clear(&err);
    f->lambda = ig_lambda_new(&f->ctx, &err);
    if (!f->lambda)
        fprintf(stderr, "lambda: %s\n", err.message);
    return f->lambda != NULL;
}

static void teardown(fixture *f)
{
    ig_aws_call_result_free(&f->res);
    ig_lambda_free(f->lambda);
    ig_aws_context_free(&f->ctx);
    ig_testsrv_stop(f->srv);
    clear_endpoint_vars();
}

static ig_err invoke(fixture *f, const char *function, int64_t deadline_ms)
{
    return ig_lambda_invoke_event(f->lambda, function, PAYLOAD, strlen(PAYLOAD), deadline_ms, &f->res);
}

static void test_event_invocation_wire_shape_and_signature(void)
{
    ig_testsrv_reply script[] = {{.status = 202, .headers = "x-amzn-RequestId: 5f1c-invoke\r\n"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    IG_CHECK_EQ_INT(invoke(&f, FUNCTION, ig_now_ms() + 5000), IG_OK);
    IG_CHECK_EQ_INT(f.res.status, 202);
    IG_CHECK_EQ_INT(f.res.attempts, 1);
    IG_CHECK_EQ_STR(f.res.request_id, "5f1c-invoke");
    IG_CHECK(f.res.stop_reason == NULL);
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 0);
    IG_CHECK(r != NULL);
    if (r) {
        IG_CHECK_EQ_STR(r->method, "POST");
        IG_CHECK_EQ_STR(r->target, "/2015-03-31/functions/imagegen-api/invocations");
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "x-amz-invocation-type"), "Event");
        IG_CHECK(ig_header_list_get(&r->headers, "content-type") == NULL); /* a blob payload, as botocore sends it */
        IG_CHECK(ig_header_list_get(&r->headers, "expect") == NULL);
        IG_CHECK_EQ_STR(ig_buf_cstr(&r->body), PAYLOAD);
        const char *auth = ig_header_list_get(&r->headers, "authorization");
        IG_CHECK(auth && strstr(auth, "/us-east-1/lambda/aws4_request") != NULL);
        IG_CHECK(auth && strstr(auth, "SignedHeaders=host;x-amz-date;x-amz-invocation-type,") != NULL);
        IG_CHECK_EQ_INT(ig_test_verify_recorded(r, "lambda", 0, NULL), IG_OK);
        IG_CHECK(ig_test_verify_quietly(r, "dynamodb", 0, NULL) == IG_ERR_SIGNATURE);
    }
    teardown(&f);
}

static void test_arn_and_alias_are_encoded_and_signed_twice_encoded(void)
{
    ig_testsrv_reply script[] = {{.status = 202}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, "FQoGZXIvYXdzEXAMPLETOKEN"));
    const char *arn = "arn:aws:lambda:us-east-1:123456789012:function:imagegen-api:live";
    IG_CHECK_EQ_INT(invoke(&f, arn, ig_now_ms() + 5000), IG_OK);
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 0);
    IG_CHECK(r != NULL);
    if (r) {
        IG_CHECK_EQ_STR(r->target, "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3A"
                                   "imagegen-api%3Alive/invocations");
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "x-amz-security-token"), "FQoGZXIvYXdzEXAMPLETOKEN");
        IG_CHECK_EQ_INT(ig_test_verify_recorded(r, "lambda", 0, "FQoGZXIvYXdzEXAMPLETOKEN"), IG_OK);
        /* S3's single-encoding rule gives another signature: the path is signed as "%253A". */
        IG_CHECK(ig_test_verify_quietly(r, "lambda", 1, "FQoGZXIvYXdzEXAMPLETOKEN") == IG_ERR_SIGNATURE);
    }
    teardown(&f);
}

static void test_empty_payload_is_allowed(void)
{
    ig_testsrv_reply script[] = {{.status = 202}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    IG_CHECK_EQ_INT(ig_lambda_invoke_event(f.lambda, FUNCTION, NULL, 0, ig_now_ms() + 5000, &f.res), IG_OK);
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 0);
    IG_CHECK(r && r->body.len == 0);
    IG_CHECK(r && ig_test_verify_recorded(r, "lambda", 0, NULL) == IG_OK);
    teardown(&f);
}

/* A 4xx that must not be retried, decoded as botocore decodes rest-json errors. */
static void check_final(int status, const char *headers, const char *body, const char *type, const char *message)
{
    ig_testsrv_reply script[] = {{.status = status, .headers = headers, .body = body}, {.status = 202}};
    fixture f;
    IG_CHECK(setup(&f, script, 2, NULL));
    f.ctx.retry.max_attempts = 5;
    IG_CHECK_EQ_INT(invoke(&f, FUNCTION, ig_now_ms() + 5000), IG_ERR_AWS);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 1);
    IG_CHECK_EQ_INT(f.res.status, status);
    IG_CHECK_EQ_STR(f.res.error_type, type);
    IG_CHECK_EQ_STR(f.res.message, message);
    IG_CHECK_EQ_STR(f.res.stop_reason, "not retryable");
    IG_CHECK_EQ_INT(f.ctx.retry.quota, 500);
    teardown(&f);
}

static void test_client_errors_are_decoded_and_not_retried(void)
{
    check_final(404, "x-amzn-ErrorType: ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.awsgirgarage/\r\n",
                "{\"Type\":\"User\",\"Message\":\"Function not found: arn:aws:lambda:us-east-1:123456789012:function:imagegen-api\"}",
                "ResourceNotFoundException",
                "Function not found: arn:aws:lambda:us-east-1:123456789012:function:imagegen-api");
    /* No header: the type comes from the body. */
    check_final(400, NULL, "{\"Type\":\"User\",\"__type\":\"InvalidRequestContentException\",\"message\":\"Could not parse request body into json\"}",
                "InvalidRequestContentException", "Could not parse request body into json");
    check_final(413, "x-amzn-ErrorType: RequestTooLargeException\r\n",
                "{\"Type\":\"User\",\"message\":\"Request must be smaller than 1048576 bytes for the InvokeAsync operation\"}",
                "RequestTooLargeException", "Request must be smaller than 1048576 bytes for the InvokeAsync operation");
    check_final(403, "x-amzn-ErrorType: AccessDeniedException\r\n", "{\"Message\":\"not authorized to perform: lambda:InvokeFunction\"}",
                "AccessDeniedException", "not authorized to perform: lambda:InvokeFunction");
}

static void check_retried(int status, const char *headers, const char *body, const char *type)
{
    ig_testsrv_reply script[] = {{.status = status, .headers = headers, .body = body},
                                 {.status = 202, .headers = "x-amzn-RequestId: queued-at-last\r\n"}};
    fixture f;
    IG_CHECK(setup(&f, script, 2, NULL));
    IG_CHECK_EQ_INT(invoke(&f, FUNCTION, ig_now_ms() + 10000), IG_OK);
    IG_CHECK_EQ_INT(f.res.attempts, 2);
    IG_CHECK_EQ_STR(f.res.request_id, "queued-at-last");
    for (size_t i = 0; i < 2; i++) {
        const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, i);
        IG_CHECK(r && ig_test_verify_recorded(r, "lambda", 0, NULL) == IG_OK);
        IG_CHECK(r && strcmp(ig_buf_cstr(&r->body), PAYLOAD) == 0);
    }
    teardown(&f);
    IG_CHECK(setup(&f, script, 2, NULL));
    f.ctx.retry.max_attempts = 1;
    IG_CHECK_EQ_INT(invoke(&f, FUNCTION, ig_now_ms() + 10000), IG_ERR_AWS);
    IG_CHECK_EQ_STR(f.res.error_type, type);
    IG_CHECK_EQ_STR(f.res.stop_reason, "attempts exhausted");
    teardown(&f);
}

static void test_throttling_and_service_errors_are_retried(void)
{
    check_retried(429, "x-amzn-ErrorType: TooManyRequestsException\r\nRetry-After: 0\r\n",
                  "{\"Reason\":\"ReservedFunctionConcurrentInvocationLimitExceeded\",\"Type\":\"User\",\"message\":\"Rate Exceeded.\"}",
                  "TooManyRequestsException");
    check_retried(500, "x-amzn-ErrorType: ServiceException\r\n", "{\"Type\":\"Service\",\"message\":\"internal\"}",
                  "ServiceException");
    check_retried(502, "x-amzn-ErrorType: EC2ThrottledException\r\n", "{\"message\":\"EC2 throttled\"}",
                  "EC2ThrottledException");
    check_retried(503, NULL, "", "503");
}

static void test_hint_delays_the_retry(void)
{
    ig_testsrv_reply script[] = {{.status = 429, .headers = "x-amzn-ErrorType: TooManyRequestsException\r\nRetry-After: 1\r\n",
                                  .body = "{\"message\":\"Rate Exceeded.\"}"},
                                 {.status = 202}};
    fixture f;
    IG_CHECK(setup(&f, script, 2, NULL));
    IG_CHECK_EQ_INT(invoke(&f, FUNCTION, ig_now_ms() + 10000), IG_OK);
    const ig_testsrv_request *a = ig_testsrv_request_at(f.srv, 0), *b = ig_testsrv_request_at(f.srv, 1);
    IG_CHECK(a && b && b->received_ms - a->received_ms >= 1000);
    teardown(&f);
}

static void test_deadline_is_never_passed(void)
{
    ig_testsrv_reply script[] = {{.status = 202, .delay_ms = 3000}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    int64_t deadline = ig_now_ms() + 600;
    IG_CHECK_EQ_INT(invoke(&f, FUNCTION, deadline), IG_ERR_DEADLINE);
    IG_CHECK(ig_now_ms() <= deadline + 100);
    IG_CHECK_EQ_INT(f.res.attempts, 1);
    /* Not enough time for a retry of a throttled call: it is not started. */
    teardown(&f);
    ig_testsrv_reply throttled[] = {{.status = 429, .headers = "x-amzn-ErrorType: TooManyRequestsException\r\nRetry-After: 2\r\n",
                                     .body = "{}"}};
    IG_CHECK(setup(&f, throttled, 1, NULL));
    IG_CHECK_EQ_INT(invoke(&f, FUNCTION, ig_now_ms() + 1500), IG_ERR_AWS);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 1);
    IG_CHECK_EQ_STR(f.res.stop_reason, "not enough time before the deadline");
    IG_CHECK_EQ_INT(f.res.retry_after_ms, 2000);
    teardown(&f);
}

static void test_connection_failures_are_retried_then_reported(void)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ig_testsrv_closed_port());
    clear_endpoint_vars();
    ig_aws_context ctx;
    IG_CHECK_EQ_INT(ig_test_aws_context(&ctx, "AWS_ENDPOINT_URL_LAMBDA", url, NULL), IG_OK);
    ig_lambda *l = ig_lambda_new(&ctx, NULL);
    ig_aws_call_result res;
    ig_aws_call_result_init(&res);
    IG_CHECK_EQ_INT(ig_lambda_invoke_event(l, FUNCTION, PAYLOAD, strlen(PAYLOAD), ig_now_ms() + 5000, &res),
                    IG_ERR_CONNECT);
    IG_CHECK_EQ_INT(res.attempts, 3);
    IG_CHECK_EQ_INT(ctx.retry.quota, 480);
    ig_aws_call_result_free(&res);
    ig_lambda_free(l);
    ig_aws_context_free(&ctx);
    clear_endpoint_vars();
}

static void test_payload_limit_and_bad_names_send_nothing(void)
{
    ig_testsrv_reply script[] = {{.status = 202}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    int64_t dl = ig_now_ms() + 10000;
    size_t big = IG_LAMBDA_MAX_EVENT_PAYLOAD + 1;
    char *huge = malloc(big);
    IG_CHECK(huge != NULL);
    if (!huge)
        return;
    memset(huge, ' ', big);
    huge[0] = '"';
    IG_CHECK_EQ_INT(ig_lambda_invoke_event(f.lambda, FUNCTION, huge, big, dl, &f.res), IG_ERR_TOO_LARGE);
    IG_CHECK(strstr(f.res.message, "1048577 bytes") != NULL);
    IG_CHECK_EQ_STR(f.res.stop_reason, "not retryable");
    const char *bad[] = {"", "with space", "slash/name", "caf\xc3\xa9", "a?b", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        IG_CHECK_EQ_INT(ig_lambda_invoke_event(f.lambda, bad[i], PAYLOAD, strlen(PAYLOAD), dl, &f.res),
                        IG_ERR_INVALID_ARG);
        IG_CHECK(strstr(f.res.message, "function name") != NULL);
    }
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    IG_CHECK(!ig_lambda_function_name_valid(longname));
    longname[IG_LAMBDA_MAX_FUNCTION_NAME] = '\0';
    IG_CHECK(ig_lambda_function_name_valid(longname));
    IG_CHECK(ig_lambda_function_name_valid("my-function:$LATEST"));
    IG_CHECK_EQ_INT(ig_lambda_invoke_event(f.lambda, FUNCTION, NULL, 5, dl, &f.res), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(ig_lambda_invoke_event(NULL, FUNCTION, PAYLOAD, strlen(PAYLOAD), dl, &f.res), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 0);
    /* Exactly at the limit goes out. */
    IG_CHECK_EQ_INT(ig_lambda_invoke_event(f.lambda, FUNCTION, huge, IG_LAMBDA_MAX_EVENT_PAYLOAD, dl, &f.res), IG_OK);
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 0);
    IG_CHECK(r && r->body.len == IG_LAMBDA_MAX_EVENT_PAYLOAD);
    free(huge);
    teardown(&f);
}

static void test_endpoint_variables(void)
{
    ig_endpoint e;
    ig_error err;
    clear_endpoint_vars();
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    IG_CHECK_EQ_INT(ig_endpoint_lambda("ap-southeast-2", &e, &err), IG_OK);
    IG_CHECK_EQ_STR(e.host, "lambda.ap-southeast-2.amazonaws.com");
    IG_CHECK_EQ_STR(e.scheme, "https");
    ig_endpoint_free(&e);
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1111", 1);
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2222", 1);
    IG_CHECK_EQ_INT(ig_endpoint_lambda("us-east-1", &e, &err), IG_OK);
    IG_CHECK_EQ_STR(e.host, "127.0.0.1:1111");
    ig_endpoint_free(&e);
    setenv("AWS_ENDPOINT_URL_LAMBDA", "http://localhost:3333/base", 1);
    IG_CHECK_EQ_INT(ig_endpoint_lambda("us-east-1", &e, &err), IG_OK);
    IG_CHECK_EQ_STR(e.host, "localhost:3333");
    IG_CHECK_EQ_STR(e.base_path, "/base");
    ig_endpoint_free(&e);
    IG_CHECK_EQ_INT(ig_endpoint_lambda("not-a-region", &e, &err), IG_ERR_REGION);
    unsetenv("AWS_ENDPOINT_URL");
    clear_endpoint_vars();
}

int main(void)
{
    IG_RUN(test_event_invocation_wire_shape_and_signature);
    IG_RUN(test_arn_and_alias_are_encoded_and_signed_twice_encoded);
    IG_RUN(test_empty_payload_is_allowed);
    IG_RUN(test_client_errors_are_decoded_and_not_retried);
    IG_RUN(test_throttling_and_service_errors_are_retried);
    IG_RUN(test_hint_delays_the_retry);
    IG_RUN(test_deadline_is_never_passed);
    IG_RUN(test_connection_failures_are_retried_then_reported);
    IG_RUN(test_payload_limit_and_bad_names_send_nothing);
    IG_RUN(test_endpoint_variables);
    return ig_test_finish("lambda_invoke");
}
