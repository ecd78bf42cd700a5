/* decode.h - the input images of an edit request, turned into pixels.
 *
 * The image services and the legacy Titan/Nova edit tasks take their images as base64 text
 * inside the JSON body. bedrock-local must look at those pixels to answer with a transform a
 * test can check (an upscale of the right size, a mask honoured pixel for pixel), so it decodes
 * them: PNG with libpng, JPEG with libjpeg-turbo, WebP with libwebp (Debian's libraries), always
 * into 8-bit RGBA whatever the file's own layout (palette, grey, 16-bit, CMYK is refused).
 *
 * Decoding is in two steps so that the caller can check the limits a model sets on the
 * dimensions (which the header carries) before any pixel memory is spent: bl_image_probe
 * reads the format and size, bl_image_decode the pixels.
 */
#ifndef BEDROCK_LOCAL_DECODE_H
#define BEDROCK_LOCAL_DECODE_H

#include <stddef.h>

#include "codec/image.h"
#include "core/buf.h"
#include "core/error.h"

/* The sentence of a failure, ready to follow "#/image: ". */
#define BL_DECODE_WHY_MAX 256

typedef struct {
    ig_image_type type;  /* IG_IMAGE_UNKNOWN when the bytes are no PNG, JPEG or WebP */
    unsigned width;      /* from the header; 0 when it could not be read */
    unsigned height;
} bl_image_info;

typedef struct {
    unsigned width;
    unsigned height;
    unsigned char *rgba; /* width * height * 4 bytes, rows top to bottom, not premultiplied */
    int has_alpha;       /* the file carries transparency (an alpha channel or a tRNS chunk) */
} bl_pixels;

/* Decodes base64 text (standard alphabet, padding as base64 allows) into raw. IG_OK or
 * IG_ERR_BASE64 with why filled. */
ig_err bl_image_unbase64(const char *text, size_t len, ig_buf *raw, char *why, size_t why_size);

/* The format and header dimensions of data[0..len). */
bl_image_info bl_image_probe(const void *data, size_t len);

/* Decodes the whole image into out (RGBA). IG_OK; otherwise IG_ERR_IMAGE (corrupt or truncated
 * data, an unsupported layout) or IG_ERR_NOMEM, with why filled, and out left empty. */
ig_err bl_image_decode(const void *data, size_t len, bl_pixels *out, char *why, size_t why_size);

/* A new blank w x h RGBA picture (all zero); IG_ERR_NOMEM when it cannot be had. */
ig_err bl_pixels_alloc(bl_pixels *p, unsigned width, unsigned height);

void bl_pixels_free(bl_pixels *p);

#endif
