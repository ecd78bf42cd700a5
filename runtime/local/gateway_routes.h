/* gateway_routes.h - API Gateway resources: which template a request path matches.
 *
 * A template is a path whose segments are literals, "{name}" (one segment) or, last,
 * "{name+}" (the rest of the path). Like the deployed API, the templates are tried in the
 * order given and every other path falls to the catch-all "/{proxy+}"; the root path "/"
 * is the resource "/".
 */
#ifndef GW_ROUTES_H
#define GW_ROUTES_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"

typedef struct gw_routes gw_routes;

gw_routes *gw_routes_new(char *const *templates, size_t n, ig_error *err);
void gw_routes_free(gw_routes *r);

/* The resource template path matches (owned by r) and, in *params, a new object of its path
 * parameters or NULL when the resource has none. */
const char *gw_routes_match(const gw_routes *r, const char *path, json_t **params);

#endif
