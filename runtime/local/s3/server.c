/* server.c - libmicrohttpd glue of s3-verify: collect, check, refuse or forward, log. */
#include "server.h"

#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "auth.h"
#include "post.h"
#include "codec/base64.h"
#include "codec/hash.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/random.h"
#include "httpd.h"
#include "upstream.h"

struct s3v_server {
    s3v_config cfg;
    s3v_auth auth;
    struct MHD_Daemon *daemon;
    volatile int stopping;
};

/* One request, in libmicrohttpd's per-request pointer. */
typedef struct {
    ig_buf body;
    int too_large;
    double started;
    char request_id[17]; /* S3's x-amz-request-id: 16 upper-case hex digits */
    char host_id[48];    /* and x-amz-id-2 */
} s3v_exchange;

/* ---- answering ---- */

static void xml_escaped(ig_buf *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': ig_buf_append_str(out, "&amp;"); break;
        case '<': ig_buf_append_str(out, "&lt;"); break;
        case '>': ig_buf_append_str(out, "&gt;"); break;
        case '"': ig_buf_append_str(out, "&quot;"); break;
        case '\'': ig_buf_append_str(out, "&apos;"); break;
        default: ig_buf_append_char(out, *s);
        }
    }
}

static void xml_element(ig_buf *out, const char *name, const char *value)
{
    ig_buf_appendf(out, "<%s>", name);
    xml_escaped(out, value);
    ig_buf_appendf(out, "</%s>", name);
}

/* S3's error document for a refusal. */
static struct MHD_Response *error_response(const s3v_verdict *v, const s3v_exchange *x)
{
    ig_buf xml;
    ig_buf_init(&xml, 0);
    ig_buf_append_str(&xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
    xml_element(&xml, "Code", v->code);
    xml_element(&xml, "Message", v->message);
    for (size_t i = 0; i < v->n_extra; i++)
        xml_element(&xml, v->extra[i].name, v->extra[i].value);
    xml_element(&xml, "RequestId", x->request_id);
    xml_element(&xml, "HostId", x->host_id);
    ig_buf_append_str(&xml, "</Error>");
    size_t len = 0;
    char *text = ig_buf_steal(&xml, &len);
    struct MHD_Response *r = text ? MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!r) {
        free(text);
        return NULL;
    }
    MHD_add_response_header(r, "Content-Type", "application/xml");
    return r;
}

/* A HEAD answer carries the object's Content-Length and no body: a response of that size whose
 * body is never read. */
static ssize_t no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls, (void)pos, (void)buf, (void)max;
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

/* Headers libmicrohttpd writes itself, or that belong to s3rver's connection. */
static int own_header(const char *name)
{
    static const char *const own[] = {"content-length", "connection", "keep-alive", "transfer-encoding", "date"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (strcasecmp(name, own[i]) == 0)
            return 1;
    return 0;
}

static struct MHD_Response *forwarded_response(const s3v_answer *a, const char *method)
{
    struct MHD_Response *r;
    if (strcmp(method, "HEAD") == 0) {
        const char *length = ig_headers_find(a->headers, a->n_headers, "content-length");
        r = MHD_create_response_from_callback(length ? strtoull(length, NULL, 10) : 0, 4096, no_body, NULL, NULL);
    } else {
        r = MHD_create_response_from_buffer(a->body_len, (void *)a->body, MHD_RESPMEM_MUST_COPY);
    }
    for (size_t i = 0; r && i < a->n_headers; i++)
        if (!own_header(a->headers[i].name))
            MHD_add_response_header(r, a->headers[i].name, a->headers[i].value);
    return r;
}

static void log_request(const char *method, const char *path, int status, const s3v_verdict *v,
                        const s3v_exchange *x, const char *upstream_error)
{
    json_t *f = json_pack("{s:s, s:s, s:i, s:s, s:f}", "requestId", x->request_id, "method", method, "status",
                          status, "auth", s3v_auth_kind_name(v->kind), "durationMs",
                          (ig_mono_s() - x->started) * 1000.0);
    if (!f)
        return;
    json_t *p = json_string(path); /* a client's path may not be UTF-8 */
    json_object_set_new(f, "path", p ? p : json_string("(path not valid UTF-8)"));
    if (v->status)
        json_object_set_new(f, "errorCode", json_string(v->code));
    if (v->status && v->status != 500)
        json_object_set_new(f, "reason", json_string(v->message));
    if (upstream_error)
        json_object_set_new(f, "upstreamError", json_string(upstream_error));
    ig_log(status >= 500 ? IG_LOG_WARN : IG_LOG_INFO, "request", f);
}

/* ---- dispatch ---- */

static enum MHD_Result answer(struct MHD_Connection *c, int status, struct MHD_Response *r, const s3v_exchange *x)
{
    if (!r)
        return MHD_NO;
    if (!MHD_get_response_header(r, "x-amz-request-id")) {
        MHD_add_response_header(r, "x-amz-request-id", x->request_id);
        MHD_add_response_header(r, "x-amz-id-2", x->host_id);
    }
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ok;
}

/* Passes req to s3rver; a failure there becomes S3's own 500 or 503 in *v. */
static struct MHD_Response *forward(s3v_server *s, const s3v_request *req, s3v_verdict *v, int *status,
                                    char *why, size_t why_len)
{
    s3v_answer a;
    s3v_answer_init(&a);
    ig_error err;
    ig_error_clear(&err);
    struct MHD_Response *r = NULL;
    if (s3v_forward(s->cfg.upstream_port, req, s->cfg.timeout_ms, &s->stopping, &a, &err) == IG_OK) {
        *status = a.status;
        r = forwarded_response(&a, req->method);
    } else {
        snprintf(why, why_len, "%s", err.message);
        int unavailable = err.code == IG_ERR_CONNECT || err.code == IG_ERR_TIMEOUT;
        v->status = *status = unavailable ? 503 : 500;
        v->code = unavailable ? "ServiceUnavailable" : "InternalError";
        snprintf(v->message, sizeof v->message, "%s",
                 unavailable ? "Service is unable to handle request." : "We encountered an internal error. Please try again.");
    }
    s3v_answer_free(&a);
    return r;
}

static enum MHD_Result dispatch(s3v_server *s, struct MHD_Connection *c, const char *url, const char *method,
                                s3v_exchange *x)
{
    size_t n_headers = 0;
    ig_header *headers = lo_received_headers(c, &n_headers);
    ig_buf query;
    ig_buf_init(&query, 0);
    lo_received_query(c, &query);
    s3v_request req = {method, url, ig_buf_cstr(&query), headers, n_headers, x->body.data, x->body.len};

    s3v_verdict v;
    int status = 0;
    char why[IG_ERROR_MESSAGE_MAX] = "";
    struct MHD_Response *r = NULL;
    if (!headers) {
        memset(&v, 0, sizeof v);
        v.status = 500, v.code = "InternalError";
        snprintf(v.message, sizeof v.message, "We encountered an internal error. Please try again.");
    } else if (x->too_large) {
        memset(&v, 0, sizeof v);
        v.status = 400, v.code = "EntityTooLarge";
        snprintf(v.message, sizeof v.message, "Your proposed upload exceeds the maximum allowed size");
    } else {
        char bucket[256];
        if (s3v_post_target(&req, bucket, sizeof bucket)) /* a browser upload: its form is its signature */
            s3v_check_post(&s->auth, &req, bucket, ig_now_ms() / 1000, &v);
        else
            s3v_check(&s->auth, &req, ig_now_ms() / 1000, &v);
        if (!v.status)
            r = forward(s, &req, &v, &status, why, sizeof why);
    }
    if (v.status) {
        status = v.status;
        r = error_response(&v, x);
    }
    log_request(method, url, status, &v, x, why[0] ? why : NULL);
    free(headers);
    ig_buf_free(&query);
    return answer(c, status, r, x);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    s3v_server *s = cls;
    s3v_exchange *x = *con_cls;
    if (!x) { /* the headers are in; the body follows in the next calls */
        x = calloc(1, sizeof *x);
        if (!x)
            return MHD_NO;
        ig_buf_init(&x->body, s->cfg.max_body);
        x->started = ig_mono_s();
        unsigned char rnd[8], id2[24];
        char hex[17];
        ig_random_bytes(rnd, sizeof rnd);
        ig_hex_encode(rnd, sizeof rnd, hex);
        for (int i = 0; i < 16; i++)
            x->request_id[i] = (char)(hex[i] >= 'a' ? hex[i] - 'a' + 'A' : hex[i]);
        ig_random_bytes(id2, sizeof id2);
        ig_buf b64;
        ig_buf_init(&b64, 0);
        ig_base64_encode_buf(id2, sizeof id2, &b64);
        snprintf(x->host_id, sizeof x->host_id, "%s", ig_buf_cstr(&b64));
        ig_buf_free(&b64);
        *con_cls = x;
        return MHD_YES;
    }
    if (*upload_size) {
        lo_received_body(&x->body, &x->too_large, upload, upload_size);
        return MHD_YES;
    }
    return dispatch(s, c, url, method, x);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    s3v_exchange *x = *con_cls;
    if (x) {
        ig_buf_free(&x->body);
        free(x);
        *con_cls = NULL;
    }
}

/* ---- start and stop ---- */

s3v_server *s3v_server_start(const s3v_config *cfg, unsigned *port, ig_error *err)
{
    s3v_server *s = calloc(1, sizeof *s);
    if (!s) {
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->auth = (s3v_auth){{cfg->creds.access_key_id, cfg->creds.secret_access_key, cfg->creds.session_token},
                         s->cfg.region, cfg->max_skew_s};
    struct sockaddr_in addr;
    lo_loopback_address(&addr, (int)cfg->port);
    s->daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                                     MHD_USE_ERROR_LOG,
                                 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                 MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                 MHD_OPTION_UNESCAPE_CALLBACK, lo_keep_escapes, NULL, MHD_OPTION_END);
    if (!s->daemon) {
        free(s);
        ig_error_set(err, IG_ERR_CONNECT, "cannot listen on 127.0.0.1:%u", cfg->port);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : cfg->port;
    return s;
}

void s3v_server_stop(s3v_server *s)
{
    if (!s)
        return;
    s->stopping = 1;
    MHD_stop_daemon(s->daemon);
    free(s);
}
