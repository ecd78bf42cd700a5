/* families.h - the body rules of each model family, behind bl_model_validate
 * (models.c picks the family). Private to bedrock-local's model sources. */
#ifndef BEDROCK_LOCAL_FAMILIES_H
#define BEDROCK_LOCAL_FAMILIES_H

#include <jansson.h>

#include "models.h"
#include "schema.h"

/* Titan Image Generator G1 v1/v2 and Nova Canvas: taskType TEXT_IMAGE, textToImageParams,
 * imageGenerationConfig; the edit task types go to bl_amazon_edit_validate. */
ig_err bl_amazon_validate(bl_msg *m, const bl_model *model, const json_t *body, bl_job *job);

/* The numbers a Titan or Nova body is checked with, shared by the text-to-image and the edit
 * task types. */
typedef struct {
    unsigned text_max;     /* characters of text and negativeText */
    double cfg_default;
    int64_t seed_max;
    int64_t seed_default;
} bl_amazon_limits;

void bl_amazon_limits_of(const bl_model *model, bl_amazon_limits *out);

/* INPAINTING, OUTPAINTING, IMAGE_VARIATION, BACKGROUND_REMOVAL (taskType already checked). */
ig_err bl_amazon_edit_validate(bl_msg *m, const bl_model *model, const char *task,
                               const json_t *body, bl_job *job);

/* SD3.5 Large, Stable Image Core, Stable Image Ultra: prompt, negative_prompt, aspect_ratio,
 * mode, seed, output_format; SD3.5's mode "image-to-image" goes to bl_service_validate. */
ig_err bl_stability_validate(bl_msg *m, const bl_model *model, const json_t *body, bl_job *job);

/* The aspect_ratio enum of the Stability models (NULL-terminated), and the size each gives. */
extern const char *const bl_stability_ratio_names[];
/* 1 with *w, *h set for a ratio of the enum; 0 otherwise. */
int bl_stability_ratio_size(const char *ratio, unsigned *w, unsigned *h);

/* A Stability seed of 0 means "random": here 1 .. 4,294,967,294 drawn from the prompt. */
uint64_t bl_stability_seed(const char *text, size_t len);

/* Stability's image services, and SD3.5 Large's image-to-image mode (mode "image-to-image");
 * mode NULL for the services. Fills job->edit. */
ig_err bl_service_validate(bl_msg *m, const char *model_id, const char *mode, const json_t *body,
                           bl_job *job);

/* 1 when the services table has rules for (model_id, mode). */
int bl_service_exists(const char *model_id, const char *mode);

#endif
