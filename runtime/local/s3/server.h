/* server.h - s3-verify's HTTP side: receives a request whole, has auth.c (or post.c, for a
 * browser upload's form) check it, answers a refusal with S3's XML error, and passes the rest to
 * s3rver (upstream.c) and its answer back.
 *
 * One thread per connection (libmicrohttpd), 127.0.0.1 only, paths and queries kept exactly as
 * sent (a signature covers them so). One JSON log line per request; never its query, which holds
 * a presigned URL's signature and session token.
 */
#ifndef S3V_SERVER_H
#define S3V_SERVER_H

#include "config.h"
#include "core/error.h"

typedef struct s3v_server s3v_server;

/* Starts listening; the bound port is in *port. */
s3v_server *s3v_server_start(const s3v_config *cfg, unsigned *port, ig_error *err);
/* Stops: s3rver calls in progress are abandoned, the connections closed. */
void s3v_server_stop(s3v_server *s);

#endif
