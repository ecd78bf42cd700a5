/* percent.c - RFC 3986 percent-encoding with AWS's unreserved set.
 *
 * SigV4, S3 keys and presigned URLs all depend on one exact encoding: a byte is kept only if
 * it is A-Z a-z 0-9 - . _ ~ (and '/' where the caller asks), everything else becomes %XX
 * with upper-case hex. Decoding is strict so that a malformed escape is reported rather than
 * signed in a form the server will read differently.
 */
#include "codec/percent.h"

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int ig_hex_value(unsigned char c)
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
    /* Reserve the exact size once, so the loop cannot fail and a capped buffer takes any
     * output that fits. */
    size_t need = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        need += is_unreserved(c) || (keep_slash && c == '/') ? 1 : 3;
        if (need < i)
            return IG_ERR_TOO_LARGE;
    }
    ig_err e = ig_buf_reserve(out, need);
    if (e)
        return e;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
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
    /* First pass: validate every escape and count the output, so nothing is written on a
     * malformed input and a capped buffer takes any output that fits. */
    size_t need = 0;
    for (size_t i = 0; i < len; i++, need++) {
        if (s[i] != '%')
            continue;
        if (i + 2 >= len)
            return IG_ERR_INVALID_ARG;
        if (ig_hex_value((unsigned char)s[i + 1]) < 0 || ig_hex_value((unsigned char)s[i + 2]) < 0)
            return IG_ERR_INVALID_ARG;
        i += 2;
    }
    ig_err e = ig_buf_reserve(out, need);
    if (e)
        return e;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            c = (unsigned char)(ig_hex_value((unsigned char)s[i + 1]) << 4 |
                                ig_hex_value((unsigned char)s[i + 2]));
            i += 2;
        }
        out->data[out->len++] = (char)c;
    }
    out->data[out->len] = '\0';
    return IG_OK;
}
