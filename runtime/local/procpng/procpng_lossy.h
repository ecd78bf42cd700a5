/* procpng_lossy.h - writes 8-bit RGB pixels as a baseline JPEG (libjpeg-turbo) or a lossy WebP
 * (libwebp), for models asked for output_format "jpeg" or "webp".
 *
 * Both are deterministic (the same pixels give the same bytes with the same library) and
 * quick: a 1024x1024 picture encodes in tens of milliseconds. Neither library may exit or
 * print: their errors come back as an ig_err with a sentence.
 */
#ifndef PROCPNG_LOSSY_H
#define PROCPNG_LOSSY_H

#include "core/buf.h"
#include "core/error.h"

#define PROCPNG_JPEG_QUALITY 90
#define PROCPNG_WEBP_QUALITY 85

/* Appends a JFIF JPEG (4:2:0, quality PROCPNG_JPEG_QUALITY) of width x height RGB pixels. */
ig_err procpng_encode_jpeg(const unsigned char *rgb, unsigned width, unsigned height, ig_buf *out,
                           ig_error *err);

/* Appends a RIFF/WEBP file (lossy VP8, quality PROCPNG_WEBP_QUALITY) of the pixels. */
ig_err procpng_encode_webp(const unsigned char *rgb, unsigned width, unsigned height, ig_buf *out,
                           ig_error *err);

/* The same for RGBA pixels (width * height * 4 bytes): lossy colour and a lossless alpha plane
 * (VP8X + ALPH), so that an alpha of exactly 0 or 255 reads back as written. */
ig_err procpng_encode_webp_rgba(const unsigned char *rgba, unsigned width, unsigned height,
                                ig_buf *out, ig_error *err);

#endif
