/* server.c - libmicrohttpd glue: collects a request (raw path, query, headers,
 * body), routes it to the control or InvokeModel handler, logs one line, and sends the reply
 * whole, cut short, or not at all.
 *
 * SigV4 signs the path as sent, so URL unescaping is switched off: the handlers see
 * "/model/amazon.titan-image-generator-v2%3A0/invoke" exactly as it travelled.
 */
#include "server.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "control.h"
#include "invoke.h"
#include "reply.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/random.h"
#include "httpd.h"

#define IDLE_TIMEOUT_S 120
#define TRUNCATE_BLOCK (32u * 1024u)

/* Per-request state, kept in libmicrohttpd's per-request pointer. */
typedef struct {
    ig_buf body;
    int too_large;
    double started;
    char request_id[37];
} bl_exchange;

/* ---- collecting the request ---- */

/* "/model/{modelId}/invoke": a copy of the encoded id (caller frees), or NULL. */
static char *invoke_route(const char *path)
{
    static const char head[] = "/model/", tail[] = "/invoke";
    size_t len = strlen(path), hl = sizeof head - 1, tl = sizeof tail - 1;
    if (len <= hl + tl || strncmp(path, head, hl) != 0 || strcmp(path + len - tl, tail) != 0)
        return NULL;
    size_t id_len = len - hl - tl;
    if (memchr(path + hl, '/', id_len))
        return NULL;
    return strndup(path + hl, id_len);
}

/* ---- answering ---- */

typedef struct {
    char *data;
    size_t cut;
} truncated_body;

static ssize_t truncated_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    truncated_body *t = cls;
    if (pos >= t->cut)
        return MHD_CONTENT_READER_END_WITH_ERROR; /* the connection closes mid-body */
    size_t n = t->cut - (size_t)pos < max ? t->cut - (size_t)pos : max;
    memcpy(buf, t->data + pos, n);
    return (ssize_t)n;
}

static void truncated_free(void *cls)
{
    truncated_body *t = cls;
    free(t->data);
    free(t);
}

/* A response for the reply; the reply's body is handed over. */
static struct MHD_Response *make_response(bl_reply *reply)
{
    size_t len = 0;
    char *data = ig_buf_steal(&reply->body, &len);
    if (!data)
        return NULL;
    if (reply->delivery == BL_DELIVER_TRUNCATED) {
        truncated_body *t = malloc(sizeof *t);
        if (!t) {
            free(data);
            return NULL;
        }
        t->data = data;
        t->cut = len / 2;
        struct MHD_Response *r =
            MHD_create_response_from_callback(len, TRUNCATE_BLOCK, truncated_read, t, truncated_free);
        if (!r)
            truncated_free(t);
        return r;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!r)
        free(data);
    return r;
}

static void add_headers(struct MHD_Response *r, const bl_reply *reply, const bl_exchange *x,
                        const bl_trace *trace)
{
    MHD_add_response_header(r, "Content-Type", reply->content_type);
    MHD_add_response_header(r, "x-amzn-RequestId", x->request_id);
    if (reply->error_code) {
        char type[256];
        snprintf(type, sizeof type, "%s%s%s", reply->error_code, reply->error_namespace ? ":" : "",
                 reply->error_namespace ? reply->error_namespace : "");
        MHD_add_response_header(r, "x-amzn-ErrorType", type);
    }
    if (reply->allow)
        MHD_add_response_header(r, "Allow", reply->allow);
    if (reply->status == 200 && trace->model_id) {
        char ms[32];
        snprintf(ms, sizeof ms, "%.0f", trace->render_ms);
        MHD_add_response_header(r, "X-Amzn-Bedrock-Invocation-Latency", ms);
    }
}

/* Closes with RST instead of FIN: the client sees "connection reset by peer". */
static void abort_connection(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info) {
        struct linger lg = {1, 0};
        setsockopt(info->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
}

static void log_request(const bl_request *req, const bl_reply *reply,
                        const bl_exchange *x, const bl_trace *trace, size_t bytes)
{
    json_t *f = json_object();
    if (!f)
        return;
    json_object_set_new(f, "requestId", json_string(x->request_id));
    json_object_set_new(f, "method", json_string(req->method));
    /* The path may hold anything a client sent; jansson refuses invalid UTF-8. */
    json_t *path = json_string(req->path);
    json_object_set_new(f, "path", path ? path : json_string("(path not valid UTF-8)"));
    json_object_set_new(f, "status", json_integer(reply->status));
    if (reply->error_code)
        json_object_set_new(f, "errorCode", json_string(reply->error_code));
    if (reply->delivery != BL_DELIVER_WHOLE)
        json_object_set_new(f, "delivery", json_string(reply->delivery == BL_DELIVER_RESET ? "reset" : "truncated"));
    json_object_set_new(f, "bytes", json_integer((json_int_t)bytes));
    json_object_set_new(f, "durationMs", json_real((ig_mono_s() - x->started) * 1000.0));
    if (trace->model_id)
        json_object_set_new(f, "modelId", json_string(trace->model_id));
    if (trace->prompt_chars) /* set once the body was valid */
        json_object_set_new(f, "promptChars", json_integer((json_int_t)trace->prompt_chars));
    if (trace->prompt) {
        json_t *p = json_string(trace->prompt);
        if (p)
            json_object_set_new(f, "prompt", p);
    }
    if (trace->images) {
        json_object_set_new(f, "images", json_integer(trace->images));
        json_object_set_new(f, "format", json_string(trace->format ? trace->format : "png"));
        json_object_set_new(f, "cacheHits", json_integer(trace->cache_hits));
        json_object_set_new(f, "renderMs", json_real(trace->render_ms));
    }
    if (trace->fault != BL_FAULT_NONE)
        json_object_set_new(f, "fault", json_string(bl_fault_name(trace->fault)));
    ig_log(IG_LOG_INFO, "request", f);
}

/* ---- dispatch ---- */

static enum MHD_Result dispatch(bl_server *s, struct MHD_Connection *c, const char *url,
                                const char *method, bl_exchange *x)
{
    size_t n_headers = 0;
    ig_header *headers = lo_received_headers(c, &n_headers);
    ig_buf query;
    ig_buf_init(&query, 0);
    lo_received_query(c, &query);
    bl_request req = {method, url, ig_buf_cstr(&query), headers, n_headers, x->body.data, x->body.len, x->too_large};
    bl_reply reply;
    bl_reply_init(&reply);
    bl_trace trace;
    memset(&trace, 0, sizeof trace);
    trace.fault = BL_FAULT_NONE;

    char *model = NULL;
    if (!headers) {
        bl_reply_error(&reply, 500, "InternalServerException", BL_NS_BEDROCK, "Out of memory.");
    } else if (strncmp(url, BL_CONTROL_PREFIX, sizeof BL_CONTROL_PREFIX - 1) == 0) {
        bl_control(s, &req, &reply);
    } else {
        bl_stats_add(s->stats, BL_STAT_REQUESTS, 1);
        if (!(model = invoke_route(url))) {
            bl_reply_error(&reply, 404, "UnknownOperationException", BL_NS_CORAL,
                           "The requested operation is not recognized by the service.");
        } else if (strcmp(method, "POST") != 0) {
            bl_reply_error(&reply, 405, "UnknownOperationException", BL_NS_CORAL,
                           "InvokeModel takes POST, not this method.");
            reply.allow = "POST";
        } else {
            bl_invoke(s, &req, model, &reply, &trace);
        }
        bl_stats_answer(s->stats, reply.status, reply.error_code);
    }

    size_t bytes = reply.delivery == BL_DELIVER_RESET ? 0 : reply.body.len;
    log_request(&req, &reply, x, &trace, bytes);
    free(headers);
    ig_buf_free(&query);
    free(trace.prompt);
    free(model);

    enum MHD_Result result = MHD_NO;
    if (reply.delivery == BL_DELIVER_RESET) {
        abort_connection(c);
    } else {
        struct MHD_Response *r = make_response(&reply);
        if (r) {
            add_headers(r, &reply, x, &trace);
            result = MHD_queue_response(c, (unsigned)reply.status, r);
            MHD_destroy_response(r);
        }
    }
    bl_reply_free(&reply);
    return result;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    bl_server *s = cls;
    bl_exchange *x = *con_cls;
    if (!x) { /* headers have arrived; the body (if any) comes in the next calls */
        x = calloc(1, sizeof *x);
        if (!x)
            return MHD_NO;
        int control = strncmp(url, BL_CONTROL_PREFIX, sizeof BL_CONTROL_PREFIX - 1) == 0;
        ig_buf_init(&x->body, control ? BL_CONTROL_BODY_MAX : BL_BODY_MAX);
        x->started = ig_mono_s();
        if (ig_uuid4(x->request_id) != IG_OK)
            snprintf(x->request_id, sizeof x->request_id, "00000000-0000-4000-8000-000000000000");
        *con_cls = x;
        return MHD_YES;
    }
    if (*upload_size) {
        lo_received_body(&x->body, &x->too_large, upload, upload_size);
        return MHD_YES;
    }
    return dispatch(s, c, url, method, x);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    bl_exchange *x = *con_cls;
    if (x) {
        ig_buf_free(&x->body);
        free(x);
        *con_cls = NULL;
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    (void)cls;
    ig_log(IG_LOG_WARN, "libmicrohttpd", json_pack("{s:s}", "detail", line));
}

/* ---- start and stop ---- */

static void free_state(bl_server *s)
{
    bl_faults_free(s->faults);
    bl_stats_free(s->stats);
    bl_cache_free(s->cache);
    bl_config_free(&s->cfg);
    s->faults = NULL;
    s->stats = NULL;
    s->cache = NULL;
}

ig_err bl_server_start(bl_server *s, const bl_config *cfg, ig_error *err)
{
    memset(s, 0, sizeof *s);
    if (bl_config_copy(&s->cfg, cfg) != IG_OK)
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    s->faults = bl_faults_new();
    s->stats = bl_stats_new();
    s->cache = bl_cache_new(cfg->cache_bytes);
    ig_err e = IG_OK;
    if (!s->faults || !s->stats || !s->cache)
        e = ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    if (!e && (e = bl_faults_configure(s->faults, s->cfg.startup_faults, 1, err)))
        e = ig_error_set(err, IG_ERR_CONFIG, "bad fault settings: %s", err->message);
    if (!e) {
        struct sockaddr_in addr;
        lo_loopback_address(&addr, (int)cfg->port);
        s->daemon = MHD_start_daemon(
            MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                MHD_USE_ERROR_LOG,
            0, NULL, NULL, on_request, s,
            /* first, so that libmicrohttpd's own messages become JSON lines too */
            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
            MHD_OPTION_UNESCAPE_CALLBACK, lo_keep_escapes, NULL,
            MHD_OPTION_END);
        if (!s->daemon)
            e = ig_error_set(err, IG_ERR_CONNECT, "cannot listen on 127.0.0.1:%u", cfg->port);
    }
    if (!e) {
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
        s->port = info ? info->port : cfg->port;
        return IG_OK;
    }
    free_state(s);
    return e;
}

void bl_server_stop(bl_server *s)
{
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    free_state(s);
}
