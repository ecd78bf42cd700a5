/* test_image.c - PNG, JPEG and WebP sniffing: real (hand-assembled, spec-valid) files, every
 * truncation of them, wrong signatures, corrupt headers and random garbage after a valid
 * signature. Inputs are copied into exactly-sized heap blocks so that the sanitizer build
 * catches any read past the end. */
#include <stdlib.h>

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
    return ig_test_finish("image");
}
