/* test_inputs.c - input images out of requests: JSON members the policy names (base64, data
 * URLs, lists), multipart forms (files, text fields, "[]" names, repeated names), uploads added
 * after a fetch, the facts the policy sees, tokens swapped for base64 in model bodies, and what
 * an attacker may send instead. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "codec/base64.h"
#include "codec/image.h"
#include "handler/inputs.h"
#include "procpng_encode.h"
#include "testlib.h"

/* A w x h PNG: RGB, or RGBA whose left half is transparent. */
static void png(unsigned w, unsigned h, int alpha, ig_buf *out)
{
    size_t ch = alpha ? 4 : 3;
    unsigned char *px = calloc((size_t)w * h, ch);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        px[i * ch] = (unsigned char)(i * 7);
        if (alpha)
            px[i * ch + 3] = (i % w) < w / 2 ? 0 : 255;
    }
    ig_error err;
    IG_CHECK_EQ_INT(alpha ? procpng_encode_rgba(px, w, h, out, &err) : procpng_encode_rgb(px, w, h, out, &err), IG_OK);
    free(px);
}

static char *b64(const ig_buf *b)
{
    ig_buf o;
    ig_buf_init(&o, 0);
    ig_base64_encode_buf(b->data, b->len, &o);
    return ig_buf_steal(&o, NULL);
}

static json_t *request(json_t *body)
{
    return json_pack("{s:s, s:o, s:s, s:s}", "method", "POST", "body", body, "raw_body", "{...}", "body_format", "json");
}

static void test_json_members_become_facts(void)
{
    ig_buf img;
    ig_buf_init(&img, 0);
    png(80, 64, 1, &img);
    char *data = b64(&img);
    char url[8192];
    snprintf(url, sizeof url, "data:image/png;base64,%s", data);
    json_t *req = request(json_pack("{s:s, s:s, s:s, s:[s,s], s:i}", "image", data, "mask", url, "prompt", "a cat",
                                    "style", "bm90IGFuIGltYWdl", data, "n", 2));
    json_t *fields = json_pack("[s,s,s]", "image", "mask", "style");
    ig_inputs in;
    ig_error err;
    IG_CHECK_EQ_INT(ig_inputs_init(&in), IG_OK);
    IG_CHECK_EQ_INT(ig_inputs_from_request(&in, req, NULL, fields, &err), IG_OK);
    json_t *body = json_object_get(req, "body");
    json_t *f = json_object_get(body, "image");
    IG_CHECK(json_is_object(f));
    IG_CHECK_EQ_STR(json_string_value(json_object_get(f, "format")), "png");
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(f, "width")), 80);
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(f, "height")), 64);
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(f, "bytes")), (long long)img.len);
    IG_CHECK(json_is_true(json_object_get(f, "alpha")));
    IG_CHECK_EQ_STR(json_string_value(json_object_get(f, "source")), "inline");
    IG_CHECK(json_object_get(f, "error") == NULL);
    IG_CHECK(json_is_string(json_object_get(f, "ref")) && json_is_string(json_object_get(f, "mask_ref")));
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(f, "transparent_pixels")), 40 * 64); /* the left half */
    /* the data URL reads as the same image */
    json_t *m = json_object_get(body, "mask");
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(m, "width")), 80);
    IG_CHECK(strcmp(json_string_value(json_object_get(m, "ref")), json_string_value(json_object_get(f, "ref"))) != 0);
    /* a list: each element its own facts; not an image says so */
    json_t *style = json_object_get(body, "style");
    IG_CHECK_EQ_INT(json_array_size(style), 2);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(style, 0), "error")), "not_image");
    IG_CHECK(json_object_get(json_array_get(style, 0), "ref") == NULL);
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(style, 1), "index")), 2);
    /* other members untouched; the raw text with the base64 is gone */
    IG_CHECK_EQ_STR(json_string_value(json_object_get(body, "prompt")), "a cat");
    IG_CHECK(json_object_get(req, "raw_body") == NULL);
    ig_inputs_free(&in);
    json_decref(req);
    json_decref(fields);
    free(data);
    ig_buf_free(&img);
}

static void test_bad_base64_and_truncated(void)
{
    ig_buf img;
    ig_buf_init(&img, 0);
    png(64, 64, 0, &img);
    img.len -= 20; /* IEND and part of IDAT gone */
    char *data = b64(&img);
    json_t *req = request(json_pack("{s:s, s:s, s:s}", "image", data, "mask", "not base64!", "other", "x"));
    json_t *fields = json_pack("[s,s,s]", "image", "mask", "other");
    ig_inputs in;
    ig_error err;
    ig_inputs_init(&in);
    IG_CHECK_EQ_INT(ig_inputs_from_request(&in, req, NULL, fields, &err), IG_OK);
    json_t *body = json_object_get(req, "body");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(body, "image"), "error")), "truncated");
    IG_CHECK(strstr(json_string_value(json_object_get(json_object_get(body, "image"), "message")), "PNG") != NULL);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(body, "mask"), "error")), "bad_base64");
    IG_CHECK(strstr(json_string_value(json_object_get(json_object_get(body, "mask"), "message")), "mask") != NULL);
    IG_CHECK_EQ_INT(in.n, 0);
    ig_inputs_free(&in);
    json_decref(req);
    json_decref(fields);
    free(data);
    ig_buf_free(&img);
}

static void form_part(ig_buf *b, const char *name, const char *filename, const char *type, const void *data, size_t len)
{
    ig_buf_appendf(b, "--XyZ\r\nContent-Disposition: form-data; name=\"%s\"", name);
    if (filename)
        ig_buf_appendf(b, "; filename=\"%s\"", filename);
    ig_buf_append_str(b, "\r\n");
    if (type)
        ig_buf_appendf(b, "Content-Type: %s\r\n", type);
    ig_buf_append_str(b, "\r\n");
    ig_buf_append(b, data, len);
    ig_buf_append_str(b, "\r\n");
}

static void test_multipart_form(void)
{
    ig_buf img, form;
    ig_buf_init(&img, 0);
    ig_buf_init(&form, 0);
    png(96, 72, 1, &img);
    form_part(&form, "image[]", "a.png", "image/png", img.data, img.len);
    form_part(&form, "image[]", "b.png", "image/png", img.data, img.len);
    form_part(&form, "mask", "m.png", "image/png", img.data, img.len);
    form_part(&form, "prompt", NULL, NULL, "a red hat", 9);
    form_part(&form, "n", NULL, NULL, "2", 1);
    form_part(&form, "style", NULL, NULL, img.data, img.len); /* curl -F 'style=<x.png': no filename, no type */
    ig_buf_append_str(&form, "--XyZ--\r\n");
    json_t *req = json_pack("{s:s, s:{s:s}, s:s}", "method", "POST", "headers", "content-type",
                            "multipart/form-data; boundary=XyZ", "body_format", "multipart");
    json_t *fields = json_pack("[s]", "style");
    ig_inputs in;
    ig_error err;
    ig_inputs_init(&in);
    IG_CHECK_EQ_INT(ig_inputs_from_request(&in, req, &form, fields, &err), IG_OK);
    json_t *body = json_object_get(req, "body");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(body, "prompt")), "a red hat");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(body, "n")), "2");
    json_t *images = json_object_get(body, "image");
    IG_CHECK_EQ_INT(json_array_size(images), 2);
    json_t *second = json_array_get(images, 1);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(second, "filename")), "b.png");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(second, "source")), "multipart");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(second, "content_type")), "image/png");
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(second, "index")), 2);
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(second, "width")), 96);
    json_t *mask = json_object_get(body, "mask");
    IG_CHECK(json_is_object(mask) && json_is_string(json_object_get(mask, "mask_ref")));
    json_t *style = json_object_get(body, "style");
    IG_CHECK(json_is_object(style) && json_integer_value(json_object_get(style, "width")) == 96);
    IG_CHECK_EQ_INT(in.n, 4);
    ig_inputs_free(&in);
    json_decref(req);

    /* a form without a boundary, and a text field over the bound */
    req = json_pack("{s:s, s:{s:s}, s:s}", "method", "POST", "headers", "content-type", "multipart/form-data",
                    "body_format", "multipart");
    ig_inputs_init(&in);
    IG_CHECK_EQ_INT(ig_inputs_from_request(&in, req, &form, fields, &err), IG_ERR_INVALID_ARG);
    IG_CHECK(strstr(err.message, "boundary") != NULL);
    ig_inputs_free(&in);
    json_decref(req);
    ig_buf_reset(&form);
    char *big = malloc(IG_INPUTS_MAX_FORM_TEXT + 1);
    memset(big, 'a', IG_INPUTS_MAX_FORM_TEXT + 1);
    form_part(&form, "prompt", NULL, NULL, big, IG_INPUTS_MAX_FORM_TEXT + 1);
    ig_buf_append_str(&form, "--XyZ--\r\n");
    req = json_pack("{s:s, s:{s:s}, s:s}", "method", "POST", "headers", "content-type",
                    "multipart/form-data; boundary=XyZ", "body_format", "multipart");
    ig_inputs_init(&in);
    IG_CHECK_EQ_INT(ig_inputs_from_request(&in, req, &form, fields, &err), IG_ERR_TOO_LARGE);
    IG_CHECK(strstr(err.message, "\"prompt\"") != NULL);
    ig_inputs_free(&in);
    json_decref(req);
    free(big);
    json_decref(fields);
    ig_buf_free(&form);
    ig_buf_free(&img);
}

/* Tokens in a model body become base64: the image as given, and masks from its alpha. */
static void test_substitute(void)
{
    ig_buf img;
    ig_buf_init(&img, 0);
    png(64, 64, 1, &img);
    char *data = b64(&img);
    json_t *req = request(json_pack("{s:s}", "image", data));
    json_t *fields = json_pack("[s]", "image");
    ig_inputs in;
    ig_error err;
    ig_inputs_init(&in);
    IG_CHECK_EQ_INT(ig_inputs_from_request(&in, req, NULL, fields, &err), IG_OK);
    json_t *f = json_object_get(json_object_get(req, "body"), "image");
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "image", json_string_value(json_object_get(f, "ref")), "mask",
                             json_string_value(json_object_get(f, "mask_ref")), "prompt", "igin:not-a-token",
                             "other", "igin:00000000000000000000000000000000:0:0");
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    size_t len = strlen(text);
    IG_CHECK_EQ_INT(ig_inputs_substitute(&in, &text, &len, &err), IG_OK);
    IG_CHECK_EQ_INT(strlen(text), len);
    json_t *back = json_loads(text, 0, NULL);
    IG_CHECK(back != NULL);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(back, "image")), data);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(back, "prompt")), "igin:not-a-token");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(back, "other")), "igin:00000000000000000000000000000000:0:0");
    /* the mask: a greyscale PNG of the same size, white where the image is transparent */
    ig_buf mask;
    ig_buf_init(&mask, 0);
    const char *mb = json_string_value(json_object_get(back, "mask"));
    IG_CHECK_EQ_INT(ig_base64_decode_buf(mb, strlen(mb), &mask, &err), IG_OK);
    unsigned w = 0, h = 0;
    IG_CHECK_EQ_INT(ig_image_sniff(mask.data, mask.len, &w, &h), IG_IMAGE_PNG);
    IG_CHECK_EQ_INT(w, 64);
    IG_CHECK_EQ_INT(h, 64);
    ig_buf_free(&mask);
    json_decref(back);
    free(text);
    json_decref(body);
    ig_inputs_free(&in);
    json_decref(req);
    json_decref(fields);
    free(data);
    ig_buf_free(&img);
}

/* A job's inputs: the inputs a plan names, and the same plan text filled in another invocation
 * from the bytes read back under the request's nonce. */
static void test_job_inputs_restored_under_the_nonce(void)
{
    ig_buf a, b;
    ig_buf_init(&a, 0);
    ig_buf_init(&b, 0);
    png(32, 32, 1, &a);
    png(16, 8, 0, &b);
    char *da = b64(&a), *db = b64(&b);
    json_t *req = request(json_pack("{s:s, s:s}", "image", da, "mask", db));
    json_t *fields = json_pack("[s, s]", "image", "mask");
    ig_inputs in;
    ig_error err;
    ig_inputs_init(&in);
    IG_CHECK_EQ_INT(ig_inputs_from_request(&in, req, NULL, fields, &err), IG_OK);
    json_t *fb = json_object_get(json_object_get(req, "body"), "mask");
    /* a plan naming only the second image, as its raw bytes */
    json_t *plan = json_pack("{s:s, s:s}", "init_image", json_string_value(json_object_get(fb, "ref")), "prompt", "x");
    char *text = json_dumps(plan, JSON_COMPACT);
    IG_CHECK_EQ_INT(ig_inputs_named(&in, text, strlen(text)), 2u);
    const char *ct = NULL, *ext = NULL;
    IG_CHECK(ig_inputs_data(&in, 1, &ct, &ext) != NULL);
    IG_CHECK_EQ_STR(ct, "image/png");
    IG_CHECK_EQ_STR(ext, "png");
    IG_CHECK(ig_inputs_data(&in, 2, &ct, &ext) == NULL);
    IG_CHECK(ig_inputs_key(&in, 1) == NULL); /* carried by the request, not fetched */

    /* The worker: only input 1, read back; the same text fills as it would have here. */
    ig_inputs w;
    memset(&w, 0, sizeof w);
    ig_buf copy;
    ig_buf_init(&copy, 0);
    ig_buf_append(&copy, b.data, b.len);
    IG_CHECK_EQ_INT(ig_inputs_restore(&w, "not-hex", 1, &copy, &err), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(ig_inputs_restore(&w, in.nonce, IG_INPUTS_MAX, &copy, &err), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(ig_inputs_restore(&w, in.nonce, 1, &copy, &err), IG_OK);
    IG_CHECK_EQ_INT(copy.len, 0); /* taken */
    ig_buf junk;
    ig_buf_init(&junk, 0);
    ig_buf_append_str(&junk, "not an image");
    IG_CHECK_EQ_INT(ig_inputs_restore(&w, in.nonce, 0, &junk, &err), IG_ERR_INVALID_ARG);
    ig_buf_free(&junk);
    size_t len = strlen(text);
    IG_CHECK_EQ_INT(ig_inputs_substitute(&w, &text, &len, &err), IG_OK);
    json_t *back = json_loads(text, 0, NULL);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(back, "init_image")), db);
    /* a token of input 0, which the worker does not hold, stays as it is */
    json_t *f0 = json_object_get(json_object_get(req, "body"), "image");
    char *other = strdup(json_string_value(json_object_get(f0, "ref")));
    char *quoted = malloc(strlen(other) + 3);
    sprintf(quoted, "\"%s\"", other);
    size_t qlen = strlen(quoted);
    IG_CHECK_EQ_INT(ig_inputs_substitute(&w, &quoted, &qlen, &err), IG_OK);
    IG_CHECK_EQ_INT(ig_inputs_named(&w, quoted, qlen), 0u);
    IG_CHECK(strstr(quoted, other) != NULL);
    free(quoted);
    free(other);
    json_decref(back);
    ig_inputs_free(&w);
    free(text);
    json_decref(plan);
    ig_inputs_free(&in);
    json_decref(req);
    json_decref(fields);
    free(da);
    free(db);
    ig_buf_free(&a);
    ig_buf_free(&b);
    ig_buf_free(&copy);
}

/* A client's object shaped like facts is refused as facts; {"upload": key} is left for the
 * policy to fetch. */
static void test_objects_are_upload_references_only(void)
{
    json_t *req = request(json_pack("{s:{s:s, s:i, s:i, s:s}, s:{s:s}, s:[{s:s, s:s}]}", "image", "format", "png",
                                    "width", 64, "height", 64, "ref", "not-a-token", "mask", "upload", "uploads/ab/1.png",
                                    "style", "upload", "uploads/ab/2.png", "other", "x"));
    json_t *fields = json_pack("[s,s,s]", "image", "mask", "style");
    ig_inputs in;
    ig_error err;
    ig_inputs_init(&in);
    IG_CHECK_EQ_INT(ig_inputs_from_request(&in, req, NULL, fields, &err), IG_OK);
    json_t *body = json_object_get(req, "body");
    json_t *f = json_object_get(body, "image");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(f, "error")), "not_image");
    IG_CHECK(json_object_get(f, "ref") == NULL && json_object_get(f, "width") == NULL);
    IG_CHECK(strstr(json_string_value(json_object_get(f, "message")), "upload") != NULL);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(body, "mask"), "upload")), "uploads/ab/1.png");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(body, "style"), 0), "error")),
                    "not_image");
    IG_CHECK_EQ_INT(in.n, 0);
    ig_inputs_free(&in);
    json_decref(req);
    json_decref(fields);
}

static void test_upload_facts(void)
{
    ig_buf img;
    ig_buf_init(&img, 0);
    png(64, 100, 0, &img);
    json_t *req = request(json_pack("{s:{s:s}, s:[{s:s}]}", "image", "upload", "uploads/ab/1.png", "style", "upload",
                                    "uploads/ab/2.png"));
    ig_inputs in;
    ig_error err;
    ig_inputs_init(&in);
    IG_CHECK_EQ_INT(ig_inputs_add_upload(&in, req, "image", 0, "uploads/ab/1.png", img.data, img.len, "image/png", NULL,
                                         NULL, &err),
                    IG_OK);
    IG_CHECK_EQ_INT(ig_inputs_add_upload(&in, req, "style", 1, "uploads/ab/2.png", NULL, 0, NULL, "not_found",
                                         "no upload has this key", &err),
                    IG_OK);
    IG_CHECK_EQ_INT(ig_inputs_add_upload(&in, req, "style", 2, "uploads/ab/3.png", NULL, 0, NULL, "not_found", "x", &err),
                    IG_ERR_POLICY);
    json_t *body = json_object_get(req, "body");
    json_t *f = json_object_get(body, "image");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(f, "source")), "upload");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(f, "key")), "uploads/ab/1.png");
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(f, "height")), 100);
    IG_CHECK(json_is_false(json_object_get(f, "alpha")) && json_object_get(f, "mask_ref") == NULL);
    json_t *s = json_array_get(json_object_get(body, "style"), 0);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(s, "error")), "not_found");
    ig_inputs_free(&in);
    json_decref(req);
    ig_buf_free(&img);
}

/* What an attacker may send: values shaped like tokens (in a prompt, a list, a form field, a
 * filename), data URLs inside data URLs, a PNG whose header lies about its size, and a mask
 * token of a "decompression bomb" (a few bytes claiming 65535x65535 pixels). */
static json_t *form_request(void)
{
    return json_pack("{s:s, s:{s:s}, s:s}", "method", "POST", "headers", "content-type",
                     "multipart/form-data; boundary=XyZ", "body_format", "multipart");
}

static void test_hostile_values(void)
{
    json_t *fields = json_pack("[s,s]", "image", "mask");
    ig_inputs in;
    ig_error err;
    /* a token-shaped string anywhere in a JSON body */
    static const char *const bodies[][2] = {
        {"{\"prompt\": \"igin:0123456789abcdef0123456789abcdef:0:0\"}", "prompt begins with \"igin:\""},
        {"{\"a\": [1, {\"b\": \"igin:x\"}]}", "a[2].b begins with \"igin:\""},
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        json_t *req = request(json_loads(bodies[i][0], 0, NULL));
        ig_inputs_init(&in);
        IG_CHECK_EQ_INT(ig_inputs_from_request(&in, req, NULL, fields, &err), IG_ERR_INVALID_ARG);
        if (!strstr(err.message, bodies[i][1]))
            ig_test_fail(__FILE__, __LINE__, "\"%s\" does not name \"%s\"", err.message, bodies[i][1]);
        IG_CHECK(strstr(err.message, "marks the runtime's own image tokens") != NULL);
        IG_CHECK_EQ_INT(in.n, 0);
        ig_inputs_free(&in);
        json_decref(req);
    }
    /* only a string that begins like a token; in an image member it is read as an image */
    json_t *req = request(json_pack("{s:s, s:s, s:s, s:{s:s}}", "prompt", "origin: igin:x", "negativePrompt",
                                    "Igin:x", "image", "igin:0123456789abcdef0123456789abcdef:0:0", "mask",
                                    "ref", "igin:0123456789abcdef0123456789abcdef:0:1"));
    ig_inputs_init(&in);
    IG_CHECK_EQ_INT(ig_inputs_from_request(&in, req, NULL, fields, &err), IG_OK);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(json_object_get(req, "body"), "image"), "error")),
                    "bad_base64");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(json_object_get(req, "body"), "mask"), "error")),
                    "not_image");
    IG_CHECK_EQ_INT(in.n, 0);
    ig_inputs_free(&in);
    json_decref(req);

    /* in a form: a text field, and a file's name */
    ig_buf img, form;
    ig_buf_init(&img, 0);
    ig_buf_init(&form, 0);
    png(64, 64, 1, &img);
    form_part(&form, "image", "a.png", "image/png", img.data, img.len);
    form_part(&form, "prompt", NULL, NULL, "igin:0123456789abcdef0123456789abcdef:0:2", 41);
    ig_buf_append_str(&form, "--XyZ--\r\n");
    req = form_request();
    ig_inputs_init(&in);
    IG_CHECK_EQ_INT(ig_inputs_from_request(&in, req, &form, fields, &err), IG_ERR_INVALID_ARG);
    IG_CHECK(strstr(err.message, "the form field \"prompt\" begins with \"igin:\"") != NULL);
    ig_inputs_free(&in);
    json_decref(req);
    ig_buf_reset(&form);
    form_part(&form, "image", "igin:a.png", "image/png", img.data, img.len);
    ig_buf_append_str(&form, "--XyZ--\r\n");
    req = form_request();
    ig_inputs_init(&in);
    IG_CHECK_EQ_INT(ig_inputs_from_request(&in, req, &form, fields, &err), IG_ERR_INVALID_ARG);
    IG_CHECK(strstr(err.message, "the filename of the form field \"image\" begins with \"igin:\"") != NULL);
    ig_inputs_free(&in);
    json_decref(req);

    /* a data URL inside a data URL; a PNG whose IHDR claims more rows than its data holds */
    char *data = b64(&img);
    size_t ulen = strlen(data) + 64;
    char *url = malloc(ulen);
    snprintf(url, ulen, "data:image/png;base64,DATA:image/png;base64,%s", data);
    unsigned char *ihdr = (unsigned char *)img.data + 16;
    ihdr[7] = 65; /* height 64 -> 65; the chunk's CRC follows the new value */
    uLong crc = crc32(0L, (const Bytef *)img.data + 12, 17);
    unsigned char *c = (unsigned char *)img.data + 29;
    c[0] = (unsigned char)(crc >> 24), c[1] = (unsigned char)(crc >> 16), c[2] = (unsigned char)(crc >> 8);
    c[3] = (unsigned char)crc;
    char *liar = b64(&img);
    req = request(json_pack("{s:s, s:s}", "image", liar, "mask", url));
    ig_inputs_init(&in);
    IG_CHECK_EQ_INT(ig_inputs_from_request(&in, req, NULL, fields, &err), IG_OK);
    json_t *body = json_object_get(req, "body");
    json_t *f = json_object_get(body, "image");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(f, "error")), "truncated");
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(f, "height")), 65);
    IG_CHECK(strstr(json_string_value(json_object_get(f, "message")), "image data stops after") != NULL);
    IG_CHECK(json_object_get(f, "ref") == NULL);
    f = json_object_get(body, "mask");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(f, "error")), "bad_base64");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(f, "message")),
                    "mask is a data URL inside a data URL; send the image's base64 once");
    IG_CHECK_EQ_INT(in.n, 0); /* neither is kept */
    ig_inputs_free(&in);
    json_decref(req);
    free(url);
    free(liar);
    free(data);

    /* a bomb fetched as an upload: facts with its claimed size, no mask tokens; a mask token
     * forged for it stops at the mask budget, before any pixel memory */
    static const unsigned char bomb_ihdr[13] = {0, 0, 0xff, 0xff, 0, 0, 0xff, 0xff, 8, 6, 0, 0, 0};
    static unsigned char rows[4 * (1 + 65535 * 4)];
    uLongf zlen = compressBound(sizeof rows);
    unsigned char *z = malloc(zlen);
    IG_CHECK_EQ_INT(compress2(z, &zlen, rows, sizeof rows, 9), Z_OK);
    ig_buf bomb;
    ig_buf_init(&bomb, 0);
    ig_buf_append(&bomb, "\x89PNG\r\n\x1a\n", 8);
    const struct {
        const char *type;
        const void *data;
        size_t len;
    } chunks[] = {{"IHDR", bomb_ihdr, 13}, {"IDAT", z, zlen}, {"IEND", "", 0}};
    for (size_t i = 0; i < 3; i++) {
        unsigned char head[8] = {(unsigned char)(chunks[i].len >> 24), (unsigned char)(chunks[i].len >> 16),
                                 (unsigned char)(chunks[i].len >> 8), (unsigned char)chunks[i].len};
        memcpy(head + 4, chunks[i].type, 4);
        uLong cc = crc32(crc32(0L, head + 4, 4), chunks[i].data, (uInt)chunks[i].len);
        unsigned char tail[4] = {(unsigned char)(cc >> 24), (unsigned char)(cc >> 16), (unsigned char)(cc >> 8),
                                 (unsigned char)cc};
        ig_buf_append(&bomb, head, 8), ig_buf_append(&bomb, chunks[i].data, chunks[i].len);
        ig_buf_append(&bomb, tail, 4);
    }
    IG_CHECK(bomb.len < 2000);
    req = request(json_pack("{s:{s:s}}", "mask", "upload", "uploads/0123456789abcdef/x.png"));
    ig_inputs_init(&in);
    IG_CHECK_EQ_INT(ig_inputs_from_request(&in, req, NULL, fields, &err), IG_OK);
    IG_CHECK_EQ_INT(ig_inputs_add_upload(&in, req, "mask", 0, "uploads/0123456789abcdef/x.png", bomb.data, bomb.len,
                                         "image/png", NULL, NULL, &err),
                    IG_OK);
    f = json_object_get(json_object_get(req, "body"), "mask");
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(f, "width")), 65535);
    IG_CHECK(json_is_true(json_object_get(f, "alpha")));
    IG_CHECK(json_is_string(json_object_get(f, "ref")) && json_object_get(f, "mask_ref") == NULL);
    char call[128];
    snprintf(call, sizeof call, "{\"mask\":\"igin:%s:0:1\"}", in.nonce);
    char *text = strdup(call);
    size_t len = strlen(text);
    IG_CHECK_EQ_INT(ig_inputs_substitute(&in, &text, &len, &err), IG_ERR_TOO_LARGE);
    IG_CHECK(strstr(err.message, "65535x65535 pixels, over the mask budget") != NULL);
    IG_CHECK_EQ_STR(text, call); /* the body is left as it was */
    free(text);
    ig_inputs_free(&in);
    json_decref(req);
    ig_buf_free(&bomb);
    free(z);
    json_decref(fields);
    ig_buf_free(&form);
    ig_buf_free(&img);
}

int main(void)
{
    IG_RUN(test_json_members_become_facts);
    IG_RUN(test_bad_base64_and_truncated);
    IG_RUN(test_multipart_form);
    IG_RUN(test_substitute);
    IG_RUN(test_job_inputs_restored_under_the_nonce);
    IG_RUN(test_objects_are_upload_references_only);
    IG_RUN(test_upload_facts);
    IG_RUN(test_hostile_values);
    return ig_test_finish("inputs");
}
