/* extract.h - finds the base64 images in a model's answer, where the policy's plan says.
 *
 * A path names them: "images" (an array of base64 strings, Titan and Nova Canvas),
 * "artifacts[].base64" (a member of each array element, SDXL). Segments are separated by
 * '.', and "name[]" walks every element of the array `name`.
 */
#ifndef IG_EXTRACT_H
#define IG_EXTRACT_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"

#define IG_EXTRACT_MAX_IMAGES 16

typedef struct {
    json_t *doc;                               /* the parsed answer (owned) */
    const char *b64[IG_EXTRACT_MAX_IMAGES];    /* point into doc */
    size_t b64_len[IG_EXTRACT_MAX_IMAGES];
    size_t count;
    const char *error;                         /* the plan's error_field, when a string; else NULL */
} ig_extracted;

/* Parses body and collects the images. IG_ERR_PARSE with a sentence when the answer is not
 * JSON or the path does not lead to strings; IG_ERR_INVALID_ARG for a malformed path. An
 * answer with zero images is IG_OK with count 0 (the caller decides what it means). */
ig_err ig_extract_images(const char *body, size_t len, const char *path, const char *error_field,
                         ig_extracted *out, ig_error *err);
void ig_extracted_free(ig_extracted *x);

#endif
