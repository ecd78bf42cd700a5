/* hash.h - SHA-256, HMAC-SHA256, hex, and a constant-time compare (OpenSSL underneath). */
#ifndef IG_HASH_H
#define IG_HASH_H

#include <stddef.h>

void ig_sha256(const void *data, size_t len, unsigned char out[32]);
/* Lower-case hex digest into out (65 bytes with the NUL). */
void ig_sha256_hex(const void *data, size_t len, char out[65]);
void ig_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    unsigned char out[32]);
/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void ig_hex_encode(const unsigned char *in, size_t n, char *out);
/* 1 when a and b (both n bytes) are equal; time depends on n only. */
int ig_ct_equal(const void *a, const void *b, size_t n);

#endif
