/* s3_cli.c - drives the S3 client from the command line so integration tests can run it
 * against s3rver (region, credentials and endpoint come from the usual AWS_* variables):
 *
 *   s3_cli put BUCKET [--type T] [--cache C] [--meta NAME=VALUE]... KEY FILE [KEY FILE]...
 *   s3_cli head BUCKET KEY
 *   s3_cli presign BUCKET KEY EXPIRES_S [NOW_S]
 *   s3_cli presign-download BUCKET KEY FILE_NAME EXPIRES_S [NOW_S]
 *   s3_cli get BUCKET KEY MAX_BYTES [OUT_FILE]
 *   s3_cli presign-post BUCKET KEY CONTENT_TYPE MAX_BYTES EXPIRES_S [NOW_S]
 *
 * Every command prints one JSON object on stdout and exits 0 on success, 1 on an S3 or
 * transport error, 2 on a usage or setup error.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/s3.h"
#include "core/clock.h"

#define MAX_OBJECTS 64
#define MAX_META 16

static int usage(void)
{
    fprintf(stderr, "usage: s3_cli put BUCKET [--type T] [--cache C] [--meta NAME=VALUE]... KEY FILE...\n"
                    "       s3_cli head BUCKET KEY\n"
                    "       s3_cli presign BUCKET KEY EXPIRES_S [NOW_S]\n"
                    "       s3_cli presign-download BUCKET KEY FILE_NAME EXPIRES_S [NOW_S]\n"
                    "       s3_cli get BUCKET KEY MAX_BYTES [OUT_FILE]\n"
                    "       s3_cli presign-post BUCKET KEY CONTENT_TYPE MAX_BYTES EXPIRES_S [NOW_S]\n");
    return 2;
}

static void print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (s)
        puts(s);
    free(s);
    json_decref(o);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    ig_buf b;
    ig_buf_init(&b, 0);
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        ig_buf_append(&b, tmp, n);
    fclose(f);
    return ig_buf_steal(&b, len);
}

static json_t *result_json(const char *key, const ig_s3_result *r)
{
    return json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:i, s:s?}", "key", key, "err", ig_err_name(r->err), "status",
                     (int)r->status, "code", r->code, "message", r->message, "etag", r->etag, "attempts",
                     r->attempts, "stop", r->stop_reason);
}

static int cmd_put(ig_s3 *s3, int argc, char **argv)
{
    const char *type = "application/octet-stream", *cache = NULL;
    ig_header meta[MAX_META];
    size_t n_meta = 0;
    int i = 0;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (i + 1 >= argc)
            return usage();
        if (strcmp(argv[i], "--type") == 0) {
            type = argv[i + 1];
        } else if (strcmp(argv[i], "--cache") == 0) {
            cache = argv[i + 1];
        } else if (strcmp(argv[i], "--meta") == 0 && n_meta < MAX_META) {
            char *eq = strchr(argv[i + 1], '=');
            if (!eq)
                return usage();
            *eq = '\0';
            meta[n_meta].name = argv[i + 1];
            meta[n_meta++].value = eq + 1;
        } else {
            return usage();
        }
    }
    size_t n = 0;
    ig_s3_put_request puts[MAX_OBJECTS];
    char *data[MAX_OBJECTS];
    for (; i + 1 < argc && n < MAX_OBJECTS; i += 2, n++) {
        size_t len = 0;
        data[n] = read_all(argv[i + 1], &len);
        if (!data[n]) {
            fprintf(stderr, "cannot read %s\n", argv[i + 1]);
            for (size_t k = 0; k < n; k++)
                free(data[k]);
            return 2;
        }
        puts[n] = (ig_s3_put_request){.key = argv[i], .data = data[n], .len = len, .content_type = type,
                                      .cache_control = cache, .metadata = meta, .n_metadata = n_meta};
    }
    if (!n || i != argc)
        return usage();
    ig_s3_result res[MAX_OBJECTS];
    ig_err e = ig_s3_put_objects(s3, puts, n, ig_now_ms() + 30000, res);
    json_t *arr = json_array();
    for (size_t k = 0; k < n; k++) {
        json_array_append_new(arr, result_json(puts[k].key, &res[k]));
        free(data[k]);
    }
    print_json(json_pack("{s:s, s:o}", "err", ig_err_name(e), "results", arr));
    return e == IG_OK ? 0 : 1;
}

static int cmd_head(ig_s3 *s3, const char *key)
{
    ig_s3_head_result h;
    ig_s3_head_result_init(&h);
    ig_err e = ig_s3_head_object(s3, key, ig_now_ms() + 30000, &h);
    json_t *meta = json_object();
    for (size_t i = 0; i < h.metadata.len; i++)
        json_object_set_new(meta, h.metadata.items[i].name, json_string(h.metadata.items[i].value));
    print_json(json_pack("{s:s, s:i, s:s, s:s, s:I, s:s, s:s, s:o, s:i}", "err", ig_err_name(e), "status",
                         (int)h.status, "code", h.code, "message", h.message, "content_length",
                         (json_int_t)h.content_length, "content_type", h.content_type, "etag", h.etag, "metadata",
                         meta, "attempts", h.attempts));
    ig_s3_head_result_free(&h);
    return e == IG_OK ? 0 : 1;
}

static int cmd_presign(ig_s3 *s3, const char *key, const char *attachment, const char *expires, const char *now)
{
    ig_buf url;
    ig_buf_init(&url, 0);
    ig_error err;
    ig_error_clear(&err);
    ig_err e = ig_s3_presign_download(s3, key, attachment, atoll(expires), now ? atoll(now) : 0, &url, &err);
    print_json(json_pack("{s:s, s:s, s:s}", "err", ig_err_name(e), "url", ig_buf_cstr(&url), "message", err.message));
    ig_buf_free(&url);
    return e == IG_OK ? 0 : 1;
}

/* The object's bytes go to OUT_FILE when given; the JSON says what came back. */
static int cmd_get(ig_s3 *s3, const char *key, const char *max, const char *out_file)
{
    ig_s3_get_result g;
    ig_buf body;
    ig_buf_init(&body, 0);
    ig_err e = ig_s3_get_object(s3, key, (size_t)strtoull(max, NULL, 10), ig_now_ms() + 30000, &g, &body);
    if (e == IG_OK && out_file) {
        FILE *f = fopen(out_file, "wb");
        if (!f || fwrite(body.data ? body.data : "", 1, body.len, f) != body.len)
            e = IG_ERR_IO;
        if (f)
            fclose(f);
    }
    print_json(json_pack("{s:s, s:i, s:s, s:s, s:I, s:I, s:s, s:s, s:i, s:s?}", "err", ig_err_name(e), "status",
                         (int)g.status, "code", g.code, "message", g.message, "content_length",
                         (json_int_t)g.content_length, "bytes", (json_int_t)body.len, "content_type", g.content_type,
                         "etag", g.etag, "attempts", g.attempts, "stop", g.stop_reason));
    ig_buf_free(&body);
    return e == IG_OK ? 0 : 1;
}

/* Prints {"err", "message", and on success "url", "fields", "key", "expires_at"}. */
static int cmd_presign_post(ig_s3 *s3, char **argv, int argc)
{
    ig_s3_post_request req = {.key = argv[0], .content_type = argv[1], .max_bytes = strtoull(argv[2], NULL, 10),
                              .expires_s = atoll(argv[3])};
    json_t *out = NULL;
    ig_error err;
    ig_error_clear(&err);
    ig_err e = ig_s3_presign_post(s3, &req, argc > 4 ? atoll(argv[4]) : 0, &out, &err);
    if (!out)
        out = json_object();
    json_object_set_new(out, "err", json_string(ig_err_name(e)));
    json_object_set_new(out, "message", json_string(err.message));
    print_json(out);
    return e == IG_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return usage();
    if (ig_http_global_init() != IG_OK)
        return 2;
    ig_aws_context ctx;
    ig_error err;
    ig_error_clear(&err);
    if (ig_aws_context_init(&ctx, &err) != IG_OK) {
        fprintf(stderr, "setup: %s\n", err.message);
        ig_http_global_cleanup();
        return 2;
    }
    int rc = 2;
    ig_s3 *s3 = ig_s3_new(&ctx, argv[2], &err);
    if (!s3)
        fprintf(stderr, "setup: %s\n", err.message);
    else if (strcmp(argv[1], "put") == 0)
        rc = cmd_put(s3, argc - 3, argv + 3);
    else if (strcmp(argv[1], "head") == 0 && argc == 4)
        rc = cmd_head(s3, argv[3]);
    else if (strcmp(argv[1], "presign") == 0 && (argc == 5 || argc == 6))
        rc = cmd_presign(s3, argv[3], NULL, argv[4], argc == 6 ? argv[5] : NULL);
    else if (strcmp(argv[1], "presign-download") == 0 && (argc == 6 || argc == 7))
        rc = cmd_presign(s3, argv[3], argv[4], argv[5], argc == 7 ? argv[6] : NULL);
    else if (strcmp(argv[1], "get") == 0 && (argc == 5 || argc == 6))
        rc = cmd_get(s3, argv[3], argv[4], argc == 6 ? argv[5] : NULL);
    else if (strcmp(argv[1], "presign-post") == 0 && (argc == 7 || argc == 8))
        rc = cmd_presign_post(s3, argv + 3, argc - 3);
    else
        rc = usage();
    ig_s3_free(s3);
    ig_aws_context_free(&ctx);
    ig_http_global_cleanup();
    return rc;
}
