/* decode.c - PNG (libpng's simplified API), JPEG (libjpeg-turbo, straight to RGBA) and WebP
 * (libwebp) into 8-bit RGBA.
 *
 * libjpeg reports errors by calling error_exit, which by default prints and exits; here it
 * records the message and longjmps back to the one function that called setjmp (the pattern
 * of libjpeg's own example). Its warnings (corrupt data, a premature end of the file, after
 * which it pads the picture with grey) count as failures: a truncated JPEG is refused, as a
 * truncated PNG is.
 */
#include "decode.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h> /* jpeglib.h needs FILE */
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>

#include "codec/base64.h"

static ig_err fail(char *why, size_t size, ig_err code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static ig_err fail(char *why, size_t size, ig_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
    return code;
}

ig_err bl_image_unbase64(const char *text, size_t len, ig_buf *raw, char *why, size_t why_size)
{
    ig_error err;
    if (ig_base64_decode_buf(text, len, raw, &err) == IG_OK)
        return IG_OK;
    return fail(why, why_size, IG_ERR_BASE64, "is not valid base64 (%s)", err.message);
}

bl_image_info bl_image_probe(const void *data, size_t len)
{
    bl_image_info info = {IG_IMAGE_UNKNOWN, 0, 0};
    info.type = ig_image_sniff(data, len, &info.width, &info.height);
    return info;
}

ig_err bl_pixels_alloc(bl_pixels *p, unsigned width, unsigned height)
{
    memset(p, 0, sizeof *p);
    if (width == 0 || height == 0)
        return IG_ERR_INVALID_ARG;
    p->rgba = calloc((size_t)width * height, 4);
    if (!p->rgba)
        return IG_ERR_NOMEM;
    p->width = width;
    p->height = height;
    return IG_OK;
}

void bl_pixels_free(bl_pixels *p)
{
    free(p->rgba);
    memset(p, 0, sizeof *p);
}

/* ---- PNG ---- */

static ig_err decode_png(const void *data, size_t len, bl_pixels *out, char *why, size_t size)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, data, len))
        return fail(why, size, IG_ERR_IMAGE, "is not a readable PNG (%s)", img.message);
    int alpha = (img.format & PNG_FORMAT_FLAG_ALPHA) != 0;
    ig_err e = bl_pixels_alloc(out, img.width, img.height);
    if (e) {
        png_image_free(&img);
        return fail(why, size, e, "is too large to decode here");
    }
    img.format = PNG_FORMAT_RGBA;
    if (!png_image_finish_read(&img, NULL, out->rgba, 0, NULL)) {
        bl_pixels_free(out);
        return fail(why, size, IG_ERR_IMAGE, "is a truncated or corrupt PNG (%s)", img.message);
    }
    out->has_alpha = alpha;
    return IG_OK;
}

/* ---- JPEG ---- */

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} jpeg_failure;

static void jpeg_fail(j_common_ptr c)
{
    jpeg_failure *f = (jpeg_failure *)c->err;
    (*c->err->format_message)(c, f->message);
    longjmp(f->jump, 1);
}

/* level -1 is a warning about the data (corrupt, ended early): a failure here. */
static void jpeg_notice(j_common_ptr c, int level)
{
    if (level < 0)
        jpeg_fail(c);
}

/* Reads every scanline into out, which already has the frame's size. */
static void jpeg_read_rows(struct jpeg_decompress_struct *d, bl_pixels *out)
{
    size_t stride = (size_t)out->width * 4;
    while (d->output_scanline < d->output_height) {
        JSAMPROW row = out->rgba + (size_t)d->output_scanline * stride;
        jpeg_read_scanlines(d, &row, 1);
    }
}

static ig_err decode_jpeg(const void *data, size_t len, bl_pixels *out, char *why, size_t size)
{
    struct jpeg_decompress_struct d;
    jpeg_failure failure;
    memset(out, 0, sizeof *out);
    d.err = jpeg_std_error(&failure.pub);
    failure.pub.error_exit = jpeg_fail;
    failure.pub.emit_message = jpeg_notice;
    failure.message[0] = '\0';
    if (setjmp(failure.jump)) {
        jpeg_destroy_decompress(&d);
        bl_pixels_free(out);
        return fail(why, size, IG_ERR_IMAGE, "is a truncated or corrupt JPEG (%s)", failure.message);
    }
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, data, (unsigned long)len);
    jpeg_read_header(&d, TRUE);
    d.out_color_space = JCS_EXT_RGBA; /* CMYK cannot convert: error_exit says so */
    jpeg_start_decompress(&d);
    if (bl_pixels_alloc(out, d.output_width, d.output_height) != IG_OK) {
        jpeg_destroy_decompress(&d);
        return fail(why, size, IG_ERR_NOMEM, "is too large to decode here");
    }
    jpeg_read_rows(&d, out);
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    return IG_OK;
}

/* ---- WebP ---- */

static ig_err decode_webp(const void *data, size_t len, bl_pixels *out, char *why, size_t size)
{
    WebPBitstreamFeatures f;
    memset(out, 0, sizeof *out);
    if (WebPGetFeatures(data, len, &f) != VP8_STATUS_OK)
        return fail(why, size, IG_ERR_IMAGE, "is not a readable WebP");
    if (f.has_animation)
        return fail(why, size, IG_ERR_IMAGE, "is an animated WebP");
    ig_err e = bl_pixels_alloc(out, (unsigned)f.width, (unsigned)f.height);
    if (e)
        return fail(why, size, e, "is too large to decode here");
    size_t bytes = (size_t)out->width * out->height * 4;
    if (!WebPDecodeRGBAInto(data, len, out->rgba, bytes, (int)out->width * 4)) {
        bl_pixels_free(out);
        return fail(why, size, IG_ERR_IMAGE, "is a truncated or corrupt WebP");
    }
    out->has_alpha = f.has_alpha;
    return IG_OK;
}

ig_err bl_image_decode(const void *data, size_t len, bl_pixels *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    switch (ig_image_sniff(data, len, NULL, NULL)) {
    case IG_IMAGE_PNG: return decode_png(data, len, out, why, why_size);
    case IG_IMAGE_JPEG: return decode_jpeg(data, len, out, why, why_size);
    case IG_IMAGE_WEBP: return decode_webp(data, len, out, why, why_size);
    default: return fail(why, why_size, IG_ERR_IMAGE, "is not a PNG, JPEG or WebP image");
    }
}
