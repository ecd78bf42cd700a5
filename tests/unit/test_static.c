/* test_static.c - the web page's files (handler/static.c): which files of a directory are
 * served, by which names, and the answers' headers (type, ETag and 304, caching, the CSP). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/hash.h"
#include "core/buf.h"
#include "handler/static.h"
#include "testlib.h"

static char dir[256];

static void put(const char *name, const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fwrite(data, 1, len, f);
    fclose(f);
}

static void put_str(const char *name, const char *text)
{
    put(name, text, strlen(text));
}

/* A directory with the page's files and everything that must not be served. */
static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/imagegen-static-XXXXXX");
    if (!mkdtemp(dir))
        return;
    put_str("index.html", "<!doctype html><title>t</title>");
    put_str("app.js", "\"use strict\";\n");
    put_str("app.css", "body{}\n");
    put_str(".env", "SECRET=1\n");
    put_str("README.md", "not served\n");
    put_str("App.js", "upper case\n");
    put_str("notes", "no extension\n");
    put("bad.js", "\xff\xfe", 2); /* not UTF-8 */
    char big[IG_STATIC_MAX_BYTES + 1];
    memset(big, 'a', sizeof big);
    put("big.css", big, sizeof big);
    char path[512], target[512];
    snprintf(target, sizeof target, "%s/app.js", dir);
    snprintf(path, sizeof path, "%s/link.js", dir);
    if (symlink(target, path) != 0)
        IG_CHECK(!"symlink");
    snprintf(path, sizeof path, "%s/sub.js", dir);
    mkdir(path, 0755);
}

static void remove_dir(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("  could not remove %s\n", dir);
}

/* The proxy response for name, parsed; NULL when the file is unknown. */
static json_t *answer(const ig_static *s, const char *name, const char *inm, int *status)
{
    ig_buf out;
    ig_buf_init(&out, 8u << 20);
    ig_error err;
    ig_error_clear(&err);
    int r = ig_static_answer(s, name, inm, &out, status, &err);
    json_t *j = r == 1 ? json_loads(ig_buf_cstr(&out), 0, NULL) : NULL;
    if (r < 0)
        printf("  error: %s\n", err.message);
    ig_buf_free(&out);
    return j;
}

static const char *header(json_t *resp, const char *name)
{
    return json_string_value(json_object_get(json_object_get(resp, "headers"), name));
}

static void test_serves_only_plain_names_of_regular_utf8_files(void)
{
    ig_error err;
    ig_static *s = ig_static_load(dir, "http://127.0.0.1:4569", &err);
    IG_CHECK(s != NULL);
    IG_CHECK_EQ_INT(ig_static_count(s), 3); /* index.html, app.js, app.css */
    int status = 0;
    const char *refused[] = {".env", "README.md", "App.js", "notes", "bad.js", "big.css", "link.js", "sub.js",
                             "../app.js", "app.js/", "", "index.html\n"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        json_t *r = answer(s, refused[i], NULL, &status);
        if (r)
            ig_test_fail(__FILE__, __LINE__, "%s is served", refused[i]);
        json_decref(r);
    }
    ig_static_free(s);
}

static void test_answers_type_etag_cache_and_body(void)
{
    ig_error err;
    ig_static *s = ig_static_load(dir, "http://127.0.0.1:4569", &err);
    int status = 0;
    json_t *r = answer(s, "app.js", NULL, &status);
    IG_CHECK_EQ_INT(status, 200);
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(r, "statusCode")), 200);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(r, "body")), "\"use strict\";\n");
    IG_CHECK_EQ_STR(header(r, "Content-Type"), "text/javascript; charset=utf-8");
    IG_CHECK_EQ_STR(header(r, "Cache-Control"), "no-cache");
    IG_CHECK_EQ_STR(header(r, "X-Content-Type-Options"), "nosniff");
    char hex[65], etag[32];
    ig_sha256_hex("\"use strict\";\n", 14, hex);
    snprintf(etag, sizeof etag, "\"%.20s\"", hex);
    IG_CHECK_EQ_STR(header(r, "ETag"), etag);
    json_decref(r);

    r = answer(s, "index.html", NULL, &status);
    IG_CHECK_EQ_STR(header(r, "Content-Type"), "text/html; charset=utf-8");
    IG_CHECK_EQ_STR(header(r, "Cache-Control"), "no-cache");
    json_decref(r);
    r = answer(s, "app.css", NULL, &status);
    IG_CHECK_EQ_STR(header(r, "Content-Type"), "text/css; charset=utf-8");
    json_decref(r);
    ig_static_free(s);
}

static void test_if_none_match_answers_304_without_a_body(void)
{
    ig_error err;
    ig_static *s = ig_static_load(dir, "", &err);
    int status = 0;
    json_t *r = answer(s, "app.css", NULL, &status);
    char etag[32];
    snprintf(etag, sizeof etag, "%s", header(r, "ETag"));
    json_decref(r);
    char list[96];
    snprintf(list, sizeof list, "\"0000\", W/%s", etag);
    const char *fresh[] = {etag, list, "*"};
    for (size_t i = 0; i < 3; i++) {
        r = answer(s, "app.css", fresh[i], &status);
        IG_CHECK_EQ_INT(status, 304);
        IG_CHECK_EQ_STR(json_string_value(json_object_get(r, "body")), "");
        IG_CHECK_EQ_STR(header(r, "ETag"), etag);
        json_decref(r);
    }
    r = answer(s, "app.css", "\"0000\"", &status);
    IG_CHECK_EQ_INT(status, 200);
    json_decref(r);
    ig_static_free(s);
}

static void test_csp_allows_the_bucket_and_nothing_inline(void)
{
    ig_error err;
    ig_static *s = ig_static_load(dir, "https://b.s3.us-west-2.amazonaws.com", &err);
    IG_CHECK_EQ_STR(ig_static_csp(s),
                    "default-src 'none'; script-src 'self'; style-src 'self'; "
                    "img-src 'self' blob: data: https://b.s3.us-west-2.amazonaws.com; "
                    "connect-src 'self' https://b.s3.us-west-2.amazonaws.com; form-action 'self'; frame-src 'none'; "
                    "base-uri 'none'; frame-ancestors 'none'");
    int status = 0;
    json_t *r = answer(s, "index.html", NULL, &status);
    IG_CHECK_EQ_STR(header(r, "Content-Security-Policy"), ig_static_csp(s));
    json_decref(r);
    ig_static_free(s);
    s = ig_static_load(dir, NULL, &err);
    IG_CHECK(strstr(ig_static_csp(s), "img-src 'self' blob: data:; connect-src 'self';") != NULL);
    ig_static_free(s);
}

static void test_missing_directory_serves_nothing(void)
{
    ig_error err;
    ig_static *s = ig_static_load("/nonexistent/imagegen-web", "", &err);
    IG_CHECK(s != NULL);
    IG_CHECK_EQ_INT(ig_static_count(s), 0);
    int status = 0;
    IG_CHECK(answer(s, "index.html", NULL, &status) == NULL);
    ig_static_free(s);
}

static void test_web_dir_from_env(void)
{
    char buf[4096];
    ig_error err;
    setenv("IMAGEGEN_WEB_DIR", dir, 1);
    IG_CHECK_EQ_INT(ig_static_dir_from_env(buf, sizeof buf, &err), IG_OK);
    IG_CHECK_EQ_STR(buf, dir);
    setenv("IMAGEGEN_WEB_DIR", "/nonexistent/imagegen-web", 1);
    IG_CHECK_EQ_INT(ig_static_dir_from_env(buf, sizeof buf, &err), IG_ERR_CONFIG);
    IG_CHECK(strstr(err.message, "IMAGEGEN_WEB_DIR") != NULL);
    unsetenv("IMAGEGEN_WEB_DIR");
    char web[600];
    snprintf(web, sizeof web, "%s/web", dir);
    mkdir(web, 0755);
    setenv("LAMBDA_TASK_ROOT", dir, 1);
    IG_CHECK_EQ_INT(ig_static_dir_from_env(buf, sizeof buf, &err), IG_OK);
    IG_CHECK_EQ_STR(buf, web);
    unsetenv("LAMBDA_TASK_ROOT");
}

int main(void)
{
    make_dir();
    IG_RUN(test_serves_only_plain_names_of_regular_utf8_files);
    IG_RUN(test_answers_type_etag_cache_and_body);
    IG_RUN(test_if_none_match_answers_304_without_a_body);
    IG_RUN(test_csp_allows_the_bucket_and_nothing_inline);
    IG_RUN(test_missing_directory_serves_nothing);
    IG_RUN(test_web_dir_from_env);
    remove_dir();
    return ig_test_finish("static");
}
