/* rapi.h - the Lambda Runtime API (2018-06-01) that one execution environment talks to.
 *
 * Each environment gets its own server on its own 127.0.0.1 port (its AWS_LAMBDA_RUNTIME_API),
 * so a request's port says which environment is calling. Status codes and error bodies follow
 * the Runtime Interface Emulator: 202 {"status":"OK"}, 400 InvalidRequestID, 403
 * InvalidStateTransition, 413 RequestEntityTooLarge past 6,291,556 bytes.
 */
#ifndef GW_RAPI_H
#define GW_RAPI_H

#include "core/error.h"
#include "env.h"

/* Lambda's limit on a synchronous response: 6 MiB plus the RIE's 100 bytes of slack. */
#define GW_RAPI_MAX_RESPONSE ((size_t)6 * 1024 * 1024 + 100)

typedef struct gw_rapi gw_rapi;

/* Starts the server for env on a free port, written to *port. */
gw_rapi *gw_rapi_start(gw_env *env, int *port, ig_error *err);
/* Stops it; every blocked GET /next must have been released first (see gw_env stopping). */
void gw_rapi_stop(gw_rapi *r);

#endif
