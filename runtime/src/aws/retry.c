/* retry.c - standard-mode retries: what is retryable, how long to wait, whether there is
 * time and quota left to try again. Pure decisions; the service clients do the waiting. */
#include "aws/retry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/random.h"

#define IG_RETRY_DEFAULT_ATTEMPTS 3
#define IG_RETRY_BASE_MS 100
#define IG_RETRY_THROTTLE_BASE_MS 500
#define IG_RETRY_CAP_MS 20000
#define IG_RETRY_MIN_ATTEMPT_MS 500
#define IG_RETRY_COST 5
#define IG_RETRY_TIMEOUT_COST 10

static const char *const ig_throttling_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "EC2ThrottledException",
    "ModelNotReadyException", /* Bedrock: 429 while a model loads; retrying is the remedy */
};

static const char *const ig_transient_codes[] = {
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
};

static int code_in(const char *code, const char *const *set, size_t n)
{
    if (!code || !*code)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(code, set[i]) == 0)
            return 1;
    return 0;
}

void ig_retry_policy_default(ig_retry_policy *p)
{
    p->max_attempts = IG_RETRY_DEFAULT_ATTEMPTS;
    p->base_ms = IG_RETRY_BASE_MS;
    p->throttle_base_ms = IG_RETRY_THROTTLE_BASE_MS;
    p->cap_ms = IG_RETRY_CAP_MS;
    p->quota = IG_RETRY_QUOTA_MAX;
    p->min_attempt_ms = IG_RETRY_MIN_ATTEMPT_MS;
}

/* A strictly positive decimal integer, nothing else around it. */
static int parse_attempts(const char *s, long *out)
{
    if (!*s)
        return 0;
    for (const char *c = s; *c; c++)
        if (*c < '0' || *c > '9')
            return 0;
    errno = 0;
    long v = strtol(s, NULL, 10);
    if (errno || v < 1 || v > IG_RETRY_MAX_ATTEMPTS_LIMIT)
        return 0;
    *out = v;
    return 1;
}

ig_err ig_retry_policy_from_env(ig_retry_policy *p, ig_error *err)
{
    ig_retry_policy_default(p);
    const char *s = getenv("AWS_MAX_ATTEMPTS");
    if (!s || !*s)
        return IG_OK;
    long v;
    if (!parse_attempts(s, &v))
        return ig_error_set(err, IG_ERR_CONFIG,
                            "AWS_MAX_ATTEMPTS must be a whole number from 1 to %d (total attempts, "
                            "the first included); got \"%.32s\"",
                            IG_RETRY_MAX_ATTEMPTS_LIMIT, s);
    p->max_attempts = (int)v;
    return IG_OK;
}

ig_retry_class ig_retry_classify(ig_err transport_err, long status, const char *aws_error_code)
{
    if (transport_err == IG_ERR_CONNECT || transport_err == IG_ERR_TIMEOUT)
        return IG_RETRY_CONNECTION;
    if (transport_err != IG_OK)
        return IG_RETRY_NONE; /* deadline, size cap, TLS verification...: trying again cannot help */
    if (code_in(aws_error_code, ig_throttling_codes,
                   sizeof ig_throttling_codes / sizeof ig_throttling_codes[0]) ||
        status == 429)
        return IG_RETRY_THROTTLE;
    if (code_in(aws_error_code, ig_transient_codes,
                   sizeof ig_transient_codes / sizeof ig_transient_codes[0]))
        return IG_RETRY_TRANSIENT;
    if (status == 500 || status == 502 || status == 503 || status == 504)
        return IG_RETRY_TRANSIENT;
    return IG_RETRY_NONE;
}

int64_t ig_retry_delay_ms(const ig_retry_policy *p, ig_retry_class cls, int retry)
{
    if (cls == IG_RETRY_NONE || retry < 1)
        return 0;
    int64_t base = cls == IG_RETRY_THROTTLE ? p->throttle_base_ms : p->base_ms;
    int64_t ceiling = base;
    for (int i = 1; i < retry && ceiling < p->cap_ms; i++)
        ceiling *= 2;
    if (ceiling > p->cap_ms)
        ceiling = p->cap_ms;
    return (int64_t)(ig_random_unit() * (double)ceiling);
}

static int retry_cost(ig_retry_class cls)
{
    return cls == IG_RETRY_CONNECTION ? IG_RETRY_TIMEOUT_COST : IG_RETRY_COST;
}

int ig_retry_acquire(ig_retry_policy *p, ig_retry_class cls)
{
    int cost = retry_cost(cls);
    if (p->quota < cost)
        return 0;
    p->quota -= cost;
    return 1;
}

void ig_retry_success(ig_retry_policy *p, ig_retry_class last_retry_cls)
{
    p->quota += last_retry_cls == IG_RETRY_NONE ? 1 : retry_cost(last_retry_cls);
    if (p->quota > IG_RETRY_QUOTA_MAX)
        p->quota = IG_RETRY_QUOTA_MAX;
}

ig_retry_verdict ig_retry_next(ig_retry_policy *p, ig_retry_class cls, int attempts_made,
                               int64_t hint_ms, int64_t deadline_ms, int64_t *delay_ms)
{
    *delay_ms = 0;
    if (cls == IG_RETRY_NONE)
        return IG_RETRY_STOP_FINAL;
    if (attempts_made >= p->max_attempts)
        return IG_RETRY_STOP_ATTEMPTS;
    int64_t delay = ig_retry_delay_ms(p, cls, attempts_made);
    if (hint_ms > delay)
        delay = hint_ms < p->cap_ms ? hint_ms : p->cap_ms;
    if (deadline_ms > 0 && ig_remaining_ms(deadline_ms) < delay + p->min_attempt_ms)
        return IG_RETRY_STOP_DEADLINE;
    if (!ig_retry_acquire(p, cls))
        return IG_RETRY_STOP_QUOTA;
    *delay_ms = delay;
    return IG_RETRY_GO;
}

const char *ig_retry_verdict_name(ig_retry_verdict v)
{
    switch (v) {
    case IG_RETRY_GO:
        return "retry";
    case IG_RETRY_STOP_FINAL:
        return "not retryable";
    case IG_RETRY_STOP_ATTEMPTS:
        return "attempts exhausted";
    case IG_RETRY_STOP_QUOTA:
        return "retry quota exhausted";
    case IG_RETRY_STOP_DEADLINE:
        return "not enough time before the deadline";
    }
    return "unknown";
}

const char *ig_retry_class_name(ig_retry_class c)
{
    switch (c) {
    case IG_RETRY_NONE:
        return "none";
    case IG_RETRY_TRANSIENT:
        return "transient";
    case IG_RETRY_THROTTLE:
        return "throttling";
    case IG_RETRY_CONNECTION:
        return "connection";
    }
    return "unknown";
}

/* Digits only, at most 9 of them (no overflow, and nobody waits 10^9 units). */
static int parse_small_uint(const char *s, int64_t *out)
{
    while (*s == ' ' || *s == '\t')
        s++;
    int64_t v = 0;
    int n = 0;
    for (; *s >= '0' && *s <= '9'; s++, n++) {
        if (n == 9)
            return 0;
        v = v * 10 + (*s - '0');
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (n == 0 || *s)
        return 0;
    *out = v;
    return 1;
}

int64_t ig_retry_hint_ms(const char *x_amz_retry_after, const char *retry_after)
{
    int64_t v;
    if (x_amz_retry_after && parse_small_uint(x_amz_retry_after, &v))
        return v;
    if (retry_after && parse_small_uint(retry_after, &v))
        return v * 1000;
    return 0;
}
