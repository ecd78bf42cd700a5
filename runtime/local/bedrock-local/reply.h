/* reply.h - one answer of bedrock-local, built before any byte goes on the wire.
 *
 * Every part of the server (control endpoints, authentication, validation, fault injection,
 * image generation) produces a bl_reply; only the HTTP layer turns it into a response. Errors
 * take AWS's rest-json shape: the status, an x-amzn-ErrorType header "<Code>:<namespace>",
 * and a body {"message": "..."}.
 */
#ifndef BEDROCK_LOCAL_REPLY_H
#define BEDROCK_LOCAL_REPLY_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"

/* How the answer leaves: whole, cut short after the headers promised the full length, or not
 * at all (the connection is reset). The last two exist for fault injection. */
typedef enum { BL_DELIVER_WHOLE, BL_DELIVER_TRUNCATED, BL_DELIVER_RESET } bl_delivery;

/* The namespaces AWS puts after the error code: the service's own, and the front end's
 * (authentication and routing). */
#define BL_NS_BEDROCK "http://internal.amazon.com/coral/com.amazon.bedrock/"
#define BL_NS_CORAL "http://internal.amazon.com/coral/com.amazon.coral.service/"

typedef struct {
    int status;
    const char *error_code;      /* static string, NULL on success */
    const char *error_namespace; /* static string, NULL for none */
    const char *content_type;    /* static string */
    const char *allow;           /* static string: the Allow header of a 405, else NULL */
    ig_buf body;
    bl_delivery delivery;
} bl_reply;

void bl_reply_init(bl_reply *r);
void bl_reply_free(bl_reply *r);

/* An AWS error: status, code, namespace, and {"message": <printf-formatted text>}. Replaces
 * whatever the reply held. */
void bl_reply_error(bl_reply *r, int status, const char *code, const char *ns, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Shorthand for a Bedrock ValidationException (400). */
void bl_reply_validation(bl_reply *r, const char *message);

/* A JSON document (stolen) as a 200, or with the given status. */
void bl_reply_json(bl_reply *r, int status, json_t *doc);

#endif
