/* test_retry.c - standard retry mode: classification, backoff, quota, deadlines, server hints
 * and AWS_MAX_ATTEMPTS. */
#include <stdlib.h>
#include <string.h>

#include "aws/retry.h"
#include "core/clock.h"
#include "testlib.h"

static void test_defaults(void)
{
    ig_retry_policy p;
    ig_retry_policy_default(&p);
    IG_CHECK_EQ_INT(p.max_attempts, 3);
    IG_CHECK_EQ_INT(p.base_ms, 100);
    IG_CHECK_EQ_INT(p.throttle_base_ms, 500);
    IG_CHECK_EQ_INT(p.cap_ms, 20000);
    IG_CHECK_EQ_INT(p.quota, 500);
    IG_CHECK(p.min_attempt_ms > 0);
}

static void test_throttling_codes(void)
{
    static const char *const codes[] = {
        "ThrottlingException", "TooManyRequestsException", "SlowDown", "ModelNotReadyException",
        "Throttling", "ThrottledException", "RequestThrottledException",
        "ProvisionedThroughputExceededException", "RequestLimitExceeded", "BandwidthLimitExceeded",
        "LimitExceededException", "RequestThrottled", "EC2ThrottledException"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        /* The code decides, whatever status carries it (S3's SlowDown comes with 503). */
        IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, 400, codes[i]), IG_RETRY_THROTTLE);
        IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, 503, codes[i]), IG_RETRY_THROTTLE);
    }
    IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, 429, NULL), IG_RETRY_THROTTLE);
    IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, 429, "SomethingElse"), IG_RETRY_THROTTLE);
}

static void test_transient_codes_and_statuses(void)
{
    IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, 400, "RequestTimeout"), IG_RETRY_TRANSIENT);
    IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, 408, "RequestTimeoutException"), IG_RETRY_TRANSIENT);
    IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, 400, "PriorRequestNotComplete"), IG_RETRY_TRANSIENT);
    static const long statuses[] = {500, 502, 503, 504};
    for (size_t i = 0; i < 4; i++) {
        IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, statuses[i], NULL), IG_RETRY_TRANSIENT);
        IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, statuses[i], "InternalServerException"), IG_RETRY_TRANSIENT);
    }
}

static void test_never_other_4xx_or_success(void)
{
    IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, 400, "ValidationException"), IG_RETRY_NONE);
    IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, 400, "ServiceQuotaExceededException"), IG_RETRY_NONE);
    IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, 403, "AccessDeniedException"), IG_RETRY_NONE);
    IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, 404, NULL), IG_RETRY_NONE);
    IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, 408, "ModelTimeoutException"), IG_RETRY_NONE);
    IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, 424, "ModelErrorException"), IG_RETRY_NONE);
    IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, 501, NULL), IG_RETRY_NONE);
    IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, 200, NULL), IG_RETRY_NONE);
    IG_CHECK_EQ_INT(ig_retry_classify(IG_OK, 400, ""), IG_RETRY_NONE);
}

static void test_transport_errors(void)
{
    IG_CHECK_EQ_INT(ig_retry_classify(IG_ERR_CONNECT, 0, NULL), IG_RETRY_CONNECTION);
    IG_CHECK_EQ_INT(ig_retry_classify(IG_ERR_TIMEOUT, 0, NULL), IG_RETRY_CONNECTION);
    IG_CHECK_EQ_INT(ig_retry_classify(IG_ERR_DEADLINE, 0, NULL), IG_RETRY_NONE);
    IG_CHECK_EQ_INT(ig_retry_classify(IG_ERR_TOO_LARGE, 0, NULL), IG_RETRY_NONE);
    IG_CHECK_EQ_INT(ig_retry_classify(IG_ERR_HTTP, 0, NULL), IG_RETRY_NONE);
}

static void test_full_jitter_bounds(void)
{
    ig_retry_policy p;
    ig_retry_policy_default(&p);
    /* Ceilings: base * 2^(retry-1), capped at 20 s. */
    struct {
        ig_retry_class cls;
        int retry;
        int64_t ceiling;
    } cases[] = {
        {IG_RETRY_TRANSIENT, 1, 100},   {IG_RETRY_TRANSIENT, 2, 200},  {IG_RETRY_TRANSIENT, 3, 400},
        {IG_RETRY_CONNECTION, 1, 100},  {IG_RETRY_THROTTLE, 1, 500},   {IG_RETRY_THROTTLE, 2, 1000},
        {IG_RETRY_THROTTLE, 6, 16000},  {IG_RETRY_THROTTLE, 7, 20000}, {IG_RETRY_TRANSIENT, 60, 20000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t max_seen = 0, min_seen = INT64_MAX;
        for (int k = 0; k < 2000; k++) {
            int64_t d = ig_retry_delay_ms(&p, cases[i].cls, cases[i].retry);
            IG_CHECK(d >= 0 && d < cases[i].ceiling);
            if (d > max_seen)
                max_seen = d;
            if (d < min_seen)
                min_seen = d;
        }
        /* Full jitter spreads over the whole range, not around the ceiling. */
        IG_CHECK(max_seen > cases[i].ceiling * 8 / 10);
        IG_CHECK(min_seen < cases[i].ceiling * 2 / 10);
    }
    IG_CHECK_EQ_INT(ig_retry_delay_ms(&p, IG_RETRY_NONE, 1), 0);
}

static void test_quota_bucket(void)
{
    ig_retry_policy p;
    ig_retry_policy_default(&p);
    int n = 0;
    while (ig_retry_acquire(&p, IG_RETRY_TRANSIENT))
        n++;
    IG_CHECK_EQ_INT(n, 100); /* 500 tokens / 5 */
    IG_CHECK_EQ_INT(p.quota, 0);
    ig_retry_success(&p, IG_RETRY_TRANSIENT);
    IG_CHECK_EQ_INT(p.quota, 5);
    IG_CHECK_EQ_INT(ig_retry_acquire(&p, IG_RETRY_CONNECTION), 0); /* a timeout retry costs 10 */
    ig_retry_success(&p, IG_RETRY_NONE);
    IG_CHECK_EQ_INT(p.quota, 6);
    ig_retry_success(&p, IG_RETRY_CONNECTION);
    IG_CHECK_EQ_INT(p.quota, 16);
    IG_CHECK_EQ_INT(ig_retry_acquire(&p, IG_RETRY_CONNECTION), 1);
    IG_CHECK_EQ_INT(p.quota, 6);
    p.quota = 499;
    ig_retry_success(&p, IG_RETRY_CONNECTION);
    IG_CHECK_EQ_INT(p.quota, 500); /* never above the initial size */
}

static void test_next_verdicts(void)
{
    ig_retry_policy p;
    ig_retry_policy_default(&p);
    int64_t delay = -1;
    IG_CHECK_EQ_INT(ig_retry_next(&p, IG_RETRY_NONE, 1, 0, 0, &delay), IG_RETRY_STOP_FINAL);
    IG_CHECK_EQ_INT(delay, 0);
    IG_CHECK_EQ_INT(ig_retry_next(&p, IG_RETRY_THROTTLE, 1, 0, 0, &delay), IG_RETRY_GO);
    IG_CHECK(delay >= 0 && delay < 500);
    IG_CHECK_EQ_INT(p.quota, 495);
    IG_CHECK_EQ_INT(ig_retry_next(&p, IG_RETRY_THROTTLE, 2, 0, 0, &delay), IG_RETRY_GO);
    IG_CHECK(delay >= 0 && delay < 1000);
    IG_CHECK_EQ_INT(ig_retry_next(&p, IG_RETRY_THROTTLE, 3, 0, 0, &delay), IG_RETRY_STOP_ATTEMPTS);
    IG_CHECK_EQ_INT(p.quota, 490);
    p.quota = 4;
    IG_CHECK_EQ_INT(ig_retry_next(&p, IG_RETRY_TRANSIENT, 1, 0, 0, &delay), IG_RETRY_STOP_QUOTA);
    IG_CHECK_EQ_INT(p.quota, 4);
}

static void test_next_respects_the_deadline(void)
{
    ig_retry_policy p;
    ig_retry_policy_default(&p);
    p.min_attempt_ms = 500;
    int64_t delay;
    /* 300 ms left cannot hold a minimal attempt of 500 ms: stop, and spend no quota. */
    IG_CHECK_EQ_INT(ig_retry_next(&p, IG_RETRY_TRANSIENT, 1, 0, ig_now_ms() + 300, &delay),
                    IG_RETRY_STOP_DEADLINE);
    IG_CHECK_EQ_INT(p.quota, 500);
    /* A server hint of 2 s with 1.5 s left: stop too. */
    IG_CHECK_EQ_INT(ig_retry_next(&p, IG_RETRY_THROTTLE, 1, 2000, ig_now_ms() + 1500, &delay),
                    IG_RETRY_STOP_DEADLINE);
    /* Plenty of time: go. */
    IG_CHECK_EQ_INT(ig_retry_next(&p, IG_RETRY_TRANSIENT, 1, 0, ig_now_ms() + 10000, &delay), IG_RETRY_GO);
    /* A passed deadline. */
    IG_CHECK_EQ_INT(ig_retry_next(&p, IG_RETRY_TRANSIENT, 1, 0, ig_now_ms() - 1, &delay),
                    IG_RETRY_STOP_DEADLINE);
}

static void test_hint_is_a_minimum(void)
{
    ig_retry_policy p;
    ig_retry_policy_default(&p);
    int64_t delay;
    for (int k = 0; k < 50; k++) {
        IG_CHECK_EQ_INT(ig_retry_next(&p, IG_RETRY_TRANSIENT, 1, 1500, 0, &delay), IG_RETRY_GO);
        IG_CHECK_EQ_INT(delay, 1500); /* jitter is below 100 ms, so the hint wins */
    }
    IG_CHECK_EQ_INT(ig_retry_next(&p, IG_RETRY_TRANSIENT, 1, 3600000, 0, &delay), IG_RETRY_GO);
    IG_CHECK_EQ_INT(delay, 20000); /* capped */
}

static void test_hint_parsing(void)
{
    IG_CHECK_EQ_INT(ig_retry_hint_ms("250", NULL), 250);
    IG_CHECK_EQ_INT(ig_retry_hint_ms(NULL, "3"), 3000);
    IG_CHECK_EQ_INT(ig_retry_hint_ms("40", "3"), 40); /* milliseconds are more precise */
    IG_CHECK_EQ_INT(ig_retry_hint_ms("abc", "2"), 2000);
    IG_CHECK_EQ_INT(ig_retry_hint_ms(NULL, "Wed, 21 Oct 2015 07:28:00 GMT"), 0);
    IG_CHECK_EQ_INT(ig_retry_hint_ms("-5", NULL), 0);
    IG_CHECK_EQ_INT(ig_retry_hint_ms("99999999999999999999", NULL), 0);
    IG_CHECK_EQ_INT(ig_retry_hint_ms("", ""), 0);
    IG_CHECK_EQ_INT(ig_retry_hint_ms(NULL, NULL), 0);
    IG_CHECK_EQ_INT(ig_retry_hint_ms(" 7 ", NULL), 7);
}

static void check_bad_attempts(const char *value)
{
    setenv("AWS_MAX_ATTEMPTS", value, 1);
    ig_retry_policy p;
    ig_error err;
    ig_error_clear(&err);
    IG_CHECK_EQ_INT(ig_retry_policy_from_env(&p, &err), IG_ERR_CONFIG);
    IG_CHECK_EQ_INT(err.code, IG_ERR_CONFIG);
    if (!strstr(err.message, "AWS_MAX_ATTEMPTS"))
        ig_test_fail(__FILE__, __LINE__, "message for \"%s\" does not name the variable: %s", value,
                     err.message);
}

static void test_max_attempts_from_env(void)
{
    ig_retry_policy p;
    ig_error err;
    unsetenv("AWS_MAX_ATTEMPTS");
    IG_CHECK_EQ_INT(ig_retry_policy_from_env(&p, &err), IG_OK);
    IG_CHECK_EQ_INT(p.max_attempts, 3);
    setenv("AWS_MAX_ATTEMPTS", "5", 1);
    IG_CHECK_EQ_INT(ig_retry_policy_from_env(&p, &err), IG_OK);
    IG_CHECK_EQ_INT(p.max_attempts, 5);
    setenv("AWS_MAX_ATTEMPTS", "1", 1);
    IG_CHECK_EQ_INT(ig_retry_policy_from_env(&p, &err), IG_OK);
    IG_CHECK_EQ_INT(p.max_attempts, 1);
    int64_t delay;
    IG_CHECK_EQ_INT(ig_retry_next(&p, IG_RETRY_THROTTLE, 1, 0, 0, &delay), IG_RETRY_STOP_ATTEMPTS);
    check_bad_attempts("0");
    check_bad_attempts("abc");
    check_bad_attempts("-1");
    check_bad_attempts("3x");
    check_bad_attempts(" 3");
    check_bad_attempts("1.5");
    check_bad_attempts("101");
    check_bad_attempts("99999999999999999999999");
    setenv("AWS_MAX_ATTEMPTS", "abc", 1);
    ig_retry_policy_from_env(&p, &err);
    IG_CHECK(strstr(err.message, "\"abc\"") != NULL);
    unsetenv("AWS_MAX_ATTEMPTS");
}

int main(void)
{
    IG_RUN(test_defaults);
    IG_RUN(test_throttling_codes);
    IG_RUN(test_transient_codes_and_statuses);
    IG_RUN(test_never_other_4xx_or_success);
    IG_RUN(test_transport_errors);
    IG_RUN(test_full_jitter_bounds);
    IG_RUN(test_quota_bucket);
    IG_RUN(test_next_verdicts);
    IG_RUN(test_next_respects_the_deadline);
    IG_RUN(test_hint_is_a_minimum);
    IG_RUN(test_hint_parsing);
    IG_RUN(test_max_attempts_from_env);
    return ig_test_finish("retry");
}
