/* image_cli.c - the input-image checks behind a command line, so that another implementation
 * (Pillow, in tests/integration/test_image_pil.py) can be compared with ours file by file.
 *
 *   image_cli inspect FILE...
 *       one JSON line per file: {"file", "verdict", "error" (the contract's word, or null),
 *       "format", "width", "height", "alpha", "image_len", "message"}
 *   image_cli mask [--inverted] [--max-pixels N] IN OUT
 *       writes IN's alpha mask to OUT; one JSON line: {"ok": true} or
 *       {"ok": false, "error": "<ig_err name>", "message": "..."}
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/image.h"
#include "testlib.h"

static const char *verdict_name(ig_image_verdict v)
{
    static const char *const names[] = {"ok", "empty", "not_image", "truncated", "corrupt", "too_large"};
    return (size_t)v < sizeof names / sizeof names[0] ? names[v] : "?";
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    printf("%s\n", s ? s : "null");
    free(s);
    json_decref(j);
}

static int inspect(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        size_t len = 0;
        char *data = ig_test_read_file(argv[i], &len);
        if (!data) {
            print_json(json_pack("{s:s, s:s}", "file", argv[i], "verdict", "unreadable"));
            continue;
        }
        ig_image_info info;
        ig_image_verdict v = ig_image_inspect(data, len, &info);
        const char *word = ig_image_verdict_word(v), *format = ig_image_format_name(info.type);
        print_json(json_pack("{s:s, s:s, s:s?, s:s?, s:I, s:I, s:b, s:I, s:s}", "file", argv[i], "verdict",
                             verdict_name(v), "error", word, "format", format, "width", (json_int_t)info.width,
                             "height", (json_int_t)info.height, "alpha", info.has_alpha, "image_len",
                             (json_int_t)info.image_len, "message", info.message));
        free(data);
    }
    return 0;
}

static int mask(int argc, char **argv)
{
    int inverted = 0;
    size_t max_pixels = IG_IMAGE_MASK_MAX_PIXELS;
    int i = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--inverted") == 0)
            inverted = 1;
        else if (strcmp(argv[i], "--max-pixels") == 0 && i + 1 < argc)
            max_pixels = strtoull(argv[++i], NULL, 10);
        else
            return fprintf(stderr, "image_cli: unknown option %s\n", argv[i]), 2;
    }
    if (argc - i != 2)
        return fprintf(stderr, "usage: image_cli mask [--inverted] [--max-pixels N] IN OUT\n"), 2;
    size_t len = 0;
    char *data = ig_test_read_file(argv[i], &len);
    if (!data)
        return fprintf(stderr, "image_cli: cannot read %s\n", argv[i]), 1;
    ig_buf out;
    ig_buf_init(&out, 0);
    ig_error err;
    ig_error_clear(&err);
    ig_err e = ig_image_alpha_mask_bounded(data, len, inverted, max_pixels, &out, &err);
    free(data);
    if (e != IG_OK) {
        print_json(json_pack("{s:b, s:s, s:s}", "ok", 0, "error", ig_err_name(e), "message", err.message));
        ig_buf_free(&out);
        return 0;
    }
    FILE *f = fopen(argv[i + 1], "wb");
    int written = f && fwrite(out.data, 1, out.len, f) == out.len;
    if (f && fclose(f) != 0)
        written = 0;
    ig_buf_free(&out);
    if (!written)
        return fprintf(stderr, "image_cli: cannot write %s\n", argv[i + 1]), 1;
    print_json(json_pack("{s:b}", "ok", 1));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "inspect") == 0)
        return inspect(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "mask") == 0)
        return mask(argc - 2, argv + 2);
    fprintf(stderr, "usage: image_cli inspect FILE... | image_cli mask [--inverted] [--max-pixels N] IN OUT\n");
    return 2;
}
