/* test_percent.c - percent-encoding with AWS's unreserved set, and strict decoding. */
#include <stdlib.h>

#include "codec/percent.h"
#include "testlib.h"

static int is_unreserved(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static void test_unreserved_bytes_are_kept(void)
{
    const char *s = "AZaz09-._~";
    ig_buf b = {0};
    IG_CHECK_EQ_INT(ig_percent_encode(&b, s, strlen(s), 0), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), s);
    ig_buf_free(&b);
}

static void test_every_other_byte_becomes_upper_case_escape(void)
{
    static const char hex[] = "0123456789ABCDEF";
    for (int c = 0; c < 256; c++) {
        char in = (char)c;
        ig_buf b = {0};
        IG_CHECK_EQ_INT(ig_percent_encode(&b, &in, 1, 0), IG_OK);
        if (is_unreserved(c)) {
            IG_CHECK_EQ_INT(b.len, 1);
        } else {
            char want[4] = {'%', hex[c >> 4], hex[c & 15], '\0'};
            IG_CHECK_EQ_STR(ig_buf_cstr(&b), want);
        }
        ig_buf_free(&b);
    }
}

static void test_slash_kept_only_when_asked(void)
{
    ig_buf b = {0};
    IG_CHECK_EQ_INT(ig_percent_encode(&b, "a/b c", 5, 1), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "a/b%20c");
    ig_buf_reset(&b);
    IG_CHECK_EQ_INT(ig_percent_encode(&b, "a/b c", 5, 0), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "a%2Fb%20c");
    ig_buf_free(&b);
}

static void test_model_id_and_utf8(void)
{
    ig_buf b = {0};
    const char *id = "amazon.titan-image-generator-v2:0";
    IG_CHECK_EQ_INT(ig_percent_encode(&b, id, strlen(id), 0), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "amazon.titan-image-generator-v2%3A0");
    ig_buf_reset(&b);
    const char *u = "\xe6\x97\xa5 +=%";
    IG_CHECK_EQ_INT(ig_percent_encode(&b, u, strlen(u), 1), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "%E6%97%A5%20%2B%3D%25");
    ig_buf_free(&b);
}

static void test_encode_appends(void)
{
    ig_buf b = {0};
    ig_buf_append_str(&b, "k=");
    IG_CHECK_EQ_INT(ig_percent_encode(&b, "v v", 3, 0), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "k=v%20v");
    IG_CHECK_EQ_INT(ig_percent_encode(&b, "", 0, 0), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "k=v%20v");
    ig_buf_free(&b);
}

static void test_decode_round_trips_every_byte(void)
{
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    ig_buf enc = {0}, dec = {0};
    IG_CHECK_EQ_INT(ig_percent_encode(&enc, all, 256, 0), IG_OK);
    IG_CHECK_EQ_INT(ig_percent_decode(&dec, enc.data, enc.len), IG_OK);
    IG_CHECK_EQ_INT(dec.len, 256);
    IG_CHECK_EQ_MEM(dec.data, all, 256);
    ig_buf_free(&enc);
    ig_buf_free(&dec);
}

static void test_decode_accepts_lower_case_and_keeps_plus(void)
{
    ig_buf b = {0};
    IG_CHECK_EQ_INT(ig_percent_decode(&b, "%7e%7E+a%2b", 11), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "~~+a+");
    ig_buf_free(&b);
}

static void test_decode_rejects_malformed_escapes(void)
{
    const char *bad[] = {"%", "%4", "%zz", "%4g", "a%", "ok%2", "%%41"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ig_buf b = {0};
        ig_buf_append_str(&b, "keep");
        IG_CHECK_EQ_INT(ig_percent_decode(&b, bad[i], strlen(bad[i])), IG_ERR_INVALID_ARG);
        /* A failed decode leaves what was already in the buffer untouched. */
        IG_CHECK_EQ_STR(ig_buf_cstr(&b), "keep");
        ig_buf_free(&b);
    }
}

static void test_null_input_is_rejected(void)
{
    ig_buf b = {0};
    IG_CHECK_EQ_INT(ig_percent_encode(&b, NULL, 3, 0), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(ig_percent_decode(&b, NULL, 3), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(ig_percent_encode(NULL, "a", 1, 0), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(ig_percent_encode(&b, NULL, 0, 0), IG_OK);
    ig_buf_free(&b);
}

static void test_capped_buffer_reports_too_large(void)
{
    ig_buf b;
    ig_buf_init(&b, 4);
    IG_CHECK_EQ_INT(ig_percent_encode(&b, "  ", 2, 0), IG_ERR_TOO_LARGE);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "");
    /* Output that fits is accepted even though its worst case would not. */
    IG_CHECK_EQ_INT(ig_percent_encode(&b, "abcd", 4, 0), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "abcd");
    ig_buf_free(&b);
    ig_buf_init(&b, 3);
    IG_CHECK_EQ_INT(ig_percent_decode(&b, "%41%42%43", 9), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "ABC");
    IG_CHECK_EQ_INT(ig_percent_decode(&b, "%44", 3), IG_ERR_TOO_LARGE);
    ig_buf_free(&b);
}

int main(void)
{
    IG_RUN(test_unreserved_bytes_are_kept);
    IG_RUN(test_every_other_byte_becomes_upper_case_escape);
    IG_RUN(test_slash_kept_only_when_asked);
    IG_RUN(test_model_id_and_utf8);
    IG_RUN(test_encode_appends);
    IG_RUN(test_decode_round_trips_every_byte);
    IG_RUN(test_decode_accepts_lower_case_and_keeps_plus);
    IG_RUN(test_decode_rejects_malformed_escapes);
    IG_RUN(test_null_input_is_rejected);
    IG_RUN(test_capped_buffer_reports_too_large);
    return ig_test_finish("percent");
}
