/* support_aws_env.h - an AWS context pointed at a test server, and a check that a request the
 * server recorded carries a valid SigV4 signature for exactly what went over the wire. */
#ifndef IG_SUPPORT_AWS_ENV_H
#define IG_SUPPORT_AWS_ENV_H

#include "aws/aws.h"
#include "support_http_server.h"

#define IG_TEST_AKID "AKIDEXAMPLE"
#define IG_TEST_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

/* Sets AWS_REGION (us-east-1), the test key pair (and AWS_SESSION_TOKEN when token is not
 * NULL), the endpoint variable endpoint_var = url, clears AWS_MAX_ATTEMPTS, and builds ctx.
 * Backoff bases are shrunk to a few ms so retry tests run fast. IG_OK or the init error. */
ig_err ig_test_aws_context(ig_aws_context *ctx, const char *endpoint_var, const char *url, const char *token);

/* IG_OK when the recorded request verifies (service, s3 rules) against the test key pair;
 * else the verifier's error, printed to stderr. */
ig_err ig_test_verify_recorded(const ig_testsrv_request *r, const char *service, int s3_uri_rules,
                               const char *token);
/* The same for a request signed for another region (non-S3 rules). */
ig_err ig_test_verify_recorded_in(const ig_testsrv_request *r, const char *region, const char *service,
                                  const char *token);
/* The same without printing: for checks that expect a mismatch. */
ig_err ig_test_verify_quietly(const ig_testsrv_request *r, const char *service, int s3_uri_rules,
                              const char *token);

#endif
