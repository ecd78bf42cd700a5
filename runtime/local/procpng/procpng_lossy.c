/* procpng_lossy.c - JPEG through libjpeg-turbo and WebP through libwebp, both writing straight
 * into the caller's buffer.
 *
 * libjpeg reports errors by calling error_exit, which by default prints and calls exit(); here
 * it records the message and longjmps back to the one function that called setjmp, which
 * touches nothing but the compressor (the libjpeg documentation's own pattern) and puts the
 * buffer back to its length before the call.
 */
#include "procpng_lossy.h"

#include <setjmp.h>
#include <stdio.h> /* jpeglib.h needs FILE */
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>
#include <webp/encode.h>

#define JPEG_CHUNK (64u * 1024u) /* bytes handed to libjpeg at a time */
#define WEBP_METHOD 2            /* libwebp's speed/size trade-off: 0 fastest .. 6 smallest */

/* ---- JPEG ---- */

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} jpeg_failure;

/* A destination manager that grows an ig_buf. */
typedef struct {
    struct jpeg_destination_mgr pub;
    ig_buf *out;
    size_t given;     /* bytes offered to libjpeg at the last refill */
    ig_err grow_error; /* why the buffer could not grow, IG_OK while it could */
} jpeg_sink;

static void jpeg_fail(j_common_ptr c)
{
    jpeg_failure *f = (jpeg_failure *)c->err;
    (*c->err->format_message)(c, f->message);
    longjmp(f->jump, 1);
}

static void jpeg_quiet(j_common_ptr c)
{
    (void)c; /* warnings (corrupt data and the like) cannot arise when compressing our pixels */
}

static void sink_offer(j_compress_ptr c)
{
    jpeg_sink *s = (jpeg_sink *)c->dest;
    if ((s->grow_error = ig_buf_reserve(s->out, JPEG_CHUNK)) != IG_OK)
        ERREXIT1(c, JERR_OUT_OF_MEMORY, 1);
    s->pub.next_output_byte = (JOCTET *)s->out->data + s->out->len;
    s->pub.free_in_buffer = JPEG_CHUNK;
    s->given = JPEG_CHUNK;
}

static void sink_init(j_compress_ptr c)
{
    sink_offer(c);
}

static boolean sink_full(j_compress_ptr c)
{
    jpeg_sink *s = (jpeg_sink *)c->dest;
    s->out->len += s->given; /* libjpeg calls this only when the whole offer is used */
    sink_offer(c);
    return TRUE;
}

static void sink_term(j_compress_ptr c)
{
    jpeg_sink *s = (jpeg_sink *)c->dest;
    s->out->len += s->given - s->pub.free_in_buffer;
    s->out->data[s->out->len] = '\0';
}

static void jpeg_write_rows(j_compress_ptr c, const unsigned char *rgb, unsigned width,
                            unsigned height)
{
    c->image_width = width;
    c->image_height = height;
    c->input_components = 3;
    c->in_color_space = JCS_RGB;
    jpeg_set_defaults(c);
    jpeg_set_quality(c, PROCPNG_JPEG_QUALITY, TRUE);
    jpeg_start_compress(c, TRUE);
    size_t stride = (size_t)width * 3;
    while (c->next_scanline < c->image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)c->next_scanline * stride);
        jpeg_write_scanlines(c, &row, 1);
    }
    jpeg_finish_compress(c);
}

/* Runs libjpeg on state that lives in the caller's frame: after a longjmp back here, nothing
 * but that state (reached through the unchanged pointers) is read, so no local of a function
 * calling setjmp is read after being changed (C11 7.13.2.1). 1 when libjpeg failed. */
static int jpeg_run(struct jpeg_compress_struct *c, jpeg_failure *failure, const unsigned char *rgb,
                    unsigned width, unsigned height)
{
    if (setjmp(failure->jump)) {
        jpeg_destroy_compress(c);
        return 1;
    }
    jpeg_create_compress(c);
    c->dest = c->client_data;
    jpeg_write_rows(c, rgb, width, height);
    jpeg_destroy_compress(c);
    return 0;
}

ig_err procpng_encode_jpeg(const unsigned char *rgb, unsigned width, unsigned height, ig_buf *out,
                           ig_error *err)
{
    if (!rgb || width == 0 || height == 0 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION)
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "a JPEG needs pixels and a size from 1x1 to %dx%d",
                            (int)JPEG_MAX_DIMENSION, (int)JPEG_MAX_DIMENSION);
    const size_t start = out->len;
    struct jpeg_compress_struct c;
    jpeg_failure failure;
    jpeg_sink sink;
    memset(&sink, 0, sizeof sink);
    sink.pub.init_destination = sink_init;
    sink.pub.empty_output_buffer = sink_full;
    sink.pub.term_destination = sink_term;
    sink.out = out;
    c.err = jpeg_std_error(&failure.pub);
    failure.pub.error_exit = jpeg_fail;
    failure.pub.output_message = jpeg_quiet;
    failure.message[0] = '\0';
    c.client_data = &sink.pub; /* jpeg_create_compress keeps err and client_data */
    if (!jpeg_run(&c, &failure, rgb, width, height))
        return IG_OK;
    ig_err code = sink.grow_error                             ? sink.grow_error
                  : failure.pub.msg_code == JERR_OUT_OF_MEMORY ? IG_ERR_NOMEM
                                                               : IG_ERR_INVALID_ARG;
    if (out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    if (sink.grow_error)
        return ig_error_set(err, code, "could not encode a %ux%u JPEG: the output could not grow (%s)", width,
                            height, ig_strerror(code));
    return ig_error_set(err, code, "could not encode a %ux%u JPEG: %s", width, height, failure.message);
}

/* ---- WebP ---- */

typedef struct {
    ig_buf *out;
    ig_err grow_error; /* why the buffer could not grow, IG_OK while it could */
} webp_writer;

static int webp_sink(const uint8_t *data, size_t size, const WebPPicture *picture)
{
    webp_writer *w = picture->custom_ptr;
    return (w->grow_error = ig_buf_append(w->out, data, size)) == IG_OK;
}

static const char *webp_error(WebPEncodingError e)
{
    switch (e) {
    case VP8_ENC_ERROR_OUT_OF_MEMORY: return "out of memory";
    case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY: return "out of memory for the bitstream";
    case VP8_ENC_ERROR_BAD_DIMENSION: return "bad dimensions";
    default: return "the encoder failed";
    }
}

/* Lossy WebP of bpp-byte pixels: 3 (RGB) or 4 (RGBA, whose alpha plane libwebp compresses
 * losslessly at its default alpha_quality of 100). */
static ig_err encode_webp(const unsigned char *px, unsigned width, unsigned height, int bpp,
                          ig_buf *out, ig_error *err)
{
    if (!px || width == 0 || height == 0 || width > WEBP_MAX_DIMENSION || height > WEBP_MAX_DIMENSION)
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "a WebP needs pixels and a size from 1x1 to %dx%d", WEBP_MAX_DIMENSION,
                            WEBP_MAX_DIMENSION);
    WebPConfig config;
    WebPPicture picture;
    if (!WebPConfigInit(&config) || !WebPPictureInit(&picture))
        return ig_error_set(err, IG_ERR_INVALID_ARG, "libwebp's version does not match its headers");
    config.quality = PROCPNG_WEBP_QUALITY;
    config.method = WEBP_METHOD;
    picture.use_argb = 0; /* lossy: import straight to YUV 4:2:0 */
    picture.width = (int)width;
    picture.height = (int)height;
    webp_writer writer = {out, IG_OK};
    picture.writer = webp_sink;
    picture.custom_ptr = &writer;
    const size_t start = out->len;
    ig_err e = IG_OK;
    int imported = bpp == 4 ? WebPPictureImportRGBA(&picture, px, (int)width * 4)
                            : WebPPictureImportRGB(&picture, px, (int)width * 3);
    if (!imported)
        e = ig_error_set(err, IG_ERR_NOMEM, "could not import a %ux%u picture into libwebp", width,
                         height);
    else if (!WebPEncode(&config, &picture))
        e = ig_error_set(err,
                         writer.grow_error ? writer.grow_error
                         : picture.error_code == VP8_ENC_ERROR_OUT_OF_MEMORY ? IG_ERR_NOMEM
                                                                             : IG_ERR_INVALID_ARG,
                         "could not encode a %ux%u WebP: %s", width, height,
                         writer.grow_error ? ig_strerror(writer.grow_error)
                                           : webp_error(picture.error_code));
    WebPPictureFree(&picture);
    if (e && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    return e;
}

ig_err procpng_encode_webp(const unsigned char *rgb, unsigned width, unsigned height, ig_buf *out,
                           ig_error *err)
{
    return encode_webp(rgb, width, height, 3, out, err);
}

ig_err procpng_encode_webp_rgba(const unsigned char *rgba, unsigned width, unsigned height,
                                ig_buf *out, ig_error *err)
{
    return encode_webp(rgba, width, height, 4, out, err);
}
