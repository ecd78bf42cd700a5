/* test_sigv4_properties.c - properties of the signer over many generated requests.
 *
 * A seeded generator builds requests from hostile alphabets (control bytes, non-ASCII,
 * '%', '?', '#', dot segments, odd header names and values, out-of-range lifetimes). For
 * every one: the signer either refuses with a code and a sentence or signs; whatever it
 * signs, ig_sigv4_verify accepts as received; a changed body or signature is refused; and
 * garbage Authorization headers are refused without crashing. Run under ASan/UBSan and
 * valgrind this is the "never crash, never sign what it cannot verify" check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/sigv4.h"
#include "testlib.h"

#define ITERATIONS 10000

static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static uint32_t below(uint32_t n)
{
    return n ? rnd() % n : 0;
}

/* A random string of up to max bytes drawn from alphabet (NUL never appears). */
static void rand_text(char *out, size_t max, const char *alphabet)
{
    size_t n = below((uint32_t)max);
    size_t a = strlen(alphabet);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[below((uint32_t)a)];
    out[n] = '\0';
}

/* Each field draws from a clean alphabet, and now and then from one with hostile bytes. */
static const char PATH_CHARS[] = "abcXYZ019/./..//%%%3A%20~-_:@!$&'()*+,;= \xc3\xbc\xe6\x97\xa5";
static const char PATH_HOSTILE[] = "a/%\x01\x7f?#\n";
static const char *const QUERY_TOKENS[] = {"a",   "B",        "0", "=", "&", "%2B",
                                           "%3d", "%7e",      "+", " ", "~", "-",
                                           ".",   "\xc3\xa9", "/", ";", ":", "%20"};
static const char QUERY_HOSTILE[] = "a=%%zz\x02#\r";
static const char NAME_CHARS[] = "abcdefxyzABC-_0123!#$%&'*+.^`|~";
static const char NAME_HOSTILE[] = "a :\x01\n(\"";
static const char VALUE_CHARS[] = "abc XYZ 012\t\t  ,;=\"'%/\xc3\xa9\x80\xff";
static const char VALUE_HOSTILE[] = "a\r\n\x7f\x01";

/* A random string of up to max_tokens tokens, within out_size bytes. */
static void rand_tokens(char *out, size_t out_size, size_t max_tokens)
{
    size_t n = below((uint32_t)max_tokens), o = 0;
    size_t count = sizeof QUERY_TOKENS / sizeof *QUERY_TOKENS;
    for (size_t i = 0; i < n; i++) {
        const char *t = QUERY_TOKENS[below((uint32_t)count)];
        if (o + strlen(t) + 1 > out_size)
            break;
        memcpy(out + o, t, strlen(t));
        o += strlen(t);
    }
    out[o] = '\0';
}

static const char *pick(const char *clean, const char *hostile)
{
    return below(12) ? clean : hostile;
}
static const char *const METHODS[] = {"GET", "PUT", "POST", "HEAD", "DELETE", "", "G T", "PATCH"};
static const char *const REGIONS[] = {"us-east-1", "eu-west-3", "", "US-EAST-1", "us east", "a"};
static const char *const SERVICES[] = {"s3", "bedrock", "execute-api", "", "bad service"};

typedef struct {
    char method[16];
    char path[64];
    char query[64];
    char names[6][24];
    char values[6][48];
    ig_header headers[16];
    size_t n_headers;
    char body[64];
    ig_sigv4_request req;
    ig_sigv4_params p;
    ig_sigv4_credentials creds;
} generated;

static void generate(generated *g)
{
    memset(g, 0, sizeof *g);
    snprintf(g->method, sizeof g->method, "%s", METHODS[below(16) ? below(5) : below(8)]);
    rand_text(g->path, 40, pick(PATH_CHARS, PATH_HOSTILE));
    if (below(16))
        g->path[0] = g->path[0] ? '/' : '\0';
    if (below(12))
        rand_tokens(g->query, sizeof g->query, 12);
    else
        rand_text(g->query, 40, QUERY_HOSTILE);
    g->headers[g->n_headers++] = (ig_header){"Host", "example.amazonaws.com"};
    size_t extra = below(6);
    for (size_t i = 0; i < extra; i++) {
        g->names[i][0] = 'x';
        rand_text(g->names[i] + 1, 16, pick(NAME_CHARS, NAME_HOSTILE));
        rand_text(g->values[i], 40, pick(VALUE_CHARS, VALUE_HOSTILE));
        g->headers[g->n_headers++] = (ig_header){g->names[i], g->values[i]};
    }
    rand_text(g->body, 60, "{}\":abc \x01\xff");
    g->req = (ig_sigv4_request){g->method,       g->path,      below(3) ? g->query : NULL,
                                g->headers,      g->n_headers, g->body,
                                strlen(g->body), NULL};
    g->p.region = below(20) ? REGIONS[below(2)] : REGIONS[below(6)];
    g->p.service = below(20) ? SERVICES[below(3)] : SERVICES[below(5)];
    g->p.time = below(20) ? (int64_t)1400000000 + below(400000000) : -(int64_t)below(5);
    g->p.s3_uri_rules = (int)below(2);
    g->p.sign_content_sha256 = (int)below(2);
    g->p.expires = below(8) ? 1 + (int64_t)below(604800) : (int64_t)below(3) * 604801 - 1;
    g->creds.access_key_id = below(20) ? "AKIDEXAMPLE" : "";
    g->creds.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    g->creds.session_token = below(2) ? "FQoGZXIvYXdzE+/=token" : NULL;
}

/* Names the verifier treats specially when a caller passes them as ordinary headers. */
static int has_special_header(const generated *g)
{
    for (size_t i = 0; i < g->n_headers; i++)
        if (strcasecmp(g->headers[i].name, "x-amz-security-token") == 0 ||
            strcasecmp(g->headers[i].name, "x-amz-content-sha256") == 0)
            return 1;
    return 0;
}

static int is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return 0;
    for (; *s; s++)
        if (!strchr("0123456789abcdef", *s))
            return 0;
    return 1;
}

static void test_sign_or_refuse_then_verify(void)
{
    int signed_count = 0, refused = 0, presigned = 0;
    for (int it = 0; it < ITERATIONS; it++) {
        generated g;
        generate(&g);
        ig_sigv4_signer *signer = NULL;
        ig_sigv4_result res;
        ig_sigv4_result_init(&res);
        ig_error err = {0};
        ig_err e = ig_sigv4_sign_headers(signer, &g.creds, &g.p, &g.req, &res, &err);
        if (e != IG_OK) {
            refused++;
            if ((unsigned)e >= IG_ERR__COUNT || err.message[0] == '\0')
                ig_test_fail(__FILE__, __LINE__, "iteration %d: code %d without a sentence", it,
                             (int)e);
            if (res.n_added || res.authorization.len)
                ig_test_fail(__FILE__, __LINE__, "iteration %d: refused but filled a result", it);
        } else {
            signed_count++;
            if (!is_hex64(res.signature))
                ig_test_fail(__FILE__, __LINE__, "iteration %d: signature %s", it, res.signature);
            /* What was signed verifies as received. */
            ig_header received[16];
            memcpy(received, g.headers, g.n_headers * sizeof *received);
            for (size_t i = 0; i < res.n_added; i++)
                received[g.n_headers + i] = res.added[i];
            ig_sigv4_request r = g.req;
            r.headers = received;
            r.n_headers = g.n_headers + res.n_added;
            if (!has_special_header(&g)) {
                ig_error verr = {0};
                ig_err v = ig_sigv4_verify(&g.creds, g.p.region, g.p.service, g.p.s3_uri_rules, &r,
                                           g.p.time, 900, &verr);
                if (v != IG_OK)
                    ig_test_fail(__FILE__, __LINE__,
                                 "iteration %d: signed request does not verify: %s\n  path "
                                 "\"%s\" query \"%s\"",
                                 it, verr.message, g.path, g.req.query ? g.req.query : "(null)");
                /* A changed signature character is refused. */
                char auth[512];
                size_t auth_index = r.n_headers - 1;
                snprintf(auth, sizeof auth, "%s", received[auth_index].value);
                char *hex = strstr(auth, "Signature=") + strlen("Signature=");
                size_t at = below(64);
                hex[at] = hex[at] == '0' ? '1' : '0';
                received[auth_index].value = auth;
                if (ig_sigv4_verify(&g.creds, g.p.region, g.p.service, g.p.s3_uri_rules, &r,
                                    g.p.time, 900, NULL) != IG_ERR_SIGNATURE)
                    ig_test_fail(__FILE__, __LINE__, "iteration %d: changed signature verified",
                                 it);
                received[auth_index] = res.added[res.n_added - 1];
                /* A changed body byte is refused. */
                if (r.body_len) {
                    char body[64];
                    memcpy(body, g.body, sizeof body);
                    body[below((uint32_t)r.body_len)] ^= 0x20;
                    r.body = body;
                    if (ig_sigv4_verify(&g.creds, g.p.region, g.p.service, g.p.s3_uri_rules, &r,
                                        g.p.time, 900, NULL) == IG_OK)
                        ig_test_fail(__FILE__, __LINE__, "iteration %d: changed body verified", it);
                }
            }
        }
        err.message[0] = '\0';
        e = ig_sigv4_presign(signer, &g.creds, &g.p, &g.req, &res, &err);
        if (e == IG_OK) {
            presigned++;
            const char *sig = strstr(ig_buf_cstr(&res.presigned_query), "X-Amz-Signature=");
            if (!sig || !is_hex64(sig + strlen("X-Amz-Signature=")))
                ig_test_fail(__FILE__, __LINE__, "iteration %d: presigned query %s", it,
                             ig_buf_cstr(&res.presigned_query));
            /* Nothing in the presigned query may need encoding again. */
            for (const char *c = ig_buf_cstr(&res.presigned_query); *c; c++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%=&",
                            *c))
                    ig_test_fail(__FILE__, __LINE__, "iteration %d: raw byte 0x%02x in query", it,
                                 (unsigned char)*c);
        } else if (err.message[0] == '\0') {
            ig_test_fail(__FILE__, __LINE__, "iteration %d: presign code %s without a sentence", it,
                         ig_err_name(e));
        }
        ig_sigv4_result_free(&res);
    }
    printf("  %d signed, %d refused, %d presigned\n", signed_count, refused, presigned);
    /* The generator must exercise both outcomes, or it proves nothing. */
    IG_CHECK(signed_count > ITERATIONS / 10);
    IG_CHECK(refused > ITERATIONS / 10);
}

static void test_garbage_authorization_is_refused(void)
{
    static const char AUTH_CHARS[] =
        "AWS4-HMAC-SHA256 Credential=/,;= SignedHeaders=host;x-amz-date"
        "Signature=0123456789abcdef aws4_request 20150830 us-east-1";
    ig_sigv4_credentials creds = {"AKIDEXAMPLE", "secret", NULL};
    for (int it = 0; it < ITERATIONS; it++) {
        char tail[140], auth[160];
        rand_text(tail, sizeof tail - 1, AUTH_CHARS);
        snprintf(auth, sizeof auth, "%s%s", below(2) ? "AWS4-HMAC-SHA256 " : "", tail);
        ig_header h[] = {
            {"Host", "h"}, {"X-Amz-Date", "20150830T123600Z"}, {"Authorization", auth}};
        ig_sigv4_request req = {"GET", "/", NULL, h, 3, NULL, 0, NULL};
        ig_error err = {0};
        ig_err e = ig_sigv4_verify(&creds, "us-east-1", "service", 0, &req, 1440938160, 900, &err);
        if (e == IG_OK)
            ig_test_fail(__FILE__, __LINE__, "garbage verified: %s", auth);
        else if (err.message[0] == '\0')
            ig_test_fail(__FILE__, __LINE__, "no sentence for %s", auth);
    }
}

int main(void)
{
    IG_RUN(test_sign_or_refuse_then_verify);
    IG_RUN(test_garbage_authorization_is_refused);
    return ig_test_finish("sigv4 properties");
}
