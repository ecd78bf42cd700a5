/* input.h - one input image of an edit body: base64 text in, checked pixels out.
 *
 * In this order, the first failure answering (a 400 ValidationException "Malformed input
 * request: #/image: ..., please reformat your input and try again."): the text is base64, the
 * bytes are no larger than the model takes, they are an image of a format the model takes, its
 * sides and pixel count and aspect ratio are within the model's limits (read from the header,
 * before any pixel memory is spent), and it decodes whole. These sentences are bedrock-local's
 * own: AWS documents the limits, not the messages that enforce them.
 */
#ifndef BEDROCK_LOCAL_INPUT_H
#define BEDROCK_LOCAL_INPUT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "schema.h"

/* The formats a model takes, as bits. */
#define BL_FORMAT_PNG (1u << 0)
#define BL_FORMAT_JPEG (1u << 1)
#define BL_FORMAT_WEBP (1u << 2)

typedef struct {
    unsigned formats;          /* BL_FORMAT_* bits */
    unsigned min_side;         /* each side at least this */
    unsigned max_side;         /* each side at most this; 0 = no bound */
    uint64_t min_pixels;       /* 0 = no bound */
    uint64_t max_pixels;       /* 0 = no bound */
    unsigned max_aspect_x10;   /* 25: between 1:2.5 and 2.5:1; 0 = no bound */
    size_t max_bytes;          /* of the decoded file; 0 = no bound */
} bl_image_limits;

/* Reads the base64 image in s (a JSON string) named by path ("#/image",
 * "#/imageVariationParams/images/0") into out. IG_OK, or IG_ERR_INVALID_ARG with the message
 * written (out left empty). */
ig_err bl_read_image(bl_msg *m, const json_t *s, const char *path, const bl_image_limits *lim,
                     bl_pixels *out);

/* The limits of a mask for an image read with lim: the same formats and upper bounds, no lower
 * bounds or aspect ratio, so that a mask of another size is reported as a mismatch. */
bl_image_limits bl_mask_limits(const bl_image_limits *lim);

/* "#/mask: the mask is 10x10 but the image is 20x20; ..." when the sizes differ. */
ig_err bl_check_same_size(bl_msg *m, const char *path, const bl_pixels *mask,
                          const bl_pixels *image);

#endif
