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

typedef struct ig_bedrock ig_bedrock;

ig_bedrock *ig_bedrock_new(ig_aws_context *ctx, ig_error *err);
void ig_bedrock_free(ig_bedrock *b);

typedef struct {
    ig_err err;               /* IG_OK: 2xx; IG_ERR_AWS: an error answer; else the transport error */
    long status;              /* last HTTP status; 0 when none arrived */
    char error_type[128];     /* "ValidationException", ... ("" on success) */
    char message[1024];
    char request_id[128];     /* x-amzn-RequestId */
    int attempts;
    int64_t retry_after_ms;   /* a server hint (Retry-After / x-amz-retry-after), else 0 */
    double seconds;           /* wall time of all attempts */
    ig_buf body;              /* the response body (success or error) */
} ig_bedrock_result;

void ig_bedrock_result_init(ig_bedrock_result *r);
void ig_bedrock_result_free(ig_bedrock_result *r);

ig_err ig_bedrock_invoke(ig_bedrock *b, const char *model_id, const void *body, size_t len,
                         int64_t deadline_ms, ig_bedrock_result *out);

/* Decodes an error answer (exposed for tests and fuzzing). */
void ig_bedrock_parse_error(long status, const char *error_type_header, const char *body,
                            size_t len, char *type, size_t type_len, char *message,
                            size_t message_len);

#endif
