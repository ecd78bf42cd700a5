/* test_png_data.c - a PNG's image data against its header (ig_png_check_data): PNGs written by
 * libpng in every colour type, bit depth and interlace method pass; headers that lie about the
 * size, damaged or foreign zlib streams, bad filter types and scattered IDAT chunks are refused
 * with a sentence; oversized headers are left to the policy. libpng is the oracle: every file
 * accepted here, damaged at random or not, must decode with libpng. */
#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "codec/image.h"
#include "codec/png_data.h"
#include "testlib.h"

/* ---- making PNGs ------------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void chunk(ig_buf *b, const char *type, const void *data, size_t n)
{
    unsigned char head[8], crc[4];
    put_be32(head, (uint32_t)n);
    memcpy(head + 4, type, 4);
    uLong c = crc32(0L, (const Bytef *)type, 4);
    if (n)
        c = crc32(c, data, (uInt)n);
    put_be32(crc, (uint32_t)c);
    ig_buf_append(b, head, 8);
    if (n)
        ig_buf_append(b, data, n);
    ig_buf_append(b, crc, 4);
}

static void write_bytes(png_structp png, png_bytep data, size_t n)
{
    ig_buf_append(png_get_io_ptr(png), data, n);
}

static void flush_nothing(png_structp png)
{
    (void)png;
}

static unsigned channels_of(int colour)
{
    return colour == 2 ? 3 : colour == 4 ? 2 : colour == 6 ? 4 : 1;
}

/* A w x h PNG of random pixels written by libpng (a full palette for colour type 3). */
static void libpng_png(unsigned w, unsigned h, int colour, int depth, int interlace, ig_buf *out)
{
    size_t rowbytes = ((size_t)w * channels_of(colour) * (size_t)depth + 7) / 8;
    unsigned char *px = malloc(rowbytes * h);
    png_bytep *rows = malloc(sizeof *rows * h);
    for (size_t i = 0; i < rowbytes * h; i++)
        px[i] = (unsigned char)rnd();
    for (unsigned y = 0; y < h; y++)
        rows[y] = px + (size_t)y * rowbytes;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        ig_test_fail(__FILE__, __LINE__, "libpng could not write a %ux%u PNG", w, h);
    } else {
        png_set_write_fn(png, out, write_bytes, flush_nothing);
        png_set_IHDR(png, info, w, h, depth, colour, interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        if (colour == 3) {
            png_color palette[256];
            for (int i = 0; i < 256; i++)
                palette[i].red = (png_byte)i, palette[i].green = (png_byte)(255 - i),
                palette[i].blue = (png_byte)(i * 3);
            png_set_PLTE(png, info, palette, 1 << depth);
        }
        png_write_info(png, info);
        png_write_image(png, rows);
        png_write_end(png, NULL);
    }
    png_destroy_write_struct(&png, &info);
    free(rows);
    free(px);
}

/* The parts of a PNG: its IHDR (13 bytes), the chunks between IHDR and the first IDAT, and the
 * concatenated IDAT payload. */
typedef struct {
    unsigned char ihdr[13];
    ig_buf before, zdata;
} png_parts;

static void split(const ig_buf *png, png_parts *p)
{
    memset(p, 0, sizeof *p);
    ig_buf_init(&p->before, 0);
    ig_buf_init(&p->zdata, 0);
    const unsigned char *d = (const unsigned char *)png->data;
    size_t at = 8;
    while (at + 12 <= png->len) {
        uint32_t n = (uint32_t)d[at] << 24 | (uint32_t)d[at + 1] << 16 | (uint32_t)d[at + 2] << 8 | d[at + 3];
        const unsigned char *t = d + at + 4;
        if (memcmp(t, "IHDR", 4) == 0)
            memcpy(p->ihdr, t + 4, 13);
        else if (memcmp(t, "IDAT", 4) == 0)
            ig_buf_append(&p->zdata, t + 4, n);
        else if (memcmp(t, "IEND", 4) != 0 && p->zdata.len == 0)
            ig_buf_append(&p->before, d + at, 12 + (size_t)n);
        at += 12 + (size_t)n;
    }
}

static void parts_free(png_parts *p)
{
    ig_buf_free(&p->before);
    ig_buf_free(&p->zdata);
}

/* A PNG of these parts, its zlib data cut into IDAT chunks of at most idat_max bytes. */
static void join(const png_parts *p, size_t idat_max, ig_buf *out)
{
    ig_buf_append(out, "\x89PNG\r\n\x1a\n", 8);
    chunk(out, "IHDR", p->ihdr, 13);
    ig_buf_append(out, p->before.data, p->before.len);
    for (size_t at = 0; at < p->zdata.len; at += idat_max) {
        size_t n = p->zdata.len - at < idat_max ? p->zdata.len - at : idat_max;
        chunk(out, "IDAT", (const unsigned char *)p->zdata.data + at, n);
    }
    if (p->zdata.len == 0)
        chunk(out, "IDAT", "", 0);
    chunk(out, "IEND", "", 0);
}

static void inflate_all(const ig_buf *z, ig_buf *raw)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    inflateInit(&s);
    unsigned char out[4096];
    s.next_in = (unsigned char *)z->data;
    s.avail_in = (uInt)z->len;
    int rc;
    do {
        s.next_out = out;
        s.avail_out = sizeof out;
        rc = inflate(&s, Z_NO_FLUSH);
        ig_buf_append(raw, out, sizeof out - s.avail_out);
    } while (rc == Z_OK);
    inflateEnd(&s);
}

static void deflate_all(const void *raw, size_t n, ig_buf *z)
{
    uLongf cap = compressBound((uLong)n);
    unsigned char *tmp = malloc(cap);
    compress2(tmp, &cap, raw, (uLong)n, 6);
    ig_buf_reset(z);
    ig_buf_append(z, tmp, cap);
    free(tmp);
}

static void set_size(png_parts *p, uint32_t w, uint32_t h)
{
    put_be32(p->ihdr, w);
    put_be32(p->ihdr + 4, h);
}

/* ---- the checks -------------------------------------------------------------------------- */

/* ig_image_inspect, then ig_png_check_data; the verdict. */
static ig_image_verdict check(const ig_buf *png, size_t max_raw, ig_image_info *info)
{
    unsigned char *copy = malloc(png->len); /* exactly len bytes, so ASan sees a read past the end */
    memcpy(copy, png->data, png->len);
    ig_image_inspect(copy, png->len, info);
    ig_image_verdict v = ig_png_check_data(copy, png->len, max_raw, info);
    free(copy);
    return v;
}

/* libpng's own verdict: 1 when it decodes every pixel. */
static int libpng_decodes(const ig_buf *png)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, png->data, png->len))
        return 0;
    img.format = PNG_FORMAT_RGBA;
    void *px = malloc(PNG_IMAGE_SIZE(img));
    int ok = px && png_image_finish_read(&img, NULL, px, 0, NULL);
    free(px);
    png_image_free(&img);
    return ok;
}

#define CHECK_REFUSED(png, words)                                                                         \
    do {                                                                                                  \
        ig_image_info info_;                                                                              \
        IG_CHECK_EQ_INT(check(png, IG_PNG_DATA_MAX_RAW, &info_), IG_IMAGE_CORRUPT);                      \
        IG_CHECK_EQ_INT(info_.verdict, IG_IMAGE_CORRUPT);                                                 \
        if (!strstr(info_.message, words))                                                                \
            ig_test_fail(__FILE__, __LINE__, "\"%s\" does not say \"%s\"", info_.message, words);         \
        IG_CHECK_EQ_STR(ig_image_verdict_word(info_.verdict), "truncated");                               \
    } while (0)

static void test_every_kind_of_png_libpng_writes_passes(void)
{
    static const int kinds[][2] = {{0, 1}, {0, 2}, {0, 4}, {0, 8}, {0, 16}, {2, 8}, {2, 16}, {3, 1}, {3, 2},
                                   {3, 4}, {3, 8}, {4, 8}, {4, 16}, {6, 8}, {6, 16}};
    static const unsigned sizes[][2] = {{1, 1}, {3, 2}, {2, 3}, {9, 7}, {33, 17}, {5, 1}, {1, 9}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (int interlace = 0; interlace <= 1; interlace++) {
                ig_buf png;
                ig_buf_init(&png, 0);
                libpng_png(sizes[s][0], sizes[s][1], kinds[k][0], kinds[k][1], interlace, &png);
                ig_image_info info;
                ig_image_verdict v = check(&png, IG_PNG_DATA_MAX_RAW, &info);
                if (v != IG_IMAGE_OK || !libpng_decodes(&png))
                    ig_test_fail(__FILE__, __LINE__, "colour %d depth %d %ux%u interlace %d: %s", kinds[k][0],
                                 kinds[k][1], sizes[s][0], sizes[s][1], interlace, info.message);
                ig_buf_free(&png);
            }
}

static void test_a_header_that_lies_about_the_size_is_refused(void)
{
    for (int interlace = 0; interlace <= 1; interlace++) {
        ig_buf png, out;
        ig_buf_init(&png, 0);
        ig_buf_init(&out, 0);
        libpng_png(16, 16, 6, 8, interlace, &png);
        png_parts p;
        split(&png, &p);
        /* taller or wider than its data: rows missing, as libpng finds too */
        set_size(&p, 16, 17), join(&p, 1 << 20, &out);
        CHECK_REFUSED(&out, interlace ? "(the file is damaged)" : "stops after"); /* passes shift too */
        IG_CHECK(!libpng_decodes(&out));
        ig_buf_reset(&out);
        set_size(&p, 17, 16), join(&p, 1 << 20, &out); /* rows shift: a filter type or the total gives it away */
        CHECK_REFUSED(&out, "(the file is damaged)");
        IG_CHECK(!libpng_decodes(&out));
        ig_buf_reset(&out);
        /* smaller than its data: libpng shows part of it; the header does not give the size */
        set_size(&p, 16, 15), join(&p, 1 << 20, &out);
        CHECK_REFUSED(&out, interlace ? "(the file is damaged)" : "holds more than");
        ig_buf_reset(&out);
        set_size(&p, 16, 16), join(&p, 1 << 20, &out);
        ig_image_info info;
        IG_CHECK_EQ_INT(check(&out, IG_PNG_DATA_MAX_RAW, &info), IG_IMAGE_OK);
        parts_free(&p);
        ig_buf_free(&png);
        ig_buf_free(&out);
    }
    /* the exact sentence */
    ig_buf png, out;
    ig_buf_init(&png, 0);
    ig_buf_init(&out, 0);
    libpng_png(64, 64, 6, 8, 0, &png);
    png_parts p;
    split(&png, &p);
    set_size(&p, 64, 100), join(&p, 1 << 20, &out);
    ig_image_info info;
    check(&out, IG_PNG_DATA_MAX_RAW, &info);
    IG_CHECK_EQ_STR(info.message,
                    "the PNG's image data stops after 16448 of the 25700 bytes its 64x100 header needs (the file is "
                    "damaged)");
    ig_buf_reset(&out);
    set_size(&p, 64, 32), join(&p, 1 << 20, &out);
    check(&out, IG_PNG_DATA_MAX_RAW, &info);
    IG_CHECK_EQ_STR(info.message, "the PNG's image data holds more than the 8224 bytes its 64x32 header needs: the "
                                  "header does not give the image's size (the file is damaged)");
    parts_free(&p);
    ig_buf_free(&png);
    ig_buf_free(&out);
}

/* A tiny file whose header claims 65535x65535 pixels: over the budget, it is left to the
 * policy's pixel limits (checking it would inflate gigabytes); under it, refused at once. */
static void test_bomb_headers(void)
{
    png_parts p;
    memset(&p, 0, sizeof p);
    ig_buf_init(&p.before, 0);
    ig_buf_init(&p.zdata, 0);
    unsigned char ihdr[13] = {0, 0, 0, 0, 0, 0, 0, 0, 8, 6, 0, 0, 0};
    memcpy(p.ihdr, ihdr, 13);
    static unsigned char raw[4 * (1 + 65535 * 4)]; /* four rows of zeros */
    deflate_all(raw, sizeof raw, &p.zdata);
    ig_buf out;
    ig_buf_init(&out, 0);
    set_size(&p, 65535, 65535), join(&p, 1 << 20, &out);
    IG_CHECK(out.len < 2000);
    ig_image_info info;
    IG_CHECK_EQ_INT(check(&out, IG_PNG_DATA_MAX_RAW, &info), IG_IMAGE_OK);
    IG_CHECK_EQ_INT(info.width, 65535);
    ig_buf_reset(&out);
    set_size(&p, 65535, 100), join(&p, 1 << 20, &out); /* 26 MB promised, 1 MB there */
    CHECK_REFUSED(&out, "stops after 1048564 of the 26214100 bytes its 65535x100 header needs");
    /* a budget of 1 byte checks nothing */
    IG_CHECK_EQ_INT(check(&out, 1, &info), IG_IMAGE_OK);
    parts_free(&p);
    ig_buf_free(&out);
}

static void test_damaged_or_foreign_zlib_streams(void)
{
    ig_buf png, out;
    ig_buf_init(&png, 0);
    ig_buf_init(&out, 0);
    libpng_png(20, 10, 2, 8, 0, &png);
    png_parts p;
    split(&png, &p);
    ig_buf good;
    ig_buf_init(&good, 0);
    ig_buf_append(&good, p.zdata.data, p.zdata.len);
    /* not zlib at all */
    ig_buf_reset(&p.zdata), ig_buf_append_str(&p.zdata, "notzlibnotzlib"), join(&p, 1 << 20, &out);
    CHECK_REFUSED(&out, "is not a valid zlib stream (incorrect header check)");
    IG_CHECK(!libpng_decodes(&out));
    /* cut in half */
    ig_buf_reset(&out), ig_buf_reset(&p.zdata), ig_buf_append(&p.zdata, good.data, good.len / 2);
    join(&p, 1 << 20, &out);
    CHECK_REFUSED(&out, "stops after");
    IG_CHECK(!libpng_decodes(&out));
    /* empty IDAT */
    ig_buf_reset(&out), ig_buf_reset(&p.zdata), join(&p, 1 << 20, &out);
    CHECK_REFUSED(&out, "stops after 0 of the 610 bytes");
    /* a stream that asks for a preset dictionary */
    ig_buf raw;
    ig_buf_init(&raw, 0);
    inflate_all(&good, &raw);
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit(&z, 6);
    deflateSetDictionary(&z, (const Bytef *)"dictionary", 10);
    unsigned char zbuf[4096];
    z.next_in = (unsigned char *)raw.data, z.avail_in = (uInt)raw.len;
    z.next_out = zbuf, z.avail_out = sizeof zbuf;
    IG_CHECK_EQ_INT(deflate(&z, Z_FINISH), Z_STREAM_END);
    ig_buf_reset(&p.zdata), ig_buf_append(&p.zdata, zbuf, sizeof zbuf - z.avail_out);
    deflateEnd(&z);
    ig_buf_reset(&out), join(&p, 1 << 20, &out);
    CHECK_REFUSED(&out, "it asks for a preset dictionary");
    /* a bad filter type in the third row */
    ((unsigned char *)raw.data)[2 * 61] = 5;
    deflate_all(raw.data, raw.len, &p.zdata);
    ig_buf_reset(&out), join(&p, 1 << 20, &out);
    CHECK_REFUSED(&out, "row 3 of the PNG's image data starts with filter type 5; PNG defines 0 to 4");
    IG_CHECK(!libpng_decodes(&out));
    ig_buf_free(&raw);
    ig_buf_free(&good);
    parts_free(&p);
    ig_buf_free(&png);
    ig_buf_free(&out);
}

static void test_idat_chunks_one_byte_each_or_scattered(void)
{
    ig_buf png, out;
    ig_buf_init(&png, 0);
    ig_buf_init(&out, 0);
    libpng_png(30, 30, 6, 8, 1, &png);
    png_parts p;
    split(&png, &p);
    join(&p, 1, &out); /* one IDAT per byte */
    ig_image_info info;
    IG_CHECK_EQ_INT(check(&out, IG_PNG_DATA_MAX_RAW, &info), IG_IMAGE_OK);
    /* bytes after IEND are not the image's */
    ig_buf_append_str(&out, "trailing bytes");
    IG_CHECK_EQ_INT(check(&out, IG_PNG_DATA_MAX_RAW, &info), IG_IMAGE_OK);
    /* a chunk between two IDATs: libpng stops at it */
    ig_buf_reset(&out);
    ig_buf_append(&out, "\x89PNG\r\n\x1a\n", 8);
    chunk(&out, "IHDR", p.ihdr, 13);
    chunk(&out, "IDAT", p.zdata.data, 10);
    chunk(&out, "tEXt", "k\0v", 3);
    chunk(&out, "IDAT", (const unsigned char *)p.zdata.data + 10, p.zdata.len - 10);
    chunk(&out, "IEND", "", 0);
    CHECK_REFUSED(&out, "IDAT chunks are not consecutive");
    IG_CHECK(!libpng_decodes(&out));
    parts_free(&p);
    ig_buf_free(&png);
    ig_buf_free(&out);
}

/* Random damage to the inflated rows (a byte changed, bytes cut or added) and to the zlib
 * stream itself: whatever is accepted must decode with libpng, and rows missing or a bad
 * filter type must fail there too. */
static void test_libpng_decodes_whatever_is_accepted(void)
{
    static const int kinds[][2] = {{0, 1}, {0, 8}, {0, 16}, {2, 8}, {3, 2}, {3, 8}, {4, 8}, {6, 8}, {6, 16}};
    int accepted = 0, refused = 0;
    for (int round = 0; round < 600; round++) {
        int k = (int)(rnd() % (sizeof kinds / sizeof kinds[0]));
        unsigned w = 1 + rnd() % 24, h = 1 + rnd() % 24;
        int interlace = (int)(rnd() % 2);
        ig_buf png, raw, out;
        ig_buf_init(&png, 0);
        ig_buf_init(&raw, 0);
        ig_buf_init(&out, 0);
        libpng_png(w, h, kinds[k][0], kinds[k][1], interlace, &png);
        png_parts p;
        split(&png, &p);
        inflate_all(&p.zdata, &raw);
        unsigned char *r = (unsigned char *)raw.data;
        switch (rnd() % 4) {
        case 0: /* one byte changed, perhaps a filter byte */
            r[rnd() % raw.len] = (unsigned char)rnd();
            deflate_all(raw.data, raw.len, &p.zdata);
            break;
        case 1: /* rows cut short */
            deflate_all(raw.data, raw.len - 1 - rnd() % raw.len / 2, &p.zdata);
            break;
        case 2: /* bytes added */
            ig_buf_append(&raw, "\0\0\0\0\0\0\0\0", 1 + rnd() % 8);
            deflate_all(raw.data, raw.len, &p.zdata);
            break;
        default: /* the zlib stream damaged */
            ((unsigned char *)p.zdata.data)[rnd() % p.zdata.len] ^= (unsigned char)(1 + rnd() % 255);
            break;
        }
        join(&p, 1 + rnd() % 64, &out);
        ig_image_info info;
        ig_image_verdict v = check(&out, IG_PNG_DATA_MAX_RAW, &info);
        int decodes = libpng_decodes(&out);
        if (v == IG_IMAGE_OK) {
            accepted++;
            if (!decodes)
                ig_test_fail(__FILE__, __LINE__, "round %d: accepted, but libpng cannot decode it", round);
        } else {
            refused++;
            IG_CHECK_EQ_INT(v, IG_IMAGE_CORRUPT);
            IG_CHECK(strstr(info.message, "(the file is damaged)") != NULL);
            if ((strstr(info.message, "stops after") || strstr(info.message, "filter type")) && decodes)
                ig_test_fail(__FILE__, __LINE__, "round %d: refused (%s), but libpng decodes it", round,
                             info.message);
        }
        parts_free(&p);
        ig_buf_free(&png);
        ig_buf_free(&raw);
        ig_buf_free(&out);
    }
    /* both outcomes were exercised */
    IG_CHECK(accepted > 50 && refused > 50);
}

int main(void)
{
    IG_RUN(test_every_kind_of_png_libpng_writes_passes);
    IG_RUN(test_a_header_that_lies_about_the_size_is_refused);
    IG_RUN(test_bomb_headers);
    IG_RUN(test_damaged_or_foreign_zlib_streams);
    IG_RUN(test_idat_chunks_one_byte_each_or_scattered);
    IG_RUN(test_libpng_decodes_whatever_is_accepted);
    return ig_test_finish("png_data");
}
