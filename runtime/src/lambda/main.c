/* main.c - bootstrap: the Lambda custom runtime.
 *
 * Init once (policy, credentials, connections), then loop: next -> handle -> respond. An init
 * failure is reported to /runtime/init/error and the process exits; a 500 from the Runtime API
 * means the environment is going away and the process exits promptly.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "handler/handler.h"
#include "http/http.h"
#include "lambda/runtime_api.h"

static int post_init_error(ig_runtime_api *api, const char *type, const char *message)
{
    long status = 0;
    ig_error err;
    ig_runtime_api_error(api, NULL, type, message, &status, &err);
    return 1;
}

/* _X_AMZN_TRACE_ID changes with every invocation. setenv() keeps every value it was ever given
 * (glibc cannot free them), which grows the process by each distinct trace id; putenv() of one
 * buffer we own, rewritten in place, does not. */
static char ig_trace_env[1024];

static void set_trace_id(const char *trace_id)
{
    static const char name[] = "_X_AMZN_TRACE_ID=";
    if (trace_id && *trace_id && strlen(trace_id) < sizeof ig_trace_env - sizeof name) {
        snprintf(ig_trace_env, sizeof ig_trace_env, "%s%s", name, trace_id);
        putenv(ig_trace_env);
    } else {
        unsetenv("_X_AMZN_TRACE_ID");
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    ig_log_init();
    const char *endpoint = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!endpoint || !*endpoint) {
        ig_log(IG_LOG_FATAL, "AWS_LAMBDA_RUNTIME_API is not set: bootstrap runs inside Lambda or the local gateway", NULL);
        return 1;
    }
    if (ig_http_global_init() != IG_OK) {
        ig_log(IG_LOG_FATAL, "HTTP initialisation failed", NULL);
        return 1;
    }
    ig_error err;
    ig_error_clear(&err);
    ig_runtime_api *api = ig_runtime_api_new(endpoint, &err);
    if (!api) {
        ig_log(IG_LOG_FATAL, "cannot reach the Runtime API", json_pack("{s:s}", "error", err.message));
        ig_http_global_cleanup();
        return 1;
    }
    ig_handler *handler = ig_handler_new(&err);
    if (!handler) {
        const char *type = err.code == IG_ERR_POLICY ? "Runtime.PolicyLoadError"
                           : err.code == IG_ERR_CREDENTIALS ? "Runtime.MissingCredentials"
                                                            : "Runtime.ConfigInvalid";
        ig_log(IG_LOG_FATAL, "init failed", json_pack("{s:s, s:s}", "errorType", type, "error", err.message));
        post_init_error(api, type, err.message);
        ig_runtime_api_free(api);
        ig_http_global_cleanup();
        return 1;
    }
    ig_log(IG_LOG_INFO, "bootstrap ready", NULL);

    ig_invocation inv;
    ig_invocation_init(&inv);
    ig_buf response;
    ig_buf_init(&response, 0);
    int exit_code = 0;
    int next_failures = 0;
    for (;;) {
        long status = 0;
        ig_error_clear(&err);
        ig_err e = ig_runtime_api_next(api, &inv, &status, &err);
        if (status == 500 || status == 403 || (status != 200 && status != 0)) {
            ig_log(IG_LOG_ERROR, "the Runtime API refused the next invocation; exiting",
                   json_pack("{s:i}", "status", (int)status));
            exit_code = status == 500 ? 0 : 1;
            break;
        }
        if (e != IG_OK && status == 0) {
            /* The Runtime API could not be reached: retry a little, then give up. */
            if (++next_failures >= 3) {
                ig_log(IG_LOG_FATAL, "the Runtime API is unreachable; exiting", json_pack("{s:s}", "error", err.message));
                exit_code = 1;
                break;
            }
            continue;
        }
        next_failures = 0;
        if (e != IG_OK) {
            /* An event without a usable request id cannot be answered. */
            ig_log(IG_LOG_ERROR, "unusable invocation", json_pack("{s:s}", "error", err.message));
            continue;
        }
        ig_log_set_request_id(inv.request_id);
        set_trace_id(inv.trace_id);
        ig_invoke_ctx ctx = {.request_id = inv.request_id, .deadline_ms = inv.deadline_ms,
                             .function_arn = inv.function_arn, .trace_id = inv.trace_id};
        ig_buf_reset(&response);
        e = ig_handler_invoke(handler, ig_buf_cstr(&inv.event), inv.event.len, &ctx, &response, &err);
        if (e == IG_OK) {
            ig_runtime_api_respond(api, inv.request_id, ig_buf_cstr(&response), response.len, &status, &err);
        } else {
            ig_log(IG_LOG_ERROR, "invocation failed", json_pack("{s:s}", "error", err.message));
            ig_runtime_api_error(api, inv.request_id, "Runtime.HandlerError", err.message, &status, &err);
        }
        ig_log_set_request_id(NULL);
        if (status == 500) {
            ig_log(IG_LOG_ERROR, "the Runtime API answered 500; exiting", NULL);
            break;
        }
        if (status != 202)
            ig_log(IG_LOG_WARN, "the Runtime API did not accept the result",
                   json_pack("{s:i, s:s}", "status", (int)status, "error", err.message));
    }
    ig_buf_free(&response);
    ig_invocation_free(&inv);
    ig_handler_free(handler);
    ig_runtime_api_free(api);
    ig_http_global_cleanup();
    return exit_code;
}
