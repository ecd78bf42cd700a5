/* percent.c - RFC 3986 percent-encoding with AWS's unreserved set.
 *
 * SigV4, S3 keys and presigned URLs all depend on one exact encoding: a byte is kept only if
 * it is A-Z a-z 0-9 - . _ ~ (and '/' where the caller asks), everything else becomes %XX
 * with upper-case hex. Decoding is strict so that a malformed escape is reported rather than
 * signed in a form the server will read differently.
 */
#include "codec/percent.h"

static int ig_is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

static int ig_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

ig_err ig_percent_encode(ig_buf *out, const char *s, size_t len, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!out || (!s && len))
        return IG_ERR_INVALID_ARG;
    /* Worst case every byte triples; reserving once keeps the loop allocation-free. */
    if (len > ((size_t)-1) / 3)
        return IG_ERR_TOO_LARGE;
    ig_err e = ig_buf_reserve(out, len * 3);
    if (e)
        return e;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (ig_is_unreserved(c) || (keep_slash && c == '/')) {
            out->data[out->len++] = (char)c;
        } else {
            out->data[out->len++] = '%';
            out->data[out->len++] = hex[c >> 4];
            out->data[out->len++] = hex[c & 15];
        }
    }
    out->data[out->len] = '\0';
    return IG_OK;
}

ig_err ig_percent_decode(ig_buf *out, const char *s, size_t len)
{
    if (!out || (!s && len))
        return IG_ERR_INVALID_ARG;
    ig_err e = ig_buf_reserve(out, len);
    if (e)
        return e;
    size_t start = out->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 1 < len ? ig_hex_value((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < len ? ig_hex_value((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                out->len = start;
                out->data[out->len] = '\0';
                return IG_ERR_INVALID_ARG;
            }
            out->data[out->len++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out->data[out->len++] = (char)c;
        }
    }
    out->data[out->len] = '\0';
    return IG_OK;
}
