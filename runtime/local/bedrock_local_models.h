/* bedrock_local_models.h - the image models bedrock-local knows, and their request rules.
 *
 * Titan Image Generator G1 (v1, v2) and Nova Canvas, text-to-image only. A body is checked the
 * way the real models check it (JSON-schema style messages: "#/path: what is wrong") so that
 * a client that passes here sends bodies the real service accepts; every failure is a 400
 * ValidationException whose message is complete and ready to send.
 */
#ifndef BEDROCK_LOCAL_MODELS_H
#define BEDROCK_LOCAL_MODELS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef enum { BL_TITAN_V1, BL_TITAN_V2, BL_NOVA_CANVAS } bl_family;

typedef struct {
    const char *id; /* the model id as Bedrock spells it */
    bl_family family;
} bl_model;

/* A model id as received (already percent-decoded): a bare id or a foundation-model ARN
 * "arn:aws:bedrock:<region>::foundation-model/<id>" in the server's region. NULL if unknown. */
const bl_model *bl_model_find(const char *model_id, const char *region);

/* What a valid text-to-image body asks for. text points into the body document. */
typedef struct {
    const char *text;
    size_t text_len;
    uint64_t seed;
    unsigned width;
    unsigned height;
    unsigned count;
} bl_job;

/* Checks body against the model's rules and fills job. On a violation returns
 * IG_ERR_INVALID_ARG and writes the whole ValidationException message into message. */
ig_err bl_model_validate(const bl_model *m, const json_t *body, bl_job *job, char *message,
                         size_t message_size);

/* The message the model's content filter answers a blocked prompt with. */
const char *bl_model_blocked_message(const bl_model *m);

/* The message for a body that is not JSON at all. */
void bl_model_malformed_json(const json_error_t *jerr, char *message, size_t message_size);

/* Titan's permitted width x height pairs, for documentation and tests. */
size_t bl_titan_sizes(const unsigned (**sizes)[2]);

#endif
