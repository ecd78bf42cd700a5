/* call.h - one signed request to an AWS service, retried in standard mode inside a deadline,
 * its error answer decoded the way botocore decodes JSON-protocol errors.
 *
 * The DynamoDB and Lambda clients are thin layers over it: they say what to send (path,
 * headers, body, signing name) and read what came back; signing afresh for every attempt, the
 * shared connections, the retry quota, backoff, server hints and the deadline are handled here
 * once. Errors: the type from x-amzn-ErrorType up to the first ':' (rest-json services), else
 * the body's __type / code / Code after the last '#' and before the first ':' (JSON 1.0
 * services: "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException" gives
 * "ConditionalCheckFailedException"), else the HTTP status; the message from message, else
 * Message.
 */
#ifndef IG_AWS_CALL_H
#define IG_AWS_CALL_H

#include <stddef.h>
#include <stdint.h>

#include "aws/aws.h"

typedef struct {
    const char *operation;          /* for log lines: "DynamoDB.PutItem", "Lambda.Invoke" */
    const ig_aws_service *svc;      /* signing name and region */
    const char *method;             /* "POST" */
    const char *path;               /* percent-encoded, as sent */
    const char *url;                /* scheme://host + path */
    const ig_header *headers;       /* must include Host; signed as given */
    size_t n_headers;
    const void *body;
    size_t body_len;
    int64_t deadline_ms;            /* absolute epoch ms; 0: none (the client's default timeout) */
    size_t max_response_bytes;      /* 0: the HTTP client's default */
    /* NULL, or a check of a 2xx answer: nonzero when the answer arrived damaged (why says how);
     * such an answer is retried like a transient error and, when retrying ends, reported as
     * IG_ERR_HTTP with that sentence. */
    int (*damaged)(const ig_http_response *resp, char *why, size_t why_len);
} ig_aws_call_request;

/* err after the last attempt:
 *   IG_OK            a 2xx answer; body holds it;
 *   IG_ERR_AWS       an error answer (status, error_type, message), retried as far as allowed;
 *   IG_ERR_DEADLINE  the deadline passed before an attempt could start, or cut the last one short;
 *   IG_ERR_HTTP      a damaged answer (see `damaged`), or another transport failure;
 *   else             the transport error of the last attempt (CONNECT, TIMEOUT, TOO_LARGE ...).
 * stop_reason says why retrying ended; NULL on success. */
typedef struct {
    ig_err err;
    long status;              /* last HTTP status; 0 when none arrived */
    char error_type[128];     /* "ConditionalCheckFailedException", ... ("" on success) */
    char message[1024];
    char request_id[128];     /* x-amzn-RequestId */
    int attempts;
    int64_t retry_after_ms;   /* a server hint (Retry-After / x-amz-retry-after), else 0 */
    double seconds;           /* wall time of all attempts */
    ig_buf body;              /* the last response body (success or error) */
    const char *stop_reason;  /* static text */
} ig_aws_call_result;

void ig_aws_call_result_init(ig_aws_call_result *r);
void ig_aws_call_result_free(ig_aws_call_result *r);
/* Empties r for another call (keeps the body's memory). */
void ig_aws_call_result_reset(ig_aws_call_result *r);
/* Records a refusal before anything was sent: err, message, stop_reason "not retryable". */
ig_err ig_aws_call_refuse(ig_aws_call_result *r, ig_err code, const char *why);

ig_err ig_aws_call(ig_aws_context *ctx, const ig_aws_call_request *req, ig_aws_call_result *out);

/* Decodes an error answer as described above (exposed for the clients, tests and fuzzing). */
void ig_aws_parse_json_error(long status, const char *error_type_header, const char *body, size_t len,
                             char *type, size_t type_len, char *message, size_t message_len);

/* Copies n bytes of server text: control characters become spaces, the copy is cut to fit. */
void ig_aws_copy_text(char *dst, size_t dst_len, const char *src, size_t n);

#endif
