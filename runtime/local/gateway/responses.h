/* responses.h - API Gateway's own answers (gateway responses), in the API's error shape.
 *
 * What API Gateway refuses before the function runs, or cannot get from it, the deployed API
 * answers with the gateway responses of terraform/gateway_responses.tf:
 *
 *   {"error": {"code": "<code>", "message": "<sentence>", "requestId": "<API Gateway's request id>"}}
 *
 * plus x-amzn-ErrorType, as API Gateway sends it, and the CORS headers a gateway response can
 * carry: one static Access-Control-Allow-Origin (with -Headers and -Methods) when exactly one
 * origin, or "*", is allowed. The table in responses.c holds the same status, code and message
 * per response type as the Terraform file; integration.test_gateway compares the two.
 */
#ifndef GW_RESPONSES_H
#define GW_RESPONSES_H

#include <stddef.h>

/* What a gateway response's CORS headers allow besides the origin (as the Terraform file). */
#define GW_CORS_ALLOW_HEADERS "Content-Type,X-Api-Key,Authorization"
#define GW_CORS_ALLOW_METHODS "GET,POST,OPTIONS"

typedef enum {
    GW_NO_ROUTE,         /* MISSING_AUTHENTICATION_TOKEN: no route has this method and path */
    GW_BAD_API_KEY,      /* INVALID_API_KEY: x-api-key missing or unknown */
    GW_THROTTLED,        /* THROTTLED: every environment busy and the queue full */
    GW_TOO_LARGE,        /* REQUEST_TOO_LARGE: a body over 10 MB */
    GW_EVENT_TOO_LARGE,  /* the event over Lambda's 6 MB invocation payload */
    GW_TIMEOUT,          /* INTEGRATION_TIMEOUT: no answer within the integration timeout */
    GW_FAILURE,          /* INTEGRATION_FAILURE: a function error, crash, malformed answer, no environment */
    GW_RESPONSE_COUNT
} gw_response_kind;

typedef struct {
    const char *type;       /* API Gateway's response type, for logs */
    int status;
    const char *error_type; /* x-amzn-ErrorType */
    const char *code;
    const char *message;
} gw_response;

const gw_response *gw_response_get(gw_response_kind kind);

/* The JSON body for kind; message replaces the table's when not NULL. Caller frees; NULL when
 * out of memory. */
char *gw_response_body(gw_response_kind kind, const char *message, const char *request_id);

/* The message of GW_NO_ROUTE for a gateway serving routes (gw_routes_describe's list). */
void gw_response_no_route_message(const char *routes, char *out, size_t outlen);

#endif
