/* headers.h - HTTP header pairs: non-owning views for requests, an owning list for responses. */
#ifndef IG_HEADERS_H
#define IG_HEADERS_H

#include <stddef.h>

#include "core/error.h"

/* A non-owning name/value pair. */
typedef struct {
    const char *name;
    const char *value;
} ig_header;

/* An owning list; names are stored lower-cased, values with surrounding white space trimmed. */
typedef struct {
    ig_header *items; /* items[i].name and .value are owned (char * cast to const) */
    size_t len;
    size_t cap;
} ig_header_list;

void ig_header_list_init(ig_header_list *l);
ig_err ig_header_list_add(ig_header_list *l, const char *name, size_t name_len, const char *value,
                          size_t value_len);
/* The first value for name (case-insensitive), or NULL. */
const char *ig_header_list_get(const ig_header_list *l, const char *name);
void ig_header_list_clear(ig_header_list *l);
void ig_header_list_free(ig_header_list *l);

/* A header name is an RFC 7230 token of 1 to 256 characters; a value holds printable characters
 * and tabs only (no CR, LF or other control character, so nothing can be smuggled into another
 * header), at most 8192 bytes. 1 when valid. */
#define IG_HEADER_NAME_MAX 256
#define IG_HEADER_VALUE_MAX 8192
int ig_header_name_valid(const char *name);
int ig_header_value_valid(const char *value);

/* Case-insensitive lookup in an array of views. */
const char *ig_headers_find(const ig_header *h, size_t n, const char *name);

#endif
