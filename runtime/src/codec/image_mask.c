/* image_mask.c - a PNG's alpha channel turned into a black-and-white edit mask (libpng).
 *
 * OpenAI's edit API marks the region to repaint by transparency; Stability's inpainting wants a
 * greyscale mask, white where it may paint, and Titan's and Nova's the same inverted. The
 * runtime makes that mask in C so that image bytes never enter Lua. This is the only file that
 * includes libpng.
 *
 * libpng does the decoding: its expand transform turns palette + tRNS, grey or RGB colour keys
 * and low bit depths into 8-bit channels with alpha last, strip_16 keeps the high byte of a
 * 16-bit sample, and interlace handling hands every Adam7 pass over as full-width rows in which
 * the pass's own pixels sit in their final columns. Each pass's pixels are thresholded into the
 * mask as they come, so memory is one byte per pixel plus one row, whatever the input format.
 *
 * libpng reports errors by longjmp. Each function that calls setjmp touches nothing after it
 * but libpng and state reached through a pointer to its caller's frame (the pattern of libpng's
 * own manual), so no local of the setjmp caller is modified between setjmp and longjmp.
 */
#include "codec/image.h"

#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MASK_EDIT 255 /* white: transparent input, the region to edit (Stability's convention) */
#define MASK_KEEP 0

typedef struct {
    const unsigned char *data;
    size_t len, at;
    ig_buf *out;            /* the writer's destination */
    ig_err write_error;     /* why out could not grow */
    char message[256];      /* libpng's error */
} mask_io;

/* The decoded mask: filled by mask_decode, owned by its caller. */
typedef struct {
    unsigned char *pixels; /* width * height, rows top to bottom */
    unsigned char *row;    /* one decoded row */
    png_uint_32 width, height;
    int has_alpha;
    int over_budget;
} mask_image;

static void on_error(png_structp png, png_const_charp msg)
{
    mask_io *io = png_get_error_ptr(png);
    snprintf(io->message, sizeof io->message, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png; /* damaged ancillary chunks and the like: the pixels are what matter */
    (void)msg;
}

static void read_bytes(png_structp png, png_bytep out, size_t n)
{
    mask_io *io = png_get_io_ptr(png);
    if (n > io->len - io->at)
        png_error(png, "the PNG ends before its image data does (truncated?)");
    memcpy(out, io->data + io->at, n);
    io->at += n;
}

static void write_bytes(png_structp png, png_bytep data, size_t n)
{
    mask_io *io = png_get_io_ptr(png);
    if ((io->write_error = ig_buf_append(io->out, data, n)) != IG_OK)
        png_error(png, "the mask does not fit its buffer");
}

static void flush_nothing(png_structp png)
{
    (void)png;
}

/* Thresholds the pixels of one decoded row that belong to this pass into the mask. */
static void mask_row(mask_image *m, png_uint_32 y, int pass, int passes, unsigned channels, int inverted)
{
    unsigned char edit = inverted ? MASK_KEEP : MASK_EDIT, keep = inverted ? MASK_EDIT : MASK_KEEP;
    unsigned char *dst = m->pixels + (size_t)y * m->width;
    const unsigned char *alpha = m->row + channels - 1;
    png_uint_32 x = 0, step = 1;
    if (passes > 1) {
        if (!PNG_ROW_IN_INTERLACE_PASS(y, pass))
            return;
        x = PNG_PASS_START_COL(pass);
        step = (png_uint_32)1 << PNG_PASS_COL_SHIFT(pass);
    }
    for (; x < m->width; x += step)
        dst[x] = alpha[(size_t)x * channels] < 128 ? edit : keep;
}

/* Reads the header, checks alpha and the budget, then every row of every pass. */
static ig_err mask_decode(png_structp png, png_infop info, mask_io *io, mask_image *m, size_t max_pixels,
                          int inverted)
{
    if (setjmp(png_jmpbuf(png)))
        return IG_ERR_IMAGE;
    png_set_read_fn(png, io, read_bytes);
    /* Only IHDR, PLTE, tRNS, IDAT and IEND matter: skip the rest unread (no iCCP or zTXt inflated). */
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
    png_read_info(png, info);
    m->width = png_get_image_width(png, info);
    m->height = png_get_image_height(png, info);
    m->has_alpha = (png_get_color_type(png, info) & PNG_COLOR_MASK_ALPHA) != 0 ||
                   png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    if (!m->has_alpha)
        return IG_ERR_INVALID_ARG;
    if ((uint64_t)m->width * m->height > max_pixels) {
        m->over_budget = 1;
        return IG_ERR_TOO_LARGE;
    }
    png_set_expand(png);
    png_set_strip_16(png);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    unsigned channels = png_get_channels(png, info);
    if (png_get_bit_depth(png, info) != 8 || (channels != 2 && channels != 4))
        png_error(png, "the decoded rows are not 8-bit grey+alpha or RGBA");
    m->pixels = malloc((size_t)m->width * m->height);
    m->row = malloc(png_get_rowbytes(png, info));
    if (!m->pixels || !m->row)
        return IG_ERR_NOMEM;
    for (int pass = 0; pass < passes; pass++)
        for (png_uint_32 y = 0; y < m->height; y++) {
            png_read_row(png, m->row, NULL);
            mask_row(m, y, pass, passes, channels, inverted);
        }
    return IG_OK;
}

/* Writes the mask as an 8-bit greyscale PNG. Masks are flat areas: rows filtered None or Up
 * (an unchanged row becomes zeros) deflate to almost nothing. */
static ig_err mask_encode(png_structp png, png_infop info, mask_io *io, const mask_image *m)
{
    if (setjmp(png_jmpbuf(png)))
        return io->write_error != IG_OK ? io->write_error : IG_ERR_IMAGE;
    png_set_write_fn(png, io, write_bytes, flush_nothing);
    png_set_IHDR(png, info, m->width, m->height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE | PNG_FILTER_UP);
    png_write_info(png, info);
    for (png_uint_32 y = 0; y < m->height; y++)
        png_write_row(png, m->pixels + (size_t)y * m->width);
    png_write_end(png, NULL);
    return IG_OK;
}

static ig_err read_mask(const void *png_data, size_t len, int inverted, size_t max_pixels, mask_image *m,
                        ig_error *err)
{
    mask_io io = {.data = png_data, .len = len};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return ig_error_set(err, IG_ERR_NOMEM, "no memory to decode the PNG");
    }
    ig_err e = mask_decode(png, info, &io, m, max_pixels, inverted);
    png_destroy_read_struct(&png, &info, NULL);
    switch (e) {
    case IG_OK:
        return IG_OK;
    case IG_ERR_INVALID_ARG:
        return ig_error_set(err, e, "the PNG has no alpha channel (no transparency), so it cannot serve as a mask");
    case IG_ERR_TOO_LARGE:
        return ig_error_set(err, e, "the PNG is %lux%lu pixels, over the mask budget of %zu pixels",
                            (unsigned long)m->width, (unsigned long)m->height, max_pixels);
    case IG_ERR_NOMEM:
        return ig_error_set(err, e, "no memory for a %lux%lu mask", (unsigned long)m->width,
                            (unsigned long)m->height);
    default:
        return ig_error_set(err, IG_ERR_IMAGE, "the PNG could not be decoded: %s", io.message);
    }
}

static ig_err write_mask(const mask_image *m, ig_buf *out, ig_error *err)
{
    mask_io io = {.out = out, .write_error = IG_OK};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &io, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return ig_error_set(err, IG_ERR_NOMEM, "no memory to encode the mask");
    }
    ig_err e = mask_encode(png, info, &io, m);
    png_destroy_write_struct(&png, &info);
    if (e == IG_OK)
        return IG_OK;
    if (e == IG_ERR_TOO_LARGE)
        return ig_error_set(err, e, "the %lux%lu mask is larger than its buffer's cap of %zu bytes",
                            (unsigned long)m->width, (unsigned long)m->height, out->max);
    if (e == IG_ERR_NOMEM)
        return ig_error_set(err, e, "no memory for the mask's PNG");
    return ig_error_set(err, IG_ERR_IMAGE, "the mask could not be encoded: %s", io.message);
}

ig_err ig_image_alpha_mask_bounded(const void *png, size_t len, int inverted, size_t max_pixels, ig_buf *out_png,
                                   ig_error *err)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (!png || len < sizeof signature || memcmp(png, signature, sizeof signature) != 0)
        return ig_error_set(err, IG_ERR_IMAGE, "a mask is made from a PNG's alpha channel, and the image is not a "
                            "PNG");
    mask_image m;
    memset(&m, 0, sizeof m);
    size_t before = out_png->len;
    ig_err e = read_mask(png, len, inverted, max_pixels, &m, err);
    if (e == IG_OK)
        e = write_mask(&m, out_png, err);
    if (e != IG_OK && out_png->data) {
        out_png->len = before;
        out_png->data[before] = '\0';
    }
    free(m.pixels);
    free(m.row);
    return e;
}

ig_err ig_image_alpha_mask(const void *png, size_t len, int inverted, ig_buf *out_png, ig_error *err)
{
    return ig_image_alpha_mask_bounded(png, len, inverted, IG_IMAGE_MASK_MAX_PIXELS, out_png, err);
}

ig_err ig_image_transparent_pixels(const void *png, size_t len, size_t max_pixels, uint64_t *count, ig_error *err)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    *count = 0;
    if (!png || len < sizeof signature || memcmp(png, signature, sizeof signature) != 0)
        return ig_error_set(err, IG_ERR_IMAGE, "the image is not a PNG");
    mask_image m;
    memset(&m, 0, sizeof m);
    ig_err e = read_mask(png, len, 0, max_pixels, &m, err);
    if (e == IG_OK) {
        size_t n = (size_t)m.width * m.height;
        for (size_t i = 0; i < n; i++)
            *count += m.pixels[i] == MASK_EDIT;
    }
    free(m.pixels);
    free(m.row);
    return e;
}
