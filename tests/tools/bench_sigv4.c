/* bench_sigv4.c - measures SigV4 header signing and S3 presigning on one core.
 *
 * Every invocation signs one Bedrock InvokeModel call and one PutObject per image, and
 * presigns one GET URL per image, so signing speed bounds how cheap an invocation can be.
 * The requests are shaped like the runtime's own (Titan body, Bedrock path with an encoded
 * ':', S3 path-style key) and use a shared signer, as the runtime does, so the signing key is
 * derived once per day and scope. Prints the median rate of several timed rounds, and the
 * rate without the key cache for comparison.
 *
 *   bench_sigv4 [milliseconds per round, default 300] [rounds, default 7]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"
#include "core/clock.h"

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

static const char titan_body[] =
    "{\"taskType\":\"TEXT_IMAGE\",\"textToImageParams\":{\"text\":\"a red coffee cup on a wooden "
    "table\"},\"imageGenerationConfig\":{\"numberOfImages\":1,\"quality\":\"standard\",\"width\":1024,"
    "\"height\":1024,\"cfgScale\":8,\"seed\":1899196683}}";

static const ig_sigv4_credentials creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};

typedef ig_err (*sign_fn)(ig_sigv4_signer *, const ig_sigv4_credentials *, const ig_sigv4_params *,
                          const ig_sigv4_request *, ig_sigv4_result *, ig_error *);

/* Operations per second: the median of `rounds` rounds of about `round_ms` each. */
static double measure(sign_fn fn, ig_sigv4_signer *signer, const ig_sigv4_params *p, const ig_sigv4_request *req,
                      int round_ms, int rounds, char *last_sig)
{
    double rates[64];
    ig_sigv4_result res;
    ig_sigv4_result_init(&res);
    ig_error err;
    for (int r = 0; r < rounds; r++) {
        long n = 0;
        double t0 = ig_mono_s(), t = t0;
        while (t - t0 < round_ms / 1000.0) {
            for (int i = 0; i < 256; i++) {
                if (fn(signer, &creds, p, req, &res, &err) != IG_OK) {
                    fprintf(stderr, "bench_sigv4: signing failed: %s\n", err.message);
                    exit(1);
                }
            }
            n += 256;
            t = ig_mono_s();
        }
        rates[r] = (double)n / (t - t0);
    }
    memcpy(last_sig, res.signature, sizeof res.signature);
    ig_sigv4_result_free(&res);
    return median(rates, rounds);
}

int main(int argc, char **argv)
{
    int round_ms = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 300;
    int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 7;
    if (round_ms < 10 || round_ms > 60000 || rounds < 1 || rounds > 64) {
        fprintf(stderr, "usage: bench_sigv4 [milliseconds per round 10..60000] [rounds 1..64]\n");
        return 2;
    }
    ig_sigv4_signer *signer = ig_sigv4_signer_new();
    if (!signer) {
        fprintf(stderr, "bench_sigv4: out of memory\n");
        return 1;
    }
    int64_t now = 1764428400; /* a fixed time keeps the work identical across runs */

    ig_header bedrock_headers[] = {
        {"Host", "bedrock-runtime.us-east-1.amazonaws.com"},
        {"Content-Type", "application/json"},
        {"Accept", "application/json"},
    };
    ig_sigv4_request invoke = {
        .method = "POST", .path = "/model/amazon.titan-image-generator-v1/invoke", .query = NULL,
        .headers = bedrock_headers, .n_headers = 3, .body = titan_body, .body_len = sizeof titan_body - 1,
        .payload_hash = NULL};
    ig_sigv4_params bedrock = {.region = "us-east-1", .service = "bedrock", .time = now};

    ig_header s3_headers[] = {{"Host", "imagegen-images.s3.us-east-1.amazonaws.com"}};
    ig_sigv4_request get = {
        .method = "GET", .path = "/images/2026/11/29/0b6f3c9e-3f0c-4a39-9d59-8a0c2f7e4b11.png", .query = NULL,
        .headers = s3_headers, .n_headers = 1, .payload_hash = "UNSIGNED-PAYLOAD"};
    ig_sigv4_params presign = {.region = "us-east-1", .service = "s3", .time = now, .s3_uri_rules = 1,
                               .expires = 3600};

    char sig[65];
    double sign_cached = measure(ig_sigv4_sign_headers, signer, &bedrock, &invoke, round_ms, rounds, sig);
    double sign_uncached = measure(ig_sigv4_sign_headers, NULL, &bedrock, &invoke, round_ms, rounds, sig);
    double presign_cached = measure(ig_sigv4_presign, signer, &presign, &get, round_ms, rounds, sig);
    printf("sigv4 sign (Bedrock InvokeModel, %zu-byte body): %.0f signatures/s (median of %d rounds)\n",
           sizeof titan_body - 1, sign_cached, rounds);
    printf("sigv4 sign without the key cache: %.0f signatures/s\n", sign_uncached);
    printf("sigv4 presign (S3 GET URL): %.0f URLs/s\n", presign_cached);
    ig_sigv4_signer_free(signer);
    return 0;
}
