/* runtime_api.c - the Lambda Runtime API over the core HTTP client. */
#include "lambda/runtime_api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

#define IG_RUNTIME_API_VERSION "2018-06-01"
/* Lambda's synchronous payload limit is 6 MB; the event never exceeds it, but leave room. */
#define IG_EVENT_MAX_BYTES (8u * 1024u * 1024u)

struct ig_runtime_api {
    ig_http_client *http;
    char base[300]; /* "http://host:port/2018-06-01" */
};

void ig_invocation_init(ig_invocation *inv)
{
    memset(inv, 0, sizeof *inv);
    ig_buf_init(&inv->event, IG_EVENT_MAX_BYTES);
}

void ig_invocation_free(ig_invocation *inv)
{
    ig_buf_free(&inv->event);
}

/* host:port must be plain: letters, digits, '.', '-', ':' and brackets for IPv6. */
static int host_port_valid(const char *s)
{
    if (!s || !*s || strlen(s) > 255)
        return 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
            return 0;
    }
    return 1;
}

ig_runtime_api *ig_runtime_api_new(const char *host_port, ig_error *err)
{
    if (!host_port_valid(host_port)) {
        ig_error_set(err, IG_ERR_CONFIG, "AWS_LAMBDA_RUNTIME_API must be host:port, got \"%.64s\"",
                     host_port ? host_port : "");
        return NULL;
    }
    ig_runtime_api *api = calloc(1, sizeof *api);
    if (!api) {
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(api->base, sizeof api->base, "http://%s/" IG_RUNTIME_API_VERSION, host_port);
    ig_http_options o = {.ca_file = NULL, .use_proxy = 0, .connect_timeout_ms = 1000,
                         .default_timeout_ms = 0};
    api->http = ig_http_client_new(&o, err);
    if (!api->http) {
        free(api);
        return NULL;
    }
    return api;
}

void ig_runtime_api_free(ig_runtime_api *api)
{
    if (!api)
        return;
    ig_http_client_free(api->http);
    free(api);
}

/* Request ids go into URL paths: accept only characters that need no encoding. */
static int request_id_valid(const char *id)
{
    if (!id || !*id || strlen(id) >= 128)
        return 0;
    for (const char *p = id; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

static void copy_header(const ig_http_response *r, const char *name, char *out, size_t outlen)
{
    const char *v = ig_header_list_get(&r->headers, name);
    snprintf(out, outlen, "%s", v ? v : "");
}

ig_err ig_runtime_api_next(ig_runtime_api *api, ig_invocation *inv, long *status, ig_error *err)
{
    char url[400];
    snprintf(url, sizeof url, "%s/runtime/invocation/next", api->base);
    ig_http_request req = {.method = "GET", .url = url, .max_response_bytes = IG_EVENT_MAX_BYTES};
    ig_http_response resp;
    ig_http_response_init(&resp);
    ig_err e = ig_http_perform(api->http, &req, &resp);
    *status = resp.status;
    if (e) {
        ig_error_set(err, e, "GET /runtime/invocation/next failed: %s", resp.errmsg);
        ig_http_response_free(&resp);
        return e;
    }
    if (resp.status != 200) {
        ig_error_set(err, IG_ERR_AWS, "GET /runtime/invocation/next answered %ld", resp.status);
        ig_http_response_free(&resp);
        return IG_OK; /* the caller decides on the status */
    }
    copy_header(&resp, "lambda-runtime-aws-request-id", inv->request_id, sizeof inv->request_id);
    copy_header(&resp, "lambda-runtime-invoked-function-arn", inv->function_arn,
                   sizeof inv->function_arn);
    copy_header(&resp, "lambda-runtime-trace-id", inv->trace_id, sizeof inv->trace_id);
    const char *d = ig_header_list_get(&resp.headers, "lambda-runtime-deadline-ms");
    inv->deadline_ms = 0;
    if (d) {
        char *end = NULL;
        long long v = strtoll(d, &end, 10);
        if (end && *end == '\0' && v > 0)
            inv->deadline_ms = (int64_t)v;
    }
    ig_buf_reset(&inv->event);
    e = ig_buf_append(&inv->event, resp.body.data ? resp.body.data : "", resp.body.len);
    ig_http_response_free(&resp);
    if (e)
        return ig_error_set(err, e, "the event could not be stored");
    if (!request_id_valid(inv->request_id))
        return ig_error_set(err, IG_ERR_PARSE,
                            "the Runtime API sent no usable Lambda-Runtime-Aws-Request-Id");
    return IG_OK;
}

static ig_err runtime_api_post(ig_runtime_api *api, const char *path, const ig_header *headers,
                                  size_t n_headers, const char *body, size_t len, long *status,
                                  ig_error *err)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", api->base, path);
    ig_http_request req = {.method = "POST", .url = url, .headers = headers,
                           .n_headers = n_headers, .body = body, .body_len = len,
                           .deadline_ms = 0, .max_response_bytes = 64 * 1024};
    ig_http_response resp;
    ig_http_response_init(&resp);
    ig_err e = ig_http_perform(api->http, &req, &resp);
    *status = resp.status;
    if (e)
        ig_error_set(err, e, "POST %s failed: %s", path, resp.errmsg);
    else if (resp.status != 202)
        ig_error_set(err, IG_ERR_AWS, "POST %s answered %ld: %.200s", path, resp.status,
                     ig_buf_cstr(&resp.body));
    ig_http_response_free(&resp);
    return e;
}

ig_err ig_runtime_api_respond(ig_runtime_api *api, const char *request_id, const char *body,
                              size_t len, long *status, ig_error *err)
{
    *status = 0;
    if (!request_id_valid(request_id))
        return ig_error_set(err, IG_ERR_INVALID_ARG, "invalid request id");
    char path[256];
    snprintf(path, sizeof path, "/runtime/invocation/%s/response", request_id);
    const ig_header h[] = {{"Content-Type", "application/json"}};
    return runtime_api_post(api, path, h, 1, body, len, status, err);
}

ig_err ig_runtime_api_error(ig_runtime_api *api, const char *request_id, const char *error_type,
                            const char *message, long *status, ig_error *err)
{
    *status = 0;
    char path[256];
    if (request_id) {
        if (!request_id_valid(request_id))
            return ig_error_set(err, IG_ERR_INVALID_ARG, "invalid request id");
        snprintf(path, sizeof path, "/runtime/invocation/%s/error", request_id);
    } else {
        snprintf(path, sizeof path, "/runtime/init/error");
    }
    json_t *doc = json_pack("{s:s, s:s, s:[]}", "errorMessage", message ? message : "",
                            "errorType", error_type, "stackTrace");
    if (!doc) /* message was not valid UTF-8 */
        doc = json_pack("{s:s, s:s, s:[]}", "errorMessage", "(error message not valid UTF-8)",
                        "errorType", error_type, "stackTrace");
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!body)
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    const ig_header h[] = {{"Content-Type", "application/json"},
                           {"Lambda-Runtime-Function-Error-Type", error_type}};
    ig_err e = runtime_api_post(api, path, h, 2, body, strlen(body), status, err);
    free(body);
    return e;
}
