/* event.h - turns an API Gateway REST proxy event (payload format 1.0) into the `req` table
 * the Lua policy sees (see runtime/policy/README.md for its fields).
 *
 * Parsed defensively: null maps become {}, header names are lower-cased, a base64 body is
 * decoded, a JSON body is parsed (and its parse error kept as a sentence for the policy), and
 * nothing in the event can crash or confuse the runtime.
 */
#ifndef IG_EVENT_H
#define IG_EVENT_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"

/* Largest body accepted from an event (API Gateway itself stops at 10 MB; Lambda at 6 MB). */
#define IG_EVENT_BODY_MAX (10u * 1024u * 1024u)

/* What the policy may be handed at most: query parameters (names, and values of repeated
 * names), and values in a JSON body (members and elements, nested). A request over either keeps
 * its route, method and headers, loses its query and body, and carries req.too_large, a
 * sentence for the 413 the runtime answers without calling admit(). */
#define IG_EVENT_MAX_PARAMS 100u
#define IG_EVENT_MAX_VALUES 1000u

/* On success *req_out is a new JSON object. A malformed event gives IG_ERR_PARSE with a
 * sentence; *req_out is then NULL.
 *
 * A JSON body is parsed into req.body (req.body_format "json") and kept as text in
 * req.raw_body. A multipart/form-data body is not given to the policy: its bytes are appended
 * to body_out (an initialised buffer; NULL drops them) and req.body_format is "multipart". */
ig_err ig_event_to_request(const char *event, size_t len, json_t **req_out, ig_buf *body_out, ig_error *err);

#endif
