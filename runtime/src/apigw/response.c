/* response.c - proxy responses. */
#include "apigw/response.h"

#include <stdlib.h>
#include <string.h>

#include "core/headers.h"

ig_err ig_response_from_answer(json_t *answer, ig_buf *out, ig_error *err)
{
    if (!json_is_object(answer))
        return ig_error_set(err, IG_ERR_POLICY, "the policy's answer is not a table");
    json_t *st = json_object_get(answer, "status");
    if (!json_is_integer(st) || json_integer_value(st) < 100 || json_integer_value(st) > 599)
        return ig_error_set(err, IG_ERR_POLICY,
                            "the policy's answer needs an integer status from 100 to 599");
    json_t *resp = json_object();
    json_object_set_new(resp, "statusCode", json_integer(json_integer_value(st)));
    json_t *hdrs = json_object();
    json_object_set_new(resp, "headers", hdrs);
    json_t *in_h = json_object_get(answer, "headers");
    if (in_h && !json_is_object(in_h) && !(json_is_array(in_h) && json_array_size(in_h) == 0)) {
        json_decref(resp);
        return ig_error_set(err, IG_ERR_POLICY, "the policy's answer headers must be a table");
    }
    const char *k;
    json_t *v;
    json_object_foreach(in_h, k, v)
    {
        char num[32];
        const char *val = NULL;
        if (json_is_string(v)) {
            val = json_string_value(v);
        } else if (json_is_integer(v)) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            val = num;
        }
        if (!val || !ig_header_name_valid(k) || !ig_header_value_valid(val)) {
            json_decref(resp);
            return ig_error_set(err, IG_ERR_POLICY,
                                "the policy's answer has an unusable header \"%.60s\"", k);
        }
        json_object_set_new(hdrs, k, json_string(val));
    }
    json_t *body = json_object_get(answer, "body");
    if (!body || json_is_null(body)) {
        json_object_set_new(resp, "body", json_string(""));
    } else if (json_is_string(body)) {
        json_object_set(resp, "body", body);
    } else if (json_is_object(body) || json_is_array(body)) {
        char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15));
        if (!text) {
            json_decref(resp);
            return ig_error_set(err, IG_ERR_POLICY, "the policy's answer body cannot be encoded");
        }
        json_object_set_new(resp, "body", json_string(text));
        free(text);
        if (!json_object_get(hdrs, "Content-Type") && !json_object_get(hdrs, "content-type"))
            json_object_set_new(hdrs, "Content-Type", json_string("application/json"));
    } else {
        json_decref(resp);
        return ig_error_set(err, IG_ERR_POLICY,
                            "the policy's answer body must be a string or a table");
    }
    json_object_set_new(resp, "isBase64Encoded", json_false());
    char *text = json_dumps(resp, JSON_COMPACT);
    json_decref(resp);
    if (!text)
        return ig_error_set(err, IG_ERR_NOMEM, "the response could not be encoded");
    size_t len = strlen(text);
    if (len > IG_RESPONSE_MAX_BYTES) {
        free(text);
        return ig_error_set(err, IG_ERR_POLICY,
                            "the policy's answer is %zu bytes, over Lambda's 6 MB limit", len);
    }
    ig_buf_reset(out);
    ig_err e = ig_buf_append(out, text, len);
    free(text);
    return e;
}

ig_err ig_response_fallback(int status, const char *code, const char *message, const char *request_id,
                            const char *allow_origin, ig_buf *out)
{
    json_t *body = json_pack("{s:{s:s, s:s, s:s}}", "error", "code", code, "message",
                             message ? message : "", "requestId", request_id ? request_id : "");
    if (!body)
        body = json_pack("{s:{s:s, s:s, s:s}}", "error", "code", code, "message",
                         "internal error", "requestId", "");
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(body);
    json_t *resp = json_pack("{s:i, s:{s:s}, s:s, s:b}", "statusCode", status, "headers",
                             "Content-Type", "application/json", "body", text ? text : "{}",
                             "isBase64Encoded", 0);
    free(text);
    if (resp && allow_origin && ig_header_value_valid(allow_origin)) {
        json_t *h = json_object_get(resp, "headers");
        json_object_set_new(h, "Access-Control-Allow-Origin", json_string(allow_origin));
        json_object_set_new(h, "Vary", json_string("Origin"));
    }
    char *rt = resp ? json_dumps(resp, JSON_COMPACT) : NULL;
    json_decref(resp);
    if (!rt)
        return IG_ERR_NOMEM;
    ig_buf_reset(out);
    ig_err e = ig_buf_append_str(out, rt);
    free(rt);
    return e;
}

/* Replaces, in v, every string equal to a key of payloads by that payload (depth-bounded). */
static void fill_value(json_t *v, json_t *payloads, int depth)
{
    if (depth > 64)
        return;
    const char *k;
    json_t *item;
    size_t i;
    if (json_is_object(v)) {
        void *tmp;
        json_object_foreach_safe(v, tmp, k, item)
        {
            json_t *payload = json_is_string(item) ? json_object_get(payloads, json_string_value(item)) : NULL;
            if (payload)
                json_object_set(v, k, payload);
            else
                fill_value(item, payloads, depth + 1);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item)
        {
            json_t *payload = json_is_string(item) ? json_object_get(payloads, json_string_value(item)) : NULL;
            if (payload)
                json_array_set(v, i, payload);
            else
                fill_value(item, payloads, depth + 1);
        }
    }
}

void ig_response_fill(json_t *answer, json_t *payloads)
{
    if (json_object_size(payloads))
        fill_value(json_object_get(answer, "body"), payloads, 0);
}
