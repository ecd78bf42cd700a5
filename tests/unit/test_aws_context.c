/* test_aws_context.c - building the shared AWS context and the service clients from the
 * environment: each misconfiguration is reported with its own code and names the variable at
 * fault, and a half-built context frees cleanly. */
#include <stdlib.h>
#include <string.h>

#include "aws/bedrock.h"
#include "aws/s3.h"
#include "testlib.h"

static void good_env(void)
{
    setenv("AWS_REGION", "eu-central-1", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("AWS_MAX_ATTEMPTS");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_S3");
    unsetenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME");
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    unsetenv("SSL_CERT_FILE");
}

static void check_init_fails(ig_err code, const char *expect)
{
    ig_aws_context ctx;
    ig_error err;
    ig_error_clear(&err);
    IG_CHECK_EQ_INT(ig_aws_context_init(&ctx, &err), code);
    IG_CHECK_EQ_INT(err.code, code);
    if (!strstr(err.message, expect))
        ig_test_fail(__FILE__, __LINE__, "expected \"%s\" in \"%s\"", expect, err.message);
    ig_aws_context_free(&ctx); /* safe after a failed init */
}

static void test_context_from_environment(void)
{
    good_env();
    setenv("AWS_MAX_ATTEMPTS", "4", 1);
    ig_aws_context ctx;
    ig_error err;
    IG_CHECK_EQ_INT(ig_aws_context_init(&ctx, &err), IG_OK);
    IG_CHECK_EQ_STR(ctx.region, "eu-central-1");
    IG_CHECK_EQ_INT(ctx.retry.max_attempts, 4);
    IG_CHECK_EQ_STR(ctx.creds.source, "environment");
    IG_CHECK(ctx.http != NULL && ctx.signer != NULL);
    ig_aws_context_free(&ctx);
    ig_aws_context_free(&ctx); /* twice is harmless */
}

static void test_context_errors_name_the_variable(void)
{
    good_env();
    unsetenv("AWS_REGION");
    check_init_fails(IG_ERR_REGION, "AWS_REGION is not set");
    good_env();
    setenv("AWS_REGION", "mars-1", 1);
    check_init_fails(IG_ERR_REGION, "AWS_REGION \"mars-1\"");
    good_env();
    setenv("AWS_MAX_ATTEMPTS", "0", 1);
    check_init_fails(IG_ERR_CONFIG, "AWS_MAX_ATTEMPTS");
    good_env();
    unsetenv("AWS_SECRET_ACCESS_KEY");
    check_init_fails(IG_ERR_CREDENTIALS, "AWS_SECRET_ACCESS_KEY is not");
    good_env();
    setenv("SSL_CERT_FILE", "/nonexistent/ca.pem", 1);
    check_init_fails(IG_ERR_CONFIG, "SSL_CERT_FILE");
    good_env();
}

static void test_clients_refuse_bad_endpoints_and_buckets(void)
{
    good_env();
    ig_aws_context ctx;
    ig_error err;
    IG_CHECK_EQ_INT(ig_aws_context_init(&ctx, &err), IG_OK);
    setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000/?x=1", 1);
    ig_error_clear(&err);
    IG_CHECK(ig_s3_new(&ctx, "bucket", &err) == NULL);
    IG_CHECK_EQ_INT(err.code, IG_ERR_ENDPOINT);
    IG_CHECK(strstr(err.message, "AWS_ENDPOINT_URL_S3") != NULL);
    setenv("AWS_ENDPOINT_URL", "ftp://example.com", 1);
    ig_error_clear(&err);
    IG_CHECK(ig_bedrock_new(&ctx, &err) == NULL);
    IG_CHECK_EQ_INT(err.code, IG_ERR_ENDPOINT);
    IG_CHECK(strstr(err.message, "AWS_ENDPOINT_URL is not a usable endpoint") != NULL);
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_S3");
    ig_error_clear(&err);
    IG_CHECK(ig_s3_new(&ctx, "", &err) == NULL);
    IG_CHECK_EQ_INT(err.code, IG_ERR_CONFIG);
    IG_CHECK(ig_s3_new(&ctx, NULL, &err) == NULL);
    ig_bedrock *b = ig_bedrock_new(&ctx, &err);
    IG_CHECK(b != NULL);
    ig_bedrock_free(b);
    ig_aws_context_free(&ctx);
    ig_aws_context empty;
    memset(&empty, 0, sizeof empty);
    IG_CHECK(ig_s3_new(&empty, "bucket", &err) == NULL);
    IG_CHECK_EQ_INT(err.code, IG_ERR_INVALID_ARG);
    IG_CHECK(ig_bedrock_new(NULL, &err) == NULL);
}

int main(void)
{
    if (ig_http_global_init() != IG_OK)
        return 1;
    IG_RUN(test_context_from_environment);
    IG_RUN(test_context_errors_name_the_variable);
    IG_RUN(test_clients_refuse_bad_endpoints_and_buckets);
    ig_http_global_cleanup();
    return ig_test_finish("aws_context");
}
