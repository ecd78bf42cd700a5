/* test_extract.c - finding the base64 images and the per-image reasons in a model's answer:
 * in place when it can, through a tree when strings are escaped, and never past a malformed
 * or too deep answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/extract.h"
#include "testlib.h"

/* Deep nesting beside the images: the in-place walk stops at 64 levels and hands the answer to
 * the parser, which accepts up to its own limit (2048) and refuses beyond; nothing recurses
 * without bound. */
static void deep_answer(char *body, size_t cap, int depth, size_t *len)
{
    size_t n = (size_t)snprintf(body, cap, "{\"images\":[\"QQ==\"],\"x\":");
    for (int i = 0; i < depth; i++)
        body[n++] = '[';
    for (int i = 0; i < depth; i++)
        body[n++] = ']';
    body[n++] = '}';
    body[n] = '\0';
    *len = n;
}

static void test_extract_titan_and_sdxl_paths(void)
{
    ig_extracted x;
    ig_error err;
    const char *titan = "{\"images\":[\"QUJD\",\"REVG\"]}";
    IG_CHECK_EQ_INT(ig_extract_images(titan, strlen(titan), "images", "error", &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 2);
    IG_CHECK_EQ_INT(x.b64_len[1], 4);
    IG_CHECK_EQ_MEM(x.b64[1], "REVG", 4);
    IG_CHECK(x.b64[1] > titan && x.b64[1] < titan + strlen(titan)); /* in place, no copy */
    IG_CHECK(x.doc == NULL);
    IG_CHECK(x.error == NULL);
    ig_extracted_free(&x);
    const char *sdxl = "{\"result\":\"success\",\"artifacts\":[{\"seed\":1,\"base64\":\"QUJD\",\"finishReason\":\"SUCCESS\"}]}";
    IG_CHECK_EQ_INT(ig_extract_images(sdxl, strlen(sdxl), "artifacts[].base64", NULL, &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 1);
    IG_CHECK_EQ_MEM(x.b64[0], "QUJD", 4);
    ig_extracted_free(&x);
    const char *filtered = "{\"images\":[],\"error\":\"blocked by our content filters\"}";
    IG_CHECK_EQ_INT(ig_extract_images(filtered, strlen(filtered), "images", "error", &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 0);
    IG_CHECK_EQ_STR(x.error, "blocked by our content filters");
    ig_extracted_free(&x);
}

static void test_extract_escaped_strings_are_unescaped(void)
{
    ig_extracted x;
    ig_error err;
    /* "\/" is a legal escape of '/', which base64 holds; keys and the error may be escaped too */
    const char *body = "{\"other\":{\"deep\":[1,2.5e3,true,null]},\"images\":[\"QQ\\/D\",\"QQ==\"],"
                       "\"error\":\"filtered \\\"output\\\"\"}";
    IG_CHECK_EQ_INT(ig_extract_images(body, strlen(body), "images", "error", &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 2);
    IG_CHECK_EQ_INT(x.b64_len[0], 4);
    IG_CHECK_EQ_MEM(x.b64[0], "QQ/D", 4);
    IG_CHECK_EQ_STR(x.error, "filtered \"output\"");
    ig_extracted_free(&x);
    const char *skipping = "{\"a\":\"x\\\"y\",\"images\":[\"QQ==\"],\"b\":[{\"c\":\"\\\\\"}]}";
    IG_CHECK_EQ_INT(ig_extract_images(skipping, strlen(skipping), "images", NULL, &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 1);
    IG_CHECK(x.doc == NULL); /* escapes outside the images need no tree */
    ig_extracted_free(&x);
}

static void test_extract_stability_finish_reasons(void)
{
    ig_extracted x;
    ig_error err;
    const char *ok = "{\"seeds\":[2130420379],\"finish_reasons\":[null],\"images\":[\"QUJD\"]}";
    IG_CHECK_EQ_INT(ig_extract_images(ok, strlen(ok), "images", "finish_reasons", &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 1);
    IG_CHECK_EQ_INT(x.n_reasons, 1);
    IG_CHECK(x.reasons[0] == NULL);
    IG_CHECK(x.error == NULL);
    IG_CHECK(x.doc == NULL);
    ig_extracted_free(&x);
    /* AWS's example of a filtered answer: no images, no seeds, one reason. */
    const char *prompt = "{\"finish_reasons\":[\"Filter reason: prompt\"]}";
    IG_CHECK_EQ_INT(ig_extract_images(prompt, strlen(prompt), "images", "finish_reasons", &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 0);
    IG_CHECK_EQ_INT(x.n_reasons, 1);
    IG_CHECK_EQ_STR(x.reasons[0], "Filter reason: prompt");
    IG_CHECK_EQ_STR(x.error, "Filter reason: prompt");
    ig_extracted_free(&x);
    /* Reasons after the images, mixed, one escaped: the tree reads them the same way. */
    const char *mixed = "{\"images\":[\"QUJD\",\"REVG\"],\"finish_reasons\":[null,\"Inference \\\"error\\\"\"]}";
    IG_CHECK_EQ_INT(ig_extract_images(mixed, strlen(mixed), "images", "finish_reasons", &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 2);
    IG_CHECK_EQ_INT(x.n_reasons, 2);
    IG_CHECK(x.reasons[0] == NULL);
    IG_CHECK_EQ_STR(x.reasons[1], "Inference \"error\"");
    IG_CHECK_EQ_STR(x.error, "Inference \"error\"");
    ig_extracted_free(&x);
    /* A non-string reason counts as none; too many reasons are refused. */
    const char *odd = "{\"images\":[\"QUJD\"],\"finish_reasons\":[7]}";
    IG_CHECK_EQ_INT(ig_extract_images(odd, strlen(odd), "images", "finish_reasons", &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.n_reasons, 1);
    IG_CHECK(x.reasons[0] == NULL);
    ig_extracted_free(&x);
    char many[512] = "{\"finish_reasons\":[null";
    for (int i = 0; i < IG_EXTRACT_MAX_IMAGES; i++)
        strcat(many, ",null");
    strcat(many, "]}");
    IG_CHECK_EQ_INT(ig_extract_images(many, strlen(many), "images", "finish_reasons", &x, &err), IG_ERR_PARSE);
    IG_CHECK(strstr(err.message, "reasons") != NULL);
    ig_extracted_free(&x);
}

/* A string of many escape pairs before its closing quote is read in one pass: the scan finds the
 * quote once instead of once per escape (it was quadratic). The answer still has to be exact. */
static void test_extract_escape_heavy_string(void)
{
    size_t pairs = 200000;
    size_t len = pairs * 2 + 64;
    char *body = malloc(len);
    size_t n = (size_t)snprintf(body, len, "{\"note\":\"");
    for (size_t i = 0; i < pairs; i++) {
        body[n++] = '\\';
        body[n++] = '\\';
    }
    n += (size_t)snprintf(body + n, len - n, "\",\"images\":[\"QUJD\"]}");
    ig_extracted x;
    ig_error err;
    IG_CHECK_EQ_INT(ig_extract_images(body, n, "images", "error", &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 1);
    IG_CHECK_EQ_MEM(x.b64[0], "QUJD", 4);
    ig_extracted_free(&x);
    free(body);
}

static void test_extract_rejects_garbage(void)
{
    ig_extracted x;
    ig_error err;
    const char *cases[] = {"", "{\"images\":[", "[1]", "{\"images\":[1]}", "{\"images\":{\"a\":1}}",
                           "{\"images\":[\"QQ==\"]} trailing", "{\"images\":[\"QQ==\"],\"x\":tru}",
                           "{\"images\":[\"QQ==\"],\"x\":}", "{\"images\":[\"QQ==\",]}", "{\"images\" [\"QQ==\"]}",
                           "{\"images\":[\"QQ==", "{\"images\":[\"QQ==\"]", NULL};
    for (int i = 0; cases[i]; i++)
        IG_CHECK_EQ_INT(ig_extract_images(cases[i], strlen(cases[i]), "images", NULL, &x, &err), IG_ERR_PARSE);
    const char *ok = "{\"images\":[\"QQ==\"]}";
    const char *paths[] = {"", ".", "images.", "a..b", "a[]b", NULL};
    for (int i = 0; paths[i]; i++)
        IG_CHECK_EQ_INT(ig_extract_images(ok, strlen(ok), paths[i], NULL, &x, &err), IG_ERR_INVALID_ARG);
}

static void test_extract_depth_is_bounded(void)
{
    ig_extracted x;
    ig_error err;
    static char body[16384];
    size_t n;
    deep_answer(body, sizeof body, 200, &n);
    IG_CHECK_EQ_INT(ig_extract_images(body, n, "images", NULL, &x, &err), IG_OK);
    IG_CHECK_EQ_INT(x.count, 1);
    ig_extracted_free(&x);
    deep_answer(body, sizeof body, 5000, &n);
    IG_CHECK_EQ_INT(ig_extract_images(body, n, "images", NULL, &x, &err), IG_ERR_PARSE);
}

int main(void)
{
    IG_RUN(test_extract_titan_and_sdxl_paths);
    IG_RUN(test_extract_escaped_strings_are_unescaped);
    IG_RUN(test_extract_stability_finish_reasons);
    IG_RUN(test_extract_escape_heavy_string);
    IG_RUN(test_extract_rejects_garbage);
    IG_RUN(test_extract_depth_is_bounded);
    return ig_test_finish("extract");
}
