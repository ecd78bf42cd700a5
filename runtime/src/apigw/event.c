/* event.c - API Gateway proxy event -> policy request. */
#include "apigw/event.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec/base64.h"
#include "codec/json.h"
#include "core/buf.h"

static json_t *lower_header_map(json_t *headers)
{
    json_t *out = json_object();
    if (!out || !json_is_object(headers))
        return out;
    const char *k;
    json_t *v;
    json_object_foreach(headers, k, v)
    {
        if (!json_is_string(v))
            continue;
        size_t n = strlen(k);
        char *lk = malloc(n + 1);
        if (!lk)
            continue;
        for (size_t i = 0; i <= n; i++)
            lk[i] = (char)tolower((unsigned char)k[i]);
        json_object_set(out, lk, v);
        free(lk);
    }
    return out;
}

/* A map of strings (queryStringParameters), or {} for null / anything else. */
static json_t *string_map(json_t *m)
{
    json_t *out = json_object();
    if (!out || !json_is_object(m))
        return out;
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v)
    {
        if (json_is_string(v))
            json_object_set(out, k, v);
    }
    return out;
}

/* A map of string lists (multiValueQueryStringParameters), or {}. */
static json_t *multi_map(json_t *m)
{
    json_t *out = json_object();
    if (!out || !json_is_object(m))
        return out;
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v)
    {
        if (!json_is_array(v))
            continue;
        json_t *list = json_array();
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            if (json_is_string(item))
                json_array_append(list, item);
        }
        json_object_set_new(out, k, list);
    }
    return out;
}

static void set_str(json_t *obj, const char *name, const char *value)
{
    if (value) {
        json_t *s = json_string(value);
        if (s)
            json_object_set_new(obj, name, s);
    }
}

/* Counts the values in v (members and elements, nested), stopping once past limit. */
static size_t count_values(json_t *v, size_t limit)
{
    size_t n = 1;
    const char *k;
    json_t *item;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach(v, k, item)
        {
            n += count_values(item, limit - (n < limit ? n : limit));
            if (n > limit)
                return n;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item)
        {
            n += count_values(item, limit - (n < limit ? n : limit));
            if (n > limit)
                return n;
        }
    }
    return n;
}

/* Bounds what reaches the policy: its instruction budget must never depend on how much a
 * client sends. Over a bound, the parts go and req.too_large says why (answered 413). */
static void bound_request(json_t *req)
{
    size_t params = json_object_size(json_object_get(req, "query"));
    size_t values = 0;
    const char *k;
    json_t *list;
    json_object_foreach(json_object_get(req, "multi_query"), k, list)
        values += json_array_size(list);
    char msg[160];
    msg[0] = '\0';
    if (params > IG_EVENT_MAX_PARAMS || values > IG_EVENT_MAX_PARAMS)
        snprintf(msg, sizeof msg, "the request has more than %u query parameters", IG_EVENT_MAX_PARAMS);
    else if (count_values(json_object_get(req, "body"), IG_EVENT_MAX_VALUES) > IG_EVENT_MAX_VALUES)
        snprintf(msg, sizeof msg, "the request body holds more than %u values", IG_EVENT_MAX_VALUES);
    if (!msg[0])
        return;
    json_object_set_new(req, "query", json_object());
    json_object_set_new(req, "multi_query", json_object());
    json_object_del(req, "body");
    json_object_del(req, "raw_body");
    json_object_set_new(req, "too_large", json_string(msg));
}

/* A multipart/form-data body (any case, parameters after) stays bytes: the runtime parses it
 * (handler/inputs.c), as it holds files that never enter the policy. */
static bool is_multipart(json_t *req)
{
    const char *ct = ig_json_str(json_object_get(req, "headers"), "content-type");
    static const char prefix[] = "multipart/form-data";
    return ct && strncasecmp(ct, prefix, sizeof prefix - 1) == 0 &&
           (ct[sizeof prefix - 1] == '\0' || ct[sizeof prefix - 1] == ';' || ct[sizeof prefix - 1] == ' ');
}

static ig_err event_body(json_t *event, json_t *req, ig_buf *body_out, ig_error *err)
{
    json_t *body = json_object_get(event, "body");
    if (!body || json_is_null(body))
        return IG_OK;
    if (!json_is_string(body))
        return ig_error_set(err, IG_ERR_PARSE, "event.body must be a string or null");
    const char *text = json_string_value(body);
    size_t len = json_string_length(body);
    ig_buf decoded;
    ig_buf_init(&decoded, IG_EVENT_BODY_MAX);
    if (json_is_true(json_object_get(event, "isBase64Encoded"))) {
        ig_error berr;
        if (ig_base64_decode_buf(text, len, &decoded, &berr) != IG_OK) {
            ig_buf_free(&decoded);
            json_object_set_new(req, "body_error",
                                json_string("the request body is not valid base64"));
            return IG_OK;
        }
        text = ig_buf_cstr(&decoded);
        len = decoded.len;
    } else if (len > IG_EVENT_BODY_MAX) {
        return ig_error_set(err, IG_ERR_TOO_LARGE, "the request body is larger than %u bytes",
                            IG_EVENT_BODY_MAX);
    }
    if (is_multipart(req)) {
        json_object_set_new(req, "body_format", json_string("multipart"));
        ig_err e = IG_OK;
        if (!body_out)
            json_object_set_new(req, "body_error", json_string("a multipart body is not read here"));
        else if (ig_buf_append(body_out, text, len) != IG_OK)
            e = ig_error_set(err, IG_ERR_TOO_LARGE, "the request body is larger than %u bytes", IG_EVENT_BODY_MAX);
        ig_buf_free(&decoded);
        return e;
    }
    json_t *raw = json_stringn(text, len);
    if (!raw) {
        json_object_set_new(req, "body_error", json_string("the request body is not valid UTF-8"));
    } else {
        json_object_set_new(req, "raw_body", raw);
        if (len > 0) {
            json_error_t jerr;
            json_t *doc = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
            if (doc) {
                json_object_set_new(req, "body", doc);
                json_object_set_new(req, "body_format", json_string("json"));
            } else {
                char msg[300];
                snprintf(msg, sizeof msg, "the request body is not valid JSON (line %d, column %d: %s)",
                         jerr.line, jerr.column, jerr.text);
                json_t *m = json_string(msg);
                json_object_set_new(req, "body_error",
                                    m ? m : json_string("the request body is not valid JSON"));
            }
        }
    }
    ig_buf_free(&decoded);
    return IG_OK;
}

ig_err ig_event_to_request(const char *event, size_t len, json_t **req_out, ig_buf *body_out, ig_error *err)
{
    *req_out = NULL;
    json_error_t jerr;
    json_t *ev = json_loadb(event, len, JSON_ALLOW_NUL, &jerr); /* a body may hold \u0000 */
    if (!ev)
        return ig_error_set(err, IG_ERR_PARSE, "the event is not valid JSON (line %d, column %d: %s)",
                            jerr.line, jerr.column, jerr.text);
    if (!json_is_object(ev)) {
        json_decref(ev);
        return ig_error_set(err, IG_ERR_PARSE, "the event is not a JSON object");
    }
    const char *method = ig_json_str(ev, "httpMethod");
    if (!method || !*method || strlen(method) > 16) {
        json_decref(ev);
        return ig_error_set(err, IG_ERR_PARSE,
                            "the event has no httpMethod: is this an API Gateway proxy event?");
    }
    json_t *req = json_object();
    char m[17];
    size_t i;
    for (i = 0; method[i] && i < 16; i++)
        m[i] = (char)toupper((unsigned char)method[i]);
    m[i] = '\0';
    set_str(req, "method", m);
    const char *path = ig_json_str(ev, "path");
    set_str(req, "path", path ? path : "/");
    const char *resource = ig_json_str(ev, "resource");
    set_str(req, "resource", resource ? resource : (path ? path : "/"));
    json_object_set_new(req, "query", string_map(json_object_get(ev, "queryStringParameters")));
    json_object_set_new(req, "multi_query",
                        multi_map(json_object_get(ev, "multiValueQueryStringParameters")));
    json_object_set_new(req, "headers", lower_header_map(json_object_get(ev, "headers")));

    json_t *rc = json_object_get(ev, "requestContext");
    json_t *identity = json_object_get(rc, "identity");
    json_t *id = json_object();
    set_str(id, "source_ip", ig_json_str(identity, "sourceIp"));
    set_str(id, "api_key_id", ig_json_str(identity, "apiKeyId"));
    set_str(id, "user_agent", ig_json_str(identity, "userAgent"));
    json_object_set_new(req, "identity", id);
    set_str(req, "request_id", ig_json_str(rc, "requestId"));
    set_str(req, "stage", ig_json_str(rc, "stage"));
    set_str(req, "request_path", ig_json_str(rc, "path")); /* the path as the client sent it */

    ig_err e = event_body(ev, req, body_out, err);
    json_decref(ev);
    if (e) {
        json_decref(req);
        return e;
    }
    bound_request(req);
    *req_out = req;
    return IG_OK;
}
