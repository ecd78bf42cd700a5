/* retry.h - the AWS SDKs' "standard" retry mode.
 *
 * AWS_MAX_ATTEMPTS total attempts (default 3); full-jitter exponential backoff
 * delay = rand[0,1) * min(base * 2^(retry-1), 20 s); retries on throttling
 * (ThrottlingException, TooManyRequestsException, SlowDown, ModelNotReadyException, the
 * other standard throttling codes, HTTP 429), on transient errors (HTTP 500, 502, 503, 504,
 * RequestTimeout...), and on connection failures and timeouts; never on other 4xx. A retry
 * quota (500 tokens; 5 per retry, 10 after a timeout or connection error; refunded on
 * success) stops retry storms. A server hint (x-amz-retry-after in ms, Retry-After in seconds)
 * is a minimum delay. No attempt starts when the wait plus a minimal attempt budget would pass
 * the deadline.
 *
 * Bases are the JavaScript v3 SDK's (100 ms transient, 500 ms throttling): small enough that
 * three attempts fit inside API Gateway's 29 s integration budget.
 */
#ifndef IG_RETRY_H
#define IG_RETRY_H

#include <stdint.h>

#include "core/error.h"

typedef enum { IG_RETRY_NONE = 0, IG_RETRY_TRANSIENT, IG_RETRY_THROTTLE, IG_RETRY_CONNECTION } ig_retry_class;

typedef struct {
    int max_attempts;          /* total, >= 1 */
    int64_t base_ms;           /* backoff base for transient errors */
    int64_t throttle_base_ms;  /* backoff base for throttling */
    int64_t cap_ms;            /* 20000 */
    int quota;                 /* tokens left */
    int64_t min_attempt_ms;    /* time an attempt needs at least; less left: do not start it */
} ig_retry_policy;

#define IG_RETRY_QUOTA_MAX 500
#define IG_RETRY_MAX_ATTEMPTS_LIMIT 100

typedef enum {
    IG_RETRY_GO = 0,           /* wait the delay, then try again */
    IG_RETRY_STOP_FINAL,       /* the failure is not retryable */
    IG_RETRY_STOP_ATTEMPTS,    /* max_attempts reached */
    IG_RETRY_STOP_QUOTA,       /* the retry quota is exhausted */
    IG_RETRY_STOP_DEADLINE     /* the delay plus min_attempt_ms would pass the deadline */
} ig_retry_verdict;

/* Defaults, then AWS_MAX_ATTEMPTS (invalid values: IG_ERR_CONFIG with a sentence). */
ig_err ig_retry_policy_from_env(ig_retry_policy *p, ig_error *err);
void ig_retry_policy_default(ig_retry_policy *p);
/* transport_err is the HTTP layer's err (IG_OK when a response arrived). */
ig_retry_class ig_retry_classify(ig_err transport_err, long status, const char *aws_error_code);
/* The delay before retry number `retry` (1 = the first retry). */
int64_t ig_retry_delay_ms(const ig_retry_policy *p, ig_retry_class cls, int retry);
/* Takes the tokens a retry of class cls costs; 0 when the quota is exhausted. */
int ig_retry_acquire(ig_retry_policy *p, ig_retry_class cls);
/* Refunds after a success: 1 token when no retry was needed, else the last retry's cost. */
void ig_retry_success(ig_retry_policy *p, ig_retry_class last_retry_cls);

/* The whole decision after failed attempt number attempts_made (1 = the first): whether to
 * retry and after how long (*delay_ms = max(jitter, hint_ms), at most cap_ms). Takes the
 * quota tokens only when it answers IG_RETRY_GO. deadline_ms 0 = none. */
ig_retry_verdict ig_retry_next(ig_retry_policy *p, ig_retry_class cls, int attempts_made,
                               int64_t hint_ms, int64_t deadline_ms, int64_t *delay_ms);
const char *ig_retry_verdict_name(ig_retry_verdict v);
const char *ig_retry_class_name(ig_retry_class c);

/* A server's delay hint in ms from x-amz-retry-after (ms) or else Retry-After (whole seconds;
 * an HTTP date is ignored); either may be NULL. 0 when there is none or it is malformed. */
int64_t ig_retry_hint_ms(const char *x_amz_retry_after, const char *retry_after);

#endif
