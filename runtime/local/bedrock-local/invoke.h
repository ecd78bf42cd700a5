/* invoke.h - POST /model/{modelId}/invoke, in the order the real service checks:
 * signature, model id, access, body, content filter; then injected faults; then pictures. */
#ifndef BEDROCK_LOCAL_INVOKE_H
#define BEDROCK_LOCAL_INVOKE_H

#include "reply.h"
#include "exchange.h"

/* The longest body Bedrock accepts (request and response). */
#define BL_BODY_MAX 25000000u

/* encoded_model_id: the {modelId} path segment as sent (percent-encoded). */
void bl_invoke(bl_server *s, const bl_request *req, const char *encoded_model_id, bl_reply *reply,
               bl_trace *trace);

#endif
