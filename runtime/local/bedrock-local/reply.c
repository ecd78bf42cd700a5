/* reply.c - building answers; error bodies go through jansson so that any text
 * (an echoed value, say) is encoded, never spliced. */
#include "reply.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void bl_reply_init(bl_reply *r)
{
    r->status = 500;
    r->error_code = NULL;
    r->error_namespace = NULL;
    r->content_type = "application/json";
    r->allow = NULL;
    ig_buf_init(&r->body, 0);
    r->delivery = BL_DELIVER_WHOLE;
}

void bl_reply_free(bl_reply *r)
{
    ig_buf_free(&r->body);
}

static void bl_reply_set_json(bl_reply *r, json_t *doc)
{
    ig_buf_reset(&r->body);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    /* Only allocation can fail here; an empty object keeps the answer well-formed. */
    ig_buf_append_str(&r->body, text ? text : "{}");
    free(text);
    json_decref(doc);
}

void bl_reply_error(bl_reply *r, int status, const char *code, const char *ns, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    r->status = status;
    r->error_code = code;
    r->error_namespace = ns;
    r->content_type = "application/json";
    r->delivery = BL_DELIVER_WHOLE;
    json_t *msg = json_string(message);
    if (!msg) /* not UTF-8: an echoed value was binary; say so rather than lose the answer */
        msg = json_string("The request could not be processed (message not valid UTF-8).");
    bl_reply_set_json(r, json_pack("{s:o}", "message", msg));
}

void bl_reply_validation(bl_reply *r, const char *message)
{
    bl_reply_error(r, 400, "ValidationException", BL_NS_BEDROCK, "%s", message);
}

void bl_reply_json(bl_reply *r, int status, json_t *doc)
{
    r->status = status;
    r->error_code = NULL;
    r->error_namespace = NULL;
    r->content_type = "application/json";
    r->delivery = BL_DELIVER_WHOLE;
    bl_reply_set_json(r, doc);
}
