/* bench_extract.c - times the runtime's handling of a Bedrock answer: finding the images in
 * the JSON (ig_extract_images) and decoding their base64, next to the decoding alone.
 *
 * A Titan answer carries each 1024x1024 image as one base64 string of about 1.9 MB, so how
 * the answer is parsed decides much of an invocation's CPU time. The answer built here has
 * the shape Titan sends, {"images": ["<base64>", ...], "error": null}, with random image
 * bytes of the size bedrock-local produces. Prints the median milliseconds per answer.
 *
 *   bench_extract [images 1..5, default 1] [bytes per image, default 1400000] [repetitions, default 15]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/base64.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/random.h"
#include "codec/extract.h"

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

int main(int argc, char **argv)
{
    int images = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 1;
    long bytes = argc > 2 ? strtol(argv[2], NULL, 10) : 1400000;
    int reps = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 15;
    if (images < 1 || images > 5 || bytes < 3 || bytes > 8000000 || reps < 1 || reps > 200) {
        fprintf(stderr, "usage: bench_extract [images 1..5] [bytes per image 3..8000000] [repetitions 1..200]\n");
        return 2;
    }
    unsigned char *raw = malloc((size_t)bytes);
    ig_buf body, enc;
    ig_buf_init(&body, 0);
    ig_buf_init(&enc, 0);
    if (!raw || ig_random_bytes(raw, (size_t)bytes) || ig_base64_encode_buf(raw, (size_t)bytes, &enc) ||
        ig_buf_append_str(&body, "{\"images\": [")) {
        fprintf(stderr, "bench_extract: setup failed\n");
        return 1;
    }
    for (int i = 0; i < images; i++) {
        if ((i && ig_buf_append_str(&body, ", ")) || ig_buf_append_str(&body, "\"") ||
            ig_buf_append(&body, enc.data, enc.len) || ig_buf_append_str(&body, "\"")) {
            fprintf(stderr, "bench_extract: setup failed\n");
            return 1;
        }
    }
    if (ig_buf_append_str(&body, "], \"error\": null}")) {
        fprintf(stderr, "bench_extract: setup failed\n");
        return 1;
    }

    double *parse_t = calloc((size_t)reps, sizeof(double)), *decode_t = calloc((size_t)reps, sizeof(double));
    if (!parse_t || !decode_t)
        return 1;
    for (int r = 0; r < reps; r++) {
        ig_extracted x;
        ig_error err;
        double t0 = ig_mono_s();
        if (ig_extract_images(body.data, body.len, "images", "error", &x, &err) != IG_OK || x.count != (size_t)images) {
            fprintf(stderr, "bench_extract: extraction failed: %s\n", err.message);
            return 1;
        }
        double t1 = ig_mono_s();
        for (size_t i = 0; i < x.count; i++) {
            ig_buf out;
            ig_buf_init(&out, 0);
            if (ig_base64_decode_buf(x.b64[i], x.b64_len[i], &out, &err) != IG_OK || out.len != (size_t)bytes ||
                memcmp(out.data, raw, out.len) != 0) {
                fprintf(stderr, "bench_extract: decoding failed\n");
                return 1;
            }
            ig_buf_free(&out);
        }
        double t2 = ig_mono_s();
        ig_extracted_free(&x);
        parse_t[r] = (t1 - t0) * 1000;
        decode_t[r] = (t2 - t1) * 1000;
    }
    double p = median(parse_t, reps), d = median(decode_t, reps);
    printf("answer: %d image(s), %zu bytes of JSON\n", images, body.len);
    printf("extract (JSON parse): %.2f ms\n", p);
    printf("base64 decode:        %.2f ms\n", d);
    printf("parse / decode:       %.1f\n", p / d);
    free(raw);
    free(parse_t);
    free(decode_t);
    ig_buf_free(&body);
    ig_buf_free(&enc);
    return 0;
}
