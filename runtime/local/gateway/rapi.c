/* rapi.c - HTTP side of the Runtime API: paths, bodies, headers, status codes. */
#include "rapi.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "env.h"
#include "net.h"

#define GW_RAPI_PREFIX "/2018-06-01/runtime/"
/* Error reports are small; anything longer is cut rather than refused. */
#define GW_RAPI_MAX_ERROR_BODY ((size_t)1024 * 1024)

struct gw_rapi {
    struct MHD_Daemon *daemon;
};

typedef enum { GW_CALL_NEXT, GW_CALL_RESPONSE, GW_CALL_ERROR, GW_CALL_INIT_ERROR, GW_CALL_UNKNOWN } gw_call_kind;

typedef struct {
    gw_call_kind kind;
    char request_id[128];
    ig_buf body;
    size_t limit;
    int over_limit;
} gw_call;

static enum MHD_Result gw_send(struct MHD_Connection *c, unsigned status, const char *json)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(json), (void *)json, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result gw_send_error(struct MHD_Connection *c, unsigned status, const char *type,
                                     const char *message)
{
    json_t *j = json_pack("{s:s, s:s}", "errorMessage", message, "errorType", type);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    enum MHD_Result ok = gw_send(c, status, text ? text : "{}");
    free(text);
    return ok;
}

static enum MHD_Result gw_send_outcome(struct MHD_Connection *c, gw_post_outcome o)
{
    if (o.status == MHD_HTTP_ACCEPTED)
        return gw_send(c, MHD_HTTP_ACCEPTED, "{\"status\":\"OK\"}");
    return gw_send_error(c, (unsigned)o.status, o.error_type, o.message);
}

/* Classifies url; copies the request id of invocation/{id}/... into call. */
static void gw_classify(const char *method, const char *url, gw_call *call)
{
    call->kind = GW_CALL_UNKNOWN;
    size_t plen = strlen(GW_RAPI_PREFIX);
    if (strncmp(url, GW_RAPI_PREFIX, plen) != 0)
        return;
    const char *rest = url + plen;
    int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (strcmp(rest, "invocation/next") == 0) {
        call->kind = get ? GW_CALL_NEXT : GW_CALL_UNKNOWN;
        return;
    }
    if (strcmp(rest, "init/error") == 0) {
        call->kind = post ? GW_CALL_INIT_ERROR : GW_CALL_UNKNOWN;
        return;
    }
    if (!post || strncmp(rest, "invocation/", 11) != 0)
        return;
    const char *id = rest + 11;
    const char *slash = strchr(id, '/');
    if (!slash || slash == id || (size_t)(slash - id) >= sizeof call->request_id)
        return;
    if (strcmp(slash, "/response") == 0)
        call->kind = GW_CALL_RESPONSE;
    else if (strcmp(slash, "/error") == 0)
        call->kind = GW_CALL_ERROR;
    else
        return;
    memcpy(call->request_id, id, (size_t)(slash - id));
    call->request_id[slash - id] = '\0';
}

static enum MHD_Result gw_serve_next(gw_env *env, struct MHD_Connection *c)
{
    gw_next n;
    int status = 0;
    if (gw_env_next(env, &n, &status) != 0) {
        if (status == MHD_HTTP_FORBIDDEN)
            return gw_send_error(c, MHD_HTTP_FORBIDDEN, "InvalidStateTransition",
                                 "the current invocation has no result yet");
        return gw_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Runtime.ExitError",
                             "the execution environment is shutting down");
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(n.event_len, (void *)n.event, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ok = MHD_NO;
    if (r) {
        char deadline[32];
        snprintf(deadline, sizeof deadline, "%lld", (long long)n.deadline_ms);
        MHD_add_response_header(r, "Content-Type", "application/json");
        MHD_add_response_header(r, "Lambda-Runtime-Aws-Request-Id", n.request_id);
        MHD_add_response_header(r, "Lambda-Runtime-Deadline-Ms", deadline);
        MHD_add_response_header(r, "Lambda-Runtime-Invoked-Function-Arn", n.function_arn);
        MHD_add_response_header(r, "Lambda-Runtime-Trace-Id", n.trace_id);
        ok = MHD_queue_response(c, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
    }
    gw_env_next_release(env, &n);
    return ok;
}

static enum MHD_Result gw_serve_post(gw_env *env, struct MHD_Connection *c, gw_call *call)
{
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Lambda-Runtime-Function-Error-Type");
    if (call->kind == GW_CALL_RESPONSE) {
        size_t len = 0;
        char *body = call->body.len ? ig_buf_steal(&call->body, &len) : NULL;
        return gw_send_outcome(c, gw_env_post_response(env, call->request_id, body, len, call->over_limit));
    }
    if (call->kind == GW_CALL_ERROR)
        return gw_send_outcome(c, gw_env_post_error(env, call->request_id, type, ig_buf_cstr(&call->body), call->body.len));
    return gw_send_outcome(c, gw_env_post_init_error(env, type, ig_buf_cstr(&call->body), call->body.len));
}

static enum MHD_Result gw_rapi_access(void *cls, struct MHD_Connection *c, const char *url,
                                      const char *method, const char *version, const char *upload,
                                      size_t *upload_size, void **con_cls)
{
    (void)version;
    gw_env *env = cls;
    gw_call *call = *con_cls;
    if (!call) {
        call = calloc(1, sizeof *call);
        if (!call)
            return MHD_NO;
        gw_classify(method, url, call);
        call->limit = call->kind == GW_CALL_RESPONSE ? GW_RAPI_MAX_RESPONSE : GW_RAPI_MAX_ERROR_BODY;
        ig_buf_init(&call->body, 0);
        *con_cls = call;
        return MHD_YES;
    }
    if (*upload_size) {
        /* Past the limit the rest is read and dropped, and the answer waits for the end. */
        size_t room = call->body.len < call->limit ? call->limit - call->body.len : 0;
        if (*upload_size > room)
            call->over_limit = 1;
        if (room && ig_buf_append(&call->body, upload, *upload_size < room ? *upload_size : room) != IG_OK)
            call->over_limit = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    switch (call->kind) {
    case GW_CALL_NEXT:
        return gw_serve_next(env, c);
    case GW_CALL_RESPONSE:
    case GW_CALL_ERROR:
    case GW_CALL_INIT_ERROR:
        return gw_serve_post(env, c, call);
    default:
        return gw_send_error(c, MHD_HTTP_NOT_FOUND, "InvalidRequest", "no such Runtime API operation");
    }
}

static void gw_rapi_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    gw_call *call = *con_cls;
    if (call) {
        ig_buf_free(&call->body);
        free(call);
        *con_cls = NULL;
    }
}

gw_rapi *gw_rapi_start(gw_env *env, int *port, ig_error *err)
{
    int fd = -1;
    if (gw_listen(0, &fd, port, err) != IG_OK)
        return NULL;
    gw_rapi *r = calloc(1, sizeof *r);
    if (!r) {
        close(fd);
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    r->daemon = MHD_start_daemon(gw_mhd_flags(), 0, NULL, NULL, gw_rapi_access, env,
                                 MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED,
                                 gw_rapi_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 0u,
                                 MHD_OPTION_END);
    if (!r->daemon) {
        close(fd);
        free(r);
        ig_error_set(err, IG_ERR_CONNECT, "cannot start the Runtime API server");
        return NULL;
    }
    return r;
}

void gw_rapi_stop(gw_rapi *r)
{
    if (!r)
        return;
    MHD_stop_daemon(r->daemon);
    free(r);
}
