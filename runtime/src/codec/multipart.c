/* multipart.c - multipart/form-data (RFC 7578, RFC 2046) read in place, bounded, linear.
 *
 * The body is walked once. memmem finds each "CRLF--boundary"; what follows it decides what
 * it is (another part, the closing delimiter, data that merely looks alike). Since the pattern
 * starts with CR and a boundary holds no CR, two matches never overlap, so the search resumes
 * after a false match and no byte is searched twice. Header blocks are scanned line by line
 * within max_header_bytes, and a part's delimiter is looked for only within max_part_bytes of
 * its start: a limit is reported without reading the rest of the body.
 *
 * Sentences name what they can: the part by its name once its Content-Disposition is read,
 * else by its position ("part 2"). Text from the request quoted in a sentence is cut at a
 * UTF-8 character and its control bytes replaced, so the sentence itself is valid UTF-8.
 */
#define _GNU_SOURCE /* memmem */
#include "codec/multipart.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "codec/percent.h"

/* ---- characters ------------------------------------------------------------------------ */

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 7230 tchar: what a header name or a parameter name is made of. */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 2046 bchars. */
static int is_bchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("'()+_,-./:=? ", c) != NULL;
}

static int is_control(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* The length of the well-formed UTF-8 character at p[0..n) (no overlongs, no surrogates), or 0. */
static size_t utf8_char(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t k;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        k = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        k = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        k = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else
        return 0;
    if (n < k || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < k; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return k;
}

/* Valid UTF-8 without control bytes: what a name, a filename or a content type must be. */
static int is_clean_text(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_char(p + i, n - i);
        if (k == 0 || (k == 1 && is_control(p[i])))
            return 0;
        i += k;
    }
    return 1;
}

/* s[0..n) fit for a sentence: at most 60 bytes, cut at a character (then "..."), every byte
 * that is not part of printable UTF-8 replaced by '?'. Returns dst. */
static const char *quoted(char dst[72], const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0, i = 0;
    while (i < n && o < 60) {
        size_t k = utf8_char(p + i, n - i);
        if (k == 0 || (k == 1 && is_control(p[i]))) {
            dst[o++] = '?';
            i++;
            continue;
        }
        if (o + k > 60)
            break;
        memcpy(dst + o, s + i, k);
        o += k;
        i += k;
    }
    if (i < n) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
    return dst;
}

static int ci_equal(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* ---- parameters (RFC 7231 3.1.1.1, RFC 6266 4.1) ----------------------------------------- */

typedef struct {
    const char *name;
    size_t name_len;
    const char *value; /* quoted: between the quotes, escapes not undone yet */
    size_t value_len;
    int quoted;
} mp_param;

static size_t skip_ows(const char *s, size_t len, size_t i)
{
    while (i < len && is_ows(s[i]))
        i++;
    return i;
}

/* In a quoted value, a backslash escapes '"' and '\' only (see multipart.h). */
static int is_escape(const char *v, size_t n, size_t i)
{
    return v[i] == '\\' && i + 1 < n && (v[i + 1] == '"' || v[i + 1] == '\\');
}

/* Reads the next `; name=value` of s[0..len) from *pos. 1: one was read; 0: the end; -1:
 * malformed at *pos. Empty parameters (";;") are skipped. */
static int next_param(const char *s, size_t len, size_t *pos, mp_param *out)
{
    size_t i = *pos;
    for (;;) {
        i = skip_ows(s, len, i);
        if (i == len)
            return *pos = i, 0;
        if (s[i] != ';')
            return *pos = i, -1;
        i = skip_ows(s, len, i + 1);
        if (i == len)
            return *pos = i, 0;
        if (s[i] != ';')
            break;
    }
    size_t start = i;
    while (i < len && is_tchar((unsigned char)s[i]))
        i++;
    if (i == start)
        return *pos = i, -1;
    out->name = s + start;
    out->name_len = i - start;
    i = skip_ows(s, len, i);
    if (i == len || s[i] != '=')
        return *pos = i, -1;
    i = skip_ows(s, len, i + 1);
    out->quoted = i < len && s[i] == '"';
    if (out->quoted) {
        start = ++i;
        while (i < len && s[i] != '"')
            i += is_escape(s, len, i) ? 2 : 1;
        if (i >= len)
            return *pos = start - 1, -1; /* no closing quote */
        out->value = s + start;
        out->value_len = i - start;
        i++;
    } else {
        start = i;
        while (i < len && !is_ows(s[i]) && s[i] != ';' && s[i] != '"')
            i++;
        out->value = s + start;
        out->value_len = i - start;
    }
    *pos = i;
    return 1;
}

static size_t unescaped_len(const mp_param *p)
{
    size_t n = p->value_len;
    if (p->quoted)
        for (size_t i = 0; i < p->value_len; i++)
            if (is_escape(p->value, p->value_len, i))
                n--, i++;
    return n;
}

/* Writes the value with its escapes undone to dst (room for unescaped_len bytes). */
static void unescape(const mp_param *p, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < p->value_len; i++) {
        if (p->quoted && is_escape(p->value, p->value_len, i))
            i++;
        dst[o++] = p->value[i];
    }
}

/* ---- the boundary ------------------------------------------------------------------------ */

/* The media type at the start of a Content-Type: its start and length, leading white space
 * skipped. */
static size_t media_type(const char *ct, size_t len, size_t *start)
{
    size_t i = skip_ows(ct, len, 0), end = i;
    while (end < len && ct[end] != ';' && !is_ows(ct[end]))
        end++;
    *start = i;
    return end - i;
}

static ig_err check_boundary(const char *b, size_t n, ig_error *err)
{
    char q[72];
    if (n == 0)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "the boundary of the Content-Type is empty");
    if (n > IG_MULTIPART_BOUNDARY_MAX)
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "the boundary \"%s\" is %zu characters long; RFC 2046 allows at most %d",
                            quoted(q, b, n), n, IG_MULTIPART_BOUNDARY_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        if (is_bchar(c))
            continue;
        if (c > 0x20 && c < 0x7f)
            return ig_error_set(err, IG_ERR_INVALID_ARG,
                                "the boundary \"%s\" contains '%c', which RFC 2046 does not allow in a boundary",
                                quoted(q, b, n), c);
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "the boundary \"%s\" contains the byte 0x%02x, which RFC 2046 does not allow in a boundary",
                            quoted(q, b, n), c);
    }
    if (b[n - 1] == ' ')
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "the boundary \"%s\" ends in a space, which RFC 2046 does not allow", quoted(q, b, n));
    return IG_OK;
}

ig_err ig_multipart_boundary(const char *content_type, char *out, size_t out_len, ig_error *err)
{
    if (!out || out_len < IG_MULTIPART_BOUNDARY_MAX + 1)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "the room for a boundary must be at least %d bytes",
                            IG_MULTIPART_BOUNDARY_MAX + 1);
    out[0] = '\0';
    if (!content_type || !*content_type)
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "the request has no Content-Type; a form must be sent as multipart/form-data "
                            "with a boundary");
    char q[72];
    size_t len = strlen(content_type), start;
    size_t tlen = media_type(content_type, len, &start);
    const char *type = content_type + start;
    if (tlen <= 10 || strncasecmp(type, "multipart/", 10) != 0)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "the Content-Type \"%s\" is not multipart",
                            quoted(q, content_type, len));
    size_t pos = start + tlen, found = 0;
    mp_param p, b = {0};
    int r;
    while ((r = next_param(content_type, len, &pos, &p)) == 1) {
        if (!ci_equal(p.name, p.name_len, "boundary"))
            continue;
        if (found++)
            return ig_error_set(err, IG_ERR_INVALID_ARG, "the Content-Type \"%s\" has two boundary parameters",
                                quoted(q, content_type, len));
        b = p;
    }
    if (r < 0)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "the Content-Type \"%s\" is malformed at byte %zu",
                            quoted(q, content_type, len), pos);
    if (!found)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "the Content-Type %s has no boundary", quoted(q, type, tlen));
    size_t n = unescaped_len(&b);
    if (n > IG_MULTIPART_BOUNDARY_MAX)
        return check_boundary(b.value, n, err); /* the sentence for too long */
    unescape(&b, out);
    out[n] = '\0';
    ig_err e = check_boundary(out, n, err);
    if (e)
        out[0] = '\0';
    return e;
}

/* ---- the body ------------------------------------------------------------------------------ */

typedef struct {
    const char *body;
    size_t len;
    char delim[4 + IG_MULTIPART_BOUNDARY_MAX + 1]; /* "\r\n--" boundary */
    size_t delim_len;
    size_t max_parts, max_part_bytes, max_header_bytes;
} mp_parser;

typedef enum {
    MP_DATA,  /* "--boundary" followed by something else: not a delimiter */
    MP_NEXT,  /* a delimiter: another part follows */
    MP_CLOSE, /* the closing delimiter */
    MP_END,   /* the body ends within the boundary line */
    MP_BAD_EOL /* the boundary line ends in a bare LF or CR */
} mp_line;

static size_t add_sat(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* At `at` begins "--boundary" (what memmem matched, past its CRLF). What the rest of the line
 * makes of it; *next is where the following part (or the epilogue) begins. */
static mp_line boundary_line(const mp_parser *m, size_t at, size_t *next)
{
    const char *b = m->body;
    size_t i = at + m->delim_len - 2;
    int close = i + 1 < m->len && b[i] == '-' && b[i + 1] == '-';
    if (close)
        i += 2;
    i = skip_ows(b, m->len, i);
    *next = i;
    if (i == m->len || (b[i] == '\r' && i + 1 == m->len))
        return close ? MP_CLOSE : MP_END;
    if (b[i] == '\r' && b[i + 1] == '\n') {
        *next = i + 2;
        return close ? MP_CLOSE : MP_NEXT;
    }
    if (b[i] == '\r' || b[i] == '\n')
        return MP_BAD_EOL;
    return MP_DATA;
}

/* The first delimiter "CRLF--boundary" at or after `from` whose start is before `limit`
 * (exclusive; the rest of the pattern may pass it). *at is where its "--" begins. 0: none. */
static int find_delimiter(const mp_parser *m, size_t from, size_t limit, size_t *at, mp_line *kind, size_t *next)
{
    size_t end = add_sat(limit, m->delim_len - 1);
    if (end > m->len)
        end = m->len;
    while (from < end && end - from >= m->delim_len) {
        const char *hit = memmem(m->body + from, end - from, m->delim, m->delim_len);
        if (!hit)
            return 0;
        size_t h = (size_t)(hit - m->body);
        *kind = boundary_line(m, h + 2, next);
        if (*kind != MP_DATA) {
            *at = h + 2;
            return 1;
        }
        from = h + m->delim_len;
    }
    return 0;
}

/* The first boundary line: at the very start of the body, or after a preamble. */
static ig_err first_boundary(const mp_parser *m, mp_line *kind, size_t *at, size_t *next, ig_error *err)
{
    char q[72];
    size_t dash_len = m->delim_len - 2;
    *kind = MP_DATA;
    if (m->len >= dash_len && memcmp(m->body, m->delim + 2, dash_len) == 0) {
        *at = 0;
        *kind = boundary_line(m, 0, next);
    }
    if (*kind == MP_DATA && !find_delimiter(m, 0, m->len, at, kind, next))
        return m->len == 0 ? ig_error_set(err, IG_ERR_PARSE, "the multipart body is empty")
                           : ig_error_set(err, IG_ERR_PARSE,
                                          "the multipart body does not contain its boundary line \"%s\"",
                                          quoted(q, m->delim + 2, dash_len));
    return IG_OK;
}

/* A sentence's name for part `index` (1-based): by its name once known. */
static const char *part_label(char dst[96], size_t index, const ig_multipart_part *p)
{
    char q[72];
    if (p && p->name)
        snprintf(dst, 96, "the part \"%s\"", quoted(q, p->name, p->name_len));
    else
        snprintf(dst, 96, "part %zu", index);
    return dst;
}

/* ---- a part's headers ---------------------------------------------------------------------- */

typedef struct {
    const char *disposition, *type;
    size_t disposition_len, type_len;
    int has_disposition, has_type;
    size_t data_start;  /* where the part's bytes begin */
    size_t search_from; /* where its closing delimiter may begin (its CRLF) */
} mp_headers;

static ig_err header_field(mp_headers *h, const char *line, size_t n, size_t index, ig_error *err)
{
    char q[72];
    if (is_ows(line[0]))
        return ig_error_set(err, IG_ERR_PARSE,
                            "a header line of part %zu starts with white space (obsolete line folding is not read)",
                            index);
    const char *colon = memchr(line, ':', n);
    size_t name_len = colon ? (size_t)(colon - line) : 0;
    for (size_t i = 0; i < name_len; i++)
        if (!is_tchar((unsigned char)line[i]))
            name_len = 0;
    if (name_len == 0)
        return ig_error_set(err, IG_ERR_PARSE, "a header line of part %zu is not \"Name: value\": \"%s\"", index,
                            quoted(q, line, n));
    size_t v = skip_ows(line, n, name_len + 1), e = n;
    while (e > v && is_ows(line[e - 1]))
        e--;
    const char *value = line + v;
    size_t value_len = e - v;
    if (ci_equal(line, name_len, "content-disposition")) {
        if (h->has_disposition++)
            return ig_error_set(err, IG_ERR_PARSE, "part %zu has two Content-Disposition headers", index);
        h->disposition = value;
        h->disposition_len = value_len;
    } else if (ci_equal(line, name_len, "content-type")) {
        if (h->has_type++)
            return ig_error_set(err, IG_ERR_PARSE, "part %zu has two Content-Type headers", index);
        h->type = value;
        h->type_len = value_len;
    } else if (ci_equal(line, name_len, "content-transfer-encoding")) {
        if (!ci_equal(value, value_len, "7bit") && !ci_equal(value, value_len, "8bit") &&
            !ci_equal(value, value_len, "binary"))
            return ig_error_set(err, IG_ERR_PARSE,
                                "part %zu has Content-Transfer-Encoding \"%s\"; multipart/form-data parts are sent "
                                "as they are (RFC 7578 4.7)",
                                index, quoted(q, value, value_len));
    }
    return IG_OK;
}

/* The end of the header line at `at`: *eol is the index of its CR. An error when the line is
 * malformed, runs past `cap` (exclusive) or past the body. */
static ig_err header_line_end(const mp_parser *m, size_t at, size_t cap, size_t index, size_t *eol, ig_error *err)
{
    size_t end = cap < m->len ? cap : m->len;
    for (size_t i = at; i < end; i++) {
        unsigned char c = (unsigned char)m->body[i];
        if (c == '\r' && i + 1 < end && m->body[i + 1] == '\n') {
            *eol = i;
            return IG_OK;
        }
        if (c == '\r' && i + 1 == end)
            break;
        if (c == '\n' || c == '\r')
            return ig_error_set(err, IG_ERR_PARSE,
                                "a header line of part %zu ends in a bare %s; multipart/form-data lines end in CRLF",
                                index, c == '\n' ? "LF" : "CR");
        if (is_control(c))
            return ig_error_set(err, IG_ERR_PARSE, "the headers of part %zu contain the control byte 0x%02x", index,
                                c);
    }
    if (cap < m->len)
        return ig_error_set(err, IG_ERR_TOO_LARGE, "the headers of part %zu are longer than %zu bytes", index,
                            m->max_header_bytes);
    return ig_error_set(err, IG_ERR_PARSE,
                        "the multipart body ends inside the headers of part %zu (no empty line, no closing delimiter)",
                        index);
}

/* Reads the header block of the part that begins at s: up to an empty line, or up to a
 * delimiter (a part with headers and no bytes). */
static ig_err read_headers(const mp_parser *m, size_t s, size_t index, mp_headers *h, ig_error *err)
{
    memset(h, 0, sizeof *h);
    size_t cap = add_sat(s, m->max_header_bytes), dash_len = m->delim_len - 2, next;
    for (size_t at = s;;) {
        /* Every line here follows a CRLF, so a delimiter may begin it. */
        if (m->len - at >= dash_len && memcmp(m->body + at, m->delim + 2, dash_len) == 0 &&
            boundary_line(m, at, &next) != MP_DATA) {
            h->data_start = h->search_from = at - 2;
            return IG_OK;
        }
        if (m->len - at >= 2 && at + 2 <= cap && m->body[at] == '\r' && m->body[at + 1] == '\n') {
            h->search_from = at;
            h->data_start = at + 2;
            return IG_OK;
        }
        size_t eol = at;
        ig_err e = header_line_end(m, at, cap, index, &eol, err);
        if (!e)
            e = header_field(h, m->body + at, eol - at, index, err);
        if (e)
            return e;
        at = eol + 2;
    }
}

/* ---- Content-Disposition --------------------------------------------------------------------- */

/* Room in part->decoded for n more bytes, at *used. */
static char *decoded_room(ig_multipart_part *part, size_t *used, size_t n, size_t index, ig_error *err)
{
    if (n > sizeof part->decoded - *used) {
        ig_error_set(err, IG_ERR_TOO_LARGE, "the name and filename of part %zu take more than %d bytes once decoded",
                     index, IG_MULTIPART_DECODED_MAX);
        return NULL;
    }
    char *p = part->decoded + *used;
    *used += n;
    return p;
}

/* A parameter's value, pointing into the body or, when it has escapes, into part->decoded. */
static ig_err param_value(ig_multipart_part *part, size_t *used, const mp_param *p, const char **out,
                          size_t *out_len, size_t index, ig_error *err)
{
    size_t n = unescaped_len(p);
    *out_len = n;
    if (n == p->value_len) {
        *out = p->value;
        return IG_OK;
    }
    char *dst = decoded_room(part, used, n, index, err);
    if (!dst)
        return IG_ERR_TOO_LARGE;
    unescape(p, dst);
    *out = dst;
    return IG_OK;
}

/* filename* = charset'language'percent-encoded (RFC 5987), into part->decoded as UTF-8. Every
 * non-ASCII byte comes from a 3-byte escape, so the result is never longer than the value. */
static ig_err ext_filename(ig_multipart_part *part, size_t *used, const mp_param *p, size_t index, ig_error *err)
{
    char q[72];
    const char *v = p->value, *end = v + p->value_len;
    const char *q1 = memchr(v, '\'', p->value_len);
    const char *q2 = q1 ? memchr(q1 + 1, '\'', (size_t)(end - q1 - 1)) : NULL;
    if (!q2)
        return ig_error_set(err, IG_ERR_PARSE, "the filename* of part %zu is not charset'language'value (RFC 5987)",
                            index);
    int latin1 = ci_equal(v, (size_t)(q1 - v), "iso-8859-1");
    if (!latin1 && !ci_equal(v, (size_t)(q1 - v), "utf-8"))
        return ig_error_set(err, IG_ERR_PARSE,
                            "the filename* of part %zu is in the charset \"%s\"; only UTF-8 and ISO-8859-1 are read",
                            index, quoted(q, v, (size_t)(q1 - v)));
    for (const char *s = q2 + 1; s < end; s++)
        if ((unsigned char)*s >= 0x80)
            return ig_error_set(err, IG_ERR_PARSE,
                                "the filename* of part %zu has a byte that is not ASCII "
                                "(RFC 5987 percent-encodes them)",
                                index);
    char *dst = decoded_room(part, used, (size_t)(end - q2 - 1), index, err);
    if (!dst)
        return IG_ERR_TOO_LARGE;
    size_t o = 0;
    for (const char *s = q2 + 1; s < end; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '%') {
            int hi = s + 2 < end ? ig_hex_value((unsigned char)s[1]) : -1;
            int lo = s + 2 < end ? ig_hex_value((unsigned char)s[2]) : -1;
            if (hi < 0 || lo < 0)
                return ig_error_set(err, IG_ERR_PARSE, "the filename* of part %zu has a malformed %% escape", index);
            c = (unsigned char)(hi << 4 | lo);
            s += 2;
        }
        if (latin1 && c >= 0x80) {
            dst[o++] = (char)(0xc0 | c >> 6);
            dst[o++] = (char)(0x80 | (c & 0x3f));
        } else {
            dst[o++] = (char)c;
        }
    }
    *used -= (size_t)(end - q2 - 1) - o;
    part->filename = dst;
    part->filename_len = o;
    return IG_OK;
}

/* form-data; name="..."; filename="..."; filename*=... into part. */
static ig_err read_disposition(const mp_headers *h, ig_multipart_part *part, size_t index, ig_error *err)
{
    char q[72];
    if (!h->has_disposition)
        return ig_error_set(err, IG_ERR_PARSE, "part %zu has no Content-Disposition header", index);
    const char *d = h->disposition;
    size_t len = h->disposition_len, start;
    size_t tlen = media_type(d, len, &start);
    if (!ci_equal(d + start, tlen, "form-data"))
        return ig_error_set(err, IG_ERR_PARSE, "the Content-Disposition of part %zu is \"%s\", not form-data", index,
                            quoted(q, d + start, tlen));
    mp_param p, name = {0}, filename = {0}, ext = {0};
    int r;
    size_t pos = start + tlen;
    while ((r = next_param(d, len, &pos, &p)) == 1) {
        mp_param *slot = ci_equal(p.name, p.name_len, "name")        ? &name
                         : ci_equal(p.name, p.name_len, "filename")  ? &filename
                         : ci_equal(p.name, p.name_len, "filename*") ? &ext
                                                                     : NULL;
        if (!slot)
            continue;
        if (slot->name)
            return ig_error_set(err, IG_ERR_PARSE, "the Content-Disposition of part %zu has two %s parameters", index,
                                quoted(q, p.name, p.name_len));
        *slot = p;
    }
    if (r < 0)
        return ig_error_set(err, IG_ERR_PARSE, "the Content-Disposition of part %zu is malformed at byte %zu: \"%s\"",
                            index, pos, quoted(q, d, len));
    if (!name.name)
        return ig_error_set(err, IG_ERR_PARSE, "part %zu has no name in its Content-Disposition", index);
    size_t used = 0;
    ig_err e = param_value(part, &used, &name, &part->name, &part->name_len, index, err);
    if (e)
        return e;
    if (part->name_len == 0)
        return ig_error_set(err, IG_ERR_PARSE, "part %zu has an empty name", index);
    if (!is_clean_text(part->name, part->name_len))
        return ig_error_set(err, IG_ERR_PARSE, "the name of part %zu is not UTF-8 text", index);
    if (ext.name)
        e = ext_filename(part, &used, &ext, index, err);
    else if (filename.name)
        e = param_value(part, &used, &filename, &part->filename, &part->filename_len, index, err);
    if (e)
        return e;
    if (part->filename && !is_clean_text(part->filename, part->filename_len))
        return ig_error_set(err, IG_ERR_PARSE, "the filename of part %zu is not UTF-8 text", index);
    return IG_OK;
}

static ig_err read_part_headers(const mp_parser *m, size_t s, size_t index, ig_multipart_part *part,
                                mp_headers *h, ig_error *err)
{
    memset(part, 0, sizeof *part);
    ig_err e = read_headers(m, s, index, h, err);
    if (!e)
        e = read_disposition(h, part, index, err);
    if (e)
        return e;
    if (h->has_type && h->type_len > 0) {
        if (!is_clean_text(h->type, h->type_len))
            return ig_error_set(err, IG_ERR_PARSE, "the Content-Type of part %zu is not UTF-8 text", index);
        part->content_type = h->type;
        part->content_type_len = h->type_len;
    }
    return IG_OK;
}

/* ---- the walk ---------------------------------------------------------------------------------- */

static ig_err boundary_line_error(const mp_parser *m, mp_line kind, size_t at, ig_error *err)
{
    char q[72];
    if (kind == MP_BAD_EOL)
        return ig_error_set(err, IG_ERR_PARSE,
                            "the boundary line at byte %zu ends in a bare LF or CR; "
                            "multipart/form-data lines end in CRLF",
                            at);
    return ig_error_set(err, IG_ERR_PARSE, "the multipart body ends without its closing delimiter \"%s--\"",
                        quoted(q, m->delim + 2, m->delim_len - 2));
}

/* Reads the part beginning at s (after its delimiter line) into part; *kind and *next say
 * what follows it. */
static ig_err read_part(const mp_parser *m, size_t s, size_t index, ig_multipart_part *part, mp_line *kind,
                        size_t *next, ig_error *err)
{
    char label[96], q[72];
    mp_headers h;
    ig_err e = read_part_headers(m, s, index, part, &h, err);
    if (e)
        return e;
    size_t at, limit = add_sat(add_sat(h.data_start, m->max_part_bytes), 1);
    if (!find_delimiter(m, h.search_from, limit, &at, kind, next)) {
        if (m->len - h.data_start > m->max_part_bytes)
            return ig_error_set(err, IG_ERR_TOO_LARGE, "%s is larger than %zu bytes", part_label(label, index, part),
                                m->max_part_bytes);
        return ig_error_set(err, IG_ERR_PARSE,
                            "the multipart body ends inside %s, without its closing delimiter \"%s--\"",
                            part_label(label, index, part), quoted(q, m->delim + 2, m->delim_len - 2));
    }
    size_t end = at - 2; /* the delimiter's CRLF belongs to it */
    part->data = m->body + (end > h.data_start ? h.data_start : end);
    part->len = end > h.data_start ? end - h.data_start : 0;
    if (*kind == MP_END || *kind == MP_BAD_EOL)
        return boundary_line_error(m, *kind, at, err);
    return IG_OK;
}

static ig_err parse_body(const mp_parser *m, ig_multipart_part *parts, size_t *n_parts, ig_error *err)
{
    mp_line kind;
    size_t at, next;
    ig_err e = first_boundary(m, &kind, &at, &next, err);
    if (e)
        return e;
    if (kind == MP_END || kind == MP_BAD_EOL)
        return boundary_line_error(m, kind, at, err);
    size_t n = 0;
    while (kind == MP_NEXT) {
        if (n == m->max_parts)
            return ig_error_set(err, IG_ERR_TOO_LARGE, "the multipart body has more than %zu parts", m->max_parts);
        e = read_part(m, next, n + 1, &parts[n], &kind, &next, err);
        if (e)
            return e;
        n++;
    }
    *n_parts = n;
    return IG_OK;
}

static size_t or_default(size_t v, size_t dflt)
{
    return v ? v : dflt;
}

ig_err ig_multipart_parse(const char *content_type, const void *body, size_t len, const ig_multipart_limits *lim,
                          ig_multipart_part *parts, size_t max_parts, size_t *n_parts, ig_error *err)
{
    if (n_parts)
        *n_parts = 0;
    if (!n_parts || (!body && len) || (!parts && max_parts))
        return ig_error_set(err, IG_ERR_INVALID_ARG, "ig_multipart_parse: missing body, parts or count");
    static const ig_multipart_limits none = {0};
    if (!lim)
        lim = &none;
    mp_parser m = {.body = body ? body : "", .len = len};
    m.max_parts = or_default(lim->max_parts, max_parts);
    if (m.max_parts > max_parts)
        m.max_parts = max_parts;
    m.max_part_bytes = or_default(lim->max_part_bytes, SIZE_MAX);
    m.max_header_bytes = or_default(lim->max_header_bytes, IG_MULTIPART_DEFAULT_HEADER_BYTES);

    char q[72], boundary[IG_MULTIPART_BOUNDARY_MAX + 1];
    ig_err e = ig_multipart_boundary(content_type, boundary, sizeof boundary, err);
    if (e)
        return e;
    size_t start, tlen = media_type(content_type, strlen(content_type), &start);
    if (!ci_equal(content_type + start, tlen, "multipart/form-data"))
        return ig_error_set(err, IG_ERR_INVALID_ARG, "the Content-Type \"%s\" is not multipart/form-data",
                            quoted(q, content_type + start, tlen));
    if (lim->max_total_bytes && len > lim->max_total_bytes)
        return ig_error_set(err, IG_ERR_TOO_LARGE, "the multipart body is %zu bytes, more than the limit of %zu",
                            len, lim->max_total_bytes);
    m.delim_len = (size_t)snprintf(m.delim, sizeof m.delim, "\r\n--%s", boundary);
    e = parse_body(&m, parts, n_parts, err);
    if (e)
        *n_parts = 0;
    return e;
}
