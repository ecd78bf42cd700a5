/* test_apigw.c - API Gateway's formats: the proxy event becomes the policy's request (maps,
 * bodies, bounds), and answers become proxy responses (headers, sizes, the last-resort 500). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apigw/event.h"
#include "apigw/response.h"
#include "core/buf.h"
#include "testlib.h"

static json_t *req_from(const char *event)
{
    json_t *req = NULL;
    ig_error err;
    ig_err e = ig_event_to_request(event, strlen(event), &req, NULL, &err);
    if (e != IG_OK) {
        printf("  event error: %s\n", err.message);
        return NULL;
    }
    return req;
}

static const char *str_at(json_t *obj, const char *a, const char *b)
{
    json_t *v = json_object_get(obj, a);
    if (b)
        v = json_object_get(v, b);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void test_event_get_with_query(void)
{
    json_t *req = req_from(
        "{\"resource\":\"/generate-image\",\"path\":\"/generate-image\",\"httpMethod\":\"get\","
        "\"headers\":{\"Content-Type\":\"text/plain\",\"X-Api-Key\":\"k\"},"
        "\"queryStringParameters\":{\"prompt\":\"A beautiful sunset\"},"
        "\"multiValueQueryStringParameters\":{\"prompt\":[\"A beautiful sunset\"]},"
        "\"requestContext\":{\"requestId\":\"r-1\",\"stage\":\"prod\",\"identity\":{\"sourceIp\":\"203.0.113.9\",\"apiKeyId\":\"key1\"}},"
        "\"body\":null,\"isBase64Encoded\":false}");
    IG_CHECK(req != NULL);
    IG_CHECK_EQ_STR(str_at(req, "method", NULL), "GET");
    IG_CHECK_EQ_STR(str_at(req, "path", NULL), "/generate-image");
    IG_CHECK_EQ_STR(str_at(req, "query", "prompt"), "A beautiful sunset");
    IG_CHECK_EQ_STR(str_at(req, "headers", "content-type"), "text/plain");
    IG_CHECK_EQ_STR(str_at(req, "headers", "x-api-key"), "k");
    IG_CHECK_EQ_STR(str_at(req, "identity", "source_ip"), "203.0.113.9");
    IG_CHECK_EQ_STR(str_at(req, "identity", "api_key_id"), "key1");
    IG_CHECK_EQ_STR(str_at(req, "request_id", NULL), "r-1");
    IG_CHECK(json_object_get(req, "body") == NULL);
    IG_CHECK(json_object_get(req, "raw_body") == NULL);
    IG_CHECK_EQ_INT(json_array_size(json_object_get(json_object_get(req, "multi_query"), "prompt")), 1);
    json_decref(req);
}

/* An event whose query holds n parameters, or whose JSON body is an object of n members. */
static json_t *req_with(size_t n, int in_body)
{
    json_t *ev = json_pack("{s:s, s:s, s:{}, s:{}}", "httpMethod", in_body ? "POST" : "GET", "path",
                           "/generate-image", "headers", "requestContext");
    json_t *params = json_object(), *multi = json_object();
    for (size_t i = 0; i < n; i++) {
        char k[32];
        snprintf(k, sizeof k, "k%zu", i);
        json_object_set_new(params, k, json_string("v"));
        json_object_set_new(multi, k, json_pack("[s]", "v"));
    }
    if (in_body) {
        char *text = json_dumps(params, JSON_COMPACT);
        json_object_set_new(ev, "body", json_string(text));
        free(text);
        json_decref(params);
        json_decref(multi);
    } else {
        json_object_set_new(ev, "queryStringParameters", params);
        json_object_set_new(ev, "multiValueQueryStringParameters", multi);
    }
    char *event = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    json_t *req = req_from(event);
    free(event);
    return req;
}

/* The policy is never handed more than the runtime's bounds: its budget cannot depend on what a
 * client sends. At the bound the request is whole; past it, query and body are dropped. */
static void test_event_bounds_what_reaches_the_policy(void)
{
    json_t *req = req_with(IG_EVENT_MAX_PARAMS, 0);
    IG_CHECK(req && !json_object_get(req, "too_large"));
    IG_CHECK_EQ_INT(json_object_size(json_object_get(req, "query")), IG_EVENT_MAX_PARAMS);
    json_decref(req);
    req = req_with(IG_EVENT_MAX_PARAMS + 1, 0);
    IG_CHECK(req != NULL);
    IG_CHECK_EQ_STR(str_at(req, "too_large", NULL), "the request has more than 100 query parameters");
    IG_CHECK_EQ_INT(json_object_size(json_object_get(req, "query")), 0);
    IG_CHECK_EQ_INT(json_object_size(json_object_get(req, "multi_query")), 0);
    IG_CHECK_EQ_STR(str_at(req, "method", NULL), "GET");
    json_decref(req);
    req = req_with(IG_EVENT_MAX_VALUES - 1, 1); /* the object itself is one value */
    IG_CHECK(req && !json_object_get(req, "too_large") && json_object_get(req, "body"));
    json_decref(req);
    req = req_with(50000, 1);
    IG_CHECK(req != NULL);
    IG_CHECK_EQ_STR(str_at(req, "too_large", NULL), "the request body holds more than 1000 values");
    IG_CHECK(json_object_get(req, "body") == NULL);
    IG_CHECK(json_object_get(req, "raw_body") == NULL);
    json_decref(req);
}

static void test_event_null_maps_become_empty(void)
{
    json_t *req = req_from("{\"httpMethod\":\"GET\",\"path\":\"/health\",\"headers\":null,"
                           "\"queryStringParameters\":null,\"multiValueQueryStringParameters\":null,"
                           "\"pathParameters\":null,\"stageVariables\":null,\"requestContext\":null}");
    IG_CHECK(req != NULL);
    IG_CHECK(json_is_object(json_object_get(req, "query")));
    IG_CHECK_EQ_INT(json_object_size(json_object_get(req, "query")), 0);
    IG_CHECK_EQ_INT(json_object_size(json_object_get(req, "headers")), 0);
    IG_CHECK(json_is_object(json_object_get(req, "identity")));
    json_decref(req);
}

static void test_event_json_body_decoded(void)
{
    json_t *req = req_from("{\"httpMethod\":\"POST\",\"path\":\"/generate-image\","
                           "\"body\":\"{\\\"prompt\\\":\\\"a\\\\u0000b\\\",\\\"width\\\":512}\",\"isBase64Encoded\":false}");
    IG_CHECK(req != NULL);
    json_t *body = json_object_get(req, "body");
    IG_CHECK(json_is_object(body));
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(body, "width")), 512);
    IG_CHECK_EQ_INT(json_string_length(json_object_get(body, "prompt")), 3); /* NUL kept for the policy */
    IG_CHECK(json_object_get(req, "body_error") == NULL);
    json_decref(req);
}

static void test_event_base64_body_decoded(void)
{
    /* {"prompt":"x"} */
    json_t *req = req_from("{\"httpMethod\":\"POST\",\"path\":\"/generate-image\","
                           "\"body\":\"eyJwcm9tcHQiOiJ4In0=\",\"isBase64Encoded\":true}");
    IG_CHECK(req != NULL);
    IG_CHECK_EQ_STR(str_at(req, "body", "prompt"), "x");
    IG_CHECK_EQ_STR(str_at(req, "raw_body", NULL), "{\"prompt\":\"x\"}");
    json_decref(req);
}

static void test_event_bad_bodies_are_named(void)
{
    json_t *req = req_from("{\"httpMethod\":\"POST\",\"path\":\"/p\",\"body\":\"{not json\"}");
    IG_CHECK(req != NULL);
    IG_CHECK(str_at(req, "body_error", NULL) && strstr(str_at(req, "body_error", NULL), "not valid JSON"));
    IG_CHECK(json_object_get(req, "body") == NULL);
    json_decref(req);
    req = req_from("{\"httpMethod\":\"POST\",\"path\":\"/p\",\"body\":\"***\",\"isBase64Encoded\":true}");
    IG_CHECK(req != NULL);
    IG_CHECK(str_at(req, "body_error", NULL) && strstr(str_at(req, "body_error", NULL), "base64"));
    json_decref(req);
    /* base64 of the bytes ff fe: not UTF-8 */
    req = req_from("{\"httpMethod\":\"POST\",\"path\":\"/p\",\"body\":\"//4=\",\"isBase64Encoded\":true}");
    IG_CHECK(req != NULL);
    IG_CHECK(str_at(req, "body_error", NULL) && strstr(str_at(req, "body_error", NULL), "UTF-8"));
    json_decref(req);
}

static void test_event_malformed_is_an_error(void)
{
    const char *bad[] = {"", "not json", "[]", "{}", "{\"httpMethod\":5}", "{\"httpMethod\":\"\"}",
                         "{\"httpMethod\":\"GET\",\"body\":7}", "{\"httpMethod\":\"GET\"", NULL};
    for (int i = 0; bad[i]; i++) {
        json_t *req = (json_t *)1;
        ig_error err;
        ig_err e = ig_event_to_request(bad[i], strlen(bad[i]), &req, NULL, &err);
        IG_CHECK(e == IG_ERR_PARSE);
        IG_CHECK(req == NULL);
        IG_CHECK(strlen(err.message) > 10);
    }
}

static void test_response_from_answer(void)
{
    ig_buf out;
    ig_buf_init(&out, 0);
    ig_error err;
    json_t *a = json_pack("{s:i, s:{s:s}, s:{s:s}}", "status", 201, "headers", "X-A", "b", "body", "k", "v");
    IG_CHECK_EQ_INT(ig_response_from_answer(a, &out, &err), IG_OK);
    json_t *r = json_loads(ig_buf_cstr(&out), 0, NULL);
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(r, "statusCode")), 201);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(r, "body")), "{\"k\":\"v\"}");
    IG_CHECK_EQ_STR(str_at(r, "headers", "Content-Type"), "application/json");
    IG_CHECK(json_is_false(json_object_get(r, "isBase64Encoded")));
    json_decref(r);
    json_decref(a);
    /* header injection and bad statuses are refused */
    const char *bad[] = {"{\"status\":200,\"headers\":{\"X\":\"a\\r\\nSet-Cookie: x\"}}",
                         "{\"status\":200,\"headers\":{\"Bad Name\":\"a\"}}", "{\"status\":99}",
                         "{\"status\":\"200\"}", "{\"status\":200,\"body\":5}", "[]", NULL};
    for (int i = 0; bad[i]; i++) {
        json_t *b = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        IG_CHECK_EQ_INT(ig_response_from_answer(b, &out, &err), IG_ERR_POLICY);
        json_decref(b);
    }
    ig_buf_free(&out);
}

static void test_response_size_limit(void)
{
    ig_buf out;
    ig_buf_init(&out, 0);
    ig_error err;
    size_t n = IG_RESPONSE_MAX_BYTES + 10;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    big[n] = '\0';
    json_t *a = json_pack("{s:i, s:s}", "status", 200, "body", big);
    IG_CHECK_EQ_INT(ig_response_from_answer(a, &out, &err), IG_ERR_POLICY);
    IG_CHECK(strstr(err.message, "6 MB") != NULL);
    json_decref(a);
    free(big);
    ig_buf_free(&out);
}

static void test_fallback_response_shape(void)
{
    ig_buf out;
    ig_buf_init(&out, 0);
    IG_CHECK_EQ_INT(ig_response_fallback(500, "policy_error", "broken", "req-9", NULL, &out), IG_OK);
    json_t *r = json_loads(ig_buf_cstr(&out), 0, NULL);
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(r, "statusCode")), 500);
    json_t *body = json_loads(json_string_value(json_object_get(r, "body")), 0, NULL);
    IG_CHECK_EQ_STR(str_at(json_object_get(body, "error"), "code", NULL), "policy_error");
    IG_CHECK_EQ_STR(str_at(json_object_get(body, "error"), "requestId", NULL), "req-9");
    IG_CHECK(str_at(r, "headers", "Access-Control-Allow-Origin") == NULL);
    json_decref(body);
    json_decref(r);
    /* With an origin the policy allows, the CORS header every documented error carries. */
    IG_CHECK_EQ_INT(ig_response_fallback(500, "policy_error", "broken", "req-9", "https://app.example.com", &out),
                    IG_OK);
    r = json_loads(ig_buf_cstr(&out), 0, NULL);
    IG_CHECK_EQ_STR(str_at(r, "headers", "Access-Control-Allow-Origin"), "https://app.example.com");
    IG_CHECK_EQ_STR(str_at(r, "headers", "Vary"), "Origin");
    json_decref(r);
    ig_buf_free(&out);
}

static void test_inline_payloads_fill_the_answer(void)
{
    json_t *answer = json_pack("{s:i, s:{s:[{s:s, s:s}, {s:s}], s:s}}", "status", 200, "body", "data", "b64_json",
                               "ref:1", "revised_prompt", "ref:1 is not a whole value here", "b64_json", "ref:2",
                               "note", "ref:3");
    json_t *payloads = json_pack("{s:s, s:s}", "ref:1", "QUJD", "ref:2", "REVG");
    ig_response_fill(answer, payloads);
    json_t *data = json_object_get(json_object_get(answer, "body"), "data");
    IG_CHECK_EQ_STR(str_at(json_array_get(data, 0), "b64_json", NULL), "QUJD");
    IG_CHECK_EQ_STR(str_at(json_array_get(data, 0), "revised_prompt", NULL), "ref:1 is not a whole value here");
    IG_CHECK_EQ_STR(str_at(json_array_get(data, 1), "b64_json", NULL), "REVG");
    IG_CHECK_EQ_STR(str_at(json_object_get(answer, "body"), "note", NULL), "ref:3"); /* no such payload */
    ig_response_fill(answer, NULL); /* nothing to fill: nothing changes */
    IG_CHECK_EQ_STR(str_at(json_array_get(data, 1), "b64_json", NULL), "REVG");
    json_decref(payloads);
    json_decref(answer);
}

int main(void)
{
    IG_RUN(test_event_get_with_query);
    IG_RUN(test_event_bounds_what_reaches_the_policy);
    IG_RUN(test_event_null_maps_become_empty);
    IG_RUN(test_event_json_body_decoded);
    IG_RUN(test_event_base64_body_decoded);
    IG_RUN(test_event_bad_bodies_are_named);
    IG_RUN(test_event_malformed_is_an_error);
    IG_RUN(test_response_from_answer);
    IG_RUN(test_response_size_limit);
    IG_RUN(test_fallback_response_shape);
    IG_RUN(test_inline_payloads_fill_the_answer);
    return ig_test_finish("apigw");
}
