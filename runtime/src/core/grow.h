/* grow.h - room for one more item in a growable array: the one place that doubles a capacity,
 * so every list (headers, SigV4's query and header pairs) grows alike. */
#ifndef IG_GROW_H
#define IG_GROW_H

#include <stddef.h>

#include "core/error.h"

/* *items points to an array of *cap items of item_size bytes, len of them used. When len ==
 * *cap, the array is reallocated to twice the size (16 items at first); else nothing happens.
 * IG_ERR_NOMEM leaves the array as it was. */
ig_err ig_grow(void *items, size_t *cap, size_t len, size_t item_size);

#endif
