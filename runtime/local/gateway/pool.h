/* pool.h - the Lambda service, locally: execution environments and the invocations they run.
 *
 * Each of N slots holds one execution environment: a function process with its own Runtime
 * API port. Invocations wait in a bounded queue until an environment asks for the next one;
 * the pool enforces the function timeout (the environment is killed and replaced), notices
 * crashes (the invocation fails, the replacement starts cold), fails invocations when init
 * fails, and backs off before restarting a function that keeps failing its init.
 *
 * Threads: client threads call gw_pool_invoke, the asynchronous queue's runners (async.h)
 * gw_pool_run_event; Runtime API threads call the gw_env_* functions
 * of env.h; the main thread alone calls gw_pool_tick (it spawns, kills and reaps) and
 * gw_pool_shutdown.
 */
#ifndef GW_POOL_H
#define GW_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "config.h"

typedef struct gw_pool gw_pool;

typedef enum {
    GW_RESULT_RESPONSE,       /* payload holds what the function posted */
    GW_RESULT_FUNCTION_ERROR, /* /error, a crash, an oversized response, a function timeout */
    GW_RESULT_TIMEOUT,        /* the integration timeout passed first */
    GW_RESULT_THROTTLED,      /* every environment busy and the queue full */
    GW_RESULT_UNAVAILABLE,    /* no environment can start (init failures), or shutting down */
} gw_result_kind;

typedef struct {
    gw_result_kind kind;
    char request_id[37];   /* the Lambda request id */
    char env[16];          /* the environment that ran it, "" when none */
    char error_type[64];   /* for a function error or an unavailable function */
    char *payload;         /* GW_RESULT_RESPONSE: caller frees */
    size_t payload_len;
} gw_result;

gw_pool *gw_pool_new(const gw_config *cfg, ig_error *err);
/* Stops every environment (SIGTERM, then SIGKILL after 2 s), fails what is queued. */
void gw_pool_shutdown(gw_pool *p);
void gw_pool_free(gw_pool *p);

/* Main thread, every few milliseconds: reaps, enforces timeouts, (re)spawns. Returns 1 the
 * first time every slot's first environment has reached next or failed its init. */
int gw_pool_tick(gw_pool *p);

/* Main thread: a new generation of environments (after a policy change). Each slot's
 * environment retires: one running an invocation finishes it, then every retiring one is
 * stopped; a new environment starts in each slot at once and takes every new or queued
 * invocation. Returns how many new environments started. */
int gw_pool_recycle(gw_pool *p);

/* Client side: runs event (taken over, malloc'd) and blocks until a result or the timeout. */
void gw_pool_invoke(gw_pool *p, char *event, size_t len, const char *trace_root, gw_result *out);

/* An asynchronous invocation's attempt: runs event (taken over) as request_id (a retry keeps
 * its event's id, as Lambda's do) and blocks until its result, however long it waits for an
 * environment; once it runs, the function timeout applies (GW_RESULT_FUNCTION_ERROR or
 * GW_RESULT_TIMEOUT with "Sandbox.Timedout"). A full queue is GW_RESULT_THROTTLED at once. */
void gw_pool_run_event(gw_pool *p, char *event, size_t len, const char *request_id, const char *trace_root,
                       gw_result *out);

#endif
