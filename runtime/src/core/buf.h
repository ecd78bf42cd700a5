/* buf.h - an owning, growable byte buffer with an optional size cap.
 *
 * The data is always NUL-terminated (the terminator is not counted in len), so a buffer
 * holding text can be handed to string functions. A buffer with max > 0 refuses to grow
 * past max bytes and returns IG_ERR_TOO_LARGE: that is how response bodies are capped.
 * A zeroed ig_buf is a valid empty buffer with no cap.
 */
#ifndef IG_BUF_H
#define IG_BUF_H

#include <stddef.h>

#include "core/error.h"

typedef struct {
    char *data;   /* NULL until the first append */
    size_t len;
    size_t cap;
    size_t max;   /* 0 = no cap */
} ig_buf;

void ig_buf_init(ig_buf *b, size_t max);
ig_err ig_buf_reserve(ig_buf *b, size_t extra);
ig_err ig_buf_append(ig_buf *b, const void *data, size_t len);
ig_err ig_buf_append_str(ig_buf *b, const char *s);
ig_err ig_buf_append_char(ig_buf *b, char c);
ig_err ig_buf_appendf(ig_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empties the buffer and keeps its memory. */
void ig_buf_reset(ig_buf *b);
/* Frees the memory; the buffer is empty and reusable afterwards (its cap is kept). */
void ig_buf_free(ig_buf *b);
/* Hands the data to the caller (who frees it) and empties the buffer. Never NULL on IG_OK. */
char *ig_buf_steal(ig_buf *b, size_t *len_out);
/* The data as a string: "" for an empty buffer. */
const char *ig_buf_cstr(const ig_buf *b);

#endif
