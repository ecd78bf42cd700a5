/* responses.c - the gateway responses as data, and their bodies. */
#include "responses.h"

#include <jansson.h>
#include <stdio.h>

/* Keep status, code and message equal to terraform/gateway_responses.tf. */
#define GW_TOO_LARGE_MESSAGE                                                                                       \
    "The request is larger than the API accepts (10 MB at API Gateway, about 6 MB at the function, where an "      \
    "inline image counts a third more as base64): upload large images with POST /uploads and edit them by their key."
static const gw_response gw_responses[GW_RESPONSE_COUNT] = {
    [GW_NO_ROUTE] = {"MISSING_AUTHENTICATION_TOKEN", 403, "MissingAuthenticationTokenException",
                     "missing_authentication_token", NULL /* from the routes: gw_response_no_route_message */},
    [GW_BAD_API_KEY] = {"INVALID_API_KEY", 403, "ForbiddenException", "forbidden",
                        "A valid API key is required: send it in the x-api-key header."},
    [GW_THROTTLED] = {"THROTTLED", 429, "TooManyRequestsException", "throttled_by_gateway",
                      "Too many requests: the API's request rate limit was exceeded; retry after a short wait."},
    [GW_TOO_LARGE] = {"REQUEST_TOO_LARGE", 413, "RequestEntityTooLargeException", "payload_too_large",
                      GW_TOO_LARGE_MESSAGE},
    [GW_EVENT_TOO_LARGE] = {"REQUEST_TOO_LARGE", 413, "RequestEntityTooLargeException", "payload_too_large",
                            GW_TOO_LARGE_MESSAGE},
    [GW_TIMEOUT] = {"INTEGRATION_TIMEOUT", 504, "InternalServerErrorException", "gateway_timeout",
                    "The image generation did not answer in time; retry, or ask for fewer images."},
    [GW_FAILURE] = {"INTEGRATION_FAILURE", 502, "InternalServerErrorException", "bad_gateway",
                    "The image generation function failed without an answer; retry, and report the requestId if "
                    "it persists."},
};

const gw_response *gw_response_get(gw_response_kind kind)
{
    return &gw_responses[kind < GW_RESPONSE_COUNT ? kind : GW_FAILURE];
}

char *gw_response_body(gw_response_kind kind, const char *message, const char *request_id)
{
    const gw_response *r = gw_response_get(kind);
    const char *text = message ? message : r->message ? r->message : "";
    json_t *doc = json_pack("{s:{s:s, s:s, s:s}}", "error", "code", r->code, "message", text, "requestId",
                            request_id);
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return body;
}

void gw_response_no_route_message(const char *routes, char *out, size_t outlen)
{
    snprintf(out, outlen, "No route matches this method and path: the API serves %s.", routes);
}
