/* invoke.h - Lambda's Invoke API, for the function's own asynchronous invocations.
 *
 * The function invokes itself (a job's worker) through AWS_ENDPOINT_URL_LAMBDA, which the
 * gateway points at this server: its own listener on 127.0.0.1, apart from the API's port, as
 * lambda.<region>.amazonaws.com is apart from execute-api. One operation is served,
 *
 *   POST /2015-03-31/functions/{FunctionName}/invocations
 *
 * checked as Lambda checks it, in this order, the first failure answering with Lambda's status,
 * x-amzn-ErrorType and JSON body:
 *   - another path or method: 404 UnknownOperationException;
 *   - a body over 6 MB: 413 RequestEntityTooLargeException;
 *   - SigV4 (ig_sigv4_verify, signing name "lambda", the gateway's region, its key pair from
 *     AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, 5 minutes of skew): 403
 *     MissingAuthenticationTokenException, UnrecognizedClientException or InvalidSignatureException;
 *   - the function name (a name, a partial or full ARN, a qualifier in it or in ?Qualifier=):
 *     400 ValidationException when malformed, 400 InvalidParameterValueException when the two
 *     qualifiers differ, 404 ResourceNotFoundException for any function but this one's $LATEST;
 *   - X-Amz-Invocation-Type: Event (queued: 202), DryRun (204, nothing runs), RequestResponse,
 *     also the default, is refused (400 InvalidParameterValueException, saying it is not served
 *     locally), anything else 400 ValidationException;
 *   - an Event payload over 1 MB: 413 RequestEntityTooLargeException; not JSON: 400
 *     InvalidRequestContentException; an empty payload is the event {} (as Lambda does);
 *   - the queue full: 429 TooManyRequestsException; the gateway stopping: 503 ServiceException.
 * A 202 carries x-amzn-RequestId: the request id the function will see, on every attempt. Each
 * call is one JSON log line, message "lambda invoke".
 */
#ifndef GW_INVOKE_H
#define GW_INVOKE_H

#include "async.h"
#include "config.h"
#include "core/error.h"

/* Lambda's limits: a synchronous request (6 MB), an asynchronous payload (1 MB). */
#define GW_INVOKE_MAX_BODY ((size_t)6291456)
#define GW_INVOKE_MAX_EVENT ((size_t)1048576)

typedef struct gw_invoke gw_invoke;

/* Serves on listen_fd (from gw_listen, taken over), queueing events on async. */
gw_invoke *gw_invoke_start(const gw_config *cfg, gw_async *async, int listen_fd, ig_error *err);
/* Stops accepting connections. */
void gw_invoke_quiesce(gw_invoke *v);
/* Stops the server (calls in flight are cut) and frees it. */
void gw_invoke_stop(gw_invoke *v);

#endif
