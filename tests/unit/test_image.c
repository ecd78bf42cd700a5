/* test_image.c - PNG, JPEG and WebP sniffing: real (hand-assembled, spec-valid) files, every
 * truncation of them, wrong signatures, corrupt headers and random garbage after a valid
 * signature. Then the inspection of input images (ig_image_inspect) on files written by
 * libpng, libjpeg-turbo and libwebp in every colour type, bit depth and interlacing, every
 * truncation and every single-byte corruption of them; and the alpha mask
 * (ig_image_alpha_mask), checked pixel by pixel by decoding its output with libpng.
 * Inputs are copied into exactly-sized heap blocks so that the sanitizer build catches any
 * read past the end. */
#include <stdint.h>
#include <stdio.h> /* jpeglib.h needs FILE */
#include <stdlib.h>

#include <jpeglib.h>
#include <png.h>
#include <webp/encode.h>
#include <zlib.h>

#include "codec/image.h"
#include "core/random.h"
#include "testlib.h"

/* 3x2 RGB, 8 bits per channel: signature, IHDR, one zlib IDAT, IEND (CRCs valid). */
static const unsigned char png_3x2[86] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
    0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02,
    0x08, 0x02, 0x00, 0x00, 0x00, 0x12, 0x16, 0xf1, 0x4d, 0x00, 0x00, 0x00,
    0x1d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x60, 0x38, 0x11,
    0xc0, 0x70, 0x62, 0x01, 0xc3, 0x09, 0x06, 0x86, 0x8a, 0x13, 0x01, 0x15,
    0x27, 0x16, 0x54, 0x9c, 0x00, 0x00, 0x42, 0x2c, 0x07, 0xf9, 0x28, 0x20,
    0x42, 0x51, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42,
    0x60, 0x82,
};

/* 13x7 baseline greyscale: SOI, APP0 (JFIF), DHT (DC), DHT (AC), DQT, a fill byte, SOF0,
 * SOS, two blocks of entropy-coded data, EOI. The DHT segments come before the frame
 * header so that mistaking C4 for a frame marker would read the wrong dimensions. */
static const unsigned char jpeg_13x7[160] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01,
    0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xc4, 0x00, 0x14,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x10, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0xff, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x07, 0x00, 0x0d, 0x01,
    0x01, 0x11, 0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f,
    0x00, 0x0f, 0xff, 0xd9,
};


/* The first 30 bytes of WebP files of a 5x3 picture written by cwebp 1.2.4 (lossy "VP8 ",
 * lossless "VP8L"), and a hand-assembled extended header (VP8X, canvas 1344x768). Sniffing
 * reads nothing past the first chunk's fixed header. */
static const unsigned char webp_lossy_5x3[30] = {
    0x52, 0x49, 0x46, 0x46, 0x72, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38,
    0x20, 0x66, 0x00, 0x00, 0x00, 0xf0, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x05, 0x00, 0x03, 0x00,
};
static const unsigned char webp_lossless_5x3[30] = {
    0x52, 0x49, 0x46, 0x46, 0x7c, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38,
    0x4c, 0x70, 0x00, 0x00, 0x00, 0x2f, 0x04, 0x80, 0x00, 0x00, 0x77, 0xa0, 0x28, 0x92, 0x14,
};
static const unsigned char webp_extended_1344x768[30] = {
    'R', 'I', 'F', 'F', 0x16, 0x00, 0x00, 0x00, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'X',
    0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 0x05, 0x00, 0xff, 0x02, 0x00,
};

static ig_image_type sniff_copy(const unsigned char *data, size_t len, unsigned *w, unsigned *h)
{
    unsigned char *copy = malloc(len ? len : 1);
    if (len)
        memcpy(copy, data, len);
    ig_image_type t = ig_image_sniff(copy, len, w, h);
    free(copy);
    return t;
}

/* Offset of the byte after the first SOFn segment in a JPEG, found by a plain scan. */
static size_t sof_segment_end(const unsigned char *p, size_t len, unsigned sof)
{
    for (size_t i = 0; i + 3 < len; i++) {
        if (p[i] == 0xff && p[i + 1] == sof)
            return i + 2 + ((size_t)p[i + 2] << 8 | p[i + 3]);
    }
    return 0;
}

static void test_png_dimensions(void)
{
    unsigned w = 99, h = 99;
    IG_CHECK_EQ_INT(sniff_copy(png_3x2, sizeof png_3x2, &w, &h), IG_IMAGE_PNG);
    IG_CHECK_EQ_INT(w, 3);
    IG_CHECK_EQ_INT(h, 2);
    IG_CHECK_EQ_STR(ig_image_content_type(IG_IMAGE_PNG), "image/png");
    IG_CHECK_EQ_STR(ig_image_extension(IG_IMAGE_PNG), "png");
}

static void test_jpeg_dimensions(void)
{
    unsigned w = 99, h = 99;
    IG_CHECK_EQ_INT(sniff_copy(jpeg_13x7, sizeof jpeg_13x7, &w, &h), IG_IMAGE_JPEG);
    IG_CHECK_EQ_INT(w, 13);
    IG_CHECK_EQ_INT(h, 7);
    IG_CHECK_EQ_STR(ig_image_content_type(IG_IMAGE_JPEG), "image/jpeg");
    IG_CHECK_EQ_STR(ig_image_extension(IG_IMAGE_JPEG), "jpg");
}

/* Every SOFn marker carries the frame size; C4 (DHT), C8 (JPG) and CC (DAC) do not. */
static void test_jpeg_frame_markers(void)
{
    unsigned char j[sizeof jpeg_13x7];
    size_t at = sof_segment_end(jpeg_13x7, sizeof jpeg_13x7, 0xc0);
    IG_CHECK(at > 0);
    size_t marker = at - 0x0b - 1; /* the C0 byte: the segment length is 11 */
    IG_CHECK_EQ_INT(jpeg_13x7[marker], 0xc0);
    for (unsigned m = 0xc0; m <= 0xcf; m++) {
        memcpy(j, jpeg_13x7, sizeof j);
        j[marker] = (unsigned char)m;
        unsigned w = 99, h = 99;
        IG_CHECK_EQ_INT(sniff_copy(j, sizeof j, &w, &h), IG_IMAGE_JPEG);
        int is_frame = m != 0xc4 && m != 0xc8 && m != 0xcc;
        if (w != (is_frame ? 13u : 0u) || h != (is_frame ? 7u : 0u))
            ig_test_fail(__FILE__, __LINE__, "marker 0x%02x gave %ux%u", m, w, h);
    }
}

static void test_png_every_truncation(void)
{
    int wrong = 0;
    for (size_t len = 0; len <= sizeof png_3x2; len++) {
        unsigned w = 99, h = 99;
        ig_image_type t = sniff_copy(png_3x2, len, &w, &h);
        ig_image_type want_t = len < 8 ? IG_IMAGE_UNKNOWN : IG_IMAGE_PNG;
        unsigned want_w = len >= 24 ? 3 : 0, want_h = len >= 24 ? 2 : 0;
        if (t != want_t || w != want_w || h != want_h) {
            wrong++;
            ig_test_fail(__FILE__, __LINE__, "len %zu: type %d %ux%u", len, (int)t, w, h);
        }
    }
    IG_CHECK_EQ_INT(wrong, 0);
}

static void test_jpeg_every_truncation(void)
{
    size_t end = sof_segment_end(jpeg_13x7, sizeof jpeg_13x7, 0xc0);
    int wrong = 0;
    for (size_t len = 0; len <= sizeof jpeg_13x7; len++) {
        unsigned w = 99, h = 99;
        ig_image_type t = sniff_copy(jpeg_13x7, len, &w, &h);
        ig_image_type want_t = len < 3 ? IG_IMAGE_UNKNOWN : IG_IMAGE_JPEG;
        unsigned want_w = len >= end ? 13 : 0, want_h = len >= end ? 7 : 0;
        if (t != want_t || w != want_w || h != want_h) {
            wrong++;
            ig_test_fail(__FILE__, __LINE__, "len %zu: type %d %ux%u", len, (int)t, w, h);
        }
    }
    IG_CHECK_EQ_INT(wrong, 0);
}


static void test_webp(void)
{
    const struct {
        const unsigned char *data;
        unsigned w, h;
    } cases[] = {{webp_lossy_5x3, 5, 3}, {webp_lossless_5x3, 5, 3}, {webp_extended_1344x768, 1344, 768}};
    int wrong = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (size_t len = 0; len <= 30; len++) {
            unsigned w = 99, h = 99;
            ig_image_type t = sniff_copy(cases[c].data, len, &w, &h);
            ig_image_type want_t = len < 16 ? IG_IMAGE_UNKNOWN : IG_IMAGE_WEBP;
            unsigned want_w = len >= 30 ? cases[c].w : 0, want_h = len >= 30 ? cases[c].h : 0;
            if (t != want_t || w != want_w || h != want_h) {
                wrong++;
                ig_test_fail(__FILE__, __LINE__, "case %zu len %zu: type %d %ux%u", c, len, (int)t, w, h);
            }
        }
    }
    IG_CHECK_EQ_INT(wrong, 0);
    unsigned char p[30];
    unsigned w, h;
    memcpy(p, webp_lossy_5x3, sizeof p);
    p[23] = 0x00; /* no key-frame start code: the size is unknown */
    IG_CHECK_EQ_INT(sniff_copy(p, sizeof p, &w, &h), IG_IMAGE_WEBP);
    IG_CHECK_EQ_INT(w, 0);
    memcpy(p, webp_lossless_5x3, sizeof p);
    p[20] = 0x2e; /* not the VP8L signature */
    IG_CHECK_EQ_INT(sniff_copy(p, sizeof p, &w, &h), IG_IMAGE_WEBP);
    IG_CHECK_EQ_INT(w, 0);
    memcpy(p, webp_lossy_5x3, sizeof p);
    p[9] = 'A'; /* RIFF of another kind (WAVE, AVI ...) */
    IG_CHECK_EQ_INT(sniff_copy(p, sizeof p, &w, &h), IG_IMAGE_UNKNOWN);
    IG_CHECK_EQ_STR(ig_image_content_type(IG_IMAGE_WEBP), "image/webp");
    IG_CHECK_EQ_STR(ig_image_extension(IG_IMAGE_WEBP), "webp");
    IG_CHECK_EQ_STR(ig_image_format_name(IG_IMAGE_WEBP), "webp");
    IG_CHECK_EQ_STR(ig_image_format_name(IG_IMAGE_JPEG), "jpeg");
    IG_CHECK_EQ_INT(ig_image_type_from_content_type("image/webp"), IG_IMAGE_WEBP);
    IG_CHECK_EQ_INT(ig_image_type_from_content_type("image/jpeg; q=1"), IG_IMAGE_JPEG);
    IG_CHECK_EQ_INT(ig_image_type_from_content_type("image/png"), IG_IMAGE_PNG);
    IG_CHECK_EQ_INT(ig_image_type_from_content_type("text/html"), IG_IMAGE_UNKNOWN);
    IG_CHECK_EQ_INT(ig_image_type_from_content_type(NULL), IG_IMAGE_UNKNOWN);
}

static void test_wrong_magic(void)
{
    static const unsigned char gif[] = "GIF89a\x03\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                                       "\x00\x00\x00\x00\x00\x00";
    unsigned w = 99, h = 99;
    IG_CHECK_EQ_INT(sniff_copy(gif, sizeof gif - 1, &w, &h), IG_IMAGE_UNKNOWN);
    IG_CHECK_EQ_INT(w, 0);
    IG_CHECK_EQ_INT(h, 0);
    for (size_t i = 0; i < 8; i++) {
        unsigned char p[sizeof png_3x2];
        memcpy(p, png_3x2, sizeof p);
        p[i] ^= 0x20; /* e.g. "png" in lower case, or a CR/LF translated by a text transfer */
        IG_CHECK_EQ_INT(sniff_copy(p, sizeof p, NULL, NULL), IG_IMAGE_UNKNOWN);
    }
    static const unsigned char soi_only[] = {0xff, 0xd8, 0x00, 0xff, 0xc0};
    IG_CHECK_EQ_INT(sniff_copy(soi_only, sizeof soi_only, NULL, NULL), IG_IMAGE_UNKNOWN);
    IG_CHECK_EQ_INT(ig_image_sniff(NULL, 0, &w, &h), IG_IMAGE_UNKNOWN);
    IG_CHECK_EQ_INT(ig_image_sniff(NULL, 100, NULL, NULL), IG_IMAGE_UNKNOWN);
    IG_CHECK(ig_image_content_type(IG_IMAGE_UNKNOWN) == NULL);
    IG_CHECK(ig_image_extension(IG_IMAGE_UNKNOWN) == NULL);
}

static void test_png_corrupt_header(void)
{
    unsigned char p[sizeof png_3x2];
    unsigned w, h;
    memcpy(p, png_3x2, sizeof p);
    p[11] = 12; /* IHDR length must be 13 */
    IG_CHECK_EQ_INT(sniff_copy(p, sizeof p, &w, &h), IG_IMAGE_PNG);
    IG_CHECK_EQ_INT(w, 0);
    memcpy(p, png_3x2, sizeof p);
    p[12] = 'i'; /* the first chunk must be IHDR */
    IG_CHECK_EQ_INT(sniff_copy(p, sizeof p, &w, &h), IG_IMAGE_PNG);
    IG_CHECK_EQ_INT(w, 0);
    memcpy(p, png_3x2, sizeof p);
    p[19] = 0; /* width 0 */
    IG_CHECK_EQ_INT(sniff_copy(p, sizeof p, &w, &h), IG_IMAGE_PNG);
    IG_CHECK_EQ_INT(w, 0);
    IG_CHECK_EQ_INT(h, 0);
    memcpy(p, png_3x2, sizeof p);
    p[20] = 0x80; /* height 2^31 + 2 is over PNG's limit */
    IG_CHECK_EQ_INT(sniff_copy(p, sizeof p, &w, &h), IG_IMAGE_PNG);
    IG_CHECK_EQ_INT(h, 0);
    memcpy(p, png_3x2, sizeof p);
    p[16] = 0x7f; p[17] = 0xff; p[18] = 0xff; p[19] = 0xff; /* the largest legal width */
    IG_CHECK_EQ_INT(sniff_copy(p, sizeof p, &w, &h), IG_IMAGE_PNG);
    IG_CHECK_EQ_INT(w, 0x7fffffffu);
    IG_CHECK_EQ_INT(h, 2);
}

static void test_jpeg_corrupt_segments(void)
{
    unsigned w, h;
    /* a segment length running past the end */
    static const unsigned char past_end[] = {0xff, 0xd8, 0xff, 0xe0, 0xff, 0xff, 0x00, 0x00};
    IG_CHECK_EQ_INT(sniff_copy(past_end, sizeof past_end, &w, &h), IG_IMAGE_JPEG);
    IG_CHECK_EQ_INT(w, 0);
    /* a segment length below 2 would loop forever if trusted */
    static const unsigned char zero_len[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x00, 0xff, 0xe0, 0x00, 0x00};
    IG_CHECK_EQ_INT(sniff_copy(zero_len, sizeof zero_len, &w, &h), IG_IMAGE_JPEG);
    IG_CHECK_EQ_INT(w, 0);
    /* only fill bytes after SOI */
    static const unsigned char fill[] = {0xff, 0xd8, 0xff, 0xff, 0xff, 0xff};
    IG_CHECK_EQ_INT(sniff_copy(fill, sizeof fill, &w, &h), IG_IMAGE_JPEG);
    IG_CHECK_EQ_INT(w, 0);
    /* a frame header too short to hold the sizes */
    static const unsigned char short_sof[] = {0xff, 0xd8, 0xff, 0xc0, 0x00, 0x05, 0x08, 0x00, 0x07};
    IG_CHECK_EQ_INT(sniff_copy(short_sof, sizeof short_sof, &w, &h), IG_IMAGE_JPEG);
    IG_CHECK_EQ_INT(w, 0);
    /* the scan starts before any frame header */
    static const unsigned char sos_first[] = {0xff, 0xd8, 0xff, 0xda, 0x00, 0x0b, 0x08, 0x00,
                                              0x07, 0x00, 0x0d, 0x01, 0x01, 0x11, 0x00};
    IG_CHECK_EQ_INT(sniff_copy(sos_first, sizeof sos_first, &w, &h), IG_IMAGE_JPEG);
    IG_CHECK_EQ_INT(w, 0);
    /* standalone markers (RSTn, TEM) have no length and are stepped over */
    static const unsigned char standalone[] = {0xff, 0xd8, 0xff, 0xd0, 0xff, 0x01, 0xff, 0xc1, 0x00,
                                               0x0b, 0x08, 0x01, 0x00, 0x02, 0x00, 0x01, 0x01, 0x11, 0x00};
    IG_CHECK_EQ_INT(sniff_copy(standalone, sizeof standalone, &w, &h), IG_IMAGE_JPEG);
    IG_CHECK_EQ_INT(w, 512);
    IG_CHECK_EQ_INT(h, 256);
}

/* Random bytes after each signature: never a crash, never a read out of bounds. */
static void test_random_garbage_after_signature(void)
{
    unsigned char buf[64];
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        size_t len = (size_t)ig_random_below(sizeof buf + 1);
        ig_random_bytes(buf, sizeof buf);
        if (i % 2 == 0 && len >= 3) {
            buf[0] = 0xff;
            buf[1] = 0xd8;
            buf[2] = 0xff;
            for (size_t k = 3; k + 1 < len; k += 7) /* plant markers so that the walk goes on */
                buf[k] = 0xff;
        } else if (len >= 8) {
            memcpy(buf, png_3x2, 8);
        }
        unsigned w = 1, h = 1;
        ig_image_type t = sniff_copy(buf, len, &w, &h);
        if ((t == IG_IMAGE_UNKNOWN && (w || h)) || (w == 0) != (h == 0))
            bad++;
    }
    IG_CHECK_EQ_INT(bad, 0);
}

/* ======== ig_image_inspect ======== */

static ig_image_verdict inspect_copy(const void *data, size_t len, ig_image_info *info)
{
    unsigned char *copy = malloc(len ? len : 1);
    if (len)
        memcpy(copy, data, len);
    ig_image_verdict v = ig_image_inspect(copy, len, info);
    free(copy);
    return v;
}

/* ---- PNG files written by libpng ---- */

typedef struct {
    unsigned w, h;
    int colour, depth, interlace;
    unsigned char *rows; /* h rows of rowbytes, samples as PNG stores them (16-bit big-endian) */
    size_t rowbytes;
    png_color palette[256];
    int n_palette;
    unsigned char trns[256];
    int n_trns;
    png_color_16 key; /* tRNS colour key for grey and RGB */
    int has_key;
    unsigned char *transparent; /* w*h: 1 where the pixel's alpha is below half */
} png_case;

static void png_write_buf(png_structp png, png_bytep data, size_t n)
{
    ig_buf_append(png_get_io_ptr(png), data, n);
}

static void png_flush_none(png_structp png)
{
    (void)png;
}

/* Encodes the case with libpng (which aborts the test on an error). */
static void png_case_encode(const png_case *c, ig_buf *out)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        ig_test_fail(__FILE__, __LINE__, "libpng could not write the test image");
        png_destroy_write_struct(&png, &info);
        return;
    }
    png_set_write_fn(png, out, png_write_buf, png_flush_none);
    png_set_IHDR(png, info, c->w, c->h, c->depth, c->colour, c->interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (c->n_palette)
        png_set_PLTE(png, info, c->palette, c->n_palette);
    if (c->n_trns || c->has_key)
        png_set_tRNS(png, info, c->n_trns ? c->trns : NULL, c->n_trns, c->has_key ? &c->key : NULL);
    png_write_info(png, info);
    png_bytep *rows = malloc(c->h * sizeof *rows);
    for (unsigned y = 0; y < c->h; y++)
        rows[y] = c->rows + (size_t)y * c->rowbytes;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    png_destroy_write_struct(&png, &info);
}

static void put_sample(png_case *c, unsigned x, unsigned y, unsigned channel, unsigned channels, unsigned v)
{
    unsigned char *row = c->rows + (size_t)y * c->rowbytes;
    if (c->depth == 16) {
        size_t at = ((size_t)x * channels + channel) * 2;
        row[at] = (unsigned char)(v >> 8);
        row[at + 1] = (unsigned char)v;
    } else if (c->depth == 8) {
        row[(size_t)x * channels + channel] = (unsigned char)v;
    } else { /* 1, 2, 4 bits, one channel, first pixel in the high bits */
        size_t bit = (size_t)x * c->depth;
        unsigned shift = 8 - c->depth - (unsigned)(bit % 8);
        row[bit / 8] |= (unsigned char)(v << shift);
    }
}

/* The kinds of alpha the mask must read. */
typedef enum {
    K_RGBA8, K_GA8, K_RGBA16, K_GA16, K_PAL8_TRNS, K_PAL8_SHORT_TRNS, K_PAL2_TRNS, K_GRAY8_KEY, K_GRAY1_KEY,
    K_RGB8_KEY, K_RGB16_KEY, K_GRAY16_KEY, K_RGB8, K_COUNT
} png_kind;

static const char *const kind_names[K_COUNT] = {
    "RGBA 8", "grey+alpha 8", "RGBA 16", "grey+alpha 16", "palette 8 + tRNS", "palette 8 + short tRNS",
    "palette 2 + tRNS", "grey 8 + key", "grey 1 + key", "RGB 8 + key", "RGB 16 + key", "grey 16 + key", "RGB 8"};

/* An alpha value for pixel i that walks across 0..max and hits both sides of the threshold. */
static unsigned alpha_at(unsigned i, unsigned max)
{
    if (i % 5 == 0)
        return max / 2;     /* 127 or 32767: transparent */
    if (i % 5 == 1)
        return max / 2 + 1; /* 128 or 32768: opaque */
    return (i * 2654435761u) % (max + 1);
}

static void png_case_make(png_case *c, png_kind k, unsigned w, unsigned h, int interlace)
{
    memset(c, 0, sizeof *c);
    c->w = w, c->h = h, c->interlace = interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE;
    static const struct {
        int colour, depth;
    } formats[K_COUNT] = {
        {PNG_COLOR_TYPE_RGBA, 8}, {PNG_COLOR_TYPE_GA, 8}, {PNG_COLOR_TYPE_RGBA, 16}, {PNG_COLOR_TYPE_GA, 16},
        {PNG_COLOR_TYPE_PALETTE, 8}, {PNG_COLOR_TYPE_PALETTE, 8}, {PNG_COLOR_TYPE_PALETTE, 2},
        {PNG_COLOR_TYPE_GRAY, 8}, {PNG_COLOR_TYPE_GRAY, 1}, {PNG_COLOR_TYPE_RGB, 8}, {PNG_COLOR_TYPE_RGB, 16},
        {PNG_COLOR_TYPE_GRAY, 16}, {PNG_COLOR_TYPE_RGB, 8}};
    c->colour = formats[k].colour, c->depth = formats[k].depth;
    unsigned channels = c->colour == PNG_COLOR_TYPE_RGBA ? 4 : c->colour == PNG_COLOR_TYPE_RGB ? 3
                        : c->colour == PNG_COLOR_TYPE_GA ? 2 : 1;
    c->rowbytes = ((size_t)w * channels * c->depth + 7) / 8;
    c->rows = calloc(h, c->rowbytes);
    c->transparent = calloc((size_t)w * h, 1);
    unsigned max = (1u << c->depth) - 1; /* the largest sample */
    if (c->colour == PNG_COLOR_TYPE_PALETTE) {
        c->n_palette = 1 << c->depth;
        for (int i = 0; i < c->n_palette; i++)
            c->palette[i] = (png_color){(png_byte)i, (png_byte)(255 - i), (png_byte)(i * 7)};
        c->n_trns = k == K_PAL8_SHORT_TRNS ? 10 : c->n_palette;
        for (int i = 0; i < c->n_trns; i++)
            c->trns[i] = c->depth == 2 ? (unsigned char[]){0, 127, 128, 255}[i] : (unsigned char)alpha_at((unsigned)i, 255);
    }
    if (k == K_GRAY8_KEY || k == K_GRAY1_KEY || k == K_GRAY16_KEY)
        c->has_key = 1, c->key.gray = k == K_GRAY8_KEY ? 77 : k == K_GRAY1_KEY ? 1 : 0x1234;
    if (k == K_RGB8_KEY || k == K_RGB16_KEY) {
        c->has_key = 1;
        c->key.red = k == K_RGB8_KEY ? 10 : 1000, c->key.green = k == K_RGB8_KEY ? 20 : 2000;
        c->key.blue = k == K_RGB8_KEY ? 30 : 3000;
    }
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++) {
            unsigned i = y * w + x;
            int t = 0;
            if (c->colour == PNG_COLOR_TYPE_RGBA || c->colour == PNG_COLOR_TYPE_GA) {
                unsigned a = alpha_at(i, max);
                for (unsigned ch = 0; ch + 1 < channels; ch++)
                    put_sample(c, x, y, ch, channels, (i * 31 + ch) % (max + 1));
                put_sample(c, x, y, channels - 1, channels, a);
                t = a < (max + 1) / 2;
            } else if (c->colour == PNG_COLOR_TYPE_PALETTE) {
                unsigned index = (i * 7) % (unsigned)c->n_palette;
                put_sample(c, x, y, 0, 1, index);
                t = index < (unsigned)c->n_trns && c->trns[index] < 128;
            } else if (c->colour == PNG_COLOR_TYPE_GRAY) {
                /* the key, a value one off it (same high byte at 16 bits), or another */
                unsigned v = i % 3 == 0 ? c->key.gray : i % 3 == 1 ? c->key.gray ^ 1 : (i * 13) % (max + 1);
                put_sample(c, x, y, 0, 1, v & max);
                t = c->has_key && (v & max) == c->key.gray;
            } else {
                unsigned r = c->key.red, g = c->key.green, b = c->key.blue;
                if (i % 3 == 1)
                    b ^= 1;
                else if (i % 3 == 2)
                    r = (i * 13) % (max + 1), g = (i * 17) % (max + 1);
                put_sample(c, x, y, 0, 3, r), put_sample(c, x, y, 1, 3, g), put_sample(c, x, y, 2, 3, b);
                t = c->has_key && r == c->key.red && g == c->key.green && b == c->key.blue;
            }
            c->transparent[i] = (unsigned char)t;
        }
}

static void png_case_free(png_case *c)
{
    free(c->rows);
    free(c->transparent);
}

static void make_png(png_kind k, unsigned w, unsigned h, int interlace, ig_buf *out)
{
    png_case c;
    png_case_make(&c, k, w, h, interlace);
    png_case_encode(&c, out);
    png_case_free(&c);
}

/* ---- JPEG (libjpeg-turbo) and WebP (libwebp) files ---- */

static unsigned char *test_pixels(unsigned w, unsigned h, unsigned channels)
{
    unsigned char *p = malloc((size_t)w * h * channels);
    for (size_t i = 0; i < (size_t)w * h * channels; i++)
        p[i] = (unsigned char)(i % channels == 3 ? alpha_at((unsigned)(i / channels), 255) : (i * 37) % 251);
    return p;
}

static void make_jpeg(unsigned w, unsigned h, int grey, int progressive, int restarts, ig_buf *out)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    unsigned char *mem = NULL;
    unsigned long size = 0;
    jpeg_mem_dest(&c, &mem, &size);
    c.image_width = w;
    c.image_height = h;
    c.input_components = grey ? 1 : 3;
    c.in_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 85, TRUE);
    if (progressive)
        jpeg_simple_progression(&c);
    c.restart_interval = restarts ? 1 : 0;
    unsigned char *px = test_pixels(w, h, (unsigned)c.input_components);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < h) {
        JSAMPROW row = px + (size_t)c.next_scanline * w * (unsigned)c.input_components;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    ig_buf_append(out, mem, size);
    free(mem);
    free(px);
}

typedef enum { WEBP_LOSSY, WEBP_LOSSY_ALPHA, WEBP_LOSSLESS, WEBP_LOSSLESS_ALPHA } webp_kind;

static void make_webp(unsigned w, unsigned h, webp_kind k, ig_buf *out)
{
    int alpha = k == WEBP_LOSSY_ALPHA || k == WEBP_LOSSLESS_ALPHA;
    unsigned char *px = test_pixels(w, h, alpha ? 4 : 3), *file = NULL;
    int stride = (int)w * (alpha ? 4 : 3);
    size_t n = k == WEBP_LOSSY           ? WebPEncodeRGB(px, (int)w, (int)h, stride, 80, &file)
               : k == WEBP_LOSSY_ALPHA   ? WebPEncodeRGBA(px, (int)w, (int)h, stride, 80, &file)
               : k == WEBP_LOSSLESS      ? WebPEncodeLosslessRGB(px, (int)w, (int)h, stride, &file)
                                         : WebPEncodeLosslessRGBA(px, (int)w, (int)h, stride, &file);
    IG_CHECK(n > 0);
    ig_buf_append(out, file, n);
    WebPFree(file);
    free(px);
}

/* The good files of every format, with what inspection must find. */
typedef struct {
    const char *name;
    ig_buf file;
    ig_image_type type;
    unsigned w, h;
    int alpha;
} good_file;

#define N_GOOD 22
static void make_good_files(good_file g[N_GOOD])
{
    size_t n = 0;
    memset(g, 0, N_GOOD * sizeof *g);
#define ADD(label, t, width, height, a) (g[n].name = (label), g[n].type = (t), g[n].w = (width), g[n].h = (height), g[n].alpha = (a), &g[n++].file)
    for (int k = 0; k < K_COUNT; k++) {
        int alpha = k != K_RGB8;
        make_png((png_kind)k, 13, 7, k % 2, ADD(kind_names[k], IG_IMAGE_PNG, 13, 7, alpha));
    }
    make_png(K_RGBA8, 1, 1, 1, ADD("RGBA 1x1 interlaced", IG_IMAGE_PNG, 1, 1, 1));
    make_jpeg(13, 7, 0, 0, 0, ADD("JPEG baseline", IG_IMAGE_JPEG, 13, 7, 0));
    make_jpeg(40, 33, 0, 1, 0, ADD("JPEG progressive", IG_IMAGE_JPEG, 40, 33, 0));
    make_jpeg(17, 9, 1, 0, 1, ADD("JPEG grey with restarts", IG_IMAGE_JPEG, 17, 9, 0));
    make_webp(13, 7, WEBP_LOSSY, ADD("WebP lossy", IG_IMAGE_WEBP, 13, 7, 0));
    make_webp(13, 7, WEBP_LOSSY_ALPHA, ADD("WebP lossy + alpha", IG_IMAGE_WEBP, 13, 7, 1));
    make_webp(13, 7, WEBP_LOSSLESS, ADD("WebP lossless", IG_IMAGE_WEBP, 13, 7, 0));
    make_webp(13, 7, WEBP_LOSSLESS_ALPHA, ADD("WebP lossless + alpha", IG_IMAGE_WEBP, 13, 7, 1));
    ig_buf_append(ADD("hand-assembled PNG", IG_IMAGE_PNG, 3, 2, 0), png_3x2, sizeof png_3x2);
#undef ADD
    IG_CHECK_EQ_INT(n, N_GOOD);
}

static void free_good_files(good_file g[N_GOOD])
{
    for (size_t i = 0; i < N_GOOD; i++)
        ig_buf_free(&g[i].file);
}

static void test_inspect_good_files(void)
{
    good_file g[N_GOOD];
    make_good_files(g);
    for (size_t i = 0; i < N_GOOD; i++) {
        ig_image_info info;
        ig_image_verdict v = inspect_copy(g[i].file.data, g[i].file.len, &info);
        if (v != IG_IMAGE_OK || info.type != g[i].type || info.width != g[i].w || info.height != g[i].h ||
            info.has_alpha != g[i].alpha || info.image_len != g[i].file.len || info.message[0] != '\0')
            ig_test_fail(__FILE__, __LINE__, "%s: verdict %d type %d %ux%u alpha %d image_len %zu of %zu: %s",
                         g[i].name, v, info.type, info.width, info.height, info.has_alpha, info.image_len,
                         g[i].file.len, info.message);
        IG_CHECK(ig_image_verdict_word(v) == NULL);
        /* the sniffer agrees on the type and the size */
        unsigned w = 0, h = 0;
        IG_CHECK_EQ_INT(ig_image_sniff(g[i].file.data, g[i].file.len, &w, &h), g[i].type);
        IG_CHECK(w == g[i].w && h == g[i].h);
    }
    free_good_files(g);
}

/* Every prefix of every good file is refused as truncated (the empty one as empty), with a
 * sentence that says so. */
static void test_inspect_every_truncation(void)
{
    good_file g[N_GOOD];
    make_good_files(g);
    int wrong = 0;
    for (size_t i = 0; i < N_GOOD; i++) {
        for (size_t len = 0; len < g[i].file.len; len++) {
            ig_image_info info;
            ig_image_verdict v = inspect_copy(g[i].file.data, len, &info);
            ig_image_verdict want = len == 0 ? IG_IMAGE_EMPTY : IG_IMAGE_TRUNCATED;
            if (v != want || (len > 0 && !strstr(info.message, "(truncated?)")) ||
                (len > 0 && info.type != g[i].type)) {
                if (wrong++ < 10)
                    ig_test_fail(__FILE__, __LINE__, "%s cut at %zu of %zu: verdict %d: %s", g[i].name, len,
                                 g[i].file.len, v, info.message);
            }
        }
    }
    IG_CHECK_EQ_INT(wrong, 0);
    free_good_files(g);
}

/* Bytes after IEND, EOI or the RIFF container are tolerated and counted. */
static void test_inspect_trailing_bytes(void)
{
    good_file g[N_GOOD];
    make_good_files(g);
    for (size_t i = 0; i < N_GOOD; i++) {
        size_t len = g[i].file.len;
        ig_buf_append_str(&g[i].file, "\0\0trailer: a phone's video or a second picture");
        ig_image_info info;
        IG_CHECK_EQ_INT(inspect_copy(g[i].file.data, g[i].file.len, &info), IG_IMAGE_OK);
        IG_CHECK_EQ_INT(info.image_len, len);
        IG_CHECK_EQ_INT(info.width, g[i].w);
    }
    free_good_files(g);
}

/* Every single-byte change of a PNG past its signature is refused: the CRCs cover every chunk
 * type and body, and a changed length moves the CRC (or the end) elsewhere. */
static void test_png_every_corruption(void)
{
    ig_buf png = {0};
    make_png(K_RGBA8, 5, 4, 1, &png);
    int wrong = 0, crc_sentences = 0;
    for (size_t at = 8; at < png.len; at++) {
        for (unsigned flip = 1; flip <= 0x80; flip <<= 7) {
            png.data[at] ^= (char)flip;
            ig_image_info info;
            ig_image_verdict v = inspect_copy(png.data, png.len, &info);
            png.data[at] ^= (char)flip;
            if (v == IG_IMAGE_OK || info.message[0] == '\0') {
                if (wrong++ < 10)
                    ig_test_fail(__FILE__, __LINE__, "byte %zu ^ 0x%02x accepted", at, flip);
            }
            crc_sentences += strstr(info.message, "fails its CRC check (the file is damaged)") != NULL;
            IG_CHECK_EQ_STR(ig_image_verdict_word(v), v == IG_IMAGE_TOO_LARGE ? "too_large" : "truncated");
        }
    }
    IG_CHECK_EQ_INT(wrong, 0);
    IG_CHECK(crc_sentences > (int)png.len); /* most changes are caught by a CRC */
    ig_buf_free(&png);
}

/* ---- PNGs assembled chunk by chunk, to break one rule at a time ---- */

static void chunk(ig_buf *b, const char *type, const void *data, size_t n)
{
    unsigned char head[8] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                             (unsigned char)n};
    memcpy(head + 4, type, 4);
    ig_buf_append(b, head, 8);
    if (n)
        ig_buf_append(b, data, n);
    uLong crc = crc32(crc32(0L, (const Bytef *)type, 4), data, (uInt)n);
    unsigned char tail[4] = {(unsigned char)(crc >> 24), (unsigned char)(crc >> 16), (unsigned char)(crc >> 8),
                             (unsigned char)crc};
    ig_buf_append(b, tail, 4);
}

static void ihdr(ig_buf *b, uint32_t w, uint32_t h, int depth, int colour, int interlace)
{
    unsigned char d[13] = {(unsigned char)(w >> 24), (unsigned char)(w >> 16), (unsigned char)(w >> 8),
                           (unsigned char)w, (unsigned char)(h >> 24), (unsigned char)(h >> 16),
                           (unsigned char)(h >> 8), (unsigned char)h, (unsigned char)depth, (unsigned char)colour,
                           0, 0, (unsigned char)interlace};
    ig_buf_append(b, png_3x2, 8);
    chunk(b, "IHDR", d, 13);
}

/* The IDAT of png_3x2 (any zlib bytes do: inspection does not inflate). */
static void idat(ig_buf *b)
{
    chunk(b, "IDAT", png_3x2 + 41, 0x1d);
}

static ig_image_verdict inspect_buf(ig_buf *b, ig_image_info *info)
{
    ig_image_verdict v = inspect_copy(b->data, b->len, info);
    ig_buf_free(b);
    return v;
}

static void test_png_structure(void)
{
    ig_image_info info;
    ig_buf b = {0};
    /* the reference: IHDR, IDAT, IEND */
    ihdr(&b, 3, 2, 8, 2, 0), idat(&b), chunk(&b, "IEND", "", 0);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_OK);
    /* no IDAT */
    ihdr(&b, 3, 2, 8, 2, 0), chunk(&b, "IEND", "", 0);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_CORRUPT);
    IG_CHECK(strstr(info.message, "no IDAT") != NULL);
    /* no IEND */
    ihdr(&b, 3, 2, 8, 2, 0), idat(&b);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_TRUNCATED);
    IG_CHECK_EQ_STR(info.message, "the PNG ends after 74 bytes, before its IEND chunk (truncated?)");
    /* an IEND with a body */
    ihdr(&b, 3, 2, 8, 2, 0), idat(&b), chunk(&b, "IEND", "x", 1);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_CORRUPT);
    /* IHDR not first */
    ig_buf_append(&b, png_3x2, 8), chunk(&b, "tEXt", "a\0b", 3), idat(&b), chunk(&b, "IEND", "", 0);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_CORRUPT);
    IG_CHECK_EQ_STR(info.message, "the PNG's first chunk is tEXt, not IHDR (the file is damaged)");
    /* two IHDRs */
    ihdr(&b, 3, 2, 8, 2, 0), chunk(&b, "IHDR", png_3x2 + 16, 13), idat(&b), chunk(&b, "IEND", "", 0);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_CORRUPT);
    /* an unknown critical chunk (Apple's CgBI) */
    ihdr(&b, 3, 2, 8, 2, 0), chunk(&b, "CgBI", "\x50\x00\x20\x06", 4), idat(&b), chunk(&b, "IEND", "", 0);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_CORRUPT);
    IG_CHECK(strstr(info.message, "unknown critical chunk CgBI") != NULL);
    /* an unknown ancillary chunk is fine */
    ihdr(&b, 3, 2, 8, 2, 0), chunk(&b, "zzZz", "?", 1), idat(&b), chunk(&b, "IEND", "", 0);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_OK);
    /* a chunk type that is not letters */
    ihdr(&b, 3, 2, 8, 2, 0), chunk(&b, "ID4T", "?", 1), idat(&b), chunk(&b, "IEND", "", 0);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_CORRUPT);
    /* a length over 2^31-1 */
    ihdr(&b, 3, 2, 8, 2, 0), ig_buf_append(&b, "\x80\x00\x00\x00IDATxxxx", 12);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_CORRUPT);
    /* a length past the end */
    ihdr(&b, 3, 2, 8, 2, 0), ig_buf_append(&b, "\x00\x01\x00\x00IDATxxxx", 12);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_TRUNCATED);
    IG_CHECK_EQ_STR(info.message, "the PNG ends inside its IDAT chunk at byte 33, before its IEND chunk (truncated?)");
    /* a palette image without PLTE; then with a PLTE after IDAT */
    ihdr(&b, 3, 2, 8, 3, 0), idat(&b), chunk(&b, "IEND", "", 0);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_CORRUPT);
    ihdr(&b, 3, 2, 8, 3, 0), chunk(&b, "PLTE", "abcdef", 6), idat(&b), chunk(&b, "IEND", "", 0);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_OK);
    IG_CHECK_EQ_INT(info.has_alpha, 0);
    ihdr(&b, 3, 2, 8, 3, 0), chunk(&b, "PLTE", "abcde", 5), idat(&b), chunk(&b, "IEND", "", 0);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_CORRUPT);
}

static void test_png_header_values(void)
{
    ig_image_info info;
    ig_buf b = {0};
    static const struct {
        int depth, colour, ok;
    } combos[] = {{1, 0, 1}, {16, 0, 1}, {3, 0, 0}, {8, 2, 1}, {4, 2, 0}, {8, 3, 1}, {16, 3, 0}, {8, 4, 1},
                  {2, 4, 0}, {16, 6, 1}, {1, 6, 0}, {8, 1, 0}, {8, 5, 0}, {8, 7, 0}};
    for (size_t i = 0; i < sizeof combos / sizeof combos[0]; i++) {
        ihdr(&b, 3, 2, combos[i].depth, combos[i].colour, 0);
        if (combos[i].colour == 3)
            chunk(&b, "PLTE", "abc", 3);
        idat(&b), chunk(&b, "IEND", "", 0);
        ig_image_verdict v = inspect_buf(&b, &info);
        if ((v == IG_IMAGE_OK) != combos[i].ok)
            ig_test_fail(__FILE__, __LINE__, "depth %d colour %d: %s", combos[i].depth, combos[i].colour,
                         info.message);
    }
    ihdr(&b, 3, 2, 8, 2, 2), idat(&b), chunk(&b, "IEND", "", 0); /* interlace method 2 */
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_CORRUPT);
    /* zero and absurd sizes */
    ihdr(&b, 0, 2, 8, 2, 0), idat(&b), chunk(&b, "IEND", "", 0);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_CORRUPT);
    IG_CHECK_EQ_STR(info.message, "the PNG header gives a size of 0x2 pixels (the file is damaged)");
    ihdr(&b, 3, 0x80000000u, 8, 2, 0), idat(&b), chunk(&b, "IEND", "", 0);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_CORRUPT);
    ihdr(&b, 70000, 2, 8, 2, 0), idat(&b), chunk(&b, "IEND", "", 0);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_TOO_LARGE);
    IG_CHECK_EQ_STR(ig_image_verdict_word(info.verdict), "too_large");
    IG_CHECK_EQ_STR(info.message, "the PNG is 70000x2 pixels; no side may exceed 65535");
    IG_CHECK_EQ_INT(info.width, 70000);
    ihdr(&b, 65535, 65535, 8, 2, 0), idat(&b), chunk(&b, "IEND", "", 0);
    IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_OK);
}

/* tRNS makes alpha only where libpng honours it: before IDAT, with the length its colour type
 * needs (palette: 1 .. the palette's entries). */
static void test_png_trns_rules(void)
{
    ig_image_info info;
    ig_buf b = {0};
    static const struct {
        int colour;
        const char *trns;
        size_t n;
        int before_idat, alpha;
    } cases[] = {
        {0, "\x00\x07", 2, 1, 1}, {0, "\x00\x07\x00", 3, 1, 0}, {2, "\0\1\0\2\0\3", 6, 1, 1},
        {2, "\0\1\0\2", 4, 1, 0}, {3, "\x10\x20", 2, 1, 1}, {3, "\x10\x20\x30", 3, 1, 0},
        {3, "", 0, 1, 0}, {0, "\x00\x07", 2, 0, 0}, {3, "\x10", 1, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ihdr(&b, 3, 2, 8, cases[i].colour, 0);
        if (cases[i].colour == 3)
            chunk(&b, "PLTE", "abcdef", 6); /* two entries */
        if (cases[i].before_idat)
            chunk(&b, "tRNS", cases[i].trns, cases[i].n);
        idat(&b);
        if (!cases[i].before_idat)
            chunk(&b, "tRNS", cases[i].trns, cases[i].n);
        chunk(&b, "IEND", "", 0);
        IG_CHECK_EQ_INT(inspect_buf(&b, &info), IG_IMAGE_OK);
        if (info.has_alpha != cases[i].alpha)
            ig_test_fail(__FILE__, __LINE__, "tRNS case %zu: alpha %d", i, info.has_alpha);
    }
}

/* ---- JPEG segments ---- */

/* Offset of the first marker m (FF m) at the top level of a good JPEG, found by walking. */
static size_t jpeg_find(const ig_buf *j, unsigned m)
{
    const unsigned char *p = (const unsigned char *)j->data;
    size_t at = 2;
    while (at + 4 <= j->len && p[at] == 0xff) {
        if (p[at + 1] == m)
            return at;
        if (p[at + 1] == 0xda)
            return 0;
        at += 2 + ((size_t)p[at + 2] << 8 | p[at + 3]);
    }
    return 0;
}

static void set_be16(ig_buf *j, size_t at, unsigned v)
{
    j->data[at] = (char)(v >> 8);
    j->data[at + 1] = (char)v;
}

static void test_jpeg_segment_lengths(void)
{
    ig_buf j = {0};
    make_jpeg(13, 7, 0, 0, 0, &j);
    static const unsigned markers[] = {0xe0, 0xdb, 0xc0, 0xc4};
    for (size_t k = 0; k < sizeof markers / sizeof markers[0]; k++) {
        size_t at = jpeg_find(&j, markers[k]);
        IG_CHECK(at > 0);
        unsigned seglen = (unsigned)((unsigned char)j.data[at + 2] << 8 | (unsigned char)j.data[at + 3]);
        /* lengths 0 and 1 are below the minimum; one more or one less misses the next marker;
         * 65535 runs past the end */
        const struct {
            unsigned length;
            ig_image_verdict want;
        } changes[] = {{0, IG_IMAGE_CORRUPT}, {1, IG_IMAGE_CORRUPT}, {seglen - 1, IG_IMAGE_CORRUPT},
                       {seglen + 1, IG_IMAGE_CORRUPT}, {0xffff, IG_IMAGE_TRUNCATED}};
        for (size_t c = 0; c < sizeof changes / sizeof changes[0]; c++) {
            unsigned v = changes[c].length;
            set_be16(&j, at + 2, v);
            ig_image_info info;
            ig_image_verdict got = inspect_copy(j.data, j.len, &info);
            if (got != changes[c].want)
                ig_test_fail(__FILE__, __LINE__, "marker 0x%02x length %u: verdict %d: %s", markers[k], v, got,
                             info.message);
            set_be16(&j, at + 2, seglen);
        }
    }
    ig_image_info info;
    IG_CHECK_EQ_INT(inspect_copy(j.data, j.len, &info), IG_IMAGE_OK);
    /* a frame header whose length disagrees with its component count */
    size_t sof = jpeg_find(&j, 0xc0);
    j.data[sof + 9] = 2; /* 3 components -> 2 */
    IG_CHECK_EQ_INT(inspect_copy(j.data, j.len, &info), IG_IMAGE_CORRUPT);
    j.data[sof + 9] = 3;
    /* width 0; height 0 (left to a DNL marker) */
    set_be16(&j, sof + 7, 0);
    IG_CHECK_EQ_INT(inspect_copy(j.data, j.len, &info), IG_IMAGE_CORRUPT);
    set_be16(&j, sof + 7, 13);
    set_be16(&j, sof + 5, 0);
    IG_CHECK_EQ_INT(inspect_copy(j.data, j.len, &info), IG_IMAGE_CORRUPT);
    IG_CHECK(strstr(info.message, "DNL") != NULL);
    set_be16(&j, sof + 5, 7);
    /* no EOI: the last two bytes replaced */
    j.data[j.len - 1] = 0;
    IG_CHECK_EQ_INT(inspect_copy(j.data, j.len, &info), IG_IMAGE_TRUNCATED);
    IG_CHECK_EQ_STR(info.message, "the JPEG ends inside its image data, before its end-of-image marker (truncated?)");
    j.data[j.len - 1] = (char)0xd9;
    /* garbage where a marker should begin */
    size_t dqt = jpeg_find(&j, 0xdb);
    j.data[dqt] = 0x12;
    IG_CHECK_EQ_INT(inspect_copy(j.data, j.len, &info), IG_IMAGE_CORRUPT);
    j.data[dqt] = (char)0xff;
    IG_CHECK_EQ_INT(inspect_copy(j.data, j.len, &info), IG_IMAGE_OK);
    ig_buf_free(&j);

    static const unsigned char eoi_first[] = {0xff, 0xd8, 0xff, 0xd9};
    IG_CHECK_EQ_INT(inspect_copy(eoi_first, sizeof eoi_first, &info), IG_IMAGE_CORRUPT);
    static const unsigned char sos_first[] = {0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f,
                                              0x00, 0x12, 0xff, 0xd9};
    IG_CHECK_EQ_INT(inspect_copy(sos_first, sizeof sos_first, &info), IG_IMAGE_CORRUPT);
    static const unsigned char second_soi[] = {0xff, 0xd8, 0xff, 0xd8, 0xff, 0xd9};
    IG_CHECK_EQ_INT(inspect_copy(second_soi, sizeof second_soi, &info), IG_IMAGE_CORRUPT);
    IG_CHECK_EQ_INT(inspect_copy(jpeg_13x7, sizeof jpeg_13x7, &info), IG_IMAGE_OK);
    IG_CHECK_EQ_INT(info.width, 13);
    /* two frame headers */
    unsigned char two_sof[sizeof jpeg_13x7 + 13];
    size_t cut = sof_segment_end(jpeg_13x7, sizeof jpeg_13x7, 0xc0);
    memcpy(two_sof, jpeg_13x7, cut);
    memcpy(two_sof + cut, jpeg_13x7 + cut - 13, 13);
    memcpy(two_sof + cut + 13, jpeg_13x7 + cut, sizeof jpeg_13x7 - cut);
    IG_CHECK_EQ_INT(inspect_copy(two_sof, sizeof two_sof, &info), IG_IMAGE_CORRUPT);
}

/* ---- WebP containers ---- */

static void set_le32(ig_buf *b, size_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b->data[at + (size_t)i] = (char)(v >> (8 * i));
}

static uint32_t get_le32(const ig_buf *b, size_t at)
{
    const unsigned char *p = (const unsigned char *)b->data + at;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_webp_riff_sizes(void)
{
    static const webp_kind kinds[] = {WEBP_LOSSY, WEBP_LOSSY_ALPHA, WEBP_LOSSLESS, WEBP_LOSSLESS_ALPHA};
    for (size_t k = 0; k < 4; k++) {
        ig_buf w = {0};
        make_webp(13, 7, kinds[k], &w);
        uint32_t riff = get_le32(&w, 4);
        IG_CHECK_EQ_INT(riff + 8, w.len);
        ig_image_info info;
        set_le32(&w, 4, riff + 2); /* claims more than is there */
        IG_CHECK_EQ_INT(inspect_copy(w.data, w.len, &info), IG_IMAGE_TRUNCATED);
        IG_CHECK(strstr(info.message, "RIFF header says") != NULL);
        set_le32(&w, 4, riff - 2); /* cuts its last chunk */
        IG_CHECK_EQ_INT(inspect_copy(w.data, w.len, &info), IG_IMAGE_CORRUPT);
        IG_CHECK(strstr(info.message, "past the end of its RIFF container") != NULL);
        set_le32(&w, 4, 4); /* holds nothing */
        IG_CHECK_EQ_INT(inspect_copy(w.data, w.len, &info), IG_IMAGE_CORRUPT);
        set_le32(&w, 4, riff);
        set_le32(&w, 16, get_le32(&w, 16) + 1000); /* the first chunk's size past the end */
        IG_CHECK_EQ_INT(inspect_copy(w.data, w.len, &info), IG_IMAGE_CORRUPT);
        set_le32(&w, 16, get_le32(&w, 16) - 1000);
        IG_CHECK_EQ_INT(inspect_copy(w.data, w.len, &info), IG_IMAGE_OK);
        ig_buf_free(&w);
    }
}

static void test_webp_chunks(void)
{
    ig_image_info info;
    ig_buf w = {0};
    /* a lossless image whose header names version 1 */
    make_webp(13, 7, WEBP_LOSSLESS, &w);
    IG_CHECK(memcmp(w.data + 12, "VP8L", 4) == 0);
    w.data[24] |= 0x20;
    IG_CHECK_EQ_INT(inspect_copy(w.data, w.len, &info), IG_IMAGE_CORRUPT);
    w.data[24] &= ~0x20;
    w.data[24] |= 0x10; /* the alpha hint */
    IG_CHECK_EQ_INT(inspect_copy(w.data, w.len, &info), IG_IMAGE_OK);
    IG_CHECK_EQ_INT(info.has_alpha, 1);
    ig_buf_free(&w);
    /* a lossy frame that is not a key frame */
    make_webp(13, 7, WEBP_LOSSY, &w);
    IG_CHECK(memcmp(w.data + 12, "VP8 ", 4) == 0);
    w.data[20] |= 1;
    IG_CHECK_EQ_INT(inspect_copy(w.data, w.len, &info), IG_IMAGE_CORRUPT);
    ig_buf_free(&w);
    /* the extended file: its canvas must match its image, and an image must follow */
    make_webp(13, 7, WEBP_LOSSY_ALPHA, &w);
    IG_CHECK(memcmp(w.data + 12, "VP8X", 4) == 0);
    IG_CHECK(w.data[20] & 0x10);
    w.data[24] = 13; /* canvas width 14 */
    IG_CHECK_EQ_INT(inspect_copy(w.data, w.len, &info), IG_IMAGE_CORRUPT);
    IG_CHECK_EQ_STR(info.message, "the WebP's image is 13x7 pixels but its canvas is 14x7 (the file is damaged)");
    w.data[24] = 12;
    w.data[20] &= ~0x10; /* no alpha flag: the ALPH chunk still says alpha */
    IG_CHECK_EQ_INT(inspect_copy(w.data, w.len, &info), IG_IMAGE_OK);
    IG_CHECK_EQ_INT(info.has_alpha, 1);
    set_le32(&w, 4, 4 + 18); /* only the VP8X chunk */
    IG_CHECK_EQ_INT(inspect_copy(w.data, 30, &info), IG_IMAGE_CORRUPT);
    IG_CHECK(strstr(info.message, "not followed by an image chunk") != NULL);
    ig_buf_free(&w);
    /* an oversized canvas */
    IG_CHECK_EQ_INT(inspect_copy(webp_extended_1344x768, 30, &info), IG_IMAGE_CORRUPT);
    IG_CHECK_EQ_INT(info.width, 1344);
    unsigned char big[30];
    memcpy(big, webp_extended_1344x768, 30);
    big[4] = 22;
    big[26] = 0x01; /* width 65536 + 1344 */
    IG_CHECK_EQ_INT(inspect_copy(big, 30, &info), IG_IMAGE_TOO_LARGE);
    /* a first chunk of another kind */
    memcpy(big, webp_extended_1344x768, 30);
    memcpy(big + 12, "ICCP", 4);
    IG_CHECK_EQ_INT(inspect_copy(big, 30, &info), IG_IMAGE_CORRUPT);
    IG_CHECK_EQ_STR(info.message, "the WebP's first chunk is \"ICCP\", not VP8, VP8L or VP8X (the file is damaged)");
}

/* ---- What is not an image ---- */

static void test_inspect_not_images(void)
{
    ig_image_info info;
    IG_CHECK_EQ_INT(ig_image_inspect(NULL, 0, &info), IG_IMAGE_EMPTY);
    IG_CHECK_EQ_STR(ig_image_verdict_word(info.verdict), "empty");
    IG_CHECK_EQ_STR(info.message, "the image is empty (0 bytes)");
    IG_CHECK_EQ_INT(inspect_copy("", 0, &info), IG_IMAGE_EMPTY);
    static const struct {
        const char *data;
        size_t n;
        const char *message;
    } cases[] = {
        {"GIF89a\1\0\1\0", 10, "the data is a GIF image; only PNG, JPEG and WebP images are accepted"},
        {"iVBORw0KGgoAAAANSUhEUgAA", 24, "the data is base64 text of a PNG, not its bytes (encoded twice?); only PNG, "
                                         "JPEG and WebP images are accepted"},
        {"data:image/png;base64,iVBOR", 27, "the data is a data URL, not the image's bytes; only PNG, JPEG and WebP "
                                            "images are accepted"},
        {"\0\0\0\x1c" "ftypheic", 12, "the data is an ISO media file (HEIC, AVIF or a video); only PNG, JPEG and "
                                      "WebP images are accepted"},
        {"{\"error\":1}", 11, "the data is text (JSON, XML or HTML); only PNG, JPEG and WebP images are accepted"},
        {"\x01\x02\x03", 3, "the data is not a PNG, JPEG or WebP image (it starts with the bytes 01 02 03)"},
        {"RIFF\x10\0\0\0WAVEfmt ", 16, "the data is not a PNG, JPEG or WebP image (it starts with the bytes 52 49 46 "
                                       "46 10 00 00 00)"},
        {"\xff\xd8\x00\xff", 4, "the data is not a PNG, JPEG or WebP image (it starts with the bytes ff d8 00 ff)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        IG_CHECK_EQ_INT(inspect_copy(cases[i].data, cases[i].n, &info), IG_IMAGE_NOT_IMAGE);
        IG_CHECK_EQ_STR(info.message, cases[i].message);
        IG_CHECK_EQ_INT(info.type, IG_IMAGE_UNKNOWN);
        IG_CHECK_EQ_STR(ig_image_verdict_word(info.verdict), "not_image");
    }
    /* the start of a signature is a cut image */
    IG_CHECK_EQ_INT(inspect_copy("\x89PNG", 4, &info), IG_IMAGE_TRUNCATED);
    IG_CHECK_EQ_STR(info.message, "the data is 4 bytes long, the start of a PNG signature (truncated?)");
    IG_CHECK_EQ_INT(inspect_copy("RIFF\0\0\0\0WE", 10, &info), IG_IMAGE_TRUNCATED);
    IG_CHECK_EQ_INT(info.type, IG_IMAGE_WEBP);
    IG_CHECK_EQ_INT(inspect_copy("RIFF\0\0\0\0WA", 10, &info), IG_IMAGE_NOT_IMAGE);
    IG_CHECK_EQ_INT(inspect_copy("\xff", 1, &info), IG_IMAGE_TRUNCATED);
    IG_CHECK_EQ_STR(info.message, "the data is 1 byte long, the start of a JPEG signature (truncated?)");
    IG_CHECK(ig_image_verdict_word(IG_IMAGE_OK) == NULL);
    IG_CHECK_EQ_STR(ig_image_verdict_word(IG_IMAGE_CORRUPT), "truncated");
    IG_CHECK_EQ_STR(ig_image_verdict_word(IG_IMAGE_TRUNCATED), "truncated");
}

/* Random bytes after each signature: always a verdict with a sentence, never a read past the
 * end (the sanitizer build), and OK only with a size. */
static void test_inspect_random_garbage(void)
{
    unsigned char buf[96];
    int bad = 0;
    for (int i = 0; i < 30000; i++) {
        size_t len = (size_t)ig_random_below(sizeof buf + 1);
        ig_random_bytes(buf, sizeof buf);
        if (i % 3 == 0 && len >= 8)
            memcpy(buf, png_3x2, 8);
        else if (i % 3 == 1 && len >= 3)
            memcpy(buf, "\xff\xd8\xff", 3);
        else if (len >= 12)
            memcpy(buf, "RIFF", 4), memcpy(buf + 8, "WEBP", 4), buf[4] = (unsigned char)(len - 8), buf[5] = buf[6] = buf[7] = 0;
        ig_image_info info;
        ig_image_verdict v = inspect_copy(buf, len, &info);
        if (v == IG_IMAGE_OK ? (info.width == 0 || info.height == 0 || info.image_len > len || info.message[0])
                             : info.message[0] == '\0')
            bad++;
    }
    IG_CHECK_EQ_INT(bad, 0);
}

/* ======== ig_image_alpha_mask ======== */

/* Decodes a PNG to 8-bit grey with libpng's simplified API; NULL when it cannot. */
static unsigned char *decode_grey(const ig_buf *png, unsigned *w, unsigned *h)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, png->data, png->len))
        return NULL;
    img.format = PNG_FORMAT_GRAY;
    unsigned char *px = malloc(PNG_IMAGE_SIZE(img));
    if (!png_image_finish_read(&img, NULL, px, 0, NULL)) {
        free(px);
        png_image_free(&img);
        return NULL;
    }
    *w = img.width;
    *h = img.height;
    return px;
}

/* The mask of every kind of alpha, plain and interlaced, at sizes that leave Adam7 passes
 * empty or partial, is white exactly where alpha < 128 (16-bit: < 32768; colour keys: the
 * exact key), and inverted is its complement; the output is an 8-bit grey PNG. */
static void test_mask_every_kind(void)
{
    static const unsigned sizes[][2] = {{1, 1}, {3, 5}, {9, 9}, {17, 3}, {64, 31}};
    int wrong = 0;
    for (int k = 0; k < K_COUNT; k++) {
        if (k == K_RGB8)
            continue;
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (int interlace = 0; interlace <= 1; interlace++)
                for (int inverted = 0; inverted <= 1; inverted++) {
                    png_case c;
                    png_case_make(&c, (png_kind)k, sizes[s][0], sizes[s][1], interlace);
                    ig_buf in = {0}, out = {0};
                    png_case_encode(&c, &in);
                    ig_error err;
                    ig_error_clear(&err);
                    ig_err e = ig_image_alpha_mask(in.data, in.len, inverted, &out, &err);
                    unsigned w = 0, h = 0;
                    unsigned char *px = e == IG_OK ? decode_grey(&out, &w, &h) : NULL;
                    size_t diffs = 0;
                    for (size_t i = 0; px && i < (size_t)c.w * c.h; i++)
                        diffs += px[i] != ((c.transparent[i] != 0) != inverted ? 255 : 0);
                    ig_image_info info;
                    int grey8 = e == IG_OK && out.len > 26 && out.data[24] == 8 && out.data[25] == 0 &&
                                ig_image_inspect(out.data, out.len, &info) == IG_IMAGE_OK && !info.has_alpha;
                    if (e != IG_OK || !px || w != c.w || h != c.h || diffs || !grey8) {
                        if (wrong++ < 10)
                            ig_test_fail(__FILE__, __LINE__, "%s %ux%u%s%s: %s, %zu pixels differ", kind_names[k],
                                         c.w, c.h, interlace ? " interlaced" : "", inverted ? " inverted" : "",
                                         e == IG_OK ? "ok" : err.message, diffs);
                    }
                    free(px);
                    ig_buf_free(&in);
                    ig_buf_free(&out);
                    png_case_free(&c);
                }
    }
    IG_CHECK_EQ_INT(wrong, 0);
}

/* Transparent pixels must exist on both sides, or the check above could pass on a blank mask. */
static void test_mask_cases_mix(void)
{
    for (int k = 0; k < K_COUNT; k++) {
        png_case c;
        png_case_make(&c, (png_kind)k, 9, 9, 0);
        size_t t = 0;
        for (size_t i = 0; i < 81; i++)
            t += c.transparent[i];
        if (k == K_RGB8 ? t != 0 : (t == 0 || t == 81))
            ig_test_fail(__FILE__, __LINE__, "%s: %zu of 81 transparent", kind_names[k], t);
        png_case_free(&c);
    }
}

static void test_mask_appends_and_restores(void)
{
    ig_buf in = {0}, out = {0};
    make_png(K_RGBA8, 8, 8, 0, &in);
    ig_buf_append_str(&out, "before");
    ig_error err;
    IG_CHECK_EQ_INT(ig_image_alpha_mask(in.data, in.len, 0, &out, &err), IG_OK);
    IG_CHECK(out.len > 6 && memcmp(out.data, "before\x89PNG", 10) == 0);
    /* a failure leaves the buffer as it was */
    size_t len = out.len;
    IG_CHECK_EQ_INT(ig_image_alpha_mask(in.data, in.len - 20, 0, &out, &err), IG_ERR_IMAGE);
    IG_CHECK_EQ_INT(out.len, len);
    ig_buf capped;
    ig_buf_init(&capped, 40);
    IG_CHECK_EQ_INT(ig_image_alpha_mask(in.data, in.len, 0, &capped, &err), IG_ERR_TOO_LARGE);
    IG_CHECK_EQ_INT(capped.len, 0);
    IG_CHECK(strstr(err.message, "cap of 40 bytes") != NULL);
    ig_buf_free(&capped);
    ig_buf_free(&in);
    ig_buf_free(&out);
}

static void test_mask_refusals(void)
{
    ig_buf out = {0}, in = {0};
    ig_error err;
    /* no alpha */
    make_png(K_RGB8, 8, 8, 0, &in);
    IG_CHECK_EQ_INT(ig_image_alpha_mask(in.data, in.len, 0, &out, &err), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_STR(err.message, "the PNG has no alpha channel (no transparency), so it cannot serve as a mask");
    ig_buf_free(&in);
    /* not a PNG */
    make_jpeg(8, 8, 0, 0, 0, &in);
    IG_CHECK_EQ_INT(ig_image_alpha_mask(in.data, in.len, 0, &out, &err), IG_ERR_IMAGE);
    IG_CHECK_EQ_INT(ig_image_alpha_mask(NULL, 0, 0, &out, &err), IG_ERR_IMAGE);
    ig_buf_free(&in);
    /* over the budget: refused from the header, before any pixel memory (a 100000x100000
     * header over a few bytes of data would need 10 GB) */
    make_png(K_RGBA8, 8, 8, 0, &in);
    IG_CHECK_EQ_INT(ig_image_alpha_mask_bounded(in.data, in.len, 0, 63, &out, &err), IG_ERR_TOO_LARGE);
    IG_CHECK_EQ_STR(err.message, "the PNG is 8x8 pixels, over the mask budget of 63 pixels");
    IG_CHECK_EQ_INT(ig_image_alpha_mask_bounded(in.data, in.len, 0, 64, &out, &err), IG_OK);
    ig_buf_free(&in);
    ig_buf_free(&out);
    ig_buf b = {0};
    ihdr(&b, 100000, 100000, 8, 6, 0), idat(&b), chunk(&b, "IEND", "", 0);
    IG_CHECK_EQ_INT(ig_image_alpha_mask(b.data, b.len, 0, &out, &err), IG_ERR_TOO_LARGE);
    IG_CHECK_EQ_STR(err.message, "the PNG is 100000x100000 pixels, over the mask budget of 16777216 pixels");
    ig_buf_free(&b);
    ihdr(&b, 4097, 4096, 8, 6, 0), idat(&b), chunk(&b, "IEND", "", 0);
    IG_CHECK_EQ_INT(ig_image_alpha_mask(b.data, b.len, 0, &out, &err), IG_ERR_TOO_LARGE);
    ig_buf_free(&b);
    /* a damaged zlib stream, and a bad IDAT CRC */
    ihdr(&b, 3, 2, 8, 6, 0), chunk(&b, "IDAT", "\x78\x9c\xff\xff\xff\xff", 6), chunk(&b, "IEND", "", 0);
    IG_CHECK_EQ_INT(ig_image_alpha_mask(b.data, b.len, 0, &out, &err), IG_ERR_IMAGE);
    IG_CHECK(strncmp(err.message, "the PNG could not be decoded: ", 30) == 0 && strlen(err.message) > 31);
    ig_buf_free(&b);
    make_png(K_GA8, 8, 8, 1, &in);
    in.data[in.len - 13] ^= 1; /* the last byte of the IDAT's CRC */
    IG_CHECK_EQ_INT(ig_image_alpha_mask(in.data, in.len, 0, &out, &err), IG_ERR_IMAGE);
    ig_buf_free(&in);
    IG_CHECK_EQ_INT(out.len, 0);
    ig_buf_free(&out);
}

/* Every truncation of an interlaced RGBA PNG: a mask or IG_ERR_IMAGE with a sentence, never a
 * read past the end. (libpng may finish a cut file whose image data is complete.) */
static void test_mask_every_truncation(void)
{
    ig_buf in = {0};
    make_png(K_RGBA16, 7, 6, 1, &in);
    int bad = 0, refused = 0;
    for (size_t len = 0; len < in.len; len++) {
        ig_buf out = {0};
        ig_error err;
        ig_error_clear(&err);
        unsigned char *copy = malloc(len ? len : 1);
        memcpy(copy, in.data, len);
        ig_err e = ig_image_alpha_mask(copy, len, 0, &out, &err);
        free(copy);
        if (e != IG_OK && (e != IG_ERR_IMAGE || err.message[0] == '\0'))
            bad++;
        refused += e != IG_OK;
        ig_buf_free(&out);
    }
    IG_CHECK_EQ_INT(bad, 0);
    IG_CHECK_EQ_INT(refused, (int)in.len - 12); /* all but the cuts inside IEND, which libpng never reads */
    ig_buf_free(&in);
}

int main(void)
{
    IG_RUN(test_png_dimensions);
    IG_RUN(test_jpeg_dimensions);
    IG_RUN(test_jpeg_frame_markers);
    IG_RUN(test_png_every_truncation);
    IG_RUN(test_jpeg_every_truncation);
    IG_RUN(test_webp);
    IG_RUN(test_wrong_magic);
    IG_RUN(test_png_corrupt_header);
    IG_RUN(test_jpeg_corrupt_segments);
    IG_RUN(test_random_garbage_after_signature);
    IG_RUN(test_inspect_good_files);
    IG_RUN(test_inspect_every_truncation);
    IG_RUN(test_inspect_trailing_bytes);
    IG_RUN(test_png_every_corruption);
    IG_RUN(test_png_structure);
    IG_RUN(test_png_header_values);
    IG_RUN(test_png_trns_rules);
    IG_RUN(test_jpeg_segment_lengths);
    IG_RUN(test_webp_riff_sizes);
    IG_RUN(test_webp_chunks);
    IG_RUN(test_inspect_not_images);
    IG_RUN(test_inspect_random_garbage);
    IG_RUN(test_mask_cases_mix);
    IG_RUN(test_mask_every_kind);
    IG_RUN(test_mask_appends_and_restores);
    IG_RUN(test_mask_refusals);
    IG_RUN(test_mask_every_truncation);
    return ig_test_finish("image");
}
