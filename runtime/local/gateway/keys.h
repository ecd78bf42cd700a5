/* keys.h - API keys, as a usage plan with api_key_required would check them.
 *
 * The file is a JSON array: [{"id": "k1", "value": "secret-value", "name": "ci"}]. A key's
 * value is a secret: it is compared in constant time and never logged; its id is what logs
 * and the event's identity.apiKeyId carry.
 */
#ifndef GW_KEYS_H
#define GW_KEYS_H

#include <stddef.h>

#include "core/error.h"

typedef struct {
    char *id;
    char *value;
    char *name;
    unsigned char digest[32]; /* SHA-256 of value: every comparison takes the same time */
} gw_key;

typedef struct {
    gw_key *items;
    size_t n;
} gw_keys;

/* Loads and checks the file; a sentence naming the file and the entry on failure. */
gw_keys *gw_keys_load(const char *path, ig_error *err);
void gw_keys_free(gw_keys *k);
/* The key whose value is value, or NULL. */
const gw_key *gw_keys_find(const gw_keys *k, const char *value);

#endif
