/* lambda_invoke.h - AWS Lambda Invoke with InvocationType Event: hand an event to Lambda's own
 * asynchronous queue and return once it is queued.
 *
 * POST {base}/2015-03-31/functions/{FunctionName}/invocations with X-Amz-Invocation-Type: Event
 * and the payload as the body; the function name or ARN is percent-encoded on the wire (':' as
 * "%3A") and signed encoded twice, as for every service but S3. Signing name "lambda" in the
 * context's region; endpoint AWS_ENDPOINT_URL_LAMBDA, else AWS_ENDPOINT_URL, else
 * https://lambda.{region}.amazonaws.com. Lambda answers 202 Accepted with an empty body once the
 * event is queued. Errors are decoded from x-amzn-ErrorType, else the body (__type / code /
 * Code, message / Message) and retried in standard mode: TooManyRequestsException (429),
 * EC2ThrottledException, ServiceException (500) and other 5xx, connection failures; never
 * ResourceNotFoundException, InvalidRequestContentException, RequestTooLargeException or
 * another 4xx.
 */
#ifndef IG_LAMBDA_INVOKE_H
#define IG_LAMBDA_INVOKE_H

#include <stddef.h>
#include <stdint.h>

#include "aws/aws.h"
#include "aws/call.h"

/* Lambda's limit for an asynchronous invocation's payload: 1 MB (the Invoke API reference,
 * "For asynchronous invocations, the maximum payload size is 1 MB"; it was 256 KB before). A
 * larger payload is refused before sending. */
#define IG_LAMBDA_MAX_EVENT_PAYLOAD (1024 * 1024)
/* A function name, a partial ARN or a full ARN, optionally with ":qualifier": 1 to 256 bytes. */
#define IG_LAMBDA_MAX_FUNCTION_NAME 256

typedef struct ig_lambda ig_lambda;

/* A client for the context's region; it shares the context's HTTP client, signer and retry quota. */
ig_lambda *ig_lambda_new(ig_aws_context *ctx, ig_error *err);
void ig_lambda_free(ig_lambda *l);

/* Queues one asynchronous invocation of function (name, "name:alias", partial or full ARN:
 * A-Z a-z 0-9 - _ . : $ only) with payload (a JSON document, 0 .. IG_LAMBDA_MAX_EVENT_PAYLOAD
 * bytes; Lambda checks that it is JSON). IG_OK when Lambda accepted it (202; out->status
 * says which 2xx); otherwise as in ig_aws_call_result, or IG_ERR_INVALID_ARG / IG_ERR_TOO_LARGE
 * with a sentence and nothing sent. */
ig_err ig_lambda_invoke_event(ig_lambda *l, const char *function, const void *payload, size_t len,
                              int64_t deadline_ms, ig_aws_call_result *out);

/* 1 when function is a name Lambda's Invoke could accept (the shape checked above). */
int ig_lambda_function_name_valid(const char *function);

#endif
