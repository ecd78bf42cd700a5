/* aws_rounds.c - repeats the AWS work of a warm container many times, so that a leak checker
 * (valgrind, ASan) sees every allocation path of the client: each round signs a Bedrock
 * request, uploads an object with metadata to S3 (s3rver in the tests) and presigns its URL;
 * every tenth round also reads it back with HeadObject. The edits' S3 work comes every fourth
 * round: the object read back with GetObject as an upload is fetched, and a presigned POST form
 * signed (POST /uploads); every twentieth, a read with a cap below the object's size (refused
 * before its body is read) and a read of a key that is not there.
 *
 *   aws_rounds BUCKET [ROUNDS]      (AWS_* variables as usual; default 1000 rounds)
 *
 * Prints {"rounds":N,"failures":M,"seconds":S} and exits non-zero when any round failed.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/s3.h"
#include "core/clock.h"

static int sign_bedrock(ig_aws_context *ctx, int round)
{
    char body[128];
    snprintf(body, sizeof body, "{\"taskType\":\"TEXT_IMAGE\",\"textToImageParams\":{\"text\":\"round %d\"}}", round);
    const ig_header headers[] = {{"Host", "bedrock-runtime.us-east-1.amazonaws.com"},
                                 {"Content-Type", "application/json"},
                                 {"Accept", "application/json"}};
    static const ig_aws_service bedrock = {.signing_name = "bedrock"};
    ig_aws_signed s;
    ig_aws_signed_init(&s);
    ig_error err;
    ig_err e = ig_aws_sign(ctx, &bedrock, "POST", "/model/amazon.titan-image-generator-v2%3A0/invoke", headers, 3,
                           body, strlen(body), NULL, &s, &err);
    ig_aws_signed_free(&s);
    return e == IG_OK;
}

static int put_presign_head(ig_s3 *s3, int round)
{
    char key[64], data[256];
    snprintf(key, sizeof key, "rounds/%04d caf\xc3\xa9.png", round);
    memset(data, 'a' + round % 26, sizeof data);
    ig_header meta[] = {{"prompt", "line one\r\nline two \xe2\x98\x95"}, {"round", "plain"}};
    ig_s3_put_request put = {.key = key, .data = data, .len = sizeof data, .content_type = "image/png",
                             .cache_control = "private", .metadata = meta, .n_metadata = 2};
    ig_s3_result res;
    if (ig_s3_put_objects(s3, &put, 1, ig_now_ms() + 30000, &res) != IG_OK) {
        fprintf(stderr, "round %d: put: %s %s %s\n", round, ig_err_name(res.err), res.code, res.message);
        return 0;
    }
    ig_buf url;
    ig_buf_init(&url, 0);
    ig_error err;
    ig_err e = ig_s3_presign_get(s3, key, 3600, 0, &url, &err);
    ig_buf_free(&url);
    if (e != IG_OK)
        return 0;
    if (round % 10 == 0) {
        ig_s3_head_result h;
        ig_s3_head_result_init(&h);
        e = ig_s3_head_object(s3, key, ig_now_ms() + 30000, &h);
        const char *p = ig_header_list_get(&h.metadata, "prompt");
        int ok = e == IG_OK && h.content_length == sizeof data && p && strcmp(p, meta[0].value) == 0;
        if (!ok)
            fprintf(stderr,
                    "round %d: head did not return what was put: %s, status %ld, %s %s, %d attempt(s), "
                    "stop %s, length %llu, prompt %s\n",
                    round, ig_err_name(e), h.status, h.code, h.message, h.attempts,
                    h.stop_reason ? h.stop_reason : "-", (unsigned long long)h.content_length,
                    p ? "returned" : "missing");
        ig_s3_head_result_free(&h);
        if (!ok)
            return 0;
    }
    return 1;
}

/* An upload fetched for an edit: whole, past a cap, and absent. */
static int get_capped_absent(ig_s3 *s3, int round)
{
    char key[64];
    snprintf(key, sizeof key, "rounds/%04d caf\xc3\xa9.png", round);
    ig_s3_get_result r;
    ig_buf body;
    ig_buf_init(&body, 0);
    ig_err e = ig_s3_get_object(s3, key, 1024 * 1024, ig_now_ms() + 30000, &r, &body);
    int ok = e == IG_OK && body.len == 256 && ((const unsigned char *)body.data)[0] == 'a' + round % 26 &&
             strcmp(r.content_type, "image/png") == 0;
    if (ok && round % 20 == 0) {
        e = ig_s3_get_object(s3, key, 100, ig_now_ms() + 30000, &r, &body);
        ok = e == IG_ERR_TOO_LARGE && body.len == 0;
        e = ig_s3_get_object(s3, "rounds/absent.png", 1024, ig_now_ms() + 30000, &r, &body);
        ok = ok && e == IG_ERR_AWS && r.status == 404;
    }
    if (!ok)
        fprintf(stderr, "round %d: get did not answer as expected: %s, status %ld, %s %s, %zu bytes\n", round,
                ig_err_name(e), r.status, r.code, r.message, body.len);
    ig_buf_free(&body);
    return ok;
}

/* The form of POST /uploads. */
static int presign_post(ig_s3 *s3, int round)
{
    char key[80];
    snprintf(key, sizeof key, "uploads/0123456789abcdef/%08d-0000-4000-8000-000000000000.png", round);
    ig_s3_post_request pr = {.key = key, .content_type = "image/png", .max_bytes = 18000000, .expires_s = 900};
    json_t *form = NULL;
    ig_error err;
    ig_err e = ig_s3_presign_post(s3, &pr, 0, &form, &err);
    int ok = e == IG_OK && json_is_object(json_object_get(form, "fields"));
    if (!ok)
        fprintf(stderr, "round %d: presign_post: %s %s\n", round, ig_err_name(e), e ? err.message : "no fields");
    json_decref(form);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: aws_rounds BUCKET [ROUNDS]\n");
        return 2;
    }
    int rounds = argc == 3 ? atoi(argv[2]) : 1000;
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
    ig_s3 *s3 = ig_s3_new(&ctx, argv[1], &err);
    int failures = 0;
    double t0 = ig_mono_s();
    for (int i = 0; s3 && i < rounds; i++)
        if (!sign_bedrock(&ctx, i) || !put_presign_head(s3, i) ||
            (i % 4 == 0 && (!get_capped_absent(s3, i) || !presign_post(s3, i))))
            failures++;
    if (!s3) {
        fprintf(stderr, "setup: %s\n", err.message);
        failures = rounds ? rounds : 1;
    }
    printf("{\"rounds\":%d,\"failures\":%d,\"seconds\":%.3f}\n", rounds, failures, ig_mono_s() - t0);
    ig_s3_free(s3);
    ig_aws_context_free(&ctx);
    ig_http_global_cleanup();
    return failures ? 1 : 0;
}
