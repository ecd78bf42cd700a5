/* support_aws_env.c - see support_aws_env.h. */
#include "support_aws_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

ig_err ig_test_aws_context(ig_aws_context *ctx, const char *endpoint_var, const char *url, const char *token)
{
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_ACCESS_KEY_ID", IG_TEST_AKID, 1);
    setenv("AWS_SECRET_ACCESS_KEY", IG_TEST_SECRET, 1);
    if (token)
        setenv("AWS_SESSION_TOKEN", token, 1);
    else
        unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_MAX_ATTEMPTS");
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_S3");
    unsetenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME");
    if (endpoint_var)
        setenv(endpoint_var, url, 1);
    ig_error err;
    ig_error_clear(&err);
    ig_err e = ig_aws_context_init(ctx, &err);
    if (e != IG_OK) {
        fprintf(stderr, "aws context: %s\n", err.message);
        return e;
    }
    ctx->retry.base_ms = 5;
    ctx->retry.throttle_base_ms = 10;
    return IG_OK;
}

static ig_err ig_test_verify(const ig_testsrv_request *r, const char *region, const char *service,
                             int s3_uri_rules, const char *token, int report)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", r->target);
    char *q = strchr(path, '?');
    if (q)
        *q++ = '\0';
    ig_sigv4_credentials known = {IG_TEST_AKID, IG_TEST_SECRET, token};
    ig_sigv4_request req = {.method = r->method,
                            .path = path,
                            .query = q,
                            .headers = r->headers.items,
                            .n_headers = r->headers.len,
                            .body = r->body.data,
                            .body_len = r->body.len,
                            .payload_hash = NULL};
    ig_error err;
    ig_error_clear(&err);
    ig_err e = ig_sigv4_verify(&known, region, service, s3_uri_rules, &req, ig_now_ms() / 1000, 300, &err);
    if (e != IG_OK && report)
        fprintf(stderr, "signature check of %s %s: %s\n", r->method, r->target, err.message);
    return e;
}

ig_err ig_test_verify_recorded(const ig_testsrv_request *r, const char *service, int s3_uri_rules,
                               const char *token)
{
    return ig_test_verify(r, "us-east-1", service, s3_uri_rules, token, 1);
}

ig_err ig_test_verify_quietly(const ig_testsrv_request *r, const char *service, int s3_uri_rules,
                              const char *token)
{
    return ig_test_verify(r, "us-east-1", service, s3_uri_rules, token, 0);
}

ig_err ig_test_verify_recorded_in(const ig_testsrv_request *r, const char *region, const char *service,
                                  const char *token)
{
    return ig_test_verify(r, region, service, 0, token, 1);
}
