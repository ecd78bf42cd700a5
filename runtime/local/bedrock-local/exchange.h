/* exchange.h - what the bedrock-local server shares with its handlers (InvokeModel, the
 * control endpoints, the answers): the server's state, a request as received, and the trace
 * its log line is written from. The server (server.c) calls the handlers; the handlers never
 * call the server, so they include this header, not server.h.
 *
 * Log lines go through the core logger (core/log.h), which writes each line whole even from
 * several connection threads.
 */
#ifndef BEDROCK_LOCAL_EXCHANGE_H
#define BEDROCK_LOCAL_EXCHANGE_H

#include <stddef.h>

#include "cache.h"
#include "config.h"
#include "core/headers.h"
#include "faults.h"
#include "stats.h"

typedef struct {
    bl_config cfg;        /* fixed once the server runs */
    bl_faults *faults;
    bl_stats *stats;
    bl_cache *cache;
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

#endif
