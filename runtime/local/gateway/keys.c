/* keys.c - loading and checking API keys. */
#include "keys.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "codec/hash.h"

static const char *gw_key_field(json_t *entry, const char *name)
{
    json_t *v = json_object_get(entry, name);
    return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

gw_keys *gw_keys_load(const char *path, ig_error *err)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        ig_error_set(err, IG_ERR_CONFIG, "API keys file %s: %s (line %d)", path, jerr.text, jerr.line);
        return NULL;
    }
    if (!json_is_array(doc) || json_array_size(doc) == 0) {
        json_decref(doc);
        ig_error_set(err, IG_ERR_CONFIG, "API keys file %s must hold a non-empty JSON array of {\"id\", \"value\", \"name\"}", path);
        return NULL;
    }
    gw_keys *k = calloc(1, sizeof *k);
    if (k)
        k->items = calloc(json_array_size(doc), sizeof *k->items);
    if (!k || !k->items) {
        free(k);
        json_decref(doc);
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    size_t i;
    json_t *entry;
    json_array_foreach(doc, i, entry)
    {
        const char *id = json_is_object(entry) ? gw_key_field(entry, "id") : NULL;
        const char *value = json_is_object(entry) ? gw_key_field(entry, "value") : NULL;
        const char *name = json_is_object(entry) ? gw_key_field(entry, "name") : NULL;
        if (!id || !value) {
            ig_error_set(err, IG_ERR_CONFIG, "API keys file %s: entry %zu needs a non-empty \"id\" and \"value\"", path, i);
            goto fail;
        }
        for (size_t j = 0; j < k->n; j++) {
            if (strcmp(k->items[j].id, id) == 0 || strcmp(k->items[j].value, value) == 0) {
                ig_error_set(err, IG_ERR_CONFIG, "API keys file %s: entry %zu repeats the id or the value of entry %zu", path, i, j);
                goto fail;
            }
        }
        gw_key *key = &k->items[k->n++];
        key->id = strdup(id);
        key->value = strdup(value);
        key->name = strdup(name ? name : id);
        if (!key->id || !key->value || !key->name) {
            ig_error_set(err, IG_ERR_NOMEM, "out of memory");
            goto fail;
        }
        ig_sha256(value, strlen(value), key->digest);
    }
    json_decref(doc);
    return k;
fail:
    json_decref(doc);
    gw_keys_free(k);
    return NULL;
}

void gw_keys_free(gw_keys *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++) {
        if (k->items[i].value)
            memset(k->items[i].value, 0, strlen(k->items[i].value));
        free(k->items[i].id);
        free(k->items[i].value);
        free(k->items[i].name);
    }
    free(k->items);
    free(k);
}

const gw_key *gw_keys_find(const gw_keys *k, const char *value)
{
    if (!k || !value)
        return NULL;
    unsigned char digest[32];
    ig_sha256(value, strlen(value), digest);
    const gw_key *found = NULL;
    for (size_t i = 0; i < k->n; i++) {
        if (ig_ct_equal(digest, k->items[i].digest, sizeof digest))
            found = &k->items[i];
    }
    return found;
}
