/* s3_error.c - reads S3's XML error documents well enough to report them:
 * <Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>...
 * Not an XML parser: it finds the first <Code> and <Message> elements, decodes the five
 * predefined entities and numeric references, and treats anything else as absent. Garbage in
 * gives empty strings, never a crash. */
#include <stdio.h>
#include <string.h>

#include "aws/s3.h"

/* The text between <tag> and </tag> in body[0..len), or NULL. */
static const char *xml_element(const char *body, size_t len, const char *tag, size_t *out_len)
{
    char open[32], close[32];
    int on = snprintf(open, sizeof open, "<%s>", tag);
    int cn = snprintf(close, sizeof close, "</%s>", tag);
    if (on <= 0 || cn <= 0)
        return NULL;
    for (size_t i = 0; i + (size_t)on <= len; i++) {
        if (memcmp(body + i, open, (size_t)on) != 0)
            continue;
        const char *start = body + i + on;
        size_t rest = len - i - (size_t)on;
        for (size_t j = 0; j + (size_t)cn <= rest; j++) {
            if (memcmp(start + j, close, (size_t)cn) == 0) {
                *out_len = j;
                return start;
            }
        }
        return NULL;
    }
    return NULL;
}

/* Appends code point cp as UTF-8; control characters and invalid values become '?'. */
static size_t put_cp(char *dst, size_t room, unsigned long cp)
{
    char tmp[4];
    size_t n;
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
        tmp[0] = '?';
        n = 1;
    } else if (cp < 0x80) {
        tmp[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        tmp[0] = (char)(0xc0 | (cp >> 6));
        tmp[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        tmp[0] = (char)(0xe0 | (cp >> 12));
        tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        tmp[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        tmp[0] = (char)(0xf0 | (cp >> 18));
        tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        tmp[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    if (n > room)
        return 0;
    memcpy(dst, tmp, n);
    return n;
}

/* Decodes the entity at s (after '&', n bytes available): bytes consumed including ';', or 0. */
static size_t decode_entity(const char *s, size_t n, unsigned long *cp)
{
    static const struct {
        const char *name;
        unsigned long cp;
    } named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
    for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
        size_t l = strlen(named[k].name);
        if (n >= l && memcmp(s, named[k].name, l) == 0) {
            *cp = named[k].cp;
            return l;
        }
    }
    if (n < 3 || s[0] != '#')
        return 0;
    int hex = s[1] == 'x' || s[1] == 'X';
    size_t i = hex ? 2 : 1;
    unsigned long v = 0;
    size_t digits = 0;
    for (; i < n && digits < 8; i++, digits++) {
        char c = s[i];
        int d = (c >= '0' && c <= '9') ? c - '0'
                : hex && (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : hex && (c >= 'A' && c <= 'F') ? c - 'A' + 10
                : -1;
        if (d < 0)
            break;
        v = v * (hex ? 16 : 10) + (unsigned long)d;
    }
    if (!digits || i >= n || s[i] != ';')
        return 0;
    *cp = v;
    return i + 1;
}

static void xml_text(const char *s, size_t n, char *dst, size_t dst_len)
{
    if (!dst_len)
        return;
    size_t o = 0, room = dst_len - 1;
    for (size_t i = 0; i < n && o < room;) {
        unsigned long cp;
        size_t used;
        if (s[i] == '&' && (used = decode_entity(s + i + 1, n - i - 1, &cp)) > 0) {
            size_t w = put_cp(dst + o, room - o, cp);
            if (!w)
                break;
            o += w;
            i += 1 + used;
            continue;
        }
        unsigned char c = (unsigned char)s[i++];
        dst[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    dst[o] = '\0';
}

void ig_s3_parse_error(const char *body, size_t len, char *code, size_t code_len, char *message,
                       size_t message_len)
{
    if (code_len)
        code[0] = '\0';
    if (message_len)
        message[0] = '\0';
    if (!body || !len)
        return;
    size_t n;
    const char *t = xml_element(body, len, "Code", &n);
    if (t)
        xml_text(t, n, code, code_len);
    t = xml_element(body, len, "Message", &n);
    if (t)
        xml_text(t, n, message, message_len);
}
