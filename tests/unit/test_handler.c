/* test_handler.c - the handler's settings from the environment and its EMF record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler/config.h"
#include "handler/metrics.h"
#include "testlib.h"

static const char *str_at(json_t *obj, const char *a, const char *b)
{
    json_t *v = json_object_get(obj, a);
    if (b)
        v = json_object_get(v, b);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* What malloc holds follows a block of 4 MB in and out (not under AddressSanitizer, whose own
 * allocator glibc's figures do not see). */
static void test_heap_figure(void)
{
#if defined(__SANITIZE_ADDRESS__)
    IG_CHECK(1);
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    IG_CHECK(1);
#else
#define IG_TEST_HEAP 1
#endif
#else
#define IG_TEST_HEAP 1
#endif
#ifdef IG_TEST_HEAP
    long long before = ig_metrics_heap_kb();
    IG_CHECK(before > 0);
    char *block = malloc(4u << 20);
    IG_CHECK(block != NULL);
    memset(block, 1, 4u << 20);
    long long during = ig_metrics_heap_kb();
    IG_CHECK(during - before >= 4000);
    free(block);
    IG_CHECK(ig_metrics_heap_kb() - before < 64);
#endif
}

static void test_emf_record(void)
{
    ig_metrics m;
    ig_metrics_init(&m);
    m.total_ms = 12.5;
    m.model_ms = 10;
    m.model_attempts = 2;
    m.images = 3;
    m.upload_ms = 2;
    json_t *pm = json_pack("{s:{s:i, s:s}}", "RateLimited", "value", 1, "unit", "Count");
    json_t *rec = ig_metrics_record(&m, "imagegen", "success", pm, 1700000000000LL);
    json_t *aws = json_object_get(rec, "_aws");
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(aws, "Timestamp")), 1700000000000LL);
    json_t *cwm = json_array_get(json_object_get(aws, "CloudWatchMetrics"), 0);
    IG_CHECK_EQ_STR(str_at(cwm, "Namespace", NULL), "imagegen");
    IG_CHECK_EQ_INT(json_array_size(json_object_get(cwm, "Metrics")), 6);
    IG_CHECK_EQ_STR(str_at(rec, "Outcome", NULL), "success");
    IG_CHECK(json_real_value(json_object_get(rec, "TotalLatency")) == 12.5);
    IG_CHECK(json_number_value(json_object_get(rec, "RateLimited")) == 1.0);
    /* every metric listed is a top-level member */
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(cwm, "Metrics"), i, d)
        IG_CHECK(json_object_get(rec, json_string_value(json_object_get(d, "Name"))) != NULL);
    json_decref(rec);
    json_decref(pm);
}

static void test_config_from_env(void)
{
    ig_handler_config c;
    ig_error err;
    unsetenv("IMAGEGEN_BUCKET");
    IG_CHECK_EQ_INT(ig_handler_config_from_env(&c, &err), IG_ERR_CONFIG);
    IG_CHECK(strstr(err.message, "IMAGEGEN_BUCKET") != NULL);
    setenv("IMAGEGEN_BUCKET", "Bad_Bucket", 1);
    IG_CHECK_EQ_INT(ig_handler_config_from_env(&c, &err), IG_ERR_CONFIG);
    setenv("IMAGEGEN_BUCKET", "images-bucket", 1);
    IG_CHECK_EQ_INT(ig_handler_config_from_env(&c, &err), IG_OK);
    IG_CHECK_EQ_STR(c.bucket, "images-bucket");
    IG_CHECK_EQ_INT(c.margin_ms, 500);
    setenv("IMAGEGEN_TIMEOUT_MARGIN_MS", "10abc", 1);
    IG_CHECK_EQ_INT(ig_handler_config_from_env(&c, &err), IG_ERR_CONFIG);
    IG_CHECK(strstr(err.message, "IMAGEGEN_TIMEOUT_MARGIN_MS") != NULL);
    unsetenv("IMAGEGEN_TIMEOUT_MARGIN_MS");
    setenv("IMAGEGEN_SSE", "rot13", 1);
    IG_CHECK_EQ_INT(ig_handler_config_from_env(&c, &err), IG_ERR_CONFIG);
    unsetenv("IMAGEGEN_SSE");
}

static void test_config_jobs(void)
{
    ig_handler_config c;
    ig_error err;
    setenv("IMAGEGEN_BUCKET", "images-bucket", 1);
    unsetenv("IMAGEGEN_TABLE");
    unsetenv("IMAGEGEN_JOB_TIMEOUT_S");
    IG_CHECK_EQ_INT(ig_handler_config_from_env(&c, &err), IG_OK);
    IG_CHECK_EQ_STR(c.table, ""); /* no table: no jobs, and nothing else changes */
    IG_CHECK_EQ_INT(c.job_timeout_s, 22500);
    setenv("IMAGEGEN_TABLE", "imagegen-jobs", 1);
    setenv("AWS_LAMBDA_FUNCTION_NAME", "imagegen", 1);
    IG_CHECK_EQ_INT(ig_handler_config_from_env(&c, &err), IG_OK);
    IG_CHECK_EQ_STR(c.table, "imagegen-jobs");
    IG_CHECK_EQ_STR(c.function_name, "imagegen");
    setenv("IMAGEGEN_TABLE", "bad table", 1);
    IG_CHECK_EQ_INT(ig_handler_config_from_env(&c, &err), IG_ERR_CONFIG);
    IG_CHECK(strstr(err.message, "IMAGEGEN_TABLE") != NULL);
    setenv("IMAGEGEN_TABLE", "ab", 1);
    IG_CHECK_EQ_INT(ig_handler_config_from_env(&c, &err), IG_ERR_CONFIG);
    setenv("IMAGEGEN_TABLE", "imagegen-jobs", 1);
    setenv("IMAGEGEN_JOB_TIMEOUT_S", "59", 1);
    IG_CHECK_EQ_INT(ig_handler_config_from_env(&c, &err), IG_ERR_CONFIG);
    IG_CHECK(strstr(err.message, "IMAGEGEN_JOB_TIMEOUT_S") != NULL);
    unsetenv("IMAGEGEN_JOB_TIMEOUT_S");
    unsetenv("IMAGEGEN_TABLE");
    unsetenv("AWS_LAMBDA_FUNCTION_NAME");
}

int main(void)
{
    IG_RUN(test_emf_record);
    IG_RUN(test_heap_figure);
    IG_RUN(test_config_from_env);
    IG_RUN(test_config_jobs);
    return ig_test_finish("handler");
}
