/* test_procpng.c - bedrock-local's procedural pictures: reproducible, different for different
 * inputs, well-formed PNGs of the requested size, and of a real model's weight.
 *
 * The generator belongs to the bedrock-local program rather than to a library, so its two
 * sources are compiled into this test. Full decoding is checked independently by the
 * integration test (Python's zlib inflates every image bedrock-local returns).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "procpng.h"
#include "procpng_encode.h"
#include "codec/image.h"
#include "testlib.h"

static const char *const lighthouse = "a lighthouse on a cliff at dusk";

static procpng_spec spec_of(const char *prompt, uint64_t seed, unsigned w, unsigned h, unsigned index)
{
    return (procpng_spec){prompt, strlen(prompt), seed, w, h, index};
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Walks the chunks: signature, IHDR first with the given size, every CRC right, IEND last.
 * Returns the number of problems found (and reports them). */
static int png_structure_problems(const ig_buf *png, unsigned w, unsigned h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const unsigned char *d = (const unsigned char *)png->data;
    int problems = 0;
    if (png->len < 8 + 25 + 12 || memcmp(d, sig, 8) != 0) {
        ig_test_fail(__FILE__, __LINE__, "not a PNG signature (%zu bytes)", png->len);
        return 1;
    }
    size_t pos = 8;
    int chunks = 0, saw_idat = 0, saw_iend = 0;
    while (pos + 12 <= png->len && !saw_iend) {
        uint32_t len = be32(d + pos);
        if (pos + 12 + len > png->len) {
            ig_test_fail(__FILE__, __LINE__, "chunk at %zu overruns the file", pos);
            return problems + 1;
        }
        const unsigned char *type = d + pos + 4;
        if (crc32_z(0, (const Bytef *)type, len + 4) != be32(d + pos + 8 + len)) {
            ig_test_fail(__FILE__, __LINE__, "bad CRC on chunk %.4s", (const char *)type);
            problems++;
        }
        if (chunks == 0) {
            if (memcmp(type, "IHDR", 4) != 0 || len != 13) {
                ig_test_fail(__FILE__, __LINE__, "first chunk is not a 13-byte IHDR");
                return problems + 1;
            }
            if (be32(type + 4) != w || be32(type + 8) != h) {
                ig_test_fail(__FILE__, __LINE__, "IHDR says %ux%u, expected %ux%u", be32(type + 4),
                             be32(type + 8), w, h);
                problems++;
            }
            if (type[12] != 8 || type[13] != 2) {
                ig_test_fail(__FILE__, __LINE__, "IHDR is not 8-bit RGB");
                problems++;
            }
        }
        if (memcmp(type, "IDAT", 4) == 0) {
            /* zlib header: deflate with a 32K window, and the header check (RFC 1950). */
            if (!saw_idat && (type[4] != 0x78 || ((type[4] << 8) | type[5]) % 31 != 0)) {
                ig_test_fail(__FILE__, __LINE__, "IDAT does not start with a zlib header");
                problems++;
            }
            saw_idat = 1;
        }
        saw_iend = memcmp(type, "IEND", 4) == 0;
        pos += 12 + len;
        chunks++;
    }
    if (!saw_idat || !saw_iend || pos != png->len) {
        ig_test_fail(__FILE__, __LINE__, "IDAT %d, IEND %d, %zu trailing bytes", saw_idat, saw_iend,
                     png->len - pos);
        problems++;
    }
    return problems;
}

/* The share of pixels (in percent) whose largest channel difference exceeds 24: grain alone
 * (|a - b| <= 2 * GRAIN) never does. */
static double percent_pixels_changed(const unsigned char *a, const unsigned char *b, size_t pixels)
{
    size_t changed = 0;
    for (size_t i = 0; i < pixels; i++) {
        int m = 0;
        for (int c = 0; c < 3; c++) {
            int d = abs(a[3 * i + c] - b[3 * i + c]);
            m = d > m ? d : m;
        }
        changed += m > 24;
    }
    return 100.0 * (double)changed / (double)pixels;
}

static unsigned char *render(procpng_spec s)
{
    unsigned char *rgb = malloc((size_t)s.width * s.height * 3);
    ig_error err;
    if (rgb && procpng_render_rgb(&s, rgb, &err) != IG_OK) {
        ig_test_fail(__FILE__, __LINE__, "render failed: %s", err.message);
        free(rgb);
        return NULL;
    }
    return rgb;
}

static void test_same_inputs_give_identical_bytes(void)
{
    procpng_spec s = spec_of(lighthouse, 42, 512, 512, 0);
    ig_buf a, b;
    ig_buf_init(&a, 0);
    ig_buf_init(&b, 0);
    ig_error err;
    IG_CHECK_EQ_INT(procpng_render_png(&s, &a, &err), IG_OK);
    IG_CHECK_EQ_INT(procpng_render_png(&s, &b, &err), IG_OK);
    IG_CHECK_EQ_INT(a.len, b.len);
    IG_CHECK(a.len > 0 && a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    /* A copy of the prompt in other memory: only the bytes count. */
    char copy[64];
    snprintf(copy, sizeof copy, "%s", lighthouse);
    procpng_spec t = spec_of(copy, 42, 512, 512, 0);
    ig_buf c;
    ig_buf_init(&c, 0);
    IG_CHECK_EQ_INT(procpng_render_png(&t, &c, &err), IG_OK);
    IG_CHECK(c.len == a.len && memcmp(c.data, a.data, a.len) == 0);
    ig_buf_free(&a);
    ig_buf_free(&b);
    ig_buf_free(&c);
}

static void test_prompt_seed_and_index_each_change_the_picture(void)
{
    const unsigned w = 512, h = 512;
    procpng_spec base = spec_of(lighthouse, 42, w, h, 0);
    procpng_spec variants[] = {
        spec_of("a lighthouse on a cliff at dawn", 42, w, h, 0), /* prompt, one word */
        spec_of("a lighthouse on a cliff at dusk.", 42, w, h, 0), /* prompt, one byte */
        spec_of(lighthouse, 43, w, h, 0),                         /* seed + 1 */
        spec_of(lighthouse, 42, w, h, 1),                         /* index + 1 */
        spec_of(lighthouse, 42, w, h, 4),
    };
    unsigned char *ref = render(base);
    IG_CHECK(ref != NULL);
    for (size_t i = 0; ref && i < sizeof variants / sizeof variants[0]; i++) {
        unsigned char *other = render(variants[i]);
        IG_CHECK(other != NULL);
        if (!other)
            continue;
        double changed = percent_pixels_changed(ref, other, (size_t)w * h);
        printf("  variant %zu: %.1f%% of pixels differ visibly\n", i, changed);
        if (changed < 40.0)
            ig_test_fail(__FILE__, __LINE__, "variant %zu changes only %.1f%% of the pixels", i, changed);
        free(other);
    }
    free(ref);
}

static void test_pictures_are_not_flat(void)
{
    /* Every scene puts several distinct colours on the canvas, not one tint plus grain. */
    int seen[PROCPNG_SCENE_COUNT] = {0};
    for (unsigned i = 0; i < 40; i++) {
        procpng_spec s = spec_of("scene survey", 9, 256, 256, i);
        procpng_scene scene = procpng_scene_of(&s);
        unsigned char *rgb = render(s);
        if (!rgb)
            continue;
        /* Coarse 4-bit-per-channel colour histogram. */
        static unsigned char bins[4096];
        memset(bins, 0, sizeof bins);
        int distinct = 0;
        for (size_t p = 0; p < 256u * 256u; p++) {
            unsigned key = (rgb[3 * p] >> 4) << 8 | (rgb[3 * p + 1] >> 4) << 4 | rgb[3 * p + 2] >> 4;
            distinct += !bins[key];
            bins[key] = 1;
        }
        if (distinct < 8)
            ig_test_fail(__FILE__, __LINE__, "index %u (%s) has only %d coarse colours", i,
                         procpng_scene_name(scene), distinct);
        seen[scene]++;
        free(rgb);
    }
    for (int k = 0; k < PROCPNG_SCENE_COUNT; k++)
        if (!seen[k])
            ig_test_fail(__FILE__, __LINE__, "scene %s never drawn in 40 pictures",
                         procpng_scene_name((procpng_scene)k));
}

static void test_png_has_requested_dimensions(void)
{
    const unsigned sizes[][2] = {{1024, 1024}, {1173, 640}, {320, 704}, {704, 320}, {1408, 768},
                                 {1, 1},       {3, 2},      {17, 5}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        procpng_spec s = spec_of(lighthouse, 7, sizes[i][0], sizes[i][1], 0);
        ig_buf png;
        ig_buf_init(&png, 0);
        ig_error err;
        IG_CHECK_EQ_INT(procpng_render_png(&s, &png, &err), IG_OK);
        IG_CHECK_EQ_INT(png_structure_problems(&png, sizes[i][0], sizes[i][1]), 0);
        unsigned w = 0, h = 0;
        IG_CHECK_EQ_INT(ig_image_sniff(png.data, png.len, &w, &h), IG_IMAGE_PNG);
        IG_CHECK_EQ_INT(w, sizes[i][0]);
        IG_CHECK_EQ_INT(h, sizes[i][1]);
        ig_buf_free(&png);
    }
}

static void test_1024_square_weighs_like_a_real_picture(void)
{
    /* Enough pictures to draw every scene; each must be 1.0 to 1.6 MB. */
    int seen[PROCPNG_SCENE_COUNT] = {0};
    size_t smallest = SIZE_MAX, largest = 0;
    for (unsigned i = 0; i < 12; i++) {
        procpng_spec s = spec_of(i % 2 ? lighthouse : "weight survey", 1000 + i, 1024, 1024, i);
        ig_buf png;
        ig_buf_init(&png, 0);
        ig_error err;
        IG_CHECK_EQ_INT(procpng_render_png(&s, &png, &err), IG_OK);
        if (png.len < 1000000 || png.len > 1600000)
            ig_test_fail(__FILE__, __LINE__, "picture %u (%s) weighs %zu bytes", i,
                         procpng_scene_name(procpng_scene_of(&s)), png.len);
        smallest = png.len < smallest ? png.len : smallest;
        largest = png.len > largest ? png.len : largest;
        seen[procpng_scene_of(&s)]++;
        ig_buf_free(&png);
    }
    printf("  1024x1024: %zu .. %zu bytes\n", smallest, largest);
    int scenes = 0;
    for (int k = 0; k < PROCPNG_SCENE_COUNT; k++)
        scenes += seen[k] > 0;
    IG_CHECK(scenes >= 4);
}

static void test_long_prompts_are_hashed_whole(void)
{
    /* A long prompt is hashed whole: its last byte still changes the picture. */
    char a[2000], b[2000];
    memset(a, 'x', sizeof a - 1);
    a[sizeof a - 1] = '\0';
    memcpy(b, a, sizeof a);
    b[sizeof b - 2] = 'y';
    procpng_spec sa = spec_of(a, 1, 256, 256, 0), sb = spec_of(b, 1, 256, 256, 0);
    unsigned char *ra = render(sa), *rb = render(sb);
    IG_CHECK(ra && rb && percent_pixels_changed(ra, rb, 256u * 256u) > 40.0);
    free(ra);
    free(rb);
}

static void test_bad_sizes_are_refused_with_a_sentence(void)
{
    ig_buf png;
    ig_buf_init(&png, 0);
    ig_error err;
    procpng_spec zero = spec_of("x", 1, 0, 512, 0);
    IG_CHECK_EQ_INT(procpng_render_png(&zero, &png, &err), IG_ERR_INVALID_ARG);
    IG_CHECK(strstr(err.message, "0x512") != NULL);
    procpng_spec huge = spec_of("x", 1, 512, PROCPNG_MAX_SIDE + 1, 0);
    IG_CHECK_EQ_INT(procpng_render_png(&huge, &png, &err), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(png.len, 0);
    IG_CHECK_EQ_INT(procpng_encode_rgb(NULL, 4, 4, &png, &err), IG_ERR_INVALID_ARG);
    ig_buf_free(&png);
}

static void test_capped_buffer_reports_too_large(void)
{
    procpng_spec s = spec_of(lighthouse, 1, 256, 256, 0);
    ig_buf png;
    ig_buf_init(&png, 1000); /* far less than a 256x256 picture needs */
    ig_error err;
    IG_CHECK_EQ_INT(procpng_render_png(&s, &png, &err), IG_ERR_TOO_LARGE);
    IG_CHECK(strstr(err.message, "256x256") != NULL);
    ig_buf_free(&png);
}

int main(void)
{
    IG_RUN(test_same_inputs_give_identical_bytes);
    IG_RUN(test_prompt_seed_and_index_each_change_the_picture);
    IG_RUN(test_pictures_are_not_flat);
    IG_RUN(test_png_has_requested_dimensions);
    IG_RUN(test_1024_square_weighs_like_a_real_picture);
    IG_RUN(test_long_prompts_are_hashed_whole);
    IG_RUN(test_bad_sizes_are_refused_with_a_sentence);
    IG_RUN(test_capped_buffer_reports_too_large);
    return ig_test_finish("procpng");
}
