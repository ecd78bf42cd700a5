/* answer.h - a function's proxy response (payload 1.0) as the HTTP answer API Gateway sends.
 *
 * The payload must be a JSON object with an integer statusCode (100-599), optional headers
 * (name -> string) and multiValueHeaders (name -> [string]), merged with multiValueHeaders
 * winning for a name in both, a body that is a string or absent, and isBase64Encoded (the body
 * is then decoded). Anything else is a "Malformed Lambda proxy response": the client gets 502.
 */
#ifndef GW_ANSWER_H
#define GW_ANSWER_H

#include <jansson.h>

#include "core/buf.h"
#include "core/error.h"
#include "event.h"

typedef struct {
    int status;
    ig_header *headers; /* views into merged */
    size_t n_headers;
    ig_buf body;
    json_t *merged;   /* name -> [values], owns the header strings */
} gw_answer;

void gw_answer_init(gw_answer *a);
/* IG_ERR_PARSE with a sentence when the payload is not a well-formed proxy response. */
ig_err gw_answer_parse(const char *payload, size_t len, gw_answer *a, ig_error *err);
void gw_answer_free(gw_answer *a);

#endif
