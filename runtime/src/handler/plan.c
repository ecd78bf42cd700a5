/* plan.c - reads admit()'s generation plan: every member checked once, here, so that the
 * pipeline can trust it. A plan that breaks a rule is the policy's bug: the sentence names the
 * member so that the operator can find it. */
#include "handler/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/bedrock.h"
#include "aws/s3.h"
#include "codec/json.h"

#define IG_PLAN_KEY_PREFIX_MAX 800
#define IG_PLAN_CACHE_KEY_MAX 128

static int cache_key_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > IG_PLAN_CACHE_KEY_MAX)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_'))
            return 0;
    return 1;
}

/* Metadata: names S3 takes, string values without NUL bytes. `where` names the member. */
static ig_err check_metadata(json_t *md, const char *where, ig_error *err)
{
    if (!md)
        return IG_OK;
    if (!json_is_object(md))
        return ig_error_set(err, IG_ERR_POLICY, "admit(): %s must be a table of strings", where);
    if (json_object_size(md) > IG_PLAN_MAX_METADATA)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): %s has more than %d entries", where, IG_PLAN_MAX_METADATA);
    const char *k;
    json_t *v;
    json_object_foreach(md, k, v)
    {
        if (!ig_s3_metadata_name_valid(k) || !json_is_string(v) ||
            strlen(json_string_value(v)) != json_string_length(v))
            return ig_error_set(err, IG_ERR_POLICY,
                                "admit(): %s[\"%.40s\"] needs a name of a-z, 0-9, '-' and a string value without NUL bytes",
                                where, k);
    }
    return IG_OK;
}

/* A body is a table (encoded here, keys sorted: the same request always gives the same bytes)
 * or a string (sent as it is). */
static ig_err encode_body(json_t *body, ig_plan_call *c, const char *where, ig_error *err)
{
    if (json_is_string(body))
        c->body = strdup(json_string_value(body));
    else if (json_is_object(body))
        c->body = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
    else
        return ig_error_set(err, IG_ERR_POLICY, "admit(): %s must be a table or a string", where);
    if (!c->body)
        return ig_error_set(err, IG_ERR_NOMEM, "admit(): %s could not be encoded", where);
    c->body_len = strlen(c->body);
    if (c->body_len == 0)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): %s is empty", where);
    if (c->body_len > IG_BEDROCK_MAX_BODY)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): %s is larger than 25 MB", where);
    return IG_OK;
}

static ig_err parse_model(json_t *from, ig_plan_attempt *a, const char *where, ig_error *err)
{
    a->model = ig_json_str(from, "model");
    if (!a->model || !*a->model || strlen(a->model) > IG_BEDROCK_MAX_MODEL_ID)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): %s.model must be a model id", where);
    a->images_path = ig_json_str(from, "images");
    if (!a->images_path)
        a->images_path = "images";
    a->error_field = ig_json_str(from, "error_field");
    return IG_OK;
}

/* The single-body form: generate.model, .body, .images, .error_field. */
static ig_err parse_single(json_t *g, ig_plan *p, ig_error *err)
{
    ig_plan_attempt *a = &p->attempts[0];
    p->n_attempts = 1;
    ig_err e = parse_model(g, a, "generate", err);
    if (e)
        return e;
    a->n_calls = 1;
    return encode_body(json_object_get(g, "body"), &a->calls[0], "generate.body", err);
}

static ig_err parse_attempt(json_t *t, size_t i, ig_plan_attempt *a, ig_error *err)
{
    char where[64];
    snprintf(where, sizeof where, "generate.attempts[%zu]", i + 1);
    if (!json_is_object(t))
        return ig_error_set(err, IG_ERR_POLICY, "admit(): %s must be a table", where);
    ig_err e = parse_model(t, a, where, err);
    if (e)
        return e;
    json_t *calls = json_object_get(t, "calls");
    size_t n = json_array_size(calls);
    if (!json_is_array(calls) || n == 0 || n > IG_PLAN_MAX_IMAGES)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): %s.calls must be a list of 1 to %d calls", where,
                            IG_PLAN_MAX_IMAGES);
    for (size_t k = 0; k < n; k++) {
        json_t *c = json_array_get(calls, k);
        char cwhere[96];
        snprintf(cwhere, sizeof cwhere, "%s.calls[%zu]", where, k + 1);
        if (!json_is_object(c))
            return ig_error_set(err, IG_ERR_POLICY, "admit(): %s must be a table { body = ... }", cwhere);
        a->n_calls = k + 1;
        char bwhere[112];
        snprintf(bwhere, sizeof bwhere, "%s.body", cwhere);
        if ((e = encode_body(json_object_get(c, "body"), &a->calls[k], bwhere, err)) != IG_OK)
            return e;
        a->calls[k].metadata = json_object_get(c, "metadata");
        snprintf(bwhere, sizeof bwhere, "%s.metadata", cwhere);
        if ((e = check_metadata(a->calls[k].metadata, bwhere, err)) != IG_OK)
            return e;
    }
    a->context = json_object_get(t, "context");
    return IG_OK;
}

static ig_err parse_attempts(json_t *g, ig_plan *p, ig_error *err)
{
    json_t *list = json_object_get(g, "attempts");
    if (!list)
        return parse_single(g, p, err);
    size_t n = json_array_size(list);
    if (!json_is_array(list) || n == 0 || n > IG_PLAN_MAX_ATTEMPTS)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): generate.attempts must be a list of 1 to %d attempts",
                            IG_PLAN_MAX_ATTEMPTS);
    for (size_t i = 0; i < n; i++) {
        p->n_attempts = i + 1;
        ig_err e = parse_attempt(json_array_get(list, i), i, &p->attempts[i], err);
        if (e)
            return e;
    }
    return IG_OK;
}

static ig_err parse_storage(json_t *g, ig_plan *p, ig_error *err)
{
    p->key_prefix = ig_json_str(g, "key_prefix");
    if (!p->key_prefix)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): generate.key_prefix must be set (the S3 key prefix)");
    if (strlen(p->key_prefix) > IG_PLAN_KEY_PREFIX_MAX || p->key_prefix[0] == '/')
        return ig_error_set(err, IG_ERR_POLICY,
                            "admit(): generate.key_prefix must be a relative key prefix of at most 800 bytes");
    ig_error kerr;
    if (p->key_prefix[0] && !ig_s3_key_valid(p->key_prefix, &kerr))
        return ig_error_set(err, IG_ERR_POLICY, "admit(): generate.key_prefix: %s", kerr.message);
    json_t *ttl = json_object_get(g, "url_ttl");
    p->url_ttl = json_is_integer(ttl) ? json_integer_value(ttl) : 0;
    if (p->url_ttl < 1 || p->url_ttl > 604800)
        return ig_error_set(err, IG_ERR_POLICY,
                            "admit(): generate.url_ttl must be a whole number of seconds from 1 to 604800");
    p->cache_control = ig_json_str(g, "cache_control");
    p->cache_key = ig_json_str(g, "cache_key");
    if (p->cache_key && !cache_key_ok(p->cache_key))
        return ig_error_set(err, IG_ERR_POLICY,
                            "admit(): generate.cache_key must be 1 to 128 letters, digits, '-' or '_'");
    p->metadata = json_object_get(g, "metadata");
    return check_metadata(p->metadata, "generate.metadata", err);
}

ig_err ig_plan_parse(json_t *g, ig_plan *p, ig_error *err)
{
    memset(p, 0, sizeof *p);
    if (!json_is_object(g))
        return ig_error_set(err, IG_ERR_POLICY, "admit(): generate must be a table");
    ig_err e = parse_attempts(g, p, err);
    if (e)
        return e;
    json_t *n = json_object_get(g, "expected_images");
    if (n && !json_is_integer(n))
        return ig_error_set(err, IG_ERR_POLICY, "admit(): generate.expected_images must be an integer");
    p->expected = n ? (int)json_integer_value(n) : 1;
    if (p->expected < 1 || p->expected > IG_PLAN_MAX_IMAGES)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): generate.expected_images must be 1 to %d",
                            IG_PLAN_MAX_IMAGES);
    if ((e = parse_storage(g, p, err)) != IG_OK)
        return e;
    const char *deliver = ig_json_str(g, "deliver");
    if (json_object_get(g, "deliver") && !deliver)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): generate.deliver must be \"url\", \"inline\" or \"both\"");
    if (!deliver || strcmp(deliver, "url") == 0)
        p->deliver = IG_DELIVER_URL;
    else if (strcmp(deliver, "inline") == 0)
        p->deliver = IG_DELIVER_INLINE;
    else if (strcmp(deliver, "both") == 0)
        p->deliver = IG_DELIVER_BOTH;
    else
        return ig_error_set(err, IG_ERR_POLICY, "admit(): generate.deliver must be \"url\", \"inline\" or \"both\"");
    if (p->deliver != IG_DELIVER_URL && p->cache_key)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): generate.cache_key serves stored images: it needs deliver = \"url\"");
    p->context = json_object_get(g, "context");
    p->record = json_object_get(g, "record");
    json_t *ret = json_object_get(p->record, "retention_s");
    const char *owner = ig_json_str(p->record, "owner");
    if (p->record && (!json_is_object(p->record) || !owner || !*owner || !json_is_integer(ret) ||
                      json_integer_value(ret) < 60))
        return ig_error_set(err, IG_ERR_POLICY, "admit(): generate.record must be {owner, retention_s >= 60, ...}");
    return IG_OK;
}

void ig_plan_free(ig_plan *p)
{
    for (size_t i = 0; i < IG_PLAN_MAX_ATTEMPTS; i++)
        for (size_t k = 0; k < IG_PLAN_MAX_IMAGES; k++) {
            free(p->attempts[i].calls[k].body);
            p->attempts[i].calls[k].body = NULL;
        }
}
