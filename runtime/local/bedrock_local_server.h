/* bedrock_local_server.h - the bedrock-local HTTP server: its settings, its shared state, and
 * the shape in which a received request reaches the InvokeModel and control handlers.
 *
 * libmicrohttpd runs one thread per connection (an injected delay or a slow picture holds up
 * only its own connection), keeps connections alive, and listens on 127.0.0.1 only.
 */
#ifndef BEDROCK_LOCAL_SERVER_H
#define BEDROCK_LOCAL_SERVER_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "bedrock_local_cache.h"
#include "bedrock_local_config.h"
#include "bedrock_local_faults.h"
#include "bedrock_local_stats.h"
#include "core/error.h"
#include "core/headers.h"
#include "core/log.h"

typedef struct {
    bl_config cfg;        /* fixed once the server runs */
    bl_faults *faults;
    bl_stats *stats;
    bl_cache *cache;
    pthread_mutex_t log_lock; /* one writer at a time on stdout */
    struct MHD_Daemon *daemon;
    unsigned port;        /* the port actually bound */
} bl_server;

/* A received request, as sent: path and query still percent-encoded (SigV4 signs them so). */
typedef struct {
    const char *method;
    const char *path;
    const char *query;        /* without '?'; "" when none */
    const ig_header *headers; /* every header received, names as sent */
    size_t n_headers;
    const char *body;
    size_t body_len;
    int body_too_large;       /* the body was over the cap and was not kept */
} bl_request;

/* What a request's log line says beyond method, path and status. */
typedef struct {
    const char *model_id;     /* the catalogue's spelling, as called (a profile id too), static */
    const char *format;       /* the pictures' encoding ("png", "jpeg", "webp"), static */
    unsigned images;
    unsigned cache_hits;
    bl_fault_kind fault;
    size_t prompt_chars;
    char *prompt;             /* a copy, only when prompts may be logged */
    double render_ms;
} bl_trace;

/* Creates the shared state and starts listening. On success s->port is the bound port. */
ig_err bl_server_start(bl_server *s, const bl_config *cfg, ig_error *err);
/* Stops listening, waits for the connection threads, frees the shared state. */
void bl_server_stop(bl_server *s);
/* Logs one line under the server's lock (the core logger writes a line in two calls). Steals
 * fields. */
void bl_server_log(bl_server *s, ig_log_level level, const char *message, json_t *fields);

#endif
