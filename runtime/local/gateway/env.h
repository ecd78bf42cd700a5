/* env.h - one execution environment as its Runtime API server sees it.
 *
 * The pool (pool.c) owns the environments and implements these calls; the Runtime API server
 * (rapi.c) makes them for the environment it serves. Keeping the contract here, apart from
 * both, lets each include it without including the other.
 */
#ifndef GW_ENV_H
#define GW_ENV_H

#include <stddef.h>
#include <stdint.h>

typedef struct gw_env gw_env;

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

#endif
