/* answer.c - checks and unpacks a Lambda proxy response. */
#include "answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec/base64.h"

void gw_answer_init(gw_answer *a)
{
    memset(a, 0, sizeof *a);
    ig_buf_init(&a->body, 0);
}

void gw_answer_free(gw_answer *a)
{
    free(a->headers);
    a->headers = NULL;
    a->n_headers = 0;
    ig_buf_free(&a->body);
    json_decref(a->merged);
    a->merged = NULL;
}

/* RFC 9110 token characters: what a header name may be made of. */
static int gw_header_name_ok(const char *s)
{
    if (!*s)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 32 || *p >= 127 || strchr("\"(),/:;<=>?@[\\]{}", *p))
            return 0;
    }
    return 1;
}

static int gw_header_value_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' || c == '\n' || c == '\0')
            return 0;
    }
    return 1;
}

/* A header value from a JSON scalar, as API Gateway stringifies numbers and booleans; NULL for
 * a value that cannot be one. */
static json_t *gw_header_value(json_t *v)
{
    char num[64];
    if (json_is_string(v))
        return gw_header_value_ok(json_string_value(v), json_string_length(v)) ? json_incref(v) : NULL;
    if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return json_string(num);
    }
    if (json_is_real(v)) {
        snprintf(num, sizeof num, "%.17g", json_real_value(v));
        return json_string(num);
    }
    if (json_is_boolean(v))
        return json_string(json_is_true(v) ? "true" : "false");
    return NULL;
}

static void gw_remove_ci(json_t *obj, const char *name)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, k, v)
    {
        if (strcasecmp(k, name) == 0)
            json_object_del(obj, k);
    }
}

static ig_err gw_merge_headers(json_t *root, json_t *merged, ig_error *err)
{
    json_t *single = json_object_get(root, "headers");
    json_t *multi = json_object_get(root, "multiValueHeaders");
    if (single && !json_is_null(single) && !json_is_object(single))
        return ig_error_set(err, IG_ERR_PARSE, "headers is not an object");
    if (multi && !json_is_null(multi) && !json_is_object(multi))
        return ig_error_set(err, IG_ERR_PARSE, "multiValueHeaders is not an object");
    const char *k;
    json_t *v;
    if (json_is_object(single)) {
        json_object_foreach(single, k, v)
        {
            if (json_is_null(v))
                continue;
            if (!gw_header_name_ok(k))
                return ig_error_set(err, IG_ERR_PARSE, "header name \"%.64s\" is not a token", k);
            json_t *s = gw_header_value(v);
            if (!s)
                return ig_error_set(err, IG_ERR_PARSE, "header \"%.64s\" has a value that is not a single-line string", k);
            json_t *list = json_array();
            json_array_append_new(list, s);
            json_object_set_new(merged, k, list);
        }
    }
    if (json_is_object(multi)) {
        json_object_foreach(multi, k, v)
        {
            if (json_is_null(v))
                continue;
            if (!gw_header_name_ok(k))
                return ig_error_set(err, IG_ERR_PARSE, "header name \"%.64s\" is not a token", k);
            if (!json_is_array(v))
                return ig_error_set(err, IG_ERR_PARSE, "multiValueHeaders[\"%.64s\"] is not an array", k);
            json_t *list = json_array();
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item)
            {
                json_t *s = gw_header_value(item);
                if (!s) {
                    json_decref(list);
                    return ig_error_set(err, IG_ERR_PARSE, "multiValueHeaders[\"%.64s\"][%zu] is not a single-line string", k, i);
                }
                json_array_append_new(list, s);
            }
            gw_remove_ci(merged, k);
            json_object_set_new(merged, k, list);
        }
    }
    return IG_OK;
}

static ig_err gw_read_status(json_t *root, int *status, ig_error *err)
{
    json_t *sc = json_object_get(root, "statusCode");
    long long v = -1;
    if (json_is_integer(sc)) {
        v = json_integer_value(sc);
    } else if (json_is_string(sc)) {
        const char *s = json_string_value(sc);
        char *end = NULL;
        if (*s >= '0' && *s <= '9')
            v = strtoll(s, &end, 10);
        if (!end || *end)
            v = -1;
    } else if (!sc) {
        return ig_error_set(err, IG_ERR_PARSE, "statusCode is missing");
    }
    if (v < 100 || v > 599)
        return ig_error_set(err, IG_ERR_PARSE, "statusCode is not an HTTP status (100-599)");
    *status = (int)v;
    return IG_OK;
}

static ig_err gw_read_body(json_t *root, ig_buf *out, ig_error *err)
{
    json_t *body = json_object_get(root, "body");
    json_t *b64 = json_object_get(root, "isBase64Encoded");
    if (b64 && !json_is_boolean(b64) && !json_is_null(b64))
        return ig_error_set(err, IG_ERR_PARSE, "isBase64Encoded is not a boolean");
    if (!body || json_is_null(body))
        return IG_OK;
    if (!json_is_string(body))
        return ig_error_set(err, IG_ERR_PARSE, "body is not a string");
    const char *s = json_string_value(body);
    size_t len = json_string_length(body);
    if (json_is_true(b64)) {
        ig_error derr;
        if (ig_base64_decode_buf(s, len, out, &derr) != IG_OK)
            return ig_error_set(err, IG_ERR_PARSE, "body is not valid base64: %s", derr.message);
        return IG_OK;
    }
    return ig_buf_append(out, s, len) == IG_OK ? IG_OK : ig_error_set(err, IG_ERR_NOMEM, "out of memory");
}

/* Every (name, value) of merged as views, in order. */
static ig_err gw_list_headers(gw_answer *a, ig_error *err)
{
    size_t n = 0;
    const char *k;
    json_t *list;
    json_object_foreach(a->merged, k, list)
        n += json_array_size(list);
    a->headers = calloc(n + 1, sizeof *a->headers);
    if (!a->headers)
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    json_object_foreach(a->merged, k, list)
    {
        size_t i;
        json_t *s;
        json_array_foreach(list, i, s)
            a->headers[a->n_headers++] = (ig_header){k, json_string_value(s)};
    }
    return IG_OK;
}

ig_err gw_answer_parse(const char *payload, size_t len, gw_answer *a, ig_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(payload, len, 0, &jerr);
    if (!root)
        return ig_error_set(err, IG_ERR_PARSE, "the response is not JSON: %s", jerr.text);
    ig_err e = IG_OK;
    if (!json_is_object(root))
        e = ig_error_set(err, IG_ERR_PARSE, "the response is not a JSON object");
    if (!e)
        e = gw_read_status(root, &a->status, err);
    a->merged = json_object();
    if (!e)
        e = gw_merge_headers(root, a->merged, err);
    if (!e)
        e = gw_read_body(root, &a->body, err);
    if (!e)
        e = gw_list_headers(a, err);
    json_decref(root);
    return e;
}
