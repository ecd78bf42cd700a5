/* http.h - API Gateway's client side: HTTP in, proxy event to the pool, HTTP out.
 *
 * Limits and errors follow a REST API with Lambda proxy integration and the deployed API's
 * gateway responses (responses.h): no route for the method and path is 403
 * missing_authentication_token; with API keys a missing or unknown x-api-key is 403 forbidden
 * (OPTIONS needs none); a body over 10 MB is 413 payload_too_large; a full queue is 429
 * throttled_by_gateway; a function error or a malformed proxy response is 502 bad_gateway; past
 * the integration timeout, 504 gateway_timeout. Every answer carries x-amzn-RequestId,
 * x-amz-apigw-id and X-Amzn-Trace-Id.
 */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include "core/error.h"
#include "config.h"
#include "keys.h"
#include "pool.h"
#include "routes.h"

/* API Gateway's payload limit. */
#define GW_HTTP_MAX_BODY ((size_t)10 * 1024 * 1024)

typedef struct gw_http gw_http;

/* Serves on listen_fd (from gw_listen, taken over), bound to port; keys may be NULL. */
gw_http *gw_http_start(const gw_config *cfg, gw_pool *pool, const gw_routes *routes, const gw_keys *keys,
                       int listen_fd, int port, ig_error *err);
/* Stops accepting connections; requests in flight go on. */
void gw_http_quiesce(gw_http *h);
/* Waits (at most 5 s) until the answers in flight are sent, then stops. */
void gw_http_stop(gw_http *h);

#endif
