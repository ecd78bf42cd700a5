/* event.c - builds the REST proxy event (payload 1.0). */
#include "event.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "codec/base64.h"
#include "core/buf.h"

const char *gw_header_last(const ig_header *h, size_t n, const char *name)
{
    for (size_t i = n; i-- > 0;)
        if (strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when it is not one. */
static size_t gw_utf8_seq(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t len;
    unsigned min;
    unsigned cp;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2, min = 0x80, cp = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3, min = 0x800, cp = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4, min = 0x10000, cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

json_t *gw_json_text(const char *s, size_t len)
{
    json_t *j = json_stringn(s, len);
    if (j)
        return j;
    ig_buf b;
    ig_buf_init(&b, 0);
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = gw_utf8_seq(p + i, len - i);
        if (n && p[i] != 0) {
            ig_buf_append(&b, p + i, n);
            i += n;
        } else {
            ig_buf_append_str(&b, "\xef\xbf\xbd");
            i++;
        }
    }
    j = json_stringn(ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    return j;
}

/* API Gateway's rule: a body is passed base64-encoded when its Content-Type matches one of the
 * API's binary media types (an exact type, a family, or any), and as text otherwise. */
int gw_media_type_is_binary(const char *ct, char *const *types, size_t n_types)
{
    if (!ct || !n_types)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t len = strcspn(ct, ";");
    while (len && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
        len--;
    const char *slash = memchr(ct, '/', len);
    for (size_t i = 0; i < n_types; i++) {
        const char *t = types[i];
        size_t tl = strlen(t);
        if (strcmp(t, "*/*") == 0)
            return 1;
        if (tl == len && strncasecmp(ct, t, len) == 0)
            return 1;
        if (slash && tl >= 2 && strcmp(t + tl - 2, "/*") == 0 && (size_t)(slash - ct) == tl - 2 &&
            strncasecmp(ct, t, tl - 2) == 0)
            return 1;
    }
    return 0;
}

void gw_format_request_time(int64_t epoch_ms, char *out, size_t outlen)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t secs = (time_t)(epoch_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, outlen, "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday, months[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static json_t *gw_str_or_null(const char *s)
{
    return s ? gw_json_text(s, strlen(s)) : json_null();
}

/* The key in obj that equals name ignoring case, or NULL. */
static const char *gw_key_ci(json_t *obj, const char *name)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (strcasecmp(k, name) == 0)
            return k;
    }
    return NULL;
}

/* Fills single (last value) and multi (all values) from pairs[0..n); names grouped
 * case-insensitively when fold_case (headers) and exactly otherwise (query parameters). Both
 * stay null when empty. */
static void gw_pairs_to_maps(const ig_header *pairs, size_t n, int fold_case, json_t **single, json_t **multi)
{
    if (!pairs || n == 0) {
        *single = json_null();
        *multi = json_null();
        return;
    }
    *single = json_object();
    *multi = json_object();
    for (size_t i = 0; i < n; i++) {
        json_t *name_j = gw_json_text(pairs[i].name, strlen(pairs[i].name));
        if (!name_j)
            continue;
        const char *name = json_string_value(name_j);
        const char *key = fold_case ? gw_key_ci(*multi, name) : (json_object_get(*multi, name) ? name : NULL);
        if (!key)
            key = name;
        json_t *value = gw_json_text(pairs[i].value, strlen(pairs[i].value));
        if (!value) {
            json_decref(name_j);
            continue;
        }
        json_t *list = json_object_get(*multi, key);
        if (!list) {
            list = json_array();
            json_object_set_new(*multi, key, list);
        }
        json_array_append(list, value);
        json_object_set_new(*single, key, value);
        json_decref(name_j);
    }
}

static json_t *gw_identity(const gw_request *r)
{
    const char *ua = gw_header_last(r->headers, r->n_headers, "User-Agent");
    json_t *id = json_object();
    static const char *const null_fields[] = {
        "cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller", "principalOrgId",
        "accessKey", "cognitoAuthenticationType", "cognitoAuthenticationProvider", "userArn", "user",
        "clientCert"};
    for (size_t i = 0; i < sizeof null_fields / sizeof null_fields[0]; i++)
        json_object_set_new(id, null_fields[i], json_null());
    json_object_set_new(id, "sourceIp", gw_str_or_null(r->source_ip));
    json_object_set_new(id, "userAgent", gw_str_or_null(ua));
    json_object_set_new(id, "apiKey", gw_str_or_null(r->api_key));
    json_object_set_new(id, "apiKeyId", gw_str_or_null(r->api_key_id));
    return id;
}

static json_t *gw_request_context(const gw_request *r)
{
    char when[40];
    gw_format_request_time(r->time_ms, when, sizeof when);
    char resource_id[7];
    {
        /* A stable six-character id per resource, as API Gateway gives each resource one. */
        unsigned long h = 5381;
        for (const char *p = r->resource; *p; p++)
            h = h * 33 + (unsigned char)*p;
        static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        for (int i = 0; i < 6; i++) {
            resource_id[i] = alphabet[h % 36];
            h /= 36;
        }
        resource_id[6] = '\0';
    }
    ig_buf stage_path;
    ig_buf_init(&stage_path, 0);
    ig_buf_appendf(&stage_path, "/%s%s", r->stage, r->path);
    char prefix[64];
    size_t dot = strcspn(r->domain_name, ".:");
    snprintf(prefix, sizeof prefix, "%.*s", (int)(dot < 63 ? dot : 63), r->domain_name);

    json_t *ctx = json_object();
    json_object_set_new(ctx, "resourceId", json_string(resource_id));
    json_object_set_new(ctx, "resourcePath", json_string(r->resource));
    json_object_set_new(ctx, "httpMethod", gw_str_or_null(r->method));
    json_object_set_new(ctx, "extendedRequestId", json_string(r->extended_request_id));
    json_object_set_new(ctx, "requestTime", json_string(when));
    json_object_set_new(ctx, "path", gw_json_text(stage_path.data ? stage_path.data : "", stage_path.len));
    json_object_set_new(ctx, "accountId", json_string(r->account_id));
    json_object_set_new(ctx, "protocol", gw_str_or_null(r->protocol));
    json_object_set_new(ctx, "stage", json_string(r->stage));
    json_object_set_new(ctx, "domainPrefix", gw_json_text(prefix, strlen(prefix)));
    json_object_set_new(ctx, "requestTimeEpoch", json_integer(r->time_ms));
    json_object_set_new(ctx, "requestId", json_string(r->request_id));
    json_object_set_new(ctx, "identity", gw_identity(r));
    json_object_set_new(ctx, "domainName", gw_str_or_null(r->domain_name));
    json_object_set_new(ctx, "apiId", json_string(r->api_id));
    ig_buf_free(&stage_path);
    return ctx;
}

/* Without a binary media type, API Gateway hands the body over as a UTF-8 string: bytes that
 * are not UTF-8 become U+FFFD, as they do in query strings. */
static void gw_set_body(json_t *ev, const gw_request *r)
{
    if (!r->body || r->body_len == 0) {
        json_object_set_new(ev, "body", json_null());
        json_object_set_new(ev, "isBase64Encoded", json_false());
        return;
    }
    const char *ct = gw_header_last(r->headers, r->n_headers, "Content-Type");
    if (!gw_media_type_is_binary(ct, r->binary_media_types, r->n_binary_media_types)) {
        json_object_set_new(ev, "body", gw_json_text(r->body, r->body_len));
        json_object_set_new(ev, "isBase64Encoded", json_false());
        return;
    }
    ig_buf b64;
    ig_buf_init(&b64, 0);
    if (ig_base64_encode_buf(r->body, r->body_len, &b64) == IG_OK)
        json_object_set_new(ev, "body", json_stringn(ig_buf_cstr(&b64), b64.len));
    else
        json_object_set_new(ev, "body", json_null());
    json_object_set_new(ev, "isBase64Encoded", json_true());
    ig_buf_free(&b64);
}

char *gw_event_build(const gw_request *r, size_t *len)
{
    json_t *ev = json_object();
    if (!ev)
        return NULL;
    json_t *headers, *multi_headers, *query, *multi_query;
    gw_pairs_to_maps(r->headers, r->n_headers, 1, &headers, &multi_headers);
    gw_pairs_to_maps(r->query, r->n_query, 0, &query, &multi_query);

    json_object_set_new(ev, "resource", json_string(r->resource));
    json_object_set_new(ev, "path", gw_str_or_null(r->path));
    json_object_set_new(ev, "httpMethod", gw_str_or_null(r->method));
    json_object_set_new(ev, "headers", headers);
    json_object_set_new(ev, "multiValueHeaders", multi_headers);
    json_object_set_new(ev, "queryStringParameters", query);
    json_object_set_new(ev, "multiValueQueryStringParameters", multi_query);
    json_object_set(ev, "pathParameters", r->path_parameters ? r->path_parameters : json_null());
    json_object_set_new(ev, "stageVariables", json_null());
    json_object_set_new(ev, "requestContext", gw_request_context(r));
    gw_set_body(ev, r);

    char *text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    if (text && len)
        *len = strlen(text);
    return text;
}
