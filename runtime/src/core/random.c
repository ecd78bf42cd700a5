/* random.c - randomness from OpenSSL's CSPRNG. */
#include "core/random.h"

#include <openssl/rand.h>
#include <stdio.h>

ig_err ig_random_bytes(void *out, size_t n)
{
    if (n > (size_t)0x7fffffff)
        return IG_ERR_INVALID_ARG;
    return RAND_bytes(out, (int)n) == 1 ? IG_OK : IG_ERR_NOMEM;
}

ig_err ig_uuid4(char out[37])
{
    unsigned char b[16];
    ig_err e = ig_random_bytes(b, sizeof b);
    if (e)
        return e;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return IG_OK;
}

uint64_t ig_random_below(uint64_t bound)
{
    if (bound <= 1)
        return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound, v;
    do {
        if (ig_random_bytes(&v, sizeof v) != IG_OK)
            return 0;
    } while (v >= limit);
    return v % bound;
}

double ig_random_unit(void)
{
    uint64_t v = 0;
    ig_random_bytes(&v, sizeof v);
    return (double)(v >> 11) * (1.0 / 9007199254740992.0);
}
