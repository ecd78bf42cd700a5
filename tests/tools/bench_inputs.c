/* bench_inputs.c - times the input-image path of an edit: an image taken out of an event and
 * put back into a model body, and a multipart form parsed, each next to memcpy of the same
 * bytes in the same run (the floor any implementation pays to touch them once).
 *
 * The image is a photo-like 8-bit RGB picture (gradients under grain) written by procpng, the
 * encoder bedrock-local answers with, sized so that its base64 is about the requested size.
 * - event: an API Gateway event whose JSON body carries the image as base64, parsed into the
 *   request (ig_event_to_request: the event's JSON, then the body's);
 * - inputs: the image taken out of the request (ig_inputs_from_request: base64 decoded, the PNG's
 *   chunks walked and its zlib stream inflated against its header);
 * - substitute: a model body naming the image's token filled with its base64
 *   (ig_inputs_substitute: the base64 encoded, the body copied around it);
 * - form: a multipart/form-data body (the file named by --form, or one this tool writes there)
 *   parsed into its parts (ig_multipart_parse: parts are slices of the body).
 * Prints the median milliseconds of each, and memcpy of the same bytes, one "name: value" line
 * each, for tests/bench/harness.py.
 *
 *   bench_inputs [--base64-mb N] [--reps N] [--form FILE --boundary B] [--write-event FILE]
 *   bench_inputs --write-form FILE --form-mb N --boundary B    (writes a form and exits)
 * --write-event also writes the event, for a peer to read the same bytes.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apigw/event.h"
#include "codec/base64.h"
#include "codec/image.h"
#include "codec/multipart.h"
#include "codec/png_data.h"
#include "core/buf.h"
#include "core/clock.h"
#include "handler/inputs.h"
#include "procpng_encode.h"

#define MAX_REPS 200

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static volatile unsigned char bench_sink;

static void die(const char *what)
{
    fprintf(stderr, "bench_inputs: %s\n", what);
    exit(1);
}

/* A deterministic photo-like picture: smooth gradients under grain, as a camera gives. */
static void picture(unsigned side, ig_buf *png)
{
    unsigned char *px = malloc((size_t)side * side * 3);
    if (!px)
        die("out of memory");
    uint32_t s = 12345;
    for (unsigned y = 0; y < side; y++)
        for (unsigned x = 0; x < side; x++)
            for (int c = 0; c < 3; c++) {
                s = s * 1664525u + 1013904223u;
                int grain = (int)((s >> 24) % 17) - 8;
                int v = (int)(128 + 90 * sin((x * (c + 1)) / 97.0) * cos(y / 131.0)) + grain;
                px[((size_t)y * side + x) * 3 + (size_t)c] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    ig_error err;
    if (procpng_encode_rgb(px, side, side, png, &err) != IG_OK)
        die(err.message);
    free(px);
}

/* The side whose PNG's base64 is about target bytes. */
static unsigned side_for(size_t target)
{
    ig_buf png;
    ig_buf_init(&png, 0);
    picture(512, &png);
    double per_pixel = (double)png.len / (512.0 * 512.0);
    ig_buf_free(&png);
    return (unsigned)sqrt((double)target * 3.0 / 4.0 / per_pixel);
}

static char *event_with(const char *b64, size_t *len)
{
    json_t *body = json_pack("{s:s, s:s}", "task", "upscale-conservative", "image", b64);
    char *text = json_dumps(body, JSON_COMPACT);
    json_t *ev = json_pack("{s:s, s:s, s:s, s:{s:s}, s:s, s:b, s:{s:s, s:{s:s}}}", "httpMethod", "POST", "path",
                           "/edit-image", "resource", "/edit-image", "headers", "content-type", "application/json",
                           "body", text, "isBase64Encoded", 0, "requestContext", "requestId", "bench", "identity",
                           "sourceIp", "127.0.0.1");
    char *out = json_dumps(ev, JSON_COMPACT);
    *len = strlen(out);
    free(text);
    json_decref(body);
    json_decref(ev);
    return out;
}

static void bench_image(size_t target, int reps, const char *event_out)
{
    ig_buf png, b64;
    ig_buf_init(&png, 0);
    ig_buf_init(&b64, 0);
    unsigned side = side_for(target);
    picture(side, &png);
    if (ig_base64_encode_buf(png.data, png.len, &b64) != IG_OK)
        die("base64");
    size_t ev_len;
    char *event = event_with(ig_buf_cstr(&b64), &ev_len);
    if (event_out) {
        FILE *f = fopen(event_out, "wb");
        if (!f || fwrite(event, 1, ev_len, f) != ev_len || fclose(f) != 0)
            die("cannot write the event");
    }
    unsigned char *copy = malloc(b64.len);
    json_t *fields = json_pack("[s]", "image");
    double t_event[MAX_REPS], t_inputs[MAX_REPS], t_subst[MAX_REPS], t_copy[MAX_REPS];
    double t_decode[MAX_REPS], t_walk[MAX_REPS], t_data[MAX_REPS];
    for (int r = 0; r < reps; r++) {
        json_t *req = NULL;
        ig_buf body;
        ig_buf_init(&body, IG_EVENT_BODY_MAX);
        ig_error err;
        double t0 = ig_mono_s();
        if (ig_event_to_request(event, ev_len, &req, &body, &err) != IG_OK)
            die(err.message);
        double t1 = ig_mono_s();
        ig_inputs in;
        ig_inputs_init(&in);
        if (ig_inputs_from_request(&in, req, &body, fields, &err) != IG_OK || in.n != 1)
            die("the image was not taken out of the request");
        double t2 = ig_mono_s();
        json_t *facts = json_object_get(json_object_get(req, "body"), "image");
        const char *ref = json_string_value(json_object_get(facts, "ref"));
        if (!ref)
            die("the image's facts carry no token");
        json_t *call =
            json_pack("{s:s, s:s, s:s}", "prompt", "a harbour at dawn", "image", ref, "output_format", "png");
        char *text = json_dumps(call, JSON_COMPACT);
        size_t len = strlen(text);
        double t3 = ig_mono_s();
        if (ig_inputs_substitute(&in, &text, &len, &err) != IG_OK || len < b64.len)
            die("the token was not substituted");
        double t4 = ig_mono_s();
        memcpy(copy, b64.data, b64.len);
        bench_sink ^= copy[r % b64.len];
        double t5 = ig_mono_s();
        t_event[r] = (t1 - t0) * 1000, t_inputs[r] = (t2 - t1) * 1000, t_subst[r] = (t4 - t3) * 1000;
        t_copy[r] = (t5 - t4) * 1000;
        /* the parts of ig_inputs_from_request's work */
        ig_buf raw;
        ig_buf_init(&raw, 0);
        ig_image_info info;
        double u0 = ig_mono_s();
        if (ig_base64_decode_buf(b64.data, b64.len, &raw, &err) != IG_OK)
            die(err.message);
        double u1 = ig_mono_s();
        ig_image_inspect(raw.data, raw.len, &info);
        double u2 = ig_mono_s();
        if (ig_png_check_data(raw.data, raw.len, IG_PNG_DATA_MAX_RAW, &info) != IG_IMAGE_OK)
            die(info.message);
        double u3 = ig_mono_s();
        t_decode[r] = (u1 - u0) * 1000, t_walk[r] = (u2 - u1) * 1000, t_data[r] = (u3 - u2) * 1000;
        ig_buf_free(&raw);
        free(text);
        json_decref(call);
        ig_inputs_free(&in);
        json_decref(req);
        ig_buf_free(&body);
    }
    printf("image: %ux%u RGB, %zu bytes of PNG, %zu of base64, in an event of %zu bytes\n", side, side, png.len,
           b64.len, ev_len);
    printf("event (ig_event_to_request): %.2f ms\n", median(t_event, reps));
    printf("inputs (ig_inputs_from_request): %.2f ms\n", median(t_inputs, reps));
    printf("  base64 decode: %.2f ms\n", median(t_decode, reps));
    printf("  chunk walk (ig_image_inspect): %.2f ms\n", median(t_walk, reps));
    printf("  image data (ig_png_check_data): %.2f ms\n", median(t_data, reps));
    printf("substitute (ig_inputs_substitute): %.2f ms\n", median(t_subst, reps));
    printf("memcpy of the base64: %.3f ms\n", median(t_copy, reps));
    printf("base64 bytes: %zu\n", b64.len);
    json_decref(fields);
    free(copy);
    free(event);
    ig_buf_free(&png);
    ig_buf_free(&b64);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)n + 1);
    if (!data || fread(data, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(data);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return data;
}

/* A form as OpenAI's client sends it: the image file first (random bytes, so CR, LF and pieces
 * of the boundary turn up in it), then the text fields. */
static void write_form(const char *path, size_t total, const char *boundary)
{
    ig_buf b;
    ig_buf_init(&b, 0);
    ig_buf_appendf(&b, "--%s\r\nContent-Disposition: form-data; name=\"image\"; filename=\"photo.png\"\r\n"
                       "Content-Type: image/png\r\n\r\n", boundary);
    static const char *const fields[][2] = {{"prompt", "a harbour at dawn"}, {"n", "1"}, {"size", "1024x1024"},
                                            {"response_format", "url"}};
    size_t tail = 0;
    for (int i = 0; i < 4; i++)
        tail += strlen(boundary) + strlen(fields[i][0]) + strlen(fields[i][1]) + 50;
    uint32_t s = 7;
    size_t data = total > b.len + tail + 64 ? total - b.len - tail - 64 : 1;
    for (size_t i = 0; i < data; i++) {
        s = s * 1664525u + 1013904223u;
        ig_buf_append_char(&b, (char)(s >> 24));
    }
    ig_buf_append_str(&b, "\r\n");
    for (int i = 0; i < 4; i++)
        ig_buf_appendf(&b, "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n", boundary, fields[i][0],
                       fields[i][1]);
    ig_buf_appendf(&b, "--%s--\r\n", boundary);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0)
        die("cannot write the form");
    printf("form: %zu bytes written to %s\n", b.len, path);
    ig_buf_free(&b);
}

static void bench_form(const char *path, const char *boundary, int reps)
{
    size_t len;
    char *body = read_all(path, &len);
    if (!body)
        die("cannot read the form");
    char ct[128];
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", boundary);
    unsigned char *copy = malloc(len);
    ig_multipart_part parts[IG_INPUTS_MAX_FORM_PARTS];
    ig_multipart_limits lim = {.max_parts = IG_INPUTS_MAX_FORM_PARTS, .max_part_bytes = len, .max_header_bytes = 4096};
    double t_parse[MAX_REPS], t_copy[MAX_REPS];
    size_t n = 0, file_len = 0;
    for (int r = 0; r < reps; r++) {
        ig_error err;
        double t0 = ig_mono_s();
        if (ig_multipart_parse(ct, body, len, &lim, parts, IG_INPUTS_MAX_FORM_PARTS, &n, &err) != IG_OK)
            die(err.message);
        double t1 = ig_mono_s();
        memcpy(copy, body, len);
        bench_sink ^= copy[r % len];
        double t2 = ig_mono_s();
        t_parse[r] = (t1 - t0) * 1000, t_copy[r] = (t2 - t1) * 1000;
        file_len = parts[0].len;
    }
    printf("form: %zu bytes, %zu parts, the file %zu bytes\n", len, n, file_len);
    printf("multipart (ig_multipart_parse): %.3f ms\n", median(t_parse, reps));
    printf("memcpy of the form: %.3f ms\n", median(t_copy, reps));
    free(copy);
    free(body);
}

int main(int argc, char **argv)
{
    double mb = 4.0, form_mb = 10.0;
    int reps = 15;
    const char *form = NULL, *write_to = NULL, *event_out = NULL, *boundary = "----formdata-undici-0123456789";
    if (argc % 2 == 0)
        die("every option takes a value: [--base64-mb N] [--reps N] [--form FILE --boundary B] "
            "[--write-event FILE] [--write-form FILE --form-mb N --boundary B]");
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--base64-mb") == 0)
            mb = atof(v);
        else if (strcmp(a, "--reps") == 0)
            reps = atoi(v);
        else if (strcmp(a, "--form") == 0)
            form = v;
        else if (strcmp(a, "--write-form") == 0)
            write_to = v;
        else if (strcmp(a, "--write-event") == 0)
            event_out = v;
        else if (strcmp(a, "--form-mb") == 0)
            form_mb = atof(v);
        else if (strcmp(a, "--boundary") == 0)
            boundary = v;
        else
            die("unknown option");
    }
    if (mb < 0.1 || mb > 6 || reps < 1 || reps > MAX_REPS || form_mb < 0.01 || form_mb > 10)
        die("--base64-mb 0.1..6, --reps 1..200, --form-mb 0.01..10");
    if (write_to) {
        write_form(write_to, (size_t)(form_mb * 1000 * 1000), boundary);
        return 0;
    }
    bench_image((size_t)(mb * 1000 * 1000), reps, event_out);
    if (form)
        bench_form(form, boundary, reps);
    return 0;
}
