/* ratelimit.c - the shared rate limit's counter in DynamoDB (ratelimit.h says what is kept and
 * why). It counts and reports; what the client hears (429, 503 or nothing) is the policy's, and
 * the choice between failing open and closed is the policy's setting, carried in the spec. */
#include "handler/ratelimit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/dynamodb.h"
#include "codec/json.h"
#include "codec/hash.h"
#include "core/clock.h"
#include "core/log.h"

struct ig_ratelimit {
    ig_dynamodb *db;
    char table[256];
    uint64_t failures;
};

ig_err ig_ratelimit_spec_parse(const json_t *j, ig_ratelimit_spec *out, ig_error *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(j))
        return ig_error_set(err, IG_ERR_POLICY, "admit(): limit must be {key, limit, window_s, cost, on_error}");
    const char *key = ig_json_str(j, "key"), *on_error = ig_json_str(j, "on_error");
    json_t *limit = json_object_get(j, "limit"), *window = json_object_get(j, "window_s"),
           *cost = json_object_get(j, "cost");
    if (!key || !key[0] || strlen(key) > IG_RATELIMIT_MAX_KEY)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): limit.key must be a string of 1 to %d bytes",
                            IG_RATELIMIT_MAX_KEY);
    if (!json_is_integer(limit) || json_integer_value(limit) < 1)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): limit.limit must be a whole number of at least 1");
    if (!json_is_integer(window) || json_integer_value(window) < 1 ||
        json_integer_value(window) > IG_RATELIMIT_MAX_WINDOW_S)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): limit.window_s must be 1 to %d seconds",
                            IG_RATELIMIT_MAX_WINDOW_S);
    if (!json_is_integer(cost) || json_integer_value(cost) < 1 || json_integer_value(cost) > json_integer_value(limit))
        return ig_error_set(err, IG_ERR_POLICY, "admit(): limit.cost must be 1 to limit.limit");
    if (!on_error || (strcmp(on_error, "open") != 0 && strcmp(on_error, "closed") != 0))
        return ig_error_set(err, IG_ERR_POLICY, "admit(): limit.on_error must be \"open\" or \"closed\"");
    snprintf(out->key, sizeof out->key, "%s", key);
    out->limit = json_integer_value(limit);
    out->window_s = json_integer_value(window);
    out->cost = json_integer_value(cost);
    out->fail_closed = strcmp(on_error, "closed") == 0;
    return IG_OK;
}

int64_t ig_ratelimit_window_start(int64_t now_ms, int64_t window_s)
{
    int64_t now_s = now_ms / 1000;
    return now_s - now_s % window_s;
}

void ig_ratelimit_pk(const ig_ratelimit_spec *s, int64_t window_start, char *out, size_t cap)
{
    /* The client by a hash, as jobs' and images' owners: the table (and its backups) holds no
     * source address or key id. 128 bits name a client without a collision in practice. */
    char hex[65];
    ig_sha256_hex(s->key, strlen(s->key), hex);
    snprintf(out, cap, "rl#%.32s#%" PRId64, hex, window_start);
}

ig_ratelimit *ig_ratelimit_new(ig_aws_context *aws, const char *table, ig_error *err)
{
    ig_ratelimit *r = calloc(1, sizeof *r);
    if (!r) {
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(r->table, sizeof r->table, "%s", table);
    r->db = ig_dynamodb_new(aws, err);
    if (!r->db) {
        free(r);
        return NULL;
    }
    return r;
}

void ig_ratelimit_free(ig_ratelimit *r)
{
    if (!r)
        return;
    ig_dynamodb_free(r->db);
    free(r);
}

uint64_t ig_ratelimit_store_failures(const ig_ratelimit *r)
{
    return r->failures;
}

static void log_unavailable(ig_ratelimit *r, const ig_ratelimit_spec *s, const ig_aws_call_result *c)
{
    r->failures++;
    if ((r->failures - 1) % IG_RATELIMIT_LOG_EVERY != 0)
        return;
    ig_log(IG_LOG_WARN,
           s->fail_closed ? "rate limit store unavailable; failing closed" : "rate limit store unavailable; failing open",
           json_pack("{s:s, s:s, s:i, s:s, s:i, s:I, s:i}", "error", ig_strerror(c->err), "errorType", c->error_type,
                     "status", (int)c->status, "message", c->message, "attempts", c->attempts, "failures",
                     (json_int_t)r->failures, "loggedEvery", IG_RATELIMIT_LOG_EVERY));
}

/* One conditional UpdateItem on the counter of s's client and the window starting at
 * window_start, given the earlier of deadline_ms (0: none) and IG_RATELIMIT_BUDGET_MS from the
 * real clock. u holds the expressions; its table and key are filled here. */
static ig_err update_counter(ig_ratelimit *r, const ig_ratelimit_spec *s, int64_t window_start, int64_t deadline_ms,
                             ig_dynamodb_update *u, ig_dynamodb_result *res)
{
    char pk[IG_RATELIMIT_MAX_KEY + 32];
    ig_ratelimit_pk(s, window_start, pk, sizeof pk);
    json_t *key = json_pack("{s:o, s:o}", "pk", ig_dynamodb_attr_s(pk), "sk", ig_dynamodb_attr_s("rl"));
    u->table = r->table;
    u->key = key;
    int64_t budget = ig_now_ms() + IG_RATELIMIT_BUDGET_MS;
    ig_err e = ig_dynamodb_update_item(r->db, u, deadline_ms > 0 && deadline_ms < budget ? deadline_ms : budget, res);
    json_decref(key);
    u->key = NULL;
    return e;
}

ig_ratelimit_verdict ig_ratelimit_take(ig_ratelimit *r, const ig_ratelimit_spec *s, int64_t now_ms,
                                       int64_t deadline_ms, ig_ratelimit_outcome *out)
{
    int64_t start = ig_ratelimit_window_start(now_ms, s->window_s);
    int64_t end = start + s->window_s;
    memset(out, 0, sizeof *out);
    out->reset_s = end * 1000 > now_ms ? (end * 1000 - now_ms + 999) / 1000 : 1;
    json_t *names = json_pack("{s:s, s:s}", "#n", "n", "#e", "expires_at");
    json_t *values = json_pack("{s:o, s:o, s:o}", ":cost", ig_dynamodb_attr_n(s->cost), ":most",
                               ig_dynamodb_attr_n(s->limit - s->cost), ":exp",
                               ig_dynamodb_attr_n(end + IG_RATELIMIT_TTL_SLACK_S));
    ig_dynamodb_update u = {.update = "ADD #n :cost SET #e = :exp",
                            .condition = "attribute_not_exists(#n) OR #n <= :most", .names = names,
                            .values = values, .return_values = "UPDATED_NEW"};
    ig_dynamodb_result res;
    ig_dynamodb_result_init(&res);
    ig_err e = update_counter(r, s, start, deadline_ms, &u, &res); /* now_ms names the window only */
    int64_t n = 0;
    if (e == IG_OK && ig_dynamodb_item_n(ig_dynamodb_output(&res, "Attributes"), "n", &n)) {
        out->verdict = IG_RATELIMIT_ALLOWED;
        out->remaining = s->limit > n ? s->limit - n : 0;
    } else if (ig_dynamodb_condition_failed(&res)) {
        out->verdict = IG_RATELIMIT_REFUSED;
    } else {
        if (e == IG_OK) { /* an answer without the count: nothing can be said of the window */
            res.call.err = IG_ERR_PARSE;
            snprintf(res.call.message, sizeof res.call.message, "UpdateItem answered without Attributes.n");
        }
        out->verdict = IG_RATELIMIT_UNAVAILABLE;
        log_unavailable(r, s, &res.call);
    }
    ig_dynamodb_result_free(&res);
    json_decref(names);
    json_decref(values);
    return out->verdict;
}

ig_err ig_ratelimit_give_back(ig_ratelimit *r, const ig_ratelimit_spec *s, int64_t window_start, int64_t deadline_ms)
{
    json_t *names = json_pack("{s:s}", "#n", "n");
    json_t *values =
        json_pack("{s:o, s:o}", ":back", ig_dynamodb_attr_n(-s->cost), ":cost", ig_dynamodb_attr_n(s->cost));
    /* never below zero: a window whose item the TTL already removed is not recreated */
    ig_dynamodb_update u = {.update = "ADD #n :back", .condition = "#n >= :cost", .names = names, .values = values};
    ig_dynamodb_result res;
    ig_dynamodb_result_init(&res);
    ig_err e = update_counter(r, s, window_start, deadline_ms, &u, &res);
    if (e != IG_OK && !ig_dynamodb_condition_failed(&res))
        ig_log(IG_LOG_WARN, "a request's count could not be given back",
               json_pack("{s:s, s:s, s:s}", "key", s->key, "error", ig_strerror(e), "message", res.call.message));
    ig_dynamodb_result_free(&res);
    json_decref(names);
    json_decref(values);
    return e;
}

json_t *ig_ratelimit_outcome_json(const ig_ratelimit_spec *s, const ig_ratelimit_outcome *o)
{
    if (o->verdict == IG_RATELIMIT_UNAVAILABLE)
        return json_pack("{s:s, s:b}", "key", s->key, "unavailable", 1);
    return json_pack("{s:s, s:I, s:I, s:I, s:I}", "key", s->key, "limit", (json_int_t)s->limit, "remaining",
                     (json_int_t)o->remaining, "reset", (json_int_t)o->reset_s, "cost", (json_int_t)s->cost);
}
