/* error.h - the one error enum of the imagegen core.
 *
 * Every fallible function returns an ig_err. Where a caller needs more than the code
 * (which parameter, which header, what the server said), it passes an ig_error that the
 * callee fills with a human sentence. Codes are stable: logs and tests match on their names.
 */
#ifndef IG_ERROR_H
#define IG_ERROR_H

#include <stddef.h>

typedef enum {
    IG_OK = 0,
    IG_ERR_NOMEM,           /* allocation failed */
    IG_ERR_INVALID_ARG,     /* a caller passed something unusable */
    IG_ERR_BASE64,          /* malformed base64 input */
    IG_ERR_TOO_LARGE,       /* a body or value is over its cap */
    IG_ERR_EMPTY,           /* a body or value that must not be empty is */
    IG_ERR_BAD_KEY,         /* an S3 key or metadata value that cannot be sent safely */
    IG_ERR_REGION,          /* the region is missing or malformed */
    IG_ERR_ENDPOINT,        /* an endpoint URL is malformed */
    IG_ERR_CREDENTIALS,     /* no usable credentials */
    IG_ERR_CONFIG,          /* a setting (env var, file) is malformed */
    IG_ERR_CONNECT,         /* could not connect, or the connection broke */
    IG_ERR_TIMEOUT,         /* a transfer took longer than its timeout */
    IG_ERR_DEADLINE,        /* not started, or stopped, because the deadline would pass */
    IG_ERR_HTTP,            /* a transport-level failure that is none of the above */
    IG_ERR_AWS,             /* the service answered with an error (see the response for its code) */
    IG_ERR_PARSE,           /* a response or document could not be parsed */
    IG_ERR_SIGNATURE,       /* a signature did not verify */
    IG_ERR_IMAGE,           /* bytes that should be an image are not a PNG or JPEG */
    IG_ERR_POLICY,          /* the Lua policy failed or returned something unusable */
    IG_ERR_IO,              /* a file could not be read or written */
    IG_ERR__COUNT
} ig_err;

/* The enum's name as a stable string, e.g. "IG_ERR_TIMEOUT" -> "timeout". */
const char *ig_err_name(ig_err err);
/* A short human sentence for the code. */
const char *ig_strerror(ig_err err);

#define IG_ERROR_MESSAGE_MAX 2048

/* A code with a specific sentence: "S3 key contains a control character at byte 12". */
typedef struct {
    ig_err code;
    char message[IG_ERROR_MESSAGE_MAX];
} ig_error;

/* Sets err (when not NULL) and returns code, so callers can write `return ig_error_set(...)`. */
ig_err ig_error_set(ig_error *err, ig_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ig_error_clear(ig_error *err);

#endif
