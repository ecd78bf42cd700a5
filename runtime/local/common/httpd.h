/* httpd.h - what the local servers share around libmicrohttpd: a request exactly as it
 * travelled (the form a SigV4 signature covers), the loopback address they all listen on, and
 * the stop signals.
 *
 * bedrock-local and s3-verify verify signatures, so they need the path and query as sent:
 * lo_keep_escapes (an MHD_OPTION_UNESCAPE_CALLBACK) keeps every %XX escape and '+' as it came,
 * lo_received_headers and lo_received_query read the rest.
 */
#ifndef LO_HTTPD_H
#define LO_HTTPD_H

#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/headers.h"

/* 127.0.0.1:port. */
void lo_loopback_address(struct sockaddr_in *addr, int port);

/* MHD_OPTION_UNESCAPE_CALLBACK that leaves paths and query arguments as sent. */
size_t lo_keep_escapes(void *cls, struct MHD_Connection *c, char *s);

/* Every header of the request, names and values as received, in a new array of *n (free it);
 * NULL when out of memory. */
ig_header *lo_received_headers(struct MHD_Connection *c, size_t *n);

/* The query string as sent, without '?', rebuilt from the arguments (escapes kept by
 * lo_keep_escapes), appended to q. */
void lo_received_query(struct MHD_Connection *c, ig_buf *q);

/* Takes one piece of a request's body (an access handler's upload data) into body, within the
 * buffer's cap: past it, the body is dropped, *too_large set, and the rest is read and thrown
 * away, so that the connection stays usable for the answer. */
void lo_received_body(ig_buf *body, int *too_large, const char *upload, size_t *upload_size);

/* Blocks SIGINT and SIGTERM in this thread and every thread created after (call it before any),
 * so that only a sigwait on *set receives them; ignores SIGPIPE. */
void lo_block_stop_signals(sigset_t *set);

/* "SIGINT", "SIGTERM", "SIGHUP", or "signal". */
const char *lo_signal_name(int sig);

#endif
