/* bench_base64.c - measures base64 decoding against memcpy over the same bytes.
 *
 * Decoding sits on every image's path, and the goal is memory speed: the ratio to memcpy,
 * measured in the same run on the same machine, says how close it gets. Prints MB/s of
 * base64 input (median of several repetitions) for decode, encode and memcpy, and for the
 * decoder's table path when the AVX2 path is the one in use.
 *
 *   bench_base64 [megabytes of base64, default 8] [repetitions, default 15]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/base64.h"
#include "core/clock.h"
#include "core/random.h"

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

/* Keeps the compiler from dropping the copies. */
static volatile unsigned char bench_sink;

int main(int argc, char **argv)
{
    long mb = argc > 1 ? strtol(argv[1], NULL, 10) : 8;
    int reps = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 15;
    if (mb < 1 || mb > 1024 || reps < 1 || reps > 1000) {
        fprintf(stderr, "usage: bench_base64 [megabytes 1..1024] [repetitions 1..1000]\n");
        return 2;
    }
    size_t enc_len = (size_t)mb * 1024 * 1024 / 4 * 4;
    size_t raw_len = enc_len / 4 * 3;
    unsigned char *raw = malloc(raw_len), *out = malloc(raw_len), *copy = malloc(enc_len);
    double *dec_t = calloc((size_t)reps, sizeof(double)), *cpy_t = calloc((size_t)reps, sizeof(double)),
           *encd_t = calloc((size_t)reps, sizeof(double));
    ig_buf enc, scratch;
    ig_buf_init(&enc, 0);
    ig_buf_init(&scratch, 0);
    if (!raw || !out || !copy || !dec_t || !cpy_t || !encd_t || ig_random_bytes(raw, raw_len) ||
        ig_base64_encode_buf(raw, raw_len, &enc) || enc.len != enc_len) {
        fprintf(stderr, "bench_base64: setup failed\n");
        return 1;
    }
    ig_error err;
    for (int r = 0; r < reps; r++) {
        size_t n = 0;
        double t0 = ig_mono_s();
        if (ig_base64_decode(enc.data, enc.len, out, &n, &err) != IG_OK || n != raw_len) {
            fprintf(stderr, "bench_base64: decode failed: %s\n", err.message);
            return 1;
        }
        double t1 = ig_mono_s();
        memcpy(copy, enc.data, enc.len);
        bench_sink ^= copy[r % enc.len];
        double t2 = ig_mono_s();
        ig_buf_reset(&scratch);
        if (ig_base64_encode_buf(raw, raw_len, &scratch) != IG_OK) {
            fprintf(stderr, "bench_base64: encode failed\n");
            return 1;
        }
        double t3 = ig_mono_s();
        dec_t[r] = t1 - t0;
        cpy_t[r] = t2 - t1;
        encd_t[r] = t3 - t2;
    }
    if (memcmp(out, raw, raw_len) != 0) {
        fprintf(stderr, "bench_base64: decoded bytes differ from the input\n");
        return 1;
    }
    double mbytes = (double)enc_len / 1e6;
    double dec = mbytes / median(dec_t, reps), cpy = mbytes / median(cpy_t, reps),
           encs = mbytes / median(encd_t, reps);
    printf("base64 decode: %.0f MB/s (%zu bytes of base64, median of %d)\n", dec, enc_len, reps);
    printf("base64 encode: %.0f MB/s of base64 output\n", encs);
    printf("memcpy:        %.0f MB/s\n", cpy);
    printf("decode/memcpy: %.2f\n", dec / cpy);
    if (ig_base64_use_simd(-1)) {
        /* The same input through the table path, which CPUs without AVX2 (and arm64) run. */
        ig_base64_use_simd(0);
        for (int r = 0; r < reps; r++) {
            size_t n = 0;
            double t0 = ig_mono_s();
            if (ig_base64_decode(enc.data, enc.len, out, &n, &err) != IG_OK || n != raw_len)
                return 1;
            dec_t[r] = ig_mono_s() - t0;
        }
        ig_base64_use_simd(1);
        printf("table path:    %.0f MB/s (without AVX2)\n", mbytes / median(dec_t, reps));
    } else {
        printf("table path:    the only one here (this CPU has no AVX2)\n");
    }
    free(raw);
    free(out);
    free(copy);
    free(dec_t);
    free(cpy_t);
    free(encd_t);
    ig_buf_free(&enc);
    ig_buf_free(&scratch);
    return 0;
}
