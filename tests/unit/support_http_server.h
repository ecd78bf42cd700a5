/* support_http_server.h - a scripted HTTP/1.1 server on a free 127.0.0.1 port, for tests.
 *
 * It answers the i-th request with script[i] (the last entry repeats), keeps connections alive
 * unless told to close, and records every request (method, target, lower-cased headers, body)
 * plus how many connections it accepted, so a test can assert hit counts, connection reuse and
 * exactly what went over the wire. Plain sockets and one thread per connection.
 */
#ifndef IG_SUPPORT_HTTP_SERVER_H
#define IG_SUPPORT_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/headers.h"

typedef struct {
    int status;            /* 0: 200 */
    const char *headers;   /* extra header lines, each ending in "\r\n"; NULL: none */
    const char *body;      /* NULL: empty */
    size_t body_len;       /* 0: strlen(body) */
    int delay_ms;          /* wait before answering */
    int close;             /* close the connection after the answer */
    int no_length;         /* no Content-Length: the body ends when the connection closes */
} ig_testsrv_reply;

typedef struct {
    char method[16];
    char target[4096];
    ig_header_list headers;
    ig_buf body;
    int connection;        /* 1-based number of the connection it came on */
    int64_t received_ms;   /* epoch ms */
} ig_testsrv_request;

typedef struct ig_testsrv ig_testsrv;

/* Copies nothing: script must outlive the server. NULL on failure. */
ig_testsrv *ig_testsrv_start(const ig_testsrv_reply *script, size_t n);
/* Stops accepting, closes every connection, joins the threads, frees everything. */
void ig_testsrv_stop(ig_testsrv *s);

int ig_testsrv_port(const ig_testsrv *s);
/* "http://127.0.0.1:<port>" */
const char *ig_testsrv_url(const ig_testsrv *s);
int ig_testsrv_hits(ig_testsrv *s);
int ig_testsrv_connections(ig_testsrv *s);
/* The i-th recorded request (0-based), or NULL. Valid until ig_testsrv_stop. */
const ig_testsrv_request *ig_testsrv_request_at(ig_testsrv *s, size_t i);

/* A port on 127.0.0.1 where nothing listens (bound, then closed). */
int ig_testsrv_closed_port(void);

#endif
