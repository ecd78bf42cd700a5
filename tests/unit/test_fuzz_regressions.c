/* test_fuzz_regressions.c - replays every fuzz seed (tests/fuzz/corpus/<target>/) and every
 * input that once broke a target (tests/fuzz/regressions/<target>/) through the same target
 * bodies the fuzzers run (tests/fuzz/targets.h), without libFuzzer, so the ordinary build and
 * the sanitizer build both catch a parser that regresses. A broken promise aborts the test
 * after naming the file. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/targets.h"
#include "../fuzz/target_multipart.h"
#include "../fuzz/target_image.h"
#include "testlib.h"

typedef int (*fz_target)(const uint8_t *, size_t);

/* Feeds every regular file of <source>/tests/fuzz/<kind>/<name>/ to fn; returns how many. */
static size_t replay_dir(const char *kind, const char *name, fz_target fn)
{
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/%s/%s", ig_test_source_dir(), kind, name);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t len = 0;
        char *data = ig_test_read_file(path, &len);
        if (!data) {
            ig_test_fail(__FILE__, __LINE__, "cannot read %s", path);
            continue;
        }
        fprintf(stderr, "  replaying %s/%s/%s\n", kind, name, de->d_name);
        /* An exact-size copy, so ASan sees a read past the input's end. */
        uint8_t *exact = malloc(len ? len : 1);
        IG_CHECK(exact != NULL);
        if (len)
            memcpy(exact, data, len);
        IG_CHECK_EQ_INT(fn(exact, len), 0);
        free(exact);
        free(data);
        n++;
    }
    closedir(d);
    return n;
}

static void replay(const char *name, fz_target fn)
{
    size_t seeds = replay_dir("corpus", name, fn);
    size_t regressions = replay_dir("regressions", name, fn);
    fprintf(stderr, "  %s: %zu seeds, %zu regressions\n", name, seeds, regressions);
    IG_CHECK(seeds > 0);
}

static void test_base64(void) { replay("base64", fuzz_base64); }
static void test_extract(void) { replay("extract", fuzz_extract); }
static void test_s3_error(void) { replay("s3_error", fuzz_s3_error); }
static void test_sigv4_verify(void) { replay("sigv4_verify", fuzz_sigv4_verify); }
static void test_gateway_event(void) { replay("gateway_event", fuzz_gateway_event); }
static void test_multipart(void) { replay("multipart", fuzz_multipart); }
static void test_image(void) { replay("image", fuzz_image); }

static void test_event(void)
{
    setenv("IMAGEGEN_SOURCE_DIR", ig_test_source_dir(), 0);
    fuzz_event_init();
    replay("event", fuzz_event);
    fuzz_event_fini();
}

/* The seeds of the SigV4 target are signed requests: at least one must verify, or the fuzzer
 * never gets past the signature check. */
static void test_sigv4_seeds_verify(void)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/sigv4_verify/bedrock_post", ig_test_source_dir());
    size_t len = 0;
    char *data = ig_test_read_file(path, &len);
    IG_CHECK(data != NULL);
    if (!data)
        return;
    fz_lines f;
    fz_split(&f, (const uint8_t *)data, len, 3, 1);
    ig_header h[FZ_MAX_LINES];
    size_t n = 0;
    for (size_t i = 3; i < f.n && f.line[i][0]; i++) {
        char *colon = strchr(f.line[i], ':');
        IG_CHECK(colon != NULL);
        if (!colon)
            continue;
        *colon = '\0';
        h[n].name = f.line[i];
        h[n].value = colon + 2;
        n++;
    }
    static const ig_sigv4_credentials creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};
    ig_sigv4_request req = {f.line[0], f.line[1], f.line[2], h, n, f.body, f.body_len, NULL};
    ig_error err;
    ig_error_clear(&err);
    IG_CHECK_EQ_INT(ig_sigv4_verify(&creds, "us-east-1", "bedrock", 0, &req, FZ_SIGV4_NOW, 900, &err), IG_OK);
    free(f.copy);
    free(data);
}

int main(void)
{
    IG_RUN(test_base64);
    IG_RUN(test_extract);
    IG_RUN(test_s3_error);
    IG_RUN(test_sigv4_verify);
    IG_RUN(test_sigv4_seeds_verify);
    IG_RUN(test_gateway_event);
    IG_RUN(test_multipart);
    IG_RUN(test_image);
    IG_RUN(test_event);
    return ig_test_finish("fuzz_regressions");
}
