/* base64.h - RFC 4648 base64 (standard alphabet, '=' padding).
 *
 * Decoding is strict: the length must be a multiple of 4, padding only at the end, no
 * white space, no characters outside the alphabet, and the unused bits of the last symbol
 * must be zero. Errors name the offending offset. The decoder takes 32 symbols per step
 * with AVX2 on x86-64 CPUs that have it (chosen at run time), else 4 per step from tables;
 * see tests/tools/bench_base64.c for its speed against memcpy.
 */
#ifndef IG_BASE64_H
#define IG_BASE64_H

#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"

/* The number of bytes encoded_len symbols decode to, at most. */
size_t ig_base64_decoded_max(size_t encoded_len);
size_t ig_base64_encoded_len(size_t raw_len);
/* Decodes in[0..len) into out, which holds at least ig_base64_decoded_max(len) bytes. */
ig_err ig_base64_decode(const char *in, size_t len, unsigned char *out, size_t *out_len,
                        ig_error *err);
/* Decodes into a buffer (appending); respects the buffer's cap. */
ig_err ig_base64_decode_buf(const char *in, size_t len, ig_buf *out, ig_error *err);
/* The AVX2 path: on < 0 asks whether it is in use; 0 turns it off, 1 back on where the CPU
 * has AVX2 (for tests and benchmarks that compare the two paths). Returns whether it is on.
 * Not thread-safe; the default needs no call. */
int ig_base64_use_simd(int on);
/* Encodes into a buffer (appending). */
ig_err ig_base64_encode_buf(const void *in, size_t len, ig_buf *out);

#endif
