/* support_http_server.c - the scripted test server declared in support_http_server.h. */
#include "support_http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"

#define IG_TS_MAX_HEADER (64 * 1024)
#define IG_TS_MAX_BODY ((size_t)64 * 1024 * 1024)
#define IG_TS_MAX_CONN 256

typedef struct {
    ig_testsrv *srv;
    int fd;
    int number;
} ig_ts_conn;

struct ig_testsrv {
    int listen_fd;
    int port;
    char url[64];
    const ig_testsrv_reply *script;
    size_t n_script;
    volatile int stopping;
    pthread_t acceptor;
    pthread_mutex_t mu;
    int hits;
    int connections;
    pthread_t conn_threads[IG_TS_MAX_CONN];
    ig_ts_conn *conns[IG_TS_MAX_CONN];
    ig_testsrv_request *requests;
    size_t n_requests, cap_requests;
};

/* ---- I/O helpers ----------------------------------------------------------------------- */

/* Waits up to 50 ms for the fd; -1 once the server is stopping. */
static int ig_ts_wait(ig_testsrv *s, int fd, short events)
{
    while (!s->stopping) {
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, 50);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
    }
    return -1;
}

static int ig_ts_send_all(ig_testsrv *s, int fd, const char *p, size_t n)
{
    while (n) {
        if (ig_ts_wait(s, fd, POLLOUT) != 0)
            return -1;
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Sleeps in small steps so that stopping the server is never held up. */
static void ig_ts_sleep(ig_testsrv *s, int ms)
{
    int64_t until = ig_mono_ms() + ms;
    while (!s->stopping && ig_mono_ms() < until)
        ig_sleep_ms(10);
}

/* ---- parsing --------------------------------------------------------------------------- */

static const char *ig_ts_find_crlfcrlf(const char *p, size_t n)
{
    for (size_t i = 3; i < n; i++)
        if (p[i - 3] == '\r' && p[i - 2] == '\n' && p[i - 1] == '\r' && p[i] == '\n')
            return p + i + 1;
    return NULL;
}

static int ig_ts_parse_head(const char *head, size_t len, ig_testsrv_request *req)
{
    const char *end = head + len;
    const char *eol = memchr(head, '\r', len);
    if (!eol)
        return -1;
    if (sscanf(head, "%15s %4095s", req->method, req->target) != 2)
        return -1;
    const char *p = eol + 2;
    while (p < end) {
        const char *e = memchr(p, '\r', (size_t)(end - p));
        if (!e || e == p)
            break;
        const char *colon = memchr(p, ':', (size_t)(e - p));
        if (colon)
            ig_header_list_add(&req->headers, p, (size_t)(colon - p), colon + 1, (size_t)(e - colon - 1));
        p = e + 2;
    }
    return 0;
}

/* Reads one request into req; buffered bytes beyond it stay in in. -1: connection over. */
static int ig_ts_read_request(ig_testsrv *s, int fd, ig_buf *in, ig_testsrv_request *req)
{
    const char *body_start;
    while (!(body_start = ig_ts_find_crlfcrlf(ig_buf_cstr(in), in->len))) {
        if (in->len > IG_TS_MAX_HEADER || ig_ts_wait(s, fd, POLLIN) != 0)
            return -1;
        char tmp[16384];
        ssize_t r = recv(fd, tmp, sizeof tmp, 0);
        if (r <= 0)
            return -1;
        ig_buf_append(in, tmp, (size_t)r);
    }
    size_t head_len = (size_t)(body_start - in->data);
    if (ig_ts_parse_head(in->data, head_len, req) != 0)
        return -1;
    const char *cl = ig_header_list_get(&req->headers, "content-length");
    size_t want = cl ? (size_t)strtoull(cl, NULL, 10) : 0;
    if (want > IG_TS_MAX_BODY)
        return -1;
    while (in->len - head_len < want) {
        if (ig_ts_wait(s, fd, POLLIN) != 0)
            return -1;
        char tmp[65536];
        ssize_t r = recv(fd, tmp, sizeof tmp, 0);
        if (r <= 0)
            return -1;
        ig_buf_append(in, tmp, (size_t)r);
    }
    ig_buf_append(&req->body, in->data + head_len, want);
    size_t used = head_len + want;
    memmove(in->data, in->data + used, in->len - used);
    in->len -= used;
    in->data[in->len] = '\0';
    return 0;
}

/* ---- answering ------------------------------------------------------------------------- */

static const char *ig_ts_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 424: return "Failed Dependency";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

static int ig_ts_has_header(const char *block, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = block; *p; p++)
        if ((p == block || p[-1] == '\n') && strncasecmp(p, name, n) == 0 && p[n] == ':')
            return 1;
    return 0;
}

static int ig_ts_answer(ig_testsrv *s, int fd, const ig_testsrv_reply *r, int is_head)
{
    if (r->delay_ms)
        ig_ts_sleep(s, r->delay_ms);
    if (s->stopping)
        return -1;
    int status = r->status ? r->status : 200;
    const char *body = r->body ? r->body : "";
    size_t body_len = r->body_len ? r->body_len : strlen(body);
    const char *extra = r->headers ? r->headers : "";
    int has_length = ig_ts_has_header(extra, "content-length");
    ig_buf out;
    ig_buf_init(&out, 0);
    ig_buf_appendf(&out, "HTTP/1.1 %d %s\r\n%s", status, ig_ts_reason(status), extra);
    if (r->no_length)
        ig_buf_append_str(&out, "Connection: close\r\n");
    else if (!has_length)
        ig_buf_appendf(&out, "Content-Length: %zu\r\n", body_len);
    if (r->close && !r->no_length)
        ig_buf_append_str(&out, "Connection: close\r\n");
    ig_buf_append_str(&out, "\r\n");
    int rc = ig_ts_send_all(s, fd, out.data, out.len);
    ig_buf_free(&out);
    if (rc == 0 && !is_head && body_len)
        rc = ig_ts_send_all(s, fd, body, body_len);
    return rc;
}

static void ig_ts_record(ig_testsrv *s, ig_testsrv_request *req, const ig_testsrv_reply **reply)
{
    pthread_mutex_lock(&s->mu);
    size_t idx = (size_t)s->hits++;
    *reply = &s->script[idx < s->n_script ? idx : s->n_script - 1];
    if (s->n_requests == s->cap_requests) {
        size_t cap = s->cap_requests ? s->cap_requests * 2 : 16;
        ig_testsrv_request *p = realloc(s->requests, cap * sizeof *p);
        if (p) {
            s->requests = p;
            s->cap_requests = cap;
        }
    }
    if (s->n_requests < s->cap_requests)
        s->requests[s->n_requests++] = *req; /* moves ownership */
    else {
        ig_header_list_free(&req->headers);
        ig_buf_free(&req->body);
    }
    pthread_mutex_unlock(&s->mu);
}

static void *ig_ts_serve(void *arg)
{
    ig_ts_conn *c = arg;
    ig_testsrv *s = c->srv;
    ig_buf in;
    ig_buf_init(&in, 0);
    for (;;) {
        ig_testsrv_request req;
        memset(&req, 0, sizeof req);
        ig_header_list_init(&req.headers);
        ig_buf_init(&req.body, 0);
        if (ig_ts_read_request(s, c->fd, &in, &req) != 0) {
            ig_header_list_free(&req.headers);
            ig_buf_free(&req.body);
            break;
        }
        req.connection = c->number;
        req.received_ms = ig_now_ms();
        int is_head = strcmp(req.method, "HEAD") == 0;
        const ig_testsrv_reply *reply;
        ig_ts_record(s, &req, &reply);
        if (ig_ts_answer(s, c->fd, reply, is_head) != 0 || reply->close || reply->no_length)
            break;
    }
    ig_buf_free(&in);
    close(c->fd);
    return NULL;
}

static void *ig_ts_accept_loop(void *arg)
{
    ig_testsrv *s = arg;
    while (!s->stopping) {
        if (ig_ts_wait(s, s->listen_fd, POLLIN) != 0)
            break;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&s->mu);
        int n = s->connections;
        ig_ts_conn *c = n < IG_TS_MAX_CONN ? calloc(1, sizeof *c) : NULL;
        if (c) {
            c->srv = s;
            c->fd = fd;
            c->number = n + 1;
            s->conns[n] = c;
            if (pthread_create(&s->conn_threads[n], NULL, ig_ts_serve, c) == 0) {
                s->connections++;
            } else {
                s->conns[n] = NULL;
                free(c);
                c = NULL;
            }
        }
        pthread_mutex_unlock(&s->mu);
        if (!c)
            close(fd);
    }
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------------------------- */

static int ig_ts_listen(int *port_out)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        close(fd);
        return -1;
    }
    *port_out = ntohs(a.sin_port);
    return fd;
}

ig_testsrv *ig_testsrv_start(const ig_testsrv_reply *script, size_t n)
{
    if (!script || !n)
        return NULL;
    ig_testsrv *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->script = script;
    s->n_script = n;
    pthread_mutex_init(&s->mu, NULL);
    if ((s->listen_fd = ig_ts_listen(&s->port)) < 0) {
        free(s);
        return NULL;
    }
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
    if (pthread_create(&s->acceptor, NULL, ig_ts_accept_loop, s) != 0) {
        close(s->listen_fd);
        free(s);
        return NULL;
    }
    return s;
}

void ig_testsrv_stop(ig_testsrv *s)
{
    if (!s)
        return;
    s->stopping = 1;
    pthread_join(s->acceptor, NULL);
    close(s->listen_fd);
    for (int i = 0; i < s->connections; i++) {
        pthread_join(s->conn_threads[i], NULL);
        free(s->conns[i]);
    }
    for (size_t i = 0; i < s->n_requests; i++) {
        ig_header_list_free(&s->requests[i].headers);
        ig_buf_free(&s->requests[i].body);
    }
    free(s->requests);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int ig_testsrv_port(const ig_testsrv *s)
{
    return s->port;
}

const char *ig_testsrv_url(const ig_testsrv *s)
{
    return s->url;
}

int ig_testsrv_hits(ig_testsrv *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->hits;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int ig_testsrv_connections(ig_testsrv *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->connections;
    pthread_mutex_unlock(&s->mu);
    return n;
}

const ig_testsrv_request *ig_testsrv_request_at(ig_testsrv *s, size_t i)
{
    pthread_mutex_lock(&s->mu);
    const ig_testsrv_request *r = i < s->n_requests ? &s->requests[i] : NULL;
    pthread_mutex_unlock(&s->mu);
    return r;
}

int ig_testsrv_closed_port(void)
{
    int port = 0;
    int fd = ig_ts_listen(&port);
    if (fd < 0)
        return 1;
    close(fd);
    return port;
}
