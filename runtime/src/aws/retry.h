/* retry.h - the AWS SDKs' "standard" retry mode.
 *
 * AWS_MAX_ATTEMPTS total attempts (default 3); full-jitter exponential backoff
 * delay = rand[0,1) * min(base * 2^(retry-1), 20 s); retries on throttling
 * (ThrottlingException, TooManyRequestsException, SlowDown, ModelNotReadyException, the
 * other standard throttling codes, HTTP 429), on transient errors (HTTP 500, 502, 503, 504,
 * RequestTimeout...), and on connection failures and timeouts; never on other 4xx. A retry
 * quota (500 tokens; 5 per retry, 10 after a timeout or connection error; refunded on
 * success) stops retry storms. No attempt starts that cannot finish before the deadline.
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
} ig_retry_policy;

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

#endif
