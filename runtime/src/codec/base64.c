/* base64.c - strict RFC 4648 base64: 32 symbols per step with AVX2 where the CPU has it,
 * else four symbols per step from tables.
 *
 * Bedrock answers carry every image as one base64 string of several megabytes, so the
 * decoder sits on the hot path of each invocation.
 *
 * The table path looks each of the four symbols of a quantum up in its own 256-entry table;
 * the tables hold the symbol's six bits already shifted to their place in the three output
 * bytes (laid out in memory order), and every character outside the alphabet maps to a word
 * with bit 31 set. One step is four loads, three ORs and one test of the error bit.
 *
 * The AVX2 path (x86-64, chosen at run time) classifies each byte by its two nibbles: the
 * high nibble picks a character class, the low nibble a set of classes in which it is NOT
 * an alphabet character, and the byte is valid when the two share no bit. The same high
 * nibble picks the offset from character to value ('/' shares its nibble with '+' and is
 * corrected alone). Two multiply-adds join four 6-bit values into 24 bits per 32-bit lane,
 * one shuffle puts the bytes in order, one permute closes the gap between the 128-bit halves.
 *
 * Either way, the scan for the exact offending offset runs only once an error has been seen,
 * and the last quantum (the only one that may carry padding) is decoded on its own.
 */
#include "codec/base64.h"

#include <stdint.h>
#include <string.h>

/* The value of an alphabet character, or 255, as a constant expression. */
#define B64V(c)                                                                                    \
    ((c) >= 'A' && (c) <= 'Z'   ? (c) - 'A'                                                        \
     : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26                                                   \
     : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52                                                   \
     : (c) == '+'               ? 62                                                               \
     : (c) == '/'               ? 63                                                               \
                                : 255)

#define B64_BAD 0x80000000u

/* Where each symbol's six bits land in the 24-bit group, as a little-endian word whose
 * bytes 0..2 are the output bytes 0..2:
 *   symbol 0 -> byte 0 bits 7..2
 *   symbol 1 -> byte 0 bits 1..0 and byte 1 bits 7..4
 *   symbol 2 -> byte 1 bits 3..0 and byte 2 bits 7..6
 *   symbol 3 -> byte 2 bits 5..0 */
#define B64_P0(v) ((uint32_t)(v) << 2)
#define B64_P1(v) (((uint32_t)(v) >> 4) | (((uint32_t)(v)&0x0fu) << 12))
#define B64_P2(v) ((((uint32_t)(v) >> 2) << 8) | (((uint32_t)(v)&0x03u) << 22))
#define B64_P3(v) ((uint32_t)(v) << 16)

#define B64_E(P, c) (B64V(c) == 255 ? B64_BAD : P(B64V(c)))
#define B64_R4(P, c) B64_E(P, c), B64_E(P, (c) + 1), B64_E(P, (c) + 2), B64_E(P, (c) + 3)
#define B64_R16(P, c) B64_R4(P, c), B64_R4(P, (c) + 4), B64_R4(P, (c) + 8), B64_R4(P, (c) + 12)
#define B64_R64(P, c) B64_R16(P, c), B64_R16(P, (c) + 16), B64_R16(P, (c) + 32), B64_R16(P, (c) + 48)
#define B64_TABLE(P) {B64_R64(P, 0), B64_R64(P, 64), B64_R64(P, 128), B64_R64(P, 192)}

static const uint32_t b64_d0[256] = B64_TABLE(B64_P0);
static const uint32_t b64_d1[256] = B64_TABLE(B64_P1);
static const uint32_t b64_d2[256] = B64_TABLE(B64_P2);
static const uint32_t b64_d3[256] = B64_TABLE(B64_P3);

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t ig_base64_decoded_max(size_t encoded_len)
{
    return encoded_len / 4 * 3;
}

size_t ig_base64_encoded_len(size_t raw_len)
{
    if (raw_len > (SIZE_MAX / 4 - 1) * 3)
        return SIZE_MAX;
    return (raw_len + 2) / 3 * 4;
}

static inline uint32_t b64_quad(const unsigned char *s)
{
    return b64_d0[s[0]] | b64_d1[s[1]] | b64_d2[s[2]] | b64_d3[s[3]];
}

static inline void b64_put3(unsigned char *out, uint32_t w)
{
    out[0] = (unsigned char)w;
    out[1] = (unsigned char)(w >> 8);
    out[2] = (unsigned char)(w >> 16);
}

/* Stores the three bytes of w with one 4-byte write; the fourth byte is overwritten by
 * the next quantum, so the caller guarantees one more byte of room. */
static inline void b64_put4(unsigned char *out, uint32_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(out, &w, 4);
#else
    b64_put3(out, w);
#endif
}

/* The sentence for the first bad symbol at or after offset from (known to exist). */
static ig_err b64_fail_at(const unsigned char *s, size_t len, size_t from, ig_error *err)
{
    for (size_t i = from; i < len; i++) {
        if (B64V(s[i]) != 255)
            continue;
        if (s[i] == '=')
            return ig_error_set(err, IG_ERR_BASE64,
                                "base64 padding '=' at offset %zu is not at the end", i);
        return ig_error_set(err, IG_ERR_BASE64, "invalid base64 character 0x%02x at offset %zu",
                            s[i], i);
    }
    return ig_error_set(err, IG_ERR_BASE64, "invalid base64 input");
}

/* The last quantum, which alone may carry padding: "xx==" gives 1 byte, "xxx=" gives 2. */
static ig_err b64_decode_last(const unsigned char *s, size_t off, unsigned char *out,
                              size_t *n, ig_error *err)
{
    const unsigned char *q = s + off;
    size_t symbols = q[3] != '=' ? 4 : q[2] != '=' ? 3 : 2;
    for (size_t i = 0; i < symbols; i++) {
        if (B64V(q[i]) == 255)
            return b64_fail_at(s, off + symbols, off + i, err);
    }
    uint32_t w = b64_d0[q[0]] | b64_d1[q[1]];
    if (symbols == 2) {
        if (B64V(q[1]) & 0x0f)
            return ig_error_set(err, IG_ERR_BASE64,
                                "base64 symbol at offset %zu has non-zero unused bits", off + 1);
        out[0] = (unsigned char)w;
        *n = 1;
        return IG_OK;
    }
    w |= b64_d2[q[2]];
    if (symbols == 3) {
        if (B64V(q[2]) & 0x03)
            return ig_error_set(err, IG_ERR_BASE64,
                                "base64 symbol at offset %zu has non-zero unused bits", off + 2);
        out[0] = (unsigned char)w;
        out[1] = (unsigned char)(w >> 8);
        *n = 2;
        return IG_OK;
    }
    b64_put3(out, w | b64_d3[q[3]]);
    *n = 3;
    return IG_OK;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define IG_B64_AVX2 1
#include <immintrin.h>

/* Decodes whole blocks of 32 symbols from s into o while at least `keep` symbols remain after
 * the block (each block stores 32 bytes, 8 past its 24: later quanta overwrite them). Returns
 * the symbols consumed; stops early, before the block, at the first block holding a character
 * outside the alphabet ('=' included: padding is only legal in the last quantum). */
__attribute__((target("avx2"))) static size_t b64_decode_avx2(const unsigned char *s, size_t len,
                                                              size_t keep, unsigned char *o)
{
    /* Classes by high nibble: 0x01 for 0x2_ ('+' '/'), 0x02 for 0x3_ (digits), 0x04 for 0x4_
     * and 0x6_ (A-O, a-o), 0x08 for 0x5_ and 0x7_ (P-Z, p-z), 0x10 for every other nibble. */
    const __m256i lut_hi = _mm256_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10,
                                            0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x01, 0x02,
                                            0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
                                            0x10, 0x10);
    /* By low nibble, the classes in which it is not a character: 0x01 unless B or F, 0x02 above
     * 9, 0x04 at 0 ('@' and '`'), 0x08 above A, and always 0x10. */
#define B64_LO(l)                                                                                  \
    (char)(((l) != 0xB && (l) != 0xF ? 0x01 : 0) | ((l) > 9 ? 0x02 : 0) | ((l) == 0 ? 0x04 : 0) |   \
           ((l) > 0xA ? 0x08 : 0) | 0x10)
#define B64_LO16                                                                                   \
    B64_LO(0), B64_LO(1), B64_LO(2), B64_LO(3), B64_LO(4), B64_LO(5), B64_LO(6), B64_LO(7),       \
        B64_LO(8), B64_LO(9), B64_LO(10), B64_LO(11), B64_LO(12), B64_LO(13), B64_LO(14), B64_LO(15)
    const __m256i lut_lo = _mm256_setr_epi8(B64_LO16, B64_LO16);
#undef B64_LO16
#undef B64_LO
    /* Value minus character, by high nibble: '+' 62-43, digits 52-48, A-Z 0-65, a-z 26-97. */
    const __m256i lut_shift = _mm256_setr_epi8(0, 0, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0,
                                               0, 0, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i nibble = _mm256_set1_epi8(0x0f);
    const __m256i slash = _mm256_set1_epi8('/');
    const __m256i slash_fix = _mm256_set1_epi8(-3); /* '/' is 63-47, three less than '+' */
    const __m256i join2 = _mm256_set1_epi32(0x01400140);  /* a*64 + b in each 16 bits */
    const __m256i join4 = _mm256_set1_epi32(0x00011000);  /* ab*4096 + cd in each 32 bits */
    const __m256i order = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
                                           2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
    const __m256i close = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);

    size_t i = 0;
    for (; i + 32 + keep <= len; i += 32, o += 24) {
        __m256i c = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
        __m256i hi = _mm256_and_si256(_mm256_srli_epi32(c, 4), nibble);
        __m256i lo = _mm256_and_si256(c, nibble);
        __m256i bad = _mm256_and_si256(_mm256_shuffle_epi8(lut_lo, lo), _mm256_shuffle_epi8(lut_hi, hi));
        if (!_mm256_testz_si256(bad, bad))
            break;
        __m256i shift = _mm256_add_epi8(_mm256_shuffle_epi8(lut_shift, hi),
                                        _mm256_and_si256(_mm256_cmpeq_epi8(c, slash), slash_fix));
        __m256i v = _mm256_add_epi8(c, shift);
        v = _mm256_madd_epi16(_mm256_maddubs_epi16(v, join2), join4);
        v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, order), close);
        _mm256_storeu_si256((__m256i *)(void *)o, v);
    }
    return i;
}

/* -1 until asked; then 1 when the CPU runs AVX2 (and ig_base64_use_simd has not said no). */
static int b64_simd = -1;

static int b64_simd_on(void)
{
    if (b64_simd < 0)
        b64_simd = __builtin_cpu_supports("avx2") ? 1 : 0;
    return b64_simd;
}
#endif

int ig_base64_use_simd(int on)
{
#ifdef IG_B64_AVX2
    if (on < 0)
        return b64_simd_on();
    b64_simd = on && __builtin_cpu_supports("avx2") ? 1 : 0;
    return b64_simd;
#else
    (void)on;
    return 0;
#endif
}

ig_err ig_base64_decode(const char *in, size_t len, unsigned char *out, size_t *out_len,
                        ig_error *err)
{
    *out_len = 0;
    if (len % 4)
        return ig_error_set(err, IG_ERR_BASE64, "base64 length %zu is not a multiple of 4", len);
    if (len == 0)
        return IG_OK;
    const unsigned char *s = (const unsigned char *)in;
    size_t quads = len / 4 - 1; /* every quantum but the last */
    size_t q = 0;
    unsigned char *o = out;

#ifdef IG_B64_AVX2
    /* Blocks while 12 symbols of full quanta stay for the table path, whose writes cover the
     * 8 bytes each block stores beyond its own; a bad block is left to the table path, which
     * finds the exact offset. */
    if (quads * 4 >= 32 + 12 && b64_simd_on()) {
        size_t done = b64_decode_avx2(s, quads * 4, 12, o);
        q = done / 4;
        o += done / 4 * 3;
    }
#endif

    /* Four quanta per iteration with one error test; the last full quantum is never in
     * here, so the 4-byte stores always have room. */
    for (; q + 4 <= quads; q += 4) {
        const unsigned char *p = s + q * 4;
        uint32_t w0 = b64_quad(p), w1 = b64_quad(p + 4), w2 = b64_quad(p + 8),
                 w3 = b64_quad(p + 12);
        if ((w0 | w1 | w2 | w3) & B64_BAD)
            return b64_fail_at(s, len, q * 4, err);
        b64_put4(o, w0);
        b64_put4(o + 3, w1);
        b64_put4(o + 6, w2);
        b64_put4(o + 9, w3);
        o += 12;
    }
    for (; q < quads; q++) {
        uint32_t w = b64_quad(s + q * 4);
        if (w & B64_BAD)
            return b64_fail_at(s, len, q * 4, err);
        b64_put4(o, w);
        o += 3;
    }
    size_t n = 0;
    ig_err e = b64_decode_last(s, quads * 4, o, &n, err);
    if (e)
        return e;
    *out_len = (size_t)(o - out) + n;
    return IG_OK;
}

/* The exact decoded length when the input is well-formed: the cap is checked against it. */
static size_t b64_exact_len(const char *in, size_t len)
{
    size_t n = ig_base64_decoded_max(len);
    if (len >= 4 && len % 4 == 0 && in[len - 1] == '=')
        n -= in[len - 2] == '=' ? 2 : 1;
    return n;
}

ig_err ig_base64_decode_buf(const char *in, size_t len, ig_buf *out, ig_error *err)
{
    if (len % 4)
        return ig_error_set(err, IG_ERR_BASE64, "base64 length %zu is not a multiple of 4", len);
    size_t need = b64_exact_len(in, len);
    ig_err e = ig_buf_reserve(out, need);
    if (e == IG_ERR_TOO_LARGE)
        return ig_error_set(err, e, "decoded base64 (%zu bytes) exceeds the limit of %zu bytes",
                            need, out->max);
    if (e)
        return ig_error_set(err, e, "out of memory decoding %zu bytes of base64", len);
    size_t n = 0;
    e = ig_base64_decode(in, len, (unsigned char *)out->data + out->len, &n, err);
    if (e == IG_OK)
        out->len += n;
    out->data[out->len] = '\0';
    return e;
}

ig_err ig_base64_encode_buf(const void *in, size_t len, ig_buf *out)
{
    size_t need = ig_base64_encoded_len(len);
    if (need == SIZE_MAX)
        return IG_ERR_TOO_LARGE;
    ig_err e = ig_buf_reserve(out, need);
    if (e)
        return e;
    const unsigned char *s = in;
    char *o = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        o[0] = b64_alphabet[v >> 18];
        o[1] = b64_alphabet[(v >> 12) & 63];
        o[2] = b64_alphabet[(v >> 6) & 63];
        o[3] = b64_alphabet[v & 63];
        o += 4;
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        o[0] = b64_alphabet[v >> 18];
        o[1] = b64_alphabet[(v >> 12) & 63];
        o[2] = '=';
        o[3] = '=';
        o += 4;
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        o[0] = b64_alphabet[v >> 18];
        o[1] = b64_alphabet[(v >> 12) & 63];
        o[2] = b64_alphabet[(v >> 6) & 63];
        o[3] = '=';
        o += 4;
    }
    out->len += need;
    out->data[out->len] = '\0';
    return IG_OK;
}
