/* procpng_encode.h - writes 8-bit RGB pixels as a PNG, fast and reproducible.
 *
 * bedrock-local answers with pictures whose weight matches real model output (about 1.4 MB
 * for 1024x1024), so the encoder spends no time on string matching: each scanline gets the
 * PNG "Sub" filter and zlib deflates with its Huffman-only strategy, one pass over the bytes.
 * The same pixels give the same bytes with the same zlib.
 */
#ifndef PROCPNG_ENCODE_H
#define PROCPNG_ENCODE_H

#include "core/buf.h"
#include "core/error.h"

/* Appends a complete PNG (signature, IHDR, one tEXt "Software" chunk, IDAT, IEND) for
 * width x height RGB pixels (rgb holds width * height * 3 bytes, rows top to bottom). */
ig_err procpng_encode_rgb(const unsigned char *rgb, unsigned width, unsigned height, ig_buf *out,
                          ig_error *err);

/* The same for width x height RGBA pixels (rgba holds width * height * 4 bytes, not
 * premultiplied): a PNG of colour type 6, for pictures with transparency. */
ig_err procpng_encode_rgba(const unsigned char *rgba, unsigned width, unsigned height, ig_buf *out,
                           ig_error *err);

#endif
