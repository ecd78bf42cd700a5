/* invoke.c - the HTTP side of Lambda's Invoke API: route, signature, function name, invocation
 * type, payload, then the asynchronous queue (async.h). Each check fills one answer; one
 * function sends it and writes the call's log line. */
#include "invoke.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/lambda_invoke.h"
#include "aws/sigv4.h"
#include "codec/percent.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/random.h"
#include "credentials.h"
#include "httpd.h"
#include "net.h"
#include "out.h"

#define GW_INVOKE_PREFIX "/2015-03-31/functions/"
#define GW_INVOKE_SUFFIX "/invocations"
#define GW_INVOKE_MAX_SKEW_S 300 /* the clock difference AWS accepts: 5 minutes */
#define GW_FUNCTION_NAME_PATTERN                                                                                   \
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)" \
    "(:(\\$LATEST|[a-zA-Z0-9-_]+))?"

struct gw_invoke {
    const gw_config *cfg;
    gw_async *async;
    lo_credentials creds;   /* the key pair calls must be signed with; none: every call is refused */
    struct MHD_Daemon *daemon;
};

typedef struct {
    ig_buf body;
    int too_large;
    int64_t start_mono;
    char request_id[37];
} gw_invoke_call;

/* The answer to one call, and what its log line says. */
typedef struct {
    unsigned status;
    const char *error_type;     /* x-amzn-ErrorType; NULL when the call succeeded */
    json_t *body;               /* the error document, or NULL for an empty body */
    char function[160];         /* the function name as decoded, for the log */
    const char *invocation_type;
    size_t payload_bytes;
} gw_answer;

/* ---- answers ---- */

/* An error as the service itself words it: {"Type": "User", "<key>": message}. Lambda spells
 * the key "Message" in ResourceNotFoundException and "message" elsewhere. */
static void gw_refuse_user(gw_answer *a, unsigned status, const char *type, const char *key, const char *message)
{
    a->status = status;
    a->error_type = type;
    json_decref(a->body);
    a->body = json_pack("{s:s, s:s}", "Type", "User", key, message);
}

/* An error of AWS's front door (authentication, routing): {"message": message}. */
static void gw_refuse_front(gw_answer *a, unsigned status, const char *type, const char *message)
{
    a->status = status;
    a->error_type = type;
    json_decref(a->body);
    a->body = json_pack("{s:s}", "message", message);
}

static enum MHD_Result gw_send(struct MHD_Connection *c, const gw_invoke_call *call, const gw_answer *a)
{
    char *text = a->body ? json_dumps(a->body, JSON_COMPACT) : NULL;
    struct MHD_Response *r = text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE)
                                  : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "x-amzn-RequestId", call->request_id);
    if (a->body)
        MHD_add_response_header(r, "Content-Type", "application/json");
    if (a->error_type)
        MHD_add_response_header(r, "x-amzn-ErrorType", a->error_type);
    enum MHD_Result ok = MHD_queue_response(c, a->status, r);
    MHD_destroy_response(r);
    return ok;
}

static void gw_log_call(const gw_invoke_call *call, const gw_answer *a)
{
    json_t *f = json_pack("{s:s, s:s, s:i, s:I, s:I}", "requestId", call->request_id, "functionName", a->function,
                          "status", (int)a->status, "payloadBytes", (json_int_t)a->payload_bytes, "latencyMs",
                          (json_int_t)(ig_mono_ms() - call->start_mono));
    if (f && a->invocation_type)
        json_object_set_new(f, "invocationType", json_string(a->invocation_type));
    if (f && a->error_type)
        json_object_set_new(f, "errorType", json_string(a->error_type));
    gw_log(a->status >= 500 ? IG_LOG_ERROR : a->status >= 400 ? IG_LOG_WARN : IG_LOG_INFO, "lambda invoke", f);
}

/* ---- the checks, in Lambda's order; each returns 1 to go on, 0 with the answer filled ---- */

/* The encoded {FunctionName} of POST /2015-03-31/functions/{FunctionName}/invocations. */
static int gw_check_route(const char *method, const char *url, const char **name, size_t *len, gw_answer *a)
{
    size_t plen = strlen(GW_INVOKE_PREFIX), slen = strlen(GW_INVOKE_SUFFIX), n = strlen(url);
    int ok = strcmp(method, "POST") == 0 && n > plen + slen && strncmp(url, GW_INVOKE_PREFIX, plen) == 0 &&
             strcmp(url + n - slen, GW_INVOKE_SUFFIX) == 0 && !memchr(url + plen, '/', n - plen - slen);
    if (!ok) {
        gw_refuse_front(a, 404, "UnknownOperationException",
                        "Unknown operation: this local Lambda serves only POST "
                        "/2015-03-31/functions/{FunctionName}/invocations.");
        return 0;
    }
    *name = url + plen;
    *len = n - plen - slen;
    return 1;
}

static int gw_check_size(const gw_invoke_call *call, gw_answer *a)
{
    if (!call->too_large)
        return 1;
    char msg[128];
    snprintf(msg, sizeof msg, "Request must be smaller than %zu bytes for the InvokeFunction operation",
             GW_INVOKE_MAX_BODY);
    gw_refuse_user(a, 413, "RequestEntityTooLargeException", "message", msg);
    return 0;
}

static int gw_check_signature(const gw_invoke *v, struct MHD_Connection *c, const char *method, const char *url,
                              const gw_invoke_call *call, gw_answer *a)
{
    size_t n_headers = 0;
    ig_header *headers = lo_received_headers(c, &n_headers);
    ig_buf query;
    ig_buf_init(&query, 0);
    lo_received_query(c, &query);
    int ok = 0;
    if (!headers) {
        gw_refuse_user(a, 500, "ServiceException", "message", "Out of memory.");
    } else if (!ig_headers_find(headers, n_headers, "authorization")) {
        gw_refuse_front(a, 403, "MissingAuthenticationTokenException", "Missing Authentication Token");
    } else if (!v->creds.access_key_id || !v->creds.secret_access_key) {
        gw_refuse_front(a, 403, "UnrecognizedClientException", "The security token included in the request is invalid.");
    } else {
        ig_sigv4_credentials known = {v->creds.access_key_id, v->creds.secret_access_key, v->creds.session_token};
        ig_sigv4_request r = {method, url, ig_buf_cstr(&query), headers, n_headers, call->body.data, call->body.len, NULL};
        ig_error err;
        ig_error_clear(&err);
        ig_err e = ig_sigv4_verify(&known, v->cfg->region, "lambda", 0, &r, ig_now_ms() / 1000, GW_INVOKE_MAX_SKEW_S,
                                   &err);
        ok = e == IG_OK;
        if (e == IG_ERR_CREDENTIALS)
            gw_refuse_front(a, 403, "UnrecognizedClientException", err.message);
        else if (e == IG_ERR_SIGNATURE)
            gw_refuse_front(a, 403, "InvalidSignatureException", err.message);
        else if (e)
            gw_refuse_user(a, 500, "ServiceException", "message", err.message);
    }
    free(headers);
    ig_buf_free(&query);
    return ok;
}

/* A decoded copy of s[0..len) in out (NUL-terminated); 0 when malformed or holding a NUL. */
static int gw_decode(const char *s, size_t len, ig_buf *out)
{
    return ig_percent_decode(out, s, len) == IG_OK && !memchr(out->data, 0, out->len) &&
           ig_buf_append_char(out, '\0') == IG_OK;
}

/* The parts of a function name: "name[:qualifier]", "123456789012:function:name[:qualifier]" or
 * "arn:<partition>:lambda:<region>:<account>:function:name[:qualifier]". Pointers into a
 * private copy, "" for a part that is absent. */
typedef struct {
    char copy[IG_LAMBDA_MAX_FUNCTION_NAME + 1];
    const char *region, *account, *name, *qualifier;
    int arn;
} gw_function_ref;

/* Splits s at ':' into at most max parts; the count, or max + 1 when there are more. */
static int gw_split(char *s, char **parts, int max)
{
    int n = 0;
    for (char *p = s;; n++) {
        if (n == max)
            return max + 1;
        parts[n] = p;
        char *colon = strchr(p, ':');
        if (!colon)
            return n + 1;
        *colon = '\0';
        p = colon + 1;
    }
}

static int gw_parse_function(const char *text, gw_function_ref *f)
{
    memset(f, 0, sizeof *f);
    snprintf(f->copy, sizeof f->copy, "%s", text);
    f->region = f->account = f->qualifier = "";
    char *p[8];
    int n = gw_split(f->copy, p, 8);
    if (n >= 7 && strcmp(p[0], "arn") == 0 && strncmp(p[1], "aws", 3) == 0 && strcmp(p[2], "lambda") == 0 &&
        strcmp(p[5], "function") == 0 && n <= 8) {
        f->arn = 1;
        f->region = p[3];
        f->account = p[4];
        f->name = p[6];
        f->qualifier = n == 8 ? p[7] : "";
    } else if ((n == 3 || n == 4) && strcmp(p[1], "function") == 0) {
        f->account = p[0];
        f->name = p[2];
        f->qualifier = n == 4 ? p[3] : "";
    } else if (n == 1 || n == 2) {
        f->name = p[0];
        f->qualifier = n == 2 ? p[1] : "";
    } else {
        return 0;
    }
    return *f->name != '\0';
}

/* The function is this gateway's, in its region and account, at $LATEST (the only version). */
static int gw_is_served(const gw_invoke *v, const gw_function_ref *f, const char *qualifier)
{
    return strcmp(f->name, v->cfg->function_name) == 0 && (!*f->region || strcmp(f->region, v->cfg->region) == 0) &&
           (!*f->account || strcmp(f->account, GW_ACCOUNT_ID) == 0) &&
           (!*qualifier || strcmp(qualifier, "$LATEST") == 0);
}

static void gw_refuse_not_found(const gw_invoke *v, const gw_function_ref *f, const char *given,
                                const char *qualifier, gw_answer *a)
{
    char msg[512];
    if (f->arn)
        snprintf(msg, sizeof msg, "Function not found: %s", given);
    else
        snprintf(msg, sizeof msg, "Function not found: arn:aws:lambda:%s:%s:function:%s%s%s", v->cfg->region,
                 *f->account ? f->account : GW_ACCOUNT_ID, f->name, *qualifier ? ":" : "", qualifier);
    gw_refuse_user(a, 404, "ResourceNotFoundException", "Message", msg);
}

/* The qualifier of ?Qualifier=, decoded; "" when absent. 0 when it cannot be decoded. */
static int gw_query_qualifier(struct MHD_Connection *c, ig_buf *out)
{
    const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "Qualifier");
    return gw_decode(q ? q : "", q ? strlen(q) : 0, out);
}

static int gw_check_function(const gw_invoke *v, struct MHD_Connection *c, const char *enc, size_t len, gw_answer *a)
{
    ig_buf name, query_qualifier;
    ig_buf_init(&name, 0);
    ig_buf_init(&query_qualifier, 0);
    gw_function_ref f;
    memset(&f, 0, sizeof f);
    int decoded = gw_decode(enc, len, &name) && gw_query_qualifier(c, &query_qualifier);
    if (decoded)
        snprintf(a->function, sizeof a->function, "%s", ig_buf_cstr(&name));
    int ok = 0;
    if (!decoded || !ig_lambda_function_name_valid(ig_buf_cstr(&name)) || !gw_parse_function(ig_buf_cstr(&name), &f)) {
        char msg[768];
        snprintf(msg, sizeof msg,
                 "1 validation error detected: Value '%.160s' at 'functionName' failed to satisfy constraint: "
                 "Member must satisfy regular expression pattern: %s",
                 decoded ? ig_buf_cstr(&name) : "", GW_FUNCTION_NAME_PATTERN);
        gw_refuse_user(a, 400, "ValidationException", "message", msg);
    } else if (*f.qualifier && query_qualifier.len > 1 && strcmp(f.qualifier, ig_buf_cstr(&query_qualifier)) != 0) {
        gw_refuse_user(a, 400, "InvalidParameterValueException", "message",
                       "The derived qualifier from the function name does not match the specified qualifier.");
    } else {
        const char *qualifier = *f.qualifier ? f.qualifier : ig_buf_cstr(&query_qualifier);
        ok = gw_is_served(v, &f, qualifier);
        if (!ok)
            gw_refuse_not_found(v, &f, ig_buf_cstr(&name), qualifier, a);
    }
    ig_buf_free(&name);
    ig_buf_free(&query_qualifier);
    return ok;
}

static int gw_check_invocation_type(struct MHD_Connection *c, gw_answer *a)
{
    const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Invocation-Type");
    if (!t || strcmp(t, "RequestResponse") == 0) {
        a->invocation_type = "RequestResponse";
        gw_refuse_user(a, 400, "InvalidParameterValueException", "message",
                       "RequestResponse invocations are not served by the local gateway: it serves the asynchronous "
                       "ones (X-Amz-Invocation-Type: Event) and DryRun. Call the API's routes for a synchronous answer.");
        return 0;
    }
    if (strcmp(t, "Event") == 0 || strcmp(t, "DryRun") == 0) {
        a->invocation_type = strcmp(t, "Event") == 0 ? "Event" : "DryRun";
        return 1;
    }
    char msg[256];
    snprintf(msg, sizeof msg,
             "1 validation error detected: Value '%.64s' at 'invocationType' failed to satisfy constraint: Member must "
             "satisfy enum value set: [Event, RequestResponse, DryRun]",
             t);
    gw_refuse_user(a, 400, "ValidationException", "message", msg);
    return 0;
}

/* An Event's payload: at most 1 MB, JSON (any value; empty means {}). */
static int gw_check_payload(const gw_invoke_call *call, gw_answer *a)
{
    char msg[320];
    if (call->body.len > GW_INVOKE_MAX_EVENT) {
        snprintf(msg, sizeof msg, "%zu byte payload is too large for the Event invocation type (limit %zu bytes)",
                 call->body.len, GW_INVOKE_MAX_EVENT);
        gw_refuse_user(a, 413, "RequestEntityTooLargeException", "message", msg);
        return 0;
    }
    if (!call->body.len)
        return 1;
    json_error_t jerr;
    json_t *doc = json_loadb(call->body.data, call->body.len, JSON_DECODE_ANY, &jerr);
    if (doc) {
        json_decref(doc);
        return 1;
    }
    snprintf(msg, sizeof msg, "Could not parse request body into json: %s (line %d, column %d)", jerr.text, jerr.line,
             jerr.column);
    gw_refuse_user(a, 400, "InvalidRequestContentException", "message", msg);
    return 0;
}

/* Hands the payload to the queue: 202, or why not. */
static void gw_queue_event(gw_invoke *v, gw_invoke_call *call, gw_answer *a)
{
    size_t len = 2;
    char *payload = call->body.len ? ig_buf_steal(&call->body, &len) : strdup("{}");
    gw_async_admission admission = payload ? gw_async_enqueue(v->async, payload, len, call->request_id) : GW_ASYNC_FULL;
    if (admission == GW_ASYNC_QUEUED)
        a->status = 202;
    else if (admission == GW_ASYNC_FULL)
        gw_refuse_user(a, 429, "TooManyRequestsException", "message", "Rate Exceeded.");
    else
        gw_refuse_user(a, 503, "ServiceException", "message", "The local Lambda service is stopping.");
}

static void gw_serve(gw_invoke *v, struct MHD_Connection *c, const char *url, const char *method,
                     gw_invoke_call *call, gw_answer *a)
{
    const char *name = NULL;
    size_t len = 0;
    if (!gw_check_route(method, url, &name, &len, a) || !gw_check_size(call, a) ||
        !gw_check_signature(v, c, method, url, call, a) || !gw_check_function(v, c, name, len, a) ||
        !gw_check_invocation_type(c, a))
        return;
    a->payload_bytes = call->body.len;
    if (strcmp(a->invocation_type, "DryRun") == 0) {
        a->status = 204; /* the call would be allowed; nothing runs */
        return;
    }
    if (gw_check_payload(call, a))
        gw_queue_event(v, call, a);
}

/* ---- the server ---- */

static enum MHD_Result gw_invoke_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                        const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    gw_invoke *v = cls;
    gw_invoke_call *call = *con_cls;
    if (!call) {
        call = calloc(1, sizeof *call);
        if (!call)
            return MHD_NO;
        ig_buf_init(&call->body, GW_INVOKE_MAX_BODY);
        call->start_mono = ig_mono_ms();
        ig_uuid4(call->request_id);
        *con_cls = call;
        return MHD_YES;
    }
    if (*upload_size) {
        lo_received_body(&call->body, &call->too_large, upload, upload_size);
        return MHD_YES;
    }
    gw_answer a;
    memset(&a, 0, sizeof a);
    gw_serve(v, c, url, method, call, &a);
    enum MHD_Result ok = gw_send(c, call, &a);
    gw_log_call(call, &a);
    json_decref(a.body);
    return ok;
}

static void gw_invoke_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                                enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    gw_invoke_call *call = *con_cls;
    if (call) {
        ig_buf_free(&call->body);
        free(call);
        *con_cls = NULL;
    }
}

gw_invoke *gw_invoke_start(const gw_config *cfg, gw_async *async, int fd, ig_error *err)
{
    gw_invoke *v = calloc(1, sizeof *v);
    if (!v) {
        close(fd);
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    v->cfg = cfg;
    v->async = async;
    lo_credentials_from_env(&v->creds, 0, "", err);
    if (!v->creds.access_key_id || !v->creds.secret_access_key)
        gw_log(IG_LOG_WARN, "lambda invoke api has no key pair",
               json_pack("{s:s}", "detail", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are unset: every Invoke call "
                                            "is refused with UnrecognizedClientException"));
    v->daemon = MHD_start_daemon(gw_mhd_flags(), 0, NULL, NULL, gw_invoke_access, v, MHD_OPTION_LISTEN_SOCKET, fd,
                                 MHD_OPTION_NOTIFY_COMPLETED, gw_invoke_completed, v, MHD_OPTION_UNESCAPE_CALLBACK,
                                 lo_keep_escapes, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 0u, MHD_OPTION_END);
    if (!v->daemon) {
        close(fd);
        lo_credentials_free(&v->creds);
        free(v);
        ig_error_set(err, IG_ERR_CONNECT, "cannot start Lambda's Invoke API");
        return NULL;
    }
    return v;
}

void gw_invoke_quiesce(gw_invoke *v)
{
    if (!v || !v->daemon)
        return;
    MHD_socket fd = MHD_quiesce_daemon(v->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

void gw_invoke_stop(gw_invoke *v)
{
    if (!v)
        return;
    MHD_stop_daemon(v->daemon);
    lo_credentials_free(&v->creds);
    free(v);
}
