/* buf.c - growable byte buffers. */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ig_buf_init(ig_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

ig_err ig_buf_reserve(ig_buf *b, size_t extra)
{
    if (extra > (size_t)-1 - b->len - 1)
        return IG_ERR_TOO_LARGE;
    size_t need = b->len + extra + 1; /* + NUL */
    if (b->max && b->len + extra > b->max)
        return IG_ERR_TOO_LARGE;
    if (need <= b->cap)
        return IG_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return IG_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return IG_OK;
}

ig_err ig_buf_append(ig_buf *b, const void *data, size_t len)
{
    ig_err e = ig_buf_reserve(b, len);
    if (e)
        return e;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return IG_OK;
}

ig_err ig_buf_append_str(ig_buf *b, const char *s)
{
    return ig_buf_append(b, s, strlen(s));
}

ig_err ig_buf_append_char(ig_buf *b, char c)
{
    return ig_buf_append(b, &c, 1);
}

ig_err ig_buf_appendf(ig_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return IG_ERR_INVALID_ARG;
    ig_err e = ig_buf_reserve(b, (size_t)n);
    if (e)
        return e;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return IG_OK;
}

void ig_buf_reset(ig_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void ig_buf_free(ig_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

char *ig_buf_steal(ig_buf *b, size_t *len_out)
{
    if (!b->data && ig_buf_reserve(b, 0) != IG_OK)
        return NULL;
    char *p = b->data;
    if (len_out)
        *len_out = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

const char *ig_buf_cstr(const ig_buf *b)
{
    return b->data ? b->data : "";
}
