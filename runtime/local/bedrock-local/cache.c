/* cache.c - hash buckets for lookup, a doubly linked list for recency. A hit
 * copies the value into the caller's buffer under the lock: a few hundred microseconds for a
 * large picture, and no entry can be freed while someone still reads it. */
#include "cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024

typedef struct entry {
    unsigned char key[32];
    char *value;
    size_t len;
    struct entry *chain;            /* next in the bucket */
    struct entry *newer, *older;    /* recency list */
} entry;

struct bl_cache {
    pthread_mutex_t lock;
    size_t max_bytes, bytes, entries;
    uint64_t hits, misses, evictions;
    entry *buckets[BUCKETS];
    entry *newest, *oldest;
};

bl_cache *bl_cache_new(size_t max_bytes)
{
    bl_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    c->max_bytes = max_bytes;
    return c;
}

void bl_cache_free(bl_cache *c)
{
    if (!c)
        return;
    for (entry *e = c->newest, *next; e; e = next) {
        next = e->older;
        free(e->value);
        free(e);
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static size_t bucket_of(const unsigned char key[32])
{
    size_t h = 0;
    memcpy(&h, key, sizeof h < 32 ? sizeof h : 32); /* the key is a digest: already uniform */
    return h % BUCKETS;
}

static entry *find(bl_cache *c, const unsigned char key[32])
{
    for (entry *e = c->buckets[bucket_of(key)]; e; e = e->chain)
        if (memcmp(e->key, key, 32) == 0)
            return e;
    return NULL;
}

static void list_unlink(bl_cache *c, entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void list_push_newest(bl_cache *c, entry *e)
{
    e->newer = NULL;
    e->older = c->newest;
    if (c->newest)
        c->newest->newer = e;
    c->newest = e;
    if (!c->oldest)
        c->oldest = e;
}

static void remove_entry(bl_cache *c, entry *e)
{
    entry **p = &c->buckets[bucket_of(e->key)];
    while (*p != e)
        p = &(*p)->chain;
    *p = e->chain;
    list_unlink(c, e);
    c->bytes -= e->len;
    c->entries--;
    free(e->value);
    free(e);
}

int bl_cache_get(bl_cache *c, const unsigned char key[32], ig_buf *out)
{
    int hit = 0;
    pthread_mutex_lock(&c->lock);
    entry *e = find(c, key);
    if (e) {
        list_unlink(c, e);
        list_push_newest(c, e);
        hit = ig_buf_append(out, e->value, e->len) == IG_OK;
    }
    if (hit)
        c->hits++;
    else
        c->misses++;
    pthread_mutex_unlock(&c->lock);
    return hit;
}

void bl_cache_put(bl_cache *c, const unsigned char key[32], const char *value, size_t len)
{
    if (len > c->max_bytes)
        return;
    entry *n = malloc(sizeof *n);
    char *copy = malloc(len ? len : 1);
    if (!n || !copy) {
        free(n);
        free(copy);
        return;
    }
    memcpy(copy, value, len);
    memcpy(n->key, key, 32);
    n->value = copy;
    n->len = len;
    pthread_mutex_lock(&c->lock);
    entry *old = find(c, key);
    if (old)
        remove_entry(c, old);
    while (c->oldest && c->bytes + len > c->max_bytes) {
        remove_entry(c, c->oldest);
        c->evictions++;
    }
    size_t b = bucket_of(key);
    n->chain = c->buckets[b];
    c->buckets[b] = n;
    list_push_newest(c, n);
    c->bytes += len;
    c->entries++;
    pthread_mutex_unlock(&c->lock);
}

json_t *bl_cache_json(bl_cache *c)
{
    pthread_mutex_lock(&c->lock);
    json_t *doc = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "entries", (json_int_t)c->entries, "bytes",
                            (json_int_t)c->bytes, "max_bytes", (json_int_t)c->max_bytes, "hits",
                            (json_int_t)c->hits, "misses", (json_int_t)c->misses, "evictions",
                            (json_int_t)c->evictions);
    pthread_mutex_unlock(&c->lock);
    return doc;
}
