/* aws.h - what every AWS service client shares: HTTP client, signer, credentials, region,
 * retry policy. Built once at init and kept for the life of the process. */
#ifndef IG_AWS_H
#define IG_AWS_H

#include "aws/credentials.h"
#include "aws/endpoints.h"
#include "aws/retry.h"
#include "aws/sigv4.h"
#include "http/http.h"

typedef struct {
    ig_http_client *http;        /* owned */
    ig_sigv4_signer *signer;     /* owned */
    ig_credentials creds;        /* owned, wiped on free */
    char region[IG_REGION_MAX];
    ig_retry_policy retry;
} ig_aws_context;

/* Region, credentials, retry policy and an HTTP client from the environment. Each failure
 * names the variable at fault. */
ig_err ig_aws_context_init(ig_aws_context *ctx, ig_error *err);
void ig_aws_context_free(ig_aws_context *ctx);

/* Copies a string into a fixed buffer, cutting it to fit (codes and messages from services are
 * shown, not parsed). dst_len > 0. */
void ig_aws_copy_str(char *dst, size_t dst_len, const char *src);

/* 1 when an AWS error code says the signature or the credentials were refused (Bedrock's and
 * S3's names alike): a retry or another model cannot help, the operator must. */
int ig_aws_credentials_refused(const char *code);

/* How a service wants its requests signed. */
typedef struct {
    const char *signing_name;   /* "s3", "bedrock" */
    int s3_uri_rules;
    int sign_content_sha256;
    const char *region;         /* the region to sign for; NULL: the context's */
} ig_aws_service;

/* A request signed now: the caller's headers followed by the signer's (X-Amz-Date,
 * [X-Amz-Security-Token], [X-Amz-Content-SHA256], Authorization), ready for the HTTP client.
 * Sign again for every attempt, so that a retry carries a fresh date. */
typedef struct {
    ig_sigv4_result sig;
    ig_header *headers;         /* owned array; names and values point into the inputs or sig */
    size_t n_headers;
} ig_aws_signed;

void ig_aws_signed_init(ig_aws_signed *s);
void ig_aws_signed_free(ig_aws_signed *s);
/* headers must include Host. payload_hash: NULL (hash body) or a hex digest / UNSIGNED-PAYLOAD. */
ig_err ig_aws_sign(ig_aws_context *ctx, const ig_aws_service *svc, const char *method,
                   const char *path, const ig_header *headers, size_t n_headers, const void *body,
                   size_t body_len, const char *payload_hash, ig_aws_signed *out, ig_error *err);

#endif
