/* image.h - recognizes PNG, JPEG and WebP by their signatures and reads their dimensions; checks
 * that an input image is whole; turns a PNG's alpha channel into an edit mask. */
#ifndef IG_IMAGE_H
#define IG_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

typedef enum { IG_IMAGE_UNKNOWN = 0, IG_IMAGE_PNG, IG_IMAGE_JPEG, IG_IMAGE_WEBP } ig_image_type;

/* The type of data[0..len); width and height (either may be NULL) are set when the header
 * carries them (PNG IHDR; JPEG SOFn; WebP VP8X, VP8L or VP8 key frame), else 0. */
ig_image_type ig_image_sniff(const void *data, size_t len, unsigned *width, unsigned *height);
const char *ig_image_content_type(ig_image_type t); /* "image/png", "image/jpeg", "image/webp", NULL */
const char *ig_image_extension(ig_image_type t);    /* "png", "jpg", "webp", NULL */
const char *ig_image_format_name(ig_image_type t);  /* "png", "jpeg", "webp", NULL */
/* The type a Content-Type names ("image/jpeg; ..." too); IG_IMAGE_UNKNOWN for anything else. */
ig_image_type ig_image_type_from_content_type(const char *content_type);

/* ---- Inspection of an input image (image_inspect.c) ----
 *
 * ig_image_inspect answers whether data[0..len) is a whole PNG, JPEG or WebP that a model can
 * be given, and what Lua may know of it. It reads the structure, never the pixels: every PNG
 * chunk (length in bounds, CRC, IHDR first, an IDAT, IEND), every JPEG marker segment (SOI, a
 * frame header, a scan, EOI), every WebP chunk (RIFF size, a VP8, VP8L or VP8X image). Linear
 * in len, and it never reads past len. Bytes after the end of the image proper (after IEND,
 * EOI or the RIFF container) are tolerated and counted: phones append data after a JPEG's EOI
 * (Motion Photo videos, MPF pictures, vendor trailers) and every decoder stops at the end
 * marker, so the image is whole. */

/* No side of an accepted image may exceed this (JPEG's own limit; no model takes more). */
#define IG_IMAGE_MAX_SIDE 65535u

typedef enum {
    IG_IMAGE_OK = 0,
    IG_IMAGE_EMPTY,     /* no bytes at all */
    IG_IMAGE_NOT_IMAGE, /* no PNG, JPEG or WebP signature */
    IG_IMAGE_TRUNCATED, /* the bytes stop before the image's end (the signature, IEND, EOI, RIFF size) */
    IG_IMAGE_CORRUPT,   /* the structure is broken: a CRC, a length, a header value, a missing chunk */
    IG_IMAGE_TOO_LARGE, /* a side over IG_IMAGE_MAX_SIDE */
} ig_image_verdict;

#define IG_IMAGE_MESSAGE_MAX 192

typedef struct {
    ig_image_verdict verdict;
    ig_image_type type;     /* the format its signature names, even when refused; UNKNOWN otherwise */
    unsigned width, height; /* from the header whenever it was read (refused or not), else 0 */
    int has_alpha;          /* PNG colour type 4 or 6 or a valid tRNS; WebP alpha flag, ALPH chunk or
                             * VP8L alpha hint; never for JPEG */
    size_t image_len;       /* IG_IMAGE_OK only: where the image ends; len - image_len bytes trail it */
    char message[IG_IMAGE_MESSAGE_MAX]; /* a sentence naming the problem; "" when IG_IMAGE_OK */
} ig_image_info;

ig_image_verdict ig_image_inspect(const void *data, size_t len, ig_image_info *out);

/* The input-image error word of a verdict: "empty", "not_image", "truncated" (for TRUNCATED and
 * CORRUPT alike: the word set has no "corrupt"; the message tells which), "too_large"; NULL for
 * IG_IMAGE_OK. */
const char *ig_image_verdict_word(ig_image_verdict v);

/* ---- The alpha channel of a PNG as an edit mask (image_mask.c, libpng) ----
 *
 * Decodes a PNG that carries alpha (colour type 4 or 6, or a tRNS chunk: palette, grey or RGB
 * colour key; any bit depth; interlaced or not) and appends to out_png an 8-bit greyscale PNG
 * of the same size: white (255) where alpha < 128 (16-bit alpha: < 32768), black (0) elsewhere;
 * inverted swaps the two. OpenAI's edit mask (transparent = edit here) becomes Stability's mask
 * (white = edit), and inverted Titan's and Nova's (black = edit).
 * The image's width x height must be at most max_pixels, checked from the header before any
 * pixel memory is allocated. Memory: one byte per pixel plus one decoded row.
 * Errors (out_png keeps its length): IG_ERR_IMAGE (not a PNG, or libpng could not decode it),
 * IG_ERR_INVALID_ARG (no alpha channel), IG_ERR_TOO_LARGE (over max_pixels, or out_png's cap),
 * IG_ERR_NOMEM; each with a sentence. */
#define IG_IMAGE_MASK_MAX_PIXELS (4096u * 4096u) /* 16.8 M pixels */

ig_err ig_image_alpha_mask_bounded(const void *png, size_t len, int inverted, size_t max_pixels,
                                   ig_buf *out_png, ig_error *err);
/* The same with max_pixels = IG_IMAGE_MASK_MAX_PIXELS. */
ig_err ig_image_alpha_mask(const void *png, size_t len, int inverted, ig_buf *out_png, ig_error *err);
/* How many pixels of a PNG with alpha are transparent (alpha < 128), as the mask would have
 * them white: an image whose alpha channel marks nothing gives 0. Same errors and budget as
 * ig_image_alpha_mask_bounded. */
ig_err ig_image_transparent_pixels(const void *png, size_t len, size_t max_pixels, uint64_t *count, ig_error *err);

#endif
