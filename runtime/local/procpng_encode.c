/* procpng_encode.c - PNG writer: Sub-filtered scanlines in literal-only dynamic-Huffman deflate
 * blocks (RFC 1950, RFC 1951, PNG specification).
 *
 * Why literal-only: the pictures carry per-pixel grain, where string matching finds almost
 * nothing; a per-block Huffman code over the filtered bytes is what any deflater ends up
 * emitting for such data, at a fraction of the cost. Each block gets its own code so areas of
 * different texture are coded with their own statistics.
 */
#include "procpng_encode.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PNG_BLOCK_BYTES (128u * 1024u) /* filtered bytes per deflate block, about */
#define LIT_SYMBOLS 257                /* literals 0..255 and end-of-block 256 */
#define END_OF_BLOCK 256
#define CL_SYMBOLS 19                  /* the code-length alphabet */
#define MAX_SYMBOLS LIT_SYMBOLS
#define LIT_MAX_BITS 15
#define CL_MAX_BITS 7

/* ---- checksums ---- */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_table_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

uint32_t procpng_crc32(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&crc_once, crc_table_init);
    const unsigned char *p = data;
    crc = ~crc;
    while (len--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

uint32_t procpng_adler32(uint32_t adler, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t a = adler & 0xffff, b = adler >> 16;
    while (len) {
        /* 5552 is the largest run for which b cannot overflow 32 bits before the modulo. */
        size_t n = len < 5552 ? len : 5552;
        len -= n;
        while (n--) {
            a += *p++;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    return (b << 16) | a;
}

/* ---- Huffman codes ---- */

typedef struct {
    uint32_t freq;
    unsigned sym;
} huff_leaf;

static int huff_leaf_cmp(const void *pa, const void *pb)
{
    const huff_leaf *a = pa, *b = pb;
    if (a->freq != b->freq)
        return a->freq < b->freq ? -1 : 1;
    return a->sym < b->sym ? -1 : (a->sym > b->sym);
}

/* Optimal (unlimited) code lengths by the two-queue method; returns the longest length. */
static unsigned huff_build(const uint32_t *freq, unsigned n, uint8_t *lens)
{
    huff_leaf leaves[MAX_SYMBOLS];
    uint64_t weight[2 * MAX_SYMBOLS];
    unsigned parent[2 * MAX_SYMBOLS], depth[2 * MAX_SYMBOLS];
    unsigned m = 0;

    memset(lens, 0, n);
    for (unsigned s = 0; s < n; s++)
        if (freq[s])
            leaves[m++] = (huff_leaf){freq[s], s};
    if (m == 0)
        return 0;
    if (m == 1) {
        lens[leaves[0].sym] = 1;
        return 1;
    }
    qsort(leaves, m, sizeof leaves[0], huff_leaf_cmp);
    for (unsigned i = 0; i < m; i++)
        weight[i] = leaves[i].freq;

    /* Leaves are taken in order from [0, m), internal nodes from [m, next): both sorted. */
    unsigned li = 0, ii = m, next = m;
    while (next < 2 * m - 1) {
        unsigned pick[2];
        for (int k = 0; k < 2; k++) {
            if (li < m && (ii >= next || weight[li] <= weight[ii]))
                pick[k] = li++;
            else
                pick[k] = ii++;
        }
        weight[next] = weight[pick[0]] + weight[pick[1]];
        parent[pick[0]] = parent[pick[1]] = next;
        next++;
    }
    unsigned root = 2 * m - 2, longest = 0;
    depth[root] = 0;
    for (unsigned i = root; i-- > 0;) /* parents always have larger indices */
        depth[i] = depth[parent[i]] + 1;
    for (unsigned i = 0; i < m; i++) {
        lens[leaves[i].sym] = (uint8_t)depth[i];
        if (depth[i] > longest)
            longest = depth[i];
    }
    return longest;
}

/* Code lengths no longer than max_bits: flatten the frequencies until the tree fits. The
 * flattening ends with all frequencies equal, a balanced tree that fits any limit used here. */
static void huff_lengths(const uint32_t *freq, unsigned n, unsigned max_bits, uint8_t *lens)
{
    uint32_t f[MAX_SYMBOLS];
    memcpy(f, freq, n * sizeof f[0]);
    while (huff_build(f, n, lens) > max_bits) {
        for (unsigned s = 0; s < n; s++)
            if (f[s])
                f[s] = (f[s] >> 1) | 1;
    }
}

static uint32_t bit_reverse(uint32_t code, unsigned len)
{
    uint32_t r = 0;
    for (unsigned i = 0; i < len; i++) {
        r = (r << 1) | (code & 1);
        code >>= 1;
    }
    return r;
}

/* Canonical codes (RFC 1951 3.2.2), bit-reversed because deflate packs them MSB first into an
 * LSB-first stream. */
static void huff_codes(const uint8_t *lens, unsigned n, uint32_t *codes)
{
    unsigned count[16] = {0}, next_code[16] = {0};
    for (unsigned s = 0; s < n; s++)
        count[lens[s]]++;
    count[0] = 0;
    unsigned code = 0;
    for (unsigned bits = 1; bits < 16; bits++) {
        code = (code + count[bits - 1]) << 1;
        next_code[bits] = code;
    }
    for (unsigned s = 0; s < n; s++)
        codes[s] = lens[s] ? bit_reverse(next_code[lens[s]]++, lens[s]) : 0;
}

/* ---- bit output ---- */

typedef struct {
    unsigned char *p; /* next byte to write; the caller reserved enough room */
    uint64_t acc;
    unsigned nbits;
} bit_writer;

static inline void bits_put(bit_writer *w, uint32_t bits, unsigned len)
{
    w->acc |= (uint64_t)bits << w->nbits;
    w->nbits += len;
    if (w->nbits >= 32) {
        w->p[0] = (unsigned char)w->acc;
        w->p[1] = (unsigned char)(w->acc >> 8);
        w->p[2] = (unsigned char)(w->acc >> 16);
        w->p[3] = (unsigned char)(w->acc >> 24);
        w->p += 4;
        w->acc >>= 32;
        w->nbits -= 32;
    }
}

/* Writes the pending bits, padding the last byte with zeros. */
static void bits_flush(bit_writer *w)
{
    while (w->nbits > 0) {
        *w->p++ = (unsigned char)w->acc;
        w->acc >>= 8;
        w->nbits = w->nbits > 8 ? w->nbits - 8 : 0;
    }
}

/* ---- deflate ---- */

static const uint8_t cl_order[CL_SYMBOLS] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
                                             11, 4,  12, 3, 13, 2, 14, 1, 15};

/* One dynamic-Huffman block of literals (BTYPE 2). The header sends 257 literal/length code
 * lengths and one distance code length of zero ("no distance codes", RFC 1951 3.2.7),
 * each as a plain code-length symbol 0..15 (no run-length codes). */
static void deflate_block(bit_writer *w, const unsigned char *data, size_t len, int final)
{
    uint32_t freq[LIT_SYMBOLS] = {0};
    for (size_t i = 0; i < len; i++)
        freq[data[i]]++;
    freq[END_OF_BLOCK] = 1;

    uint8_t lit_len[LIT_SYMBOLS];
    uint32_t lit_code[LIT_SYMBOLS];
    huff_lengths(freq, LIT_SYMBOLS, LIT_MAX_BITS, lit_len);
    huff_codes(lit_len, LIT_SYMBOLS, lit_code);

    uint8_t seq[LIT_SYMBOLS + 1];
    memcpy(seq, lit_len, LIT_SYMBOLS);
    seq[LIT_SYMBOLS] = 0; /* the one distance code length */
    uint32_t cl_freq[CL_SYMBOLS] = {0};
    for (unsigned i = 0; i < LIT_SYMBOLS + 1; i++)
        cl_freq[seq[i]]++;
    /* A one-symbol code is incomplete, which inflaters refuse for the code-length code; the
     * zero length of the distance code and the end-of-block length always make two. */
    uint8_t cl_len[CL_SYMBOLS];
    uint32_t cl_code[CL_SYMBOLS];
    huff_lengths(cl_freq, CL_SYMBOLS, CL_MAX_BITS, cl_len);
    huff_codes(cl_len, CL_SYMBOLS, cl_code);

    unsigned hclen = CL_SYMBOLS;
    while (hclen > 4 && cl_len[cl_order[hclen - 1]] == 0)
        hclen--;

    bits_put(w, final ? 1u : 0u, 1);
    bits_put(w, 2, 2);                 /* dynamic Huffman */
    bits_put(w, LIT_SYMBOLS - 257, 5); /* HLIT */
    bits_put(w, 0, 5);                 /* HDIST: one distance code */
    bits_put(w, hclen - 4, 4);         /* HCLEN */
    for (unsigned i = 0; i < hclen; i++)
        bits_put(w, cl_len[cl_order[i]], 3);
    for (unsigned i = 0; i < LIT_SYMBOLS + 1; i++)
        bits_put(w, cl_code[seq[i]], cl_len[seq[i]]);

    uint32_t packed[256]; /* code | length << 16: one load per byte */
    for (unsigned s = 0; s < 256; s++)
        packed[s] = lit_code[s] | (uint32_t)lit_len[s] << 16;
    for (size_t i = 0; i < len; i++) {
        uint32_t c = packed[data[i]];
        bits_put(w, c & 0xffff, c >> 16);
    }
    bits_put(w, lit_code[END_OF_BLOCK], lit_len[END_OF_BLOCK]);
}

/* PNG filter type 1 (Sub) for one RGB row: the difference to the pixel on the left. */
static void filter_sub(const unsigned char *row, size_t row_bytes, unsigned char *out)
{
    out[0] = 1;
    memcpy(out + 1, row, row_bytes < 3 ? row_bytes : 3);
    for (size_t i = 3; i < row_bytes; i++)
        out[1 + i] = (unsigned char)(row[i] - row[i - 3]);
}

/* Appends the zlib stream of the filtered picture to out. */
static ig_err zlib_stream(const unsigned char *rgb, unsigned width, unsigned height, ig_buf *out)
{
    size_t row_bytes = (size_t)width * 3, line = row_bytes + 1;
    size_t rows_per_block = PNG_BLOCK_BYTES / line;
    if (rows_per_block == 0)
        rows_per_block = 1;
    unsigned char *block = malloc(rows_per_block * line);
    if (!block)
        return IG_ERR_NOMEM;

    static const unsigned char zlib_header[2] = {0x78, 0x01}; /* deflate, 32K window, no dict */
    ig_err e = ig_buf_append(out, zlib_header, 2);
    bit_writer w = {NULL, 0, 0};
    uint32_t adler = 1;
    for (size_t y = 0; !e && y < height; y += rows_per_block) {
        size_t rows = height - y < rows_per_block ? height - y : rows_per_block;
        for (size_t r = 0; r < rows; r++)
            filter_sub(rgb + (y + r) * row_bytes, row_bytes, block + r * line);
        size_t len = rows * line;
        adler = procpng_adler32(adler, block, len);
        /* Worst case 15 bits a byte, plus the block header and the pending bits. */
        e = ig_buf_reserve(out, len * 2 + 1024);
        if (e)
            break;
        w.p = (unsigned char *)out->data + out->len;
        deflate_block(&w, block, len, y + rows >= height);
        if (y + rows >= height)
            bits_flush(&w);
        out->len = (size_t)(w.p - (unsigned char *)out->data);
        out->data[out->len] = '\0';
    }
    free(block);
    if (e)
        return e;
    unsigned char trailer[4] = {(unsigned char)(adler >> 24), (unsigned char)(adler >> 16),
                                (unsigned char)(adler >> 8), (unsigned char)adler};
    return ig_buf_append(out, trailer, 4);
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
    put_u32be(crc, procpng_crc32(0, out->data + start + 4, data_len + 4));
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

ig_err procpng_encode_rgb(const unsigned char *rgb, unsigned width, unsigned height, ig_buf *out,
                          ig_error *err)
{
    if (!rgb || width == 0 || height == 0 || width > 0x7fffffffu / 4 || height > 0x7fffffffu)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "a PNG needs pixels and a size of at least 1x1");

    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char ihdr[13];
    put_u32be(ihdr, width);
    put_u32be(ihdr + 4, height);
    ihdr[8] = 8;   /* bit depth */
    ihdr[9] = 2;   /* colour type: truecolour */
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
        e = zlib_stream(rgb, width, height, out);
    if (!e)
        e = chunk_end(out, idat);
    if (!e)
        e = chunk_simple(out, "IEND", "", 0);
    if (e)
        return ig_error_set(err, e, "could not encode a %ux%u PNG: %s", width, height,
                            ig_strerror(e));
    return IG_OK;
}
