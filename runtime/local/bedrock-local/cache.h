/* cache.h - a bounded LRU of finished pictures (their base64 text), so that a
 * benchmark asking for the same pictures again measures the client, not the generator.
 *
 * Keys are 32-byte digests of (model, prompt, seed, width, height, index). The cache holds at
 * most max_bytes of values; the least recently used go first. Safe from many threads.
 */
#ifndef BEDROCK_LOCAL_CACHE_H
#define BEDROCK_LOCAL_CACHE_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"

typedef struct bl_cache bl_cache;

/* max_bytes 0 makes a cache that keeps nothing. */
bl_cache *bl_cache_new(size_t max_bytes);
void bl_cache_free(bl_cache *c);

/* On a hit, appends the value to out and returns 1 (0 if out could not grow); 0 on a miss. */
int bl_cache_get(bl_cache *c, const unsigned char key[32], ig_buf *out);
/* Stores a copy of value[0..len) (replacing an entry with the same key); values larger than
 * the whole cache are not stored. */
void bl_cache_put(bl_cache *c, const unsigned char key[32], const char *value, size_t len);
/* {"entries": n, "bytes": n, "max_bytes": n, "hits": n, "misses": n, "evictions": n} */
json_t *bl_cache_json(bl_cache *c);

#endif
