/* families.h - the body rules of each model family, behind bl_model_validate
 * (models.c picks the family). Private to bedrock-local's model sources. */
#ifndef BEDROCK_LOCAL_FAMILIES_H
#define BEDROCK_LOCAL_FAMILIES_H

#include <jansson.h>

#include "models.h"
#include "schema.h"

/* Titan Image Generator G1 v1/v2 and Nova Canvas: taskType TEXT_IMAGE, textToImageParams,
 * imageGenerationConfig. */
ig_err bl_amazon_validate(bl_msg *m, const bl_model *model, const json_t *body, bl_job *job);

/* SD3.5 Large, Stable Image Core, Stable Image Ultra: prompt, negative_prompt, aspect_ratio,
 * mode, seed, output_format. */
ig_err bl_stability_validate(bl_msg *m, const json_t *body, bl_job *job);

#endif
