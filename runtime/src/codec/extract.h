/* extract.h - finds the base64 images in a model's answer, where the policy's plan says.
 *
 * A path names them: "images" (an array of base64 strings, Titan, Nova Canvas and Stability),
 * "artifacts[].base64" (a member of each array element, SDXL). Segments are separated by
 * '.', and "name[]" walks every element of the array `name`.
 *
 * An answer holds megabytes of base64 in a few strings, so building a JSON tree of it costs
 * more than decoding the images. The answer is walked in place instead: the structure is
 * checked, every string is skipped with memchr, and the images are pointers into the body
 * (not NUL-terminated: use b64_len). Only when an image or the error string carries JSON
 * escapes is the answer parsed into a tree (jansson) and the pointers point into that.
 *
 * The error field is either a string member that speaks for the whole answer (Titan and Nova's
 * "error") or an array of string-or-null reasons, one per image (Stability's "finish_reasons":
 * a non-null reason means that image is missing). An absent image member means no images.
 */
#ifndef IG_EXTRACT_H
#define IG_EXTRACT_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"

#define IG_EXTRACT_MAX_IMAGES 16

typedef struct {
    json_t *doc;                               /* the parsed answer, when it had to be (owned) */
    const char *b64[IG_EXTRACT_MAX_IMAGES];    /* point into the body, or into doc */
    size_t b64_len[IG_EXTRACT_MAX_IMAGES];
    size_t count;
    const char *error;                         /* the plan's error_field, when a non-empty
                                                  string (NUL-terminated, maybe cut), or the
                                                  first non-null reason; else NULL */
    char error_buf[256];
    /* When the error field is an array (Stability's finish_reasons), one reason per image:
     * reasons[i] is NULL for a null (the image is fine), else the text (maybe cut). */
    size_t n_reasons;
    const char *reasons[IG_EXTRACT_MAX_IMAGES];
    char reason_buf[IG_EXTRACT_MAX_IMAGES][96];
} ig_extracted;

/* Walks body and collects the images; body must outlive out. IG_ERR_PARSE with a sentence when the answer is not
 * JSON or the path does not lead to strings; IG_ERR_INVALID_ARG for a malformed path. An
 * answer with zero images is IG_OK with count 0 (the caller decides what it means). */
ig_err ig_extract_images(const char *body, size_t len, const char *path, const char *error_field,
                         ig_extracted *out, ig_error *err);
void ig_extracted_free(ig_extracted *x);

#endif
