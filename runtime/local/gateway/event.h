/* event.h - an HTTP request as API Gateway's REST proxy event, payload format 1.0.
 *
 * Fields API Gateway leaves empty are JSON null, not {} (queryStringParameters,
 * multiValueQueryStringParameters, pathParameters, stageVariables, headers when there are
 * none), as a function sees them in the cloud. Header names keep the client's spelling;
 * "headers" holds the last value of each name and "multiValueHeaders" every value in order.
 * A body whose media type is not text (or that is not UTF-8) travels base64-encoded with
 * isBase64Encoded true, as an API whose binaryMediaTypes list every type but text ones.
 */
#ifndef GW_EVENT_H
#define GW_EVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/headers.h"

typedef struct {
    const char *method;
    const char *path;            /* decoded, starts with '/' */
    const char *protocol;        /* "HTTP/1.1" */
    const ig_header *headers;    /* as the client sent them, plus those API Gateway adds */
    size_t n_headers;
    const ig_header *query;      /* decoded */
    size_t n_query;
    const char *body;            /* NULL or body_len bytes */
    size_t body_len;
    const char *resource;        /* the matching template */
    json_t *path_parameters;     /* borrowed; NULL for none */
    const char *stage;
    const char *request_id;      /* API Gateway's request id (uuid) */
    const char *extended_request_id;
    const char *api_id;
    const char *account_id;
    const char *domain_name;
    const char *source_ip;
    const char *api_key;         /* NULL without API keys */
    const char *api_key_id;
    int64_t time_ms;             /* when the request arrived, epoch ms */
    char *const *binary_media_types; /* the API's binary media types (none: every body is text) */
    size_t n_binary_media_types;
} gw_request;

/* The event as JSON text (caller frees), or NULL when out of memory. */
char *gw_event_build(const gw_request *r, size_t *len);

/* The last value of name among h[0..n) (case-insensitive), or NULL: a repeated header's
 * single value in the event is its last one. */
const char *gw_header_last(const ig_header *h, size_t n, const char *name);

/* 1 when API Gateway would pass a body of this Content-Type base64-encoded: it matches one of
 * types (an exact type such as image/png, a family such as image/ followed by a star, or any). */
int gw_media_type_is_binary(const char *content_type, char *const *types, size_t n_types);

/* A JSON string of s[0..len); bytes that are not UTF-8 become U+FFFD. Never NULL but on OOM. */
json_t *gw_json_text(const char *s, size_t len);

/* "29/Nov/2026:14:20:55 +0000" into out (at least 27 bytes). */
void gw_format_request_time(int64_t epoch_ms, char *out, size_t outlen);

#endif
