/* procpng_bench.c - renders bedrock-local's procedural pictures outside the server: measures
 * drawing and encoding time and PNG weight per size, and optionally writes the PNGs so a
 * person can look at them.
 *
 *   procpng_bench [--out DIR] [--count N] [--size WxH] [--seed S] [PROMPT]
 *
 * Prints one line per picture and a summary line with the mean and the slowest time.
 * The generator is part of the bedrock-local program, not of a library, so its sources are
 * compiled into this tool directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procpng.h"
#include "procpng_encode.h"
#include "core/clock.h"

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *out_dir = NULL, *prompt = "a lighthouse on a cliff at dusk";
    unsigned count = 5, width = 1024, height = 1024;
    unsigned long long seed = 42;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out_dir = argv[++i];
        else if (!strcmp(argv[i], "--count") && i + 1 < argc)
            count = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
            if (sscanf(argv[++i], "%ux%u", &width, &height) != 2) {
                fprintf(stderr, "procpng_bench: --size wants WxH\n");
                return 2;
            }
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: procpng_bench [--out DIR] [--count N] [--size WxH] [--seed S] [PROMPT]\n");
            return 2;
        } else
            prompt = argv[i];
    }
    double total_ms = 0, worst_ms = 0;
    size_t total_bytes = 0;
    for (unsigned i = 0; i < count; i++) {
        procpng_spec spec = {prompt, strlen(prompt), seed, width, height, i};
        ig_buf png;
        ig_buf_init(&png, 0);
        ig_error err;
        double t0 = ig_mono_s();
        if (procpng_render_png(&spec, &png, &err) != IG_OK) {
            fprintf(stderr, "procpng_bench: %s\n", err.message);
            ig_buf_free(&png);
            return 1;
        }
        double ms = (ig_mono_s() - t0) * 1000.0;
        total_ms += ms;
        worst_ms = ms > worst_ms ? ms : worst_ms;
        total_bytes += png.len;
        printf("image %u: %ux%u %s %zu bytes %.1f ms\n", i, width, height,
               procpng_scene_name(procpng_scene_of(&spec)), png.len, ms);
        if (out_dir) {
            char path[4096];
            snprintf(path, sizeof path, "%s/procpng-%llu-%u.png", out_dir, seed, i);
            if (write_file(path, png.data, png.len) != 0) {
                fprintf(stderr, "procpng_bench: cannot write %s\n", path);
                ig_buf_free(&png);
                return 1;
            }
        }
        ig_buf_free(&png);
    }
    if (count)
        printf("procpng_bench: %u images %ux%u, mean %.1f ms, slowest %.1f ms, mean %zu bytes\n",
               count, width, height, total_ms / count, worst_ms, total_bytes / count);
    return 0;
}
