/* s3_text.c - the text rules of S3 requests: which object keys can be sent, and how user
 * metadata values travel as ASCII (RFC 2047 encoded words) so that user text can never break
 * or add a header. */
#include <string.h>
#include <strings.h>

#include "aws/s3.h"
#include "codec/base64.h"
#include "codec/percent.h"

#define IG_S3_KEY_MAX 1024

/* Length of the UTF-8 sequence at s (which has n bytes left) and its code point; 0 when the
 * bytes are not well-formed UTF-8 (overlong forms, surrogates and values above U+10FFFF are
 * not). */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    unsigned min;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, min = 0x80, c &= 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, min = 0x800, c &= 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, min = 0x10000, c &= 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* Offset of the first byte that is not well-formed UTF-8, or -1. */
static long utf8_invalid_at(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned cp;
        size_t l = utf8_next(p + i, n - i, &cp);
        if (!l)
            return (long)i;
        i += l;
    }
    return -1;
}

int ig_s3_key_valid(const char *key, ig_error *err)
{
    if (!key || !*key) {
        ig_error_set(err, IG_ERR_BAD_KEY, "the S3 key is empty");
        return 0;
    }
    size_t n = strlen(key);
    if (n > IG_S3_KEY_MAX) {
        ig_error_set(err, IG_ERR_BAD_KEY, "the S3 key is %zu bytes long; the limit is %d", n, IG_S3_KEY_MAX);
        return 0;
    }
    const unsigned char *p = (const unsigned char *)key;
    for (size_t i = 0; i < n;) {
        unsigned cp;
        size_t l = utf8_next(p + i, n - i, &cp);
        if (!l) {
            ig_error_set(err, IG_ERR_BAD_KEY, "the S3 key is not valid UTF-8 at byte %zu", i);
            return 0;
        }
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
            ig_error_set(err, IG_ERR_BAD_KEY, "the S3 key contains a control character (U+%04X) at byte %zu",
                         cp, i);
            return 0;
        }
        i += l;
    }
    return 1;
}

/* ---- metadata values ------------------------------------------------------------------- */

static int needs_encoding(const char *v, size_t n)
{
    if (n && (v[0] == ' ' || v[n - 1] == ' '))
        return 1; /* HTTP trims the ends of header values */
    if (strstr(v, "=?"))
        return 1; /* could be read back as an encoded word */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
            return 1;
    return 0;
}

ig_err ig_s3_meta_encode(const char *value, ig_buf *out, ig_error *err)
{
    if (!value)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "a metadata value is missing");
    size_t n = strlen(value);
    if (!needs_encoding(value, n))
        return ig_buf_append(out, value, n) == IG_OK ? IG_OK : ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    long bad = utf8_invalid_at(value, n);
    if (bad >= 0)
        return ig_error_set(err, IG_ERR_BAD_KEY, "a metadata value is not valid UTF-8 at byte %ld", bad);
    ig_err e = ig_buf_append_str(out, "=?UTF-8?B?");
    if (!e)
        e = ig_base64_encode_buf(value, n, out);
    if (!e)
        e = ig_buf_append_str(out, "?=");
    return e ? ig_error_set(err, e, "the encoded metadata value does not fit") : IG_OK;
}

static int decode_q(const char *s, size_t n, ig_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '_') {
            c = ' ';
        } else if (c == '=') {
            if (i + 2 >= n || ig_hex_value((unsigned char)s[i + 1]) < 0 || ig_hex_value((unsigned char)s[i + 2]) < 0)
                return -1;
            c = (char)(ig_hex_value((unsigned char)s[i + 1]) << 4 | ig_hex_value((unsigned char)s[i + 2]));
            i += 2;
        }
        if (ig_buf_append_char(out, c) != IG_OK)
            return -1;
    }
    return 0;
}

/* Decodes one encoded word "=?charset?enc?text?=" at s; returns its length, 0 if it is not one. */
static size_t decode_word(const char *s, ig_buf *out)
{
    if (strncmp(s, "=?", 2) != 0)
        return 0;
    const char *cs = s + 2;
    const char *q1 = strchr(cs, '?');
    if (!q1 || !q1[1] || q1[2] != '?')
        return 0;
    size_t cs_len = (size_t)(q1 - cs);
    if (!((cs_len == 5 && strncasecmp(cs, "utf-8", 5) == 0) || (cs_len == 8 && strncasecmp(cs, "us-ascii", 8) == 0)))
        return 0;
    char enc = q1[1];
    const char *text = q1 + 3;
    const char *end = strstr(text, "?=");
    if (!end)
        return 0;
    size_t tn = (size_t)(end - text);
    int ok;
    if (enc == 'B' || enc == 'b')
        ok = ig_base64_decode_buf(text, tn, out, NULL) == IG_OK;
    else if (enc == 'Q' || enc == 'q')
        ok = decode_q(text, tn, out) == 0;
    else
        ok = 0;
    return ok ? (size_t)(end + 2 - s) : 0;
}

ig_err ig_s3_meta_decode(const char *value, ig_buf *out)
{
    if (!value)
        return IG_ERR_INVALID_ARG;
    ig_buf tmp;
    ig_buf_init(&tmp, 0);
    const char *p = value;
    int words = 0;
    while (*p) {
        size_t l = decode_word(p, &tmp);
        if (!l)
            break;
        words++;
        p += l;
        while (*p == ' ' || *p == '\t') /* white space between encoded words is not text */
            p++;
    }
    ig_err e;
    if (words && !*p)
        e = ig_buf_append(out, tmp.data, tmp.len);
    else
        e = ig_buf_append_str(out, value);
    ig_buf_free(&tmp);
    return e;
}
