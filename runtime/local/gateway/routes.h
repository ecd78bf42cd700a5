/* routes.h - API Gateway resources: which template a request path matches.
 *
 * A template is a path whose segments are literals, "{name}" (one segment) or, last,
 * "{name+}" (the rest of the path). Like the deployed API, the templates are tried in the
 * order given and every other path falls to the catch-all "/{proxy+}"; the root path "/"
 * is the resource "/". A public resource needs no API key (api_key_required = false), as
 * /health in the deployed API; every other one does when keys are on.
 */
#ifndef GW_ROUTES_H
#define GW_ROUTES_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"

typedef struct gw_routes gw_routes;

/* public_templates are resources too, tried after templates. */
gw_routes *gw_routes_new(char *const *templates, size_t n, char *const *public_templates, size_t n_public,
                         ig_error *err);
void gw_routes_free(gw_routes *r);

/* The resource template path matches (owned by r) and, in *params, a new object of its path
 * parameters or NULL when the resource has none; *is_public says whether it needs no key. */
const char *gw_routes_match(const gw_routes *r, const char *path, json_t **params, int *is_public);

#endif
