/* upstream.h - a request that passed the checks, sent on to s3rver, and s3rver's answer.
 *
 * The request travels as received (method, path and query as sent, every header but the hop's
 * own: Connection, Keep-Alive, Expect, Transfer-Encoding, TE, Upgrade, Proxy-*), as HTTP/1.0
 * with "Connection: close" and the body's Content-Length, on a new connection to 127.0.0.1.
 * The answer is read to the end of the connection: its status, headers and body, whole, so an
 * answer cut short is never passed on as if it were complete.
 */
#ifndef S3V_UPSTREAM_H
#define S3V_UPSTREAM_H

#include <stddef.h>

#include "auth.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/headers.h"

typedef struct {
    int status;
    ig_header *headers; /* views into raw */
    size_t n_headers;
    const char *body;   /* into raw */
    size_t body_len;
    ig_buf raw;
} s3v_answer;

void s3v_answer_init(s3v_answer *a);
void s3v_answer_free(s3v_answer *a);

/* Sends req to 127.0.0.1:port and reads the answer, giving up after timeout_ms or when *stop
 * becomes nonzero. IG_ERR_CONNECT, IG_ERR_TIMEOUT or IG_ERR_PARSE with a sentence on failure. */
ig_err s3v_forward(int port, const s3v_request *req, int timeout_ms, const volatile int *stop, s3v_answer *out,
                   ig_error *err);

#endif
