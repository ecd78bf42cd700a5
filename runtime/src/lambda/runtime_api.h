/* runtime_api.h - a client of the Lambda Runtime API (version 2018-06-01).
 *
 * Plain HTTP to $AWS_LAMBDA_RUNTIME_API, proxies never used, a short connect timeout and no
 * total timeout on GET /next (the process may be frozen between events). One connection,
 * kept alive for the life of the process.
 */
#ifndef IG_RUNTIME_API_H
#define IG_RUNTIME_API_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

typedef struct ig_runtime_api ig_runtime_api;

typedef struct {
    char request_id[128];    /* Lambda-Runtime-Aws-Request-Id */
    int64_t deadline_ms;     /* Lambda-Runtime-Deadline-Ms (epoch ms); 0 when absent */
    char function_arn[512];  /* Lambda-Runtime-Invoked-Function-Arn, "" when absent */
    char trace_id[512];      /* Lambda-Runtime-Trace-Id, "" when absent */
    ig_buf event;            /* the event payload */
} ig_invocation;

void ig_invocation_init(ig_invocation *inv);
void ig_invocation_free(ig_invocation *inv);

/* host_port: the value of AWS_LAMBDA_RUNTIME_API ("127.0.0.1:9001"). */
ig_runtime_api *ig_runtime_api_new(const char *host_port, ig_error *err);
void ig_runtime_api_free(ig_runtime_api *api);

/* Outcome of a call: IG_OK with the HTTP status in *status. A status of 500 from any endpoint
 * means the runtime must exit. */
ig_err ig_runtime_api_next(ig_runtime_api *api, ig_invocation *inv, long *status, ig_error *err);
ig_err ig_runtime_api_respond(ig_runtime_api *api, const char *request_id, const char *body,
                              size_t len, long *status, ig_error *err);
/* Reports an invocation error (request_id != NULL) or an init error (request_id == NULL).
 * error_type must look like "Runtime.Reason" or "Function.Reason". */
ig_err ig_runtime_api_error(ig_runtime_api *api, const char *request_id, const char *error_type,
                            const char *message, long *status, ig_error *err);

#endif
