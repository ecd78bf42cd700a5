/* gateway_pool.h - the Lambda service, locally: execution environments and the invocations they run.
 *
 * Each of N slots holds one execution environment: a function process with its own Runtime
 * API port. Invocations wait in a bounded queue until an environment asks for the next one;
 * the pool enforces the function timeout (the environment is killed and replaced), notices
 * crashes (the invocation fails, the replacement starts cold), fails invocations when init
 * fails, and backs off before restarting a function that keeps failing its init.
 *
 * Threads: client threads call gw_pool_invoke; Runtime API threads call gw_env_*; the main
 * thread alone calls gw_pool_tick (it spawns, kills and reaps) and gw_pool_shutdown.
 */
#ifndef GW_POOL_H
#define GW_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "gateway_config.h"

typedef struct gw_pool gw_pool;
typedef struct gw_env gw_env;

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

/* Client side: runs event (taken over, malloc'd) and blocks until a result or the timeout. */
void gw_pool_invoke(gw_pool *p, char *event, size_t len, const char *trace_root, gw_result *out);

/* --- the Runtime API side, called by gateway_rapi.c for the environment it serves --- */

typedef struct {
    char request_id[37];
    int64_t deadline_ms;
    char function_arn[256];
    char trace_id[128];
    const char *event;      /* valid until gw_env_next_release */
    size_t event_len;
    void *hold;
} gw_next;

/* Blocks until an invocation is assigned (0) or the environment is going away (-1). A runtime
 * that asks for the next event while one is still open gets 403 (*status). */
int gw_env_next(gw_env *env, gw_next *out, int *status);
void gw_env_next_release(gw_env *env, gw_next *n);

typedef struct {
    int status;             /* 202, 400, 403, 413 */
    const char *error_type; /* for a status other than 202 */
    const char *message;
} gw_post_outcome;

/* body is taken over (malloc'd, may be NULL); too_large: the body passed the 6 MB limit. */
gw_post_outcome gw_env_post_response(gw_env *env, const char *request_id, char *body, size_t len,
                                     int too_large);
gw_post_outcome gw_env_post_error(gw_env *env, const char *request_id, const char *error_type,
                                  const char *body, size_t len);
gw_post_outcome gw_env_post_init_error(gw_env *env, const char *error_type, const char *body, size_t len);

/* "Runtime.Reason" or "Function.Reason" as the Runtime Interface Emulator accepts them; any
 * other value becomes Runtime.Unknown (Function.Unknown when it starts with "Function."). */
void gw_error_type_normalise(const char *in, char *out, size_t outlen);

#endif
