/* response.h - builds the API Gateway proxy response (payload format 1.0) that bootstrap posts
 * to the Runtime API: {"statusCode", "headers", "body", "isBase64Encoded"}.
 */
#ifndef IG_RESPONSE_H
#define IG_RESPONSE_H

#include <jansson.h>

#include "core/buf.h"
#include "core/error.h"

/* Lambda's synchronous response limit (6 MB), envelope included. */
#define IG_RESPONSE_MAX_BYTES (6u * 1024u * 1024u)

/* Turns the policy's answer {status, headers, body} into a proxy response in out. A status
 * outside 100..599, a header name or value that could break HTTP, a body that is neither a
 * string nor a table, or an answer over 6 MB gives IG_ERR_POLICY with a sentence. */
ig_err ig_response_from_answer(json_t *answer, ig_buf *out, ig_error *err);

/* Puts large values the policy only placed by reference into the answer's body: every string
 * equal to a key of payloads becomes that payload (inline images, which never enter Lua). */
void ig_response_fill(json_t *answer, json_t *payloads);

/* The runtime's own answer, used only when the policy cannot answer:
 * {"error":{"code","message","requestId"}} with Content-Type application/json, and, when
 * allow_origin is not NULL (an origin the policy allows), Access-Control-Allow-Origin with it
 * and Vary: Origin, as every documented error carries. */
ig_err ig_response_fallback(int status, const char *code, const char *message, const char *request_id,
                            const char *allow_origin, ig_buf *out);

#endif
