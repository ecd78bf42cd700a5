/* bedrock.h - Bedrock Runtime InvokeModel: POST /model/{modelId}/invoke.
 *
 * The model id is percent-encoded on the wire ("%3A") and signed encoded twice ("%253A"),
 * with the signing name "bedrock", Content-Type and Accept application/json, and the real
 * SHA-256 of the body. Throttling, 5xx, ModelNotReadyException and connection failures are
 * retried in standard mode without passing the deadline. Errors are decoded the way botocore
 * decodes them: the type from x-amzn-ErrorType up to the first ':', else body __type / code /
 * Code; the message from body message, else Message.
 */
#ifndef IG_BEDROCK_H
#define IG_BEDROCK_H

#include <stddef.h>
#include <stdint.h>

#include "aws/aws.h"

#define IG_BEDROCK_MAX_BODY 25000000
#define IG_BEDROCK_MAX_MODEL_ID 2048

typedef struct ig_bedrock ig_bedrock;

/* A client for the context's region, or for `region` (NULL or "": the context's): Bedrock may
 * live in another region than the rest of the stack. Signs for and calls that region. */
ig_bedrock *ig_bedrock_new(ig_aws_context *ctx, ig_error *err);
ig_bedrock *ig_bedrock_new_in(ig_aws_context *ctx, const char *region, ig_error *err);
const char *ig_bedrock_region(const ig_bedrock *b);
void ig_bedrock_free(ig_bedrock *b);

/* err after the last attempt:
 *   IG_OK            a 2xx answer; body holds it;
 *   IG_ERR_AWS       an error answer (status, error_type, message), retried as far as allowed;
 *   IG_ERR_DEADLINE  the deadline passed before an attempt could start, or cut the last one short;
 *   IG_ERR_EMPTY / IG_ERR_TOO_LARGE / IG_ERR_INVALID_ARG  refused before sending (message says why);
 *   else             the transport error of the last attempt (CONNECT, TIMEOUT, ...).
 * stop_reason says why retrying ended ("not retryable", "attempts exhausted", "retry quota
 * exhausted", "not enough time before the deadline"); NULL on success. */
typedef struct {
    ig_err err;
    long status;              /* last HTTP status; 0 when none arrived */
    char error_type[128];     /* "ValidationException", ... ("" on success) */
    char message[1024];
    char request_id[128];     /* x-amzn-RequestId */
    int attempts;
    int64_t retry_after_ms;   /* a server hint (Retry-After / x-amz-retry-after), else 0 */
    double seconds;           /* wall time of all attempts */
    ig_buf body;              /* the response body (success or error) */
    const char *stop_reason;  /* static text */
} ig_bedrock_result;

void ig_bedrock_result_init(ig_bedrock_result *r);
void ig_bedrock_result_free(ig_bedrock_result *r);

ig_err ig_bedrock_invoke(ig_bedrock *b, const char *model_id, const void *body, size_t len,
                         int64_t deadline_ms, ig_bedrock_result *out);

/* Several calls to one model at once (one image per call models): all start together, each is
 * retried on its own, all share the context's retry quota and one deadline. out[i] is the
 * result of calls[i]; returns IG_OK when every call succeeded, else the first call's err. */
#define IG_BEDROCK_MAX_CALLS 16

typedef struct {
    const void *body;
    size_t len;
} ig_bedrock_call;

typedef struct {
    const char *model_id;
    const ig_bedrock_call *calls;
    size_t n_calls;            /* 1 .. IG_BEDROCK_MAX_CALLS */
    int64_t deadline_ms;
} ig_bedrock_batch;

ig_err ig_bedrock_invoke_many(ig_bedrock *b, const ig_bedrock_batch *batch, ig_bedrock_result *out);

/* What a finished call means, in one classification that every caller shares. */
typedef enum {
    IG_BEDROCK_SUCCEEDED = 0,
    IG_BEDROCK_INVALID,          /* ValidationException: the request breaks the model's rules */
    IG_BEDROCK_FILTERED,         /* ValidationException from the content filter */
    IG_BEDROCK_RETIRED,          /* 404 "This model version has reached the end of its life" */
    IG_BEDROCK_UNAVAILABLE,      /* AccessDenied, or the model is unknown in this region */
    IG_BEDROCK_BAD_CREDENTIALS,  /* the signature or the credentials were refused */
    IG_BEDROCK_THROTTLED,        /* still throttled after retries (429, quota) */
    IG_BEDROCK_NOT_READY,        /* ModelNotReady, 503 */
    IG_BEDROCK_TIMED_OUT,        /* the deadline, a transfer timeout, ModelTimeoutException, 408 */
    IG_BEDROCK_UNREACHABLE,      /* no answer: connection failures and the like */
    IG_BEDROCK_FAILED            /* anything else (5xx, ModelErrorException ...) */
} ig_bedrock_outcome;

ig_bedrock_outcome ig_bedrock_classify(const ig_bedrock_result *r);
const char *ig_bedrock_outcome_name(ig_bedrock_outcome o);

/* Decodes an error answer (exposed for tests and fuzzing). */
void ig_bedrock_parse_error(long status, const char *error_type_header, const char *body,
                            size_t len, char *type, size_t type_len, char *message,
                            size_t message_len);

#endif
