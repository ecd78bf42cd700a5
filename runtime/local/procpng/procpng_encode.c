/* procpng_encode.c - PNG writer: Sub-filtered scanlines, deflated by zlib with its
 * Huffman-only strategy (PNG specification; RFC 1950 and 1951 through zlib).
 *
 * Why Huffman-only: the pictures carry per-pixel grain, where string matching finds almost
 * nothing; a per-block Huffman code over the filtered bytes is what a full deflate ends up
 * emitting for such data, at a fraction of the cost.
 */
#include "procpng_encode.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PNG_ROWS_BYTES (128u * 1024u) /* filtered bytes handed to zlib at a time, about */

/* PNG filter type 1 (Sub) for one row of bpp-byte pixels: the difference to the pixel on the
 * left. */
static void filter_sub(const unsigned char *row, size_t row_bytes, size_t bpp, unsigned char *out)
{
    out[0] = 1;
    memcpy(out + 1, row, row_bytes < bpp ? row_bytes : bpp);
    for (size_t i = bpp; i < row_bytes; i++)
        out[1 + i] = (unsigned char)(row[i] - row[i - bpp]);
}

/* Appends the zlib stream of the filtered picture (bpp bytes a pixel) to out. */
static ig_err zlib_stream(const unsigned char *px, unsigned width, unsigned height, size_t bpp,
                          ig_buf *out)
{
    size_t row_bytes = (size_t)width * bpp, line = row_bytes + 1;
    if (line > UINT_MAX / 2)
        return IG_ERR_TOO_LARGE;
    size_t rows_per_chunk = PNG_ROWS_BYTES / line;
    if (rows_per_chunk == 0)
        rows_per_chunk = 1;
    unsigned char *rows = malloc(rows_per_chunk * line);
    if (!rows)
        return IG_ERR_NOMEM;
    z_stream z;
    memset(&z, 0, sizeof z);
    /* memLevel 9: the largest blocks, so each Huffman code covers more of the picture. */
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15, 9, Z_HUFFMAN_ONLY) != Z_OK) {
        free(rows);
        return IG_ERR_NOMEM;
    }
    ig_err e = IG_OK;
    for (size_t y = 0; !e && y < height; y += rows_per_chunk) {
        size_t n = height - y < rows_per_chunk ? height - y : rows_per_chunk;
        for (size_t r = 0; r < n; r++)
            filter_sub(px + (y + r) * row_bytes, row_bytes, bpp, rows + r * line);
        int flush = y + n >= height ? Z_FINISH : Z_NO_FLUSH;
        z.next_in = rows;
        z.avail_in = (uInt)(n * line);
        int rc;
        do {
            size_t room = deflateBound(&z, z.avail_in) + 64;
            if ((e = ig_buf_reserve(out, room)) != IG_OK)
                break;
            z.next_out = (unsigned char *)out->data + out->len;
            z.avail_out = (uInt)(room < UINT_MAX ? room : UINT_MAX);
            uInt before = z.avail_out;
            rc = deflate(&z, flush);
            out->len += before - z.avail_out;
            out->data[out->len] = '\0';
            if (rc == Z_STREAM_ERROR)
                e = IG_ERR_INVALID_ARG; /* zlib refused its own state: cannot happen */
        } while (!e && (z.avail_in > 0 || (flush == Z_FINISH && rc != Z_STREAM_END)));
    }
    deflateEnd(&z);
    free(rows);
    return e;
}

/* ---- PNG chunks ---- */

static void put_u32be(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Opens a chunk: length placeholder and type. Returns the offset of the length field. */
static ig_err chunk_begin(ig_buf *out, const char type[4], size_t *start)
{
    *start = out->len;
    static const unsigned char zero[4] = {0, 0, 0, 0};
    ig_err e = ig_buf_append(out, zero, 4);
    return e ? e : ig_buf_append(out, type, 4);
}

/* Closes a chunk: patches the length, appends the CRC of type and data. */
static ig_err chunk_end(ig_buf *out, size_t start)
{
    size_t data_len = out->len - start - 8;
    if (data_len > 0x7fffffffu)
        return IG_ERR_TOO_LARGE;
    put_u32be((unsigned char *)out->data + start, (uint32_t)data_len);
    unsigned char crc[4];
    put_u32be(crc, (uint32_t)crc32_z(0, (const Bytef *)out->data + start + 4, data_len + 4));
    return ig_buf_append(out, crc, 4);
}

static ig_err chunk_simple(ig_buf *out, const char type[4], const void *data, size_t len)
{
    size_t start;
    ig_err e = chunk_begin(out, type, &start);
    if (!e)
        e = ig_buf_append(out, data, len);
    return e ? e : chunk_end(out, start);
}

/* The whole file for pixels of bpp bytes (3: RGB, colour type 2; 4: RGBA, colour type 6). */
static ig_err encode_png(const unsigned char *px, unsigned width, unsigned height, size_t bpp,
                         ig_buf *out, ig_error *err)
{
    if (!px || width == 0 || height == 0 || width > 0x7fffffffu / 4 || height > 0x7fffffffu)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "a PNG needs pixels and a size of at least 1x1");

    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char ihdr[13];
    put_u32be(ihdr, width);
    put_u32be(ihdr + 4, height);
    ihdr[8] = 8;   /* bit depth */
    ihdr[9] = bpp == 4 ? 6 : 2; /* colour type: truecolour with alpha, or truecolour */
    ihdr[10] = 0;  /* compression: deflate */
    ihdr[11] = 0;  /* filter method 0 */
    ihdr[12] = 0;  /* no interlace */
    static const char software[] = "Software\0bedrock-local: procedural picture, not AI-generated";

    ig_err e = ig_buf_append(out, signature, sizeof signature);
    if (!e)
        e = chunk_simple(out, "IHDR", ihdr, sizeof ihdr);
    if (!e)
        e = chunk_simple(out, "tEXt", software, sizeof software - 1);
    size_t idat = 0;
    if (!e)
        e = chunk_begin(out, "IDAT", &idat);
    if (!e)
        e = zlib_stream(px, width, height, bpp, out);
    if (!e)
        e = chunk_end(out, idat);
    if (!e)
        e = chunk_simple(out, "IEND", "", 0);
    if (e)
        return ig_error_set(err, e, "could not encode a %ux%u PNG: %s", width, height,
                            ig_strerror(e));
    return IG_OK;
}

ig_err procpng_encode_rgb(const unsigned char *rgb, unsigned width, unsigned height, ig_buf *out,
                          ig_error *err)
{
    return encode_png(rgb, width, height, 3, out, err);
}

ig_err procpng_encode_rgba(const unsigned char *rgba, unsigned width, unsigned height, ig_buf *out,
                           ig_error *err)
{
    return encode_png(rgba, width, height, 4, out, err);
}
