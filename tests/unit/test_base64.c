/* test_base64.c - RFC 4648 base64: the published vectors, every class of malformed input
 * with its offset, round trips against a bit-by-bit reference, and buffer caps. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/base64.h"
#include "core/random.h"
#include "testlib.h"

/* A deliberately naive encoder (one bit at a time) to check the table-driven code against. */
static char *ref_encode(const unsigned char *in, size_t len)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t bits = len * 8, symbols = (bits + 5) / 6, out_len = (len + 2) / 3 * 4;
    char *out = malloc(out_len + 1);
    size_t o = 0;
    for (size_t s = 0; s < symbols; s++) {
        unsigned v = 0;
        for (size_t b = 0; b < 6; b++) {
            size_t bit = s * 6 + b;
            unsigned x = bit < bits ? (in[bit / 8] >> (7 - bit % 8)) & 1u : 0u;
            v = v << 1 | x;
        }
        out[o++] = a[v];
    }
    while (o < out_len)
        out[o++] = '=';
    out[o] = '\0';
    return out;
}

/* Decodes s with the buffer API; returns the code and fills *out (freed by the caller). */
static ig_err decode_str(const char *s, ig_buf *out, ig_error *err)
{
    ig_buf_init(out, 0);
    ig_error_clear(err);
    return ig_base64_decode_buf(s, strlen(s), out, err);
}

static void check_decodes_to(const char *in, const char *expected)
{
    ig_buf b;
    ig_error err;
    IG_CHECK_EQ_INT(decode_str(in, &b, &err), IG_OK);
    IG_CHECK_EQ_INT(b.len, strlen(expected));
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), expected);
    ig_buf_free(&b);
}

static void check_rejects(const char *in, const char *message)
{
    ig_buf b;
    ig_error err;
    IG_CHECK_EQ_INT(decode_str(in, &b, &err), IG_ERR_BASE64);
    IG_CHECK_EQ_STR(err.message, message);
    IG_CHECK_EQ_INT(b.len, 0);
    ig_buf_free(&b);
}

static void test_rfc4648_vectors_decode(void)
{
    check_decodes_to("", "");
    check_decodes_to("Zg==", "f");
    check_decodes_to("Zm8=", "fo");
    check_decodes_to("Zm9v", "foo");
    check_decodes_to("Zm9vYg==", "foob");
    check_decodes_to("Zm9vYmE=", "fooba");
    check_decodes_to("Zm9vYmFy", "foobar");
}

static void test_rfc4648_vectors_encode(void)
{
    static const char *raw[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        ig_buf b;
        ig_buf_init(&b, 0);
        IG_CHECK_EQ_INT(ig_base64_encode_buf(raw[i], strlen(raw[i]), &b), IG_OK);
        IG_CHECK_EQ_STR(ig_buf_cstr(&b), enc[i]);
        IG_CHECK_EQ_INT(ig_base64_encoded_len(strlen(raw[i])), strlen(enc[i]));
        ig_buf_free(&b);
    }
}

static void test_full_alphabet_decodes(void)
{
    /* 64 symbols in order = the bytes of 0b000000 000001 ... 111111. */
    const char *all = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    ig_buf b;
    ig_error err;
    IG_CHECK_EQ_INT(decode_str(all, &b, &err), IG_OK);
    IG_CHECK_EQ_INT(b.len, 48);
    for (unsigned v = 0; v < 64 && b.len == 48; v++) {
        size_t bit = v * 6;
        unsigned got = 0;
        for (size_t k = 0; k < 6; k++, bit++)
            got = got << 1 | (((unsigned char)b.data[bit / 8] >> (7 - bit % 8)) & 1u);
        IG_CHECK_EQ_INT(got, v);
    }
    ig_buf_free(&b);
}

static void test_rejects_length_not_multiple_of_four(void)
{
    check_rejects("Z", "base64 length 1 is not a multiple of 4");
    check_rejects("Zm9", "base64 length 3 is not a multiple of 4");
    check_rejects("Zm9vY", "base64 length 5 is not a multiple of 4");
    check_rejects("Zg=", "base64 length 3 is not a multiple of 4");
}

static void test_rejects_characters_outside_alphabet(void)
{
    check_rejects("Zm9vYmFyZm9vYmF*Zm9vYmFy", "invalid base64 character 0x2a at offset 15");
    check_rejects("Zm9vYmFyZm9vYmFyZ*9vYmFy", "invalid base64 character 0x2a at offset 17");
    check_rejects("Zm9-", "invalid base64 character 0x2d at offset 3");  /* base64url */
    check_rejects("Zm9_", "invalid base64 character 0x5f at offset 3");
    check_rejects("Zm9v\xffmFy", "invalid base64 character 0xff at offset 4");
    check_rejects("Zm9vY\x80==", "invalid base64 character 0x80 at offset 5");
}

static void test_rejects_white_space(void)
{
    check_rejects("Zm9v\nYmFyZm9", "invalid base64 character 0x0a at offset 4");
    check_rejects("Zm9v\r\nYmFyZm", "invalid base64 character 0x0d at offset 4");
    check_rejects(" Zm9vYmFyZm9", "invalid base64 character 0x20 at offset 0");
    check_rejects("Zm9vYmF\t", "invalid base64 character 0x09 at offset 7");
}

static void test_rejects_nul_byte(void)
{
    ig_buf b;
    ig_buf_init(&b, 0);
    ig_error err;
    IG_CHECK_EQ_INT(ig_base64_decode_buf("Zm9v\0mFy", 8, &b, &err), IG_ERR_BASE64);
    IG_CHECK_EQ_STR(err.message, "invalid base64 character 0x00 at offset 4");
    ig_buf_free(&b);
}

static void test_rejects_misplaced_padding(void)
{
    check_rejects("Zg==Zm9v", "base64 padding '=' at offset 2 is not at the end");
    check_rejects("Zm9vZm9vZm9vZm9vZm=vZm9vZm9vZm9v",
                  "base64 padding '=' at offset 18 is not at the end");
    check_rejects("Z===", "base64 padding '=' at offset 1 is not at the end");
    check_rejects("====", "base64 padding '=' at offset 0 is not at the end");
    check_rejects("Zm=v", "base64 padding '=' at offset 2 is not at the end");
    check_rejects("Zm9vZ===", "base64 padding '=' at offset 5 is not at the end");
}

static void test_rejects_non_zero_trailing_bits(void)
{
    /* "Zh==": h = 33 = 0b100001, the low four bits must be zero for one output byte. */
    check_rejects("Zh==", "base64 symbol at offset 1 has non-zero unused bits");
    check_rejects("Zm9vZh==", "base64 symbol at offset 5 has non-zero unused bits");
    /* "Zm9=": 9 = 61 = 0b111101, the low two bits must be zero for two output bytes. */
    check_rejects("Zm9=", "base64 symbol at offset 2 has non-zero unused bits");
    check_decodes_to("Zm8=", "fo");
}

/* A bad character planted at every offset of a long input is reported at that offset,
 * whichever path (four-quantum loop, single quantum, last quantum) meets it. */
static void test_reports_every_offset(void)
{
    unsigned char raw[96];
    IG_CHECK_EQ_INT(ig_random_bytes(raw, sizeof raw), IG_OK);
    ig_buf enc;
    ig_buf_init(&enc, 0);
    IG_CHECK_EQ_INT(ig_base64_encode_buf(raw, sizeof raw, &enc), IG_OK);
    IG_CHECK_EQ_INT(enc.len, 128);
    int wrong = 0;
    for (size_t at = 0; at < enc.len; at++) {
        char saved = enc.data[at];
        enc.data[at] = '.';
        unsigned char out[96];
        size_t n = 99;
        ig_error err;
        char expected[80];
        snprintf(expected, sizeof expected, "invalid base64 character 0x2e at offset %zu", at);
        if (ig_base64_decode(enc.data, enc.len, out, &n, &err) != IG_ERR_BASE64 ||
            strcmp(err.message, expected) != 0 || n != 0) {
            wrong++;
            ig_test_fail(__FILE__, __LINE__, "offset %zu: \"%s\"", at, err.message);
        }
        enc.data[at] = saved;
    }
    IG_CHECK_EQ_INT(wrong, 0);
    ig_buf_free(&enc);
}

static void test_random_round_trips_all_lengths(void)
{
    unsigned char raw[300];
    int mismatches = 0;
    for (size_t len = 0; len <= 300; len++) {
        IG_CHECK_EQ_INT(ig_random_bytes(raw, sizeof raw), IG_OK);
        char *ref = ref_encode(raw, len);
        ig_buf enc, dec;
        ig_buf_init(&enc, 0);
        ig_buf_init(&dec, 0);
        ig_error err;
        ig_base64_encode_buf(raw, len, &enc);
        if (strcmp(ig_buf_cstr(&enc), ref) != 0)
            mismatches++;
        if (ig_base64_decode_buf(ref, strlen(ref), &dec, &err) != IG_OK || dec.len != len ||
            (len && memcmp(dec.data, raw, len) != 0))
            mismatches++;
        /* the raw-pointer API, with exactly decoded_max bytes of room */
        size_t max = ig_base64_decoded_max(strlen(ref)), n = 0;
        unsigned char *out = malloc(max ? max : 1);
        if (ig_base64_decode(ref, strlen(ref), out, &n, &err) != IG_OK || n != len ||
            (len && memcmp(out, raw, len) != 0))
            mismatches++;
        free(out);
        free(ref);
        ig_buf_free(&enc);
        ig_buf_free(&dec);
    }
    IG_CHECK_EQ_INT(mismatches, 0);
}

static void test_large_buffer_round_trip(void)
{
    size_t len = 8u * 1024 * 1024 + 1;
    unsigned char *raw = malloc(len);
    IG_CHECK(raw != NULL);
    if (!raw)
        return;
    IG_CHECK_EQ_INT(ig_random_bytes(raw, len), IG_OK);
    ig_buf enc, dec;
    ig_buf_init(&enc, 0);
    ig_buf_init(&dec, 0);
    ig_error err;
    IG_CHECK_EQ_INT(ig_base64_encode_buf(raw, len, &enc), IG_OK);
    IG_CHECK_EQ_INT(enc.len, ig_base64_encoded_len(len));
    IG_CHECK_EQ_INT(ig_base64_decode_buf(enc.data, enc.len, &dec, &err), IG_OK);
    IG_CHECK_EQ_INT(dec.len, len);
    if (dec.len == len)
        IG_CHECK_EQ_MEM(dec.data, raw, len);
    /* one bad byte near the end of the big input is still found, at its offset */
    enc.data[enc.len - 10] = '#';
    ig_buf_reset(&dec);
    IG_CHECK_EQ_INT(ig_base64_decode_buf(enc.data, enc.len, &dec, &err), IG_ERR_BASE64);
    char expected[80];
    snprintf(expected, sizeof expected, "invalid base64 character 0x23 at offset %zu",
             enc.len - 10);
    IG_CHECK_EQ_STR(err.message, expected);
    free(raw);
    ig_buf_free(&enc);
    ig_buf_free(&dec);
}

/* One decode with the AVX2 path on or off: code, message and bytes in a fresh buffer. */
static ig_err decode_with(int simd, const char *in, size_t len, ig_buf *out, ig_error *err)
{
    ig_base64_use_simd(simd);
    ig_buf_init(out, 0);
    ig_error_clear(err);
    ig_err e = ig_base64_decode_buf(in, len, out, err);
    ig_base64_use_simd(1);
    return e;
}

/* The two paths agree on everything: every byte value at every offset of inputs long enough
 * for several 32-symbol blocks (valid characters, '=', NUL, high bytes), and clean inputs of
 * every length up to 1,000 symbols. */
static void test_simd_and_table_paths_agree(void)
{
    if (!ig_base64_use_simd(-1))
        printf("note: this CPU has no AVX2; only the table path runs\n");
    int disagreements = 0;
    unsigned char raw[750];
    for (size_t raw_len = 0; raw_len <= sizeof raw; raw_len++) {
        IG_CHECK_EQ_INT(ig_random_bytes(raw, raw_len ? raw_len : 1), IG_OK);
        ig_buf enc, a, b;
        ig_buf_init(&enc, 0);
        ig_base64_encode_buf(raw, raw_len, &enc);
        ig_error ea, eb;
        ig_err ca = decode_with(1, enc.data, enc.len, &a, &ea), cb = decode_with(0, enc.data, enc.len, &b, &eb);
        if (ca != IG_OK || cb != IG_OK || a.len != raw_len || b.len != raw_len ||
            (raw_len && (memcmp(a.data, raw, raw_len) || memcmp(b.data, raw, raw_len))))
            disagreements++;
        ig_buf_free(&a);
        ig_buf_free(&b);
        ig_buf_free(&enc);
    }
    IG_CHECK_EQ_INT(disagreements, 0);

    for (size_t raw_len = 72; raw_len <= 300; raw_len += 57) {
        IG_CHECK_EQ_INT(ig_random_bytes(raw, raw_len), IG_OK);
        ig_buf enc;
        ig_buf_init(&enc, 0);
        ig_base64_encode_buf(raw, raw_len, &enc);
        for (size_t pos = 0; pos < enc.len; pos++) {
            char keep = enc.data[pos];
            for (int v = 0; v < 256; v++) {
                enc.data[pos] = (char)v;
                ig_buf a, b;
                ig_error ea, eb;
                ig_err ca = decode_with(1, enc.data, enc.len, &a, &ea);
                ig_err cb = decode_with(0, enc.data, enc.len, &b, &eb);
                if (ca != cb || a.len != b.len || (ca == IG_OK && memcmp(a.data, b.data, a.len)) ||
                    (ca != IG_OK && strcmp(ea.message, eb.message))) {
                    if (disagreements++ < 5)
                        ig_test_fail(__FILE__, __LINE__, "byte 0x%02x at %zu of %zu: %s (%s) vs %s (%s)", v,
                                     pos, enc.len, ig_err_name(ca), ea.message, ig_err_name(cb), eb.message);
                }
                ig_buf_free(&a);
                ig_buf_free(&b);
            }
            enc.data[pos] = keep;
        }
        ig_buf_free(&enc);
    }
    IG_CHECK_EQ_INT(disagreements, 0);
}

static void test_capped_buffer(void)
{
    ig_buf b;
    ig_error err;
    ig_buf_init(&b, 5);
    IG_CHECK_EQ_INT(ig_base64_decode_buf("Zm9vYmFy", 8, &b, &err), IG_ERR_TOO_LARGE);
    IG_CHECK_EQ_STR(err.message, "decoded base64 (6 bytes) exceeds the limit of 5 bytes");
    IG_CHECK_EQ_INT(b.len, 0);
    /* five bytes ("fooba", padded) fit exactly although decoded_max would say six */
    IG_CHECK_EQ_INT(ig_base64_decode_buf("Zm9vYmE=", 8, &b, &err), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "fooba");
    /* the cap counts what the buffer already holds */
    IG_CHECK_EQ_INT(ig_base64_decode_buf("Zg==", 4, &b, &err), IG_ERR_TOO_LARGE);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "fooba");
    ig_buf_free(&b);

    ig_buf_init(&b, 3);
    IG_CHECK_EQ_INT(ig_base64_encode_buf("ab", 2, &b), IG_ERR_TOO_LARGE);
    ig_buf_free(&b);
}

static void test_appends_to_existing_content(void)
{
    ig_buf b;
    ig_error err;
    ig_buf_init(&b, 0);
    IG_CHECK_EQ_INT(ig_buf_append_str(&b, "x:"), IG_OK);
    IG_CHECK_EQ_INT(ig_base64_decode_buf("Zm9vYmFy", 8, &b, &err), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "x:foobar");
    /* a failed decode leaves the earlier content as it was */
    IG_CHECK_EQ_INT(ig_base64_decode_buf("Zm9vYm*y", 8, &b, &err), IG_ERR_BASE64);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "x:foobar");
    IG_CHECK_EQ_INT(ig_base64_encode_buf("!", 1, &b), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "x:foobarIQ==");
    ig_buf_free(&b);
}

static void test_sizes(void)
{
    IG_CHECK_EQ_INT(ig_base64_decoded_max(0), 0);
    IG_CHECK_EQ_INT(ig_base64_decoded_max(4), 3);
    IG_CHECK_EQ_INT(ig_base64_decoded_max(8), 6);
    IG_CHECK_EQ_INT(ig_base64_encoded_len(0), 0);
    IG_CHECK_EQ_INT(ig_base64_encoded_len(1), 4);
    IG_CHECK_EQ_INT(ig_base64_encoded_len(3), 4);
    IG_CHECK_EQ_INT(ig_base64_encoded_len(4), 8);
    IG_CHECK(ig_base64_encoded_len(SIZE_MAX) == SIZE_MAX);
}

int main(void)
{
    IG_RUN(test_rfc4648_vectors_decode);
    IG_RUN(test_rfc4648_vectors_encode);
    IG_RUN(test_full_alphabet_decodes);
    IG_RUN(test_rejects_length_not_multiple_of_four);
    IG_RUN(test_rejects_characters_outside_alphabet);
    IG_RUN(test_rejects_white_space);
    IG_RUN(test_rejects_nul_byte);
    IG_RUN(test_rejects_misplaced_padding);
    IG_RUN(test_rejects_non_zero_trailing_bits);
    IG_RUN(test_reports_every_offset);
    IG_RUN(test_random_round_trips_all_lengths);
    IG_RUN(test_large_buffer_round_trip);
    IG_RUN(test_simd_and_table_paths_agree);
    IG_RUN(test_capped_buffer);
    IG_RUN(test_appends_to_existing_content);
    IG_RUN(test_sizes);
    return ig_test_finish("base64");
}
