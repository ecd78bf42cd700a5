/* upstream.c - one HTTP/1.0 exchange with s3rver over a plain socket. */
#include "upstream.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "httpd.h"

/* Slices of waiting, so that a stopping server does not wait for a hung s3rver. */
#define S3V_POLL_SLICE_MS 100
/* The largest answer read: a whole object comes back in one. */
#define S3V_MAX_ANSWER ((size_t)1024 * 1024 * 1024)

void s3v_answer_init(s3v_answer *a)
{
    memset(a, 0, sizeof *a);
    ig_buf_init(&a->raw, S3V_MAX_ANSWER);
}

void s3v_answer_free(s3v_answer *a)
{
    free(a->headers);
    ig_buf_free(&a->raw);
    memset(a, 0, sizeof *a);
}

/* Headers that belong to one hop (RFC 9110 7.6.1), or that this hop writes itself. */
static int hop_header(const char *name)
{
    static const char *const hop[] = {"connection", "keep-alive", "expect", "transfer-encoding", "te",
                                      "upgrade", "proxy-connection", "proxy-authorization", "content-length"};
    for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++)
        if (strcasecmp(name, hop[i]) == 0)
            return 1;
    return 0;
}

static ig_err request_text(const s3v_request *req, ig_buf *out)
{
    ig_buf_appendf(out, "%s %s%s%s HTTP/1.0\r\n", req->method, req->path, req->query[0] ? "?" : "", req->query);
    for (size_t i = 0; i < req->n_headers; i++)
        if (!hop_header(req->headers[i].name))
            ig_buf_appendf(out, "%s: %s\r\n", req->headers[i].name, req->headers[i].value);
    if (req->body_len || strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0)
        ig_buf_appendf(out, "Content-Length: %zu\r\n", req->body_len);
    ig_buf_append_str(out, "Connection: close\r\n\r\n");
    return ig_buf_append(out, req->body ? req->body : "", req->body_len);
}

/* Waits until fd is ready for events; IG_ERR_TIMEOUT past deadline_ms or when stopping. */
static ig_err wait_fd(int fd, short events, int64_t deadline_ms, const volatile int *stop, ig_error *err)
{
    for (;;) {
        if (*stop)
            return ig_error_set(err, IG_ERR_TIMEOUT, "s3-verify is stopping");
        int64_t left = deadline_ms - ig_mono_ms();
        if (left <= 0)
            return ig_error_set(err, IG_ERR_TIMEOUT, "s3rver did not answer in time");
        struct pollfd p = {fd, events, 0};
        int n = poll(&p, 1, (int)(left < S3V_POLL_SLICE_MS ? left : S3V_POLL_SLICE_MS));
        if (n > 0)
            return IG_OK;
        if (n < 0 && errno != EINTR)
            return ig_error_set(err, IG_ERR_CONNECT, "poll: %s", strerror(errno));
    }
}

static ig_err connect_to(int port, int *fd_out, ig_error *err)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ig_error_set(err, IG_ERR_CONNECT, "socket: %s", strerror(errno));
    struct sockaddr_in addr;
    lo_loopback_address(&addr, port);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int saved = errno;
        close(fd);
        return ig_error_set(err, IG_ERR_CONNECT, "cannot connect to s3rver on 127.0.0.1:%d: %s", port,
                            strerror(saved));
    }
    *fd_out = fd;
    return IG_OK;
}

static ig_err send_all(int fd, const ig_buf *text, int64_t deadline_ms, const volatile int *stop, ig_error *err)
{
    for (size_t sent = 0; sent < text->len;) {
        ig_err e = wait_fd(fd, POLLOUT, deadline_ms, stop, err);
        if (e)
            return e;
        ssize_t n = send(fd, text->data + sent, text->len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno != EINTR && errno != EAGAIN)
            return ig_error_set(err, IG_ERR_CONNECT, "sending to s3rver: %s", strerror(errno));
        sent += n > 0 ? (size_t)n : 0;
    }
    return IG_OK;
}

static ig_err read_all(int fd, ig_buf *raw, int64_t deadline_ms, const volatile int *stop, ig_error *err)
{
    char chunk[65536];
    for (;;) {
        ig_err e = wait_fd(fd, POLLIN, deadline_ms, stop, err);
        if (e)
            return e;
        ssize_t n = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n == 0)
            return IG_OK;
        if (n < 0 && errno != EINTR && errno != EAGAIN)
            return ig_error_set(err, IG_ERR_CONNECT, "reading from s3rver: %s", strerror(errno));
        if (n > 0 && ig_buf_append(raw, chunk, (size_t)n) != IG_OK)
            return ig_error_set(err, IG_ERR_TOO_LARGE, "s3rver's answer is over %zu bytes", S3V_MAX_ANSWER);
    }
}

/* The end of the head: the first "\r\n\r\n" in s[0..len), or NULL. */
static char *head_end(char *s, size_t len)
{
    for (size_t i = 0; i + 4 <= len; i++)
        if (s[i] == '\r' && memcmp(s + i, "\r\n\r\n", 4) == 0)
            return s + i;
    return NULL;
}

/* Splits raw into status, headers and body, in place. */
static ig_err parse_answer(s3v_answer *a, const char *method, ig_error *err)
{
    char *data = a->raw.data;
    char *end = data ? head_end(data, a->raw.len) : NULL;
    if (!end || a->raw.len < 12 || strncmp(data, "HTTP/1.", 7) != 0)
        return ig_error_set(err, IG_ERR_PARSE, "s3rver's answer is not HTTP");
    *end = '\0';
    a->body = end + 4;
    a->body_len = a->raw.len - (size_t)(a->body - data);
    a->status = atoi(data + 9);
    size_t max = 1;
    for (char *c = data; *c; c++)
        max += *c == '\n';
    a->headers = calloc(max, sizeof *a->headers);
    if (!a->headers)
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    char *line = strstr(data, "\r\n");
    while (line) {
        *line = '\0';
        line += 2;
        char *next = strstr(line, "\r\n");
        char *colon = strchr(line, ':');
        if (colon) {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            a->headers[a->n_headers++] = (ig_header){line, v};
        }
        line = next;
    }
    if (a->status < 100 || a->status > 599)
        return ig_error_set(err, IG_ERR_PARSE, "s3rver's answer has no status");
    if (ig_headers_find(a->headers, a->n_headers, "transfer-encoding"))
        return ig_error_set(err, IG_ERR_PARSE, "s3rver answered with a transfer coding");
    const char *length = ig_headers_find(a->headers, a->n_headers, "content-length");
    if (length && strcmp(method, "HEAD") != 0 && strtoull(length, NULL, 10) != a->body_len)
        return ig_error_set(err, IG_ERR_PARSE, "s3rver's answer was cut short: %zu of %s bytes", a->body_len, length);
    return IG_OK;
}

ig_err s3v_forward(int port, const s3v_request *req, int timeout_ms, const volatile int *stop, s3v_answer *out,
                   ig_error *err)
{
    int64_t deadline = ig_mono_ms() + timeout_ms;
    ig_buf text;
    ig_buf_init(&text, 0);
    int fd = -1;
    ig_err e = request_text(req, &text);
    if (e)
        e = ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    if (!e)
        e = connect_to(port, &fd, err);
    if (!e)
        e = send_all(fd, &text, deadline, stop, err);
    if (!e)
        e = read_all(fd, &out->raw, deadline, stop, err);
    if (!e)
        e = parse_answer(out, req->method, err);
    if (fd >= 0)
        close(fd);
    ig_buf_free(&text);
    return e;
}
