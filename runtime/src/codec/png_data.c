/* png_data.c - a PNG's zlib stream against its header (see png_data.h).
 *
 * The chunks were walked and their CRCs checked by ig_image_inspect, so this file trusts their
 * lengths. It feeds the first run of consecutive IDAT chunks to zlib, as libpng does (an IDAT
 * after another chunk is an error there too), and follows the inflated bytes with a cursor over
 * the rows: where each row's filter byte falls, pass by pass for an interlaced image.
 */
#include "codec/png_data.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#define SCRATCH 16384

/* The rows of the image data: up to seven passes (Adam7), each of rows of row_len bytes (the
 * filter byte and the pixels). */
typedef struct {
    uint64_t rows[7], row_len[7];
    int passes;
    int pass;            /* the pass of the next filter byte */
    uint64_t left;       /* rows left in that pass */
    uint64_t next;       /* the stream offset of the next filter byte; UINT64_MAX after the last */
    uint64_t row;        /* rows seen so far, for messages */
    uint64_t expected;   /* bytes the header needs */
    uint64_t seen;       /* bytes inflated so far */
} png_rows;

static ig_image_verdict damaged(ig_image_info *info, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static ig_image_verdict damaged(ig_image_info *info, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(info->message, sizeof info->message, fmt, ap);
    va_end(ap);
    info->verdict = IG_IMAGE_CORRUPT;
    return IG_IMAGE_CORRUPT;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned channels(int colour)
{
    switch (colour) {
    case 2:
        return 3;
    case 4:
        return 2;
    case 6:
        return 4;
    default: /* 0 grey, 3 palette */
        return 1;
    }
}

/* The bytes of one row of `width` pixels, its filter byte included. */
static uint64_t row_bytes(uint64_t width, unsigned bits_per_pixel)
{
    return 1 + (width * bits_per_pixel + 7) / 8;
}

static void rows_start_pass(png_rows *r)
{
    while (r->pass < r->passes && r->rows[r->pass] == 0)
        r->pass++;
    r->left = r->pass < r->passes ? r->rows[r->pass] : 0;
    if (r->left == 0)
        r->next = UINT64_MAX;
}

/* The layout of the image data from IHDR (13 bytes at ihdr). */
static void rows_init(png_rows *r, const unsigned char *ihdr)
{
    static const unsigned x0[7] = {0, 4, 0, 2, 0, 1, 0}, y0[7] = {0, 0, 4, 0, 2, 0, 1};
    static const unsigned dx[7] = {8, 8, 4, 4, 2, 2, 1}, dy[7] = {8, 8, 8, 4, 4, 2, 2};
    memset(r, 0, sizeof *r);
    uint64_t w = be32(ihdr), h = be32(ihdr + 4);
    unsigned bpp = channels(ihdr[9]) * ihdr[8];
    if (ihdr[12] == 0) {
        r->passes = 1;
        r->rows[0] = h;
        r->row_len[0] = row_bytes(w, bpp);
    } else {
        r->passes = 7;
        for (int p = 0; p < 7; p++) {
            uint64_t pw = w > x0[p] ? (w - x0[p] + dx[p] - 1) / dx[p] : 0;
            uint64_t ph = h > y0[p] ? (h - y0[p] + dy[p] - 1) / dy[p] : 0;
            r->rows[p] = pw && ph ? ph : 0; /* a pass without pixels has no rows at all */
            r->row_len[p] = row_bytes(pw, bpp);
        }
    }
    for (int p = 0; p < r->passes; p++)
        r->expected += r->rows[p] * r->row_len[p];
    rows_start_pass(r);
}

/* Follows n inflated bytes: every filter byte among them, and the total. */
static ig_image_verdict rows_take(png_rows *r, const unsigned char *out, size_t n, unsigned w, unsigned h,
                                  ig_image_info *info)
{
    uint64_t base = r->seen;
    if (n > r->expected - r->seen)
        return damaged(info, "the PNG's image data holds more than the %llu bytes its %ux%u header needs: the "
                       "header does not give the image's size (the file is damaged)",
                       (unsigned long long)r->expected, w, h);
    r->seen += n;
    while (r->next < r->seen) {
        unsigned filter = out[r->next - base];
        if (filter > 4)
            return damaged(info, "row %llu of the PNG's image data starts with filter type %u; PNG defines 0 to 4 "
                           "(the file is damaged)", (unsigned long long)r->row + 1, filter);
        r->next += r->row_len[r->pass];
        r->row++;
        if (--r->left == 0) {
            r->pass++;
            rows_start_pass(r);
        }
    }
    return IG_IMAGE_OK;
}

/* Inflates one IDAT chunk's bytes. *ended is set at the end of the zlib stream. */
static ig_image_verdict inflate_chunk(z_stream *z, const unsigned char *d, uint32_t n, png_rows *r, int *ended,
                                      unsigned w, unsigned h, ig_image_info *info)
{
    unsigned char out[SCRATCH];
    z->next_in = (unsigned char *)d;
    z->avail_in = n;
    do {
        z->next_out = out;
        z->avail_out = sizeof out;
        int rc = inflate(z, Z_NO_FLUSH);
        if (rc == Z_MEM_ERROR) {
            *ended = 1; /* the runtime's problem, not the image's: left unchecked */
            r->seen = r->expected;
            return IG_IMAGE_OK;
        }
        if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_STREAM_ERROR)
            return damaged(info, "the PNG's image data is not a valid zlib stream (%s) (the file is damaged)",
                           rc == Z_NEED_DICT ? "it asks for a preset dictionary" : z->msg ? z->msg : "a damaged block");
        if (rows_take(r, out, sizeof out - z->avail_out, w, h, info) != IG_IMAGE_OK)
            return IG_IMAGE_CORRUPT;
        if (rc == Z_STREAM_END) {
            *ended = 1;
            return IG_IMAGE_OK;
        }
    } while (z->avail_out == 0);
    return IG_IMAGE_OK;
}

/* Walks the chunks (known to be whole) and inflates the first run of IDATs. */
static ig_image_verdict inflate_idats(const unsigned char *p, size_t len, z_stream *z, png_rows *r, unsigned w,
                                      unsigned h, ig_image_info *info)
{
    size_t at = 8;
    int state = 0; /* 0: before the IDATs, 1: inside them, 2: after them */
    int ended = 0;
    while (len - at >= 12) {
        uint32_t n = be32(p + at);
        const unsigned char *t = p + at + 4;
        if (memcmp(t, "IEND", 4) == 0)
            break;
        if (memcmp(t, "IDAT", 4) == 0) {
            if (state == 2)
                return damaged(info, "the PNG's IDAT chunks are not consecutive: another chunk stands between them "
                               "(the file is damaged)");
            state = 1;
            if (!ended && inflate_chunk(z, t + 4, n, r, &ended, w, h, info) != IG_IMAGE_OK)
                return IG_IMAGE_CORRUPT;
        } else if (state == 1) {
            state = 2;
        }
        at += 12 + (size_t)n;
    }
    if (r->seen < r->expected)
        return damaged(info, "the PNG's image data stops after %llu of the %llu bytes its %ux%u header needs "
                       "(the file is damaged)", (unsigned long long)r->seen, (unsigned long long)r->expected, w, h);
    return IG_IMAGE_OK;
}

ig_image_verdict ig_png_check_data(const void *png, size_t len, size_t max_raw, ig_image_info *info)
{
    const unsigned char *p = png;
    if (info->verdict != IG_IMAGE_OK || info->type != IG_IMAGE_PNG || len < 33)
        return info->verdict;
    if (info->image_len && info->image_len < len)
        len = info->image_len; /* bytes after IEND are not the image's */
    png_rows r;
    rows_init(&r, p + 16);
    if (r.expected > max_raw)
        return IG_IMAGE_OK; /* too large for any model: the policy refuses it by its size */
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK)
        return IG_IMAGE_OK; /* out of memory: the runtime's problem, not the image's; left unchecked */
    ig_image_verdict v = inflate_idats(p, len, &z, &r, info->width, info->height, info);
    inflateEnd(&z);
    return v;
}
