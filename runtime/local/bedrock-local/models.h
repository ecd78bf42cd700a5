/* models.h - the image models bedrock-local knows, where they are served, and
 * their request rules.
 *
 * Amazon's Titan Image Generator G1 (v1, v2) and Nova Canvas (text-to-image and the edit task
 * types INPAINTING, OUTPAINTING, IMAGE_VARIATION, BACKGROUND_REMOVAL), Stability AI's SD3.5
 * Large (text-to-image and image-to-image), Stable Image Core and Stable Image Ultra, and
 * Stability's thirteen image services (inpaint, outpaint, erase, search and replace or recolor,
 * remove background, three upscalers, style guide and transfer, sketch and structure control).
 * A body is checked the way the real models check it (JSON-schema style messages: "#/path: what
 * is wrong") so that a client that passes here sends bodies the real service accepts; every
 * failure is a 400 ValidationException whose message is complete and ready to send.
 *
 * The region the server stands for decides which models exist, as in Bedrock: us-west-2 serves
 * the Stability text-to-image models and Titan v1; us-east-1 Titan v1, Titan v2 and Nova Canvas.
 * The US cross-region inference profiles of the Stability models ("us." + id) are served in
 * us-east-1, us-east-2 and us-west-2. The image services exist in those three regions too, but
 * only through their profiles: their bare ids are "profile only" and a call by one is refused,
 * as Bedrock refuses it (docs/edit-services.md). Any other region serves nothing.
 */
#ifndef BEDROCK_LOCAL_MODELS_H
#define BEDROCK_LOCAL_MODELS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "procpng.h"

/* BL_STABILITY: the text-to-image models; BL_STABILITY_SERVICE: the image services. Both answer
 * in Stability's shape. */
typedef enum { BL_TITAN_V1, BL_TITAN_V2, BL_NOVA_CANVAS, BL_STABILITY, BL_STABILITY_SERVICE } bl_family;

typedef struct {
    const char *id;         /* the foundation-model id as Bedrock spells it */
    const char *profile_id; /* its US cross-region inference profile id, or NULL */
    bl_family family;
    unsigned regions;       /* where the foundation model exists (bits, see the .c) */
    int profile_only;       /* exists there, but is invoked only through profile_id */
} bl_model;

/* A model as one call names it. */
typedef struct {
    const bl_model *model;
    const char *id; /* model->id, or model->profile_id when called through the profile */
} bl_target;

/* Resolves a model id as received (already percent-decoded): a bare foundation-model id or
 * profile id, "arn:aws:bedrock:<region>::foundation-model/<id>", or
 * "arn:aws:bedrock:<region>:<account>:inference-profile/<profile id>", in the server's
 * region. 1 and *out set when the region serves it; 0 otherwise. */
int bl_model_find(const char *model_id, const char *region, bl_target *out);

/* The ids the region serves (foundation models, then profiles), as a new JSON array. */
json_t *bl_models_served(const char *region);

/* 1 when the family answers in Stability's shape ({"seeds", "finish_reasons", "images"}). */
int bl_model_is_stability(const bl_model *m);

/* 1 when the target names a profile-only model by its foundation-model id (or ARN): Bedrock
 * refuses such a call with ValidationException BL_ON_DEMAND_FMT. */
int bl_target_needs_profile(const bl_target *t);

/* Bedrock's sentence (known, with its typographic apostrophe), %s the model id as called. */
#define BL_ON_DEMAND_FMT                                                                          \
    "Invocation of model ID %s with on-demand throughput isn\u2019t supported. Retry your "       \
    "request with the ID or ARN of an inference profile that contains this model."

struct bl_edit;

/* What a valid body asks for. text points into the body document ("" when the body has no
 * prompt). */
typedef struct {
    const char *text;
    size_t text_len;
    uint64_t seed;   /* for Stability, never 0: a request seed of 0 (random) is drawn here */
    unsigned width;
    unsigned height;
    unsigned count;
    procpng_format format;
    struct bl_edit *edit; /* owned: the edit an edit body asks for (edit.h); NULL otherwise */
} bl_job;

/* Frees what the job owns (its edit). */
void bl_job_release(bl_job *job);

/* Checks body against the model's rules and fills job (release it with bl_job_release). On a
 * violation returns IG_ERR_INVALID_ARG, writes the whole ValidationException message into
 * message and leaves nothing to release. */
ig_err bl_model_validate(const bl_model *m, const json_t *body, bl_job *job, char *message,
                         size_t message_size);

/* The message Titan's or Nova's content filter answers a blocked prompt with (a 400). */
const char *bl_model_blocked_message(const bl_model *m);

/* The "error" member Titan or Nova adds to a 200 when it withheld generated images. */
const char *bl_model_output_filtered_message(const bl_model *m);

/* The message for a body that is not JSON at all. */
void bl_model_malformed_json(const json_error_t *jerr, char *message, size_t message_size);

/* Titan's permitted width x height pairs, for documentation and tests. */
size_t bl_titan_sizes(const unsigned (**sizes)[2]);

#endif
