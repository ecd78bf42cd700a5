/* test_dynamodb.c - the DynamoDB client against a scripted server of the test's own: the JSON 1.0
 * wire shape (POST /, Content-Type, X-Amz-Target) and its signature for "dynamodb", the request
 * documents of PutItem / UpdateItem / GetItem / Query, error decoding from __type, retries on
 * throttling and 5xx but never on ConditionalCheckFailed / Validation / ResourceNotFound, the
 * x-amz-crc32 check, deadlines, the endpoint variables and the typed attribute helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/dynamodb.h"
#include "core/clock.h"
#include "support_aws_env.h"
#include "support_http_server.h"
#include "testlib.h"

#define TABLE "imagegen-jobs"
#define CCF_BODY                                                                                   \
    "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\","            \
    "\"message\":\"The conditional request failed\"}"
#define THROTTLED_BODY                                                                             \
    "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException\","     \
    "\"message\":\"The level of configured provisioned throughput for the table was exceeded.\"}"

typedef struct {
    ig_testsrv *srv;
    ig_aws_context ctx;
    ig_dynamodb *ddb;
    ig_dynamodb_result res;
} fixture;

static void clear_endpoint_vars(void)
{
    unsetenv("AWS_ENDPOINT_URL_DYNAMODB");
    unsetenv("AWS_ENDPOINT_URL_LAMBDA");
}

static int setup(fixture *f, const ig_testsrv_reply *script, size_t n, const char *token)
{
    memset(f, 0, sizeof *f);
    ig_dynamodb_result_init(&f->res);
    clear_endpoint_vars();
    f->srv = ig_testsrv_start(script, n);
    if (!f->srv)
        return 0;
    if (ig_test_aws_context(&f->ctx, "AWS_ENDPOINT_URL_DYNAMODB", ig_testsrv_url(f->srv), token) != IG_OK)
        return 0;
    ig_error err;
    ig_error_clear(&err);
    f->ddb = ig_dynamodb_new(&f->ctx, &err);
    if (!f->ddb)
        fprintf(stderr, "dynamodb: %s\n", err.message);
    return f->ddb != NULL;
}

static void teardown(fixture *f)
{
    ig_dynamodb_result_free(&f->res);
    ig_dynamodb_free(f->ddb);
    ig_aws_context_free(&f->ctx);
    ig_testsrv_stop(f->srv);
    clear_endpoint_vars();
}

/* The recorded request's body, parsed (the caller decrefs). */
static json_t *sent_doc(const ig_testsrv_request *r)
{
    return r ? json_loadb(r->body.data, r->body.len, 0, NULL) : NULL;
}

/* 1 when a and b (JSON text) are equal documents. */
static int same_json(json_t *got, const char *expected)
{
    json_t *want = json_loads(expected, 0, NULL);
    int eq = got && want && json_equal(got, want);
    if (!eq) {
        char *g = got ? json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
        fprintf(stderr, "  got:      %s\n  expected: %s\n", g ? g : "(none)", expected);
        free(g);
    }
    json_decref(want);
    return eq;
}

static json_t *job_key(const char *id)
{
    return json_pack("{s:o}", "id", ig_dynamodb_attr_s(id));
}

static ig_err put_job(fixture *f, int64_t deadline_ms)
{
    json_t *item = json_pack("{s:o, s:o, s:o}", "id", ig_dynamodb_attr_s("j-1"), "status",
                             ig_dynamodb_attr_s("queued"), "created", ig_dynamodb_attr_n(1767225600000));
    ig_dynamodb_put p = {.table = TABLE, .item = item, .condition = "attribute_not_exists(id)"};
    ig_err e = ig_dynamodb_put_item(f->ddb, &p, deadline_ms, &f->res);
    json_decref(item);
    return e;
}

/* ---- wire shape ------------------------------------------------------------------------ */

static void test_put_item_wire_shape_and_signature(void)
{
    ig_testsrv_reply script[] = {{.headers = "x-amzn-RequestId: ddb-req-1\r\nx-amz-crc32: 2745614147\r\n"
                                             "Content-Type: application/x-amz-json-1.0\r\n",
                                  .body = "{}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    IG_CHECK_EQ_INT(put_job(&f, ig_now_ms() + 5000), IG_OK);
    IG_CHECK_EQ_INT(f.res.call.status, 200);
    IG_CHECK_EQ_INT(f.res.call.attempts, 1);
    IG_CHECK_EQ_STR(f.res.call.request_id, "ddb-req-1");
    IG_CHECK(f.res.call.stop_reason == NULL);
    IG_CHECK(json_is_object(f.res.output) && json_object_size(f.res.output) == 0);
    IG_CHECK(ig_dynamodb_output(&f.res, "Attributes") == NULL);
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 0);
    IG_CHECK(r != NULL);
    if (r) {
        IG_CHECK_EQ_STR(r->method, "POST");
        IG_CHECK_EQ_STR(r->target, "/");
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "content-type"), "application/x-amz-json-1.0");
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "x-amz-target"), "DynamoDB_20120810.PutItem");
        IG_CHECK(ig_header_list_get(&r->headers, "x-amz-content-sha256") == NULL);
        IG_CHECK(ig_header_list_get(&r->headers, "expect") == NULL);
        const char *auth = ig_header_list_get(&r->headers, "authorization");
        IG_CHECK(auth && strstr(auth, "/us-east-1/dynamodb/aws4_request") != NULL);
        IG_CHECK(auth && strstr(auth, "SignedHeaders=content-type;host;x-amz-date;x-amz-target,") != NULL);
        IG_CHECK_EQ_INT(ig_test_verify_recorded(r, "dynamodb", 0, NULL), IG_OK);
        /* Signed for another service, the same request must not verify. */
        IG_CHECK(ig_test_verify_quietly(r, "lambda", 0, NULL) == IG_ERR_SIGNATURE);
        json_t *doc = sent_doc(r);
        IG_CHECK(same_json(doc, "{\"TableName\":\"imagegen-jobs\",\"ConditionExpression\":\"attribute_not_exists(id)\","
                                "\"Item\":{\"id\":{\"S\":\"j-1\"},\"status\":{\"S\":\"queued\"},"
                                "\"created\":{\"N\":\"1767225600000\"}}}"));
        json_decref(doc);
    }
    teardown(&f);
}

static void test_session_token_is_sent_and_signed(void)
{
    ig_testsrv_reply script[] = {{.body = "{}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, "FQoGZXIvYXdzEXAMPLETOKEN"));
    IG_CHECK_EQ_INT(put_job(&f, ig_now_ms() + 5000), IG_OK);
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 0);
    IG_CHECK(r != NULL);
    if (r) {
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "x-amz-security-token"), "FQoGZXIvYXdzEXAMPLETOKEN");
        IG_CHECK_EQ_INT(ig_test_verify_recorded(r, "dynamodb", 0, "FQoGZXIvYXdzEXAMPLETOKEN"), IG_OK);
    }
    teardown(&f);
}

static void test_update_item_document_and_attributes(void)
{
    ig_testsrv_reply script[] = {
        {.body = "{\"Attributes\":{\"status\":{\"S\":\"running\"},\"attempt\":{\"N\":\"2\"}}}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    json_t *key = job_key("j-1");
    json_t *names = json_pack("{s:s}", "#s", "status");
    json_t *values = json_pack("{s:o, s:o, s:o}", ":queued", ig_dynamodb_attr_s("queued"), ":running",
                               ig_dynamodb_attr_s("running"), ":one", ig_dynamodb_attr_n(1));
    ig_dynamodb_update u = {.table = TABLE,
                            .key = key,
                            .update = "SET #s = :running ADD attempt :one",
                            .condition = "#s = :queued",
                            .names = names,
                            .values = values,
                            .return_values = "ALL_NEW",
                            .return_on_condition_failure = "ALL_OLD"};
    IG_CHECK_EQ_INT(ig_dynamodb_update_item(f.ddb, &u, ig_now_ms() + 5000, &f.res), IG_OK);
    json_t *attrs = ig_dynamodb_output(&f.res, "Attributes");
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(attrs, "status"), "running");
    int64_t attempt = 0;
    IG_CHECK(ig_dynamodb_item_n(attrs, "attempt", &attempt));
    IG_CHECK_EQ_INT(attempt, 2);
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 0);
    IG_CHECK(r != NULL);
    if (r) {
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "x-amz-target"), "DynamoDB_20120810.UpdateItem");
        json_t *doc = sent_doc(r);
        IG_CHECK(same_json(doc, "{\"TableName\":\"imagegen-jobs\",\"Key\":{\"id\":{\"S\":\"j-1\"}},"
                                "\"UpdateExpression\":\"SET #s = :running ADD attempt :one\","
                                "\"ConditionExpression\":\"#s = :queued\","
                                "\"ExpressionAttributeNames\":{\"#s\":\"status\"},"
                                "\"ExpressionAttributeValues\":{\":queued\":{\"S\":\"queued\"},"
                                "\":running\":{\"S\":\"running\"},\":one\":{\"N\":\"1\"}},"
                                "\"ReturnValues\":\"ALL_NEW\",\"ReturnValuesOnConditionCheckFailure\":\"ALL_OLD\"}"));
        json_decref(doc);
    }
    json_decref(key);
    json_decref(names);
    json_decref(values);
    teardown(&f);
}

static void test_get_item_consistent_read_found_and_missing(void)
{
    ig_testsrv_reply script[] = {{.headers = "x-amz-crc32: 2048397809\r\n", .body = "{\"Item\":{\"id\":{\"S\":\"j-1\"}}}"},
                                 {.body = "{}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 2, NULL));
    json_t *key = job_key("j-1");
    ig_dynamodb_get g = {.table = TABLE, .key = key, .consistent_read = 1};
    IG_CHECK_EQ_INT(ig_dynamodb_get_item(f.ddb, &g, ig_now_ms() + 5000, &f.res), IG_OK);
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(ig_dynamodb_output(&f.res, "Item"), "id"), "j-1");
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 0);
    if (r) {
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "x-amz-target"), "DynamoDB_20120810.GetItem");
        json_t *doc = sent_doc(r);
        IG_CHECK(same_json(doc, "{\"TableName\":\"imagegen-jobs\",\"Key\":{\"id\":{\"S\":\"j-1\"}},"
                                "\"ConsistentRead\":true}"));
        json_decref(doc);
    }
    /* No such item: success without "Item". */
    g.consistent_read = 0;
    IG_CHECK_EQ_INT(ig_dynamodb_get_item(f.ddb, &g, ig_now_ms() + 5000, &f.res), IG_OK);
    IG_CHECK(ig_dynamodb_output(&f.res, "Item") == NULL);
    r = ig_testsrv_request_at(f.srv, 1);
    if (r) {
        json_t *doc = sent_doc(r);
        IG_CHECK(same_json(doc, "{\"TableName\":\"imagegen-jobs\",\"Key\":{\"id\":{\"S\":\"j-1\"}}}"));
        json_decref(doc);
    }
    json_decref(key);
    teardown(&f);
}

static void test_query_pages_with_the_last_evaluated_key(void)
{
    ig_testsrv_reply script[] = {
        {.body = "{\"Count\":2,\"ScannedCount\":2,\"Items\":[{\"id\":{\"S\":\"i-9\"}},{\"id\":{\"S\":\"i-8\"}}],"
                 "\"LastEvaluatedKey\":{\"owner\":{\"S\":\"key-1\"},\"created\":{\"N\":\"8\"},\"id\":{\"S\":\"i-8\"}}}"},
        {.body = "{\"Count\":1,\"ScannedCount\":1,\"Items\":[{\"id\":{\"S\":\"i-7\"}}]}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 2, NULL));
    json_t *values = json_pack("{s:o}", ":o", ig_dynamodb_attr_s("key-1"));
    json_t *names = json_pack("{s:s}", "#o", "owner");
    ig_dynamodb_query q = {.table = TABLE,
                           .index = "by-owner",
                           .key_condition = "#o = :o",
                           .names = names,
                           .values = values,
                           .descending = 1,
                           .limit = 2};
    IG_CHECK_EQ_INT(ig_dynamodb_query_page(f.ddb, &q, ig_now_ms() + 5000, &f.res), IG_OK);
    json_t *items = ig_dynamodb_output(&f.res, "Items");
    IG_CHECK_EQ_INT(json_array_size(items), 2);
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(json_array_get(items, 0), "id"), "i-9");
    json_t *last = json_incref(ig_dynamodb_output(&f.res, "LastEvaluatedKey"));
    IG_CHECK(last != NULL);
    /* The next page starts after the last key, which travels back unchanged. */
    q.exclusive_start_key = last;
    IG_CHECK_EQ_INT(ig_dynamodb_query_page(f.ddb, &q, ig_now_ms() + 5000, &f.res), IG_OK);
    IG_CHECK_EQ_INT(json_array_size(ig_dynamodb_output(&f.res, "Items")), 1);
    IG_CHECK(ig_dynamodb_output(&f.res, "LastEvaluatedKey") == NULL);
    const ig_testsrv_request *r1 = ig_testsrv_request_at(f.srv, 0), *r2 = ig_testsrv_request_at(f.srv, 1);
    IG_CHECK(r1 && r2);
    if (r1 && r2) {
        IG_CHECK_EQ_STR(ig_header_list_get(&r1->headers, "x-amz-target"), "DynamoDB_20120810.Query");
        json_t *d1 = sent_doc(r1), *d2 = sent_doc(r2);
        IG_CHECK(same_json(d1, "{\"TableName\":\"imagegen-jobs\",\"IndexName\":\"by-owner\","
                               "\"KeyConditionExpression\":\"#o = :o\",\"ExpressionAttributeNames\":{\"#o\":\"owner\"},"
                               "\"ExpressionAttributeValues\":{\":o\":{\"S\":\"key-1\"}},"
                               "\"ScanIndexForward\":false,\"Limit\":2}"));
        IG_CHECK(same_json(json_object_get(d2, "ExclusiveStartKey"),
                           "{\"owner\":{\"S\":\"key-1\"},\"created\":{\"N\":\"8\"},\"id\":{\"S\":\"i-8\"}}"));
        json_decref(d1);
        json_decref(d2);
    }
    json_decref(last);
    json_decref(values);
    json_decref(names);
    teardown(&f);
}

static void test_any_operation_through_the_generic_call(void)
{
    ig_testsrv_reply script[] = {{.body = "{\"Table\":{\"TableStatus\":\"ACTIVE\"}}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    json_t *in = json_pack("{s:s}", "TableName", TABLE);
    IG_CHECK_EQ_INT(ig_dynamodb_call(f.ddb, "DescribeTable", in, ig_now_ms() + 5000, &f.res), IG_OK);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(ig_dynamodb_output(&f.res, "Table"), "TableStatus")), "ACTIVE");
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 0);
    IG_CHECK(r && strcmp(ig_header_list_get(&r->headers, "x-amz-target"), "DynamoDB_20120810.DescribeTable") == 0);
    json_decref(in);
    teardown(&f);
}

/* ---- errors and retries ---------------------------------------------------------------- */

static void test_condition_failure_is_decoded_and_never_retried(void)
{
    ig_testsrv_reply script[] = {{.status = 400, .headers = "x-amzn-RequestId: ccf-1\r\n",
                                  .body = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\","
                                          "\"message\":\"The conditional request failed\","
                                          "\"Item\":{\"id\":{\"S\":\"j-1\"},\"status\":{\"S\":\"running\"}}}"},
                                 {.body = "{}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 2, NULL));
    f.ctx.retry.max_attempts = 5;
    IG_CHECK_EQ_INT(put_job(&f, ig_now_ms() + 5000), IG_ERR_AWS);
    IG_CHECK_EQ_INT(f.res.call.attempts, 1);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 1);
    IG_CHECK_EQ_INT(f.res.call.status, 400);
    IG_CHECK_EQ_STR(f.res.call.error_type, "ConditionalCheckFailedException");
    IG_CHECK_EQ_STR(f.res.call.message, "The conditional request failed");
    IG_CHECK_EQ_STR(f.res.call.request_id, "ccf-1");
    IG_CHECK_EQ_STR(f.res.call.stop_reason, "not retryable");
    IG_CHECK(ig_dynamodb_condition_failed(&f.res));
    /* The item that failed the condition comes with the error (ReturnValuesOnConditionCheckFailure). */
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(json_object_get(f.res.output, "Item"), "status"), "running");
    IG_CHECK(ig_dynamodb_output(&f.res, "Item") == NULL); /* not a success member */
    IG_CHECK_EQ_INT(f.ctx.retry.quota, 500);
    teardown(&f);
}

/* One scripted 4xx answer is final: a single attempt, the type and message decoded. */
static void check_final(const char *body, const char *type, const char *message)
{
    ig_testsrv_reply script[] = {{.status = 400, .body = body}, {.body = "{}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 2, NULL));
    f.ctx.retry.max_attempts = 5;
    IG_CHECK_EQ_INT(put_job(&f, ig_now_ms() + 5000), IG_ERR_AWS);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 1);
    IG_CHECK_EQ_STR(f.res.call.error_type, type);
    IG_CHECK_EQ_STR(f.res.call.message, message);
    IG_CHECK_EQ_STR(f.res.call.stop_reason, "not retryable");
    IG_CHECK(!ig_dynamodb_condition_failed(&f.res));
    teardown(&f);
}

static void test_validation_and_missing_table_are_not_retried(void)
{
    check_final("{\"__type\":\"com.amazon.coral.validate#ValidationException\","
                "\"message\":\"One or more parameter values were invalid: Missing the key id in the item\"}",
                "ValidationException", "One or more parameter values were invalid: Missing the key id in the item");
    check_final("{\"__type\":\"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException\","
                "\"message\":\"Requested resource not found\"}",
                "ResourceNotFoundException", "Requested resource not found");
    /* Message with a capital M, as some DynamoDB errors spell it. */
    check_final("{\"__type\":\"com.amazon.coral.service#UnrecognizedClientException\","
                "\"Message\":\"The security token included in the request is invalid.\"}",
                "UnrecognizedClientException", "The security token included in the request is invalid.");
    check_final("{\"__type\":\"com.amazonaws.dynamodb.v20120810#ItemCollectionSizeLimitExceededException\"}",
                "ItemCollectionSizeLimitExceededException", "");
}

static void check_retried(int status, const char *body, const char *type)
{
    ig_testsrv_reply script[] = {{.status = status, .body = body},
                                 {.headers = "x-amzn-RequestId: after-retry\r\n", .body = "{}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 2, NULL));
    IG_CHECK_EQ_INT(put_job(&f, ig_now_ms() + 10000), IG_OK);
    IG_CHECK_EQ_INT(f.res.call.attempts, 2);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 2);
    IG_CHECK_EQ_STR(f.res.call.request_id, "after-retry");
    IG_CHECK_EQ_STR(f.res.call.error_type, "");
    IG_CHECK_EQ_INT(f.ctx.retry.quota, 500); /* one retry taken (5), refunded on success */
    /* Both attempts were signed afresh and verify. */
    for (size_t i = 0; i < 2; i++) {
        const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, i);
        IG_CHECK(r && ig_test_verify_recorded(r, "dynamodb", 0, NULL) == IG_OK);
    }
    if (type) {
        /* What the first attempt answered is what a single attempt reports. */
        teardown(&f);
        IG_CHECK(setup(&f, script, 2, NULL));
        f.ctx.retry.max_attempts = 1;
        IG_CHECK_EQ_INT(put_job(&f, ig_now_ms() + 10000), IG_ERR_AWS);
        IG_CHECK_EQ_STR(f.res.call.error_type, type);
        IG_CHECK_EQ_STR(f.res.call.stop_reason, "attempts exhausted");
    }
    teardown(&f);
}

static void test_throttling_and_5xx_are_retried(void)
{
    check_retried(400, THROTTLED_BODY, "ProvisionedThroughputExceededException");
    check_retried(400, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ThrottlingException\",\"message\":\"Rate of "
                       "requests exceeds the allowed throughput.\"}",
                  "ThrottlingException");
    check_retried(400, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#RequestLimitExceeded\",\"message\":\"Throughput "
                       "exceeds the current throughput limit for your account.\"}",
                  "RequestLimitExceeded");
    check_retried(500, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#InternalServerError\",\"message\":\"Internal "
                       "server error\"}",
                  "InternalServerError");
    check_retried(503, "", "503");
}

static void test_attempts_are_bounded(void)
{
    ig_testsrv_reply script[] = {{.status = 400, .body = THROTTLED_BODY}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    IG_CHECK_EQ_INT(put_job(&f, ig_now_ms() + 10000), IG_ERR_AWS);
    IG_CHECK_EQ_INT(f.res.call.attempts, 3);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 3);
    IG_CHECK_EQ_STR(f.res.call.error_type, "ProvisionedThroughputExceededException");
    IG_CHECK_EQ_STR(f.res.call.stop_reason, "attempts exhausted");
    IG_CHECK_EQ_INT(f.ctx.retry.quota, 490);
    /* The error document is kept. */
    IG_CHECK(json_is_object(f.res.output));
    teardown(&f);
}

static void test_deadline_is_never_passed(void)
{
    ig_testsrv_reply script[] = {{.body = "{}", .delay_ms = 3000}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    int64_t deadline = ig_now_ms() + 600;
    IG_CHECK_EQ_INT(put_job(&f, deadline), IG_ERR_DEADLINE);
    IG_CHECK(ig_now_ms() <= deadline + 100);
    IG_CHECK_EQ_INT(f.res.call.attempts, 1);
    IG_CHECK(f.res.output == NULL);
    /* A deadline already past sends nothing. */
    IG_CHECK_EQ_INT(put_job(&f, ig_now_ms() - 1), IG_ERR_DEADLINE);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 1);
    teardown(&f);
}

static void test_no_retry_starts_that_cannot_finish(void)
{
    ig_testsrv_reply script[] = {{.status = 500, .body = "{}", .delay_ms = 400}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    f.ctx.retry.max_attempts = 10;
    f.ctx.retry.min_attempt_ms = 500;
    int64_t deadline = ig_now_ms() + 1200;
    IG_CHECK_EQ_INT(put_job(&f, deadline), IG_ERR_AWS);
    IG_CHECK(ig_now_ms() <= deadline);
    int hits = ig_testsrv_hits(f.srv);
    IG_CHECK(hits >= 1 && hits <= 2);
    IG_CHECK_EQ_STR(f.res.call.stop_reason, "not enough time before the deadline");
    teardown(&f);
}

static void test_connection_failures_are_retried_then_reported(void)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ig_testsrv_closed_port());
    clear_endpoint_vars();
    ig_aws_context ctx;
    IG_CHECK_EQ_INT(ig_test_aws_context(&ctx, "AWS_ENDPOINT_URL_DYNAMODB", url, NULL), IG_OK);
    ig_dynamodb *d = ig_dynamodb_new(&ctx, NULL);
    ig_dynamodb_result res;
    ig_dynamodb_result_init(&res);
    json_t *key = job_key("j-1");
    ig_dynamodb_get g = {.table = TABLE, .key = key};
    IG_CHECK_EQ_INT(ig_dynamodb_get_item(d, &g, ig_now_ms() + 5000, &res), IG_ERR_CONNECT);
    IG_CHECK_EQ_INT(res.call.attempts, 3);
    IG_CHECK_EQ_INT(res.call.status, 0);
    IG_CHECK(res.output == NULL);
    IG_CHECK_EQ_INT(ctx.retry.quota, 500 - 20);
    json_decref(key);
    ig_dynamodb_result_free(&res);
    ig_dynamodb_free(d);
    ig_aws_context_free(&ctx);
    clear_endpoint_vars();
}

/* ---- CRC32 ----------------------------------------------------------------------------- */

static void test_crc32_values(void)
{
    IG_CHECK_EQ_INT(ig_dynamodb_crc32("123456789", 9), 3421780262u); /* the standard check value */
    IG_CHECK_EQ_INT(ig_dynamodb_crc32("", 0), 0);
    IG_CHECK_EQ_INT(ig_dynamodb_crc32("{}", 2), 2745614147u);
}

static void test_crc32_mismatch_is_retried(void)
{
    ig_testsrv_reply script[] = {{.headers = "x-amz-crc32: 12345\r\n", .body = "{\"Item\":{\"id\":{\"S\":\"j-1\"}}}"},
                                 {.headers = "x-amz-crc32: 2048397809\r\n", .body = "{\"Item\":{\"id\":{\"S\":\"j-1\"}}}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 2, NULL));
    json_t *key = job_key("j-1");
    ig_dynamodb_get g = {.table = TABLE, .key = key};
    IG_CHECK_EQ_INT(ig_dynamodb_get_item(f.ddb, &g, ig_now_ms() + 5000, &f.res), IG_OK);
    IG_CHECK_EQ_INT(f.res.call.attempts, 2);
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(ig_dynamodb_output(&f.res, "Item"), "id"), "j-1");
    json_decref(key);
    teardown(&f);
}

static void test_crc32_mismatch_every_time_is_an_error(void)
{
    ig_testsrv_reply script[] = {{.headers = "x-amz-crc32: 2745614148\r\n", .body = "{}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    IG_CHECK_EQ_INT(put_job(&f, ig_now_ms() + 5000), IG_ERR_HTTP);
    IG_CHECK_EQ_INT(f.res.call.attempts, 3);
    IG_CHECK(strstr(f.res.call.message, "x-amz-crc32") != NULL);
    IG_CHECK_EQ_STR(f.res.call.stop_reason, "attempts exhausted");
    IG_CHECK(f.res.output == NULL);
    teardown(&f);
    ig_testsrv_reply bad[] = {{.headers = "x-amz-crc32: not-a-number\r\n", .body = "{}"}};
    IG_CHECK(setup(&f, bad, 1, NULL));
    f.ctx.retry.max_attempts = 1;
    IG_CHECK_EQ_INT(put_job(&f, ig_now_ms() + 5000), IG_ERR_HTTP);
    IG_CHECK(strstr(f.res.call.message, "not a 32-bit number") != NULL);
    teardown(&f);
}

static void test_answer_that_is_not_json_is_a_parse_error(void)
{
    ig_testsrv_reply script[] = {{.body = "<html>proxy</html>"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    IG_CHECK_EQ_INT(put_job(&f, ig_now_ms() + 5000), IG_ERR_PARSE);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 1);
    IG_CHECK(strstr(f.res.call.message, "not a JSON object") != NULL);
    IG_CHECK(f.res.output == NULL);
    teardown(&f);
}

/* ---- inputs refused before sending ----------------------------------------------------- */

static void check_refused(fixture *f, ig_err e, const char *fragment)
{
    IG_CHECK_EQ_INT(e, IG_ERR_INVALID_ARG);
    if (!strstr(f->res.call.message, fragment))
        ig_test_fail(__FILE__, __LINE__, "message \"%s\" does not name \"%s\"", f->res.call.message, fragment);
    IG_CHECK_EQ_STR(f->res.call.stop_reason, "not retryable");
    IG_CHECK_EQ_INT(f->res.call.attempts, 0);
}

static void test_bad_inputs_send_nothing(void)
{
    ig_testsrv_reply script[] = {{.body = "{}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    int64_t dl = ig_now_ms() + 5000;
    json_t *item = json_pack("{s:o}", "id", ig_dynamodb_attr_s("j-1"));
    json_t *empty = json_object();
    ig_dynamodb_put p = {.table = "x", .item = item};
    check_refused(&f, ig_dynamodb_put_item(f.ddb, &p, dl, &f.res), "TableName");
    p.table = "bad table!";
    check_refused(&f, ig_dynamodb_put_item(f.ddb, &p, dl, &f.res), "TableName");
    p = (ig_dynamodb_put){.table = TABLE};
    check_refused(&f, ig_dynamodb_put_item(f.ddb, &p, dl, &f.res), "Item is required");
    p = (ig_dynamodb_put){.table = TABLE, .item = item, .condition = ""};
    check_refused(&f, ig_dynamodb_put_item(f.ddb, &p, dl, &f.res), "ConditionExpression is empty");
    p = (ig_dynamodb_put){.table = TABLE, .item = item, .values = empty};
    check_refused(&f, ig_dynamodb_put_item(f.ddb, &p, dl, &f.res), "ExpressionAttributeValues");
    p = (ig_dynamodb_put){.table = TABLE, .item = item, .return_values = "ALL_NEW"};
    check_refused(&f, ig_dynamodb_put_item(f.ddb, &p, dl, &f.res), "ReturnValues");
    ig_dynamodb_update u = {.table = TABLE, .key = item};
    check_refused(&f, ig_dynamodb_update_item(f.ddb, &u, dl, &f.res), "UpdateExpression is required");
    ig_dynamodb_query q = {.table = TABLE};
    check_refused(&f, ig_dynamodb_query_page(f.ddb, &q, dl, &f.res), "KeyConditionExpression is required");
    q.key_condition = "id = :v";
    q.limit = -1;
    check_refused(&f, ig_dynamodb_query_page(f.ddb, &q, dl, &f.res), "Limit");
    ig_dynamodb_get g = {.table = TABLE};
    check_refused(&f, ig_dynamodb_get_item(f.ddb, &g, dl, &f.res), "Key is required");
    check_refused(&f, ig_dynamodb_get_item(f.ddb, NULL, dl, &f.res), "no request");
    check_refused(&f, ig_dynamodb_call(f.ddb, "Put Item", item, dl, &f.res), "operation");
    check_refused(&f, ig_dynamodb_call(f.ddb, "PutItem", NULL, dl, &f.res), "not a JSON object");
    p = (ig_dynamodb_put){.table = TABLE, .item = item};
    IG_CHECK_EQ_INT(ig_dynamodb_put_item(NULL, &p, dl, &f.res), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 0);
    /* A table ARN is a valid table. */
    p.table = "arn:aws:dynamodb:us-east-1:123456789012:table/imagegen-jobs";
    IG_CHECK_EQ_INT(ig_dynamodb_put_item(f.ddb, &p, dl, &f.res), IG_OK);
    json_decref(item);
    json_decref(empty);
    teardown(&f);
}

/* ---- endpoints and helpers ------------------------------------------------------------- */

static void test_endpoint_variables(void)
{
    ig_endpoint e;
    ig_error err;
    clear_endpoint_vars();
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    IG_CHECK_EQ_INT(ig_endpoint_dynamodb("eu-west-1", &e, &err), IG_OK);
    IG_CHECK_EQ_STR(e.scheme, "https");
    IG_CHECK_EQ_STR(e.host, "dynamodb.eu-west-1.amazonaws.com");
    IG_CHECK_EQ_INT(e.overridden, 0);
    ig_endpoint_free(&e);
    IG_CHECK_EQ_INT(ig_endpoint_dynamodb("cn-north-1", &e, &err), IG_OK);
    IG_CHECK_EQ_STR(e.host, "dynamodb.cn-north-1.amazonaws.com.cn");
    ig_endpoint_free(&e);
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1111", 1);
    IG_CHECK_EQ_INT(ig_endpoint_dynamodb("us-east-1", &e, &err), IG_OK);
    IG_CHECK_EQ_STR(e.host, "127.0.0.1:1111");
    ig_endpoint_free(&e);
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2222/ddb/", 1);
    IG_CHECK_EQ_INT(ig_endpoint_dynamodb("us-east-1", &e, &err), IG_OK);
    IG_CHECK_EQ_STR(e.host, "127.0.0.1:2222");
    IG_CHECK_EQ_STR(e.base_path, "/ddb");
    IG_CHECK_EQ_INT(e.overridden, 1);
    ig_endpoint_free(&e);
    /* Lambda's own variable does not move DynamoDB. */
    unsetenv("AWS_ENDPOINT_URL_DYNAMODB");
    setenv("AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.1:3333", 1);
    IG_CHECK_EQ_INT(ig_endpoint_dynamodb("us-east-1", &e, &err), IG_OK);
    IG_CHECK_EQ_STR(e.host, "127.0.0.1:1111");
    ig_endpoint_free(&e);
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "ftp://nope", 1);
    IG_CHECK_EQ_INT(ig_endpoint_dynamodb("us-east-1", &e, &err), IG_ERR_ENDPOINT);
    IG_CHECK(strstr(err.message, "AWS_ENDPOINT_URL_DYNAMODB") != NULL);
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    IG_CHECK_EQ_INT(ig_endpoint_dynamodb("us-east-1", &e, &err), IG_OK);
    IG_CHECK_EQ_STR(e.host, "dynamodb.us-east-1.amazonaws.com");
    ig_endpoint_free(&e);
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    unsetenv("AWS_ENDPOINT_URL");
    clear_endpoint_vars();
}

static void test_base_path_of_an_override_is_kept(void)
{
    ig_testsrv_reply script[] = {{.body = "{}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1, NULL));
    ig_dynamodb_free(f.ddb);
    char url[96];
    snprintf(url, sizeof url, "%s/prefix", ig_testsrv_url(f.srv));
    setenv("AWS_ENDPOINT_URL_DYNAMODB", url, 1);
    f.ddb = ig_dynamodb_new(&f.ctx, NULL);
    IG_CHECK(f.ddb != NULL);
    IG_CHECK_EQ_INT(put_job(&f, ig_now_ms() + 5000), IG_OK);
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 0);
    IG_CHECK(r && strcmp(r->target, "/prefix/") == 0);
    IG_CHECK(r && ig_test_verify_recorded(r, "dynamodb", 0, NULL) == IG_OK);
    teardown(&f);
}

static void test_attribute_helpers(void)
{
    json_t *item = json_pack("{s:o, s:o, s:o, s:o, s:o, s:{s:s}, s:{s:s}}", "s", ig_dynamodb_attr_s("caf\xc3\xa9"), "n",
                             ig_dynamodb_attr_n(-9007199254740993LL), "b", ig_dynamodb_attr_bool(1), "m",
                             ig_dynamodb_attr_map(json_pack("{s:o}", "w", ig_dynamodb_attr_n(512))), "l",
                             ig_dynamodb_attr_list(json_pack("[o]", ig_dynamodb_attr_s("x"))), "frac", "N", "4.5",
                             "big", "N", "99999999999999999999");
    IG_CHECK(item != NULL);
    IG_CHECK(same_json(item, "{\"s\":{\"S\":\"caf\xc3\xa9\"},\"n\":{\"N\":\"-9007199254740993\"},\"b\":{\"BOOL\":true},"
                             "\"m\":{\"M\":{\"w\":{\"N\":\"512\"}}},\"l\":{\"L\":[{\"S\":\"x\"}]},"
                             "\"frac\":{\"N\":\"4.5\"},\"big\":{\"N\":\"99999999999999999999\"}}"));
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "s"), "caf\xc3\xa9");
    IG_CHECK(ig_dynamodb_item_s(item, "n") == NULL); /* a number is not a string */
    IG_CHECK(ig_dynamodb_item_s(item, "missing") == NULL);
    int64_t n = 0;
    IG_CHECK(ig_dynamodb_item_n(item, "n", &n));
    IG_CHECK(n == -9007199254740993LL);
    IG_CHECK(!ig_dynamodb_item_n(item, "frac", &n));
    IG_CHECK(!ig_dynamodb_item_n(item, "big", &n));
    IG_CHECK(!ig_dynamodb_item_n(item, "s", &n));
    int b = 0;
    IG_CHECK(ig_dynamodb_item_bool(item, "b", &b) && b == 1);
    IG_CHECK(!ig_dynamodb_item_bool(item, "s", &b));
    IG_CHECK(ig_dynamodb_attr_s(NULL) == NULL);
    IG_CHECK(ig_dynamodb_attr_map(json_array()) == NULL);
    IG_CHECK(ig_dynamodb_attr_list(json_object()) == NULL);
    IG_CHECK(ig_dynamodb_item_s(NULL, "s") == NULL);
    json_decref(item);
}

int main(void)
{
    IG_RUN(test_put_item_wire_shape_and_signature);
    IG_RUN(test_session_token_is_sent_and_signed);
    IG_RUN(test_update_item_document_and_attributes);
    IG_RUN(test_get_item_consistent_read_found_and_missing);
    IG_RUN(test_query_pages_with_the_last_evaluated_key);
    IG_RUN(test_any_operation_through_the_generic_call);
    IG_RUN(test_condition_failure_is_decoded_and_never_retried);
    IG_RUN(test_validation_and_missing_table_are_not_retried);
    IG_RUN(test_throttling_and_5xx_are_retried);
    IG_RUN(test_attempts_are_bounded);
    IG_RUN(test_deadline_is_never_passed);
    IG_RUN(test_no_retry_starts_that_cannot_finish);
    IG_RUN(test_connection_failures_are_retried_then_reported);
    IG_RUN(test_crc32_values);
    IG_RUN(test_crc32_mismatch_is_retried);
    IG_RUN(test_crc32_mismatch_every_time_is_an_error);
    IG_RUN(test_answer_that_is_not_json_is_a_parse_error);
    IG_RUN(test_bad_inputs_send_nothing);
    IG_RUN(test_endpoint_variables);
    IG_RUN(test_base_path_of_an_override_is_kept);
    IG_RUN(test_attribute_helpers);
    return ig_test_finish("dynamodb");
}
