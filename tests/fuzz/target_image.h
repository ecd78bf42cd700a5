/* target_image.h - the body of the input-image fuzz target, shared by its libFuzzer main
 * (fuzz_image.c) and the regression replay (tests/unit/test_fuzz_regressions.c), like the bodies
 * in targets.h (include that first: FZ_CHECK).
 *
 * Input: the bytes of an upload. They go through the header reader (ig_image_sniff), the
 * structure walk (ig_image_inspect) and the alpha mask (ig_image_alpha_mask_bounded, with a
 * budget of FZ_IMAGE_MASK_PIXELS so the fuzzer stays on small pictures). A PNG goes through a
 * second time with every chunk's CRC recomputed, so that mutations get past the CRC checks to
 * the code behind them (IHDR values, chunk order, tRNS rules, libpng's inflate and transforms).
 *
 * Promises checked beyond "does not crash, leak or read past the input":
 * - a verdict with a sentence and the contract's word; a sentence only when refused;
 * - the sniffer and the walk agree on the format, and on the size when both know it;
 * - an accepted image has a size of 1..IG_IMAGE_MAX_SIDE per side and ends inside the input;
 *   its bytes alone (trailing bytes cut) are the same image, and every prefix of them tested
 *   (one byte short, half) is refused as truncated;
 * - a mask is an 8-bit grey PNG the walk accepts, without alpha, of the input's size, every
 *   pixel 0 or 255, and the inverted mask is its complement pixel for pixel; a PNG the walk
 *   accepts without alpha never gets one; a refused mask leaves the output as it was.
 */
#ifndef IG_FUZZ_TARGET_IMAGE_H
#define IG_FUZZ_TARGET_IMAGE_H

#include <png.h>
#include <zlib.h>

#include "codec/image.h"

#define FZ_IMAGE_MASK_PIXELS 4096

/* A copy of exactly n bytes, so ASan sees a read past the end. */
static inline unsigned char *fz_image_copy(const uint8_t *data, size_t n)
{
    unsigned char *c = malloc(n ? n : 1);
    if (!c)
        abort();
    if (n)
        memcpy(c, data, n);
    else
        c[0] = 0;
    return c;
}

static inline ig_image_verdict fz_image_inspect_copy(const uint8_t *data, size_t n, ig_image_info *info)
{
    unsigned char *c = fz_image_copy(data, n);
    ig_image_verdict v = ig_image_inspect(c, n, info);
    free(c);
    return v;
}

/* Rewrites the CRC of every PNG chunk that lies inside the buffer. */
static inline void fz_image_fix_crcs(unsigned char *p, size_t n)
{
    size_t at = 8;
    while (n >= 12 && at <= n - 12) {
        uint32_t len = (uint32_t)p[at] << 24 | (uint32_t)p[at + 1] << 16 | (uint32_t)p[at + 2] << 8 | p[at + 3];
        if (len > n - at - 12)
            return;
        uLong crc = crc32(0L, p + at + 4, (uInt)(4 + len));
        unsigned char *c = p + at + 8 + len;
        c[0] = (unsigned char)(crc >> 24), c[1] = (unsigned char)(crc >> 16), c[2] = (unsigned char)(crc >> 8);
        c[3] = (unsigned char)crc;
        at += 12 + (size_t)len;
    }
}

static inline void fz_image_check_verdict(const uint8_t *data, size_t size, ig_image_verdict v,
                                          const ig_image_info *info)
{
    FZ_CHECK(v == info->verdict && (int)v >= IG_IMAGE_OK && v <= IG_IMAGE_TOO_LARGE);
    FZ_CHECK(memchr(info->message, '\0', sizeof info->message) != NULL);
    unsigned sw = 1, sh = 1;
    ig_image_type st = ig_image_sniff(data, size, &sw, &sh);
    FZ_CHECK((sw == 0) == (sh == 0));
    FZ_CHECK(st == IG_IMAGE_UNKNOWN || st == info->type);
    if (v != IG_IMAGE_OK) {
        FZ_CHECK_SENTENCE(*info);
        FZ_CHECK(ig_image_verdict_word(v) != NULL);
        FZ_CHECK((v == IG_IMAGE_EMPTY) == (size == 0));
        FZ_CHECK(v != IG_IMAGE_NOT_IMAGE || info->type == IG_IMAGE_UNKNOWN);
        return;
    }
    FZ_CHECK(info->message[0] == '\0' && ig_image_verdict_word(v) == NULL);
    FZ_CHECK(info->type != IG_IMAGE_UNKNOWN && st == info->type);
    FZ_CHECK(info->width >= 1 && info->width <= IG_IMAGE_MAX_SIDE);
    FZ_CHECK(info->height >= 1 && info->height <= IG_IMAGE_MAX_SIDE);
    FZ_CHECK(info->image_len > 0 && info->image_len <= size);
    FZ_CHECK(sw == 0 || (sw == info->width && sh == info->height));
    FZ_CHECK(info->type != IG_IMAGE_JPEG || !info->has_alpha);
}

/* The image proper alone is the same image; prefixes of it are cut images. */
static inline void fz_image_check_prefixes(const uint8_t *data, const ig_image_info *info)
{
    ig_image_info again;
    FZ_CHECK(fz_image_inspect_copy(data, info->image_len, &again) == IG_IMAGE_OK);
    FZ_CHECK(again.type == info->type && again.width == info->width && again.height == info->height &&
             again.has_alpha == info->has_alpha && again.image_len == info->image_len);
    size_t cuts[2] = {info->image_len - 1, info->image_len / 2};
    for (int i = 0; i < 2; i++) {
        ig_image_verdict v = fz_image_inspect_copy(data, cuts[i], &again);
        if (cuts[i] == 0) {
            FZ_CHECK(v == IG_IMAGE_EMPTY);
        } else if (v != IG_IMAGE_TRUNCATED) {
            fprintf(stderr, "a %zu-byte prefix of an accepted image: verdict %d: %s\n", cuts[i], (int)v,
                    again.message);
            abort();
        }
    }
}

/* Decodes a mask with libpng's simplified API into 8-bit grey; NULL if it cannot. */
static inline unsigned char *fz_image_decode_grey(const ig_buf *png, unsigned *w, unsigned *h)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, png->data, png->len))
        return NULL;
    img.format = PNG_FORMAT_GRAY;
    unsigned char *px = malloc(PNG_IMAGE_SIZE(img));
    if (!px || !png_image_finish_read(&img, NULL, px, 0, NULL)) {
        free(px);
        png_image_free(&img);
        return NULL;
    }
    *w = img.width;
    *h = img.height;
    return px;
}

static inline void fz_image_check_mask(const uint8_t *data, size_t size, const ig_image_info *info)
{
    ig_buf out[2];
    ig_err e[2];
    for (int inverted = 0; inverted <= 1; inverted++) {
        ig_buf_init(&out[inverted], 0);
        ig_buf_append_str(&out[inverted], "kept");
        ig_error err;
        ig_error_clear(&err);
        unsigned char *c = fz_image_copy(data, size);
        e[inverted] = ig_image_alpha_mask_bounded(c, size, inverted, FZ_IMAGE_MASK_PIXELS, &out[inverted], &err);
        free(c);
        if (e[inverted] != IG_OK) {
            FZ_CHECK(e[inverted] == IG_ERR_IMAGE || e[inverted] == IG_ERR_INVALID_ARG ||
                     e[inverted] == IG_ERR_TOO_LARGE || e[inverted] == IG_ERR_NOMEM);
            FZ_CHECK_SENTENCE(err);
            FZ_CHECK(out[inverted].len == 4 && memcmp(out[inverted].data, "kept", 5) == 0);
        }
    }
    FZ_CHECK(e[0] == e[1]); /* inverting changes the pixels, never the outcome */
    if (info->verdict == IG_IMAGE_OK && info->type == IG_IMAGE_PNG && !info->has_alpha)
        FZ_CHECK(e[0] != IG_OK);
    if (e[0] == IG_OK) {
        unsigned sw = 0, sh = 0;
        FZ_CHECK(ig_image_sniff(data, size, &sw, &sh) == IG_IMAGE_PNG);
        unsigned w[2] = {0, 0}, h[2] = {0, 0};
        unsigned char *px[2];
        for (int k = 0; k < 2; k++) {
            ig_buf m = {out[k].data + 4, out[k].len - 4, 0, 0}; /* a view past "kept" */
            ig_image_info mi;
            FZ_CHECK(ig_image_inspect(m.data, m.len, &mi) == IG_IMAGE_OK && !mi.has_alpha);
            FZ_CHECK(m.len > 26 && m.data[24] == 8 && m.data[25] == 0); /* 8-bit grey */
            px[k] = fz_image_decode_grey(&m, &w[k], &h[k]);
            FZ_CHECK(px[k] != NULL && w[k] == sw && h[k] == sh);
        }
        for (size_t i = 0; i < (size_t)sw * sh; i++)
            FZ_CHECK((px[0][i] == 0 || px[0][i] == 255) && px[1][i] == 255 - px[0][i]);
        free(px[0]);
        free(px[1]);
    }
    ig_buf_free(&out[0]);
    ig_buf_free(&out[1]);
}

static inline void fz_image_one(const uint8_t *data, size_t size)
{
    ig_image_info info;
    unsigned char *c = fz_image_copy(data, size);
    ig_image_verdict v = ig_image_inspect(c, size, &info);
    free(c);
    fz_image_check_verdict(data, size, v, &info);
    if (v == IG_IMAGE_OK)
        fz_image_check_prefixes(data, &info);
    if (size >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0)
        fz_image_check_mask(data, size, &info);
}

static inline int fuzz_image(const uint8_t *data, size_t size)
{
    fz_image_one(data, size);
    if (size >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0) {
        unsigned char *fixed = fz_image_copy(data, size);
        fz_image_fix_crcs(fixed, size);
        if (memcmp(fixed, data, size) != 0)
            fz_image_one(fixed, size);
        free(fixed);
    }
    return 0;
}

#endif
