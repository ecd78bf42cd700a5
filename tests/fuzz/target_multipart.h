/* target_multipart.h - the body of the multipart/form-data fuzz target, shared by its libFuzzer
 * main (fuzz_multipart.c) and the regression replay (tests/unit/test_fuzz_regressions.c), like
 * the bodies in targets.h (include that first: FZ_CHECK).
 *
 * Input: the request's Content-Type up to the first '\n' (an empty line means
 * "multipart/form-data; boundary=XyZ", so the fuzzer spends its time on bodies), then the body.
 *
 * Promises checked beyond "does not crash or read past the body":
 * - an answer is IG_OK, or IG_ERR_INVALID_ARG exactly when the Content-Type is unusable, or
 *   IG_ERR_PARSE / IG_ERR_TOO_LARGE, with a sentence that is valid UTF-8 and no parts;
 * - every part has a non-empty name; name, filename and type are UTF-8 without control bytes
 *   and lie in the body or in the part; data lies in the body, in order, each part's bytes
 *   followed by "\r\n--boundary";
 * - a round trip: the parts written out again in the canonical form parse to the same parts;
 * - limits only refuse: with small limits, a body that parses either gives the same parts or
 *   IG_ERR_TOO_LARGE, and a body refused without limits is refused with them.
 */
#ifndef IG_FUZZ_TARGET_MULTIPART_H
#define IG_FUZZ_TARGET_MULTIPART_H

#include <strings.h>

#include "codec/multipart.h"

#define FZ_MP_MAX 64
#define FZ_MP_DEFAULT_CT "multipart/form-data; boundary=XyZ"

static inline int fz_mp_inside(const void *p, size_t n, const void *start, size_t len)
{
    const char *a = p, *s = start;
    return a >= s && n <= len && (size_t)(a - s) <= len - n;
}

/* UTF-8 (jansson agrees) with no control byte but tab. */
static inline int fz_mp_clean(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
            return 0;
    json_t *j = json_stringn(s, n);
    json_decref(j);
    return j != NULL;
}

static inline void fz_mp_check_string(const ig_multipart_part *p, const char *s, size_t n, const char *body,
                                      size_t len)
{
    FZ_CHECK(fz_mp_clean(s, n));
    FZ_CHECK(fz_mp_inside(s, n, body, len) || fz_mp_inside(s, n, p->decoded, sizeof p->decoded));
}

static inline void fz_mp_check_parts(const ig_multipart_part *parts, size_t n, const char *body, size_t len,
                                     const char *boundary)
{
    const char *prev_end = body;
    size_t blen = strlen(boundary);
    for (size_t i = 0; i < n; i++) {
        const ig_multipart_part *p = &parts[i];
        FZ_CHECK(p->name != NULL && p->name_len >= 1);
        fz_mp_check_string(p, p->name, p->name_len, body, len);
        if (p->filename)
            fz_mp_check_string(p, p->filename, p->filename_len, body, len);
        if (p->content_type) {
            FZ_CHECK(p->content_type_len > 0);
            FZ_CHECK(fz_mp_inside(p->content_type, p->content_type_len, body, len));
            FZ_CHECK(fz_mp_clean(p->content_type, p->content_type_len));
        }
        FZ_CHECK(p->data != NULL && fz_mp_inside(p->data, p->len, body, len));
        FZ_CHECK(p->data >= prev_end);
        prev_end = p->data + p->len;
        size_t rest = len - (size_t)(prev_end - body);
        FZ_CHECK(rest >= 4 + blen && memcmp(prev_end, "\r\n--", 4) == 0 && memcmp(prev_end + 4, boundary, blen) == 0);
    }
}

/* A quoted-string of s: '"' and '\' escaped. */
static inline void fz_mp_quote(ig_buf *out, const char *s, size_t n)
{
    ig_buf_append_char(out, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            ig_buf_append_char(out, '\\');
        ig_buf_append_char(out, s[i]);
    }
    ig_buf_append_char(out, '"');
}

static inline void fz_mp_encode(ig_buf *out, const ig_multipart_part *parts, size_t n, const char *boundary)
{
    for (size_t i = 0; i < n; i++) {
        const ig_multipart_part *p = &parts[i];
        ig_buf_appendf(out, "--%s\r\nContent-Disposition: form-data; name=", boundary);
        fz_mp_quote(out, p->name, p->name_len);
        if (p->filename) {
            ig_buf_append_str(out, "; filename=");
            fz_mp_quote(out, p->filename, p->filename_len);
        }
        ig_buf_append_str(out, "\r\n");
        if (p->content_type) {
            ig_buf_append_str(out, "Content-Type: ");
            ig_buf_append(out, p->content_type, p->content_type_len);
            ig_buf_append_str(out, "\r\n");
        }
        ig_buf_append_str(out, "\r\n");
        ig_buf_append(out, p->data, p->len);
        ig_buf_append_str(out, "\r\n");
    }
    ig_buf_appendf(out, "--%s--\r\n", boundary);
}

static inline int fz_mp_same_slice(const char *a, size_t an, const char *b, size_t bn)
{
    if (!a || !b)
        return a == b;
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static inline int fz_mp_same_part(const ig_multipart_part *a, const ig_multipart_part *b)
{
    return fz_mp_same_slice(a->name, a->name_len, b->name, b->name_len) &&
           fz_mp_same_slice(a->filename, a->filename_len, b->filename, b->filename_len) &&
           fz_mp_same_slice(a->content_type, a->content_type_len, b->content_type, b->content_type_len) &&
           fz_mp_same_slice(a->data, a->len, b->data, b->len);
}

static inline void fz_mp_round_trip(const char *ct, const ig_multipart_part *parts, size_t n, const char *boundary)
{
    ig_buf enc;
    ig_buf_init(&enc, 0);
    fz_mp_encode(&enc, parts, n, boundary);
    /* An exact-size copy, so ASan sees a read past its end. */
    char *copy = malloc(enc.len ? enc.len : 1);
    FZ_CHECK(copy != NULL);
    memcpy(copy, enc.data, enc.len);
    static ig_multipart_part again[FZ_MP_MAX];
    size_t n2 = 0;
    ig_error err;
    ig_error_clear(&err);
    ig_multipart_limits lim = {.max_header_bytes = enc.len + 1};
    ig_err e = ig_multipart_parse(ct, copy, enc.len, &lim, again, FZ_MP_MAX, &n2, &err);
    if (e != IG_OK) {
        /* A name kept as a slice may need escaping once written out, and then room in decoded[]. */
        if (!(e == IG_ERR_TOO_LARGE && strstr(err.message, "once decoded"))) {
            fprintf(stderr, "the canonical form of a parsed body does not parse: %s\n", err.message);
            abort();
        }
    } else {
        FZ_CHECK(n2 == n);
        for (size_t i = 0; i < n; i++)
            FZ_CHECK(fz_mp_same_part(&parts[i], &again[i]));
    }
    free(copy);
    ig_buf_free(&enc);
}

/* The media type of a Content-Type is multipart/form-data (any case, white space before it). */
static inline int fz_mp_is_form_data(const char *ct)
{
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, "; \t");
    return n == 19 && strncasecmp(ct, "multipart/form-data", 19) == 0;
}

static inline int fuzz_multipart(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t ct_len = nl ? (size_t)(nl - data) : size;
    char *ct = malloc(ct_len + 1);
    FZ_CHECK(ct != NULL);
    memcpy(ct, data, ct_len);
    ct[ct_len] = '\0';
    const char *content_type = ct_len ? ct : FZ_MP_DEFAULT_CT;
    size_t len = nl ? size - ct_len - 1 : 0;
    char *body = malloc(len ? len : 1);
    FZ_CHECK(body != NULL);
    if (len)
        memcpy(body, nl + 1, len);

    char boundary[IG_MULTIPART_BOUNDARY_MAX + 1];
    ig_error err;
    ig_error_clear(&err);
    ig_err be = ig_multipart_boundary(content_type, boundary, sizeof boundary, &err);
    if (be == IG_OK) {
        size_t blen = strlen(boundary);
        FZ_CHECK(blen >= 1 && blen <= IG_MULTIPART_BOUNDARY_MAX && boundary[blen - 1] != ' ');
    } else {
        FZ_CHECK(be == IG_ERR_INVALID_ARG && boundary[0] == '\0');
        FZ_CHECK_SENTENCE(err);
    }

    static ig_multipart_part parts[FZ_MP_MAX];
    size_t n = 99;
    ig_error_clear(&err);
    ig_err e = ig_multipart_parse(content_type, body, len, NULL, parts, FZ_MP_MAX, &n, &err);
    if (e == IG_OK) {
        FZ_CHECK(be == IG_OK && fz_mp_is_form_data(content_type) && n <= FZ_MP_MAX);
        fz_mp_check_parts(parts, n, body, len, boundary);
        fz_mp_round_trip(content_type, parts, n, boundary);
    } else {
        FZ_CHECK(e == IG_ERR_INVALID_ARG || e == IG_ERR_PARSE || e == IG_ERR_TOO_LARGE);
        FZ_CHECK((e == IG_ERR_INVALID_ARG) == (be != IG_OK || !fz_mp_is_form_data(content_type)));
        FZ_CHECK(n == 0);
        FZ_CHECK_SENTENCE(err);
        FZ_CHECK(fz_mp_clean(err.message, strlen(err.message)));
    }

    /* Small limits only refuse more. */
    static ig_multipart_part small[FZ_MP_MAX];
    size_t ns = 99;
    ig_error serr;
    ig_error_clear(&serr);
    ig_multipart_limits lim = {.max_parts = 3, .max_part_bytes = 64, .max_header_bytes = 256, .max_total_bytes = 4096};
    ig_err es = ig_multipart_parse(content_type, body, len, &lim, small, FZ_MP_MAX, &ns, &serr);
    if (e == IG_OK) {
        FZ_CHECK(es == IG_OK || es == IG_ERR_TOO_LARGE);
        if (es == IG_OK) {
            FZ_CHECK(ns == n);
            for (size_t i = 0; i < n; i++)
                FZ_CHECK(fz_mp_same_part(&parts[i], &small[i]));
        }
    } else {
        FZ_CHECK(es != IG_OK && ns == 0);
    }
    if (es != IG_OK)
        FZ_CHECK(fz_mp_clean(serr.message, strlen(serr.message)) && serr.message[0]);

    free(body);
    free(ct);
    return 0;
}

#endif
