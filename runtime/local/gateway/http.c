/* http.c - the client-facing HTTP server of the local API Gateway. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "codec/base64.h"
#include "codec/hash.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/random.h"
#include "answer.h"
#include "event.h"
#include "httpd.h"
#include "net.h"
#include "out.h"
#include "rapi.h"
#include "responses.h"

/* How long a stopping gateway waits for the answers in flight to be sent. */
#define GW_HTTP_DRAIN_S 5
/* A body that would stay past this is not read at all; the connection is closed after a 413. */
#define GW_HTTP_DISCARD_MAX ((size_t)64 * 1024 * 1024)

static const char gw_account_id[] = "123456789012";
static const char gw_api_id[] = "imagegen01";

struct gw_http {
    const gw_config *cfg;
    gw_pool *pool;
    const gw_routes *routes;
    const gw_keys *keys;
    int port;
    char no_route_message[1024]; /* GW_NO_ROUTE's sentence, naming the routes served */
    struct MHD_Daemon *daemon;
    pthread_mutex_t mu;
    pthread_cond_t idle;
    int active;  /* requests begun and not yet completely answered */
};

typedef struct {
    ig_buf body;
    int too_large;
    int answered;  /* answered before the body was read (a Content-Length far too large) */
    int64_t start_ms;
    int64_t start_mono;
} gw_client;

/* What one request produced, for the access log line. */
typedef struct {
    char request_id[37];
    char extended_id[24];
    char trace_root[64];
    const char *api_key_id;
    gw_result result;
    unsigned status;
    const char *error_type;     /* a gateway response's x-amzn-ErrorType */
    const char *response_type;  /* and its response type */
} gw_exchange;

/* The values of one kind (headers, query arguments), into an array with room for `spare` more. */
typedef struct {
    ig_header *items;
    size_t len, cap;
    const char *skip; /* a name left out, or NULL */
} gw_collect;

static enum MHD_Result gw_collect_pair(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    gw_collect *c = cls;
    if (!key || (c->skip && strcasecmp(key, c->skip) == 0))
        return MHD_YES;
    if (c->len == c->cap)
        return MHD_NO;
    c->items[c->len++] = (ig_header){key, value ? value : ""};
    return MHD_YES;
}

/* out->items is NULL when out of memory; the caller frees it. */
static void gw_collect_values(struct MHD_Connection *c, enum MHD_ValueKind kind, const char *skip,
                                    size_t spare, gw_collect *out)
{
    int n = MHD_get_connection_values(c, kind, NULL, NULL);
    out->len = 0;
    out->cap = (n > 0 ? (size_t)n : 0) + spare;
    out->skip = skip;
    out->items = calloc(out->cap + 1, sizeof *out->items);
    if (out->items)
        MHD_get_connection_values(c, kind, gw_collect_pair, out);
    else
        out->cap = 0;
}

static void gw_collect_add(gw_collect *c, const char *name, const char *value)
{
    if (c->len < c->cap)
        c->items[c->len++] = (ig_header){name, value};
}

static void gw_add_standard_headers(struct MHD_Response *r, const gw_exchange *x)
{
    MHD_add_response_header(r, "x-amzn-RequestId", x->request_id);
    MHD_add_response_header(r, "x-amz-apigw-id", x->extended_id);
    MHD_add_response_header(r, "X-Amzn-Trace-Id", x->trace_root);
}

/* An answer API Gateway itself makes: a gateway response (responses.h) with the CORS header a
 * gateway response can carry. message replaces the table's sentence when not NULL. */
static enum MHD_Result gw_reply_gateway(gw_http *h, struct MHD_Connection *c, gw_exchange *x, gw_response_kind kind,
                                        const char *message)
{
    const gw_response *def = gw_response_get(kind);
    x->status = (unsigned)def->status;
    x->error_type = def->error_type;
    x->response_type = def->type;
    if (kind == GW_NO_ROUTE && !message)
        message = h->no_route_message;
    char *body = gw_response_body(kind, message, x->request_id);
    if (!body)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "x-amzn-ErrorType", def->error_type);
    if (h->cfg->cors_origin) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", h->cfg->cors_origin);
        MHD_add_response_header(r, "Access-Control-Allow-Headers", GW_CORS_ALLOW_HEADERS);
        MHD_add_response_header(r, "Access-Control-Allow-Methods", GW_CORS_ALLOW_METHODS);
    }
    if (kind == GW_THROTTLED)
        MHD_add_response_header(r, "Retry-After", "1");
    gw_add_standard_headers(r, x);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)def->status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result gw_reply_function(gw_http *h, struct MHD_Connection *c, gw_exchange *x)
{
    gw_answer a;
    gw_answer_init(&a);
    ig_error err;
    ig_error_clear(&err);
    if (gw_answer_parse(x->result.payload, x->result.payload_len, &a, &err) != IG_OK) {
        gw_answer_free(&a);
        gw_log(IG_LOG_ERROR, "Execution failed due to configuration error: Malformed Lambda proxy response",
               json_pack("{s:s, s:s, s:s}", "requestId", x->request_id, "lambdaRequestId",
                         x->result.request_id, "error", err.message));
        return gw_reply_gateway(h, c, x, GW_FAILURE, NULL);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(a.body.len, a.body.data ? a.body.data : (void *)"",
                                                             MHD_RESPMEM_MUST_COPY);
    if (!r) {
        gw_answer_free(&a);
        return MHD_NO;
    }
    int has_type = 0;
    for (size_t i = 0; i < a.n_headers; i++) {
        has_type |= strcasecmp(a.headers[i].name, "Content-Type") == 0;
        /* Headers libmicrohttpd owns (Content-Length, ...) are refused by it: the framing stays right. */
        MHD_add_response_header(r, a.headers[i].name, a.headers[i].value);
    }
    if (!has_type)
        MHD_add_response_header(r, "Content-Type", "application/json");
    gw_add_standard_headers(r, x);
    x->status = (unsigned)a.status;
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)a.status, r);
    MHD_destroy_response(r);
    gw_answer_free(&a);
    return ok;
}

static enum MHD_Result gw_reply_result(gw_http *h, struct MHD_Connection *c, gw_exchange *x)
{
    switch (x->result.kind) {
    case GW_RESULT_RESPONSE:
        return gw_reply_function(h, c, x);
    case GW_RESULT_TIMEOUT:
        return gw_reply_gateway(h, c, x, GW_TIMEOUT, NULL);
    case GW_RESULT_THROTTLED:
        return gw_reply_gateway(h, c, x, GW_THROTTLED, NULL);
    case GW_RESULT_FUNCTION_ERROR:
    case GW_RESULT_UNAVAILABLE:
    default:
        return gw_reply_gateway(h, c, x, GW_FAILURE, NULL);
    }
}

static void gw_source_ip(struct MHD_Connection *c, char *out, size_t len)
{
    snprintf(out, len, "127.0.0.1");
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, out, (socklen_t)len);
}

/* A new X-Ray root "1-<epoch hex>-<96 random bits>", or the client's own root when it sent one. */
static void gw_trace_root(struct MHD_Connection *c, char *out, size_t len)
{
    const char *in = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amzn-Trace-Id");
    if (in && strncmp(in, "Root=1-", 7) == 0 && strlen(in) >= 40) {
        size_t n = strcspn(in, ";");
        int ok = n == 40;
        for (size_t i = 7; ok && i < n; i++)
            ok = (in[i] >= '0' && in[i] <= '9') || (in[i] >= 'a' && in[i] <= 'f') || in[i] == '-';
        if (ok) {
            snprintf(out, len, "%.40s", in);
            return;
        }
    }
    unsigned char r[12];
    char hex[25];
    ig_random_bytes(r, sizeof r);
    ig_hex_encode(r, sizeof r, hex);
    snprintf(out, len, "Root=1-%08llx-%s", (unsigned long long)(ig_now_ms() / 1000), hex);
}

static void gw_access_log(const gw_exchange *x, const char *method, const char *path, const char *resource,
                          const char *ip, int64_t start_mono)
{
    json_t *f = json_pack("{s:s, s:s, s:s, s:i, s:I, s:s}", "requestId", x->request_id, "httpMethod", method,
                          "resource", resource ? resource : "", "status", (int)x->status, "latencyMs",
                          (json_int_t)(ig_mono_ms() - start_mono), "sourceIp", ip);
    if (!f)
        return;
    json_object_set_new(f, "path", gw_json_text(path, strlen(path)));
    if (x->result.request_id[0])
        json_object_set_new(f, "lambdaRequestId", json_string(x->result.request_id));
    if (x->result.env[0])
        json_object_set_new(f, "env", json_string(x->result.env));
    json_object_set_new(f, "apiKeyId", x->api_key_id ? json_string(x->api_key_id) : json_null());
    if (x->error_type) {
        json_object_set_new(f, "errorType", json_string(x->error_type));
        json_object_set_new(f, "responseType", json_string(x->response_type));
    }
    if (x->result.error_type[0])
        json_object_set_new(f, "functionErrorType", json_string(x->result.error_type));
    gw_log(x->status >= 500 ? IG_LOG_WARN : IG_LOG_INFO, "request", f);
}

static enum MHD_Result gw_handle(gw_http *h, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, gw_client *cl)
{
    gw_exchange x;
    memset(&x, 0, sizeof x);
    ig_uuid4(x.request_id);
    {
        unsigned char rnd[11];
        ig_buf b;
        ig_buf_init(&b, 0);
        ig_random_bytes(rnd, sizeof rnd);
        ig_base64_encode_buf(rnd, sizeof rnd, &b);
        snprintf(x.extended_id, sizeof x.extended_id, "%s", ig_buf_cstr(&b));
        ig_buf_free(&b);
    }
    gw_trace_root(c, x.trace_root, sizeof x.trace_root);
    char ip[64];
    gw_source_ip(c, ip, sizeof ip);
    const char *path = url && url[0] == '/' ? url : "/";
    json_t *params = NULL;
    int is_public = 0;
    const char *resource = gw_routes_match(h->routes, method, path, &params, &is_public);
    enum MHD_Result ok;

    /* As api_key_required: on every method of a non-public resource but OPTIONS. Where no key
     * is required API Gateway checks none, and the identity carries none. */
    int key_required = resource && h->keys && !is_public && strcmp(method, "OPTIONS") != 0;
    const gw_key *key = NULL;
    if (key_required) {
        key = gw_keys_find(h->keys, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-api-key"));
        x.api_key_id = key ? key->id : NULL;
    }
    if (!resource) {
        ok = gw_reply_gateway(h, c, &x, GW_NO_ROUTE, NULL);
    } else if (key_required && !key) {
        ok = gw_reply_gateway(h, c, &x, GW_BAD_API_KEY, NULL);
    } else if (cl->too_large) {
        ok = gw_reply_gateway(h, c, &x, GW_TOO_LARGE, NULL);
    } else {
        /* The client's headers but X-Forwarded-For, and room for the four API Gateway adds. */
        gw_collect headers, query;
        gw_collect_values(c, MHD_HEADER_KIND, "X-Forwarded-For", 4, &headers);
        gw_collect_values(c, MHD_GET_ARGUMENT_KIND, NULL, 0, &query);
        char xff[512], port[16];
        const char *client_xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
        snprintf(xff, sizeof xff, "%s%s%s", client_xff ? client_xff : "", client_xff ? ", " : "", ip);
        snprintf(port, sizeof port, "%d", h->port);
        if (!ig_headers_find(headers.items, headers.len, "X-Amzn-Trace-Id"))
            gw_collect_add(&headers, "X-Amzn-Trace-Id", x.trace_root);
        gw_collect_add(&headers, "X-Forwarded-For", xff);
        gw_collect_add(&headers, "X-Forwarded-Port", port);
        gw_collect_add(&headers, "X-Forwarded-Proto", "http");

        char domain[256];
        const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
        snprintf(domain, sizeof domain, "%s", host && *host ? host : "127.0.0.1");
        gw_request req = {
            .method = method, .path = path, .protocol = version, .headers = headers.items,
            .n_headers = headers.len, .query = query.items, .n_query = query.len,
            .body = cl->body.data, .body_len = cl->body.len, .resource = resource, .path_parameters = params,
            .stage = h->cfg->stage, .request_id = x.request_id, .extended_request_id = x.extended_id,
            .api_id = gw_api_id, .account_id = gw_account_id, .domain_name = domain, .source_ip = ip,
            .api_key = key ? key->value : NULL, .api_key_id = key ? key->id : NULL, .time_ms = cl->start_ms,
            .binary_media_types = h->cfg->binary_media_types, .n_binary_media_types = h->cfg->n_binary_media_types,
        };
        size_t len = 0;
        char *event = headers.items && query.items ? gw_event_build(&req, &len) : NULL;
        free(headers.items);
        free(query.items);
        if (!event) {
            ok = gw_reply_gateway(h, c, &x, GW_FAILURE, NULL);
        } else if (len > GW_RAPI_MAX_RESPONSE) {
            /* Lambda takes at most 6 MB per synchronous invocation, event included. */
            free(event);
            ok = gw_reply_gateway(h, c, &x, GW_EVENT_TOO_LARGE, NULL);
        } else {
            gw_pool_invoke(h->pool, event, len, x.trace_root, &x.result);
            ok = gw_reply_result(h, c, &x);
            free(x.result.payload);
        }
    }
    gw_access_log(&x, method, path, resource, ip, cl->start_mono);
    json_decref(params);
    return ok;
}

static enum MHD_Result gw_http_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    gw_http *h = cls;
    gw_client *cl = *con_cls;
    if (!cl) {
        cl = calloc(1, sizeof *cl);
        if (!cl)
            return MHD_NO;
        ig_buf_init(&cl->body, GW_HTTP_MAX_BODY);
        pthread_mutex_lock(&h->mu);
        h->active++;
        pthread_mutex_unlock(&h->mu);
        cl->start_ms = ig_now_ms();
        cl->start_mono = ig_mono_ms();
        *con_cls = cl;
        const char *cl_header = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl_header) {
            unsigned long long n = strtoull(cl_header, NULL, 10);
            if (n > GW_HTTP_MAX_BODY)
                cl->too_large = 1;
            if (n > GW_HTTP_DISCARD_MAX) { /* not worth reading: answer now, close after */
                cl->answered = 1;
                return gw_handle(h, c, url, method, version, cl);
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {
        lo_received_body(&cl->body, &cl->too_large, upload, upload_size);
        return MHD_YES;
    }
    return cl->answered ? MHD_YES : gw_handle(h, c, url, method, version, cl);
}

static void gw_http_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    gw_http *h = cls;
    gw_client *cl = *con_cls;
    if (cl) {
        ig_buf_free(&cl->body);
        free(cl);
        *con_cls = NULL;
        pthread_mutex_lock(&h->mu);
        if (--h->active == 0)
            pthread_cond_broadcast(&h->idle);
        pthread_mutex_unlock(&h->mu);
    }
}

gw_http *gw_http_start(const gw_config *cfg, gw_pool *pool, const gw_routes *routes, const gw_keys *keys,
                       int fd, int port, ig_error *err)
{
    gw_http *h = calloc(1, sizeof *h);
    if (!h) {
        close(fd);
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    h->cfg = cfg;
    h->pool = pool;
    h->routes = routes;
    h->keys = keys;
    h->port = port;
    char served[768];
    gw_routes_describe(routes, served, sizeof served);
    gw_response_no_route_message(served, h->no_route_message, sizeof h->no_route_message);
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->idle, NULL);
    h->daemon = MHD_start_daemon(gw_mhd_flags(), 0, NULL, NULL, gw_http_access, h, MHD_OPTION_LISTEN_SOCKET, fd,
                                 MHD_OPTION_NOTIFY_COMPLETED, gw_http_completed, h, MHD_OPTION_CONNECTION_TIMEOUT,
                                 0u, MHD_OPTION_END);
    if (!h->daemon) {
        close(fd);
        pthread_cond_destroy(&h->idle);
        pthread_mutex_destroy(&h->mu);
        free(h);
        ig_error_set(err, IG_ERR_CONNECT, "cannot start the HTTP server on 127.0.0.1:%d", port);
        return NULL;
    }
    return h;
}

void gw_http_quiesce(gw_http *h)
{
    if (!h || !h->daemon)
        return;
    MHD_socket fd = MHD_quiesce_daemon(h->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

void gw_http_stop(gw_http *h)
{
    if (!h)
        return;
    /* Stopping the daemon cuts its connections: let the answers already decided go out first. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += GW_HTTP_DRAIN_S;
    pthread_mutex_lock(&h->mu);
    while (h->active > 0)
        if (pthread_cond_timedwait(&h->idle, &h->mu, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&h->mu);
    MHD_stop_daemon(h->daemon);
    pthread_cond_destroy(&h->idle);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
