/* grow.c - doubling growth for arrays. */
#include "core/grow.h"

#include <stdint.h>
#include <stdlib.h>

ig_err ig_grow(void *items, size_t *cap, size_t len, size_t item_size)
{
    if (len < *cap)
        return IG_OK;
    size_t next = *cap ? *cap * 2 : 16;
    if (next > SIZE_MAX / item_size)
        return IG_ERR_NOMEM;
    void **slot = items;
    void *p = realloc(*slot, next * item_size);
    if (!p)
        return IG_ERR_NOMEM;
    *slot = p;
    *cap = next;
    return IG_OK;
}
