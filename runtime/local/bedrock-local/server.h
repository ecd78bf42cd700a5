/* server.h - the bedrock-local HTTP server: starts and stops it. What the handlers share
 * with it (the server's state, a received request, its log trace) is in exchange.h.
 *
 * libmicrohttpd runs one thread per connection (an injected delay or a slow picture holds up
 * only its own connection), keeps connections alive, and listens on 127.0.0.1 only.
 */
#ifndef BEDROCK_LOCAL_SERVER_H
#define BEDROCK_LOCAL_SERVER_H

#include "config.h"
#include "core/error.h"
#include "exchange.h"

/* Creates the shared state and starts listening. On success s->port is the bound port. */
ig_err bl_server_start(bl_server *s, const bl_config *cfg, ig_error *err);
/* Stops listening, waits for the connection threads, frees the shared state. */
void bl_server_stop(bl_server *s);

#endif
