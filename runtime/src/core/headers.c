/* headers.c - header lists. */
#include "core/headers.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/grow.h"

void ig_header_list_init(ig_header_list *l)
{
    l->items = NULL;
    l->len = 0;
    l->cap = 0;
}

ig_err ig_header_list_add(ig_header_list *l, const char *name, size_t name_len, const char *value,
                          size_t value_len)
{
    while (value_len && isspace((unsigned char)*value)) {
        value++;
        value_len--;
    }
    while (value_len && isspace((unsigned char)value[value_len - 1]))
        value_len--;
    if (ig_grow(&l->items, &l->cap, l->len, sizeof *l->items) != IG_OK)
        return IG_ERR_NOMEM;
    char *n = strndup(name, name_len);
    char *v = strndup(value, value_len);
    if (!n || !v) {
        free(n);
        free(v);
        return IG_ERR_NOMEM;
    }
    for (char *c = n; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    l->items[l->len].name = n;
    l->items[l->len].value = v;
    l->len++;
    return IG_OK;
}

const char *ig_header_list_get(const ig_header_list *l, const char *name)
{
    return ig_headers_find(l->items, l->len, name);
}

void ig_header_list_clear(ig_header_list *l)
{
    for (size_t i = 0; i < l->len; i++) {
        free((char *)l->items[i].name);
        free((char *)l->items[i].value);
    }
    l->len = 0;
}

void ig_header_list_free(ig_header_list *l)
{
    ig_header_list_clear(l);
    free(l->items);
    l->items = NULL;
    l->cap = 0;
}

const char *ig_headers_find(const ig_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

int ig_header_name_valid(const char *s)
{
    if (!s || !*s || strlen(s) > IG_HEADER_NAME_MAX)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", c))
            return 0;
    }
    return 1;
}

int ig_header_value_valid(const char *s)
{
    if (!s || strlen(s) > IG_HEADER_VALUE_MAX)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}
