/* edit.h - what a valid edit request asks for, and the picture it is answered with.
 *
 * The body checks (services.c for Stability's image services and SD3.5's image-to-image,
 * amazon_edit.c for the legacy Titan/Nova task types) decode the input images and turn the
 * request into a bl_edit: one operation, its inputs, its output size and a digest of what
 * makes the answer vary (model, seed, prompts). bl_edit_render then draws picture `index` of
 * the answer with the operations of transform.h and encodes it.
 *
 * The rules, which the tests check pixel by pixel:
 *   UPSCALE      the image resampled (nearest neighbour) to out_w x out_h, blended with the fill
 *                by `weight` (0 for fast upscale: every input pixel becomes a 4x4 block)
 *   FILL_REGION  region pixels become the fill; the others keep their bytes (inpaint, erase,
 *                search and replace, Titan/Nova inpainting and outpainting)
 *   RECOLOR      region pixels become their luma times a tint from the digest; others kept
 *   CUT_OUT      alpha 0 on the region (the background), 255 elsewhere; RGB kept; RGBA out
 *   OUTPAINT     the canvas grows by left/right/up/down; the image sits unchanged at (left, up)
 *   BLEND        the image resampled to out_w x out_h, blended with the fill by `weight`
 *                (image-to-image, sketch, structure, style guide, variation)
 *   TRANSFER     init_image blended with style_image (resampled to it) by `weight`, then with
 *                the fill by `weight2`, resampled to out_w x out_h
 */
#ifndef BEDROCK_LOCAL_EDIT_H
#define BEDROCK_LOCAL_EDIT_H

#include "decode.h"
#include "procpng.h"

typedef enum {
    BL_EDIT_UPSCALE,
    BL_EDIT_FILL_REGION,
    BL_EDIT_RECOLOR,
    BL_EDIT_CUT_OUT,
    BL_EDIT_OUTPAINT,
    BL_EDIT_BLEND,
    BL_EDIT_TRANSFER,
} bl_edit_op;

typedef struct bl_edit {
    bl_edit_op op;
    bl_pixels image;         /* image, init_image, or images[0] */
    bl_pixels second;        /* style_image (TRANSFER); empty otherwise */
    unsigned char *region;   /* width * height of image, 1 = edit; NULL when the op has none */
    unsigned out_w, out_h;
    unsigned weight;         /* 0..256 */
    unsigned weight2;        /* 0..256, TRANSFER only */
    unsigned left, right, up, down;
    unsigned char digest[32];
} bl_edit;

/* A new, empty edit (NULL when out of memory). */
bl_edit *bl_edit_new(bl_edit_op op);
void bl_edit_free(bl_edit *e);

/* digest = SHA-256 of the parts, each length-prefixed, so that no two lists of parts collide. */
void bl_edit_digest(bl_edit *e, const char *const *parts, const size_t *lens, size_t n);

/* Draws picture `index` (which varies the fill) and appends it, encoded, to out. CUT_OUT gives
 * PNG or WebP with alpha (JPEG cannot carry it: the body checks refuse it); every other op
 * gives RGB in the asked format. */
ig_err bl_edit_render(const bl_edit *e, unsigned index, procpng_format format, ig_buf *out,
                      ig_error *err);

#endif
