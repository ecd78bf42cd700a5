/* test_procpng_lossy.c - bedrock-local's JPEG and WebP encoders: the files decode (with the
 * libraries' own decoders) to the requested size and to pixels close to the ones drawn, the
 * same pixels give the same bytes, the encoders append without touching what the buffer held,
 * and bad arguments leave the buffer as it was.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <webp/decode.h>

#include "procpng.h"
#include "procpng_lossy.h"
#include "testlib.h"

static const char *const prompt = "a lighthouse on a cliff at dusk";

/* The pixels of a procedural picture (caller frees). */
static unsigned char *draw(unsigned w, unsigned h, uint64_t seed)
{
    procpng_spec spec = {prompt, strlen(prompt), seed, w, h, 0};
    unsigned char *rgb = malloc((size_t)w * h * 3);
    ig_error err;
    if (!rgb || procpng_render_rgb(&spec, rgb, &err) != IG_OK) {
        ig_test_fail(__FILE__, __LINE__, "could not draw a %ux%u picture", w, h);
        free(rgb);
        return NULL;
    }
    return rgb;
}

/* Mean absolute difference per channel value. */
static double mean_abs_diff(const unsigned char *a, const unsigned char *b, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (uint64_t)abs((int)a[i] - (int)b[i]);
    return (double)sum / (double)n;
}

/* Decodes a JPEG with libjpeg; the pixels (caller frees) and their size. */
static unsigned char *jpeg_decode(const ig_buf *file, unsigned *w, unsigned *h, int *components)
{
    struct jpeg_decompress_struct d;
    struct jpeg_error_mgr jerr;
    d.err = jpeg_std_error(&jerr); /* a broken file exits the test with a failure status */
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, (const unsigned char *)file->data, (unsigned long)file->len);
    jpeg_read_header(&d, TRUE);
    d.out_color_space = JCS_RGB;
    jpeg_start_decompress(&d);
    *w = d.output_width;
    *h = d.output_height;
    *components = d.output_components;
    size_t stride = (size_t)d.output_width * (size_t)d.output_components;
    unsigned char *rgb = malloc(stride * d.output_height);
    while (rgb && d.output_scanline < d.output_height) {
        JSAMPROW row = rgb + d.output_scanline * stride;
        jpeg_read_scanlines(&d, &row, 1);
    }
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    return rgb;
}

static void test_jpeg_decodes_to_the_picture(void)
{
    const unsigned w = 832, h = 1216;
    unsigned char *rgb = draw(w, h, 7);
    if (!rgb)
        return;
    ig_buf out;
    ig_buf_init(&out, 0);
    ig_error err;
    IG_CHECK_EQ_INT(procpng_encode_jpeg(rgb, w, h, &out, &err), IG_OK);
    const unsigned char *d = (const unsigned char *)out.data;
    IG_CHECK(out.len > 1000 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF);
    IG_CHECK(d[out.len - 2] == 0xFF && d[out.len - 1] == 0xD9);
    unsigned dw = 0, dh = 0;
    int comps = 0;
    unsigned char *back = jpeg_decode(&out, &dw, &dh, &comps);
    IG_CHECK_EQ_INT(dw, w);
    IG_CHECK_EQ_INT(dh, h);
    IG_CHECK_EQ_INT(comps, 3);
    if (back && dw == w && dh == h && comps == 3) {
        double mad = mean_abs_diff(rgb, back, (size_t)w * h * 3);
        printf("  JPEG: %zu bytes, mean difference %.2f per channel\n", out.len, mad);
        if (mad > 5.0)
            ig_test_fail(__FILE__, __LINE__, "JPEG pixels differ by %.2f on average", mad);
    }
    free(back);
    free(rgb);
    ig_buf_free(&out);
}

static void test_webp_decodes_to_the_picture(void)
{
    const unsigned w = 1344, h = 768;
    unsigned char *rgb = draw(w, h, 8);
    if (!rgb)
        return;
    ig_buf out;
    ig_buf_init(&out, 0);
    ig_error err;
    IG_CHECK_EQ_INT(procpng_encode_webp(rgb, w, h, &out, &err), IG_OK);
    IG_CHECK(out.len > 1000 && memcmp(out.data, "RIFF", 4) == 0 && memcmp(out.data + 8, "WEBPVP8 ", 8) == 0);
    int dw = 0, dh = 0;
    IG_CHECK(WebPGetInfo((const uint8_t *)out.data, out.len, &dw, &dh));
    IG_CHECK_EQ_INT(dw, w);
    IG_CHECK_EQ_INT(dh, h);
    uint8_t *back = WebPDecodeRGB((const uint8_t *)out.data, out.len, &dw, &dh);
    IG_CHECK(back != NULL);
    if (back && dw == (int)w && dh == (int)h) {
        double mad = mean_abs_diff(rgb, back, (size_t)w * h * 3);
        printf("  WebP: %zu bytes, mean difference %.2f per channel\n", out.len, mad);
        if (mad > 5.0)
            ig_test_fail(__FILE__, __LINE__, "WebP pixels differ by %.2f on average", mad);
    }
    WebPFree(back);
    free(rgb);
    ig_buf_free(&out);
}

/* A picture with its red and blue swapped decodes far from the original: the checks above
 * would see a channel-order mistake. */
static void test_the_pixel_check_sees_swapped_channels(void)
{
    const unsigned w = 256, h = 256;
    unsigned char *rgb = draw(w, h, 9);
    if (!rgb)
        return;
    unsigned char *swapped = malloc((size_t)w * h * 3);
    for (size_t i = 0; swapped && i < (size_t)w * h; i++) {
        swapped[3 * i] = rgb[3 * i + 2];
        swapped[3 * i + 1] = rgb[3 * i + 1];
        swapped[3 * i + 2] = rgb[3 * i];
    }
    if (swapped)
        IG_CHECK(mean_abs_diff(rgb, swapped, (size_t)w * h * 3) > 10.0);
    free(swapped);
    free(rgb);
}

static void test_same_pixels_same_bytes(void)
{
    const unsigned w = 320, h = 240;
    unsigned char *rgb = draw(w, h, 10);
    if (!rgb)
        return;
    ig_buf a, b, c, e;
    ig_buf_init(&a, 0);
    ig_buf_init(&b, 0);
    ig_buf_init(&c, 0);
    ig_buf_init(&e, 0);
    ig_error err;
    IG_CHECK_EQ_INT(procpng_encode_jpeg(rgb, w, h, &a, &err), IG_OK);
    IG_CHECK_EQ_INT(procpng_encode_jpeg(rgb, w, h, &b, &err), IG_OK);
    IG_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    IG_CHECK_EQ_INT(procpng_encode_webp(rgb, w, h, &c, &err), IG_OK);
    IG_CHECK_EQ_INT(procpng_encode_webp(rgb, w, h, &e, &err), IG_OK);
    IG_CHECK(c.len == e.len && memcmp(c.data, e.data, c.len) == 0);
    free(rgb);
    ig_buf_free(&a);
    ig_buf_free(&b);
    ig_buf_free(&c);
    ig_buf_free(&e);
}

/* Both encoders append: what the buffer held stays, and the file follows it. */
static void test_encoders_append(void)
{
    const unsigned w = 64, h = 48;
    unsigned char *rgb = draw(w, h, 11);
    if (!rgb)
        return;
    ig_buf out;
    ig_buf_init(&out, 0);
    ig_error err;
    ig_buf_append_str(&out, "prefix:");
    IG_CHECK_EQ_INT(procpng_encode_jpeg(rgb, w, h, &out, &err), IG_OK);
    IG_CHECK(memcmp(out.data, "prefix:\xff\xd8\xff", 10) == 0);
    size_t jpeg_end = out.len;
    IG_CHECK_EQ_INT(procpng_encode_webp(rgb, w, h, &out, &err), IG_OK);
    IG_CHECK(out.len > jpeg_end + 12 && memcmp(out.data + jpeg_end, "RIFF", 4) == 0);
    IG_CHECK_EQ_INT(out.data[out.len], '\0');
    free(rgb);
    ig_buf_free(&out);
}

/* Refused arguments and a capped buffer: an error with a sentence, the buffer as it was. */
static void test_failures_leave_the_buffer_alone(void)
{
    const unsigned w = 512, h = 512;
    unsigned char *rgb = draw(w, h, 12);
    if (!rgb)
        return;
    ig_buf out;
    ig_buf_init(&out, 0);
    ig_error err;
    ig_buf_append_str(&out, "kept");
    IG_CHECK_EQ_INT(procpng_encode_jpeg(rgb, 0, h, &out, &err), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(procpng_encode_webp(NULL, w, h, &out, &err), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(procpng_encode_webp(rgb, 20000, 1, &out, &err), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_STR(ig_buf_cstr(&out), "kept");
    ig_buf_free(&out);

    ig_buf capped;
    ig_buf_init(&capped, 2000); /* far too small for a 512x512 picture */
    ig_buf_append_str(&capped, "kept");
    ig_err e = procpng_encode_jpeg(rgb, w, h, &capped, &err);
    IG_CHECK_EQ_INT(e, IG_ERR_TOO_LARGE);
    IG_CHECK(strstr(err.message, "JPEG") != NULL);
    IG_CHECK_EQ_STR(ig_buf_cstr(&capped), "kept");
    e = procpng_encode_webp(rgb, w, h, &capped, &err);
    IG_CHECK_EQ_INT(e, IG_ERR_TOO_LARGE);
    IG_CHECK(strstr(err.message, "WebP") != NULL);
    IG_CHECK_EQ_STR(ig_buf_cstr(&capped), "kept");
    ig_buf_free(&capped);
    free(rgb);
}

/* procpng_render picks the encoder; the lossy files weigh less than the PNG. */
static void test_render_in_each_format(void)
{
    procpng_spec spec = {prompt, strlen(prompt), 5, 1024, 1024, 0};
    ig_buf png, jpeg, webp;
    ig_buf_init(&png, 0);
    ig_buf_init(&jpeg, 0);
    ig_buf_init(&webp, 0);
    ig_error err;
    IG_CHECK_EQ_INT(procpng_render(&spec, PROCPNG_PNG, &png, &err), IG_OK);
    IG_CHECK_EQ_INT(procpng_render(&spec, PROCPNG_JPEG, &jpeg, &err), IG_OK);
    IG_CHECK_EQ_INT(procpng_render(&spec, PROCPNG_WEBP, &webp, &err), IG_OK);
    IG_CHECK(png.len > 8 && memcmp(png.data, "\x89PNG", 4) == 0);
    IG_CHECK(jpeg.len > 3 && memcmp(jpeg.data, "\xff\xd8\xff", 3) == 0);
    IG_CHECK(webp.len > 12 && memcmp(webp.data + 8, "WEBP", 4) == 0);
    IG_CHECK(jpeg.len < png.len && webp.len < png.len);
    printf("  1024x1024: PNG %zu, JPEG %zu, WebP %zu bytes\n", png.len, jpeg.len, webp.len);
    IG_CHECK_EQ_STR(procpng_format_name(PROCPNG_PNG), "png");
    IG_CHECK_EQ_STR(procpng_format_name(PROCPNG_JPEG), "jpeg");
    IG_CHECK_EQ_STR(procpng_format_name(PROCPNG_WEBP), "webp");
    ig_buf_free(&png);
    ig_buf_free(&jpeg);
    ig_buf_free(&webp);
}

int main(void)
{
    IG_RUN(test_jpeg_decodes_to_the_picture);
    IG_RUN(test_webp_decodes_to_the_picture);
    IG_RUN(test_the_pixel_check_sees_swapped_channels);
    IG_RUN(test_same_pixels_same_bytes);
    IG_RUN(test_encoders_append);
    IG_RUN(test_failures_leave_the_buffer_alone);
    IG_RUN(test_render_in_each_format);
    return ig_test_finish("procpng_lossy");
}
