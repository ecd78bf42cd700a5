/* routes.h - API Gateway resources and methods: which route a request matches.
 *
 * A route is "METHOD TEMPLATE" ("GET /generate-image"), or a bare template for every method
 * ("ANY"). A template is a path whose segments are literals, "{name}" (one segment) or, last,
 * "{name+}" (the rest of the path): "/{proxy+}" is a catch-all, "/" the root alone. The
 * templates are tried in the order given; the first whose path matches is the resource, and the
 * request's method must be one of that resource's. Anything else has no route: the deployed REST
 * API answers it 403 "Missing Authentication Token" (the gateway's missing_authentication_token),
 * never the function. A public route needs no API key (api_key_required = false), as GET /health
 * in the deployed API; every other one does when keys are on.
 */
#ifndef GW_ROUTES_H
#define GW_ROUTES_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"

typedef struct gw_routes gw_routes;

/* public_routes are routes too, tried after routes. A sentence in err for a route API Gateway
 * would not accept. */
gw_routes *gw_routes_new(char *const *routes, size_t n, char *const *public_routes, size_t n_public,
                         ig_error *err);
void gw_routes_free(gw_routes *r);

/* The resource template (owned by r) of the route method and path match and, in *params, a new
 * object of its path parameters or NULL when the resource has none; *is_public says whether it
 * needs no key. NULL (and no parameters) when no route matches. */
const char *gw_routes_match(const gw_routes *r, const char *method, const char *path, json_t **params,
                            int *is_public);

/* The routes as a sentence's list, the way API Gateway's error names them: "GET and POST
 * /generate-image, GET /models and GET /health" (OPTIONS left out: only browsers ask it). */
void gw_routes_describe(const gw_routes *r, char *out, size_t outlen);

#endif
