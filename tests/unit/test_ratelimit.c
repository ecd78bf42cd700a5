/* test_ratelimit.c - the shared rate limit's counter (handler/ratelimit.h) against a scripted
 * DynamoDB: the policy's limit as the runtime takes it, the window and its item, the one
 * conditional UpdateItem that counts (what goes over the wire, signed), a count refused by its
 * condition without a retry, and a table throttled, failing or unreachable reported as
 * unavailable, logged on the first failure and every 100th. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/dynamodb.h"
#include "core/log.h"
#include "handler/ratelimit.h"
#include "support_aws_env.h"
#include "support_http_server.h"
#include "testlib.h"

#define TABLE "imagegen-local"
#define CCF_BODY                                                                                   \
    "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\","            \
    "\"message\":\"The conditional request failed\"}"
#define THROTTLED_BODY                                                                             \
    "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ThrottlingException\",\"message\":\"Rate of "  \
    "requests exceeds the allowed throughput.\"}"
/* 2026-12-07T01:00:12.500Z: window 60 starts at 01:00:00 (1796605200), 47.5 s before its end */
#define NOW_MS 1796605212500LL
#define WINDOW_START 1796605200LL

/* ---- log lines -------------------------------------------------------------------------- */

static char g_logs[16384];
static void capture(const char *line, size_t len)
{
    size_t used = strlen(g_logs);
    if (used + len + 1 < sizeof g_logs) {
        memcpy(g_logs + used, line, len);
        g_logs[used + len] = 0;
    }
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- fixture ---------------------------------------------------------------------------- */

typedef struct {
    ig_testsrv *srv;
    ig_aws_context ctx;
    ig_ratelimit *rl;
} fixture;

static int setup_url(fixture *f, const char *url)
{
    ig_error err;
    ig_error_clear(&err);
    if (ig_test_aws_context(&f->ctx, "AWS_ENDPOINT_URL_DYNAMODB", url, NULL) != IG_OK)
        return 0;
    f->rl = ig_ratelimit_new(&f->ctx, TABLE, &err);
    if (!f->rl)
        fprintf(stderr, "ratelimit: %s\n", err.message);
    g_logs[0] = 0;
    ig_log_set_writer(capture);
    return f->rl != NULL;
}

static int setup(fixture *f, const ig_testsrv_reply *script, size_t n)
{
    memset(f, 0, sizeof *f);
    f->srv = ig_testsrv_start(script, n);
    return f->srv && setup_url(f, ig_testsrv_url(f->srv));
}

static void teardown(fixture *f)
{
    ig_log_set_writer(NULL);
    ig_ratelimit_free(f->rl);
    ig_aws_context_free(&f->ctx);
    ig_testsrv_stop(f->srv);
    unsetenv("AWS_ENDPOINT_URL_DYNAMODB");
}

static ig_ratelimit_spec spec_of(const char *json)
{
    ig_ratelimit_spec s;
    ig_error err;
    ig_error_clear(&err);
    json_t *j = json_loads(json, 0, NULL);
    if (ig_ratelimit_spec_parse(j, &s, &err) != IG_OK)
        fprintf(stderr, "spec: %s\n", err.message);
    json_decref(j);
    return s;
}

#define SPEC "{\"key\":\"ip:192.0.2.1\",\"limit\":5,\"window_s\":60,\"cost\":2,\"on_error\":\"open\"}"

/* ---- the policy's limit ----------------------------------------------------------------- */

static void check_refused(const char *json, const char *field)
{
    ig_ratelimit_spec s;
    ig_error err;
    ig_error_clear(&err);
    json_t *j = json_loads(json, 0, NULL);
    IG_CHECK_EQ_INT(ig_ratelimit_spec_parse(j, &s, &err), IG_ERR_POLICY);
    if (!strstr(err.message, field))
        fprintf(stderr, "  %s: message does not name %s: %s\n", json, field, err.message);
    IG_CHECK(strstr(err.message, field) != NULL);
    json_decref(j);
}

static void test_spec(void)
{
    ig_ratelimit_spec s = spec_of(SPEC);
    IG_CHECK_EQ_STR(s.key, "ip:192.0.2.1");
    IG_CHECK_EQ_INT(s.limit, 5);
    IG_CHECK_EQ_INT(s.window_s, 60);
    IG_CHECK_EQ_INT(s.cost, 2);
    IG_CHECK_EQ_INT(s.fail_closed, 0);
    s = spec_of("{\"key\":\"key:k\",\"limit\":1,\"window_s\":86400,\"cost\":1,\"on_error\":\"closed\"}");
    IG_CHECK_EQ_INT(s.fail_closed, 1);
    check_refused("[]", "limit must be");
    check_refused("{\"limit\":5,\"window_s\":60,\"cost\":1,\"on_error\":\"open\"}", "limit.key");
    check_refused("{\"key\":\"\",\"limit\":5,\"window_s\":60,\"cost\":1,\"on_error\":\"open\"}", "limit.key");
    check_refused("{\"key\":\"k\",\"limit\":0,\"window_s\":60,\"cost\":1,\"on_error\":\"open\"}", "limit.limit");
    check_refused("{\"key\":\"k\",\"limit\":5.5,\"window_s\":60,\"cost\":1,\"on_error\":\"open\"}", "limit.limit");
    check_refused("{\"key\":\"k\",\"limit\":5,\"window_s\":0,\"cost\":1,\"on_error\":\"open\"}", "limit.window_s");
    check_refused("{\"key\":\"k\",\"limit\":5,\"window_s\":86401,\"cost\":1,\"on_error\":\"open\"}", "limit.window_s");
    check_refused("{\"key\":\"k\",\"limit\":5,\"window_s\":60,\"cost\":6,\"on_error\":\"open\"}", "limit.cost");
    check_refused("{\"key\":\"k\",\"limit\":5,\"window_s\":60,\"cost\":0,\"on_error\":\"open\"}", "limit.cost");
    check_refused("{\"key\":\"k\",\"limit\":5,\"window_s\":60,\"cost\":1,\"on_error\":\"maybe\"}", "limit.on_error");
    check_refused("{\"key\":\"k\",\"limit\":5,\"window_s\":60,\"cost\":1}", "limit.on_error");
    char big[IG_RATELIMIT_MAX_KEY + 64];
    memset(big, 'k', sizeof big);
    snprintf(big, sizeof big, "{\"key\":\"%0*d\",\"limit\":5,\"window_s\":60,\"cost\":1,\"on_error\":\"open\"}",
             IG_RATELIMIT_MAX_KEY + 1, 0);
    check_refused(big, "limit.key");
}

static void test_window_and_key(void)
{
    IG_CHECK_EQ_INT(ig_ratelimit_window_start(NOW_MS, 60), WINDOW_START);
    IG_CHECK_EQ_INT(ig_ratelimit_window_start(WINDOW_START * 1000, 60), WINDOW_START);
    IG_CHECK_EQ_INT(ig_ratelimit_window_start(WINDOW_START * 1000 - 1, 60), WINDOW_START - 60);
    IG_CHECK_EQ_INT(ig_ratelimit_window_start(NOW_MS, 1), NOW_MS / 1000);
    ig_ratelimit_spec s = spec_of(SPEC);
    char pk[400];
    ig_ratelimit_pk(&s, WINDOW_START, pk, sizeof pk);
    IG_CHECK_EQ_STR(pk, "rl#4fa79423ef2fc7de17ee7d26e3373b1d#1796605200");
}

/* ---- counting --------------------------------------------------------------------------- */

static void test_counted(void)
{
    ig_testsrv_reply script[] = {{.body = "{\"Attributes\":{\"n\":{\"N\":\"4\"},\"expires_at\":{\"N\":\"1\"}}}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 1));
    ig_ratelimit_spec s = spec_of(SPEC);
    ig_ratelimit_outcome o;
    IG_CHECK_EQ_INT(ig_ratelimit_take(f.rl, &s, NOW_MS, 0, &o), IG_RATELIMIT_ALLOWED);
    IG_CHECK_EQ_INT(o.remaining, 1);
    IG_CHECK_EQ_INT(o.reset_s, 48); /* 47.5 s to the window's end, rounded up */
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 1);
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 0);
    IG_CHECK(r != NULL);
    if (r) {
        IG_CHECK_EQ_STR(r->method, "POST");
        IG_CHECK_EQ_STR(ig_header_list_get(&r->headers, "x-amz-target"), "DynamoDB_20120810.UpdateItem");
        IG_CHECK_EQ_INT(ig_test_verify_recorded(r, "dynamodb", 0, NULL), IG_OK);
        json_t *sent = json_loadb(r->body.data, r->body.len, 0, NULL);
        json_t *want = json_loads(
            "{\"TableName\":\"" TABLE "\","
            "\"Key\":{\"pk\":{\"S\":\"rl#4fa79423ef2fc7de17ee7d26e3373b1d#1796605200\"},\"sk\":{\"S\":\"rl\"}},"
            "\"UpdateExpression\":\"ADD #n :cost SET #e = :exp\","
            "\"ConditionExpression\":\"attribute_not_exists(#n) OR #n <= :most\","
            "\"ExpressionAttributeNames\":{\"#n\":\"n\",\"#e\":\"expires_at\"},"
            "\"ExpressionAttributeValues\":{\":cost\":{\"N\":\"2\"},\":most\":{\"N\":\"3\"},"
            "\":exp\":{\"N\":\"1796605320\"}},"
            "\"ReturnValues\":\"UPDATED_NEW\"}",
            0, NULL);
        IG_CHECK(sent && want && json_equal(sent, want));
        if (!(sent && want && json_equal(sent, want)))
            fprintf(stderr, "  sent: %.*s\n", (int)r->body.len, r->body.data);
        json_decref(sent);
        json_decref(want);
    }
    json_t *j = ig_ratelimit_outcome_json(&s, &o);
    json_t *want =
        json_loads("{\"key\":\"ip:192.0.2.1\",\"limit\":5,\"remaining\":1,\"reset\":48,\"cost\":2}", 0, NULL);
    IG_CHECK(json_equal(j, want));
    json_decref(j);
    json_decref(want);
    IG_CHECK_EQ_INT(ig_ratelimit_store_failures(f.rl), 0);
    IG_CHECK_EQ_INT(count_of(g_logs, "rate limit store unavailable"), 0);
    teardown(&f);
}

static void test_refused_by_the_condition(void)
{
    ig_testsrv_reply script[] = {{.status = 400, .body = CCF_BODY}};
    fixture f;
    IG_CHECK(setup(&f, script, 1));
    ig_ratelimit_spec s = spec_of(SPEC);
    ig_ratelimit_outcome o;
    IG_CHECK_EQ_INT(ig_ratelimit_take(f.rl, &s, NOW_MS, 0, &o), IG_RATELIMIT_REFUSED);
    IG_CHECK_EQ_INT(o.remaining, 0);
    IG_CHECK_EQ_INT(o.reset_s, 48);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 1); /* never retried */
    IG_CHECK_EQ_INT(ig_ratelimit_store_failures(f.rl), 0);
    json_t *j = ig_ratelimit_outcome_json(&s, &o);
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(j, "remaining")), 0);
    json_decref(j);
    /* the last second of a window resets in 1 */
    IG_CHECK_EQ_INT(ig_ratelimit_take(f.rl, &s, (WINDOW_START + 60) * 1000 - 1, 0, &o), IG_RATELIMIT_REFUSED);
    IG_CHECK_EQ_INT(o.reset_s, 1);
    teardown(&f);
}

/* A count given back: ADD n -cost on the same window's item, never below zero; a window whose
 * count is already below the cost (the condition fails) is not an error worth retrying. */
static void test_give_back(void)
{
    ig_testsrv_reply script[] = {{.body = "{}"}, {.status = 400, .body = CCF_BODY}};
    fixture f;
    IG_CHECK(setup(&f, script, 2));
    ig_ratelimit_spec s = spec_of(SPEC);
    IG_CHECK_EQ_INT(ig_ratelimit_give_back(f.rl, &s, WINDOW_START, 0), IG_OK);
    const ig_testsrv_request *r = ig_testsrv_request_at(f.srv, 0);
    IG_CHECK(r != NULL);
    if (r) {
        json_t *sent = json_loadb(r->body.data, r->body.len, 0, NULL);
        IG_CHECK_EQ_STR(json_string_value(json_object_get(sent, "UpdateExpression")), "ADD #n :back");
        IG_CHECK_EQ_STR(json_string_value(json_object_get(sent, "ConditionExpression")), "#n >= :cost");
        json_t *values = json_object_get(sent, "ExpressionAttributeValues");
        IG_CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(values, ":back"), "N")), "-2");
        IG_CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(values, ":cost"), "N")), "2");
        IG_CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(json_object_get(sent, "Key"), "pk"), "S")),
                        "rl#4fa79423ef2fc7de17ee7d26e3373b1d#1796605200");
        json_decref(sent);
    }
    IG_CHECK(ig_ratelimit_give_back(f.rl, &s, WINDOW_START, 0) != IG_OK);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 2); /* the condition's failure is never retried */
    teardown(&f);
}

static void test_throttled_past_retries(void)
{
    ig_testsrv_reply script[] = {{.status = 400, .body = THROTTLED_BODY}};
    fixture f;
    IG_CHECK(setup(&f, script, 1));
    ig_ratelimit_spec s = spec_of(SPEC);
    ig_ratelimit_outcome o;
    IG_CHECK_EQ_INT(ig_ratelimit_take(f.rl, &s, NOW_MS, 0, &o), IG_RATELIMIT_UNAVAILABLE);
    IG_CHECK(ig_testsrv_hits(f.srv) > 1); /* throttling is retried first */
    IG_CHECK_EQ_INT(ig_ratelimit_store_failures(f.rl), 1);
    IG_CHECK_EQ_INT(count_of(g_logs, "rate limit store unavailable; failing open"), 1);
    IG_CHECK(strstr(g_logs, "ThrottlingException") != NULL);
    json_t *j = ig_ratelimit_outcome_json(&s, &o);
    IG_CHECK(json_is_true(json_object_get(j, "unavailable")));
    IG_CHECK(json_object_get(j, "remaining") == NULL);
    json_decref(j);
    teardown(&f);
}

static void test_failing_answers(void)
{
    ig_testsrv_reply script[] = {
        {.status = 400, .body = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException\","
                                "\"message\":\"Requested resource not found\"}"},
        {.body = "{}"}};
    fixture f;
    IG_CHECK(setup(&f, script, 2));
    ig_ratelimit_spec s = spec_of("{\"key\":\"k\",\"limit\":5,\"window_s\":60,\"cost\":1,\"on_error\":\"closed\"}");
    ig_ratelimit_outcome o;
    /* no such table: not retried, unavailable */
    IG_CHECK_EQ_INT(ig_ratelimit_take(f.rl, &s, NOW_MS, 0, &o), IG_RATELIMIT_UNAVAILABLE);
    IG_CHECK_EQ_INT(ig_testsrv_hits(f.srv), 1);
    IG_CHECK(strstr(g_logs, "rate limit store unavailable; failing closed") != NULL);
    IG_CHECK(strstr(g_logs, "ResourceNotFoundException") != NULL);
    /* an answer without the count says nothing of the window */
    IG_CHECK_EQ_INT(ig_ratelimit_take(f.rl, &s, NOW_MS, 0, &o), IG_RATELIMIT_UNAVAILABLE);
    IG_CHECK_EQ_INT(ig_ratelimit_store_failures(f.rl), 2);
    teardown(&f);
}

static void test_unreachable_is_logged_once_per_hundred(void)
{
    fixture f;
    memset(&f, 0, sizeof f);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ig_testsrv_closed_port());
    IG_CHECK(setup_url(&f, url));
    ig_ratelimit_spec s = spec_of(SPEC);
    ig_ratelimit_outcome o;
    for (int i = 0; i < 101; i++)
        IG_CHECK_EQ_INT(ig_ratelimit_take(f.rl, &s, NOW_MS, 0, &o), IG_RATELIMIT_UNAVAILABLE);
    IG_CHECK_EQ_INT(ig_ratelimit_store_failures(f.rl), 101);
    IG_CHECK_EQ_INT(count_of(g_logs, "rate limit store unavailable; failing open"), 2); /* the 1st and the 101st */
    IG_CHECK(strstr(g_logs, "\"failures\":101") != NULL);
    teardown(&f);
}

int main(void)
{
    IG_RUN(test_spec);
    IG_RUN(test_window_and_key);
    IG_RUN(test_counted);
    IG_RUN(test_refused_by_the_condition);
    IG_RUN(test_give_back);
    IG_RUN(test_throttled_past_retries);
    IG_RUN(test_failing_answers);
    IG_RUN(test_unreachable_is_logged_once_per_hundred);
    return ig_test_finish("ratelimit");
}
