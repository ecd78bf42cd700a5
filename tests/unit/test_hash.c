/* test_hash.c - SHA-256 and HMAC-SHA256 against published vectors (FIPS 180-2, RFC 4231). */
#include <string.h>

#include "codec/hash.h"
#include "testlib.h"

static void hmac_hex(const void *key, size_t key_len, const char *data, char out[65])
{
    unsigned char mac[32];
    ig_hmac_sha256(key, key_len, data, strlen(data), mac);
    ig_hex_encode(mac, 32, out);
}

static void test_sha256_fips_vectors(void)
{
    char hex[65];
    ig_sha256_hex("abc", 3, hex);
    IG_CHECK_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ig_sha256_hex("", 0, hex);
    IG_CHECK_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_hmac_rfc4231(void)
{
    char hex[65];
    unsigned char k1[20];
    memset(k1, 0x0b, sizeof k1);
    hmac_hex(k1, sizeof k1, "Hi There", hex);
    IG_CHECK_EQ_STR(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    hmac_hex("Jefe", 4, "what do ya want for nothing?", hex);
    IG_CHECK_EQ_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* a key longer than the block is hashed first */
    unsigned char k6[131];
    memset(k6, 0xaa, sizeof k6);
    hmac_hex(k6, sizeof k6, "Test Using Larger Than Block-Size Key - Hash Key First", hex);
    IG_CHECK_EQ_STR(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_constant_time_compare(void)
{
    IG_CHECK(ig_ct_equal("abcd", "abcd", 4));
    IG_CHECK(!ig_ct_equal("abcd", "abce", 4));
    IG_CHECK(ig_ct_equal("", "", 0));
}

int main(void)
{
    IG_RUN(test_sha256_fips_vectors);
    IG_RUN(test_hmac_rfc4231);
    IG_RUN(test_constant_time_compare);
    return ig_test_finish("hash");
}
