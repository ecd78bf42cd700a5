/* percent.h - RFC 3986 percent-encoding as AWS uses it: every byte outside the unreserved set
 * A-Z a-z 0-9 - . _ ~ becomes %XX with upper-case hex. */
#ifndef IG_PERCENT_H
#define IG_PERCENT_H

#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"

/* Appends the encoding of s[0..len) to out; '/' is kept as is when keep_slash. */
ig_err ig_percent_encode(ig_buf *out, const char *s, size_t len, int keep_slash);
/* Appends the decoding of s[0..len) to out; "+" is left alone. IG_ERR_INVALID_ARG on a
 * malformed escape. */
ig_err ig_percent_decode(ig_buf *out, const char *s, size_t len);

/* The value of one hexadecimal digit (either case), or -1. */
int ig_hex_value(unsigned char c);

#endif
