/* aws.c - builds the shared AWS context once per process: region, credentials, retry policy,
 * one signer (its key cache) and one HTTP client (its connections), all reused by every S3
 * and Bedrock call of every invocation. */
#include "aws/aws.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

/* Without a deadline an AWS call still must not hang forever; Bedrock's slowest models need
 * minutes (Nova Canvas: at least 300 s is the advice). */
#define IG_AWS_DEFAULT_TIMEOUT_MS 300000

ig_err ig_aws_context_init(ig_aws_context *ctx, ig_error *err)
{
    memset(ctx, 0, sizeof *ctx);
    ig_error local;
    if (!err)
        err = &local;
    ig_error_clear(err);
    ig_err e;
    if ((e = ig_region_from_env(ctx->region, err)) != IG_OK)
        return e;
    if ((e = ig_retry_policy_from_env(&ctx->retry, err)) != IG_OK)
        return e;
    /* Lambda has no proxy, and a stray HTTPS_PROXY must not reroute signed calls: curl's proxy
     * variables count only with IMAGEGEN_USE_PROXY=1 (an operator's laptop behind one). */
    const char *proxy = getenv("IMAGEGEN_USE_PROXY");
    if (proxy && *proxy && strcmp(proxy, "0") != 0 && strcmp(proxy, "1") != 0)
        return ig_error_set(err, IG_ERR_CONFIG,
                            "IMAGEGEN_USE_PROXY must be 1 (use HTTPS_PROXY, HTTP_PROXY and NO_PROXY) or 0");
    if ((e = ig_credentials_load(&ctx->creds, err)) != IG_OK)
        return e;
    ig_http_options o = {.ca_file = NULL, .use_proxy = proxy && strcmp(proxy, "1") == 0,
                         .connect_timeout_ms = 0, .default_timeout_ms = IG_AWS_DEFAULT_TIMEOUT_MS};
    if (!(ctx->http = ig_http_client_new(&o, err))) {
        ig_aws_context_free(ctx);
        return err->code ? err->code : IG_ERR_HTTP;
    }
    if (!(ctx->signer = ig_sigv4_signer_new())) {
        ig_aws_context_free(ctx);
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    }
    return IG_OK;
}

void ig_aws_context_free(ig_aws_context *ctx)
{
    if (!ctx)
        return;
    ig_http_client_free(ctx->http);
    ig_sigv4_signer_free(ctx->signer);
    ig_credentials_free(&ctx->creds);
    ctx->http = NULL;
    ctx->signer = NULL;
}

void ig_aws_signed_init(ig_aws_signed *s)
{
    ig_sigv4_result_init(&s->sig);
    s->headers = NULL;
    s->n_headers = 0;
}

void ig_aws_signed_free(ig_aws_signed *s)
{
    ig_sigv4_result_free(&s->sig);
    free(s->headers);
    s->headers = NULL;
    s->n_headers = 0;
}

ig_err ig_aws_sign(ig_aws_context *ctx, const ig_aws_service *svc, const char *method,
                   const char *path, const ig_header *headers, size_t n_headers, const void *body,
                   size_t body_len, const char *payload_hash, ig_aws_signed *out, ig_error *err)
{
    ig_sigv4_credentials creds = ig_credentials_view(&ctx->creds);
    ig_sigv4_params p = {.region = svc->region ? svc->region : ctx->region,
                         .service = svc->signing_name,
                         .time = ig_now_ms() / 1000,
                         .s3_uri_rules = svc->s3_uri_rules,
                         .sign_content_sha256 = svc->sign_content_sha256};
    ig_sigv4_request req = {.method = method,
                            .path = path,
                            .query = NULL,
                            .headers = headers,
                            .n_headers = n_headers,
                            .body = body,
                            .body_len = body_len,
                            .payload_hash = payload_hash};
    ig_err e = ig_sigv4_sign_headers(ctx->signer, &creds, &p, &req, &out->sig, err);
    if (e != IG_OK)
        return e;
    size_t n = n_headers + out->sig.n_added;
    ig_header *all = realloc(out->headers, n * sizeof *all);
    if (!all)
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    memcpy(all, headers, n_headers * sizeof *all);
    memcpy(all + n_headers, out->sig.added, out->sig.n_added * sizeof *all);
    out->headers = all;
    out->n_headers = n;
    return IG_OK;
}

void ig_aws_copy_str(char *dst, size_t dst_len, const char *src)
{
    size_t n = strlen(src);
    if (n >= dst_len)
        n = dst_len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int ig_aws_credentials_refused(const char *code)
{
    static const char *const refused[] = {
        "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignatureException",
        "MissingAuthenticationTokenException", "ExpiredTokenException", "InvalidClientTokenId",
        "SignatureDoesNotMatch", "InvalidAccessKeyId", "ExpiredToken", "InvalidToken", NULL};
    for (size_t i = 0; code && refused[i]; i++)
        if (strcmp(code, refused[i]) == 0)
            return 1;
    return 0;
}
