/* targets.h - the bodies of the fuzz targets, shared by the libFuzzer mains (fuzz_<name>.c)
 * and by the regression replay in the ordinary test suite (tests/unit/test_fuzz_regressions.c),
 * so a crashing input found by the fuzzer is replayed by exactly the code that found it.
 *
 * Each target takes untrusted bytes the way the product receives them, calls the parser, and
 * checks the promises of its header beyond "does not crash": results are bounded, round trips
 * hold, errors come with one of the documented codes and a sentence. A broken promise aborts.
 *
 * Targets that need several fields split the input into lines ('\n'); see each target.
 */
#ifndef IG_FUZZ_TARGETS_H
#define IG_FUZZ_TARGETS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/s3.h"
#include "aws/sigv4.h"
#include "codec/base64.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"
#include "apigw/event.h"
#include "codec/extract.h"
#include "handler/inputs.h"
#include "lua/host.h"

/* The gateway's event builder lives in the gateway executable, not in a library: compile its
 * pure parts (routes, event) here. */
#include "../../runtime/local/gateway/event.c"
#include "../../runtime/local/gateway/routes.c"

#define FZ_CHECK(cond)                                                                         \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, #cond);         \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

/* A failed call must leave a sentence behind. */
#define FZ_CHECK_SENTENCE(e) FZ_CHECK((e).message[0] != '\0')

/* A NUL-terminated copy of the input cut into lines at '\n': the first `fixed` lines, then
 * `sections` sections each ended by an empty line; what follows is the body (bytes, newlines
 * included). Missing lines are "". */
#define FZ_MAX_LINES 40
typedef struct {
    char *copy;
    char *line[FZ_MAX_LINES];
    size_t n;
    const char *body;
    size_t body_len;
} fz_lines;

static inline void fz_split(fz_lines *f, const uint8_t *data, size_t size, size_t fixed, int sections)
{
    memset(f, 0, sizeof *f);
    f->copy = malloc(size + 1);
    if (!f->copy)
        abort();
    if (size)
        memcpy(f->copy, data, size);
    f->copy[size] = '\0';
    char *p = f->copy, *end = f->copy + size;
    int blanks = 0;
    while (f->n < FZ_MAX_LINES && blanks < sections) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            f->line[f->n++] = p;
            p = end;
            break;
        }
        *nl = '\0';
        if (f->n >= fixed && *p == '\0')
            blanks++;
        f->line[f->n++] = p;
        p = nl + 1;
    }
    f->body = p;
    f->body_len = (size_t)(end - p);
    for (size_t i = f->n; i < FZ_MAX_LINES; i++)
        f->line[i] = end;
}

static inline const char *fz_source_dir(void)
{
    const char *s = getenv("IMAGEGEN_SOURCE_DIR");
    if (s && *s)
        return s;
#ifdef IG_FUZZ_SOURCE_DIR
    return IG_FUZZ_SOURCE_DIR;
#else
    return ".";
#endif
}

/* ---- base64: decode never writes past ig_base64_decoded_max; what decodes re-encodes to the
 * same text (the decoder is strict, so the encoding is canonical). ---- */
static inline int fuzz_base64(const uint8_t *data, size_t size)
{
    size_t max = ig_base64_decoded_max(size);
    /* Exactly the promised room, so ASan sees any overrun. */
    unsigned char *out = malloc(max ? max : 1);
    if (!out)
        abort();
    size_t out_len = 0;
    ig_error err;
    ig_error_clear(&err);
    ig_err e = ig_base64_decode((const char *)data, size, out, &out_len, &err);
    if (e == IG_OK) {
        FZ_CHECK(out_len <= max);
        FZ_CHECK(ig_base64_encoded_len(out_len) == size);
        ig_buf b = {0};
        FZ_CHECK(ig_base64_encode_buf(out, out_len, &b) == IG_OK);
        FZ_CHECK(b.len == size && (size == 0 || memcmp(b.data, data, size) == 0));
        ig_buf_free(&b);
    } else {
        FZ_CHECK(e == IG_ERR_BASE64);
        FZ_CHECK_SENTENCE(err);
    }
    /* The buffer variant agrees with the plain one, and respects a cap. */
    ig_buf capped;
    ig_buf_init(&capped, 8);
    ig_err e2 = ig_base64_decode_buf((const char *)data, size, &capped, &err);
    if (e == IG_OK)
        FZ_CHECK(out_len <= 8 ? (e2 == IG_OK && capped.len == out_len &&
                                 (out_len == 0 || memcmp(capped.data, out, out_len) == 0))
                              : e2 == IG_ERR_TOO_LARGE);
    else
        FZ_CHECK(e2 != IG_OK);
    FZ_CHECK(capped.len <= 8);
    ig_buf_free(&capped);
    /* The table path (CPUs without AVX2) agrees with the AVX2 path: code, message, bytes. */
    if (ig_base64_use_simd(-1)) {
        unsigned char *out2 = malloc(max ? max : 1);
        if (!out2)
            abort();
        size_t out2_len = 0;
        ig_error err2;
        ig_error_clear(&err2);
        ig_base64_use_simd(0);
        ig_err e3 = ig_base64_decode((const char *)data, size, out2, &out2_len, &err2);
        ig_base64_use_simd(1);
        ig_error_clear(&err);
        ig_base64_decode((const char *)data, size, out, &out_len, &err);
        FZ_CHECK(e3 == e && out2_len == out_len);
        FZ_CHECK(e3 != IG_OK ? strcmp(err.message, err2.message) == 0
                             : out_len == 0 || memcmp(out, out2, out_len) == 0);
        free(out2);
    }
    free(out);
    return 0;
}

/* ---- extract: the model's answer, through the paths the shipped models use and a few
 * malformed ones. Every image found lies inside the body (walked in place) or inside the tree.
 * And a differential check: for an answer that is strict JSON (jansson, no duplicate keys),
 * the in-place walk must find exactly the images, and the error string, that a plain walk of
 * jansson's tree finds. ---- */

/* The reference: images at "images" or "artifacts[].base64" in doc, as the extractor's contract
 * says (absent or null: none; an array: its strings; a string: itself). -1: not strings, or
 * more than IG_EXTRACT_MAX_IMAGES. */
static inline int fz_ref_add(json_t *v, json_t **out, size_t *n)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e) || *n == IG_EXTRACT_MAX_IMAGES)
                return -1;
            out[(*n)++] = e;
        }
        return 0;
    }
    if (!json_is_string(v) || *n == IG_EXTRACT_MAX_IMAGES)
        return -1;
    out[(*n)++] = v;
    return 0;
}

static inline int fz_ref_images(json_t *doc, int sdxl, json_t **out, size_t *n)
{
    *n = 0;
    json_t *top = json_object_get(doc, sdxl ? "artifacts" : "images");
    if (!top || json_is_null(top))
        return 0;
    if (!sdxl)
        return fz_ref_add(top, out, n);
    if (!json_is_array(top))
        return -1;
    size_t i;
    json_t *a;
    json_array_foreach(top, i, a)
    {
        if (!json_is_object(a))
            return -1;
        json_t *b = json_object_get(a, "base64");
        if (b && !json_is_null(b) && fz_ref_add(b, out, n) != 0)
            return -1;
    }
    return 0;
}

static inline void fz_extract_differential(const uint8_t *data, size_t size, int sdxl, ig_err e,
                                           const ig_extracted *x)
{
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return; /* not strict JSON: the extractor may be lenient or refuse */
    }
    json_t *ref[IG_EXTRACT_MAX_IMAGES];
    size_t n = 0;
    int rc = fz_ref_images(doc, sdxl, ref, &n);
    json_t *reasons = json_object_get(doc, "error");
    if (rc == 0 && json_is_array(reasons) && json_array_size(reasons) > IG_EXTRACT_MAX_IMAGES)
        rc = -1; /* more reasons than a call has images: refused */
    if ((rc == 0) != (e == IG_OK)) {
        fprintf(stderr, "extract disagrees with jansson on whether the answer holds images (path %s)\n",
                sdxl ? "artifacts[].base64" : "images");
        abort();
    }
    if (rc == 0) {
        FZ_CHECK(x->count == n);
        for (size_t k = 0; k < n; k++)
            FZ_CHECK(x->b64_len[k] == json_string_length(ref[k]) &&
                     memcmp(x->b64[k], json_string_value(ref[k]), x->b64_len[k]) == 0);
        json_t *ev = json_object_get(doc, "error");
        if (json_is_string(ev) && json_string_length(ev) > 0) {
            FZ_CHECK(x->error != NULL);
            size_t c = json_string_length(ev) < sizeof x->error_buf ? json_string_length(ev) : sizeof x->error_buf - 1;
            FZ_CHECK(strncmp(x->error, json_string_value(ev), c) == 0);
        } else if (json_is_array(ev)) {
            /* one reason per image: a non-empty string, or none; the first one is the error */
            FZ_CHECK(x->n_reasons == json_array_size(ev));
            const char *first = NULL;
            for (size_t k = 0; k < x->n_reasons; k++) {
                json_t *r = json_array_get(ev, k);
                int text = json_is_string(r) && json_string_length(r) > 0;
                FZ_CHECK((x->reasons[k] != NULL) == text);
                if (text) {
                    size_t c = json_string_length(r) < sizeof x->reason_buf[k] ? json_string_length(r)
                                                                              : sizeof x->reason_buf[k] - 1;
                    FZ_CHECK(strncmp(x->reasons[k], json_string_value(r), c) == 0);
                    if (!first)
                        first = x->reasons[k];
                }
            }
            FZ_CHECK(x->error == first);
        } else {
            FZ_CHECK(x->error == NULL);
        }
    }
    json_decref(doc);
}

static inline int fuzz_extract(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {"images", "artifacts[].base64", "output.images[]",
                                        "a[].b[].c", "images[]", "", ".", "[]", "a..b"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        ig_extracted x;
        memset(&x, 0, sizeof x);
        ig_error err;
        ig_error_clear(&err);
        const char *error_field = i < 2 || i % 2 ? "error" : NULL;
        ig_err e = ig_extract_images((const char *)data, size, paths[i], error_field, &x, &err);
        if (e == IG_OK) {
            FZ_CHECK(x.count <= IG_EXTRACT_MAX_IMAGES);
            for (size_t k = 0; k < x.count; k++) {
                FZ_CHECK(x.b64[k] != NULL);
                int in_body = (const uint8_t *)x.b64[k] >= data &&
                              (const uint8_t *)x.b64[k] + x.b64_len[k] <= data + size;
                /* In place, or unescaped into the tree (a jansson string of that length). */
                FZ_CHECK(in_body || (x.doc && memchr(x.b64[k], '\0', x.b64_len[k] + 1) != NULL));
            }
            FZ_CHECK(!x.error || strlen(x.error) < sizeof x.error_buf);
        } else {
            FZ_CHECK(e == IG_ERR_PARSE || e == IG_ERR_INVALID_ARG || e == IG_ERR_TOO_LARGE);
            FZ_CHECK_SENTENCE(err);
        }
        if (i < 2)
            fz_extract_differential(data, size, (int)i, e, &x);
        ig_extracted_free(&x);
    }
    return 0;
}

/* ---- S3 error documents: code and message always end up NUL-terminated within their
 * buffers, whatever the body; tiny buffers too. ---- */
static inline int fuzz_s3_error(const uint8_t *data, size_t size)
{
    static const size_t sizes[][2] = {{64, 256}, {1, 1}, {5, 3}};
    for (size_t i = 0; i < 3; i++) {
        char *code = malloc(sizes[i][0]), *message = malloc(sizes[i][1]);
        if (!code || !message)
            abort();
        memset(code, 'X', sizes[i][0]);
        memset(message, 'X', sizes[i][1]);
        ig_s3_parse_error((const char *)data, size, code, sizes[i][0], message, sizes[i][1]);
        FZ_CHECK(memchr(code, '\0', sizes[i][0]) != NULL);
        FZ_CHECK(memchr(message, '\0', sizes[i][1]) != NULL);
        free(code);
        free(message);
    }
    return 0;
}

/* ---- SigV4 verification of a received request, as bedrock-local does it. Input lines:
 * method, path, query, then headers "Name: value" up to an empty line, then the body.
 * The known credentials are AWS's documentation example; "now" is the seeds' X-Amz-Date
 * (2015-08-30T12:36:00Z). ---- */
#define FZ_SIGV4_NOW 1440938160
static inline int fuzz_sigv4_verify(const uint8_t *data, size_t size)
{
    fz_lines f;
    fz_split(&f, data, size, 3, 1);
    ig_header headers[FZ_MAX_LINES];
    size_t n = 0;
    for (size_t i = 3; i < f.n && f.line[i][0] != '\0'; i++) {
        char *colon = strchr(f.line[i], ':');
        if (!colon)
            continue;
        *colon = '\0';
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        headers[n].name = f.line[i];
        headers[n].value = v;
        n++;
    }
    static const ig_sigv4_credentials plain = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                               NULL};
    static const ig_sigv4_credentials token = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                               "IQoJb3JpZ2luX2VjEXAMPLETOKEN"};
    ig_sigv4_request req = {f.line[0], f.line[1], f.line[2], headers, n, f.body, f.body_len, NULL};
    static const struct {
        const ig_sigv4_credentials *creds;
        const char *service;
        int s3;
    } cases[] = {{&plain, "bedrock", 0}, {&token, "bedrock", 0}, {&plain, "s3", 1}};
    for (size_t c = 0; c < 3; c++) {
        ig_error err;
        ig_error_clear(&err);
        ig_err e = ig_sigv4_verify(cases[c].creds, "us-east-1", cases[c].service, cases[c].s3, &req,
                                   FZ_SIGV4_NOW, 900, &err);
        FZ_CHECK(e == IG_OK || e == IG_ERR_SIGNATURE || e == IG_ERR_CREDENTIALS);
        if (e != IG_OK)
            FZ_CHECK_SENTENCE(err);
    }
    free(f.copy);
    return 0;
}

/* ---- The invocation event through the admit path: ig_event_to_request, then the shipped
 * policy's admit. Admit answers, or refuses with a policy or argument error; never worse. Then
 * respond() with a failure result: it answers every request. ---- */
static ig_policy *fz_policy;

static inline int fuzz_event_init(void)
{
    if (fz_policy)
        return 0;
    ig_log_set_level(IG_LOG_FATAL); /* the policy logs a decision per request */
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s/runtime/policy", fz_source_dir());
    ig_policy_options o;
    memset(&o, 0, sizeof o);
    o.dir = dir;
    o.memory_limit_bytes = 64u * 1024 * 1024;
    o.instruction_limit = 10000000;
    ig_error err;
    ig_error_clear(&err);
    fz_policy = ig_policy_load(&o, &err);
    if (!fz_policy) {
        fprintf(stderr, "loading the policy from %s: %s\n", dir, err.message);
        abort();
    }
    return 0;
}

static inline void fuzz_event_fini(void)
{
    ig_policy_free(fz_policy);
    fz_policy = NULL;
}

static inline int fuzz_event(const uint8_t *data, size_t size)
{
    json_t *req = NULL;
    ig_error err;
    ig_error_clear(&err);
    ig_buf body;
    ig_buf_init(&body, IG_EVENT_BODY_MAX);
    ig_err e = ig_event_to_request((const char *)data, size, &req, &body, &err);
    if (e != IG_OK) {
        ig_buf_free(&body);
        FZ_CHECK(req == NULL);
        FZ_CHECK(e == IG_ERR_PARSE || e == IG_ERR_TOO_LARGE || e == IG_ERR_INVALID_ARG);
        FZ_CHECK_SENTENCE(err);
        return 0;
    }
    FZ_CHECK(json_is_object(req));
    /* The input images come out before admit, as the handler does: a form or a member the
     * policy names; a body that is no usable form is refused with a sentence. */
    ig_inputs inputs;
    FZ_CHECK(ig_inputs_init(&inputs) == IG_OK);
    e = ig_inputs_from_request(&inputs, req, &body, ig_policy_image_fields(fz_policy), &err);
    ig_inputs_free(&inputs);
    ig_buf_free(&body);
    if (e != IG_OK) {
        FZ_CHECK(e == IG_ERR_INVALID_ARG || e == IG_ERR_TOO_LARGE || e == IG_ERR_PARSE);
        FZ_CHECK_SENTENCE(err);
        json_decref(req);
        return 0;
    }
    json_t *ctx = json_pack("{s:s, s:I, s:I, s:s, s:f}", "request_id", "c0ffee00-0000-4000-8000-000000000001",
                            "deadline_ms", (json_int_t)4102444800000, "remaining_ms", (json_int_t)30000, "function_arn",
                            "arn:aws:lambda:us-east-1:123456789012:function:imagegen", "now", 1764427255.0);
    FZ_CHECK(ctx != NULL);
    json_t *out = NULL;
    ig_error_clear(&err);
    e = ig_policy_admit(fz_policy, req, ctx, &out, &err);
    if (e == IG_OK) {
        FZ_CHECK(json_is_object(out));
    } else {
        FZ_CHECK(out == NULL);
        FZ_CHECK(e == IG_ERR_POLICY || e == IG_ERR_INVALID_ARG || e == IG_ERR_TOO_LARGE);
        FZ_CHECK_SENTENCE(err);
    }
    json_decref(out);

    /* respond() shapes every failure after admit, for any request: it must answer. As the
     * handler does, a request whose body could not be handed to admit goes without it. */
    if (e == IG_ERR_INVALID_ARG || e == IG_ERR_TOO_LARGE) {
        json_object_del(req, "body");
        json_object_del(req, "raw_body");
    }
    json_t *result = json_pack("{s:b, s:i, s:s, s:s, s:s, s:i}", "ok", 0, "status", 502, "code", "upstream_error",
                               "message", "Bedrock failed.", "request_id", "c0ffee00-0000-4000-8000-000000000001",
                               "retry_after", 3);
    FZ_CHECK(result != NULL);
    ig_error_clear(&err);
    e = ig_policy_respond(fz_policy, result, req, &out, &err);
    if (e != IG_OK) {
        fprintf(stderr, "respond() failed: %s\n", err.message);
        abort();
    }
    FZ_CHECK(json_is_object(out));
    json_decref(out);
    json_decref(result);
    json_decref(ctx);
    json_decref(req);
    return 0;
}

/* ---- The gateway's HTTP-to-event conversion: what the gateway does after microhttpd has
 * parsed the request (method, decoded path, headers, decoded query pairs, body) - route
 * matching and gw_event_build - then the runtime's parse of that event. Input lines: method,
 * path, headers "Name: value" up to an empty line, query "name=value" up to an empty line,
 * then the body. The event must be JSON the runtime accepts, carrying the body intact. ---- */
static inline int fuzz_gateway_event(const uint8_t *data, size_t size)
{
    fz_lines f;
    fz_split(&f, data, size, 2, 2);
    const char *body = f.body;
    size_t body_len = f.body_len;
    /* microhttpd hands over a method token, never an empty one. */
    const char *method = f.line[0][0] ? f.line[0] : "GET";
    const char *path = f.line[1][0] == '/' ? f.line[1] : "/";

    ig_header headers[FZ_MAX_LINES], query[FZ_MAX_LINES];
    size_t n_headers = 0, n_query = 0;
    int section = 0;
    for (size_t i = 2; i < f.n; i++) {
        char *line = f.line[i];
        if (line[0] == '\0') {
            section++;
            continue;
        }
        char *sep = strchr(line, section == 0 ? ':' : '=');
        const char *value = "";
        if (sep) {
            *sep = '\0';
            value = sep + 1;
            while (section == 0 && *value == ' ')
                value++;
        }
        if (section == 0)
            headers[n_headers++] = (ig_header){line, value};
        else
            query[n_query++] = (ig_header){line, value};
    }

    static char *const templates[] = {"/generate-image", "/models", "/images/{id}", "/files/{rest+}", "/",
                                      "/{proxy+}"};
    static char *const public_templates[] = {"/health"};
    static char *const binary_types[] = {"image/png"};
    ig_error err;
    ig_error_clear(&err);
    gw_routes *routes = gw_routes_new(templates, 6, public_templates, 1, &err);
    FZ_CHECK(routes != NULL);
    json_t *params = NULL;
    int is_public = 0;
    const char *resource = gw_routes_match(routes, method, path, &params, &is_public);
    FZ_CHECK(resource != NULL);
    FZ_CHECK(params == NULL || json_is_object(params));

    gw_request r = {
        .method = method, .path = path, .protocol = "HTTP/1.1", .headers = headers, .n_headers = n_headers,
        .query = query, .n_query = n_query,
        .body = body_len ? body : NULL, .body_len = body_len, .resource = resource,
        .path_parameters = params, .stage = "prod", .request_id = "c0ffee00-0000-4000-8000-000000000002",
        .extended_request_id = "AbCdEfGhIjKlMnO=", .api_id = "local0api1", .account_id = "123456789012",
        .domain_name = "127.0.0.1", .source_ip = "127.0.0.1", .api_key = NULL, .api_key_id = NULL,
        .time_ms = 1764427255123, .binary_media_types = binary_types, .n_binary_media_types = 1,
    };
    size_t len = 0;
    char *event = gw_event_build(&r, &len);
    FZ_CHECK(event != NULL);

    json_error_t jerr;
    json_t *doc = json_loadb(event, len, JSON_ALLOW_NUL, &jerr); /* a text body may hold \u0000 */
    FZ_CHECK(doc != NULL);
    /* The body arrives byte for byte as base64 when its type is a binary media type, else as
     * text: byte for byte when it is UTF-8, with U+FFFD in place of what is not. */
    json_t *jb = json_object_get(doc, "body");
    int b64 = json_is_true(json_object_get(doc, "isBase64Encoded"));
    FZ_CHECK(b64 == gw_media_type_is_binary(gw_header_last(headers, n_headers, "Content-Type"), binary_types, 1) ||
             body_len == 0);
    if (body_len == 0) {
        FZ_CHECK(jb == NULL || json_is_null(jb) || (json_is_string(jb) && json_string_length(jb) == 0));
    } else {
        FZ_CHECK(json_is_string(jb));
        if (b64) {
            ig_buf dec = {0};
            FZ_CHECK(ig_base64_decode_buf(json_string_value(jb), json_string_length(jb), &dec, &err) == IG_OK);
            FZ_CHECK(dec.len == body_len && memcmp(dec.data, body, body_len) == 0);
            ig_buf_free(&dec);
        } else {
            json_t *as_text = json_stringn(body, body_len);
            if (as_text)
                FZ_CHECK(json_string_length(jb) == body_len && memcmp(json_string_value(jb), body, body_len) == 0);
            else
                FZ_CHECK(strstr(json_string_value(jb), "\xef\xbf\xbd") != NULL);
            json_decref(as_text);
        }
    }
    /* The gateway passes any method token on (bytes that are not UTF-8 become U+FFFD); the
     * runtime refuses a method longer than 16 bytes (no HTTP method is) as not an API Gateway
     * event. Every other event is accepted. */
    const char *event_method = json_string_value(json_object_get(doc, "httpMethod"));
    FZ_CHECK(event_method != NULL);
    int long_method = strlen(event_method) > 16;
    json_decref(doc);

    /* And the runtime takes it (or refuses it with a sentence: a JSON body that does not
     * parse is kept for the policy, not an error). */
    json_t *req = NULL;
    ig_error_clear(&err);
    ig_err e = ig_event_to_request(event, len, &req, NULL, &err);
    if (e == IG_OK) {
        FZ_CHECK(!long_method);
        FZ_CHECK(json_is_object(json_object_get(req, "headers")) && json_is_object(json_object_get(req, "query")));
    } else if (!(e == IG_ERR_TOO_LARGE || (e == IG_ERR_PARSE && long_method))) {
        fprintf(stderr, "the runtime refused the gateway's event: %s\n", err.message);
        abort();
    }
    json_decref(req);

    free(event);
    json_decref(params);
    gw_routes_free(routes);
    free(f.copy);
    return 0;
}

#endif
