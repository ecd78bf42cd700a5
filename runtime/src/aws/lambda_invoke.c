/* lambda_invoke.c - Lambda's Invoke API for Event invocations on top of aws/call.c: the path
 * with the encoded function name, the invocation type header, the payload limit. */
#include "aws/lambda_invoke.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/percent.h"

/* An error answer of Invoke is small; a 202 has no body. */
#define IG_LAMBDA_MAX_RESPONSE (256 * 1024)

struct ig_lambda {
    ig_aws_context *ctx;
    ig_endpoint ep;
    ig_aws_service svc;       /* signing name "lambda", the context's region */
};

ig_lambda *ig_lambda_new(ig_aws_context *ctx, ig_error *err)
{
    if (!ctx || !ctx->http || !ctx->signer) {
        ig_error_set(err, IG_ERR_INVALID_ARG, "the AWS context is not initialized");
        return NULL;
    }
    ig_lambda *l = calloc(1, sizeof *l);
    if (!l) {
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    l->ctx = ctx;
    l->svc = (ig_aws_service){.signing_name = "lambda"};
    if (ig_endpoint_lambda(ctx->region, &l->ep, err) != IG_OK) {
        free(l);
        return NULL;
    }
    return l;
}

void ig_lambda_free(ig_lambda *l)
{
    if (!l)
        return;
    ig_endpoint_free(&l->ep);
    free(l);
}

int ig_lambda_function_name_valid(const char *f)
{
    if (!f || !*f || strlen(f) > IG_LAMBDA_MAX_FUNCTION_NAME)
        return 0;
    for (; *f; f++)
        if (!((*f >= 'A' && *f <= 'Z') || (*f >= 'a' && *f <= 'z') || (*f >= '0' && *f <= '9') || *f == '-' ||
              *f == '_' || *f == '.' || *f == ':' || *f == '$'))
            return 0;
    return 1;
}

static ig_err invocation_target(const ig_lambda *l, const char *function, ig_buf *path, ig_buf *url)
{
    ig_err e = ig_buf_appendf(path, "%s/2015-03-31/functions/", l->ep.base_path);
    if (!e)
        e = ig_percent_encode(path, function, strlen(function), 0);
    if (!e)
        e = ig_buf_append_str(path, "/invocations");
    if (!e)
        e = ig_buf_appendf(url, "%s://%s%s", l->ep.scheme, l->ep.host, ig_buf_cstr(path));
    return e;
}

ig_err ig_lambda_invoke_event(ig_lambda *l, const char *function, const void *payload, size_t len,
                              int64_t deadline_ms, ig_aws_call_result *out)
{
    ig_aws_call_result_reset(out);
    if (!l)
        return ig_aws_call_refuse(out, IG_ERR_INVALID_ARG, "no Lambda client");
    if (!ig_lambda_function_name_valid(function))
        return ig_aws_call_refuse(out, IG_ERR_INVALID_ARG,
                                  "the function name is empty, longer than 256 bytes, or has a character "
                                  "outside A-Z a-z 0-9 - _ . : $");
    if (len && !payload)
        return ig_aws_call_refuse(out, IG_ERR_INVALID_ARG, "the payload is missing");
    if (len > IG_LAMBDA_MAX_EVENT_PAYLOAD) {
        char msg[160];
        snprintf(msg, sizeof msg, "the payload is %zu bytes; an asynchronous invocation takes at most %d", len,
                 IG_LAMBDA_MAX_EVENT_PAYLOAD);
        return ig_aws_call_refuse(out, IG_ERR_TOO_LARGE, msg);
    }
    ig_buf path, url;
    ig_buf_init(&path, 0);
    ig_buf_init(&url, 0);
    ig_err e = invocation_target(l, function, &path, &url);
    if (e != IG_OK) {
        ig_aws_call_refuse(out, IG_ERR_NOMEM, "out of memory");
    } else {
        const ig_header headers[] = {{"Host", l->ep.host}, {"X-Amz-Invocation-Type", "Event"}};
        ig_aws_call_request req = {.operation = "Lambda.Invoke",
                                   .svc = &l->svc,
                                   .method = "POST",
                                   .path = ig_buf_cstr(&path),
                                   .url = ig_buf_cstr(&url),
                                   .headers = headers,
                                   .n_headers = sizeof headers / sizeof headers[0],
                                   .body = len ? payload : NULL,
                                   .body_len = len,
                                   .deadline_ms = deadline_ms,
                                   .max_response_bytes = IG_LAMBDA_MAX_RESPONSE};
        e = ig_aws_call(l->ctx, &req, out);
    }
    ig_buf_free(&path);
    ig_buf_free(&url);
    return e;
}
