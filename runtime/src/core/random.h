/* random.h - cryptographic randomness (OpenSSL's RAND_bytes) for keys, ids and jitter. */
#ifndef IG_RANDOM_H
#define IG_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

ig_err ig_random_bytes(void *out, size_t n);
/* A random RFC 4122 version-4 UUID, lower-case, into out (at least 37 bytes). */
ig_err ig_uuid4(char out[37]);
/* A uniformly distributed value in [0, bound), bound > 0. */
uint64_t ig_random_below(uint64_t bound);
/* A uniformly distributed double in [0, 1). */
double ig_random_unit(void);

#endif
