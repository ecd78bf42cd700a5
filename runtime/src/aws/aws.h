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

#endif
