/* hash.c - SHA-256 and HMAC-SHA256 through OpenSSL's EVP interface.
 *
 * OpenSSL 3 looks an algorithm up by name on every call that passes EVP_sha256() or uses the
 * one-shot HMAC(); SigV4 signs with seven HMACs and two digests per request, and that lookup
 * cost a third of the signing time. The algorithm is fetched once here, and HMAC is built
 * from two digests (RFC 2104) over it. */
#include "codec/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#define IG_SHA256_BLOCK 64

static EVP_MD *ig_sha256_fetched;
static pthread_once_t ig_sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    ig_sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256_md(void)
{
    pthread_once(&ig_sha256_once, sha256_fetch);
    return ig_sha256_fetched ? ig_sha256_fetched : EVP_sha256();
}

void ig_sha256(const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 32;
    EVP_Digest(data, len, out, &n, sha256_md(), NULL);
}

void ig_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[32];
    ig_sha256(data, len, d);
    ig_hex_encode(d, 32, out);
}

void ig_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    unsigned char out[32])
{
    unsigned char k[IG_SHA256_BLOCK] = {0}, pad[IG_SHA256_BLOCK], inner[32];
    if (key_len > IG_SHA256_BLOCK)
        ig_sha256(key, key_len, k);
    else if (key_len)
        memcpy(k, key, key_len);
    const EVP_MD *md = sha256_md();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 32;
    for (int i = 0; i < IG_SHA256_BLOCK; i++)
        pad[i] = (unsigned char)(k[i] ^ 0x36);
    int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, pad, sizeof pad) &&
             EVP_DigestUpdate(ctx, data, len) && EVP_DigestFinal_ex(ctx, inner, &n);
    for (int i = 0; i < IG_SHA256_BLOCK; i++)
        pad[i] = (unsigned char)(k[i] ^ 0x5c);
    ok = ok && EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, pad, sizeof pad) &&
         EVP_DigestUpdate(ctx, inner, sizeof inner) && EVP_DigestFinal_ex(ctx, out, &n);
    if (!ok)
        memset(out, 0, 32); /* never a half-computed MAC */
    EVP_MD_CTX_free(ctx);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(inner, sizeof inner);
}

void ig_hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int ig_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}
