/* ratelimit.h - the shared rate limit (the policy's rate_limit.backend "dynamodb"): one counter
 * per client and fixed window in the function's table, kept with a conditional UpdateItem, so
 * that every execution environment counts against the same limit.
 *
 * The policy decides who the caller is, the limit, the window and the cost, and hands them over
 * as admit()'s `limit` (runtime/policy/README.md, "Rate limits"); this module only counts. The
 * item: pk "rl#<the first 32 hex digits of the key's SHA-256>#<window start, epoch s>", sk "rl", n (the count), expires_at (the window's
 * end plus IG_RATELIMIT_TTL_SLACK_S, for the table's time to live). A request is counted by
 * ADD n :cost under the condition attribute_not_exists(n) OR n <= limit - cost, so the counter
 * never passes the limit and a refused request adds nothing.
 */
#ifndef IG_HANDLER_RATELIMIT_H
#define IG_HANDLER_RATELIMIT_H

#include <jansson.h>
#include <stdint.h>

#include "aws/aws.h"
#include "core/error.h"

/* Longest key the policy may name; longest window (a day). */
#define IG_RATELIMIT_MAX_KEY 300
#define IG_RATELIMIT_MAX_WINDOW_S 86400
/* Kept past the window's end before the table's TTL may delete the item. */
#define IG_RATELIMIT_TTL_SLACK_S 60
/* The count is never given more time than this, whatever the request's deadline. */
#define IG_RATELIMIT_BUDGET_MS 3000
/* An unreachable table is logged on its 1st failure and every IG_RATELIMIT_LOG_EVERY-th after. */
#define IG_RATELIMIT_LOG_EVERY 100

typedef struct ig_ratelimit ig_ratelimit;

/* The policy's `limit`: {key, limit, window_s, cost, on_error = "open" | "closed"}. */
typedef struct {
    char key[IG_RATELIMIT_MAX_KEY + 1];
    int64_t limit;
    int64_t window_s;
    int64_t cost;
    int fail_closed;   /* on_error "closed" */
} ig_ratelimit_spec;

typedef enum {
    IG_RATELIMIT_ALLOWED,     /* counted */
    IG_RATELIMIT_REFUSED,     /* the window's count would pass the limit */
    IG_RATELIMIT_UNAVAILABLE  /* the table could not be reached or refused the call */
} ig_ratelimit_verdict;

typedef struct {
    ig_ratelimit_verdict verdict;
    int64_t remaining;        /* ALLOWED: what is left of the limit in this window; else 0 */
    int64_t reset_s;          /* seconds to the window's end, at least 1 */
} ig_ratelimit_outcome;

/* IG_ERR_POLICY with a sentence naming the field when `j` breaks the contract. */
ig_err ig_ratelimit_spec_parse(const json_t *j, ig_ratelimit_spec *out, ig_error *err);

/* The window start (epoch seconds) that now_ms falls in, and the item's partition key. */
int64_t ig_ratelimit_window_start(int64_t now_ms, int64_t window_s);
void ig_ratelimit_pk(const ig_ratelimit_spec *s, int64_t window_start, char *out, size_t cap);

ig_ratelimit *ig_ratelimit_new(ig_aws_context *aws, const char *table, ig_error *err);
void ig_ratelimit_free(ig_ratelimit *r);

/* Counts s->cost in the window now_ms (epoch ms) falls in, giving the table until the earlier of
 * deadline_ms (0: none) and IG_RATELIMIT_BUDGET_MS from the real clock. UNAVAILABLE is logged (WARN, "failing open" or "failing
 * closed" as s says) on its first occurrence and every IG_RATELIMIT_LOG_EVERY-th. */
ig_ratelimit_verdict ig_ratelimit_take(ig_ratelimit *r, const ig_ratelimit_spec *s, int64_t now_ms,
                                       int64_t deadline_ms, ig_ratelimit_outcome *out);

/* Takes s->cost back off the count of the window starting at window_start (epoch s): a request
 * that failed on the service side, or a job's repeat, as respond() decides (its answer's
 * give_back). Never below zero; a failure is logged (WARN) and otherwise ignored. */
ig_err ig_ratelimit_give_back(ig_ratelimit *r, const ig_ratelimit_spec *s, int64_t window_start, int64_t deadline_ms);

/* What respond() gets as result.limit: {key, limit, remaining, reset, cost}; {key, unavailable =
 * true} when the table could not be reached. */
json_t *ig_ratelimit_outcome_json(const ig_ratelimit_spec *s, const ig_ratelimit_outcome *o);

/* Failures of the table seen so far by this client (tests, and the log's count). */
uint64_t ig_ratelimit_store_failures(const ig_ratelimit *r);

#endif
