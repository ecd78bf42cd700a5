/* test_handler_units.c - the handler's pure parts: event -> request, image extraction, proxy
 * responses, EMF records, configuration parsing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "handler/config.h"
#include "apigw/event.h"
#include "codec/extract.h"
#include "handler/metrics.h"
#include "apigw/response.h"
#include "testlib.h"

static json_t *req_from(const char *event)
{
    json_t *req = NULL;
    ig_error err;
    ig_err e = ig_event_to_request(event, strlen(event), &req, &err);
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
        ig_err e = ig_event_to_request(bad[i], strlen(bad[i]), &req, &err);
        IG_CHECK(e == IG_ERR_PARSE);
        IG_CHECK(req == NULL);
        IG_CHECK(strlen(err.message) > 10);
    }
}

static void test_extract_titan_and_sdxl_paths(void)
{
    ig_extracted x;
    ig_error err;
    const char *titan = "{\"images\":[\"QUJD\",\"REVG\"]}";
    IG_CHECK_EQ_INT(ig_extract_images(titan, strlen(titan), "images", "error", &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 2);
    IG_CHECK_EQ_INT(x.b64_len[1], 4);
    IG_CHECK_EQ_MEM(x.b64[1], "REVG", 4);
    IG_CHECK(x.b64[1] > titan && x.b64[1] < titan + strlen(titan)); /* in place, no copy */
    IG_CHECK(x.doc == NULL);
    IG_CHECK(x.error == NULL);
    ig_extracted_free(&x);
    const char *sdxl = "{\"result\":\"success\",\"artifacts\":[{\"seed\":1,\"base64\":\"QUJD\",\"finishReason\":\"SUCCESS\"}]}";
    IG_CHECK_EQ_INT(ig_extract_images(sdxl, strlen(sdxl), "artifacts[].base64", NULL, &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 1);
    IG_CHECK_EQ_MEM(x.b64[0], "QUJD", 4);
    ig_extracted_free(&x);
    const char *filtered = "{\"images\":[],\"error\":\"blocked by our content filters\"}";
    IG_CHECK_EQ_INT(ig_extract_images(filtered, strlen(filtered), "images", "error", &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 0);
    IG_CHECK_EQ_STR(x.error, "blocked by our content filters");
    ig_extracted_free(&x);
}

static void test_extract_escaped_strings_are_unescaped(void)
{
    ig_extracted x;
    ig_error err;
    /* "\/" is a legal escape of '/', which base64 holds; keys and the error may be escaped too */
    const char *body = "{\"other\":{\"deep\":[1,2.5e3,true,null]},\"images\":[\"QQ\\/D\",\"QQ==\"],"
                       "\"error\":\"filtered \\\"output\\\"\"}";
    IG_CHECK_EQ_INT(ig_extract_images(body, strlen(body), "images", "error", &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 2);
    IG_CHECK_EQ_INT(x.b64_len[0], 4);
    IG_CHECK_EQ_MEM(x.b64[0], "QQ/D", 4);
    IG_CHECK_EQ_STR(x.error, "filtered \"output\"");
    ig_extracted_free(&x);
    const char *skipping = "{\"a\":\"x\\\"y\",\"images\":[\"QQ==\"],\"b\":[{\"c\":\"\\\\\"}]}";
    IG_CHECK_EQ_INT(ig_extract_images(skipping, strlen(skipping), "images", NULL, &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 1);
    IG_CHECK(x.doc == NULL); /* escapes outside the images need no tree */
    ig_extracted_free(&x);
}


static void test_extract_stability_finish_reasons(void)
{
    ig_extracted x;
    ig_error err;
    const char *ok = "{\"seeds\":[2130420379],\"finish_reasons\":[null],\"images\":[\"QUJD\"]}";
    IG_CHECK_EQ_INT(ig_extract_images(ok, strlen(ok), "images", "finish_reasons", &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 1);
    IG_CHECK_EQ_INT(x.n_reasons, 1);
    IG_CHECK(x.reasons[0] == NULL);
    IG_CHECK(x.error == NULL);
    IG_CHECK(x.doc == NULL);
    ig_extracted_free(&x);
    /* AWS's example of a filtered answer: no images, no seeds, one reason. */
    const char *prompt = "{\"finish_reasons\":[\"Filter reason: prompt\"]}";
    IG_CHECK_EQ_INT(ig_extract_images(prompt, strlen(prompt), "images", "finish_reasons", &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 0);
    IG_CHECK_EQ_INT(x.n_reasons, 1);
    IG_CHECK_EQ_STR(x.reasons[0], "Filter reason: prompt");
    IG_CHECK_EQ_STR(x.error, "Filter reason: prompt");
    ig_extracted_free(&x);
    /* Reasons after the images, mixed, one escaped: the tree reads them the same way. */
    const char *mixed = "{\"images\":[\"QUJD\",\"REVG\"],\"finish_reasons\":[null,\"Inference \\\"error\\\"\"]}";
    IG_CHECK_EQ_INT(ig_extract_images(mixed, strlen(mixed), "images", "finish_reasons", &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 2);
    IG_CHECK_EQ_INT(x.n_reasons, 2);
    IG_CHECK(x.reasons[0] == NULL);
    IG_CHECK_EQ_STR(x.reasons[1], "Inference \"error\"");
    IG_CHECK_EQ_STR(x.error, "Inference \"error\"");
    ig_extracted_free(&x);
    /* A non-string reason counts as none; too many reasons are refused. */
    const char *odd = "{\"images\":[\"QUJD\"],\"finish_reasons\":[7]}";
    IG_CHECK_EQ_INT(ig_extract_images(odd, strlen(odd), "images", "finish_reasons", &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.n_reasons, 1);
    IG_CHECK(x.reasons[0] == NULL);
    ig_extracted_free(&x);
    char many[512] = "{\"finish_reasons\":[null";
    for (int i = 0; i < IG_EXTRACT_MAX_IMAGES; i++)
        strcat(many, ",null");
    strcat(many, "]}");
    IG_CHECK_EQ_INT(ig_extract_images(many, strlen(many), "images", "finish_reasons", &x, &err), IG_ERR_PARSE);
    IG_CHECK(strstr(err.message, "reasons") != NULL);
    ig_extracted_free(&x);
}

/* A string of many escape pairs before its closing quote is read in one pass: the scan finds the
 * quote once instead of once per escape (it was quadratic). The answer still has to be exact. */
static void test_extract_escape_heavy_string(void)
{
    size_t pairs = 200000;
    size_t len = pairs * 2 + 64;
    char *body = malloc(len);
    size_t n = (size_t)snprintf(body, len, "{\"note\":\"");
    for (size_t i = 0; i < pairs; i++) {
        body[n++] = '\\';
        body[n++] = '\\';
    }
    n += (size_t)snprintf(body + n, len - n, "\",\"images\":[\"QUJD\"]}");
    ig_extracted x;
    ig_error err;
    IG_CHECK_EQ_INT(ig_extract_images(body, n, "images", "error", &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 1);
    IG_CHECK_EQ_MEM(x.b64[0], "QUJD", 4);
    ig_extracted_free(&x);
    free(body);
}

static void test_extract_rejects_garbage(void)
{
    ig_extracted x;
    ig_error err;
    const char *cases[] = {"", "{\"images\":[", "[1]", "{\"images\":[1]}", "{\"images\":{\"a\":1}}",
                           "{\"images\":[\"QQ==\"]} trailing", "{\"images\":[\"QQ==\"],\"x\":tru}",
                           "{\"images\":[\"QQ==\"],\"x\":}", "{\"images\":[\"QQ==\",]}", "{\"images\" [\"QQ==\"]}",
                           "{\"images\":[\"QQ==", "{\"images\":[\"QQ==\"]", NULL};
    for (int i = 0; cases[i]; i++)
        IG_CHECK_EQ_INT(ig_extract_images(cases[i], strlen(cases[i]), "images", NULL, &x, &err), IG_ERR_PARSE);
    const char *ok = "{\"images\":[\"QQ==\"]}";
    const char *paths[] = {"", ".", "images.", "a..b", "a[]b", NULL};
    for (int i = 0; paths[i]; i++)
        IG_CHECK_EQ_INT(ig_extract_images(ok, strlen(ok), paths[i], NULL, &x, &err), IG_ERR_INVALID_ARG);
}

/* Deep nesting beside the images: the in-place walk stops at 64 levels and hands the answer to
 * the parser, which accepts up to its own limit (2048) and refuses beyond; nothing recurses
 * without bound. */
static void deep_answer(char *body, size_t cap, int depth, size_t *len)
{
    size_t n = (size_t)snprintf(body, cap, "{\"images\":[\"QQ==\"],\"x\":");
    for (int i = 0; i < depth; i++)
        body[n++] = '[';
    for (int i = 0; i < depth; i++)
        body[n++] = ']';
    body[n++] = '}';
    body[n] = '\0';
    *len = n;
}

static void test_extract_depth_is_bounded(void)
{
    ig_extracted x;
    ig_error err;
    static char body[16384];
    size_t n;
    deep_answer(body, sizeof body, 200, &n);
    IG_CHECK_EQ_INT(ig_extract_images(body, n, "images", NULL, &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 1);
    ig_extracted_free(&x);
    deep_answer(body, sizeof body, 5000, &n);
    IG_CHECK_EQ_INT(ig_extract_images(body, n, "images", NULL, &x, &err), IG_ERR_PARSE);
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

static void test_emf_record(void)
{
    ig_metrics m;
    ig_metrics_init(&m);
    m.total_ms = 12.5;
    m.model_ms = 10;
    m.model_attempts = 2;
    m.images = 3;
    m.upload_ms = 2;
    json_t *pm = json_pack("{s:{s:i, s:s}}", "RateLimited", "value", 1, "unit", "Count");
    json_t *rec = ig_metrics_record(&m, "imagegen", "success", pm, 1700000000000LL);
    json_t *aws = json_object_get(rec, "_aws");
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(aws, "Timestamp")), 1700000000000LL);
    json_t *cwm = json_array_get(json_object_get(aws, "CloudWatchMetrics"), 0);
    IG_CHECK_EQ_STR(str_at(cwm, "Namespace", NULL), "imagegen");
    IG_CHECK_EQ_INT(json_array_size(json_object_get(cwm, "Metrics")), 6);
    IG_CHECK_EQ_STR(str_at(rec, "Outcome", NULL), "success");
    IG_CHECK(json_real_value(json_object_get(rec, "TotalLatency")) == 12.5);
    IG_CHECK(json_number_value(json_object_get(rec, "RateLimited")) == 1.0);
    /* every metric listed is a top-level member */
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(cwm, "Metrics"), i, d)
        IG_CHECK(json_object_get(rec, json_string_value(json_object_get(d, "Name"))) != NULL);
    json_decref(rec);
    json_decref(pm);
}

static void test_config_from_env(void)
{
    ig_handler_config c;
    ig_error err;
    unsetenv("IMAGEGEN_BUCKET");
    IG_CHECK_EQ_INT(ig_handler_config_from_env(&c, &err), IG_ERR_CONFIG);
    IG_CHECK(strstr(err.message, "IMAGEGEN_BUCKET") != NULL);
    setenv("IMAGEGEN_BUCKET", "Bad_Bucket", 1);
    IG_CHECK_EQ_INT(ig_handler_config_from_env(&c, &err), IG_ERR_CONFIG);
    setenv("IMAGEGEN_BUCKET", "images-bucket", 1);
    IG_CHECK_EQ_INT(ig_handler_config_from_env(&c, &err), IG_OK);
    IG_CHECK_EQ_STR(c.bucket, "images-bucket");
    IG_CHECK_EQ_INT(c.margin_ms, 500);
    setenv("IMAGEGEN_TIMEOUT_MARGIN_MS", "10abc", 1);
    IG_CHECK_EQ_INT(ig_handler_config_from_env(&c, &err), IG_ERR_CONFIG);
    IG_CHECK(strstr(err.message, "IMAGEGEN_TIMEOUT_MARGIN_MS") != NULL);
    unsetenv("IMAGEGEN_TIMEOUT_MARGIN_MS");
    setenv("IMAGEGEN_SSE", "rot13", 1);
    IG_CHECK_EQ_INT(ig_handler_config_from_env(&c, &err), IG_ERR_CONFIG);
    unsetenv("IMAGEGEN_SSE");
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
    IG_RUN(test_extract_titan_and_sdxl_paths);
    IG_RUN(test_extract_escaped_strings_are_unescaped);
    IG_RUN(test_extract_stability_finish_reasons);
    IG_RUN(test_extract_escape_heavy_string);
    IG_RUN(test_extract_rejects_garbage);
    IG_RUN(test_extract_depth_is_bounded);
    IG_RUN(test_response_from_answer);
    IG_RUN(test_response_size_limit);
    IG_RUN(test_fallback_response_shape);
    IG_RUN(test_emf_record);
    IG_RUN(test_config_from_env);
    return ig_test_finish("handler units");
}
