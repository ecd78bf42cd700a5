/* transform.h - the pixel operations bedrock-local's edit answers are made of.
 *
 * A real image service imagines; bedrock-local must instead answer with something a test can
 * check exactly, so every edit is built from these plain, deterministic operations on 8-bit
 * RGBA pictures (bl_pixels): nearest-neighbour resampling, a procedural fill drawn from a
 * digest (of the seed and the prompts), blending, and per-pixel regions (a mask, an alpha
 * channel, the "subject": pixels that differ from the top-left corner's colour).
 *
 * A region is one byte per pixel, 1 = edit, 0 = keep.
 */
#ifndef BEDROCK_LOCAL_TRANSFORM_H
#define BEDROCK_LOCAL_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"

/* A pixel is background when no channel of its RGB differs from the top-left pixel's by more
 * than this. */
#define BL_BACKGROUND_TOLERANCE 32

/* The largest w x h of the input's aspect ratio within `pixels`:
 *   W = isqrt(floor(pixels * w / h)), H = floor(W * h / w)
 * (so W * H <= pixels; integer arithmetic throughout, as a test recomputes it). */
void bl_fit_pixels(unsigned w, unsigned h, uint64_t pixels, unsigned *out_w, unsigned *out_h);

/* dst (allocated here, dst_w x dst_h) = src sampled at (x * src_w / dst_w, y * src_h / dst_h). */
ig_err bl_resample(const bl_pixels *src, unsigned dst_w, unsigned dst_h, bl_pixels *dst);

/* The fill colour at (x, y) for a digest: diagonal stripes of two colours the digest picks,
 * of a width it picks too. Independent of the picture's size, so a canvas grown by outpainting
 * has the same fill wherever it is drawn. */
void bl_fill_at(const unsigned char digest[32], unsigned x, unsigned y, unsigned char rgb[3]);

/* Every pixel of p (RGB; alpha set to 255) whose region byte is 1 (or every pixel when region is
 * NULL) becomes the fill; the others keep their bytes. */
void bl_fill_region(bl_pixels *p, const unsigned char *region, const unsigned char digest[32]);

/* p = p * (256 - weight) / 256 + fill * weight / 256, rounded, per RGB channel; weight 0..256.
 * Alpha becomes 255. */
void bl_blend_fill(bl_pixels *p, unsigned weight, const unsigned char digest[32]);

/* p = p * (256 - weight) / 256 + q * weight / 256 (q the same size); alpha becomes 255. */
void bl_blend(bl_pixels *p, const bl_pixels *q, unsigned weight);

/* A weight 0..256 from a fraction 0..1. */
unsigned bl_weight(double fraction);

/* A new region (malloc'd, width * height bytes) where each pixel's RGB luma ((299 R + 587 G +
 * 114 B) / 1000) compares with 128: `white_edits` 1 means luma >= 128 is edited, 0 that luma
 * < 128 is. NULL when out of memory. */
unsigned char *bl_region_from_luma(const bl_pixels *mask, int white_edits);

/* A new region: alpha < 128 is edited (transparent = edit, as Stability derives a mask). */
unsigned char *bl_region_from_alpha(const bl_pixels *p);

/* A new region: 1 on the subject (pixels that are not background, see BL_BACKGROUND_TOLERANCE),
 * or, with invert, 1 on the background. */
unsigned char *bl_region_subject(const bl_pixels *p, int invert);

/* Grows a region by `by` pixels in every direction (a square: Chebyshev distance), in place. */
ig_err bl_region_grow(unsigned char *region, unsigned width, unsigned height, unsigned by);

/* Recolours the region: each pixel's luma times the tint, per channel (/ 255). */
void bl_tint_region(bl_pixels *p, const unsigned char *region, const unsigned char tint[3]);

/* Alpha 0 on the region, 255 elsewhere; RGB untouched. */
void bl_clear_region_alpha(bl_pixels *p, const unsigned char *region);

/* A new picture (left + w + right) x (up + h + down): the fill, with src copied unchanged at
 * (left, up). */
ig_err bl_extend(const bl_pixels *src, unsigned left, unsigned right, unsigned up, unsigned down,
                 const unsigned char digest[32], bl_pixels *dst);

/* Packs RGBA into RGB in place (the first width * height * 3 bytes). */
void bl_pixels_to_rgb(bl_pixels *p);

#endif
