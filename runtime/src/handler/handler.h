/* handler.h - one invocation, end to end (DESIGN.md's eight steps):
 * admit (Lua) -> cache lookup -> InvokeModel -> extract + decode -> upload in parallel ->
 * presign -> respond (Lua) -> the proxy response.
 *
 * The handler orchestrates; it owns no protocol. Everything expensive (Lua state, policy,
 * credentials, HTTP connections) is created once by ig_handler_new and kept across warm
 * invocations; everything request-scoped is freed before ig_handler_invoke returns.
 */
#ifndef IG_HANDLER_H
#define IG_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

typedef struct ig_handler ig_handler;

typedef struct {
    const char *request_id;   /* the Lambda invocation id */
    int64_t deadline_ms;      /* epoch ms; 0 = none given */
    const char *function_arn;
    const char *trace_id;
} ig_invoke_ctx;

/* Reads the configuration (IMAGEGEN_* and AWS_* variables), loads the policy, credentials and
 * clients. Failure: the sentence in err names what is wrong (a variable, a file:line). */
ig_handler *ig_handler_new(ig_error *err);
void ig_handler_free(ig_handler *h);

/* Serves one event. On IG_OK, response holds the proxy response JSON to post. Every failure
 * the client can be told about (bad input, policy errors, Bedrock or S3 failures) is an
 * IG_OK with an error response; a non-OK return means no response could be built at all. */
ig_err ig_handler_invoke(ig_handler *h, const char *event, size_t len, const ig_invoke_ctx *ctx,
                         ig_buf *response, ig_error *err);

#endif
